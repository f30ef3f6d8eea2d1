"""The summary's figures from a hand-written log (tests/report_fixture.py), checked one by one against hand counts."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.hub.store import Store
from console.report import text as rt
from console.report.summary import summarise
from tests.report_fixture import EVENTS, NOTE_DESK, T0, S, summary_dict, write_log


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    path = write_log(tmp_path_factory.mktemp("log") / "event.db")
    store = Store(path)
    try:
        # Streamed straight from the store, as console.report.files does.
        return summarise(store.since(0), summary_dict(), store.rejections())
    finally:
        store.close()


def at(s: int) -> int:
    return T0 + s * S


def test_the_log_span(summary):
    assert (summary.events, summary.first_gseq, summary.last_gseq) == (26, 1, 26)
    assert (summary.first_ms, summary.last_ms) == (at(0), at(630))
    assert summary.by_type["lot_occupancy"] == 4 and summary.by_type["station_status"] == 2
    assert summary.faults == 0 and summary.drill is False


def test_guests_at_a_glance(summary):
    # 3 + 2 arrive (the 2 are VIP A), 4 leave at 250 s; the peak of 5 is first reached at 30 s.
    assert summary.guests == {"arrivals": 5, "departures": 4, "checked_in": 0, "vip": 2, "on_site_end": 1,
                              "peak": 5, "peak_ms": at(30)}


def test_cars_at_a_glance(summary):
    assert summary.cars == {"in": 3, "out": 0, "vip": 0, "on_site_end": 3, "peak": 3, "peak_ms": at(80)}


def test_lots_peaks_and_full_spells(summary):
    p1, p2 = summary.lots
    assert (p1["id"], p1["capacity"], p1["peak"], p1["peak_ms"], p1["end"]) == ("p1", 10, 10, at(65), 7)
    # p1 full from 65 s (9 + 1) until the -3 at 190 s; the 2 cars at 80 s came in meanwhile.
    assert p1["spells"] == [{"from_ms": at(65), "to_ms": at(190), "cars_in": 2, "peak": 10, "open": False}]
    # p2 is full from 70 s to the end of the log: an open spell.
    assert p2["spells"] == [{"from_ms": at(70), "to_ms": at(630), "cars_in": 2, "peak": 5, "open": True}]
    # Every lot full: from p2 filling (70 s) to p1 freeing spaces (190 s), 2 cars admitted.
    assert summary.extra["all_lots_full"] == [{"from_ms": at(70), "to_ms": at(190), "cars_in": 2, "peak": 15,
                                               "open": False}]


def test_zones_peaks_and_over_capacity(summary):
    lobby, model = summary.zones
    assert (lobby["peak"], lobby["peak_ms"], lobby["spells"]) == (6, at(120), [])
    assert (model["peak"], model["capacity"], model["peak_ms"]) == (5, 4, at(125))
    assert model["spells"] == [{"from_ms": at(125), "to_ms": at(200), "cars_in": 0, "peak": 5, "open": False}]


def test_per_minute_series(summary):
    v = summary.series["values"]
    assert summary.series["start_ms"] == T0 and summary.series["step_ms"] == 60_000
    assert v["arrivals"] == [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert v["departures"] == [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]
    # Levels keep each minute's highest value: minute 4 starts at 5 and drops to 1.
    assert v["headcount"] == [5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1]
    assert v["cars_in"] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert v["cars_on_site"] == [1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    assert v["lot.p1"] == [9, 10, 10, 10, 7, 7, 7, 7, 7, 7, 7]
    assert v["lot.p2"] == [0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    assert v["zone.model"] == [0, 0, 5, 5, 2, 2, 2, 2, 2, 2, 2]


def test_incidents_by_kind_and_severity(summary):
    assert summary.incident_table == {"fire": {"4": 1}, "medical": {"3": 1}}


def test_each_incident_with_its_timeline_and_response_times(summary):
    medical, fire = summary.incidents
    assert (medical["id"], medical["ack_after_ms"], medical["resolved_after_ms"]) == (10, 20 * S, 470 * S)
    assert (medical["department"], medical["handlers"], medical["status"]) == ("service", ["desk-1"], "resolved")
    assert [h[:3] for h in medical["history"]] == [[at(130), "conc-1", "opened"], [at(150), "desk-1", "acknowledged"],
                                                   [at(160), "desk-1", "assign:service"], [at(600), "desk-1", "resolved"]]
    assert (fire["id"], fire["ack_after_ms"], fire["resolved_after_ms"], fire["status"]) == \
        (17, 180 * S, None, "acknowledged")


def test_plan_steps_on_time_or_late(summary):
    (run,) = summary.plans
    assert (run["id"], run["plan"], run["started_ms"], run["stood_down_ms"], run["escalations"]) == \
        (18, "fire", at(305), None, 1)
    got = {st["id"]: (st["department"], st["due_after_ms"], st["took_ms"], st["result"], st["by"])
           for st in run["steps"]}
    assert got == {"s1": ("security", 60 * S, 15 * S, "early", "gate-1"),
                   "s2": ("service", 120 * S, 95 * S, "on_time", "lobby-1"),
                   "s3": ("engineering", 60 * S, None, "overdue", "")}


def _keys(summary, dept: str, side: str) -> list[str]:
    return [f["key"] for f in summary.departments[dept][side]]


def test_highlights_and_shortcomings_per_department(summary):
    d = summary.departments
    assert list(d) == ["office", "service", "security", "engineering", "environment", "logistics"]
    assert _keys(summary, "security", "highlights") == ["steps_all_on_time", "stations_steady", "step_early"]
    assert _keys(summary, "security", "shortcomings") == ["cars_in_while_full"]
    assert d["security"]["shortcomings"][0]["params"]["n"] == 2
    assert _keys(summary, "service", "highlights") == ["steps_all_on_time", "resolved", "stations_steady"]
    assert _keys(summary, "service", "shortcomings") == ["station_offline", "zone_over"]
    offline = d["service"]["shortcomings"][0]["params"]
    assert (offline["from_at"], offline["to_at"], offline["off_for"]) == (at(120), at(400), 280 * S)
    assert _keys(summary, "engineering", "shortcomings") == ["step_overdue"]
    assert _keys(summary, "office", "highlights") == ["ack_fast"]
    assert _keys(summary, "office", "shortcomings") == ["ack_slow", "unresolved"]
    assert d["environment"] == {"highlights": [], "shortcomings": [], "notes": []}
    assert [n["text"] for n in d["logistics"]["notes"]] == [NOTE_DESK]
    assert [n["text"] for n in summary.notes] == [NOTE_DESK, "general remark"]


def test_findings_read_in_both_languages(summary):
    f = summary.departments["service"]["shortcomings"][0]
    # T0 is 10:00 UTC, 18:00 on the event's clock (the default zone, Asia/Shanghai), whatever the machine's zone.
    assert rt.finding(f, "en", summary.tz) == ("Station Lobby post (Lobby) was offline for 4 min 40 s, "
                                               "18:02:00 to 18:06:40.")
    assert rt.finding(f, "zh", summary.tz) == "终端 大堂岗（大堂）在 18:02:00 至 18:06:40 离线 4 分 40 秒。"
    early = summary.departments["security"]["highlights"][2]
    assert rt.finding(early, "en", summary.tz) == "Plan \"Fire plan\" #18, step \"Close the car entrance\" done early: 15 s against a target of 1 min 00 s."


def test_station_uptime(summary):
    by = {st["id"]: st for st in summary.stations}
    lobby = by["lobby-1"]
    # First heard at 120 s; silent from then (the hub's offline mark carries last_heard 120 s) until its
    # report at 400 s: 280 s down of 510 s.
    assert (lobby["first_ms"], lobby["span_ms"], lobby["down_ms"], lobby["uptime"]) == (at(120), 510 * S, 280 * S, 0.451)
    assert lobby["offline"] == [{"from_ms": at(120), "to_ms": at(400), "open": False}]
    assert (by["gate-1"]["uptime"], by["gate-1"]["reports"], by["gate-1"]["first_ms"]) == (1.0, 5, at(0))


def test_reports_delivered_late(summary):
    d = summary.delays
    # 22 reports from stations and the desk (the hub's 4 have no station clock); 7 s and 200 s are over 5 s.
    assert (d["reports"], d["late"], d["late_ms"]) == (22, 2, 5000)
    assert d["buckets"] == [20, 0, 1, 1, 0]
    assert d["stations"]["lobby-1"] == {"reports": 2, "late": 1, "mean_ms": 100_050, "max_ms": 200_000, "clock_ahead": 0,
                                          "clock_offset_ms": None}   # never estimated: no control message here
    assert d["stations"]["conc-1"] == {"reports": 3, "late": 0, "mean_ms": 66, "max_ms": 100, "clock_ahead": 1,
                                         "clock_offset_ms": None}
    assert [(w["gseq"], w["delay_ms"]) for w in d["worst"]] == [(20, 200_000), (14, 7000)]


def test_rejections_and_sequence_continuity(summary):
    r = summary.rejections
    assert r["total"] == 2 and list(r["by_code"]) == ["E_FORBIDDEN", "E_SCHEMA"]
    assert r["by_station"] == {"gate-1": 1, "mu-1": 1}
    c = summary.continuity
    assert c["duplicates_known"] is False
    # gate-1 stored 1, 2, 4, 5, 7 and had 3 refused: 6 is a gap.
    assert c["stations"]["gate-1"] == {"epochs": 1, "stored": 5, "refused": 1, "gaps": 1, "conflicts": 0}
    assert c["stations"]["mu-1"] == {"epochs": 1, "stored": 2, "refused": 1, "gaps": 0, "conflicts": 0}
    assert (c["gaps"], c["conflicts"]) == (1, 0)


def test_events_folded_twice_count_once(tmp_path):
    path = write_log(tmp_path / "event.db")
    store = Store(path)
    try:
        rows = list(store.since(0))
    finally:
        store.close()
    twice = summarise(rows + rows[:10], summary_dict())
    once = summarise(rows, summary_dict())
    assert twice.events == once.events == len(EVENTS) and twice.guests == once.guests


def test_an_empty_log_is_a_summary_of_nothing():
    s = summarise([], summary_dict())
    assert s.events == 0 and s.series["values"]["arrivals"] == [] and s.incidents == []
    assert all(not box["highlights"] and not box["shortcomings"] for box in s.departments.values())


@pytest.mark.wire
def test_the_pure_modules_load_no_database_screen_or_plotting():
    code = ("import sys\nimport console.report.summary, console.report.doc, console.report.render, console.report.drill\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'sqlite3', 'sqlite_utils', 'zmq', 'matplotlib'))\nprint(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_the_hubs_own_outage_is_nobodys_downtime():
    """A station marked offline across a hub crash is charged only for the time the hub was up."""
    from console.hub.store import Row

    rows = [(T0, "mu-1", "zone_enter", {"zone": "model_unit", "count": 1}),
            (T0 + 20 * S, "hub", "station_status", {"station": "mu-1", "status": "offline", "last_heard_ms": T0}),
            (T0 + 30 * S, "hub", "hub_started", {"previous": "crash", "down_from_ms": T0 + 5 * S}),
            (T0 + 40 * S, "mu-1", "zone_enter", {"zone": "model_unit", "count": 1}),
            (T0 + 100 * S, "gate-1", "car_in", {"count": 1})]
    s = summarise([Row(g, st, "e", g, ty, ms, ms, body) for g, (ms, st, ty, body) in enumerate(rows, 1)],
                  summary_dict())
    (mu,) = [x for x in s.stations if x["id"] == "mu-1"]
    assert [(x["from_ms"] - T0, x["to_ms"] - T0) for x in mu["offline"]] == [(0, 5 * S), (30 * S, 40 * S)]
    assert mu["span_ms"] == 100 * S - 25 * S and mu["down_ms"] == 15 * S and mu["uptime"] == round(1 - 15 / 75, 4)
    assert s.extra["hub_outages"] == [{"from_ms": T0 + 5 * S, "to_ms": T0 + 30 * S, "crash": True}]
