"""The operator's send-off (恭送): pick a guest who is here (or a walk-in party), add a note, and the hub does the rest."""
from __future__ import annotations

from typing import Any

from console.core import guests_rules
from console.desk.screens.modals import ChoiceModal, TextModal
from protocols.i18n import t


class SendoffActions:
    """Mixed into every desk screen through DeskActions; `selected_guest()` names the guest the cursor is on."""

    app: Any

    def selected_guest(self) -> str | None:
        return None

    def action_sendoff(self) -> None:
        """客人即将离开: the guest under the cursor if they may be seen off, else a choice of those who may."""
        view = self.app.current_view
        if view is None:
            return
        lang = self.app.lang
        open_refs = {view.state.guests["sendoffs"][k]["ref"] for k in view.state.guests["sendoffs_open"]}
        here = [g for g in guests_rules.view(view.state, view.now_ms)[1]
                if g.status == "arrived" and not g.departed_ms and g.ref not in open_refs]
        names = {g.ref: g.name for g in here}
        chosen = self.selected_guest()
        if chosen in names:
            self._sendoff_note(chosen, names[chosen])
            return
        options = [(t("guestdesk.sendoff.option", lang, name=g.name, party=g.arrived_party or g.party), g.ref)
                   for g in here] + [(t("guestdesk.sendoff.walkin_option", lang), "")]
        self.app.push_screen(ChoiceModal(t("guestdesk.sendoff.pick", lang), lang, options),
                             lambda ref: self._sendoff_note(ref, names.get(ref, "")) if ref is not None else None)

    def _sendoff_note(self, ref: str, name: str) -> None:
        lang = self.app.lang
        who = name or t("guestdesk.sendoff.walkin", lang)

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.sendoff(guest_ref=ref, note=value["text"]), "guestdesk.sendoff.sent",
                              who=value["text"] if not ref and value["text"] else who)

        title = t("guestdesk.sendoff.modal" if ref else "guestdesk.sendoff.modal_walkin", lang, who=who)
        self.app.push_screen(TextModal(title, lang, required=not ref), written)
