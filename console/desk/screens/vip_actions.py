"""The operator's VIP actions (issue 16 item 4): move a guest's expected arrival (u), add a delegation on the spot (v)."""
from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select

from console.core import guests_rules
from console.desk.screens.modals import ChoiceModal, DeskModal
from console.desk.widgets import fmt
from protocols import eventtime
from protocols.i18n import t
from protocols.messages import GUEST_ADD_AT, MAX_TEXT

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


class AddPartyModal(DeskModal):
    """A delegation not on the list: who leads it, from where, level, how many, host, car, and where it is now."""

    # Two fields a row, so the whole form fits a desk of 80×24.
    DEFAULT_CSS = """
    AddPartyModal .pair { height: auto; }
    AddPartyModal .pair > Vertical { height: auto; width: 1fr; margin-right: 1; }
    """

    def fields(self) -> ComposeResult:
        levels = Select([(self.t(f"guestdesk.add.level_{lv}"), lv) for lv in ("A", "B", "C")], id="level", value="A",
                        allow_blank=False, compact=True)
        where = Select([(self.t(f"guestdesk.add.at_{at or 'later'}"), at) for at in GUEST_ADD_AT], id="at",
                       value="gate", allow_blank=False, compact=True)
        rows = ((("guestdesk.add.name", Input(id="name", max_length=64, compact=True)),
                 ("field.org", Input(id="org", max_length=64, compact=True))),
                (("field.level", levels), ("field.party", Input("1", id="party", max_length=4, compact=True))),
                (("field.host", Input(id="host", max_length=64, compact=True)),
                 ("field.plate", Input(id="plate", max_length=16, compact=True))),
                (("field.at", where),))
        for row in rows:
            with Horizontal(classes="pair"):
                for key, widget in row:
                    with Vertical():
                        yield self.label(key)
                        yield widget

    def value(self) -> Any:
        text = {w: self.query_one(f"#{w}", Input).value.strip() for w in ("name", "org", "party", "host", "plate")}
        if not text["name"]:
            self.error("guestdesk.add.need_name")
            return None
        if not text["party"].isdigit() or not 1 <= int(text["party"]) <= 1000:
            self.error("guestdesk.add.bad_party")
            return None
        return {**text, "party": int(text["party"]), "level": self.query_one("#level", Select).value,
                "at": self.query_one("#at", Select).value}


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

    def action_add_party(self) -> None:
        """临时增加来宾组: a delegation not on the list; here now, the hub hands it on like a listed VIP."""
        lang = self.app.lang

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.add_party(**value), "guestdesk.add.sent", name=value["name"])

        self.app.push_screen(AddPartyModal(t("guestdesk.add.modal", lang), lang), written)
