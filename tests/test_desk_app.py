"""The desk on screen (Textual Pilot) against a real hub: every action lands in the log and comes back onto the board."""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from textual.widgets import Input, Select

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import DeskLink
from console.desk.screens.details import IncidentScreen, InstructionsScreen, StationScreen
from console.desk.screens.help import HelpScreen
from console.desk.screens.modals import ChoiceModal, IncidentModal, InstructionModal, TextModal
from console.desk.widgets.incidents import IncidentBoard
from console.desk.widgets.posts import PostsTable
from console.desk.widgets.timeline import TimelineTable
from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from stations.link.client import StationClient
from tests.desk_support import aio, wait_for
from tests.wire import log_rows

pytestmark = pytest.mark.timeout(120)
SIZE = (120, 36)


@pytest.fixture
def hub(event_dir: EventFolder):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


@pytest.fixture
def gate(event_dir, hub):
    client = StationClient("gate-1", event_dir.root / "stations" / "gate-1.outbox.db",
                           event_dir.station_key("gate-1"), event_dir.console_public, hub.endpoint, hub.feed).start()
    yield client
    client.close()


@asynccontextmanager
async def desk(folder: EventFolder, hub, lang: str = "en", size=SIZE, desk_id: str = "desk-1", **kw):
    link = DeskLink(desk_id, hub.endpoint, hub.feed, folder.desk_key(desk_id), folder.console_public,
                    folder.root / "desks" / f"{desk_id}.outbox.db")
    app = DeskApp(link=link, state=new_state(folder.load().summary()), lang=lang, desk=desk_id, **kw)
    link.on_action = app.action_finished
    link.start()
    try:
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            yield app, pilot
    finally:
        link.close()


def logged(folder: EventFolder, type_: str, station: str = "desk-1") -> list[dict]:
    return [json.loads(r[5]) for r in log_rows(folder.db(), "type = ? AND station = ?", (type_, station))]


def notes_of(app: DeskApp) -> list[str]:
    """Record every notification the app raises from now on (toasts render a moment later)."""
    seen: list[str] = []
    original = app.notify

    def notify(message: str, **kw) -> None:
        seen.append(message)
        original(message, **kw)

    app.notify = notify
    return seen


def screen_text(app: DeskApp) -> str:
    """Everything on the screen as plain text (what a person would read)."""
    import io

    from rich.console import Console
    con = Console(width=app.size.width, file=io.StringIO(), record=True, color_system=None)
    con.print(app.screen._compositor.render_update(full=True))
    return con.export_text()


def report_incident(gate: StationClient, kind="fire", severity=4, location="East entrance", note="") -> int:
    r = gate.submit("incident_report", {"kind": kind, "severity": severity, "location": location, "note": note})
    return gate.wait_delivered(r.seq, 10).gseq


@aio
async def test_the_first_pictures_full_collection_comes_after_it_is_on_screen(event_dir, hub):
    """The desk's one full garbage collection of the day so far (gcpace) waits until the first picture has
    been on screen a moment: on a long day it takes 100-300 ms, which used to come before the screen did."""
    import gc
    async with desk(event_dir, hub) as (app, pilot):
        shown = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: shown.done() or shown.set_result(app.gc_pace.sweeps))
        assert await asyncio.wait_for(shown, 10) == 0          # on screen, and not swept yet
        await wait_for(pilot, lambda: app.gc_pace.sweeps == 1, what="the first picture's sweep")
        assert gc.get_freeze_count() > 0                        # the day so far is frozen (until the desk stops)


@aio
async def test_a_station_report_appears_on_the_board(event_dir, hub, gate):
    async with desk(event_dir, hub) as (app, pilot):
        gate.submit("car_in", {"plate": "湘A·12345", "count": 1})
        incident = report_incident(gate, "water_leak", 3, "Toilets B1")
        await wait_for(pilot, lambda: "Toilets B1" in screen_text(app) and "unacknowledged" in screen_text(app),
                       what="the incident on the board and in the banner")
        text = screen_text(app)
        assert f"#{incident}" in text and "Water leak" in text and "new" in text
        assert "Car in" in text and "湘A·12345" in text               # the timeline
        assert "unacknowledged" in text                                # high severity: the banner
        assert app.screen.query_one(IncidentBoard).current == incident


@aio
async def test_acknowledge_assign_annotate_resolve_land_in_the_log(event_dir, hub, gate):
    incident = report_incident(gate)
    async with desk(event_dir, hub) as (app, pilot):
        await wait_for(pilot, lambda: app.screen.query_one(IncidentBoard).current == incident, what="the incident")
        await pilot.press("a")
        await wait_for(pilot, lambda: logged(event_dir, "incident_update"), what="the acknowledgement logged")
        assert logged(event_dir, "incident_update")[-1] == {"incident": incident, "status": "acknowledged",
                                                             "assign": "", "note": ""}
        await wait_for(pilot, lambda: "ack'd" in screen_text(app) and "unacknowledged" not in screen_text(app),
                       what="the board to show it acknowledged and the banner gone")

        await pilot.press("d")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("down", "down", "enter")                     # office, service, security
        await wait_for(pilot, lambda: len(logged(event_dir, "incident_update")) == 2, what="the assignment logged")
        assert logged(event_dir, "incident_update")[-1]["assign"] == "security"
        await wait_for(pilot, lambda: app.current_view.state.incidents[incident]["department"] == "security",
                       what="the assignment on the board")

        await pilot.press("n")
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"hose ready")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(logged(event_dir, "incident_update")) == 3, what="the note logged")
        assert logged(event_dir, "incident_update")[-1]["note"] == "hose ready"

        await pilot.press("r")
        app.screen.query_one("#text", Input).value = "已扑灭"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(logged(event_dir, "incident_update")) == 4, what="the resolution logged")
        assert logged(event_dir, "incident_update")[-1] == {"incident": incident, "status": "resolved",
                                                             "assign": "", "note": "已扑灭"}
        await wait_for(pilot, lambda: "East entrance" not in screen_text(app), what="the incident off the board")
        assert "Open incidents: 0" in screen_text(app)


@aio
async def test_open_an_incident_from_the_desk(event_dir, hub):
    async with desk(event_dir, hub, lang="zh") as (app, pilot):
        await pilot.press("i")
        modal = app.screen
        assert isinstance(modal, IncidentModal)
        await pilot.press("ctrl+s")                                    # no kind yet: refused in the dialog
        assert app.screen is modal and "请选择事件类别" in screen_text(app)
        modal.query_one("#kind", Select).value = "power_outage"
        modal.query_one("#severity", Select).value = 3
        modal.query_one("#location", Input).value = "配电房"
        modal.query_one("#source", Select).value = "phone"
        modal.query_one("#note", Input).value = "物业电话报告"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: logged(event_dir, "incident_open"), what="the incident logged")
        assert logged(event_dir, "incident_open") == [{"kind": "power_outage", "severity": 3, "location": "配电房",
                                                        "note": "物业电话报告", "source": "phone"}]
        await wait_for(pilot, lambda: "配电房" in screen_text(app), what="the incident on the board")
        assert "停电" in screen_text(app)


@aio
async def test_instruction_sent_then_acknowledged_per_station(event_dir, hub, gate):
    async with desk(event_dir, hub) as (app, pilot):
        await pilot.press("s")
        modal = app.screen
        assert isinstance(modal, InstructionModal)
        modal.query_one("#target", Select).value = "post.gate"
        await pilot.press(*"Close the west gate")
        await pilot.press("enter")
        await wait_for(pilot, lambda: logged(event_dir, "instruction"), what="the instruction logged")
        assert logged(event_dir, "instruction")[0]["target"] == "post.gate"
        assert logged(event_dir, "instruction")[0]["ack_required"] is True
        inst = log_rows(event_dir.db(), "type = 'instruction'")[0][0]
        await pilot.press("t")
        assert isinstance(app.screen, InstructionsScreen)
        await wait_for(pilot, lambda: " 0/2 " in screen_text(app), what="no acks yet, two gates")
        gate.acknowledge_instruction(inst)
        await wait_for(pilot, lambda: " 1/2 " in screen_text(app), what="gate-1's ack")
        text = screen_text(app)
        assert "East gate" in text and "acknowledged" in text and "West gate" in text and "not reached" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, InstructionsScreen)


@aio
async def test_log_note_and_drill_into_a_station_and_an_incident(event_dir, hub, gate):
    incident = report_incident(gate, "medical", 2, "Lobby sofa", note="dizzy guest")
    async with desk(event_dir, hub) as (app, pilot):
        await pilot.press("m")
        app.screen.query_one("#text", Input).value = "handover to shift B"
        app.screen.query_one("#department", Select).value = "service"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: logged(event_dir, "note"), what="the note logged")
        assert logged(event_dir, "note") == [{"text": "handover to shift B", "department": "service"}]

        await wait_for(pilot, lambda: app.screen.query_one(IncidentBoard).current == incident, what="the incident")
        app.screen.query_one(IncidentBoard).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, IncidentScreen)
        await wait_for(pilot, lambda: "dizzy guest" in screen_text(app), what="the incident's history")
        await pilot.press("a")                                         # actions work here too
        await wait_for(pilot, lambda: logged(event_dir, "incident_update"), what="acknowledged from the detail")
        await wait_for(pilot, lambda: "acknowledged" in screen_text(app).lower(), what="history updated")
        await pilot.press("escape")

        posts = app.screen.query_one(PostsTable)
        posts.focus()
        posts.select_key("gate-1")
        await pilot.press("enter")
        assert isinstance(app.screen, StationScreen) and app.screen.station == "gate-1"
        await wait_for(pilot, lambda: "Incident report" in screen_text(app), what="gate-1's recent reports")
        assert "online" in screen_text(app)


@aio
async def test_markup_from_a_station_is_shown_literally(event_dir, hub, gate):
    note = "[@click=app.quit]quit [b]now[/b]"
    incident = report_incident(gate, "other", 2, "[red]gate[/red]", note=note)
    async with desk(event_dir, hub, size=(160, 40)) as (app, pilot):
        await wait_for(pilot, lambda: "[red]gate[/red]" in screen_text(app), what="the literal location")
        await wait_for(pilot, lambda: "[@click=app.quit]quit [b]" in screen_text(app), what="the literal note")
        await pilot.click(IncidentBoard, offset=(100, 2))                # clicking the note runs nothing
        await pilot.pause(0.2)
        assert app.is_running
        app.open_incident_screen(incident)                                # the whole note, in the detail
        await wait_for(pilot, lambda: note in screen_text(app), what="the full note, literally")


@aio
async def test_language_switches_at_run_time(event_dir, hub, gate):
    report_incident(gate, "fire", 1, "Gate")
    async with desk(event_dir, hub, lang="zh") as (app, pilot):
        await wait_for(pilot, lambda: "火情" in screen_text(app), what="Chinese")
        await wait_for(pilot, lambda: "确认事件" in screen_text(app), what="the footer in Chinese")
        await pilot.press("l")
        await wait_for(pilot, lambda: "Fire" in screen_text(app) and "Acknowledge" in screen_text(app),
                       what="English")
        assert "火情" not in screen_text(app)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen) and "Keys" in screen_text(app)


@aio
async def test_wall_mode_shows_and_never_acts(event_dir, hub, gate):
    incident = report_incident(gate)
    async with desk(event_dir, hub, wall=True) as (app, pilot):
        await wait_for(pilot, lambda: app.screen.query_one(IncidentBoard).current == incident, what="the incident")
        await pilot.press("a", "i", "s")
        await pilot.pause(0.3)
        assert logged(event_dir, "incident_update") == [] and not app.screen.is_modal
        text = screen_text(app)
        assert "Acknowledge" not in text and "People on site" in text


@aio
async def test_without_a_hub_the_picture_is_read_only(event_dir):
    app = DeskApp(state=new_state(event_dir.load().summary()), lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        seen = notes_of(app)
        await pilot.press("i")
        assert isinstance(app.screen, IncidentModal)
        app.screen.query_one("#kind", Select).value = "fire"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert seen == ["Not connected: this picture is read-only."]


@aio
async def test_command_palette_offers_every_action_in_the_desk_language(event_dir, hub, gate):
    from console.desk.screens.commands import DeskCommands
    report_incident(gate, "smoke", 3, "B2")
    async with desk(event_dir, hub, lang="zh") as (app, pilot):
        await wait_for(pilot, lambda: app.current_view.state.incidents, what="the incident")
        provider = DeskCommands(app.screen)
        texts = [hit.text for hit in [h async for h in provider.discover()]]
        for words in ("确认事件", "指派部门", "补充说明", "解决", "新建事件", "发指令", "指令列表", "帮助", "English"):
            assert words in texts, words
        assert any("东门岗" in t for t in texts) and any("烟雾" in t for t in texts)
        hits = [h async for h in provider.search("新建事件")]
        assert hits and "新建事件" in str(hits[0].text)


@aio
async def test_a_rejected_action_is_told_to_the_operator(event_dir, hub):
    async with desk(event_dir, hub) as (app, pilot):
        seen = notes_of(app)
        app.send(lambda link: link.update_incident(4242, status="acknowledged"), "desk.sent.acknowledge", id=4242)
        await wait_for(pilot, lambda: any("cannot find incident #4242" in n for n in seen), what="the rejection told")
        assert seen[0] == "Saved: acknowledge incident #4242"
        told = next(n for n in seen if "cannot find incident #4242" in n)
        assert "The system refused" in told and "E_UNKNOWN" not in told   # the reason in words, never the code


@aio
async def test_a_drill_hub_puts_up_the_drill_banner(event_dir):
    handle = run_in_thread(event_dir, drill=True)
    try:
        async with desk(event_dir, handle, lang="zh") as (app, pilot):
            await wait_for(pilot, lambda: "演练——演练数据" in screen_text(app), what="the DRILL banner")
    finally:
        handle.stop()


@aio
async def test_a_lost_hub_is_shown_and_every_figure_marked_stale(event_dir):
    handle = run_in_thread(event_dir)
    gate = StationClient("gate-1", event_dir.root / "stations" / "gate-1.outbox.db", event_dir.station_key("gate-1"),
                         event_dir.console_public, handle.endpoint, handle.feed).start()
    try:
        gate.submit("car_in", {"count": 2})
        assert gate.wait_drained(10)
        gate.close()
        async with desk(event_dir, handle, size=(100, 30)) as (app, pilot):
            await wait_for(pilot, lambda: "system connected" in screen_text(app), what="connected")
            handle.stop()
            await wait_for(pilot, lambda: "system unreachable for" in screen_text(app), what="the lost hub")
            assert "Cars on site 2 · " in screen_text(app) and " ago" in screen_text(app)
    finally:
        handle.stop()


@aio
async def test_escape_sequences_in_station_text_are_shown_not_obeyed():
    from tests.desk_support import T0, fixture_state
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="en")
    async with app.run_test(size=(160, 40)) as pilot:
        lost = next(i for i in app.current_view.state.incidents.values() if i["kind"] == "lost_property")
        app.open_incident_screen(lost["id"])
        await wait_for(pilot, lambda: "[@click=app.quit]点我 ␛[31mRED␛[0m" in screen_text(app), what="literal note")
        assert "\x1b" not in screen_text(app)


@aio
async def test_the_timeline_filters_by_post_type_and_severity():
    from tests.desk_support import T0, fixture_state
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="en")
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(TimelineTable)
        await pilot.press("slash")                                   # "/" goes to the filters
        assert app.focused is app.screen.query_one("#filter-post", Select)
        app.screen.query_one("#filter-post", Select).value = "gate"
        await pilot.pause(0.2)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows and all(("East" in str(r) or "West" in str(r)) for r in rows)
        app.screen.query_one("#filter-post", Select).clear()
        app.screen.query_one("#filter-severity", Select).value = 3
        await pilot.pause(0.2)
        assert table.row_count == 3 and "Incident report" in screen_text(app)
        app.screen.query_one("#filter-kind", Select).value = "incident_update"
        await pilot.pause(0.2)
        assert table.row_count == 1 and "Incident update" in screen_text(app)


@aio
async def test_the_desk_paces_full_collections_and_gives_the_process_back_as_it_found_it():
    import gc

    from console.hub.gcpace import FULL_EVERY as GC_FULL_EVERY
    from tests.desk_support import T0, fixture_state
    before = gc.get_threshold()
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert gc.get_threshold() == (before[0], before[1], GC_FULL_EVERY) and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
