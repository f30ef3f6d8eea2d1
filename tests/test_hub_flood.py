"""Issue 14, items 8 and 9: one admitted key cannot hurt the others. Every message it sends is paid for before any
work; new epochs are rationed; the hub's memory of cursors is bounded; repeated alarms are one line per cause.

Ingest over a real SQLite log on a clock the test steps (console/hub/guard.py's rules take the clock), then the same
flood through a real hub on real sockets.
"""
from __future__ import annotations

import json
import time

import msgpack
import pytest
import zmq

from console.core import state as fold
from console.desk.widgets.view import View, alerts, seen
from console.hub import guard
from console.hub.guard import Cursors
from console.hub.ingest import Ingest, Peer, last_seq_in
from console.hub.server import Hub, run_in_thread
from console.hub.waiting import BATCH, poll_paused
from console.hub.store import Store
from protocols import codec
from tests.wire import (
    SIG,
    Client,
    frames_of,
    log_rows,
    quiet_endpoints,
    rejection_rows,
    server_key,
    set_hub_options,
    station_pair,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)

GATE = Peer("station", "gate-1", "gate")
PARK = Peer("station", "parking-1", "parking")


class Flood:
    """An Ingest on a real log, fed frames as the hub feeds it; `now` moves only when the test says so
    (from 03:30 on the event day: before any task or roster time, so only the flood raises alarms)."""

    def __init__(self, folder) -> None:
        self.store = Store(folder.db(), writer=True)
        event = folder.load()
        self.ingest = Ingest(self.store, event)
        self.t0 = self.now = event.doors_open_ms - 6 * 3600_000

    def send(self, peer: Peer, frames: list[bytes]):
        """The reply, or None when the message was dropped unanswered (over the bucket)."""
        out = self.ingest.handle([(b"a", peer, frames)], self.now)
        replies = [codec.decode(f).message for _, f in out.replies]
        assert len(replies) <= 1
        return replies[0] if replies else None

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def flood(event_dir):
    set_hub_options(event_dir, rate_per_s=10.0, rate_burst=20)
    f = Flood(event_dir)
    yield f
    f.close()


def junk(i: int) -> list[bytes]:
    """A report whose body cannot be read, on a fresh epoch each time (the red team's flood)."""
    head = msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": f"junk-{i}", "seq": 1, "sent_ms": 1})
    return [SIG, head, b"\xc1"]


# --- item 8: everything is charged before any work or write --------------------------------------

def test_junk_is_charged_like_anything_else_and_writes_nothing_past_the_bucket(flood, event_dir):
    answers = [flood.send(GATE, [SIG, b"\xc1", b"\x80"]) for _ in range(100)]
    assert [a.code for a in answers[:21]] == ["E_HEADER"] * 20 + ["E_RATE"]
    assert answers[20].retry and answers[21:] == [None] * 79   # one E_RATE, then dropped unanswered
    assert len(rejection_rows(event_dir.db())) == 20           # what was over the limit left no row
    assert flood.ingest.stats["dropped"] == 80
    # Control messages pay too; the bucket refills with time, and the next E_RATE comes 100 ms on.
    assert flood.send(GATE, frames_of("heartbeat", {"outbox": 0}, "gate-1", "e", 0)) is None
    flood.now += 1000
    kinds = [type(flood.send(GATE, frames_of("heartbeat", {"outbox": 0}, "gate-1", "e", 0))).__name__
             for _ in range(12)]
    assert kinds == ["Heartbeat"] * 10 + ["Nack"] + ["NoneType"]
    # Another key has its own bucket: untouched by gate-1's flood.
    assert flood.send(PARK, frames_of("car_in", {}, "parking-1", "p", 1)).gseq >= 1


def test_new_epochs_per_key_are_rationed_and_the_cursors_stay_bounded(flood, event_dir):
    flood.ingest.guard = guard.Guard(1e6, 10**6)
    answers = [flood.send(GATE, junk(i)) for i in range(30)]
    refused = [a for a in answers if a.code == "E_EPOCH"]
    assert len(refused) == 30 - guard.EPOCHS_BURST and all(a.retry for a in refused)
    assert len(rejection_rows(event_dir.db())) == guard.EPOCHS_BURST
    assert "junk-29" not in {k[1] for k in flood.ingest.cursors._known}
    flood.now += guard.EPOCH_REFILL_MS
    assert flood.send(GATE, junk(99)).code == "E_SCHEMA"       # one more allowed ten minutes later
    # Gaps on unknown epochs are answered, never remembered.
    gap = flood.send(GATE, frames_of("car_in", {}, "gate-1", "nowhere", 7))
    assert (gap.code, gap.expected) == ("E_GAP", 1) and ("gate-1", "nowhere") not in flood.ingest.cursors._known


def test_a_cursor_that_left_the_cache_is_read_again_from_the_log(flood, event_dir):
    flood.ingest.guard = guard.Guard(1e6, 10**6)
    flood.ingest.cursors = Cursors(last_seq_in(flood.store), size=3)
    epochs = [f"e{i}" for i in range(6)]
    for ep in epochs:
        assert flood.send(GATE, frames_of("car_in", {"plate": ep}, "gate-1", ep, 1)).gseq >= 1
    assert len(flood.ingest.cursors) == 3
    # e0 fell out: a resend is still a duplicate, the next number still the next, never a new epoch.
    again = flood.send(GATE, frames_of("car_in", {"plate": "e0"}, "gate-1", "e0", 1))
    assert again.duplicate is True
    assert flood.send(GATE, frames_of("car_in", {}, "gate-1", "e0", 2)).gseq >= 1
    assert [r[3] for r in log_rows(event_dir.db(), "epoch = 'e0'")] == [1, 2]


# --- item 9: one alarm per key and cause, with a running count -------------------------------------

def test_an_impersonation_flood_writes_a_handful_of_alarms_and_the_desk_shows_one_line(flood, event_dir):
    flood.ingest.guard = guard.Guard(1e6, 10**6)
    desk_state = fold.new_state({**flood.ingest.event.summary()})
    before = seen(View(desk_state, flood.t0, "en"))
    for i in range(3000):                     # 3 s of forgery, 1,000 a second
        flood.now = flood.t0 + i
        flood.send(GATE, frames_of("car_in", {}, "gate-2", "imp", 0))
    flood.now = flood.t0 + 3000 + guard.ALARM_EVERY_MS
    flood.ingest.tick(flood.now)
    rows = [json.loads(r[5]) for r in log_rows(event_dir.db(), "type = 'alarm'")]
    assert 2 <= len(rows) <= 3000 // guard.ALARM_EVERY_MS + 2
    assert {(a["code"], a["station"], a["first_ms"]) for a in rows} == {("E_IDENTITY", "gate-1", flood.t0)}
    assert rows[-1]["count"] == 3000 and rows[-1]["last_ms"] == flood.t0 + 2999
    # The desk folds them into one alarm that keeps its first id: one alert, one timeline line, the count.
    for row in flood.store.since(0):
        fold.apply(desk_state, row)
    assert [(a["code"], a["count"]) for a in desk_state.alarms] == [("E_IDENTITY", 3000)]
    assert [r["type"] for r in desk_state.recent].count("alarm") == 1
    assert len(alerts(before, View(desk_state, flood.now, "en"))) == 1
    assert len(alerts(seen(View(desk_state, flood.now, "en")), View(desk_state, flood.now, "en"))) == 0
    # A replay of the log gives the same picture.
    assert Ingest(flood.store, flood.ingest.event).state.alarms == flood.ingest.state.alarms


def test_conflicting_resends_are_one_alarm_per_cause_and_a_new_cause_is_a_new_line(flood, event_dir):
    flood.ingest.guard = guard.Guard(1e6, 10**6)
    flood.send(GATE, frames_of("car_in", {"plate": "A"}, "gate-1", "c", 1))
    for i in range(2000):
        flood.now = flood.t0 + i
        assert flood.send(GATE, frames_of("car_in", {"plate": f"B{i}"}, "gate-1", "c", 1)).code == "E_CONFLICT"
    flood.send(GATE, frames_of("car_in", {}, "gate-1", "c", 5, ))      # a gap: no alarm
    flood.send(GATE, frames_of("alarm", {"code": "E_FAKE"}, "gate-1", "c", 2))   # forbidden: its own cause
    rows = [json.loads(r[5]) for r in log_rows(event_dir.db(), "type = 'alarm'")]
    assert len(rows) <= 2000 // guard.ALARM_EVERY_MS + 3
    assert [a["code"] for a in flood.ingest.state.alarms] == ["E_CONFLICT", "E_FORBIDDEN"]
    # A minute of quiet later the same cause starts a new alarm (and a new alert).
    flood.now += guard.ALARM_QUIET_MS + 1
    flood.send(GATE, frames_of("car_in", {"plate": "C"}, "gate-1", "c", 1))
    assert [a["code"] for a in flood.ingest.state.alarms] == ["E_CONFLICT", "E_FORBIDDEN", "E_CONFLICT"]


def test_alarms_carry_both_languages_for_the_desk(flood):
    flood.send(GATE, frames_of("car_in", {}, "gate-9", "z", 1))
    (alarm,) = flood.ingest.state.alarms
    assert "gate-9" in alarm["reason"] and "gate-9" in alarm["reason_zh"] and "密钥" in alarm["reason_zh"]


def test_a_key_spending_its_burst_gets_a_small_share_of_each_batch_and_the_others_all_of_theirs():
    """The batch rule (console/hub/guard.py's Guard.share): a key spending its burst has PER_KEY messages in a batch, in
    order, the rest waiting for the next; a key within its rate, however many it has in the queue, is never held."""
    g = guard.Guard(rate_per_s=10.0, burst=1000)
    now = 5_000
    for _ in range(300):
        assert g.charge("gate-1", now)        # 300 at once: spending its burst
    for _ in range(guard.BURST_SLACK):
        assert g.charge("parking-1", now)     # as many as the slack allows: not spending
    assert g.spending("gate-1") and not g.spending("parking-1")
    queue = [("gate-1", i) for i in range(300)] + [("parking-1", i) for i in range(guard.BURST_SLACK)]
    batch, held = g.share(queue, lambda item: item[0])
    assert batch == [("gate-1", i) for i in range(guard.PER_KEY)] + [("parking-1", i) for i in range(guard.BURST_SLACK)]
    assert held == [("gate-1", i) for i in range(guard.PER_KEY, 300)]
    later = [("parking-1", 99)]                  # read after the burst: in the very next batch, not after the burst
    batch, held = g.share(held + later, lambda item: item[0])
    assert batch == [("gate-1", i) for i in range(guard.PER_KEY, 2 * guard.PER_KEY)] + later
    assert held[0] == ("gate-1", 2 * guard.PER_KEY) and len(held) == 300 - 2 * guard.PER_KEY


def test_the_drop_pace_pauses_only_as_long_as_one_more_drop_needs():
    """At 2,000 drops a second a pause is half a millisecond, not a whole one (console/hub/guard.py's DropPace):
    rounded up as zmq's poll counts, a report that reached the ROUTER during the pause waited twice as long."""
    pace = guard.DropPace(0.0, rate=2000, burst=4)
    assert pace.wait_ms(0.0) == 0
    while pace.dropped(0.0):
        pass
    assert pace.pauses == 1
    assert pace.wait_ms(0.0) == pytest.approx(0.5)
    assert pace.wait_ms(0.25) == pytest.approx(0.25)
    assert pace.wait_ms(0.5) == 0


@pytest.mark.wire
def test_a_pause_shorter_than_a_millisecond_still_serves_the_other_sockets():
    """The pause's own poll (console/hub/waiting.py's poll_paused): a socket with something waiting is served
    at once; with nothing, it comes back empty."""
    ctx = zmq.Context()
    try:
        a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
        a.bind("inproc://pause")
        b.connect("inproc://pause")
        poller = zmq.Poller()
        poller.register(b, zmq.POLLIN)
        assert poll_paused(poller, 0.3) == []
        a.send(b"zap")
        assert b.poll(5000)
        assert dict(poll_paused(poller, 0.3)) == {b: zmq.POLLIN}
        assert dict(poll_paused(poller, 2.0)) == {b: zmq.POLLIN}
    finally:
        ctx.destroy(linger=0)


def test_a_read_stops_after_a_run_of_one_key_spending_its_burst():
    """The read rule (console/hub/guard.py's Guard.streak): READ_STREAK messages in a row from one key spending its
    burst stop a read; a key within its rate, or another key in between, starts the count again."""
    g = guard.Guard(rate_per_s=10.0, burst=1000)
    now = 5_000
    run, stops = (None, 0), []
    for _ in range(guard.BURST_SLACK + 1 + 2 * guard.READ_STREAK):
        assert g.charge("gate-1", now)
        run, stop = g.streak(run, "gate-1")
        stops.append(stop)
    first = guard.BURST_SLACK + guard.READ_STREAK - 1   # (0-based) the slack is not spending; the run's last
    assert stops.index(True) == first and all(stops[first:])
    assert g.charge("parking-1", now)
    assert g.streak(run, "parking-1") == ((None, 0), False)   # within its rate: the run is over
    run, stop = g.streak((None, 0), "gate-1")
    assert run == ("gate-1", 1) and not stop
    assert g.streak(("lobby-1", guard.READ_STREAK - 1), "gate-1")[0] == ("gate-1", 1)   # another key between


@pytest.mark.wire
def test_a_burst_within_its_bucket_is_read_a_run_at_a_time_and_all_of_it_arrives(event_dir):
    """A key spending its burst, all of it within its bucket: each read of the ROUTER takes at most the slack and
    one run of it, one run more if another key's message comes between (console/hub/guard.py's Guard.streak), the
    rest waiting in its own connection; every message is read in the end and none is dropped, and another key's
    message sent after the burst is read with it."""
    set_hub_options(event_dir, rate_per_s=10.0, rate_burst=1000)
    quiet_endpoints(event_dir)
    hub = Hub(event_dir, out=None)
    ep = hub.bind()
    ctx = zmq.Context()
    try:
        bad = Client(ctx, ep.endpoint, server_key(event_dir), station_pair(event_dir, "gate-1"), station="gate-1")
        good = Client(ctx, ep.endpoint, server_key(event_dir), station_pair(event_dir, "parking-1"),
                      station="parking-1")
        for _ in range(2):
            assert hub.zap.poll(5000)
            hub._zap_once()
        n = 300
        for _ in range(n):
            bad.send("heartbeat", {"outbox": 0})
        good.send("heartbeat", {"outbox": 0})
        got, sizes = [], []
        deadline = time.monotonic() + 10
        while len(got) < n + 1 and time.monotonic() < deadline:
            if hub.router.poll(100):
                part = hub._read(BATCH)
                got += part
                sizes.append(len(part))
        assert len(got) == n + 1 and hub.ingest.stats["dropped"] == 0
        assert [p.id for _, p, _ in got].count("parking-1") == 1
        # The slack, a run, and at most one more run: the other key's one message, read in between, starts the count again.
        assert max(sizes) <= guard.BURST_SLACK + 2 * guard.READ_STREAK, sizes
    finally:
        ctx.destroy(linger=0)
        hub.release()


# --- the same flood through a real hub --------------------------------------------------------------

@pytest.mark.wire
def test_a_junk_flood_on_fresh_epochs_leaves_a_bounded_log_and_others_unharmed(event_dir):
    set_hub_options(event_dir, rate_per_s=50.0, rate_burst=100)
    quiet_endpoints(event_dir)
    hub = run_in_thread(event_dir)
    ctx = zmq.Context()
    try:
        bad = Client(ctx, hub.endpoint, server_key(event_dir), station_pair(event_dir, "gate-1"), station="gate-1")
        good = Client(ctx, hub.endpoint, server_key(event_dir), station_pair(event_dir, "parking-1"),
                      station="parking-1", epoch="good")
        n = 5000
        for i in range(n):
            bad.raw(junk(i))
        wait_for(lambda: hub.hub.ingest.stats["received"] >= n, 30, "the hub to read the flood")
        assert good.request("car_in", {}, 1).header.type == "ack"
        rows = rejection_rows(event_dir.db())
        assert len(rows) <= 100 + 50 * 30, len(rows)       # burst + rate over the time it took, at most
        assert len({r[1] for r in rows}) <= guard.EPOCHS_BURST
        assert len(hub.hub.ingest.cursors) <= guard.EPOCHS_BURST + 4
    finally:
        ctx.destroy(linger=0)
        hub.stop()


@pytest.mark.wire
def test_an_alarm_whose_commit_failed_is_logged_when_the_log_takes_writes_again(flood, event_dir):
    """Another process holds the log's write lock: the batch with the alarm is not written, and the
    alarm is not lost to the coalescing: it is logged by the first tick that can write."""
    import subprocess
    import sys

    from tests.test_hub_stall import LOCKER
    flood.store.conn.execute("PRAGMA busy_timeout=50")
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(event_dir.db())], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        refused = flood.send(GATE, frames_of("car_in", {}, "gate-2", "lock", 1))
        assert (refused.code, refused.retry) == ("E_STORAGE", True)    # not even the refusal was written
        flood.now += guard.ALARM_EVERY_MS
        flood.ingest.tick(flood.now)                                   # still locked: nothing, kept
        assert log_rows(event_dir.db(), "type = 'alarm'") == []
    finally:
        locker.communicate("go\n", timeout=10)
    flood.now += guard.ALARM_EVERY_MS
    flood.ingest.tick(flood.now)
    (row,) = [json.loads(r[5]) for r in log_rows(event_dir.db(), "type = 'alarm'")]
    assert (row["code"], row["station"], row["count"]) == ("E_IDENTITY", "gate-1", 1)


@pytest.mark.wire
def test_a_flood_past_its_bucket_waits_in_its_own_connection_while_the_others_are_read(event_dir):
    """Messages read only to be dropped are paced (console/hub/guard.py's DropPace): past the pace's burst the hub
    leaves the ROUTER unread until its own clock (stepped here) allows more. The flood waits in its connection,
    another key's message is read in turn as soon as reading resumes, and nothing of the flood is lost."""
    set_hub_options(event_dir, rate_per_s=10.0, rate_burst=20)
    quiet_endpoints(event_dir)
    hub = Hub(event_dir, out=None)
    t = [1000.0]
    hub.mono = lambda: t[0]
    hub.drop_pace = guard.DropPace(t[0])
    ep = hub.bind()
    ctx = zmq.Context()

    got: list = []

    def read_while(cond) -> None:
        """Read into `got` while `cond()` holds, for at most 10 s."""
        deadline = time.monotonic() + 10
        while cond() and time.monotonic() < deadline:
            got.extend(hub._read(BATCH))
            time.sleep(0.005)

    def read_good() -> bool:
        return any(p.id == "parking-1" for _, p, _ in got)

    try:
        bad = Client(ctx, ep.endpoint, server_key(event_dir), station_pair(event_dir, "gate-1"), station="gate-1")
        good = Client(ctx, ep.endpoint, server_key(event_dir), station_pair(event_dir, "parking-1"),
                      station="parking-1")
        for _ in range(2):   # both keys admitted (ZAP, as the hub's loop answers it) before anything is sent
            assert hub.zap.poll(5000)
            hub._zap_once()
        n = 500
        for _ in range(n):
            bad.send("heartbeat", {"outbox": 0})
        received = lambda: hub.ingest.stats["received"]   # noqa: E731
        read_while(lambda: not hub.drop_pace.wait_ms(t[0]))
        held = received()
        assert 20 + guard.DROPS_BURST <= held < n               # its bucket, the pace's burst, no more
        read_while(lambda: received() == held and hub.drop_pace.pauses < 50)   # the clock stands still ...
        assert received() == held and hub.router.poll(0)         # ... and the flood waits, unread
        good.send("heartbeat", {"outbox": 0})
        # Its own connection's turn comes among the flood's: step the clock a millisecond (two drops) at a time
        # until it is read. (No wait for it to reach the ROUTER first: it is read in turn once it has.)
        while not read_good() and received() < n:
            t[0] += 1.0
            read_while(lambda: not read_good() and not hub.drop_pace.wait_ms(t[0]))
        assert read_good()
        assert received() - held < (n - held) // 2              # read in turn, not after the flood
        for _ in range(1000):                                    # the clock moves on: the rest is read
            if received() == n + 1:
                break
            t[0] += 10.0
            read_while(lambda: not hub.drop_pace.wait_ms(t[0]) and received() < n + 1)
        assert received() == n + 1 and 0 < hub.ingest.stats["dropped"] <= n - 20   # nothing lost unread
    finally:
        ctx.destroy(linger=0)
        hub.release()
