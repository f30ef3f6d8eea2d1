"""One true picture in a rehearsal: the log runs on scenario time, the scorecard and the summary are one
fold of it and agree, the day's readiness follows the scenario, and a run stopped early misses nothing
that had not happened yet. Real hub subprocess, simulated posts and desk over the real wire."""
from __future__ import annotations

import threading

import pytest

from console.core import readiness
from console.core import state as fold
from console.hub.store import Store
from console.report import files as report_io
from protocols import eventtime
from scenarios.runner import Options, Rehearsal

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

MIN = 60_000


def drill(tmp_path, scenario: str, speed: float, stop_after_scn: int | None = None) -> Rehearsal:
    reh = Rehearsal(scenario, Options(dir=tmp_path / "ev", speed=speed, lang="en"))
    if stop_after_scn is not None:   # a person quits the rehearsal part-way (Ctrl-C, closing the desk)
        def stop_when_reached() -> None:
            while not reh.sched.stopped and reh.sched.now_ms() < stop_after_scn:
                reh.sched._stop.wait(0.01)
            reh.stop()
        threading.Thread(target=stop_when_reached, daemon=True).start()
    reh.run()
    return reh


def test_a_drill_runs_on_scenario_time_and_its_scorecard_is_its_summary(tmp_path):
    reh = drill(tmp_path, "fire_drill", speed=400)
    card, sc = reh.card, reh.run_.scenario
    summary, _, covered = report_io.read_summary(reh.folder, drill=True)
    assert covered is not None and covered["run"]["first_gseq"] == card["run"]["first_gseq"]
    # The log's time is the scenario's day: the fire (scripted 20 minutes in) at 10:20 on the event's clock.
    tz = eventtime.zone(sc.event.timezone)
    (fire,) = [i for i in summary.incidents if i["kind"] in ("fire", "smoke")][:1]
    assert eventtime.day_of(fire["opened_ms"], tz).isoformat() == sc.event.date
    assert abs(fire["opened_ms"] - sc.start_ms - 20 * MIN) < 2 * MIN
    # One fold: the scorecard's response times and step results are the summary's own.
    by_id = {i["id"]: i for i in summary.incidents}
    for inc in card["incidents"]:
        assert inc["ack_delay"] == by_id[inc["id"]]["ack_after_ms"]
        assert inc["resolve_delay"] == by_id[inc["id"]]["resolved_after_ms"]
        assert inc["opened_scn"] == by_id[inc["id"]]["opened_ms"] - sc.start_ms
    runs = {r["id"]: r for r in summary.plans}
    for run in card["plans"]["runs"]:
        assert [s["status"] for s in run["steps"]] == [s["result"] for s in runs[run["id"]]["steps"]]
    tally: dict[str, dict[str, int]] = {}
    for run in summary.plans:
        for st in run["steps"]:
            d = tally.setdefault(st["department"], {})
            d[st["result"]] = d.get(st["result"], 0) + 1
    for dept, row in card["plans"]["departments"].items():
        assert row["late"] == tally[dept].get("late", 0)
        assert row["on_time"] == tally[dept].get("early", 0) + tally[dept].get("on_time", 0)
    lots = {a["id"]: a for a in summary.lots}
    assert {k: v["peak"] for k, v in card["lots"].items()} == {k: v["peak"] for k, v in lots.items()}
    # The day was prepared before the clock started: at the scenario's start every blocking task is done.
    store = Store(reh.folder.db(drill=True), drill=True)
    try:
        state = fold.new_state(sc.event.summary())
        for row in store.since(0):
            fold.apply(state, row)
    finally:
        store.close()
    assert state.clock["start"] == sc.start_ms and state.clock["ms_per_s"] == 400_000
    board = readiness.board(state, sc.start_ms)
    assert board.go and not board.overdue
    assert not [a for a in state.alarms if a["code"] in ("task_overdue", "post_unstaffed")]


def test_a_drill_stopped_early_has_not_reached_what_came_later(tmp_path):
    # opening_day's lost child is scripted late in the day; stop at 40 minutes.
    reh = drill(tmp_path, "opening_day", speed=600, stop_after_scn=40 * MIN)
    card = reh.card
    assert card["run"]["complete"] is False
    statuses = {r["label_en"] or r["kind"]: r["status"] for r in card["expectations"]}
    later = [r for r in card["expectations"] if r["params"].get("ref") == "lost-child"]
    assert later and all(r["status"] == "not_reached" for r in later), statuses
    assert "not_reached" in card["summary"] and "missed" not in {r["status"] for r in later}
