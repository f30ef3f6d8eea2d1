"""The rehearsal's service-half expectations (issue 16 item 8): VIP hand-off acknowledged, its alarm, plans at once,
a post's report order -- each judged on hand-made facts, met and missed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios import expectations as X
from scenarios import loader
from scenarios.loader import ScenarioError
from scenarios.model import Expect
from scenarios.scorecard import Facts, report_order

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"


def judge(kind: str, **params):
    spec = X.KINDS[kind]
    full = {k: params.get(k, d if d is not ... else None) for k, (_, d) in spec.params.items()}
    return lambda f: X.judge(Expect(kind, full, "", "", 0), f)


def handoff(guest: str, link: str, sent: int, ack_after: int | None, alarm: int | None = None) -> dict:
    return {"guest": guest, "link": link, "sent_scn": sent, "ack_after": ack_after, "alarm_scn": alarm, "due": 120_000}


def with_handoffs(*items: dict) -> Facts:
    f = Facts(60.0, {}, {})
    f.handoffs = list(items)
    return f


def test_handoff_acked_judges_every_link_and_each_guest() -> None:
    quick = [handoff("V-01", "parking", 60_000, 20_000), handoff("V-01", "lobby", 60_000, 45_000)]
    slow = handoff("D-01", "lobby", 600_000, 150_000)
    acked = judge("handoff_acked", within=60_000)
    r = acked(with_handoffs(*quick))
    assert (r.status, r.measured, r.params) == ("met", 45_000, {"missing": 0, "n": 2})
    assert acked(with_handoffs(*quick, slow)).status == "missed"
    assert judge("handoff_acked", guest="V-01", within=60_000)(with_handoffs(*quick, slow)).status == "met"
    assert judge("handoff_acked", link="parking", within=30_000)(with_handoffs(*quick)).status == "met"
    assert acked(with_handoffs(handoff("V-01", "host", 0, None))).detail == "never"
    assert acked(with_handoffs()).status == "not_reached"            # no VIP arrived: nobody missed it


def test_handoff_alarm_raised_when_a_link_does_not_acknowledge() -> None:
    alarm = judge("handoff_alarm_raised", due=120_000, within=30_000)
    silent = handoff("V-01", "lobby", 60_000, None, alarm=60_000 + 120_000 + 10_000)
    late = handoff("V-01", "parking", 60_000, 200_000, alarm=60_000 + 120_000 + 40_000)
    r = alarm(with_handoffs(silent))
    assert (r.status, r.measured) == ("met", 10_000)
    assert alarm(with_handoffs(silent, late)).status == "missed"                    # 40 s after the deadline
    assert alarm(with_handoffs(handoff("V-01", "lobby", 0, None))).detail == "never"   # no alarm at all
    assert alarm(with_handoffs(handoff("V-01", "lobby", 0, 30_000))).status == "not_reached"   # all in time
    # Without `due`, each notice's own deadline (the event's vip_ack_s) counts.
    assert judge("handoff_alarm_raised", within=30_000)(with_handoffs(silent)).measured == 10_000


def run(rid: int, plan: str, start: int, down: int | None) -> dict:
    return {"id": rid, "plan": plan, "started_scn": start, "stood_down_scn": down}


def with_runs(*runs: dict, enabled: bool = True) -> Facts:
    return Facts(60.0, {}, {}, plans=list(runs), plans_enabled=enabled)


def test_plans_concurrent_counts_the_runs_active_at_once() -> None:
    fire, power, rain = run(1, "fire", 0, 600_000), run(2, "power_cut", 300_000, None), run(3, "rainstorm", 600_000, None)
    two = judge("plans_concurrent", at_least=2)
    r = two(with_runs(fire, power, rain))
    assert (r.status, r.measured, r.limit) == ("met", 2, 2)            # fire and power, then power and rain
    assert judge("plans_concurrent", at_least=3)(with_runs(fire, power, rain)).status == "missed"
    # A stand-down and a start at the same instant do not overlap.
    assert two(with_runs(fire, rain)).status == "missed" and two(with_runs(fire, rain)).detail == "apart"
    named = judge("plans_concurrent", plan="fire", other="rainstorm")
    assert named(with_runs(fire, power, rain)).status == "missed"      # fire was stood down as the rain began
    assert judge("plans_concurrent", plan="fire", other="power_cut")(with_runs(fire, power, rain)).status == "met"
    assert two(with_runs()).status == "not_reached"
    assert two(with_runs(fire, power, enabled=False)).status == "pending"


@dataclass
class Row:
    gseq: int
    station: str
    epoch: str
    seq: int
    station_ms: int


def test_report_order_per_station_and_outbox_run() -> None:
    rows = [Row(1, "gate-1", "e1", 1, 1000), Row(2, "hub", "h", 1, 0), Row(3, "gate-1", "e1", 2, 2000),
            Row(4, "lobby-1", "e1", 1, 5000), Row(5, "lobby-1", "e1", 2, 4000),     # its clock stepped back
            Row(6, "gate-1", "e2", 1, 500), Row(7, "desk-1", "d", 1, 0)]          # a new outbox starts again
    order = report_order(rows, "desk-1")
    assert order == {"gate-1": {"reports": 3, "out_of_order": 0, "first_gseq": 0},
                     "lobby-1": {"reports": 2, "out_of_order": 1, "first_gseq": 5}}
    facts = Facts(60.0, {}, {}, report_order=order)
    r = judge("report_order", station="gate-1")(facts)
    assert (r.status, r.measured, r.detail) == ("met", 0, "in_order")
    r = judge("report_order", station="lobby-1")(facts)
    assert (r.status, r.measured, r.detail) == ("missed", 1, "out_of_order")
    assert judge("report_order", station="gate-2")(facts).status == "missed"


def test_opening_day_drills_the_delegations_hand_off() -> None:
    sc = loader.load(SHIPPED / "opening_day.toml")
    (guest,) = sc.guests
    assert (guest["ref"], guest["level"], guest["party"], guest["host"]) == ("D-01", "A", 12, "周婷")
    delegation = next(tr for tr in sc.traffic if tr.kind == "delegation")
    assert delegation.params["ref"] == "D-01"                       # its arrival names the listed guest
    assert any(e.kind == "handoff_acked" and e.params["guest"] == "D-01" for e in sc.expects)


def test_the_loader_checks_the_new_kinds_parameters(tmp_path) -> None:
    text = (SHIPPED / "vip_visit.toml").read_text("utf-8") + '\n[[expect]]\nkind = "report_order"\nstation = "{st}"\n'
    path = tmp_path / "drill.toml"
    path.write_text(text.replace("{st}", "gate-1"), "utf-8")
    assert loader.load(path).expects[-1].params == {"station": "gate-1"}
    path.write_text(text.replace("{st}", "gate-9"), "utf-8")
    with pytest.raises(ScenarioError) as info:
        loader.load(path)
    assert "not a station" in info.value.reason


def test_a_scenario_sets_a_terminals_clock_off_and_the_loader_checks_it(tmp_path) -> None:
    sc = loader.load(SHIPPED / "vip_visit.toml")
    assert sc.clock_offsets == {"gate-1": 45_000}
    text = (SHIPPED / "vip_visit.toml").read_text("utf-8")
    path = tmp_path / "drill.toml"
    for bad, says in (('{ "gate-9" = 45 }', "not a station"), ('{ "gate-1" = "fast" }', "number of seconds"),
                      ('{ "gate-1" = 90000 }', "within a day")):
        path.write_text(text.replace('{ "gate-1" = 45 }', bad), "utf-8")
        with pytest.raises(ScenarioError) as info:
            loader.load(path)
        assert info.value.key == "stations.clock_offset_s" and says in info.value.reason, info.value.reason
    path.write_text(text.replace('{ "gate-1" = 45 }', '{ "gate-1" = -2.5 }'), "utf-8")
    assert loader.load(path).clock_offsets == {"gate-1": -2_500}


def test_the_scorecard_shows_each_clock_set_against_the_estimate() -> None:
    from scenarios.render import clock_lines
    from scenarios.scorecard import clocks
    # The summary's offsets are the hub's clock minus the station's (a clock ahead is negative there).
    got = clocks({"gate-1": 45_000}, {"gate-1": {"clock_offset_ms": -44_800}, "lobby-1": {"clock_offset_ms": None}, "model-1": {"clock_offset_ms": 300},
                                      "parking-1": {"clock_offset_ms": 6_000}})
    assert got == {"gate-1": {"set_ms": 45_000, "estimated_ms": 44_800},
                   "parking-1": {"set_ms": 0, "estimated_ms": -6_000}}
    card = {"clocks": got, "event": {"stations": [{"id": "gate-1", "name": "东门岗", "name_en": "East gate"},
                                                  {"id": "parking-1", "name": "停车场岗", "name_en": "Lot post"}]}}
    zh, en = "\n".join(clock_lines(card, "zh")), "\n".join(clock_lines(card, "en"))
    assert "| 东门岗 | 快 45 秒 | 快 45 秒 |" in zh and "| 停车场岗 | 准确 | 慢 6 秒 |" in zh
    assert "| East gate | 45 s fast | 45 s fast |" in en
    assert clock_lines({"clocks": {}}, "zh") == []


def test_late_plan_steps_are_named_by_what_they_say_never_by_their_ids() -> None:
    from console.report.card_text import detail
    steps = [{"id": "protect_area", "do": "用沙袋围挡地库入口", "do_en": "Sandbag the car park entrance",
              "department": "engineering", "due_ms": 60_000, "settled_after": 90_000, "status": "done"},
             {"id": "call_crew", "do": "通知工程值班", "do_en": "Call the engineering crew",
              "department": "engineering", "due_ms": 60_000, "settled_after": 30_000, "status": "done"}]
    facts = with_runs({**run(1, "flooding", 0, None), "steps": steps})
    r = judge("plan_steps_on_time", plan="flooding")(facts)
    assert (r.status, r.measured, r.limit, r.detail) == ("missed", 1, 2, "steps_late")
    row = {"detail": r.detail, "detail_params": r.params}
    zh, en = detail({}, row, "zh"), detail({}, row, "en")
    assert "用沙袋围挡地库入口" in zh and "protect" not in zh and "call_crew" not in zh and "通知工程值班" not in zh
    assert "Sandbag the car park entrance" in en and "protect_area" not in en


def test_an_expectation_without_a_label_of_its_own_names_its_plan_and_kind_in_words() -> None:
    from console.report.card_text import fix_text, label
    from scenarios.scorecard import fixes
    r = {"kind": "plan_active", "label": "", "label_en": "", "params": {"plan": "fire", "within": 120_000},
         "names": {"plan": ["火灾", "Fire"]}, "status": "missed"}
    assert label(r, "zh").startswith("火灾") and "fire" not in label(r, "zh") and label(r, "en").startswith("Fire")
    card = {"expectations": [r], "plans": {"departments": {}}, "incidents": [], "log": {"rejected": 0}}
    (fix,) = fixes(card)
    zh = fix_text(fix, "zh")
    assert "火灾" in zh and "plan_active" not in zh and "fire" not in zh, zh
