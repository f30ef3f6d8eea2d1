"""The readiness board and the guest screen on the desk (Textual Pilot) against a real hub: o and g open them, a task
is signed off from the board and lands in the log with who and when, and a wall display never signs anything off."""
from __future__ import annotations

import pytest

from console.desk.screens.modals import ChoiceModal, TextModal
from console.desk.screens.readiness import GuestsScreen, ReadinessScreen
from console.desk.widgets.readiness import TasksTable
from tests.test_desk_app import desk, hub, logged, notes_of, screen_text  # noqa: F401 (hub is a fixture)
from tests.desk_support import aio, wait_for

pytestmark = pytest.mark.timeout(120)


@aio
async def test_sign_a_task_off_from_the_readiness_board(event_dir, hub):
    async with desk(event_dir, hub, lang="en") as (app, pilot):
        await pilot.press("o")
        assert isinstance(app.screen, ReadinessScreen)
        await wait_for(pilot, lambda: "Not ready to open" in screen_text(app), what="the verdict")
        table = app.screen.query_one(TasksTable)
        first = table.current_key
        assert first == "office-plan"                       # the earliest open blocking task comes first
        await pilot.press("enter")
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"checked")
        await pilot.press("enter")
        await wait_for(pilot, lambda: logged(event_dir, "task_signoff"), what="the sign-off logged")
        assert logged(event_dir, "task_signoff") == [{"task": "office-plan", "note": "checked", "person": ""}]
        await wait_for(pilot, lambda: "office-plan" in app.current_view.state.readiness["done"], what="on the board")
        done = app.current_view.state.readiness["done"]["office-plan"]
        assert done["by"] == "desk-1" and done["ms"] > 0
        # k with the cursor on a task signed off already says so instead of signing twice.
        table.move_cursor(row=table._keys.index("office-plan"))
        seen = notes_of(app)
        await pilot.press("k")
        await wait_for(pilot, lambda: seen, what="the notice")
        assert "was signed off at" in seen[-1] and len(logged(event_dir, "task_signoff")) == 1


@aio
async def test_k_on_the_main_board_offers_the_open_tasks(event_dir, hub):
    async with desk(event_dir, hub, lang="zh") as (app, pilot):
        await pilot.press("k")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("down", "enter")                  # the second open task: office-rehearsal
        assert isinstance(app.screen, TextModal)
        await pilot.press("enter")
        await wait_for(pilot, lambda: logged(event_dir, "task_signoff"), what="the sign-off logged")
        assert logged(event_dir, "task_signoff") == [{"task": "office-rehearsal", "note": "", "person": ""}]


@aio
async def test_g_opens_the_guest_screen_and_a_wall_never_signs_off(event_dir, hub):
    async with desk(event_dir, hub, lang="en", wall=True) as (app, pilot):
        await pilot.press("g")
        assert isinstance(app.screen, GuestsScreen)
        await wait_for(pilot, lambda: "No guest list yet" in screen_text(app), what="the empty guest screen")
        await pilot.press("escape", "o")
        assert isinstance(app.screen, ReadinessScreen)
        await pilot.press("k", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ReadinessScreen) and logged(event_dir, "task_signoff") == []
