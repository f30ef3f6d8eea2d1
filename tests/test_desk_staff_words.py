"""Every desk screen in Chinese names things, never ids: no station, desk, lot, task or plan id, no wire code, no
stray English (docs/GLOSSARY.md). What stations typed is shown as typed."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from tests.staff_text import event_ids, leaks, plan_ids
from tests.test_desk_app import screen_text
from tests.desk_support import SUMMARY, T0, aio, fixture_events, fixture_state, settled

TYPED = tuple(sorted({str(v) for _, _, body, _ in fixture_events() for k, v in body.items()
                      if k in ("note", "location", "plate", "text", "where", "name", "guest_ref", "reason")
                      and isinstance(v, str) and v}, key=len, reverse=True))

SCREENS = {"main": (), "help": ("f1",), "plans": ("p",), "instructions": ("t",), "readiness": ("o",),
           "guests": ("g",), "station": ("enter",), "incident": ()}
# The service side (service5): the service calls (f), the readiness board's forms (capitals on o), the send-off
# (b), the expected arrival (u) and a party added on the spot (v), each as it opens.
SCREENS.update({"services": ("f",), "add_task": ("o", "T"), "change_task": ("o", "C"), "add_slot": ("o", "R"),
                "move_slot": ("o", "M"), "end_slot": ("o", "E"), "stage": ("o", "P"), "sendoff": ("g", "b"),
                "expect": ("g", "u"), "add_party": ("v",)})


@aio
@pytest.mark.parametrize("screen", list(SCREENS))
async def test_each_desk_screen_in_chinese_shows_no_id_and_no_english(screen) -> None:
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="zh", desk="desk-1")
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(*SCREENS[screen])(pilot)
        if screen == "incident":   # the one whose history holds the desk's own updates
            app.open_incident_screen(next(i["id"] for i in app.current_view.state.incidents.values()
                                          if i["kind"] == "water_leak"))
            await settled()(pilot)
            assert type(app.screen).__name__ == "IncidentScreen"
        text = screen_text(app)
        assert leaks(text, event_ids(SUMMARY) | plan_ids(), TYPED) == [], text
