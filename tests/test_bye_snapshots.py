"""The desk's posts panel with a station closed on purpose (it said bye, PROTOCOL.md 5.2): "○ 已关闭" / "○ closed",
dim, no silence counted, in both languages at 80x24 and 160x48. A fixture picture and a fixed clock: no sockets."""
from __future__ import annotations

import pytest

from console.core import state as S
from console.desk.app import DeskApp
from console.hub.store import Row
from tests.desk_support import T0, fixture_state, settled

SIZES = [(80, 24), (160, 48)]


def closed_picture() -> S.State:
    """The desk fixture with parking-1 (there silent five minutes: offline) closed at its last word instead."""
    state = fixture_state()
    heard = state.stations["parking-1"]["last_heard_ms"]
    S.apply(state, Row(state.gseq + 1, "hub", "hub", state.gseq + 1, "station_status", heard, heard,
                       {"station": "parking-1", "status": "closed", "last_heard_ms": heard}))
    return state


def test_the_fixture_station_is_closed_not_offline() -> None:
    state = closed_picture()
    assert S.liveness(state, "parking-1", T0) == "closed"
    assert S.liveness(fixture_state(), "parking-1", T0) == "offline"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_posts_panel_with_a_closed_station(snap_compare, lang, size):
    app = DeskApp(state=closed_picture(), clock=lambda: T0, lang=lang, desk="desk-1")
    assert snap_compare(app, run_before=settled(), terminal_size=size)
