"""Contingency plans on screen against a real hub: the desk's checklist, the station's task, the gate's hold,
proposals, escalations -- every action lands in event.db and comes back onto both screens."""
from __future__ import annotations

import time

import pytest
from textual.widgets import Input, OptionList, Select

from console.desk.screens.commands import DeskCommands
from console.desk.screens.modals import InstructionModal
from console.desk.screens.plan_modals import NoteModal, PlanStartModal
from console.desk.screens.plans import PlansScreen
from console.desk.widgets.plans import PlanChecklist, PlanIndicator
from console.hub.server import run_in_thread
from stations.link.client import StationClient
from stations.terminal.posts import plan_tasks
from tests.test_desk_app import desk, logged, notes_of, screen_text
from tests.desk_support import aio, wait_for
from tests.station_support import hub_client, make_app, until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def hub(event_dir):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def station(folder, hub, sid: str) -> StationClient:
    return StationClient(sid, folder.root / "stations" / f"{sid}.outbox.db", folder.station_key(sid),
                         folder.console_public, hub.endpoint, hub.feed).start()


def report(client: StationClient, type_: str, body: dict) -> int:
    saved = client.submit(type_, body)
    return client.wait_delivered(saved.seq, 10).gseq


def run_of(app, plan: str) -> int:
    runs = app.current_view.state.plans["runs"].values() if app.current_view else ()
    return max((r["id"] for r in runs if r["plan"] == plan and r["stood_down"] is None), default=0)


def step_of(app, run: int, step: str) -> dict:
    return app.current_view.state.plans["runs"][run]["steps"][step]


async def on_row(pilot, key: str) -> PlanChecklist:
    """Put the checklist's cursor on a row (as the arrow keys would) and give it the focus."""
    table = pilot.app.screen.query_one(PlanChecklist)
    await wait_for(pilot, lambda: key in table._keys, what=f"row {key}")
    table.focus()
    table.select_key(key)
    await pilot.pause()
    return table


async def write(pilot, text: str) -> None:
    modal = pilot.app.screen
    modal.query_one("#text", Input).value = text
    await pilot.press("enter")


@aio
async def test_a_fire_runs_as_a_checklist_from_the_report_to_the_stand_down(event_dir, hub):
    model = station(event_dir, hub, "model-1")
    lobby = hub_client(event_dir, hub, "lobby-1")
    try:
        fire = report(model, "incident_report", {"kind": "fire", "severity": 3, "location": "样板间厨房"})
        # 1. The desk sees the fire plan's checklist, confirms one step and skips another with a reason.
        async with desk(event_dir, hub, size=(120, 36)) as (app, pilot):
            await wait_for(pilot, lambda: run_of(app, "fire"), what="the fire plan started")
            run = run_of(app, "fire")
            await pilot.press("p")
            assert isinstance(app.screen, PlansScreen)
            await wait_for(pilot, lambda: "Fire emergency plan #" in screen_text(app), what="the checklist")
            text = screen_text(app)
            assert f"Incident #{fire}" in text and "Order & S" in text and "Confirm where the fire is" in text
            await on_row(pilot, f"r{run}.alarm")
            await pilot.press("c")
            await wait_for(pilot, lambda: logged(event_dir, "plan_step"), what="the confirmation logged")
            assert logged(event_dir, "plan_step") == [{"run": run, "step": "alarm", "status": "done", "reason": "",
                                                        "post": "", "person": ""}]
            await on_row(pilot, f"r{run}.isolate_power")
            await pilot.press("w")
            assert isinstance(app.screen, NoteModal)
            await pilot.press("enter")                                      # a skip without a reason is refused
            assert isinstance(app.screen, NoteModal) and "Please give a reason." in screen_text(app)
            await write(pilot, "配电房无人值守，已通知物业")
            await wait_for(pilot, lambda: len(logged(event_dir, "plan_step")) == 2, what="the skip logged")
            assert logged(event_dir, "plan_step")[1] == {"run": run, "step": "isolate_power", "status": "skipped",
                                                         "reason": "配电房无人值守，已通知物业", "post": "",
                                                         "person": ""}
            await wait_for(pilot, lambda: step_of(app, run, "isolate_power")["status"] == "skipped"
                           and step_of(app, run, "alarm")["by"] == "desk-1", what="both on the checklist")
            await wait_for(pilot, lambda: "Skipped" in screen_text(app), what="the skip shown")
        # 2. The lobby terminal shows its task in red-amber with the keys, and D confirms it.
        lobby_app = make_app(event_dir, lobby, "zh")
        async with lobby_app.run_test(size=(80, 24)) as pilot:
            banner = lobby_app.main.query_one("#plan")
            await until(pilot, lambda: "本岗任务" in banner.render().plain, what="the task banner")
            shown = banner.render().plain
            assert "火情应急预案 进行中" in shown and "请保持镇定" in shown and "D 确认完成" in shown
            assert banner.has_class("-task") and "【" not in shown          # the plan's name is said once
            await pilot.press("d")
            await until(pilot, lambda: lobby.outbox.depth() == 0 and banner.has_class("-running"), what="confirmed")
            assert "本岗任务已完成" in banner.render().plain
        lobby_reports = [(t, b) for _, _, t, b in _rows(event_dir, "lobby-1")]
        guide = next(b for t, b in lobby_reports if t == "plan_step")
        assert guide == {"run": run, "step": "guide_guests", "status": "done", "reason": "", "post": "", "person": ""}
        assert [t for t, _ in lobby_reports] == ["plan_step", "instruction_ack"]
        # 3. The desk sees the lobby's confirmation, and stands the plan down (steps still open: a reason).
        async with desk(event_dir, hub, size=(120, 36)) as (app, pilot):
            await wait_for(pilot, lambda: "lobby" in step_of(app, run, "guide_guests")["confirmed"],
                           what="lobby's step")
            await pilot.press("p")
            table = await on_row(pilot, f"r{run}.guide_guests")
            cells = " ".join(str(c) for c in table.get_row(f"r{run}.guide_guests"))
            # The concierge has not confirmed: still open, the lobby's part shown.
            assert "Done" not in cells and "Lobby" in cells and "1/2" in cells
            await on_row(pilot, f"r{run}")
            await pilot.press("x")
            assert isinstance(app.screen, NoteModal) and "still open" in screen_text(app)
            await write(pilot, "火已扑灭，消防队确认安全")
            await wait_for(pilot, lambda: logged(event_dir, "plan_stand_down"), what="the stand-down logged")
            assert logged(event_dir, "plan_stand_down") == [{"run": run, "note": "火已扑灭，消防队确认安全"}]
            await wait_for(pilot, lambda: "Stood down" in screen_text(app), what="the plan shown stood down")
        # 4. The lobby gets the all-clear: no task, no plan running for it any more.
        await _until_sync(lambda: any(i.run == run and not i.step for i in lobby.outbox.instructions()))
        assert plan_tasks.read(lobby.outbox.instructions(), []) == ((), ())
    finally:
        model.close()
        lobby.close()


@aio
async def test_the_gate_is_held_by_the_explicit_field_never_by_words(event_dir, hub):
    async with desk(event_dir, hub, size=(100, 30)) as (app, pilot):   # the desk's form offers the hold
        await pilot.press("s")
        modal = app.screen
        assert isinstance(modal, InstructionModal)
        modal.query_one("#gate", Select).value = "hold"
        await wait_for(pilot, lambda: modal.query_one("#target", Select).value == "post.gate", what="aimed at the gate")
        assert modal.query_one("#text", Input).value == "Hold cars at the gate"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: logged(event_dir, "instruction"), what="the hold logged")
        (held,) = logged(event_dir, "instruction")
        assert (held["target"], held["gate"], held["ack_required"]) == ("post.gate", "hold", True)
        await pilot.press("s")
        app.screen.query_one("#gate", Select).value = "resume"
        await wait_for(pilot, lambda: app.screen.query_one("#text", Input).value == "Resume letting cars in",
                       what="the words offered")
        app.screen.query_one("#target", Select).value = "post.lobby"        # the operator insists: refused here
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, InstructionModal) and "post.gate" in screen_text(app)
        await pilot.press("escape")
    other = StationClient("desk-2", event_dir.root / "desk-2.outbox.db", event_dir.desk_key("desk-2"),
                          event_dir.console_public, hub.endpoint, role="desk").start()
    gate = hub_client(event_dir, hub, "gate-1")
    try:
        gate_app = make_app(event_dir, gate, "zh")
        async with gate_app.run_test(size=(80, 24)) as pilot:
            banner = gate_app.main.query_one("Banner")
            await until(pilot, lambda: banner.has_class("-hold"), what="held by the welcome's instruction")
            report(other, "instruction", {"target": "post.gate", "text": "恢复放行", "gate": "resume"})
            await until(pilot, lambda: not banner.has_class("-hold"), what="resumed")
            words = report(other, "instruction", {"target": "all", "text": "暂停放行 hold：只是通知，不是门岗指令"})
            await until(pilot, lambda: gate.outbox.get_instruction(words) is not None, what="the words received")
            gate_app.redraw()
            await pilot.pause()
            assert not banner.has_class("-hold")                         # words alone hold nothing
    finally:
        gate.close()
        other.close()


@aio
async def test_proposals_are_started_or_dismissed_and_any_plan_started_by_hand(event_dir, hub):
    parking, gate = station(event_dir, hub, "parking-1"), station(event_dir, hub, "gate-1")
    try:
        async with desk(event_dir, hub, size=(160, 48)) as (app, pilot):
            seen, bells = notes_of(app), []
            app.bell = lambda: bells.append(1)
            report(parking, "lot_occupancy", {"lot": "p1", "full": True})
            props = lambda: app.current_view.state.plans["proposals"]  # noqa: E731
            await wait_for(pilot, lambda: props(), what="the parking plan proposed")
            (prop,) = props()
            await wait_for(pilot, lambda: any("Plan proposed: Parking full plan" in n for n in seen), what="told")
            assert bells and app.screen.query_one("#plans", PlanChecklist).display   # the wide main screen's panel
            await wait_for(pilot, lambda: "press p" in " ".join(seen), what="the hint")
            palette = [h.text async for h in DeskCommands(app.screen).discover()]
            for words in ("Plans", "Start a plan", "Step done / start", "Skip step", "Stand down/dismiss",
                          "Accept the proposal, start: Parking full plan", "Dismiss the proposal: Parking full plan",
                          "Start plan: Fire emergency plan"):
                assert words in palette, words
            await on_row(pilot, f"p{prop}")
            await pilot.press("enter")                                     # Enter on a proposal starts it
            await wait_for(pilot, lambda: logged(event_dir, "plan_start"), what="the start logged")
            assert logged(event_dir, "plan_start") == [{"plan": "parking_full", "note": ""}]
            await wait_for(pilot, lambda: run_of(app, "parking_full"), what="the plan running")
            assert app.current_view.state.plans["proposals"][prop]["status"] == "started"

            smoke = report(gate, "incident_report", {"kind": "smoke", "severity": 1, "location": "门卫室"})
            await wait_for(pilot, lambda: any(p["plan"] == "fire" for p in props().values()), what="fire proposed")
            fire_prop = max(props())
            assert props()[fire_prop]["cause"] == f"incident:{smoke}"
            await on_row(pilot, f"p{fire_prop}")
            await pilot.press("x")
            assert isinstance(app.screen, NoteModal)
            await write(pilot, "烟是厨房的，不是火情")
            await wait_for(pilot, lambda: logged(event_dir, "plan_stand_down"), what="the dismissal logged")
            assert logged(event_dir, "plan_stand_down") == [{"run": fire_prop, "note": "烟是厨房的，不是火情"}]
            await wait_for(pilot, lambda: props()[fire_prop]["status"] == "dismissed", what="dismissed")

            await pilot.press("e")                                         # any plan, by hand
            modal = app.screen
            assert isinstance(modal, PlanStartModal)
            options = modal.query_one(OptionList)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert options.get_option_at_index(ids.index("parking_full")).disabled   # running: not again
            options.highlighted = ids.index("water_leak")
            modal.query_one("#note", Input).value = "B1 渗水，预防性启动"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: len(logged(event_dir, "plan_start")) == 2, what="started by hand")
            assert logged(event_dir, "plan_start")[1] == {"plan": "water_leak", "note": "B1 渗水，预防性启动"}
            await wait_for(pilot, lambda: run_of(app, "water_leak"), what="the water leak plan running")
    finally:
        parking.close()
        gate.close()


@aio
async def test_an_overdue_step_is_told_once_with_the_bell_and_marked_on_the_main_line(event_dir):
    shift = [0]
    handle = run_in_thread(event_dir, clock=lambda: int(time.time() * 1000) + shift[0])
    gate = station(event_dir, handle, "gate-1")
    try:
        async with desk(event_dir, handle, size=(80, 24)) as (app, pilot):
            seen, bells = notes_of(app), []
            app.bell = lambda: bells.append(1)
            report(gate, "incident_report", {"kind": "fire", "severity": 4, "location": "East gate"})
            await wait_for(pilot, lambda: run_of(app, "fire"), what="the fire plan")
            line = app.screen.query_one(PlanIndicator)
            await wait_for(pilot, lambda: "1 plan running" in str(line.render()), what="the main line")
            assert not line.has_class("-overdue")
            before = len(bells)
            shift[0] = 90_000                           # the hub's clock jumps past the first steps' 60 s
            await wait_for(pilot, lambda: sum("is overdue" in n for n in seen) >= 2, what="the escalations told")
            overdue = [n for n in seen if "is overdue" in n]
            assert any('"Fire emergency plan" step "Confirm where the fire is' in n for n in overdue)
            assert len(overdue) == len(set(overdue)) and len(bells) > before
            await wait_for(pilot, lambda: line.has_class("-overdue") and "steps overdue" in str(line.render()),
                           what="the line turns red")
            await pilot.pause(2.5)                       # more ticks: nothing is told twice
            assert [n for n in seen if "is overdue" in n] == overdue
    finally:
        gate.close()
        handle.stop()


def _rows(folder, sid: str):
    from tests.station_support import logged as station_logged
    return station_logged(folder, sid)


async def _until_sync(check, timeout: float = 10.0) -> None:
    import asyncio
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.05)


@aio
async def test_a_wall_display_shows_the_plans_and_never_acts():
    from console.desk.app import DeskApp
    from tests.desk_plans_fixture import plan_fixture_state
    from tests.desk_support import T0
    app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang="en", wall=True)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.screen.query_one("#plans", PlanChecklist)
        await wait_for(pilot, lambda: table.row_count > 10, what="the plans panel")
        table.focus()
        await pilot.press("down", "c", "w", "x", "e", "p")
        await pilot.pause(0.2)
        assert not app.screen.is_modal and not isinstance(app.screen, PlansScreen)
        assert table.cursor_row == 1                     # moving around still works


@aio
async def test_at_80_columns_the_hidden_panel_is_nobodys_choice():
    """The main screen's panel is hidden at 80 columns: c / x from the palette there say "select a step first"
    rather than act on whatever row its cursor happens to be on."""
    from console.desk.app import DeskApp
    from tests.desk_plans_fixture import plan_fixture_state
    from tests.desk_support import T0
    app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        seen = notes_of(app)
        await pilot.pause(0.2)
        await app.screen.run_action("confirm_step")
        await app.screen.run_action("stand_down")
        await pilot.pause(0.1)
        assert seen == ["Select a step in the plans checklist first.",
                        "Select a running plan or a proposal in the checklist first."]
        assert not app.screen.is_modal
