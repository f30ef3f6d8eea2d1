"""The plans the security department and the weather ask for (issue 16), through the pure engine:
a post's report starts each one (a minor one only proposes it), and its orders reach the posts and
departments it names; the typhoon holds the gate until its all-clear."""
from __future__ import annotations

import pytest

from console.core import plans
from console.core import state as S
from protocols import codec
from protocols import messages as M
from tests.test_plans import LIB, S_, T0, Hub, instructions, kinds

# plan: (incident kind, reporting station, the least severity that starts it, posts' orders as (post, step),
#        departments owning steps the desk confirms)
NEW = {
    "public_order": ("security", "lobby-1", 2,
                     {("gate", "watch_exits"), ("parking", "watch_exits"), ("concierge", "guests_away"),
                      ("lobby", "guests_away"), ("model_unit", "guests_away")},
                     {"respond": "security", "cctv": "security", "police": "office", "record": "security"}),
    "gathering": ("gathering", "concierge-1", 3,
                  {("concierge", "entrance"), ("gate", "watch_arrivals"), ("parking", "watch_arrivals"),
                   ("lobby", "serve_as_usual"), ("model_unit", "serve_as_usual")},
                  {"report_up": "office", "meeting_room": "service", "reinforce": "security", "police": "office"}),
    "suspicious_person": ("suspicious_person", "model-1", 3,
                          {("gate", "watch"), ("parking", "watch"), ("concierge", "watch"),
                           ("lobby", "guard_items"), ("model_unit", "guard_items")},
                          {"approach": "security", "cctv": "security", "police": "office"}),
    "car_scrape": ("vehicle", "parking-1", 2,
                   {("parking", "scene"), ("gate", "gate_flow"), ("lobby", "find_owner")},
                   {"supervisor": "security", "settle": "security"}),
    "heat": ("heat", "gate-1", 3,
             {("gate", "outdoor_posts"), ("parking", "outdoor_posts"), ("concierge", "guests_cool"),
              ("lobby", "guests_cool"), ("model_unit", "model_unit_cool")},
             {"prep_water": "logistics", "prep_shade": "logistics", "aircon": "engineering"}),
    "thunderstorm": ("thunderstorm", "parking-1", 2,
                     {("gate", "outdoor_staff"), ("parking", "outdoor_staff"), ("concierge", "guests_inside"),
                      ("lobby", "guests_inside")},
                     {"prep_rain_kit": "logistics", "outdoor_power": "engineering", "outdoor_kit": "logistics"}),
    "typhoon": ("typhoon", "concierge-1", 3,
                {("gate", "gate_hold"), ("parking", "parking_safe"), ("concierge", "guests_inside"),
                 ("lobby", "guests_inside"), ("model_unit", "model_unit_close")},
                {"prep_secure": "logistics", "prep_building": "engineering", "grounds": "environment",
                 "outdoor_power": "engineering"}),
}


@pytest.mark.parametrize("plan_id", NEW)
def test_a_serious_report_starts_the_plan_and_each_post_hears_its_own_order(plan_id: str) -> None:
    kind, station, severity, orders, desk_steps = NEW[plan_id]
    hub = Hub()
    inc = hub(M.IncidentReport(kind=kind, severity=severity, location="现场"), station)
    decided = hub.settle(T0)
    started = decided[0]
    assert isinstance(started, M.PlanStarted) and (started.plan, started.cause, started.auto) == (
        plan_id, f"incident:{inc}", True)
    assert [m.plan for m in decided if isinstance(m, M.PlanStarted)] == [plan_id]   # no other plan joins in
    plan = LIB.get(plan_id)
    assert started.owner == plan.owner
    sent = instructions(decided)
    # The steps naming no post go to their department's terminal: the sample has one for each but the office.
    to_terminals = {(dept, step) for step, dept in desk_steps.items() if dept in M.DEPARTMENT_POSTS}
    assert to_terminals and {(o.target.removeprefix("post."), o.step) for o in sent} == orders | to_terminals
    for o in sent:
        assert o.ack_required and (o.plan, o.run) == (plan_id, hub.run(plan_id)["id"])
        assert o.text.startswith(f"【{plan.name}】") and o.text_en.startswith(f"[{plan.name_en}] ")
        assert o.gate == ("hold" if (plan_id, o.step) == ("typhoon", "gate_hold") else "")
        codec.build("instruction", o.as_body())   # what a station accepts
    # The steps naming no post are the departments' own, confirmed at their terminals or at the desk.
    assert {s.id: s.department for s in plan.steps if not s.posts} == desk_steps
    assert plans.evaluate(hub.state, LIB, T0 + 1) == []


@pytest.mark.parametrize("plan_id", NEW)
def test_a_minor_report_only_proposes_the_plan_and_the_desk_decides(plan_id: str) -> None:
    kind, station, severity, _, _ = NEW[plan_id]
    hub = Hub()
    inc = hub(M.IncidentReport(kind=kind, severity=severity - 1), station)
    (proposed,) = hub.settle(T0)
    assert isinstance(proposed, M.PlanProposed) and (proposed.plan, proposed.cause) == (plan_id, f"incident:{inc}")
    assert hub.state.plans["runs"] == {}
    # The desk dismisses it: the same report does not raise it again, a worse one reported later does.
    (prop_id,) = hub.state.plans["proposals"]
    hub(M.PlanStandDown(run=prop_id, note="现场已处理"), "desk-1", T0 + 10 * S_)
    assert hub.state.plans["proposals"][prop_id]["status"] == "dismissed"
    assert hub.settle(T0 + 20 * S_) == []
    worse = hub(M.IncidentReport(kind=kind, severity=4), station, T0 + 30 * S_)
    assert kinds(hub.settle(T0 + 30 * S_))[0] == "plan_started" and hub.run(plan_id)["cause"] == f"incident:{worse}"


def test_an_unconfirmed_typhoon_gate_hold_escalates_and_the_all_clear_resumes_the_gate() -> None:
    hub = Hub()
    hub(M.IncidentReport(kind="typhoon", severity=4, note="台风橙色预警"), "gate-1")
    hub.settle(T0)
    run = hub.run("typhoon")
    assert hub.settle(T0 + 120 * S_) == []
    escalated = hub.settle(T0 + 120 * S_ + 1)
    assert [(m.TYPE, m.step) for m in escalated] == [("plan_escalated", "gate_hold")]
    hub(M.PlanStep(run=run["id"], step="gate_hold"), "gate-1", T0 + 130 * S_)
    hub(M.PlanStandDown(run=run["id"], note="台风已过境"), "desk-1", T0 + 3600 * S_)
    clear = hub.settle(T0 + 3600 * S_)
    assert {m.target: m.gate for m in clear} == {"post.gate": "resume", "post.parking": "", "post.concierge": "",
                                                 "post.lobby": "", "post.model_unit": "",
                                                 # the department terminals given its steps
                                                 "post.logistics": "", "post.engineering": "",
                                                 "post.environment": ""}
    assert all(m.text.startswith("【大风/台风预案】大风/台风预案解除") for m in clear)


def test_a_fight_and_a_car_scrape_at_once_run_side_by_side() -> None:
    hub = Hub()
    hub(M.IncidentReport(kind="security", severity=3, location="停车场"), "parking-1")
    hub(M.IncidentReport(kind="vehicle", severity=2, location="停车场"), "parking-1")
    started = [m.plan for m in hub.settle(T0) if isinstance(m, M.PlanStarted)]
    assert sorted(started) == ["car_scrape", "public_order"]
    parking = {c["body"]["step"] for c in S.instructions_for(hub.state, "parking-1", "parking")}
    assert parking == {"watch_exits", "scene"}
