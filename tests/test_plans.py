"""The plan engine, pure: a manual clock, a log folded like the hub folds it, and the shipped library.

`Hub.settle` plays the hub's part: log whatever `plans.evaluate` decides as hub events, fold them,
and evaluate again until nothing is left, exactly as console.hub.ingest does after each commit.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import msgpack
import pytest

import console
from console.core import plan_library, plans
from console.core import state as S
from console.event import plan_files
from console.event.folder import parse
from console.hub.store import Row
from protocols import codec
from protocols import messages as M

SAMPLE = Path(console.__file__).parent / "event" / "sample_event.toml"
EVENT = parse(SAMPLE, SAMPLE.read_text("utf-8"))
LIB = plan_files.shipped(EVENT)
# Every station these tests make report is "heard"; most tests leave the silent-post plan out so
# that the clock can run for hours without it asking about them.
QUIET = plan_library.Library(tuple(p for p in LIB if p.id != "comms_loss"))
T0 = 1_796_437_800_000
S_ = 1000   # one second


class Hub:
    """A log with consecutive gseq folded into one state, and the engine run the way the hub runs it."""

    def __init__(self, library: plan_library.Library = QUIET) -> None:
        self.library = library
        self.state = S.new_state({**EVENT.summary(), "plans": library.summary()})
        self.rows: list[Row] = []

    def __call__(self, msg: M.Message, station: str = "gate-1", at: int = T0) -> int:
        gseq = len(self.rows) + 1
        row = Row(gseq, station, "ep-" + station, gseq, msg.TYPE, at, at, msg.as_body())
        self.rows.append(row)
        S.apply(self.state, row)
        return gseq

    def settle(self, now: int = T0, floor: int = 0) -> list[M.Message]:
        """Every decision until the engine has nothing more to say; each is logged as the hub's."""
        out: list[M.Message] = []
        for _ in range(10):
            decided = plans.evaluate(self.state, self.library, now, floor)
            if not decided:
                return out
            for msg in decided:
                self(msg, "hub", now)
            out += decided
        raise AssertionError("the engine keeps deciding: it does not see its own decisions")

    def run(self, plan: str) -> dict:
        (run,) = [r for r in self.state.plans["runs"].values() if r["plan"] == plan and r["stood_down"] is None]
        return run


@pytest.fixture
def hub() -> Hub:
    return Hub()


def kinds(msgs: list[M.Message]) -> list[str]:
    return [m.TYPE for m in msgs]


def instructions(msgs: list[M.Message]) -> list[M.Instruction]:
    return [m for m in msgs if isinstance(m, M.Instruction)]


# --- triggers ----------------------------------------------------------------------------------

def test_a_fire_report_starts_the_fire_plan_and_every_post_gets_its_instruction(hub: Hub) -> None:
    inc = hub(M.IncidentReport(kind="fire", severity=3, location="样板间"), "model-1")
    decided = hub.settle(T0)
    started = decided[0]
    assert isinstance(started, M.PlanStarted)
    assert (started.plan, started.cause, started.auto, started.owner) == ("fire", f"incident:{inc}", True, "security")
    assert [s["id"] for s in started.steps] == [s.id for s in LIB.get("fire").steps]
    run = hub.run("fire")
    orders = instructions(decided)
    assert {(o.target, o.step) for o in orders} == {
        ("post.gate", "gate_hold"), ("post.parking", "parking_halt"), ("post.concierge", "guide_guests"),
        ("post.lobby", "guide_guests"), ("post.model_unit", "model_unit_clear"), ("post.gate", "meet_fire_service"),
        # the sample's department terminals take their departments' steps (issue 16 item 3)
        ("post.engineering", "isolate_power"), ("post.service", "headcount"), ("post.security", "alarm")}
    for o in orders:
        assert o.ack_required and (o.plan, o.run) == ("fire", run["id"])
        assert o.text.startswith("【火情应急预案】") and o.text_en.startswith("[Fire emergency plan] ")
        codec.build("instruction", o.as_body())   # what a station accepts
    gate = next(o for o in orders if o.step == "gate_hold")
    assert "消防通道" in gate.text and "fire lane" in gate.text_en
    # Once logged, nothing more to decide: the engine sees its own decisions in the state.
    assert plans.evaluate(hub.state, LIB, T0 + 1) == []
    gate_row = next(r.gseq for r in hub.rows if r.type == "instruction" and r.body["step"] == "gate_hold")
    assert run["steps"]["gate_hold"]["sent"] == {"post.gate": gate_row}


def test_a_second_report_joins_the_running_plan_and_only_a_new_one_after_the_stand_down_restarts_it(hub: Hub) -> None:
    hub(M.IncidentReport(kind="fire", severity=2), "gate-1")
    hub.settle(T0)
    first = hub.run("fire")["id"]
    hub(M.IncidentReport(kind="fire", severity=4), "lobby-1", T0 + 5 * S_)   # the same fire, seen from the lobby
    assert kinds(hub.settle(T0 + 5 * S_)) == []
    hub(M.PlanStandDown(run=first, note="灭火完毕"), "desk-1", T0 + 600 * S_)
    # Both reports are still unresolved, but the run covered them: only the all-clear goes out.
    assert set(kinds(hub.settle(T0 + 600 * S_))) == {"instruction"}
    assert hub.state.plans["closed"]["fire"][1] == T0 + 600 * S_
    assert hub.settle(T0 + 9999 * S_) == []
    again = hub(M.IncidentReport(kind="fire", severity=2, location="车库"), "parking-2", T0 + 700 * S_)
    started = hub.settle(T0 + 700 * S_)[0]
    assert isinstance(started, M.PlanStarted) and started.cause == f"incident:{again}"


@pytest.mark.parametrize("kind,severity,expect", [
    ("smoke", 1, "plan_proposed"), ("smoke", 2, "plan_proposed"), ("smoke", 3, "plan_started"),
    ("fire", 1, "plan_started"), ("medical", 1, "plan_started"), ("lost_property", 1, "plan_proposed"),
    ("lost_property", 3, "plan_started"), ("crowding", 2, "plan_proposed"), ("crowding", 3, "plan_started"),
    ("vehicle", 1, "plan_proposed"), ("vehicle", 4, "plan_started"), ("other", 4, None),
])
def test_severity_and_the_plan_decide_between_start_and_proposal(hub: Hub, kind: str, severity: int,
                                                                  expect: str | None) -> None:
    hub(M.IncidentReport(kind=kind, severity=severity))
    decided = plans.evaluate(hub.state, LIB, T0)
    assert kinds(decided) == ([expect] if expect else [])


def test_a_resolved_incident_triggers_nothing(hub: Hub) -> None:
    inc = hub(M.IncidentOpen(kind="medical", severity=2, source="phone"), "desk-1")
    hub(M.IncidentUpdate(incident=inc, status="resolved", note="已无大碍"), "desk-1")
    assert plans.evaluate(hub.state, LIB, T0) == []
    hub(M.IncidentUpdate(incident=inc, status="in_progress", note="又不舒服了"), "desk-1")   # reopened
    assert kinds(plans.evaluate(hub.state, LIB, T0)) == ["plan_started"]


def test_a_full_lot_proposes_the_parking_plan_once_and_the_desk_starts_it(hub: Hub) -> None:
    hub(M.LotOccupancy(lot="p1", occupied=79), "parking-1")
    assert hub.settle(T0) == []
    hub(M.LotOccupancy(lot="p1", full=True), "parking-1")
    (proposed,) = hub.settle(T0)
    assert isinstance(proposed, M.PlanProposed)
    assert (proposed.plan, proposed.cause, proposed.name_en) == ("parking_full", "lot:p1", "Parking full plan")
    hub(M.LotOccupancy(lot="p2", full=True), "parking-2")
    assert hub.settle(T0 + S_) == []       # one proposal per plan at a time
    assert [p["plan"] for p in plans.proposals(hub.state)] == ["parking_full"]
    ask = hub(M.PlanStart(plan="parking_full", note="启用备用场地"), "desk-1", T0 + 20 * S_)
    decided = hub.settle(T0 + 20 * S_)
    started = decided[0]
    assert isinstance(started, M.PlanStarted)
    assert (started.auto, started.request, started.cause, started.note) == (False, ask, f"desk:{ask}", "启用备用场地")
    assert {o.target for o in instructions(decided)} == {"post.gate", "post.parking", "post.concierge",
                                                         "post.logistics"}   # its terminal: the logistics step
    prop = hub.state.plans["proposals"][next(iter(hub.state.plans["proposals"]))]
    assert (prop["status"], prop["run"]) == ("started", hub.run("parking_full")["id"])
    assert hub.state.plans["requests"][ask]["run"] == prop["run"]
    assert plans.proposals(hub.state) == []


def test_a_dismissed_threshold_proposal_comes_back_only_after_rearm_s(hub: Hub) -> None:
    hub(M.LotOccupancy(lot="p2", full=True), "parking-2")
    (proposed,) = hub.settle(T0)
    prop_id = len(hub.rows)
    hub(M.PlanStandDown(run=prop_id, note="地下车库还有临停位"), "desk-1", T0 + 10 * S_)
    assert hub.state.plans["proposals"][prop_id]["status"] == "dismissed"
    assert hub.settle(T0 + 10 * S_) == []          # no all-clear for a plan that never ran
    rearm = LIB.get("parking_full").rearm_s * S_
    assert hub.settle(T0 + 10 * S_ + rearm - 1) == []
    assert kinds(hub.settle(T0 + 10 * S_ + rearm)) == ["plan_proposed"]    # still full: ask again


def test_a_dismissed_proposal_does_not_come_back_once_the_lot_has_room(hub: Hub) -> None:
    hub(M.LotOccupancy(lot="p1", full=True), "parking-1")
    hub.settle(T0)
    hub(M.PlanStandDown(run=len(hub.rows)), "desk-1", T0 + S_)
    hub(M.LotOccupancy(lot="p1", delta=-5), "parking-1", T0 + 2 * S_)
    assert hub.settle(T0 + 3600 * S_) == []


@pytest.mark.parametrize("count,expect", [(39, []), (40, ["plan_proposed"]), (55, ["plan_proposed"])])
def test_a_zone_over_capacity_proposes_the_crowding_plan(hub: Hub, count: int, expect: list[str]) -> None:
    hub(M.ZoneCount(zone="model_unit", count=count), "model-1")
    decided = plans.evaluate(hub.state, LIB, T0)
    assert kinds(decided) == expect
    if decided:
        assert decided[0].cause == "zone:model_unit"


def test_a_post_silent_too_long_proposes_the_contact_plan_counting_from_the_hub_start() -> None:
    hub = Hub(LIB)
    hub(M.CarIn(), "gate-2", T0)
    after = LIB.get("comms_loss").triggers[0].after_s * S_
    assert plans.evaluate(hub.state, LIB, T0 + after - 1) == []
    (proposed,) = plans.evaluate(hub.state, LIB, T0 + after)
    assert proposed.cause == "silent:gate-2"   # never-heard stations are not "silent", they are not there yet
    # A hub that started late counts silence from its own start, not from the last logged report.
    assert plans.evaluate(hub.state, LIB, T0 + after, heard_floor_ms=T0 + 60 * S_) == []
    assert plans.evaluate(hub.state, LIB, T0 + after + 60 * S_, heard_floor_ms=T0 + 60 * S_) == [proposed]
    S.touch(hub.state, "gate-2", T0 + after)   # a heartbeat: heard again
    assert plans.evaluate(hub.state, LIB, T0 + after + 1) == []


# --- steps, escalation, stand-down -------------------------------------------------------------

def test_overdue_steps_escalate_once_and_settled_ones_never(hub: Hub) -> None:
    hub(M.IncidentReport(kind="fire", severity=3), "model-1")
    hub.settle(T0)
    run = hub.run("fire")
    hub(M.PlanStep(run=run["id"], step="gate_hold"), "gate-1", T0 + 30 * S_)
    assert hub.settle(T0 + 60 * S_) == []                        # due at 60 s: not yet overdue
    escalated = hub.settle(T0 + 60 * S_ + 1)
    assert [(m.TYPE, m.step, m.due_ms) for m in escalated] == [("plan_escalated", "alarm", T0 + 60 * S_)]
    assert hub.settle(T0 + 90 * S_) == []                        # once
    assert run["steps"]["alarm"]["escalated_ms"] == T0 + 60 * S_ + 1
    assert hub.state.alarms[-1]["code"] == "plan_overdue" and "alarm" in hub.state.alarms[-1]["reason"]
    later = hub.settle(T0 + 181 * S_)
    assert sorted(m.step for m in later) == ["guide_guests", "model_unit_clear", "parking_halt"]
    view = {s.id: s for s in plans.view(hub.state, T0 + 181 * S_)[0].steps}
    assert view["gate_hold"].status == "done" and not view["gate_hold"].late
    assert view["alarm"].status == "overdue" and view["isolate_power"].status == "pending"
    hub(M.PlanStep(run=run["id"], step="alarm"), "desk-1", T0 + 200 * S_)
    view = {s.id: s for s in plans.view(hub.state, T0 + 200 * S_)[0].steps}
    assert view["alarm"].status == "done" and view["alarm"].late and view["alarm"].by == "desk-1"
    assert run["escalations"] == [[T0 + 60 * S_ + 1, "alarm"]] + [[T0 + 181 * S_, s.step] for s in later]


def test_steps_are_confirmed_or_skipped_and_then_the_plan_may_stand_down(hub: Hub) -> None:
    hub(M.IncidentReport(kind="water_leak", severity=2, location="洗手间"), "lobby-1")
    hub.settle(T0)
    run = hub.run("water_leak")
    rv = plans.view(hub.state, T0)[0]
    assert not rv.may_stand_down and rv.next_due_ms == T0 + 180 * S_ and rv.overdue == 0
    step = run["steps"]["protect_area"]
    assert step["posts"] == ["lobby", "model_unit"]
    hub(M.PlanStep(run=run["id"], step="protect_area"), "model-1", T0 + 60 * S_)
    assert step["status"] == "pending"                     # one of its two posts has confirmed: not done yet
    hub(M.PlanStep(run=run["id"], step="protect_area"), "model-1", T0 + 65 * S_)   # again: the first stands
    hub(M.PlanStep(run=run["id"], step="protect_area"), "lobby-1", T0 + 70 * S_)
    assert (step["status"], step["by"], step["at_ms"]) == ("done", "lobby-1", T0 + 70 * S_)   # done when the last did
    assert step["confirmed"] == {"model_unit": {"by": "model-1", "ms": T0 + 60 * S_, "desk": False, "person": ""},
                                 "lobby": {"by": "lobby-1", "ms": T0 + 70 * S_, "desk": False, "person": ""}}
    hub(M.PlanStep(run=run["id"], step="shut_valve"), "desk-1", T0 + 90 * S_)
    hub(M.PlanStep(run=run["id"], step="dry_floor"), "desk-1", T0 + 95 * S_)
    assert not plans.may_stand_down(run)
    hub(M.PlanStep(run=run["id"], step="repair", status="skipped", reason="外包维修明天处理"), "desk-1", T0 + 99 * S_)
    assert run["steps"]["repair"]["reason"] == "外包维修明天处理"
    rv = plans.view(hub.state, T0 + 99 * S_)[0]
    assert rv.may_stand_down and rv.next_due_ms == 0
    assert [s.status for s in rv.steps] == ["done", "done", "done", "skipped"]
    assert [h[2] for h in run["history"]] == ["started", "done:protect_area", "done:protect_area", "done:protect_area", "done:shut_valve",
                                             "done:dry_floor", "skipped:repair"]


def test_a_skip_needs_a_reason() -> None:
    with pytest.raises(codec.ProtocolError) as err:
        codec.build("plan_step", {"run": 5, "step": "x", "status": "skipped", "reason": "  "})
    assert err.value.code == "E_SCHEMA" and err.value.params["problem_key"] == "problem.skip_reason"
    assert codec.build("plan_step", {"run": 5, "step": "x"}) == M.PlanStep(run=5, step="x", status="done")


def test_the_stand_down_sends_the_all_clear_to_every_post_instructed_once(hub: Hub) -> None:
    hub(M.IncidentReport(kind="water_leak", severity=2), "lobby-1")
    hub.settle(T0)
    run = hub.run("water_leak")
    step_orders = [(r.body["target"], r.body["step"]) for r in hub.rows if r.type == "instruction"]
    assert step_orders == [("post.engineering", "shut_valve"), ("post.lobby", "protect_area"),
                           ("post.model_unit", "protect_area"), ("post.environment", "dry_floor"),
                           ("post.engineering", "repair")]   # the sample's department terminals take theirs
    hub(M.PlanStandDown(run=run["id"], note="误报"), "desk-1", T0 + 30 * S_)   # early: the desk may, with a note
    assert run["stood_down"] == {"gseq": len(hub.rows), "ms": T0 + 30 * S_, "by": "desk-1", "note": "误报"}
    clear = hub.settle(T0 + 30 * S_)
    assert [(m.target, m.step, m.run) for m in clear] == [(target, "", run["id"]) for target in (
        "post.engineering", "post.environment", "post.lobby", "post.model_unit")]   # engineering once, not twice
    assert clear[0].text.startswith("【跑水应急预案】跑水预案解除") and "stood down" in clear[0].text_en
    assert hub.settle(T0 + 9000 * S_) == []        # no escalation after a stand-down, no second all-clear
    # A lobby terminal that was off all along gets the all-clear, not the orders of a plan already over.
    waiting = [c["gseq"] for c in S.instructions_for(hub.state, "lobby-1", "lobby")]
    assert waiting == [len(hub.rows) - 1]
    (welcome,) = S.instructions_for(hub.state, "lobby-1", "lobby")
    assert (welcome["body"]["plan"], welcome["body"]["run"], welcome["body"]["step"]) == ("water_leak", run["id"], "")
    assert dataclasses.asdict(M.Committed(**welcome)) == {**welcome, "cut": False}   # exactly the shape a welcome carries
    codec.build("instruction", welcome["body"])


def test_a_plan_holds_the_gate_by_the_explicit_field_and_its_all_clear_resumes_it(hub: Hub) -> None:
    hub(M.IncidentReport(kind="fire", severity=3), "lobby-1")
    orders = instructions(hub.settle(T0))
    gates = {(o.target, o.step): o.gate for o in orders}
    assert gates[("post.gate", "gate_hold")] == "hold"
    assert gates[("post.gate", "meet_fire_service")] == "" and gates[("post.lobby", "guide_guests")] == ""
    hub(M.PlanStandDown(run=hub.run("fire")["id"], note="扑灭"), "desk-1", T0 + 60 * S_)
    clear = {m.target: m.gate for m in hub.settle(T0 + 60 * S_)}
    assert clear["post.gate"] == "resume" and set(clear.values()) == {"resume", ""}
    hub(M.IncidentReport(kind="water_leak", severity=2), "lobby-1", T0 + 70 * S_)
    hub.settle(T0 + 70 * S_)
    hub(M.PlanStandDown(run=hub.run("water_leak")["id"]), "desk-1", T0 + 80 * S_)
    assert {m.gate for m in hub.settle(T0 + 80 * S_)} == {""}       # a plan that never held the gate says nothing


def test_a_returning_post_gets_the_open_orders_of_active_plans(hub: Hub) -> None:
    hub(M.IncidentReport(kind="lost_child", severity=3, note="穿红衣服的男孩，5岁"), "concierge-1")
    hub.settle(T0)
    run = hub.run("lost_child")
    open_for_model = S.instructions_for(hub.state, "model-1", "model_unit")
    assert [(c["body"]["plan"], c["body"]["step"]) for c in open_for_model] == [("lost_child", "search")]
    assert open_for_model[0]["body"]["text_en"].startswith("[Lost child plan]")
    hub(M.InstructionAck(instruction=open_for_model[0]["gseq"]), "model-1", T0 + 5 * S_)
    assert S.instructions_for(hub.state, "model-1", "model_unit") == []
    assert [c["body"]["step"] for c in S.instructions_for(hub.state, "gate-2", "gate")] == ["watch_exits"]
    steps = plans.steps_for_post(hub.state, "gate", T0 + 61 * S_)
    assert [(r.id, s.id, s.status) for r, s in steps] == [(run["id"], "watch_exits", "overdue")]
    view = plans.view(hub.state, T0)[0]
    (search,) = [s for s in view.steps if s.id == "search"]
    acked = {target: who for target, _, who in search.sent}
    assert acked == {"post.concierge": (), "post.lobby": (), "post.model_unit": ("model-1",)}


def test_two_plans_run_at_once_a_flood_and_the_power_cut_it_causes(hub: Hub) -> None:
    hub(M.IncidentReport(kind="flooding", severity=3, location="地下车库"), "parking-2", T0)
    hub.settle(T0)
    hub(M.IncidentOpen(kind="power_outage", severity=3, location="地下车库", source="phone"), "desk-1", T0 + 120 * S_)
    hub.settle(T0 + 120 * S_)
    flood, power = hub.run("flooding"), hub.run("power_outage")
    assert flood["id"] < power["id"] and power["started_ms"] == T0 + 120 * S_
    assert [r.plan for r in plans.view(hub.state, T0 + 120 * S_)] == ["flooding", "power_outage"]
    parking = plans.steps_for_post(hub.state, "parking", T0 + 121 * S_)
    # Both due at 300 s from the flood's start (the power cut's 180 s step began 120 s later): the older run first.
    assert [(r.plan, s.id) for r, s in parking] == [("flooding", "garage_closed"), ("power_outage", "barriers_by_hand")]
    # Each run keeps its own clock: at 301 s the flood's 300 s steps are overdue, and the power
    # cut's steps due 120 s and 180 s after its own start; its 300 s lift check is not.
    late = hub.settle(T0 + 301 * S_)
    assert {(m.run, m.step) for m in late} == \
        {(flood["id"], s) for s in ("pumps", "garage_closed", "gate_warn", "umbrellas")} | \
        {(power["id"], s) for s in ("standby_power", "reassure_guests", "model_unit_hold", "barriers_by_hand")}
    hub(M.PlanStandDown(run=flood["id"], note="积水已退"), "desk-1", T0 + 400 * S_)
    clear = hub.settle(T0 + 400 * S_)
    assert {m.run for m in clear} == {flood["id"]} and all(m.step == "" for m in clear)
    assert [r.plan for r in plans.view(hub.state, T0 + 400 * S_, closed=0)] == ["power_outage"]
    assert plans.active_run(hub.state, "power_outage") == power["id"] and plans.active_run(hub.state, "flooding") == 0
    assert [(m.run, m.step) for m in hub.settle(T0 + 1921 * S_)] == [(power["id"], "lift_check"),
                                                                    (power["id"], "restore_check")]


def test_the_desk_starts_any_plan_by_hand_once_per_request(hub: Hub) -> None:
    a = hub(M.PlanStart(plan="medical", note="电话报：二楼有人晕倒"), "desk-1")
    b = hub(M.PlanStart(plan="medical", note="double press"), "desk-2")   # in the same batch, before the run
    decided = hub.settle(T0)
    started = [m for m in decided if isinstance(m, M.PlanStarted)]
    assert [(m.plan, m.request, m.auto) for m in started] == [("medical", a, False)]
    assert hub.state.plans["requests"][a]["run"] == hub.run("medical")["id"]
    assert hub.state.plans["requests"][b]["run"] == 0
    assert hub.settle(T0 + 1) == []                        # the second is overtaken by the run, not started
    hub(M.PlanStart(plan="no_such_plan"), "desk-1")
    assert hub.settle(T0 + 2) == []                        # not in the library (the hub refuses it anyway)


def test_a_plan_without_triggers_runs_only_by_hand_and_a_step_without_posts_sends_nothing() -> None:
    lib = plan_library.Library((plan_library.Plan(
        "drill", "消防演练", "Fire drill", "security",
        # office: a department without a terminal in the sample (security has one, and would get the step)
        (plan_library.Step("bell", "office", 30, "拉响警铃", "Ring the bell"),)),))
    hub = Hub(lib)
    hub(M.IncidentReport(kind="fire", severity=4))
    assert hub.settle(T0) == []
    hub(M.PlanStart(plan="drill"), "desk-1")
    assert kinds(hub.settle(T0)) == ["plan_started"]
    assert kinds(hub.settle(T0 + 31 * S_)) == ["plan_escalated"]


# --- the log is the history ----------------------------------------------------------------------

def _busy(hub: Hub) -> None:
    hub(M.IncidentReport(kind="flooding", severity=3), "parking-2", T0)
    hub(M.LotOccupancy(lot="p1", full=True), "parking-1", T0)
    hub.settle(T0)
    flood = hub.run("flooding")
    hub(M.PlanStep(run=flood["id"], step="garage_closed"), "parking-2", T0 + 50 * S_)
    hub.settle(T0 + 400 * S_)
    hub(M.PlanStart(plan="parking_full"), "desk-1", T0 + 401 * S_)
    hub.settle(T0 + 401 * S_)
    hub(M.PlanStandDown(run=flood["id"], note="退水"), "desk-1", T0 + 500 * S_)
    hub.settle(T0 + 500 * S_)


def test_a_replay_of_the_log_gives_the_same_plan_history() -> None:
    hub = Hub()
    _busy(hub)
    replayed = S.new_state({**EVENT.summary(), "plans": hub.library.summary()})
    for row in hub.rows:
        S.apply(replayed, row)
    assert S.to_wire(replayed) == S.to_wire(hub.state)
    assert replayed.unresolved == hub.state.unresolved
    # ... and the engine has nothing to add: the history is complete.
    assert plans.evaluate(replayed, QUIET, T0 + 500 * S_) == []
    runs = S.to_wire(replayed)["plans"]["runs"]
    assert [(r["plan"], r["stood_down"] is not None) for r in runs] == [("flooding", True), ("parking_full", False)]


def test_a_snapshot_carries_the_plans_and_continues_identically() -> None:
    hub = Hub()
    _busy(hub)
    wire = msgpack.unpackb(msgpack.packb(S.to_wire(hub.state)))
    copy = S.from_wire(wire)
    assert copy == hub.state and copy.unresolved == hub.state.unresolved
    assert S.to_wire(copy)["plans"] == wire["plans"]
    later = T0 + 2000 * S_
    assert plans.evaluate(copy, LIB, later) == plans.evaluate(hub.state, LIB, later) != []


def test_an_old_snapshot_without_plans_still_loads() -> None:
    wire = S.to_wire(S.new_state(EVENT.summary()))
    del wire["plans"]
    assert S.from_wire(wire).plans == {"requests": {}, "proposals": {}, "runs": {}, "closed": {}}


def test_plan_events_for_unknown_runs_are_ignored_not_faults(hub: Hub) -> None:
    hub(M.PlanStep(run=999, step="x"), "desk-1")
    hub(M.PlanStandDown(run=999), "desk-1")
    hub(M.PlanEscalated(run=999, step="x"), "hub")
    hub(M.Instruction(target="all", text="x", run=999, step="x"), "desk-1")
    assert hub.state.totals["faults"] == 0 and hub.state.plans["runs"] == {}


@pytest.mark.wire
def test_the_engine_is_pure() -> None:
    import subprocess
    import sys
    code = ("import sys, console.core.plans, console.core.plan_library; bad = {'zmq', 'sqlite3', 'sqlite_utils', 'textual',"
            " 'console.hub.store', 'console.hub.server', 'console.hub.ingest'} & set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
