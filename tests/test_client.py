"""The station client against the real hub on loopback: delivery, pipelining, outages, restarts,
final rejections, key trouble and instructions. Real sockets, real SQLite, no mocks; every wait
polls against a deadline."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from protocols import keys
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED, REJECTED
from tests.wire import set_hub_options, wait_for

pytestmark = pytest.mark.timeout(90)

HEARTBEAT_MS = 200  # fast liveness for tests: "unreachable" after 0.6 s of silence


def station(folder: EventFolder, station_id: str, endpoint: str, feed: str | None = None, **kw) -> StationClient:
    kw.setdefault("heartbeat_ms", HEARTBEAT_MS)
    kw.setdefault("console_public_key_path", folder.console_public)
    return StationClient(station_id, folder.outbox(station_id), folder.station_key(station_id),
                         endpoint=endpoint, feed_endpoint=feed, **kw).start()


def logged(folder: EventFolder, station_id: str) -> list[tuple[str, int, int]]:
    """(epoch, seq, gseq) of every event the hub committed for a station, read with plain sqlite3."""
    conn = sqlite3.connect(folder.db())
    try:
        return conn.execute("SELECT epoch, seq, gseq FROM events WHERE station = ? ORDER BY gseq",
                            (station_id,)).fetchall()
    finally:
        conn.close()


def assert_exactly_once(folder: EventFolder, client: StationClient, expected: int) -> None:
    rows = logged(folder, client.station)
    seqs = [seq for _, seq, _ in rows]
    assert len(seqs) == len(set(seqs)) == expected, f"{len(seqs)} rows, {len(set(seqs))} distinct"
    assert seqs == list(range(1, expected + 1)), "the log holds the reports in seq order"
    assert {epoch for epoch, _, _ in rows} == {client.outbox.epoch}
    counts = client.outbox.counts()
    assert counts[DELIVERED] == expected and client.outbox.depth() == 0
    by_seq = {seq: gseq for _, seq, gseq in rows}
    for report in client.outbox.recent(expected):
        assert report.gseq == by_seq[report.seq]


class HubProcess:
    """`eventdesk hub DIR` as a real subprocess, so it can be SIGKILLed."""

    def __init__(self, folder: EventFolder, log: Path) -> None:
        self.folder, self.log, self.proc = folder, log, None

    def start(self) -> HubProcess:
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", str(self.folder.root)],
                                     stdout=out, stderr=subprocess.STDOUT)
        out.close()
        info = wait_for(lambda: (self.proc.poll() is None or pytest.fail(self.log.read_text()))
                        and (i := self.folder.read_runtime()) and i["pid"] == self.proc.pid and i, 20, "hub.json")
        self.endpoint, self.feed = info["endpoint"], info["feed"]
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def hub(event_dir):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


@pytest.fixture
def clients():
    made: list[StationClient] = []
    yield made
    for c in made:
        c.close()


def test_submit_is_delivered_with_its_gseq(event_dir, hub, clients):
    seen, threads = [], set()

    def on_change(kind, payload):
        seen.append((kind, payload))
        threads.add(threading.current_thread().name)

    gate = station(event_dir, "gate-1", hub.endpoint, hub.feed, on_change=on_change)
    clients.append(gate)
    report = gate.submit("car_in", {"plate": "湘A12345", "vip": True})
    assert report.seq == 1 and report.state == "saved"
    done = gate.wait_delivered(report.seq, 10)
    assert done.state == DELIVERED and done.gseq >= 1
    assert logged(event_dir, "gate-1") == [(gate.outbox.epoch, 1, done.gseq)]
    conn = sqlite3.connect(event_dir.db())
    station_ms, body = conn.execute("SELECT station_ms, body FROM events WHERE gseq = ?", (done.gseq,)).fetchone()
    conn.close()
    assert station_ms == report.created_ms  # the time the staff member saved it, not the send time
    assert "湘A12345" in body
    status = wait_for(lambda: (s := gate.status()).console_reachable and s, 5, "online")
    assert (status.state, status.connected, status.post, status.waiting) == ("online", True, "gate", 0)
    assert status.event["name_en"] == "Riverside No.1 Sales Centre Opening Day"
    assert not status.key_mismatch_suspected and not status.drill
    states = lambda: [p.state for k, p in list(seen) if k == "report"]  # noqa: E731
    wait_for(lambda: len(states()) == 2, 5, "two report changes")
    assert states() == ["sent", "delivered"]
    assert any(k == "status" for k, _ in seen)
    assert threads == {"station-gate-1"}  # the TUI marshals from this thread with call_from_thread
    # Idle for five heartbeat intervals: heartbeats keep the console reachable.
    deadline = time.monotonic() + 5 * HEARTBEAT_MS / 1000
    while time.monotonic() < deadline:
        assert gate.status().console_reachable
        time.sleep(0.05)


def test_a_bad_report_is_refused_before_it_is_saved(event_dir, hub, clients):
    from protocols.codec import ProtocolError
    gate = station(event_dir, "gate-1", hub.endpoint)
    clients.append(gate)
    with pytest.raises(ProtocolError) as info:
        gate.submit("guest_arrival", {"count": -3})
    assert info.value.code == "E_SCHEMA"
    assert gate.outbox.next_seq == 1 and gate.outbox.depth() == 0


def test_500_pipelined_reports_all_land_in_order(event_dir, hub, clients):
    gate = station(event_dir, "gate-1", hub.endpoint, window=200)
    clients.append(gate)
    for i in range(500):
        gate.submit("guest_arrival", {"count": 1 + i % 5})
    assert gate.wait_drained(60), gate.status()
    assert_exactly_once(event_dir, gate, 500)
    gseqs = [r.gseq for r in sorted(gate.outbox.recent(500), key=lambda r: r.seq)]
    assert gseqs == sorted(gseqs)


def test_hub_killed_reports_wait_then_land_exactly_once(event_dir, tmp_path, clients):
    proc = HubProcess(event_dir, tmp_path / "hub.log").start()
    try:
        gate = station(event_dir, "gate-1", proc.endpoint)
        clients.append(gate)
        for _ in range(200):
            gate.submit("car_in", {})
        # Kill the hub mid-stream: some reports acked, some committed but not acked, some unsent.
        wait_for(lambda: gate.outbox.counts()[DELIVERED] > 0, 10, "the first acks")
        proc.kill()
        for _ in range(30):
            gate.submit("car_out", {})
        down = wait_for(lambda: (s := gate.status()).state == "unreachable" and s, 5, "console unreachable")
        assert not down.console_reachable and not down.key_mismatch_suspected
        assert down.waiting >= 30
        proc.start()
        assert gate.wait_drained(30), gate.status()
        assert_exactly_once(event_dir, gate, 230)
    finally:
        proc.stop()


def test_station_restarted_while_hub_down_still_exactly_once(event_dir, clients):
    hub = run_in_thread(event_dir)
    try:
        first = station(event_dir, "gate-1", hub.endpoint)
        for _ in range(100):
            first.submit("guest_arrival", {})
        wait_for(lambda: first.outbox.counts()[DELIVERED] > 0, 10, "the first acks")
        first.close()  # mid-flight: acks may be lost on the way, to be re-acked as duplicates
    finally:
        hub.stop()
    again = station(event_dir, "gate-1", hub.endpoint)
    clients.append(again)
    assert again.outbox.epoch == first.outbox.epoch
    for _ in range(20):
        again.submit("guest_arrival", {})
    down = wait_for(lambda: (s := again.status()).state == "unreachable" and s, 5, "console unreachable")
    assert down.waiting >= 20
    hub = run_in_thread(event_dir)
    try:
        assert again.wait_drained(30), again.status()
        assert_exactly_once(event_dir, again, 120)
    finally:
        hub.stop()


def test_a_final_rejection_is_kept_and_never_resent(event_dir, clients):
    """The frames counted are exactly the ones the dialog asks for. The link's clock stands still, so no
    timer adds a send of its own however slow the run (a resend after the ack timeout, a liveness drop):
    the hub's restart is met by libzmq's own reconnect and the hello after its handshake (PROTOCOL.md 5.2).
    (With a running clock a hello retried while the connection was down used to reach the new hub too,
    and its second welcome sent the new report twice: tests/test_link_timers.py steps through that.)"""
    hub = run_in_thread(event_dir)
    gate = station(event_dir, "gate-1", hub.endpoint, monotonic=lambda: 1000.0)
    clients.append(gate)
    try:
        refused = gate.wait_delivered(gate.submit("zone_enter", {"zone": "lobby"}).seq, 10)
        assert (refused.state, refused.code) == (REJECTED, "E_FORBIDDEN")
        assert "may not" in refused.reason and refused.reason_zh and refused.gseq is None
        old_welcome = gate.status().server_ms
        sent = gate.status().sent_frames
    finally:
        hub.stop()
    # A new session resends everything unacked; the rejected report must not be among it.
    hub = run_in_thread(event_dir)
    try:
        wait_for(lambda: (s := gate.status()).console_reachable and s.server_ms > old_welcome, 15, "a new welcome")
        ok = gate.wait_delivered(gate.submit("car_in", {}).seq, 10)
        assert ok.state == DELIVERED and ok.seq == 2  # the hub counted seq 1 as handled
        assert gate.status().sent_frames == sent + 1
        assert gate.outbox.get(1) == refused
    finally:
        hub.stop()
    conn = sqlite3.connect(event_dir.db())
    rejections = conn.execute("SELECT seq, code FROM rejections WHERE station = 'gate-1'").fetchall()
    conn.close()
    assert rejections == [(1, "E_FORBIDDEN")]
    assert [seq for _, seq, _ in logged(event_dir, "gate-1")] == [2]


def test_wrong_console_key_is_reported_as_a_mismatch(event_dir, hub, clients, tmp_path):
    fake_public, _ = keys.create(tmp_path / "fake", "console")
    gate = station(event_dir, "gate-1", hub.endpoint, console_public_key_path=fake_public)
    clients.append(gate)
    gate.submit("car_in", {})
    status = wait_for(lambda: (s := gate.status()).key_mismatch_suspected and s, 5, "key mismatch")
    assert not status.console_reachable and not status.connected and status.waiting == 1
    assert "console key" in status.last_error
    assert logged(event_dir, "gate-1") == []


def test_an_unknown_station_key_is_refused(event_dir, hub, clients, tmp_path):
    _, rogue_secret = keys.create(tmp_path / "rogue", "gate-1")
    gate = StationClient("gate-1", tmp_path / "rogue.outbox.db", rogue_secret, event_dir.console_public,
                         hub.endpoint, heartbeat_ms=HEARTBEAT_MS).start()
    clients.append(gate)
    gate.submit("car_in", {})
    status = wait_for(lambda: (s := gate.status()).key_refused and s, 5, "key refused")
    assert not status.console_reachable and not status.key_mismatch_suspected
    assert logged(event_dir, "gate-1") == []


def test_no_hub_is_unreachable_not_a_key_mismatch(event_dir, clients):
    endpoint = event_dir.load().hub.endpoint  # nothing listens there
    gate = station(event_dir, "gate-1", endpoint)
    clients.append(gate)
    gate.submit("car_in", {})
    status = wait_for(lambda: (s := gate.status()).attempts >= 3 and s, 10, "three attempts")
    assert status.state == "unreachable" and not status.key_mismatch_suspected and status.waiting == 1


def test_instructions_reach_the_inbox_and_are_acknowledged(event_dir, hub, clients, tmp_path):
    arrived = []
    gate = station(event_dir, "gate-1", hub.endpoint, hub.feed, post="gate",
                   on_change=lambda kind, item: kind == "instruction" and arrived.append(item))
    desk = StationClient("desk-1", tmp_path / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk", heartbeat_ms=HEARTBEAT_MS).start()
    clients += [gate, desk]
    wait_for(lambda: (s := gate.status()).console_reachable and s.feed_connected, 10, "gate-1 online with its feed")

    sent = desk.wait_delivered(desk.submit(
        "instruction", {"target": "station.gate-1", "text": "请开启B门", "text_en": "Open gate B",
                        "ack_required": True}).seq, 10)
    assert sent.state == DELIVERED
    item = wait_for(lambda: gate.outbox.get_instruction(sent.gseq), 10, "the instruction in gate-1's inbox")
    assert (item.target, item.text, item.text_en, item.ack_required, item.acked_ms) == (
        "station.gate-1", "请开启B门", "Open gate B", True, None)
    assert [i.id for i in arrived] == [sent.gseq]
    assert [i.id for i in gate.outbox.pending_instructions()] == [sent.gseq]

    ack = gate.wait_delivered(gate.acknowledge_instruction(sent.gseq).seq, 10)
    assert ack.state == DELIVERED and ack.body == {"instruction": sent.gseq, "person": ""}   # nobody named: the hub names whoever signed in
    assert gate.outbox.pending_instructions() == []

    # A post-wide instruction: gate-1 hears it on the feed; gate-2, started afterwards, gets
    # it in its welcome.
    to_post = desk.wait_delivered(desk.submit(
        "instruction", {"target": "post.gate", "text": "Close all gates", "ack_required": True}).seq, 10)
    wait_for(lambda: gate.outbox.get_instruction(to_post.gseq), 10, "the post instruction at gate-1")
    late = station(event_dir, "gate-2", hub.endpoint, hub.feed)
    clients.append(late)
    got = wait_for(lambda: late.outbox.get_instruction(to_post.gseq), 10, "the post instruction at gate-2")
    assert got.text == "Close all gates"
    # The first instruction was for gate-1 alone.
    assert late.outbox.get_instruction(sent.gseq) is None


def test_rate_limited_station_still_delivers_everything_in_order(event_dir, clients):
    import re

    from stations.outbox.store import Outbox
    text = event_dir.toml.read_text("utf-8")
    text = re.sub(r"(?m)^rate_per_s = .*$", "rate_per_s = 200", text)
    text = re.sub(r"(?m)^rate_burst = .*$", "rate_burst = 20", text)
    event_dir.toml.write_text(text, "utf-8")
    with Outbox(event_dir.outbox("gate-1"), "gate-1") as box:  # a terminal that was offline a while
        for i in range(300):
            box.save("car_in", {"plate": f"A{i}"})
    hub = run_in_thread(event_dir)
    try:
        gate = station(event_dir, "gate-1", hub.endpoint)
        clients.append(gate)
        assert gate.wait_drained(30), gate.status()
        assert_exactly_once(event_dir, gate, 300)
        assert hub.hub.ingest.stats["retry"] > 0  # E_RATE and E_GAP nacks really happened
        assert gate.status().sent_frames > 300
    finally:
        hub.stop()


def test_a_console_that_lost_its_log_gets_the_reports_again(event_dir, clients):
    hub = run_in_thread(event_dir)
    gate = station(event_dir, "gate-1", hub.endpoint)
    clients.append(gate)
    try:
        for _ in range(10):
            gate.submit("car_in", {})
        assert gate.wait_drained(10)
        old_welcome = gate.status().server_ms
    finally:
        hub.stop()
    for suffix in ("", "-wal", "-shm"):  # the log restored from an older copy: here, from nothing
        event_dir.db().with_name(event_dir.db().name + suffix).unlink(missing_ok=True)
    hub = run_in_thread(event_dir)
    try:
        wait_for(lambda: gate.status().server_ms > old_welcome, 15, "a new welcome")
        wait_for(lambda: len(logged(event_dir, "gate-1")) == 10, 10, "the replayed reports")
        assert gate.wait_delivered(gate.submit("car_in", {}).seq, 10).state == DELIVERED
        assert_exactly_once(event_dir, gate, 11)
    finally:
        hub.stop()


def test_a_station_heartbeats_at_the_interval_its_welcome_names(folder):
    """PROTOCOL.md 5.2: the welcome's heartbeat_ms holds from then on, whatever the terminal started with.
    The hub here asks for one every 200 ms; the terminal was built for one a second."""
    set_hub_options(folder, heartbeat_s=0.2)
    hub = run_in_thread(folder)
    gate = station(folder, "gate-1", hub.endpoint, heartbeat_ms=1000)
    try:
        wait_for(lambda: gate.status().connected, 10, "the welcome")
        before = hub.hub.ingest.stats["received"]
        # Idle: only heartbeats go out. Six come within 1.2 s at 200 ms; at 1 s they would take 6 s.
        wait_for(lambda: hub.hub.ingest.stats["received"] - before >= 6, 3, "six heartbeats")
    finally:
        gate.close()
        hub.stop()
