"""Readiness before the doors open and the duty roster: the board's figures and GO / NO-GO, sign-offs from the desk
and from a terminal, and the hub's alarms -- a blocking task overdue, a post nobody signed in at -- on a manual clock."""
from __future__ import annotations

import pytest

from console.core import readiness
from console.core import state as fold
from console.event.folder import EventFolder
from protocols import messages as M
from tests.test_guests_handoff import DESK, GATE, LOBBY, PARK, Wire

MIN = 60_000
BLOCKING = ["office-plan", "service-deploy", "service-emergency", "security-fire-lanes", "security-posts",
            "engineering-power", "engineering-water", "environment-cleaning"]


@pytest.fixture
def wire(event_dir: EventFolder):
    event = event_dir.load()
    w = Wire(event_dir, event.doors_open_ms - 6 * 60 * MIN)     # 03:30 on the day: nothing due yet
    yield w
    w.store.close()


def duty_alarms(out) -> list[tuple[str, str, str]]:
    return [(r.body["what"], r.body["ref"], r.body["target"]) for r in out.stored if r.type == "overdue"]


def roster_alarms(out) -> list[tuple[str, str, str]]:
    return [a for a in duty_alarms(out) if a[0] == "roster"]


def test_the_sample_ships_tasks_for_every_department_and_a_roster_for_every_station(event_dir: EventFolder) -> None:
    event = event_dir.load()
    assert {t.department for t in event.tasks} == set(event.departments)
    assert [t.id for t in event.tasks if t.blocking] == BLOCKING
    assert all(t.due <= 0 for t in event.tasks if t.blocking)
    titles = " ".join(t.title for t in event.tasks)
    for words in ("全体会议", "配电", "水路", "消防通道", "岗位", "培训", "预案", "保洁", "绿植", "物资"):
        assert words in titles, words
    assert [r.station for r in event.roster] == [s.id for s in event.stations]
    summary = event.summary()
    assert summary["tasks"][0]["due_ms"] == event.doors_open_ms + event.tasks[0].due * MIN
    assert summary["roster"][0]["from_ms"] == event.at_ms("08:30") and summary["vip_ack_ms"] == 120_000


def test_the_board_counts_per_department_and_says_go_only_when_nothing_blocks(wire: Wire) -> None:
    state = wire.ingest.state
    board = readiness.board(state, wire.now)
    assert (board.go, board.done, board.total, len(board.blocking_open)) == (False, 0, 13, 8)
    assert [t.id for t in board.tasks[:8]] == sorted(BLOCKING, key=lambda i: (
        next(t for t in state.event["tasks"] if t["id"] == i)["due_ms"], i))
    for task in BLOCKING:
        ack, _ = wire.send(DESK if task < "m" else GATE, M.TaskSignoff(task=task, note="ok"))
        assert isinstance(ack, M.Ack), ack
    board = readiness.board(state, wire.now)
    assert board.go and board.done == 8
    # Days-before tasks not signed off show as overdue, but only blocking ones hold the doors.
    assert [t.id for t in board.overdue] == ["office-meeting", "office-rehearsal"]
    engineering = next(d for d in board.departments if d.department == "engineering")
    assert (engineering.done, engineering.total, engineering.blocking_open) == (2, 2, 0)
    done = next(t for t in board.tasks if t.id == "security-posts")
    assert (done.status, done.by, done.at_ms, done.note, done.late) == ("done", "gate-1", wire.now, "ok", False)
    # A second sign-off is logged but the first stands.
    wire.send(LOBBY, M.TaskSignoff(task="security-posts", note="again"))
    assert state.readiness["done"]["security-posts"]["by"] == "gate-1"
    assert state.readiness["done"]["security-posts"]["more"] == 1


def test_a_sign_off_names_a_real_task(wire: Wire) -> None:
    nack, out = wire.send(GATE, M.TaskSignoff(task="no-such-task"))
    assert isinstance(nack, M.Nack) and nack.code == "E_UNKNOWN" and "no-such-task" in nack.reason
    assert out.stored == []


def test_a_blocking_task_not_signed_off_by_its_due_time_raises_one_alarm(wire: Wire) -> None:
    state = wire.ingest.state
    plan_due = next(t["due_ms"] for t in state.event["tasks"] if t["id"] == "office-plan")     # 05:30
    wire.send(DESK, M.TaskSignoff(task="service-deploy"))                 # done in good time: never alarmed
    wire.now = plan_due - 1
    assert duty_alarms(wire.tick()) == []
    wire.now = plan_due
    assert duty_alarms(wire.tick()) == [("task", "office-plan", "")]
    assert duty_alarms(wire.tick(MIN)) == []                               # once
    assert readiness.board(state, wire.now).overdue[0].id == "office-plan"
    # At doors-open every blocking task still open has been alarmed; non-blocking ones never are.
    wire.now = wire.event.doors_open_ms
    alarms = duty_alarms(wire.tick())
    assert {ref for what, ref, _ in alarms if what == "task"} == set(BLOCKING) - {"office-plan", "service-deploy"}
    assert all(what != "task" or ref in BLOCKING for what, ref, _ in alarms)
    assert {a["code"] for a in state.alarms} >= {"task_overdue", "post_unstaffed"}
    # Signing off late still counts, marked late.
    wire.send(DESK, M.TaskSignoff(task="office-plan"))
    late = next(t for t in readiness.tasks(state, wire.now) if t.id == "office-plan")
    assert late.status == "done" and late.late and late.alarmed_ms == plan_due


def test_a_post_nobody_signed_in_at_by_its_start_is_an_alarm(wire: Wire) -> None:
    state = wire.ingest.state
    start = wire.event.at_ms("08:30")
    wire.now = start - 10 * MIN
    ack, _ = wire.send(GATE, M.StaffSignin(staff_no="S101"))                # early: fine
    assert isinstance(ack, M.Ack)
    assert state.roster["on"]["gate-1"]["S101"]["name"] == "王强"           # completed from the roster
    wire.send(PARK, M.StaffSignin(name="替班 小刘"))                         # a stand-in staffs the post
    wire.now = start - 1
    assert roster_alarms(wire.tick()) == []
    wire.now = start
    assert sorted(roster_alarms(wire.tick())) == [("roster", "gate-2/S102", "gate-2"), ("roster", "parking-2/S104", "parking-2")]
    assert roster_alarms(wire.tick(MIN)) == []
    posts = {p.station: p for p in readiness.duty(state, wire.now)}
    assert (posts["gate-1"].status, posts["parking-1"].status, posts["gate-2"].status) == ("on", "on", "missing")
    assert posts["gate-2"].alarmed_ms == start and posts["lobby-1"].status == "waiting"
    assert readiness.on_duty(state, "王强") == "gate-1" and readiness.on_duty(state, "S101") == "gate-1"
    # Signing in later clears the post; the 09:00 posts are alarmed at 09:00 unless someone is there.
    wire.send(LOBBY, M.StaffSignin(name="周婷"))
    wire.now = wire.event.at_ms("09:00")
    refs = {ref for _, ref, _ in roster_alarms(wire.tick())}
    assert refs == {"concierge-1/S201", "concierge-2/S202", "model-1/S204", "greeter-1/S306", "sales-1/S307"}
    # Someone who signs out after the start leaves a post that was staffed in time: no alarm for it.
    wire.send(GATE, M.StaffSignout(staff_no="S101"))
    assert roster_alarms(wire.tick(MIN)) == [] and readiness.on_duty(state, "S101") == ""


def test_one_person_stands_at_one_station(wire: Wire) -> None:
    wire.send(GATE, M.StaffSignin(staff_no="S101"))
    wire.send(LOBBY, M.StaffSignin(staff_no="S101"))
    assert readiness.on_duty(wire.ingest.state, "S101") == "lobby-1"
    assert wire.ingest.state.roster["on"]["gate-1"] == {}


def test_sign_in_needs_a_name_or_a_number(wire: Wire) -> None:
    nack, _ = wire.send(GATE, M.StaffSignin(name="  "))
    assert isinstance(nack, M.Nack) and nack.code == "E_SCHEMA"
    assert "name" in nack.reason and "staff number" in nack.reason and "工号" in nack.reason_zh


def test_the_welcome_carries_tasks_this_stations_roster_and_the_guest_list_version(wire: Wire) -> None:
    summary = wire.ingest.summary_for(GATE)
    assert [r["station"] for r in summary["roster"]] == ["gate-1"]
    assert len(summary["tasks"]) == 13 and summary["guests"] == {"digest": "", "count": 0}
    assert len(wire.ingest.summary_for(DESK)["roster"]) == 15


def test_the_desk_alerts_name_what_is_overdue(wire: Wire) -> None:
    from console.desk.widgets.view import View, alerts, seen
    before = View(fold.from_wire(fold.to_wire(wire.ingest.state)), wire.now, "zh")
    wire.now = wire.event.at_ms("08:30")
    wire.tick()
    after = View(wire.ingest.state, wire.now, "zh")
    texts = [a.text for a in alerts(seen(before), after)]
    assert "告警 必办项超时：服务方案定稿并下发各岗位" in texts
    assert "告警 岗位无人签到：东门岗" in texts
    english = [a.text for a in alerts(seen(View(before.state, wire.now, "en")), View(after.state, wire.now, "en"))]
    assert "Alarm — Post not signed in: East gate" in english
