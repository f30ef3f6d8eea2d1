"""The operator's VIP actions (issue 16 item 4): move a guest's expected arrival (u); the hub logs it and "late" follows."""
from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input

from console.core import guests_rules
from console.desk.screens.modals import ChoiceModal, DeskModal
from console.desk.widgets import fmt
from protocols import eventtime
from protocols.i18n import t
from protocols.messages import MAX_TEXT

_HHMM = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


class ExpectModal(DeskModal):
    """A new expected arrival (HH:MM on the event day) and, optionally, why (航班延误, 堵车 …)."""

    def __init__(self, title: str, lang: str, hhmm: str) -> None:
        super().__init__(title, lang)
        self.hhmm = hhmm

    def fields(self) -> ComposeResult:
        yield self.label("guestdesk.expect.time")
        yield Input(self.hhmm, id="time", max_length=5, compact=True)
        yield self.label("desk.modal.text_optional")
        yield Input(id="text", max_length=MAX_TEXT, compact=True)

    def value(self) -> Any:
        m = _HHMM.match(self.query_one("#time", Input).value.strip())
        if m is None:
            self.error("guestdesk.expect.bad_time")
            return None
        return {"time": f"{int(m.group(1)):02d}:{m.group(2)}", "note": self.query_one("#text", Input).value.strip()}


class VipActions:
    """Mixed into every desk screen through DeskActions, after SendoffActions, whose `selected_guest()` (the guest
    the cursor is on, on the guest screen) it uses."""

    app: Any
    selected_guest: Any

    def action_expect_arrival(self) -> None:
        """改预计到达: the guest under the cursor if not here yet, else a choice of those still expected."""
        view = self.app.current_view
        if view is None:
            return
        lang = self.app.lang
        waiting = {g.ref: g for g in guests_rules.view(view.state, view.now_ms)[1] if g.status != "arrived"}
        chosen = self.selected_guest()
        if chosen in waiting:
            self._expect(waiting[chosen])
            return
        if not waiting:
            self.app.notify(t("guestdesk.expect.none", lang), markup=False)
            return
        options = [(t("guestdesk.expect.option", lang, name=g.name, at=self._hhmm(g) or "—"), ref)
                   for ref, g in waiting.items()]
        self.app.push_screen(ChoiceModal(t("guestdesk.expect.pick", lang), lang, options),
                             lambda ref: self._expect(waiting[ref]) if ref in waiting else None)

    def _hhmm(self, guest: guests_rules.GuestView) -> str:
        return fmt.clock(guest.arrive_ms, self.app.current_view.tz)[:5] if guest.arrive_ms else ""

    def _expect(self, guest: guests_rules.GuestView) -> None:
        lang, view = self.app.lang, self.app.current_view

        def written(value: dict | None) -> None:
            if value is None:
                return
            ms = eventtime.at_ms(view.state.event.get("date", ""), value["time"], view.tz)
            self.app.send(lambda link: link.expect_arrival(guest.ref, ms, value["note"]), "guestdesk.expect.sent",
                          name=guest.name, time=value["time"])

        self.app.push_screen(ExpectModal(t("guestdesk.expect.modal", lang, name=guest.name), lang, self._hhmm(guest)),
                             written)
