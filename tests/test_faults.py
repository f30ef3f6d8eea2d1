"""RELIABILITY.md's fault table, CI-sized: real subprocesses, real signals, a real TCP proxy.

The hub runs as `python -m console.cli hub DIR`, each station as tests/fault_station.py with
its own SQLite outbox. The nemesis is SIGKILL, SIGSTOP/SIGCONT and tests/tcp_proxy.py. After
the faults stop and links heal, faultkit.Cluster.check reads every outbox (the oracle: what
was committed there) and the log, and asserts the invariants. Figures are printed: run with
`pytest -s` (or -rA) to see them.
"""
from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from console.core import state as fold
from console.event.folder import EventFolder
from console.hub.store import Row
from tests.faultkit import TESTS, Cluster
from tests.tcp_proxy import Proxy
from tests.wire import Client, Feed, desk_pair, log_rows, server_key, set_hub_options, station_pair, wait_for

# Fault loops with real subprocesses and signals: the slow part of the suite (`-m "not slow"` leaves it out).
pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]

FIVE = ["gate-1", "gate-2", "parking-1", "concierge-1", "lobby-1"]


@pytest.fixture
def cluster(folder: EventFolder, tmp_path: Path):
    c = Cluster(folder, tmp_path / "logs")
    try:
        yield c
    finally:
        c.cleanup()


def show(title: str, **figures) -> None:
    print(f"\n[{title}] " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)


def status_of(desk: Client, sid: str) -> str:
    return desk.snapshot().state["stations"][sid]["status"]


# --- hub kill loop ---------------------------------------------------------------------------------

def test_hub_kill_loop(cluster):
    """5 stations × 1,000 reports; SIGKILL the hub every ~2 s and restart it until the outboxes drain."""
    rng = random.Random(1)
    counts = {sid: 1000 for sid in FIVE}
    cluster.start_hub()
    started = time.monotonic()
    for sid in FIVE:
        cluster.start_station(sid, 1000, rate=100)     # ~10 s of saving, so the kills land mid-stream
    deadline = started + 90
    last_restart = started
    while time.monotonic() < deadline:
        next_kill = time.monotonic() + rng.uniform(1.5, 2.5)
        while time.monotonic() < next_kill and not cluster.drained(counts):
            time.sleep(0.05)
        if cluster.drained(counts):
            break
        cluster.kill_hub()
        cluster.start_hub()
        last_restart = time.monotonic()
    wait_for(lambda: cluster.drained(counts), 30, "the outboxes to drain after the last restart", interval=0.1)
    drained_at = time.monotonic()
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)
    assert cluster.hub_kills >= 3, "the hub was not killed often enough to mean anything"
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 5000
    show("hub kill loop", sent=figures["saved"], acked=figures["acked"], in_log=figures["in_log"],
         hub_kills=cluster.hub_kills, duplicates_absorbed_by_last_hub=stats["duplicates"],
         total_s=round(drained_at - started, 1), drain_after_last_restart_s=round(drained_at - last_restart, 1))


# --- station kill loop -----------------------------------------------------------------------------

def test_station_kill_loop(cluster):
    """Same load; SIGKILL stations at random and restart them from their outboxes."""
    rng = random.Random(2)
    counts = {sid: 1000 for sid in FIVE}
    cluster.start_hub()
    started = time.monotonic()
    for sid in FIVE:
        cluster.start_station(sid, 1000, rate=150)
    deadline = started + 90
    last_kill = started
    while time.monotonic() < deadline and not cluster.drained(counts):
        time.sleep(rng.uniform(0.2, 0.8))
        sid = rng.choice(FIVE)
        if cluster.drained({sid: 1000}):
            continue
        cluster.signal_station(sid, signal.SIGKILL)
        last_kill = time.monotonic()
        time.sleep(rng.uniform(0.0, 0.3))
        cluster.start_station(sid, 1000, rate=150)
    wait_for(lambda: cluster.drained(counts), 30, "the outboxes to drain", interval=0.1)
    drained_at = time.monotonic()
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)        # includes: no seq ever reused for another body
    assert cluster.station_kills >= 5, "the stations were not killed often enough to mean anything"
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 5000
    assert stats["stored"] >= 5000 and stats["dropped"] == 0
    show("station kill loop", sent=figures["saved"], acked=figures["acked"], in_log=figures["in_log"],
         station_kills=cluster.station_kills, duplicates_absorbed_by_hub=stats["duplicates"],
         total_s=round(drained_at - started, 1), drain_after_last_kill_s=round(drained_at - last_kill, 1))


# --- crash points ------------------------------------------------------------------------------------

def _crash_hub(cluster, point: str, k: int) -> list[str]:
    return [sys.executable, str(TESTS / "crash_hub.py"), str(cluster.folder.root), point, str(k)]


@pytest.mark.parametrize("point", ["before-commit", "before-ack"])
def test_hub_crash_point(cluster, point):
    """The hub dies at an exact point of its K-th batch (tests/crash_hub.py); exactly once holds."""
    counts = {"gate-1": 300, "parking-1": 300}
    cluster.start_hub(_crash_hub(cluster, point, 5))
    for sid in counts:
        cluster.start_station(sid, 300)
    wait_for(lambda: cluster.hub.popen.poll() is not None, 30, f"the hub to reach crash point {point}")
    assert cluster.hub.popen.returncode == -signal.SIGKILL
    assert f"crash point: {point}" in cluster.hub.out.read_text()
    time.sleep(0.3)   # let any acks already on the wire land
    committed_unacked = sum(cluster.in_log_not_delivered(sid) for sid in counts)
    in_log_at_crash = len(log_rows(cluster.folder.db(), "station != 'hub'"))
    if point == "before-ack":
        # The batch is in the log, and none of its acks left: those reports wait in the outboxes.
        assert committed_unacked > 0
    else:
        # The batch never committed: SQLite rolled it back. (Acks of *earlier* batches may still
        # have been in the killed process's send queue, so "in the log, not acked" can be > 0.)
        first = int(re.search(r"first-gseq (\d+)", cluster.hub.out.read_text()).group(1))
        top = max((r[0] for r in log_rows(cluster.folder.db())), default=0)
        assert top < first, f"rows of the batch killed before its COMMIT survived (gseq {top} >= {first})"
    cluster.start_hub()
    wait_for(lambda: cluster.drained(counts), 30, "the outboxes to drain", interval=0.1)
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 600
    assert stats["duplicates"] >= committed_unacked
    show(f"crash point hub {point}", sent=figures["saved"], acked=figures["acked"], in_log=figures["in_log"],
         in_log_at_crash=in_log_at_crash, committed_but_unacked_at_crash=committed_unacked,
         duplicates_absorbed_after_restart=stats["duplicates"])


def test_station_crash_after_ack_before_outbox_update(cluster):
    counts = {"gate-1": 300}
    cluster.start_hub()
    cluster.start_station("gate-1", 300, crash_on_ack=4)
    station = cluster.stations["gate-1"]
    wait_for(lambda: station.popen.poll() is not None, 30, "the station to reach its crash point")
    assert station.popen.returncode == -signal.SIGKILL
    acked_not_recorded = cluster.in_log_not_delivered("gate-1")
    assert acked_not_recorded > 0, "the crash point was passed with nothing acked and unrecorded"
    cluster.start_station("gate-1", 300)
    wait_for(lambda: cluster.drained(counts), 30, "the outbox to drain", interval=0.1)
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 300
    assert stats["duplicates"] >= acked_not_recorded
    show("crash point station after-ack-before-outbox", sent=figures["saved"], in_log=figures["in_log"],
         acked_but_unrecorded_at_crash=acked_not_recorded, duplicates_absorbed=stats["duplicates"])


def test_hub_killed_at_random_points(cluster):
    """Many SIGKILLs at uniformly random moments of a busy stream: each lands inside a transaction,
    between commit and ack, or between batches, in proportion to the time each takes. Before each
    kill the stations have reconnected and moved on, so every kill is a fresh sample; the count of
    'in the log, not yet acked' reports right after it shows how often the commit-to-ack window was hit."""
    rng = random.Random(3)
    sids = ["gate-1", "gate-2", "concierge-1"]
    counts = {sid: 1500 for sid in sids}
    cluster.start_hub()
    for sid in sids:
        cluster.start_station(sid, 1500, rate=100)
    hits: list[int] = []
    delivered = lambda: sum(cluster.delivered(sid) for sid in sids)  # noqa: E731
    while len(hits) < 12 and not cluster.drained(counts):
        at_restart = delivered()
        wait_for(lambda: delivered() >= at_restart + 30 or cluster.drained(counts), 15,
                 "the stations to reconnect and deliver again", interval=0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        cluster.kill_hub()
        time.sleep(0.2)   # acks already on the wire land; after that nothing can change the log
        hits.append(sum(cluster.in_log_not_delivered(sid) for sid in sids))
        cluster.start_hub()
    wait_for(lambda: cluster.drained(counts), 30, "the outboxes to drain", interval=0.1)
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)
    assert len(hits) >= 6, "the stream ended before enough kills"
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 4500
    show("hub killed at random points", sent=figures["saved"], in_log=figures["in_log"], kills=len(hits),
         kills_that_left_committed_unacked_reports=sum(1 for h in hits if h),
         committed_unacked_per_kill=hits, duplicates_absorbed_by_last_hub=stats["duplicates"])


# --- station pause ----------------------------------------------------------------------------------

def test_station_pause_shows_late_then_offline_then_back(folder, cluster, ctx):
    set_hub_options(folder, late_s=2.0, offline_s=5.0)
    counts = {"gate-1": 400}
    cluster.start_hub()
    cluster.start_station("gate-1", 400, rate=25)
    desk = Client(ctx, cluster.folder.read_runtime()["endpoint"], server_key(folder), desk_pair(folder, "desk-1"),
                  station="desk-1")
    wait_for(lambda: status_of(desk, "gate-1") == "online" and cluster.delivered("gate-1") >= 20, 15,
             "gate-1 online with reports delivered", interval=0.1)
    cluster.signal_station("gate-1", signal.SIGSTOP)
    stopped = time.monotonic()
    seen: dict[str, float] = {}
    while time.monotonic() - stopped < 10:
        status = status_of(desk, "gate-1")
        seen.setdefault(status, time.monotonic() - stopped)
        time.sleep(0.1)
    cluster.signal_station("gate-1", signal.SIGCONT)
    resumed = time.monotonic()
    wait_for(lambda: status_of(desk, "gate-1") == "online", 10, "gate-1 online again", interval=0.1)
    back_after = time.monotonic() - resumed
    wait_for(lambda: cluster.waiting("gate-1") == 0, 15, "gate-1 to deliver its backlog", interval=0.05)
    caught_up = time.monotonic() - resumed
    wait_for(lambda: cluster.drained(counts), 30, "the outbox to drain", interval=0.1)
    # Late after late_s, offline after offline_s of silence: the last frame came at most a heartbeat
    # before the stop, and the hub logs a change on its next one-second tick (+0.5 s for our polling).
    assert "late" in seen and 2.0 - 1.0 <= seen["late"] <= 2.0 + 1.0 + 1.0 + 0.5, seen
    assert "offline" in seen and 5.0 - 1.0 <= seen["offline"] <= 5.0 + 1.0 + 1.0 + 0.5, seen
    assert seen["online"] < seen["late"] < seen["offline"], seen
    assert back_after < 8, back_after
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check(counts)
    assert figures["saved"] == figures["acked"] == figures["in_log"] == 400
    show("station pause 10 s", late_after_s=round(seen["late"], 1), offline_after_s=round(seen["offline"], 1),
         online_again_after_s=round(back_after, 1), backlog_delivered_after_resume_s=round(caught_up, 1),
         sent=figures["saved"], in_log=figures["in_log"], duplicates_absorbed=stats["duplicates"])


# --- partition ----------------------------------------------------------------------------------------

def test_partition_blackhole_30s_then_heal(folder, cluster, ctx):
    set_hub_options(folder, late_s=2.0, offline_s=5.0)
    cluster.start_hub()
    hub_ep = cluster.folder.read_runtime()["endpoint"]
    host, port = hub_ep.removeprefix("tcp://").rsplit(":", 1)
    proxy = Proxy((host, int(port))).start()
    try:
        counts = {"gate-2": 600, "gate-1": 300}
        cluster.start_station("gate-2", 600, rate=20, endpoint=proxy.endpoint)   # ~30 s of saving
        cluster.start_station("gate-1", 300, rate=10)                             # direct: unaffected
        desk = Client(ctx, hub_ep, server_key(folder), desk_pair(folder, "desk-1"), station="desk-1")
        wait_for(lambda: status_of(desk, "gate-2") == "online" and cluster.delivered("gate-2") >= 20, 15,
                 "gate-2 online through the proxy", interval=0.1)
        proxy.blackhole()
        cut = time.monotonic()
        samples, seen = [], {}
        while (t := time.monotonic() - cut) < 30:
            samples.append((t, cluster.waiting("gate-2")))
            seen.setdefault(status_of(desk, "gate-2"), time.monotonic() - cut)
            assert cluster.waiting("gate-1") < 30, "the partition of one link slowed another station"
            time.sleep(0.5)
        proxy.heal()
        healed = time.monotonic()
        wait_for(lambda: cluster.drained({"gate-2": 600}), 30, "gate-2 to drain after the heal", interval=0.1)
        drain = time.monotonic() - healed
        wait_for(lambda: status_of(desk, "gate-2") == "online", 10, "gate-2 online again", interval=0.1)
        wait_for(lambda: cluster.drained(counts), 30, "every outbox to drain", interval=0.1)
        # Waiting grows through the partition; the desk saw the station go late, then offline.
        waiting = [next(n for t, n in samples if t >= mark) for mark in (5, 15, 25)]
        assert waiting[0] < waiting[1] < waiting[2], samples
        assert "late" in seen and "offline" in seen, seen
        assert seen["late"] <= 2.0 + 2.5 and seen["late"] < seen["offline"] <= 5.0 + 2.5, seen
        cluster.stop_stations()
        stats = cluster.stop_hub()
        figures = cluster.check(counts)
        assert figures["saved"] == figures["acked"] == figures["in_log"] == 900
        show("partition 30 s", waiting_at_5_15_25_s=tuple(waiting), peak_waiting=max(n for _, n in samples),
             late_after_s=round(seen["late"], 1),
             offline_after_s=round(seen["offline"], 1), drain_after_heal_s=round(drain, 1),
             proxy_connections=proxy.accepted, sent=figures["saved"], in_log=figures["in_log"],
             duplicates_absorbed=stats["duplicates"])
    finally:
        proxy.close()


# --- restart rebuild ---------------------------------------------------------------------------------

PRESENCE_ONLY = ("last_heard_ms", "outbox")


def _comparable(wire: dict) -> dict:
    """The state minus what the hub hears but never logs: a station's last_heard_ms and outbox come
    from hellos and heartbeats (presence), so a replay can only know its last logged event."""
    out = {**wire, "stations": {sid: {k: v for k, v in st.items() if k not in PRESENCE_ONLY}
                                for sid, st in wire["stations"].items()}}
    return out


def test_restart_rebuild_mid_incident(folder, cluster, ctx):
    """SIGKILL the hub mid-incident: a fire report has started the fire plan, the gate has done its
    step and acknowledged its instruction, parking has not, and a station is streaming. The rebuilt
    state equals what the desk saw plus the events committed but not yet published; then the plan
    carries on from where it stood."""
    set_hub_options(folder, late_s=600.0, offline_s=1200.0)   # no liveness change between the two looks
    cluster.start_hub()
    info = cluster.folder.read_runtime()
    sk = server_key(folder)
    feed = Feed(ctx, info["feed"], sk, desk_pair(folder, "desk-2"), ["feed"])
    feed.ready()
    viewer = Client(ctx, info["endpoint"], sk, desk_pair(folder, "desk-2"), station="desk-2")
    replica = fold.from_wire(viewer.snapshot().state)
    d = Client(ctx, info["endpoint"], sk, desk_pair(folder, "desk-1"), station="desk-1", epoch="plan")
    g1 = Client(ctx, info["endpoint"], sk, station_pair(folder, "gate-1"), station="gate-1", epoch="plan")
    p1 = Client(ctx, info["endpoint"], sk, station_pair(folder, "parking-1"), station="parking-1", epoch="plan")
    cluster.start_station("concierge-1", 2000, rate=200)      # traffic in flight when the hub dies
    wait_for(lambda: cluster.delivered("concierge-1") >= 100, 15, "the stream to flow", interval=0.05)

    inc = g1.request("incident_report", {"kind": "fire", "severity": 4, "location": "东翼"}, 1).message.gseq
    run = wait_for(lambda: _fire_run(viewer), 5, "the fire plan to start on the fire report")
    gate_step = next(sid for sid, st in run["steps"].items() if "gate" in st["posts"])
    park_step = next(sid for sid, st in run["steps"].items() if "parking" in st["posts"])
    gate_orders = [i["gseq"] for i in g1.hello().instructions if i["body"].get("run") == run["id"]]
    assert gate_orders, "the plan sent the gate no instruction"
    seq = 1
    for order in gate_orders:
        seq += 1
        assert g1.request("instruction_ack", {"instruction": order}, seq).header.type == "ack"
    seq += 1
    assert g1.request("plan_step", {"run": run["id"], "step": gate_step, "status": "done"}, seq).header.type == "ack"
    assert d.request("incident_update", {"incident": inc, "status": "in_progress", "assign": "security"},
                     1).header.type == "ack"
    time.sleep(1.2)   # a tick: the stations heard so far are logged online, so none is due after the restart
    cluster.kill_hub()                                          # mid-incident, mid-plan, mid-stream
    cluster.signal_station("concierge-1", signal.SIGSTOP)       # hold its resends until we have looked

    # What the desk saw: its snapshot plus every feed event that got out before the kill ...
    while True:
        try:
            _, env = feed.recv(timeout=0.5)
        except AssertionError:
            break
        fold.apply(replica, env.message)
    # ... plus what was committed but not yet published when the hub died, straight from the log.
    tail = _log_since(folder, replica.gseq)
    for row in tail:
        fold.apply(replica, row)
    cluster.start_hub()
    rebuilt = viewer.snapshot().state
    # The restart itself is logged (hub_started, after a crash): the picture before, plus that.
    started = _log_since(folder, replica.gseq)
    assert [r.type for r in started] == ["hub_started"] and started[0].body["previous"] == "crash"
    for row in started:
        fold.apply(replica, row)
    assert rebuilt["gseq"] == replica.gseq
    assert _comparable(rebuilt) == _comparable(fold.to_wire(replica))
    (incident,) = [i for i in rebuilt["incidents"] if i["id"] == inc]
    assert incident["status"] == "in_progress" and incident["department"] == "security"
    (half,) = [r for r in rebuilt["plans"]["runs"] if r["id"] == run["id"]]
    assert half["stood_down"] is None
    assert half["steps"][gate_step]["status"] == "done" and half["steps"][park_step]["status"] == "pending"

    # The plan carries on where it stood: parking still has its order open; the gate has nothing left to
    # do but still hears the hold in force (a welcome carries the newest gate order, issue 14 item 6).
    park_orders = [i["gseq"] for i in p1.hello().instructions if i["body"].get("run") == run["id"]]
    assert park_orders
    gate_orders = [i["body"] for i in g1.hello().instructions if i["body"].get("run") == run["id"]]
    assert [b.get("gate") for b in gate_orders] == ["hold"]
    assert p1.request("plan_step", {"run": run["id"], "step": park_step, "status": "done"}, 1).header.type == "ack"
    assert d.request("plan_stand_down", {"run": run["id"], "note": "火已扑灭"}, 2).header.type == "ack"
    assert d.request("incident_update", {"incident": inc, "status": "resolved"}, 3).header.type == "ack"
    cluster.signal_station("concierge-1", signal.SIGCONT)
    wait_for(lambda: cluster.drained({"concierge-1": 2000}), 30, "the stream to drain", interval=0.1)
    final = viewer.snapshot().state
    (incident,) = [i for i in final["incidents"] if i["id"] == inc]
    (done,) = [r for r in final["plans"]["runs"] if r["id"] == run["id"]]
    assert incident["status"] == "resolved" and done["stood_down"] is not None
    assert done["steps"][park_step]["status"] == "done" and done["steps"][gate_step]["by"] == "gate-1"
    cluster.stop_stations()
    stats = cluster.stop_hub()
    figures = cluster.check({"concierge-1": 2000})
    show("restart rebuild mid-incident", gseq_at_kill=rebuilt["gseq"], committed_not_published_at_kill=len(tail),
         plan_steps=len(run["steps"]), stream_sent=figures["saved"], stream_in_log=figures["in_log"],
         duplicates_absorbed=stats["duplicates"])


def _fire_run(viewer: Client) -> dict | None:
    runs = [r for r in viewer.snapshot().state.get("plans", {}).get("runs", []) if r["plan"] == "fire"]
    return runs[-1] if runs else None


def _log_since(folder: EventFolder, gseq: int) -> list[Row]:
    """Rows of the log after `gseq`, exactly as the store holds them."""
    conn = sqlite3.connect(str(folder.db()))
    try:
        return [Row(g, st, ep, sq, ty, sm, rm, json.loads(body)) for g, st, ep, sq, ty, sm, rm, body in conn.execute(
            "SELECT gseq, station, epoch, seq, type, station_ms, recv_ms, body FROM events WHERE gseq > ?"
            " ORDER BY gseq", (gseq,))]
    finally:
        conn.close()


# --- the oracle's own reader ----------------------------------------------------------------------

def test_a_journal_line_cut_by_a_kill_is_known_and_a_wrong_one_is_not(cluster):
    """A SIGKILL can cut the journal's last line short; the next run ends it and goes on. The check
    takes such a line only as the start of the next record the outbox holds, so a cut at any byte
    passes and a line that says something else fails."""
    body = {"a": 1, "b": "门岗"}
    committed = {1: ("note", body), 2: ("note", {"a": 2}), 3: ("note", {"a": 3})}
    record = lambda seq: f"{seq}\t{committed[seq][0]}\t{json.dumps(committed[seq][1], sort_keys=True, ensure_ascii=False)}"
    journal = cluster.journal("gate-1")
    for cut in range(1, len(record(2))):
        journal.write_text(f"{record(1)}\n{record(2)[:cut]}\n{record(2)}\n{record(3)}\n", "utf-8")
        cluster._check_journal("gate-1", committed)
    journal.write_text(f"{record(1)}\n{record(3)[:6]}\n{record(2)}\n", "utf-8")
    with pytest.raises(AssertionError, match="neither whole nor a cut-off"):
        cluster._check_journal("gate-1", committed)
    journal.write_text(f"{record(1)}\n2\tnote\t{{\"a\": 9}}\n", "utf-8")
    with pytest.raises(AssertionError, match="differ at 2"):
        cluster._check_journal("gate-1", committed)
