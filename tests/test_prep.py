"""Preparation run from the desk (issue 16 item 6), on a clock the test steps: due times as clock times on a date,
roster slots with an end, tasks and slots added, assigned, rescheduled, moved and ended by the desk (logged, folded,
replayed), the seed's order (plans submitted, merged, then the full rehearsal), refusals in both languages, and the
summary's preparation part against hand-counted values."""
from __future__ import annotations

import datetime as dt

import pytest

from console.core import prep, readiness
from console.core import state as fold
from console.core.event import EventFileError, parse
from console.hub.ingest import Ingest
from console.report import service_day
from protocols import messages as M
from tests.test_guests_handoff import DESK, GATE, LOBBY, Wire

MIN = 60_000
HOUR = 60 * MIN


@pytest.fixture
def wire(event_dir):
    w = Wire(event_dir, event_dir.load().doors_open_ms - 6 * HOUR)     # 03:30 on the day: nothing due yet
    yield w
    w.store.close()


def toml(event_dir) -> tuple:
    path = event_dir.root / "event.toml"
    return path, path.read_text(encoding="utf-8")


# --- 1. due times as clock times on a date; roster slots with an end -----------------------------------------

def test_a_due_time_is_a_clock_time_on_the_event_day_or_on_a_date(event_dir) -> None:
    path, text = toml(event_dir)
    event = event_dir.load()
    first = 'due = -4320'
    assert first in text
    on_day = parse(path, text.replace(first, 'due = "08:30"', 1))
    assert on_day.summary()["tasks"][0]["due_ms"] == event.at_ms("08:30")
    dated = parse(path, text.replace(first, 'due = "2026-12-12 07:05"', 1))
    assert dated.tasks[0].due_at == "2026-12-12 07:05"
    utc = dt.datetime(2026, 12, 11, 23, 5, tzinfo=dt.timezone.utc)       # 07:05 in Shanghai is 23:05 UTC the day before
    assert dated.summary()["tasks"][0]["due_ms"] == int(utc.timestamp() * 1000)
    # The old form (minutes from doors-open) still loads, as shipped.
    assert event.summary()["tasks"][0]["due_ms"] == event.doors_open_ms - 4320 * MIN
    for bad in ('"8.30"', '"2026-13-01 08:30"', '"25:00"', "true", "99999"):
        with pytest.raises(EventFileError, match=r"tasks\[0\]\.due"):
            parse(path, text.replace(first, f"due = {bad}", 1))


def test_a_must_do_task_due_after_the_doors_open_is_refused(event_dir) -> None:
    path, text = toml(event_dir)
    blocking = text.index("blocking = true")
    start = text.rindex("[[tasks]]", 0, blocking)
    due_line = next(line for line in text[start:blocking + 200].splitlines() if line.startswith("due ="))
    later = text[:start] + text[start:].replace(due_line, 'due = "23:00"', 1)
    with pytest.raises(EventFileError, match="blocks opening"):
        parse(path, later)
    earlier = text[:start] + text[start:].replace(due_line, 'due = "06:00"', 1)
    assert parse(path, earlier)


def test_a_roster_slot_has_an_end_and_the_board_shows_it_over(event_dir) -> None:
    path, text = toml(event_dir)
    line = 'from = "08:30"'
    assert line in text
    event = parse(path, text.replace(line, line + '\nto = "12:00"', 1))
    slot = event.summary()["roster"][0]
    assert (slot["to"], slot["to_ms"]) == ("12:00", event.at_ms("12:00"))
    with pytest.raises(EventFileError, match=r"roster\[0\]\.to"):
        parse(path, text.replace(line, line + '\nto = "08:00"', 1))
    state = fold.new_state(event.summary())   # the pure board over this event: no log needed
    station = slot["station"]
    status = {p.station: p.status for p in readiness.duty(state, event.at_ms("11:59"))}
    assert status[station] == "missing"
    assert {p.station: p.status for p in readiness.duty(state, event.at_ms("12:00"))}[station] == "over"


def test_no_unstaffed_alarm_for_a_slot_that_has_ended(wire: Wire) -> None:
    at = wire.event.at_ms
    ack, _ = wire.send(DESK, M.RosterAdd(station="lobby-1", name="赵敏", start_ms=at("05:00"), end_ms=at("05:10")))
    assert isinstance(ack, M.Ack)
    wire.now = at("05:20")                  # the hub was down through the whole slot: nothing to alarm now
    out = wire.tick()
    assert "lobby-1/赵敏" not in [r.body["ref"] for r in out.stored if r.type == "overdue"]


# --- 2. the desk runs preparation ------------------------------------------------------------------------------

def test_the_desk_adds_assigns_reschedules_and_signs_off_a_task(wire: Wire, event_dir) -> None:
    at = wire.event.at_ms
    ack, out = wire.send(DESK, M.TaskAdd(title="补充指示牌", department="logistics", due_ms=at("07:00"), blocking=True))
    assert isinstance(ack, M.Ack) and [r.type for r in out.stored] == ["task_add"]
    tid = f"T{ack.gseq}"
    state = wire.ingest.state
    view = next(v for v in readiness.tasks(state, wire.now) if v.id == tid)
    assert (view.department, view.title, view.due_ms, view.blocking, view.status) == (
        "logistics", "补充指示牌", at("07:00"), True, "open")
    assert tid in [v.id for v in readiness.board(state, wire.now).blocking_open]
    # Given to Environment and moved to 07:30; the change keeps what it was.
    ack, _ = wire.send(DESK, M.TaskChange(task=tid, department="environment", due_ms=at("07:30"), note="人手"))
    assert isinstance(ack, M.Ack)
    task = next(t for t in state.event["tasks"] if t["id"] == tid)
    assert (task["department"], task["due_ms"]) == ("environment", at("07:30"))
    assert [(c["department"], c["due_ms"], c["note"]) for c in task["changes"]] == [("logistics", at("07:00"), "人手")]
    # Its alarm falls due at the new time, once.
    wire.now = at("07:00")
    assert tid not in [r.body["ref"] for r in wire.tick().stored if r.type == "overdue"]
    wire.now = at("07:30")
    assert [r.body["ref"] for r in wire.tick().stored if r.type == "overdue" and r.body["ref"] == tid] == [tid]
    # Rescheduled again: a new due time may raise its alarm again.
    wire.send(DESK, M.TaskChange(task=tid, due_ms=at("08:00")))
    assert tid not in state.readiness["overdue"]
    # A terminal that connects now gets the plan as it stands in its welcome, without the history.
    welcomed = next(x for x in wire.ingest.summary_for(GATE)["tasks"] if x["id"] == tid)
    assert welcomed["department"] == "environment" and "changes" not in welcomed
    # A terminal signs it off like any task of event.toml.
    ack, _ = wire.send(GATE, M.TaskSignoff(task=tid))
    assert isinstance(ack, M.Ack)
    done = next(v for v in readiness.tasks(state, wire.now) if v.id == tid)
    assert done.status == "done" and done.by == "gate-1"
    # The log replays to the same plan, and a desk's snapshot carries it.
    again = Ingest(wire.store, event_dir.load())
    assert again.state == state and fold.from_wire(fold.to_wire(state)) == state


def test_the_desk_adds_moves_and_ends_a_roster_slot(wire: Wire, event_dir) -> None:
    at = wire.event.at_ms
    ack, _ = wire.send(DESK, M.RosterAdd(station="lobby-1", name="赵敏", staff_no="S301", start_ms=at("09:00"),
                                         end_ms=at("13:00")))
    assert isinstance(ack, M.Ack)
    state = wire.ingest.state
    slot = next(e for e in state.event["roster"] if e["key"] == "lobby-1/S301")
    assert (slot["from"], slot["to"], slot["name"]) == ("09:00", "13:00", "赵敏")
    ack, _ = wire.send(DESK, M.RosterChange(slot="lobby-1/S301", station="gate-2", start_ms=at("10:00")))
    assert isinstance(ack, M.Ack)
    assert (slot["station"], slot["from"], slot["to"]) == ("gate-2", "10:00", "13:00")
    assert [c["station"] for c in slot["changes"]] == ["lobby-1"]
    # The person signs in where the slot now is; the summary counts the slot there.
    wire.now = at("09:55")
    wire.send(station_peer("gate-2"), M.StaffSignin(staff_no="S301"))
    wire.now = at("11:00")
    ack, _ = wire.send(DESK, M.RosterChange(slot="lobby-1/S301", end_now=True))
    assert isinstance(ack, M.Ack) and (slot["to_ms"], slot["to"]) == (at("11:00"), "11:00")
    assert readiness.slot_over(slot, wire.now)
    again = Ingest(wire.store, event_dir.load())
    assert again.state == state


def station_peer(station: str):
    """A Peer like tests.test_guests_handoff's, for the station a slot moved to."""
    from console.hub.batch import Peer
    return Peer("station", station, "gate" if station.startswith("gate") else "lobby")


REFUSALS = [
    (M.TaskChange(task="nope", due_ms=1), "E_UNKNOWN", "指挥台找不到准备任务（nope）。", "The desk cannot find task nope."),
    (M.TaskChange(task="office-plan", due_ms=0), "E_SCHEMA", "“任务”填写有误：没有要改的内容",
     "The task is wrong: there is nothing to change."),
    (M.RosterAdd(station="nowhere", name="x", start_ms=1), "E_SCHEMA", "“终端”填写有误：本活动没有这个终端（nowhere）",
     "The station is wrong: this event has no such station (nowhere)."),
    (M.RosterAdd(station="gate-1", staff_no="S101", start_ms=1), "E_SCHEMA", "“姓名”填写有误：此人在该岗位已有排班",
     "The name is wrong: this person is already rostered at that station."),
    (M.RosterChange(slot="gate-1/S101", end_ms=5, start_ms=10), "E_SCHEMA", "“下岗时间”填写有误：下岗时间须晚于上岗时间",
     "The end is wrong: the end must come after the start."),
    (M.PrepStage(stage="merged", department="office"), "E_SCHEMA", "“方案进度”填写有误：该部门的方案尚未提交，不能合并",
     "The plan stage is wrong: that department has not submitted its plan, so it cannot be merged."),
]


@pytest.mark.parametrize("msg, code, zh, en", REFUSALS, ids=lambda x: getattr(x, "TYPE", None) or "")
def test_the_hub_refuses_what_the_plan_does_not_allow_in_both_languages(wire: Wire, msg, code, zh, en) -> None:
    nack, out = wire.send(DESK, msg)
    assert isinstance(nack, M.Nack) and out.stored == []
    assert (nack.code, nack.reason_zh, nack.reason) == (code, zh, en)


def test_a_must_do_task_due_after_the_doors_is_refused_and_a_station_may_not_add_one(wire: Wire) -> None:
    nack, _ = wire.send(DESK, M.TaskAdd(title="x", department="office", due_ms=wire.event.at_ms("10:00"), blocking=True))
    assert nack.code == "E_SCHEMA" and "开门" in nack.reason_zh
    nack, _ = wire.send(LOBBY, M.TaskAdd(title="x", department="office", due_ms=wire.now))
    assert nack.code == "E_FORBIDDEN"


# --- 3. the seed's order: plans submitted, merged by the office, then the full rehearsal --------------------------

def test_plans_are_submitted_then_merged_then_the_full_rehearsal(wire: Wire) -> None:
    state = wire.ingest.state
    departments = state.event["departments"]
    nack, _ = wire.send(DESK, M.PrepStage(stage="rehearsed"))
    assert nack.code == "E_SCHEMA" and nack.reason_zh.endswith(f"还有 {len(departments)} 个部门的方案未合并，合并后才能进行全员预演")
    for dept in departments:
        assert isinstance(wire.send(DESK, M.PrepStage(stage="submitted", department=dept))[0], M.Ack)
    assert prep.stages(state).submitted == len(departments) and prep.stages(state).merged == 0
    nack, _ = wire.send(DESK, M.PrepStage(stage="submitted", department="office"))
    assert nack.reason == "The plan stage is wrong: that is already recorded."
    for dept in departments:
        wire.send(DESK, M.PrepStage(stage="merged", department=dept))
    wire.now += HOUR
    ack, _ = wire.send(DESK, M.PrepStage(stage="rehearsed", note="彩排"))
    assert isinstance(ack, M.Ack)
    st = prep.stages(state)
    assert st.merged == len(departments) and st.rehearsed["ms"] == wire.now
    nack, _ = wire.send(DESK, M.PrepStage(stage="submitted"))              # a plan is a department's
    assert nack.code == "E_SCHEMA"


def test_the_summary_states_the_plan_stages_and_the_rehearsal(wire: Wire) -> None:
    for dept in ("office", "service", "security"):
        wire.send(DESK, M.PrepStage(stage="submitted", department=dept))
    wire.send(DESK, M.PrepStage(stage="merged", department="office"))
    f = service_day.figures(wire.ingest.state, {})["preparation"]
    # Hand-counted: six departments, three submitted, one merged, no rehearsal.
    assert (f["stages"]["submitted"], f["stages"]["merged"], f["stages"]["total"], f["stages"]["rehearsed_ms"]) == (
        3, 1, 6, 0)
    assert [r["stage"] for r in f["stages"]["departments"]] == [
        "merged", "submitted", "submitted", "none", "none", "none"]


@pytest.mark.parametrize("lang, first, rehearsal", [
    ("zh", "部门方案：已合并 6/6，已提交 6/6", "全员预演已完成（09:00:00）"),
    ("en", "Department plans: 6/6 merged, 6/6 submitted", "Full rehearsal done (09:00:00)")])
def test_the_summary_says_the_plans_are_merged_and_when_the_rehearsal_was(wire: Wire, lang, first, rehearsal) -> None:
    from console.report import text as rt
    state = wire.ingest.state
    for stage in ("submitted", "merged"):
        for dept in state.event["departments"]:
            wire.send(DESK, M.PrepStage(stage=stage, department=dept))
    wire.now = wire.event.at_ms("09:00")
    wire.send(DESK, M.PrepStage(stage="rehearsed"))
    st = service_day.figures(state, {})["preparation"]["stages"]
    lines = service_day.stage_lines(st, lang, lambda ms: rt.clock(ms, wire.event.tz))
    assert lines == [first, rehearsal]


@pytest.mark.parametrize("lang, added, stage", [("zh", "新增准备任务 补充指示牌 → 后勤", "方案进度 综合办公室 已提交"),
                                                ("en", "Task added 补充指示牌 → Logistics", "Plan stage General Office submitted")])
def test_the_timeline_says_what_the_desk_changed_in_words_never_an_id(wire: Wire, lang, added, stage) -> None:
    from console.desk.widgets import fmt
    state = wire.ingest.state
    body = {"title": "补充指示牌", "department": "logistics", "due_ms": wire.now, "blocking": False, "owner": ""}
    assert fmt.describe({"type": "task_add", "body": body}, state, lang).plain == added
    stage_body = {"stage": "submitted", "department": "office", "note": ""}
    assert fmt.describe({"type": "prep_stage", "body": stage_body}, state, lang).plain == stage
    slot = {"slot": "gate-1/S101", "station": "", "start_ms": 0, "end_ms": 0, "end_now": True}
    assert "gate-1/S101" not in fmt.describe({"type": "roster_change", "body": slot}, state, lang).plain


def test_the_summary_counts_a_slot_the_desk_added_against_its_sign_in(wire: Wire, event_dir) -> None:
    from console.report.summary import summarise
    at = wire.event.at_ms
    wire.send(DESK, M.RosterAdd(station="lobby-1", name="赵敏", start_ms=at("05:00"), end_ms=at("09:00")))
    wire.now = at("05:03")                                              # hand-counted: 3 minutes late
    wire.send(LOBBY, M.StaffSignin(name="赵敏"))
    s = summarise(wire.store.since(0), event_dir.load().summary(), wire.store.rejections())
    (slot,) = [x for x in s.extra["service_day"]["roster"]["slots"] if x["name"] == "赵敏"]
    assert (slot["station"], slot["from_ms"], slot["at_ms"], slot["result"]) == ("lobby-1", at("05:00"), at("05:03"),
                                                                                  "late")
