"""Station clocks: the hub estimates each station's offset from its hellos and heartbeats, logs it, and
every surface places and measures that station's reports on corrected times (issue 13, item 5)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.core import state as S
from console.core.clock_skew import STEP_MS, Skew
from console.desk.widgets import fmt
from console.hub.server import run_in_thread
from console.hub.store import Row
from console.report import files as report_io
from console.report.text import offset as offset_text
from stations.link.client import StationClient
from tests.test_state import SUMMARY, T0
from tests.wire import wait_for

MIN = 60_000


def test_the_estimate_is_the_smallest_sample_and_is_logged_when_it_moves() -> None:
    skew = Skew()
    assert skew.estimate("gate-1") is None and skew.to_log() == []
    for delay in (40, 3, 250, 12):                  # delays vary; the clock is 10 min slow throughout
        skew.sample("gate-1", T0 + 10 * MIN + delay, T0)
    assert skew.estimate("gate-1") == 10 * MIN + 3
    (logged,) = skew.to_log()
    assert (logged.station, logged.offset_ms) == ("gate-1", 10 * MIN + 3) and logged.delay_ms > 0
    skew.sample("gate-1", T0 + 10 * MIN + STEP_MS - 10, T0 + STEP_MS)   # a better sample, under a step
    assert skew.to_log() == []
    skew.sample("gate-1", T0 + 1, T0)              # far off (the clock was set right): logged again
    assert [c.offset_ms for c in skew.to_log("gate-1")] == [1]
    skew.sample("lobby-1", T0, 0)                  # no sent_ms: says nothing about the clock
    assert skew.estimate("lobby-1") is None


def test_a_restarted_hub_does_not_log_a_known_offset_again() -> None:
    skew = Skew()
    skew.known("gate-1", -4_000)
    skew.sample("gate-1", T0, T0 + 4_200)
    assert skew.to_log() == [] and skew.to_log("gate-1") == []
    skew.sample("model-1", T0, T0)
    assert [c.station for c in skew.to_log("gate-1")] == [] and [c.station for c in skew.to_log()] == ["model-1"]


def row(gseq: int, station: str, type_: str, sent: int, recv: int, body: dict) -> Row:
    return Row(gseq, station, "ep", gseq, type_, sent, recv, body)


def test_reports_are_placed_at_their_corrected_save_time_and_never_after_arrival() -> None:
    s = S.new_state(SUMMARY)
    S.apply(s, row(1, "hub", "station_clock", T0, T0, {"station": "model-1", "offset_ms": 10 * MIN, "delay_ms": 2}))
    assert s.stations["model-1"]["offset_ms"] == 10 * MIN
    S.apply(s, row(2, "gate-1", "car_in", T0 + 2 * MIN, T0 + 2 * MIN, {"plate": "", "vip": False, "count": 1}))
    # Saved offline at T0 + 1 min by its own (slow) clock's reckoning, delivered at T0 + 5 min.
    S.apply(s, row(3, "model-1", "zone_count", T0 - 9 * MIN, T0 + 5 * MIN, {"zone": "model_unit", "count": 7}))
    # Its clock also runs ahead of arrival sometimes (a bad estimate): never placed after it arrived.
    S.apply(s, row(4, "model-1", "note", T0 + 3 * MIN, T0 + 6 * MIN, {"text": "x"}))
    assert [(r["gseq"], r["recv_ms"]) for r in s.recent][1:] == [(3, T0 + MIN), (2, T0 + 2 * MIN), (4, T0 + 6 * MIN)]
    assert s.recent[1]["late_ms"] == 4 * MIN and "late_ms" not in s.recent[2] and "late_ms" not in s.recent[3]
    assert s.zones["model_unit"]["updated_ms"] == T0 + MIN   # rules see when it happened
    told = fmt.describe(s.recent[0], s, "zh-CN").plain     # the timeline's line for the estimate
    assert "样板间" in told and "慢 10分钟" in told and "model-1" not in told
    assert "10 min slow" in fmt.describe(s.recent[0], s, "en").plain


@pytest.fixture
def hub(event_dir):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def start(folder, hub, sid: str, outbox: Path, clock=time.time) -> StationClient:
    return StationClient(sid, outbox, folder.station_key(sid), folder.console_public, hub.endpoint, hub.feed,
                         clock=clock).start()


@pytest.mark.timeout(60)
@pytest.mark.wire
def test_a_post_whose_clock_is_ten_minutes_slow_is_shown_and_its_reports_are_not_late(event_dir, hub, tmp_path):
    slow = start(event_dir, hub, "concierge-1", tmp_path / "concierge.db", clock=lambda: time.time() - 600)
    try:
        for n in range(5):
            done = slow.wait_delivered(slow.submit("guest_arrival", {"count": 1, "note": f"#{n}"}).seq, 10)
            assert done.state == "delivered", done.reason
    finally:
        slow.close()
    st = hub.hub.ingest.state.stations["concierge-1"]
    assert abs(st["offset_ms"] - 600_000) < 2_000
    assert fmt.clock_off(st, "zh-CN") and "慢" in fmt.clock_off(st, "zh-CN")
    assert "slow" in fmt.clock_off(st, "en")
    placed = [r for r in hub.hub.ingest.state.recent if r["station"] == "concierge-1"]
    assert len(placed) == 5 and all("late_ms" not in r for r in placed)
    hub.stop()
    summary = report_io.read_summary(event_dir)[0]
    d = summary.delays["stations"]["concierge-1"]
    assert d["reports"] == 5 and d["late"] == 0 and d["mean_ms"] < 2_000
    assert abs(d["clock_offset_ms"] - 600_000) < 2_000
    assert "慢" in offset_text(d["clock_offset_ms"], "zh-CN")


@pytest.mark.timeout(60)
@pytest.mark.wire
def test_reports_saved_offline_are_placed_when_they_were_saved(event_dir, hub, tmp_path):
    """The model unit saves two reports while it cannot reach the hub; the gate reports meanwhile. When
    the model unit is back, its reports sit before the gate's on the timeline, marked as late arrivals."""
    model_db = tmp_path / "model.db"
    model = start(event_dir, hub, "model-1", model_db)
    model.wait_delivered(model.submit("note", {"text": "开门"}).seq, 10)
    wait_for(lambda: "offset_ms" in hub.hub.ingest.state.stations["model-1"], 10, "the model unit's clock known")
    model.close()
    offline = StationClient("model-1", model_db, event_dir.station_key("model-1"), event_dir.console_public,
                            hub.endpoint, hub.feed, clock=lambda: time.time() - 180)   # saved 3 min ago
    saved = [offline.submit("zone_count", {"zone": "model_unit", "count": n}).seq for n in (3, 4)]
    offline.close()
    gate = start(event_dir, hub, "gate-1", tmp_path / "gate.db")
    try:
        gate.wait_delivered(gate.submit("car_in", {"plate": "湘A·1"}).seq, 10)
        back = start(event_dir, hub, "model-1", model_db)
        try:
            assert back.wait_delivered(saved[-1], 10).state == "delivered"
        finally:
            back.close()
    finally:
        gate.close()
    order = [(r["station"], r["type"]) for r in hub.hub.ingest.state.recent if r["type"] in ("zone_count", "car_in")]
    assert order == [("model-1", "zone_count"), ("model-1", "zone_count"), ("gate-1", "car_in")]
    late = [r["late_ms"] for r in hub.hub.ingest.state.recent if r["type"] == "zone_count"]
    assert all(170_000 < ms < 200_000 for ms in late)
