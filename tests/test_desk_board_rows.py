"""The incidents board builds an incident's row again only when something it shows changed (bench/desk_attach.py:
on a long day with many incidents open, building every row every frame was most of a frame) -- and what it shows
is always what a board built afresh would show: status, owner, age, language and width all reach the row."""
from __future__ import annotations

from textual.app import App, ComposeResult

from console.core import state as S
from console.desk.widgets.incidents import IncidentBoard
from console.desk.widgets.view import View
from console.hub.store import Row
from tests.desk_support import MIN, T0, aio, fixture_state


class Boards(App):
    """Two boards of one width: one kept across frames, one that forgets what it built before each frame."""

    CSS = "IncidentBoard { height: 8; }"

    def compose(self) -> ComposeResult:
        yield IncidentBoard(id="kept")
        yield IncidentBoard(id="fresh")


def shown(board: IncidentBoard) -> list[list[str]]:
    return [[cell.plain for cell in board.get_row(key)] for key in board._keys]


def apply(state: S.State, type_: str, body: dict, at: int) -> None:
    gseq = state.gseq + 1
    S.apply(state, Row(gseq, "desk-1", "ep-desk-1", gseq, type_, at - 50, at, body))


@aio
async def test_a_row_is_built_again_only_when_what_it_shows_changed_and_always_shows_it():
    state = fixture_state()
    app = Boards()
    async with app.run_test(size=(160, 24)) as pilot:
        kept, fresh = app.query_one("#kept", IncidentBoard), app.query_one("#fresh", IncidentBoard)

        async def frame(now: int, lang: str = "en") -> None:
            fresh._built = {}
            for board in (kept, fresh):
                board.view = View(state, now, lang)
            await pilot.pause()
            assert shown(kept) == shown(fresh) and kept._keys == fresh._keys

        await frame(T0)
        keys = list(kept._keys)
        assert len(keys) >= 2
        built = {key: kept._built[key][1] for key in keys}
        await frame(T0 + 1_000)                                     # a second later: no age moved on the board
        assert all(kept._built[key][1] is built[key] for key in keys)

        apply(state, "incident_update", {"incident": int(keys[0]), "status": "in_progress", "assign": "",
                                         "note": ""}, T0 + 2_000)
        await frame(T0 + 2_000)                                     # its status, on its row; the others kept
        assert kept._built[keys[0]][1] is not built[keys[0]]
        assert all(kept._built[key][1] is built[key] for key in keys[1:])
        apply(state, "incident_update", {"incident": int(keys[1]), "status": "", "assign": "security",
                                         "note": ""}, T0 + 3_000)
        await frame(T0 + 3_000)                                     # its owner, on its row
        assert kept._built[keys[1]][1] is not built[keys[1]]

        await frame(T0 + 61 * MIN)                                  # an hour on: every age moved
        assert all(kept._built[key][1] is not built[key] for key in keys[1:])
        await frame(T0 + 61 * MIN, "zh")                            # every word in the other language
        apply(state, "incident_open", {"kind": "medical", "severity": 4, "location": "门岗", "note": "new one"},
              T0 + 62 * MIN)
        await frame(T0 + 62 * MIN, "zh")                            # a new row on top, the others kept
        app.query_one("#kept").styles.width = 70                    # narrow: the compact columns
        app.query_one("#fresh").styles.width = 70
        await pilot.pause()
        await frame(T0 + 62 * MIN, "zh")
        assert len(kept.columns) < 9
