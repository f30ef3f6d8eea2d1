"""The words of the desk's plan checklist, its one-line summary and its alerts, without a screen."""
from __future__ import annotations

import copy

from console.core import plans
from console.core import state as S
from console.desk.widgets import plan_text
from console.desk.widgets.view import View, alerts, plan_alerts, seen
from console.hub.store import Row
from tests.desk_plans_fixture import LIBRARY, plan_fixture_state
from tests.desk_support import SUMMARY, T0


def test_the_main_line_counts_running_overdue_and_proposed():
    state = plan_fixture_state()
    text, cls = plan_text.indicator(state, T0, "en")
    assert cls == "-overdue"
    assert text.plain.startswith("⚑ 2 plans running · 2 steps overdue · 1 plan proposed — p opens the plans")
    assert text.plain.endswith("Medical emergency plan, Fire emergency plan, Parking full plan")
    zh, _ = plan_text.indicator(state, T0, "zh")
    assert zh.plain.startswith("⚑ 2 个预案执行中 · 2 个步骤超时 · 1 个预案建议启动 — 按 p 查看")
    assert plan_text.indicator(S.new_state(SUMMARY), T0, "en") == (plan_text.Text(""), "")


def test_step_cells_say_the_state_the_clock_and_who_literally():
    state = plan_fixture_state()
    fire = next(r for r in plans.view(state, T0) if r.plan == "fire")
    steps = {s.id: s for s in fire.steps}
    assert plan_text.status_cell(steps["alarm"], T0, "en").plain == "⚠ Overdue · 30s over"
    assert plan_text.status_cell(steps["alarm"], T0, "zh", short=True).plain == "⚠ 超时30秒"
    assert plan_text.status_cell(steps["guide_guests"], T0, "en").plain == "○ To do · 1m left"
    assert plan_text.status_cell(steps["gate_hold"], T0, "en").plain == "✓ Done"
    skipped = plan_text.by_cell(state, steps["parking_halt"], "en")
    assert skipped.plain.endswith("· 车场已无车辆进出 [b]ok[/b]")
    assert plan_text.by_cell(state, steps["gate_hold"], "zh", short=True).plain == "10:28 东门岗"
    assert plan_text.by_cell(state, steps["alarm"], "en").plain == ""
    medical = next(r for r in plans.view(state, T0) if r.plan == "medical")
    late = next(s for s in medical.steps if s.id == "call_120")
    assert plan_text.status_cell(late, T0, "en").plain == "✓ Done late"
    detail = plan_text.detail(state, fire, steps["parking_halt"], "en").plain
    assert "Posts: Parking" in detail and "0/2 acknowledged" in detail and "Reason: 车场已无车辆进出 [b]ok[/b]" in detail


def test_started_proposed_and_escalated_are_told_once():
    before = S.new_state({**SUMMARY, "plans": LIBRARY.summary()})
    state = plan_fixture_state()
    told = plan_alerts(seen(View(before, T0)), state, "en")
    texts = [a.text for a in told]
    assert texts[0].startswith("Plan started: Medical emergency plan (Incident #")
    assert any(t.startswith("Plan started: Fire emergency plan") for t in texts)
    assert sum("is overdue" in t for t in texts) == 3 and "Plan proposed: Parking full plan (Lot Surface lot at" \
        " capacity) — press p" in texts
    assert all(a.bell for a in told)              # auto starts, escalations (one done late since), proposals
    assert plan_alerts(seen(View(state, T0)), copy.deepcopy(state), "en") == []           # nothing new, nothing said
    later = copy.deepcopy(state)
    fire = plans.active_run(later, "fire")
    S.apply(later, Row(later.gseq + 1, "hub", "ep-hub", 999, "plan_escalated", T0, T0,
                       {"run": fire, "step": "guide_guests", "due_ms": T0}))
    (one,) = plan_alerts(seen(View(state, T0)), later, "zh")
    assert one.text == "预案“火情应急预案”的步骤“礼宾与大堂引导来宾经最近的安全出口疏散至集合点，禁止乘坐电梯”超时未完成"
    # The generic alarm line is not said as well: the escalation already was, with names.
    frames = alerts(seen(View(state, T0, "zh")), View(later, T0, "zh"))
    assert [a.text for a in frames] == [one.text]
