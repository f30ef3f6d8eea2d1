"""The timeline as a line-drawn list (console.desk.widgets.rows): only rows on screen are built, the cursor keeps its event."""
from __future__ import annotations

import pytest

from console.core import state as S
from console.desk.app import DeskApp
from console.desk.widgets import fmt
from console.desk.widgets.timeline import TimelineTable
from console.hub.store import Row
from tests.desk_support import T0, aio, fixture_state, wait_for

pytestmark = pytest.mark.timeout(60)


class Clock:
    """The fixture's hub clock, moved by the test: a new second is a new frame."""

    def __init__(self) -> None:
        self.ms = T0

    def __call__(self) -> int:
        return self.ms


def arrive(app: DeskApp, clock: Clock, n: int) -> list[str]:
    """Fold n new guest arrivals into the desk's picture and draw the next frame; their keys, newest first."""
    state = app.fixture
    keys = []
    for _ in range(n):
        g = state.gseq + 1
        S.apply(state, Row(g, "concierge-1", "ep", g, "guest_arrival", clock.ms, clock.ms,
                           {"count": 1, "guest_ref": "", "vip_level": "", "note": ""}))
        keys.append(str(g))
    clock.ms += 1000
    app.tick()
    return keys[::-1]


@aio
async def test_only_the_rows_on_screen_are_described():
    state = fixture_state()
    clock = Clock()
    app = DeskApp(state=state, clock=clock, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(TimelineTable)
        await wait_for(pilot, lambda: table.row_count, what="timeline rows")
        await pilot.pause(0.2)
        assert table.row_count == min(TimelineTable.ROWS, len(state.recent)) > table.size.height
        # Rows are described as they are drawn: never many more than fit (the header takes a line).
        assert 0 < len(table._made) <= table.size.height
        first = table.get_row_at(0)
        assert first[0] == fmt.clock(state.recent[-1]["recv_ms"], fmt.zone_of(state))[:5] and "Guest arrival" in first[1]
        # Scrolled to the end, the rows drawn there are described, and the others are not kept.
        await pilot.click(TimelineTable, offset=(5, 2))
        await pilot.press("end")
        await pilot.pause(0.2)
        assert table.current_key == table._keys[-1] and table.scroll_offset.y > 0
        arrive(app, clock, 1)
        await pilot.pause(0.2)
        assert len(table._made) <= 2 * table.size.height


@aio
async def test_the_cursor_stays_on_its_event_as_new_ones_arrive():
    clock = Clock()
    app = DeskApp(state=fixture_state(), clock=clock, lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(TimelineTable)
        await wait_for(pilot, lambda: table.row_count, what="timeline rows")
        table.focus()
        await pilot.pause(0.1)
        # On the first row the cursor follows the newest event.
        newest = arrive(app, clock, 3)
        await pilot.pause(0.1)
        assert table.cursor_row == 0 and table.current_key == newest[0]
        # Moved down, it keeps its event while others arrive above it.
        await pilot.press("down", "down")
        chosen = table.current_key
        assert table.cursor_row == 2
        arrive(app, clock, 4)
        await pilot.pause(0.1)
        assert table.current_key == chosen and table.cursor_row == 6
        # Page down and home move it; a click picks the row under the pointer (the header is line 0).
        await pilot.press("pagedown")
        assert table.cursor_row > 6
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        await pilot.click(TimelineTable, offset=(4, 3))
        assert table.cursor_row == 2
