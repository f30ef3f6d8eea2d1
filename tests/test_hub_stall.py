"""Issue 14, items 4, 5 and the live log of 19: a storage stall never delays heartbeats and nacks E_STORAGE
within its bound; ZeroMQ's silent reconnect after a quick hub restart never strands reports; a note's
newlines never forge a line in the hub's live log.

Real processes: another process holds event.db's write lock; the hub is SIGSTOPped, SIGKILLed and restarted.
"""
from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import pytest
import zmq

from console.hub.server import run_in_thread
from protocols import bounds, codec
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED
from tests.faultkit import Cluster
from tests.wire import Client, desk_pair, log_rows, server_key, station_pair, wait_for

pytestmark = pytest.mark.timeout(120)

# Another process that takes the log's write lock and holds it until told to let go.
LOCKER = ("import sqlite3, sys\n"
          "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
          "c.execute('BEGIN IMMEDIATE')\n"
          "print('locked', flush=True)\n"
          "sys.stdin.readline()\n"
          "c.execute('ROLLBACK')\n")


def lock_the_log(folder) -> subprocess.Popen:
    """Another process holding the log's write lock until a line on its stdin."""
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(folder.db())], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked"
    return locker


class Watch:
    """A station's DEALER that heartbeats every 100 ms and times every answer as it comes."""

    def __init__(self, client: Client) -> None:
        self.c = client
        self.sent_hb: list[float] = []
        self.rtts: list[float] = []
        self.answers: list[tuple[float, object]] = []   # (when, message) of everything but heartbeats

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        next_hb = time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= next_hb:
                self.c.send("heartbeat", {"outbox": 0})
                self.sent_hb.append(time.monotonic())
                next_hb += 0.1
            if self.c.sock.poll(10):
                env = codec.decode(self.c.sock.recv_multipart())
                now = time.monotonic()
                if env.header.type == "heartbeat":
                    self.rtts.append(now - self.sent_hb[len(self.rtts)])
                else:
                    self.answers.append((now, env.message))


def test_a_locked_log_never_delays_heartbeats_and_reports_get_e_storage_in_time(folder):
    hub = run_in_thread(folder)
    ctx = zmq.Context()
    locker = None
    try:
        gate = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-1",
                      epoch="stall")
        assert gate.request("car_in", {"plate": "BEFORE"}, 1).header.type == "ack"
        locker = lock_the_log(folder)
        watch = Watch(gate)
        sent = time.monotonic()
        gate.send("car_in", {"plate": "DURING"}, 2)
        watch.run(1.8)
        later = time.monotonic()
        gate.send("car_in", {"plate": "LATER"}, 3)       # the log is known to be stuck now: answered at once
        gate.send("hello", {"role": "station"})
        watch.run(1.2)
        nacks = {m.seq: t for t, m in watch.answers if type(m).__name__ == "Nack"}
        assert {m.code for _, m in watch.answers if type(m).__name__ == "Nack"} == {"E_STORAGE"}
        assert all(m.retry for _, m in watch.answers if type(m).__name__ == "Nack")
        assert nacks[2] - sent < bounds.STORAGE_WAIT_MS / 1000 + 1.0, nacks[2] - sent
        assert nacks[3] - later < 0.5, nacks[3] - later
        assert any(type(m).__name__ == "Welcome" for _, m in watch.answers), "no welcome during the stall"
        assert len(watch.rtts) >= 25 and max(watch.rtts) < 0.5, f"heartbeats answered late: {max(watch.rtts):.2f} s"
        # Let go: the reports go in (an ack may follow the E_STORAGE; a resend is acked either way).
        locker.communicate("go\n", timeout=10)
        for seq, plate in ((2, "DURING"), (3, "LATER")):
            reply = gate.request("car_in", {"plate": plate}, seq, timeout=10).message
            while type(reply).__name__ != "Ack":   # late answers of the stall, in order
                reply = gate.recv(timeout=10).message
            assert reply.seq == seq
        rows = log_rows(folder.db(), "station = 'gate-1'")
        assert [r[3] for r in rows] == [1, 2, 3]
    finally:
        if locker is not None and locker.poll() is None:
            locker.kill()
        ctx.destroy(linger=0)
        hub.stop()


def test_a_snapshot_is_built_after_the_acks_of_its_batch_are_out(folder):
    """A desk asks for a snapshot, then logs a note, while a commit waits on a locked log: both wait for the
    next batch, where the note's ack goes out first and the snapshot (the costly part) after it."""
    hub, ctx, locker = run_in_thread(folder), zmq.Context(), None
    desk = Client(ctx, hub.endpoint, server_key(folder), desk_pair(folder, "desk-1"), station="desk-1", epoch="snap")
    try:
        desk.hello(role="desk")
        gate = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-1",
                      epoch="snap")
        assert gate.request("car_in", {"plate": "BEFORE"}, 1).header.type == "ack"
        locker = lock_the_log(folder)
        read = hub.hub.ingest.stats["received"]
        gate.send("car_in", {"plate": "DURING"}, 2)                 # its commit now waits on the lock
        wait_for(lambda: hub.hub.ingest.stats["received"] > read, 5, "the hub to take the report")
        desk.send("snapshot_request", {"gseq": 0, "page": 0})
        desk.send("note", {"text": "稍后"}, 1)
        wait_for(lambda: len(hub.hub._held) == 2, 0.8, "both held behind the commit (inside STORAGE_WAIT_MS)")
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(10)
        first, second = desk.recv(), desk.recv()
        assert (first.header.type, second.header.type) == ("ack", "snapshot")
        assert second.message.gseq >= first.message.gseq             # the picture includes the note
        assert gate.recv().header.type == "ack"
    finally:
        if locker is not None and locker.poll() is None:
            locker.kill()
        hub.stop()
        ctx.destroy(linger=0)


def test_a_hub_back_within_seconds_gets_the_reports_in_flight_at_once(folder, tmp_path):
    """The red team's case: the hub dies with reports in flight and is back before the station's liveness
    runs out. ZeroMQ reconnects by itself; the station's socket monitor sees the new handshake and says
    hello, so the reports go again at once, well before the ack timeout."""
    cluster = Cluster(folder, tmp_path / "logs")
    gate = None
    try:
        cluster.start_hub()
        gate = StationClient("gate-1", tmp_path / "gate-1.outbox.db", folder.station_key("gate-1"),
                             folder.console_public, folder.load().hub.endpoint, post="gate").start()
        wait_for(lambda: gate.status().state == "online", 10, "the station online")
        cluster.hub.popen.send_signal(signal.SIGSTOP)
        seqs = [gate.submit("car_in", {"plate": f"F{i}"}).seq for i in range(20)]
        wait_for(lambda: gate.status().sent_frames >= 20, 5, "the reports on the wire, unanswered")
        sent = time.monotonic()
        time.sleep(1.0)   # the nemesis: the hub hangs a while, then dies (a real signal, a real pause)
        cluster.hub.popen.kill()
        cluster.hub.popen.wait(10)
        cluster.start_hub()
        wait_for(lambda: all(gate.outbox.get(s).state == DELIVERED for s in seqs), 15, "every report delivered")
        took = time.monotonic() - sent
        # Waiting for the ack timeout would take at least ACK_TIMEOUT_MS from the send.
        assert took < bounds.ACK_TIMEOUT_MS / 1000 - 0.5, f"{took:.1f} s: the reports waited for the ack timeout"
        assert [r[3] for r in log_rows(folder.db(), "station = 'gate-1'")] == seqs
    finally:
        if gate is not None:
            gate.close()
        cluster.cleanup()


def test_a_note_with_newlines_cannot_forge_a_line_of_the_live_log(folder):
    out = io.StringIO()
    hub = run_in_thread(folder, out=out)
    ctx = zmq.Context()
    try:
        gate = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-1",
                      epoch="log")
        forged = "ok\n12:00:00 #999 hub stopped: received 0\n\tREJECTED desk-1"
        assert gate.request("guest_arrival", {"note": forged}, 1).header.type == "ack"
        wait_for(lambda: "来宾到达" in out.getvalue(), 10, "the live log line")
    finally:
        ctx.destroy(linger=0)
        hub.stop()
    lines = out.getvalue().splitlines()
    (line,) = [ln for ln in lines if "来宾到达" in ln]
    assert "\\n12:00:00 #999" in line and "\\n\\tREJECTED" in line
    # In the event's language, the station by name (issue 17; tests/test_hub_live_words.py has the words).
    assert "东门岗：来宾到达（" in line and "gate-1" not in out.getvalue() and "guest_arrival" not in out.getvalue()
    assert not [ln for ln in lines if ln.startswith(("12:00:00", "\tREJECTED", "REJECTED desk-1"))]


@pytest.mark.pure
def test_the_writer_thread_turns_any_failure_into_a_storage_error(tmp_path):
    from console.hub.store import StoreError
    from console.hub.writer import Writer

    def broken(rows, rejections):
        raise OSError("disk on fire")

    w = Writer(broken)
    try:
        w.start([], [])
        wait_for(w.done, 5, "the commit to finish")
        with pytest.raises(StoreError, match="disk on fire"):
            w.result()
        assert not w.busy
    finally:
        w.close()
