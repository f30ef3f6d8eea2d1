"""The desk's preparation reaches connected terminals live (issue 16 item 6): a task added, rescheduled and given to
another department, a roster slot moved, and a VIP space given at one parking terminal, each seen at the others
through a real hub without a reconnect; the duty screen (F8) redrawn as it happens, through a real hub too."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.event.folder import EventFolder, init_folder, make_keys, set_endpoints
from console.hub.live_summary import catch_up, changes, lot_lines
from console.hub.server import run_in_thread
from protocols.messages import Committed
from stations.link.client import StationClient
from stations.terminal.posts import duty, parking
from stations.terminal.posts.base import Site
from stations.terminal.screens.duty import DutyScreen
from tests.conftest import FIXED_DAY, free_port
from tests.station_support import aio, hub_client, make_app, until
from tests.roles_fixture import with_terminals
from tests.wire import wait_for

pytestmark = pytest.mark.timeout(60)

LIVE_S = 3.0   # "within a second" on an idle machine; room here for a loaded one, never a reconnect



@pytest.fixture
def event(tmp_path: Path) -> EventFolder:
    """The sample event on a fixed day with its department terminals (engineering, environment...), and VIP spaces in lot p1."""
    folder = init_folder(tmp_path / "event", date=FIXED_DAY)
    text = with_terminals(folder.toml.read_text("utf-8"))   # the sample has them: kept as it is
    text = text.replace('id = "p1"', 'id = "p1"\nvip_spaces = ["A01", "A02"]', 1)
    folder.toml.write_text(text, "utf-8")
    set_endpoints(folder, f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}")
    make_keys(folder)
    return folder


@pytest.fixture
def hub(event):
    handle = run_in_thread(event)
    yield handle
    handle.stop()


def desk_client(event: EventFolder, hub, tmp_path: Path) -> StationClient:
    return StationClient("desk-1", tmp_path / "desk-1.outbox.db", event.desk_key("desk-1"), event.console_public,
                         hub.endpoint, role="desk", heartbeat_ms=200).start()


def send(desk: StationClient, type_: str, body: dict) -> int:
    """A desk action, committed: its gseq."""
    sent = desk.wait_delivered(desk.submit(type_, body).seq, 10)
    assert sent.gseq, sent
    return sent.gseq


def listening(desk: StationClient, clients: list[StationClient]) -> None:
    """Every client online and its topics applied by the hub: an instruction to everyone has reached each one."""
    probe = send(desk, "instruction", {"target": "all", "text": "测试", "ack_required": False})
    for c in clients:
        wait_for(lambda: c.outbox.get_instruction(probe), 10, f"{c.station} hears the feed")


def line(client: StationClient, part: str, key: str, value: str) -> dict | None:
    return next((r for r in client.status().event.get(part, ()) if r.get(key) == value), None)


@pytest.mark.wire
def test_a_task_and_a_slot_the_desk_changes_reach_connected_terminals_at_once(event, hub, tmp_path) -> None:
    at = event.load().at_ms
    eng, env = hub_client(event, hub, "eng-1").start(), hub_client(event, hub, "env-1").start()
    desk = desk_client(event, hub, tmp_path)
    try:
        listening(desk, [eng, env])
        attempts = (eng.status().attempts, env.status().attempts)

        gseq = send(desk, "task_add", {"title": "检查备用发电机", "department": "engineering", "due_ms": at("07:00"),
                                       "blocking": False})
        task = wait_for(lambda: line(eng, "tasks", "id", f"T{gseq}"), LIVE_S, "the new task at eng-1")
        assert (task["title"], task["department"], task["due_ms"]) == ("检查备用发电机", "engineering", at("07:00"))
        site = Site.from_summary("eng-1", event.load().summary()).as_now(eng.status().event)
        assert f"T{gseq}" in [t["id"] for t in duty.tasks_here(site)]

        send(desk, "task_change", {"task": f"T{gseq}", "due_ms": at("07:45"), "note": "推迟"})
        wait_for(lambda: line(eng, "tasks", "id", f"T{gseq}")["due_ms"] == at("07:45"), LIVE_S, "the new due time")

        send(desk, "task_change", {"task": f"T{gseq}", "department": "environment"})
        wait_for(lambda: line(eng, "tasks", "id", f"T{gseq}")["department"] == "environment", LIVE_S, "the move")
        site = Site.from_summary("eng-1", event.load().summary()).as_now(eng.status().event)
        assert f"T{gseq}" not in [t["id"] for t in duty.tasks_here(site)]   # it left engineering's terminal
        site = Site.from_summary("env-1", event.load().summary()).as_now(env.status().event)
        assert f"T{gseq}" in [t["id"] for t in duty.tasks_here(site)]       # and is environment's now

        # A slot added at eng-1 shows there; moved to env-1 it leaves eng-1 and shows at env-1.
        send(desk, "roster_add", {"station": "eng-1", "name": "钱进", "staff_no": "S391", "start_ms": at("09:00")})
        wait_for(lambda: line(eng, "roster", "key", "eng-1/S391"), LIVE_S, "the new slot at eng-1")
        send(desk, "roster_change", {"slot": "eng-1/S391", "station": "env-1"})
        wait_for(lambda: line(env, "roster", "key", "eng-1/S391"), LIVE_S, "the slot at env-1")
        wait_for(lambda: line(eng, "roster", "key", "eng-1/S391")["station"] == "env-1", LIVE_S, "the slot gone")
        site = Site.from_summary("eng-1", event.load().summary()).as_now(eng.status().event)
        assert "eng-1/S391" not in [r.get("key") for r in site.roster]
        assert (eng.status().attempts, env.status().attempts) == attempts   # no reconnect did it
        assert eng.status().bad_frames == env.status().bad_frames == 0
    finally:
        for c in (eng, env, desk):
            c.close()


@pytest.mark.wire
def test_a_vip_space_given_at_one_parking_terminal_is_taken_at_the_other(event, hub) -> None:
    p1, p2 = hub_client(event, hub, "parking-1").start(), hub_client(event, hub, "parking-2").start()
    try:
        wait_for(lambda: line(p2, "lots", "id", "p1"), 10, "parking-2 welcomed")
        wait_for(lambda: p2.status().feed_connected, 10, "parking-2's feed")
        area = next(a for a in Site.from_summary("parking-2", event.load().summary()).lots if a.id == "p1")
        assert parking.vip_free(area, parking.taken_anywhere(p2.status().event)) == ("A01", "A02")
        # The subscription reaches the hub a moment after the feed connects: give spaces until one is heard.
        for space in ("A01", "A02"):
            sent = p1.wait_delivered(p1.submit("space_assign", {"lot": "p1", "space": space, "plate": f"湘A{space}",
                                                                "vip": True}).seq, 10)
            assert sent.gseq, sent
        wait_for(lambda: parking.vip_free(area, parking.taken_anywhere(p2.status().event)) == (), LIVE_S,
                 "both spaces taken at parking-2")
        # Its line holds both, sorted, as a welcome to a terminal that connects now gives them.
        assert line(p2, "lots", "id", "p1")["vip_taken"] == ["A01", "A02"]
    finally:
        p1.close()
        p2.close()


@pytest.mark.pure
def test_only_the_stations_concerned_hear_of_a_change() -> None:
    """A slot moved is told to both stations; a task to everyone; a space to the parking post; anything else to nobody."""
    from console.core.state.model import new_state

    s = new_state({})
    s.event = {"tasks": [{"id": "T5", "department": "engineering", "due_ms": 1, "changes": [{}]}],
               "roster": [{"key": "eng-1/S1", "station": "env-1", "changes": [{"station": "eng-1"}]}]}
    s.lots = {"p1": {"vip_taken": {"A02": {}, "A01": {}}}}

    def ev(type_: str, body: dict) -> Committed:
        return Committed(gseq=5, station="desk-1", epoch="e", seq=1, type=type_, station_ms=1, recv_ms=1, body=body)

    lots = [{"id": "p1", "vip_spaces": ["A01", "A02", "A03"]}, {"id": "p2", "vip_spaces": []}]
    topics = {t: m.body for t, m in changes(s, lambda: lots, ev("task_add", {}))}
    assert topics == {"all": {"part": "tasks", "item": {"id": "T5", "department": "engineering", "due_ms": 1}}}
    assert [t for t, _ in changes(s, lambda: lots, ev("roster_change", {"slot": "eng-1/S1"}))] == [
        "station.eng-1", "station.env-1"]
    [(topic, msg)] = changes(s, lambda: lots, ev("space_assign", {"lot": "p1", "vip": True}))
    assert topic == "post.parking" and msg.type == "summary" and msg.body["item"]["vip_taken"] == ["A01", "A02"]
    assert changes(s, lambda: lots, ev("space_assign", {"lot": "p1"})) == []
    assert changes(s, lambda: lots, ev("task_change", {"task": "T9"})) == []
    assert lot_lines(lots, s)[1] == {"id": "p2", "vip_spaces": []}


@pytest.mark.screen
@aio
async def test_the_duty_screen_shows_a_task_the_desk_adds_while_it_is_open(event, hub, tmp_path) -> None:
    at = event.load().at_ms
    eng = hub_client(event, hub, "eng-1")
    app = make_app(event, eng, "en")
    desk = desk_client(event, hub, tmp_path)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: eng.status().console_reachable, what="eng-1 online")
            listening(desk, [eng])
            await pilot.press("f8")
            await until(pilot, lambda: isinstance(app.screen, DutyScreen), what="the duty screen")
            screen = app.screen

            def prompt(task_id: str) -> str:
                return next((o.prompt.plain for o in screen.query_one("#duty-list").options
                             if o.id == f"task-{task_id}"), "")

            gseq = send(desk, "task_add", {"title": "检查备用发电机", "department": "engineering",
                                           "due_ms": at("07:00"), "blocking": False})
            await until(pilot, lambda: "due 07:00" in prompt(f"T{gseq}"), timeout=LIVE_S + 2, what="the task on F8")
            assert "Engineering" in prompt(f"T{gseq}")
            send(desk, "task_change", {"task": f"T{gseq}", "due_ms": at("07:45")})
            await until(pilot, lambda: "due 07:45" in prompt(f"T{gseq}"), timeout=LIVE_S + 2, what="rescheduled")
            send(desk, "task_change", {"task": f"T{gseq}", "department": "environment"})
            await until(pilot, lambda: not prompt(f"T{gseq}"), timeout=LIVE_S + 2, what="gone to environment")
            assert app.screen is screen   # the same screen, redrawn: nobody had to close and reopen it
    finally:
        eng.close()
        desk.close()


@pytest.mark.pure
def test_a_station_whose_subscription_just_took_effect_is_sent_what_its_welcome_may_have_missed() -> None:
    """The desk's tasks and this station's slots (also one moved away from it); a parking post also the taken spaces."""
    from console.core.state.model import new_state

    s = new_state({})
    s.event = {"tasks": [{"id": "t1", "department": "engineering"}, {"id": "T7", "added": {"by": "desk-1"}}],
               "roster": [{"key": "a", "station": "eng-1"}, {"key": "b", "station": "eng-1", "added": {"by": "desk-1"}},
                          {"key": "c", "station": "env-1", "changes": [{"station": "eng-1"}]},
                          {"key": "d", "station": "env-1", "added": {"by": "desk-1"}}]}
    s.lots = {"p1": {"vip_taken": {"A01": {}}}}
    lots = [{"id": "p1", "vip_spaces": ["A01", "A02"]}]
    sent = [(m.body["part"], m.body["item"].get("id") or m.body["item"].get("key"))
            for m in catch_up(s, lots, "eng-1", "engineering", "h", 5)]
    assert sent == [("tasks", "T7"), ("roster", "b"), ("roster", "c")]
    parked = catch_up(s, lots, "parking-1", "parking", "h", 5)
    assert [(m.type, m.station, m.seq, m.body["part"]) for m in parked] == [("summary", "hub", 0, "tasks"),
                                                                            ("summary", "hub", 0, "lots")]
