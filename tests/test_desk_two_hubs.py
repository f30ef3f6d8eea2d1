"""Two hubs, the desk's side (PROTOCOL.md 5.13): a desk that knows both hubs follows the other when the first is SIGKILLed (its picture is then a fold of the other's log, and a desk action made during the move lands there exactly once) or refuses it with E_PASSIVE.

The other hub is a plain hub on a copy of the event folder with an empty log (as in test_two_hubs_move.py):
the worst a backup can know, so the desk's whole picture and every action must come from it anew.
Real hub processes on 127.0.0.1, a real desk link, station client and outboxes.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from typing import Any

import pytest
import zmq

from console.core import state as fold
from console.desk.link import DeskLink
from console.desk.widgets.view import View, pair_words
from console.event import plan_files
from console.event.folder import EventFolder, set_endpoints
from console.hub.server import run_in_thread
from console.hub.store import Store
from protocols import codec
from protocols.messages import Nack
from protocols.session import REPLIES
from tests.test_client import HubProcess, station
from tests.wire import quiet_port, set_hub_options, wait_for

pytestmark = pytest.mark.timeout(120)

LIVE = ("last_heard_ms", "outbox")   # presence's touches: not in the log (5.8)
# The stations' heartbeat before a welcome names the hubs' (0.5 s): with test_client's 0.2 s a loaded machine
# let 0.6 s pass before a welcome, and a station that knows two hubs moved away before it was let in.
HEARTBEAT_MS = 500


def other_folder(folder: EventFolder, root) -> EventFolder:
    """A copy of `folder` (same event.toml and keys, no log) with the other hub's own free ports."""
    other = EventFolder(root)
    shutil.copytree(folder.root, other.root, ignore=shutil.ignore_patterns("*.db*", "hub*.json"))
    set_endpoints(other, f"tcp://127.0.0.1:{quiet_port()}", f"tcp://127.0.0.1:{quiet_port()}")
    return other


def desk(folder: EventFolder, first: HubProcess, second: HubProcess) -> DeskLink:
    return DeskLink("desk-1", first.endpoint, first.feed, folder.desk_key("desk-1"), folder.console_public,
                    folder.root / "desks" / "desk-1.outbox.db", others=((second.endpoint, second.feed),)).start()


def log_fold(folder: EventFolder) -> dict[str, Any]:
    """The picture a hub of `folder` folds from its log (the state it starts from, then every row)."""
    event = folder.load()
    st = fold.new_state({**event.summary(), "plans": plan_files.shipped(event).summary()})
    store = Store(folder.db())
    try:
        for row in store.since(0):
            fold.apply(st, row)
    finally:
        store.close()
    return without_live(fold.to_wire(st))


def without_live(wire: dict[str, Any]) -> dict[str, Any]:
    stations = {sid: {k: v for k, v in st.items() if k not in LIVE} for sid, st in wire["stations"].items()}
    return {**wire, "stations": stations}


def shows_the_log(link: DeskLink, folder: EventFolder) -> bool:
    pic = link.picture()
    return pic.state is not None and without_live(fold.to_wire(pic.state)) == log_fold(folder)


def desk_notes(folder: EventFolder) -> list[tuple[int, str]]:
    """(seq, text) of every desk note in a hub's log, in log order."""
    store = Store(folder.db())
    try:
        return [(row.seq, row.body["text"]) for row in store.since(0) if row.type == "note"]
    finally:
        store.close()


def test_the_first_hub_killed_the_desk_follows_the_other_and_its_action_lands_once(event_dir, tmp_path):
    # Liveness 3 s: no move before the kill on a loaded machine (0.2 s made one in a -n 2 run, 0.5 s another).
    set_hub_options(event_dir, heartbeat_s=1.0, late_s=4.0, offline_s=8.0)
    other = other_folder(event_dir, tmp_path / "other")
    first = HubProcess(event_dir, tmp_path / "first.log").start()
    second = HubProcess(other, tmp_path / "second.log").start()
    gate = d = None
    try:
        gate = station(event_dir, "gate-1", first.endpoint, first.feed, others=((second.endpoint, second.feed),),
                       heartbeat_ms=HEARTBEAT_MS)
        d = desk(event_dir, first, second)
        assert d.wait_ready(20)
        d.note("before the move")
        for _ in range(40):
            gate.submit("car_in", {})
        assert gate.wait_drained(20) and d.client.wait_drained(20)
        wait_for(lambda: d.picture().state.cars["in"] == 40, 20, "the desk to show the first hub's cars")
        assert d.follower.hub == (first.endpoint, first.feed) and d.follower.moves == 0
        first.kill()
        d.note("during the move")                     # saved now, while the desk's hub is dead
        for _ in range(10):
            gate.submit("car_out", {})
        assert gate.wait_drained(45), gate.status()
        assert d.client.wait_drained(45), d.client_status()
        gate.stop()                                   # quiet: presence stops moving the picture
        wait_for(lambda: shows_the_log(d, other), 30, "the desk to show exactly a fold of the other hub's log")
        assert d.follower.hub == (second.endpoint, second.feed) and d.follower.moves >= 1
        pic = d.picture()
        assert pic.hub_ok and pic.state.cars["in"] == 40 and pic.state.cars["out"] == 10
        # Both actions on the other hub once each, in the order they were made (the outbox rewound to its last_seq 0).
        assert desk_notes(other) == [(1, "before the move"), (2, "during the move")]
        assert desk_notes(event_dir) == [(1, "before the move")]
        assert d.client_status().waiting == 0
    finally:
        for client in (d, gate):
            if client is not None:
                client.close()
        first.stop()
        second.stop()


class PassiveHub:
    """A hub that is not the active one, as 5.13 says it answers: every message gets `nack E_PASSIVE`.

    A real CURVE ROUTER with the console's key on 127.0.0.1 (no ZAP: any client key may talk to it),
    counting the hellos it refused, on a thread of its own."""

    def __init__(self, folder: EventFolder) -> None:
        public, secret = zmq.auth.load_certificate(str(folder.console_secret))
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.curve_server, self.sock.curve_secretkey, self.sock.curve_publickey = True, secret, public
        self.sock.linger = 0
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.feed = self.ctx.socket(zmq.XPUB)   # the feed a desk connects its SUB to: silent
        self.feed.curve_server, self.feed.curve_secretkey, self.feed.curve_publickey = True, secret, public
        self.feed.linger = 0
        feed_port = self.feed.bind_to_random_port("tcp://127.0.0.1")
        self.pair = (f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{feed_port}")
        self.hellos = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(50):
                continue
            identity, *frames = self.sock.recv_multipart()
            envelope = codec.decode(frames)
            self.hellos += envelope.header.type == "hello"
            nack = Nack(code="E_PASSIVE", reason="This is the backup system; the terminal is moving to the other one.",
                        retry=True, seq=envelope.header.seq, epoch=envelope.header.epoch)
            self.sock.send_multipart([identity, *REPLIES.frames(nack)])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        self.feed.close()
        self.ctx.term()


def test_a_passive_hub_refuses_the_desk_and_it_moves_to_the_other_at_once(event_dir):
    passive, active = PassiveHub(event_dir), run_in_thread(event_dir)
    d = None
    try:
        d = DeskLink("desk-1", *passive.pair, event_dir.desk_key("desk-1"), event_dir.console_public,
                     event_dir.root / "desks" / "desk-1.outbox.db", others=((active.endpoint, active.feed),)).start()
        assert d.wait_ready(20)
        assert d.follower.hub == (active.endpoint, active.feed)
        # Moved by the refusal, once, not by the liveness: no second move came back to the passive one.
        assert passive.hellos >= 1 and d.follower.refusals >= 1 and d.follower.moves == 1
    finally:
        if d is not None:
            d.close()
        passive.close()
        active.stop()


# --- against the hub side of issue 19 (eventdesk hub DIR --backup), once it is merged -------------------

HUB_SIDE = {"hubs", "pair"} <= {s.name for s in codec.SPECS["welcome"]}


def pair_hub(folder: EventFolder, log, *args: str) -> subprocess.Popen:
    """`eventdesk hub DIR [--backup]` as a real subprocess, once its hub.json says it runs."""
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", str(folder.root), *args],
                                stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: (proc.poll() is None or pytest.fail(log.read_text()))
             and (info := folder.read_runtime()) and info["pid"] == proc.pid, 20, "hub.json")
    return proc


@pytest.mark.skipif(not HUB_SIDE, reason="the hub side of issue 19 (eventdesk hub --backup, the welcome's hubs and "
                                         "pair) is not in this tree yet")
def test_a_real_pair_the_primary_killed_the_desk_follows_the_backup_and_says_so(event_dir, tmp_path):
    ports = [f"tcp://127.0.0.1:{quiet_port()}" for _ in range(4)]
    set_endpoints(event_dir, ports[0], ports[1])
    set_hub_options(event_dir, heartbeat_s=0.5, late_s=2.0, offline_s=5.0, backup_endpoint=ports[2],
                    backup_feed=ports[3])
    backup_dir = EventFolder(tmp_path / "backup")
    shutil.copytree(event_dir.root, backup_dir.root)   # the second machine's copy: same event.toml and keys
    primary = pair_hub(event_dir, tmp_path / "primary.log")
    backup = pair_hub(backup_dir, tmp_path / "backup.log", "--backup")
    others = event_dir.load().hub.pairs()[1:]          # as `eventdesk desk DIR` reads them
    gate = station(event_dir, "gate-1", ports[0], ports[1], others=others, heartbeat_ms=HEARTBEAT_MS)
    d = DeskLink("desk-1", ports[0], ports[1], event_dir.desk_key("desk-1"), event_dir.console_public,
                 event_dir.root / "desks" / "desk-1.outbox.db", others=others).start()
    try:
        assert d.wait_ready(20)
        wait_for(lambda: (p := d.picture().pair) is not None and p.peer == "in_step", 20, "the pair in step")
        assert d.picture().pair.me == "primary"
        for _ in range(20):
            gate.submit("car_in", {})
        d.note("before the failover")
        assert gate.wait_drained(20) and d.client.wait_drained(20)
        era, snapshots = d.follower.era, d.follower.snapshots
        primary.kill()
        primary.wait(10)
        d.note("during the failover")
        for _ in range(5):
            gate.submit("car_out", {})
        assert gate.wait_drained(45), gate.status()
        assert d.client.wait_drained(45), d.client_status()
        wait_for(lambda: (p := d.picture().pair) is not None and p.me == "backup", 30, "the backup active")
        gate.stop()
        wait_for(lambda: shows_the_log(d, backup_dir), 30, "the desk to show a fold of the backup's log")
        pic = d.picture()
        assert d.follower.era > era and d.follower.snapshots > snapshots   # a new era: a fresh picture
        assert pair_words(View(pic.state, 0, "zh", hub="ok", pair=pic.pair)) == ("备用服务器运行 · 主服务器失联", "lost")
        assert desk_notes(backup_dir) == [(1, "before the failover"), (2, "during the failover")]
    finally:
        d.close()
        gate.close()
        for proc in (primary, backup):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)
