"""Two hubs, the hub side (issue 19, PROTOCOL.md 5.13): the backup's warm copy, E_PASSIVE, the takeover and its hub_switch.

Real `eventdesk hub DIR` and `eventdesk hub DIR --backup` subprocesses on fixed free 127.0.0.1 ports (a pair
names no port 0), each on its own copy of the event folder (same event.toml and keys, own log); real station
clients with their outboxes. Every wait is for the event it needs, never a fixed time.
"""
from __future__ import annotations

import io
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

from console.event.folder import EventFolder, set_endpoints
from console.hub.server import run_in_thread
from console.hub.store import Store, dumps
from stations.outbox.store import DELIVERED
from tests.test_client import station
from tests.wire import (
    Client,
    quiet_port,
    server_key,
    set_hub_options,
    station_pair,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


class PairHub:
    """`eventdesk hub DIR [--backup]` as a real subprocess, so that it can be SIGKILLed."""

    def __init__(self, folder: EventFolder, log: Path, backup: bool = False) -> None:
        self.folder, self.log, self.backup = folder, log, backup
        self.proc: subprocess.Popen | None = None

    def start(self) -> PairHub:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", str(self.folder.root),
                                          *(["--backup"] if self.backup else [])], stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: (self.proc.poll() is None or pytest.fail(self.log.read_text()))
                 and (i := self.folder.read_runtime()) and i["pid"] == self.proc.pid, 20, "hub.json")
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def no_traceback(self) -> None:
        assert "Traceback" not in self.log.read_text(), self.log.read_text()


def rows(folder: EventFolder, where: str = "1", *args) -> list[tuple]:
    conn = sqlite3.connect(folder.db())
    try:
        return conn.execute("SELECT gseq, station, epoch, seq, type, body FROM events WHERE " + where
                            + " ORDER BY gseq", args).fetchall()
    except sqlite3.OperationalError:   # no log yet
        return []
    finally:
        conn.close()


def rejections(folder: EventFolder) -> list[tuple]:
    conn = sqlite3.connect(folder.db())
    try:
        return conn.execute("SELECT * FROM rejections ORDER BY id").fetchall()
    except sqlite3.OperationalError:   # no log yet
        return []
    finally:
        conn.close()


@pytest.fixture
def pair(event_dir: EventFolder, tmp_path: Path):
    """(primary's folder, backup's folder, their endpoints): the sample event with a backup named, copied."""
    ports = [f"tcp://127.0.0.1:{quiet_port()}" for _ in range(4)]
    set_endpoints(event_dir, ports[0], ports[1])
    # Heartbeats of 0.5 s, not the 0.2 s of the other hub tests: on a loaded machine a 0.4 s peer window
    # made the hubs lose each other and a station bounce between refusals (seen in a full run).
    set_hub_options(event_dir, heartbeat_s=0.5, late_s=1.0, offline_s=3.0, backup_endpoint=ports[2],
                    backup_feed=ports[3])
    backup = EventFolder(tmp_path / "backup")
    shutil.copytree(event_dir.root, backup.root)     # the other machine's copy: same event.toml and keys, no log
    return event_dir, backup, ports


def test_the_backup_copies_the_log_refuses_clients_and_reports_the_same_summary(pair, tmp_path):
    primary_dir, backup_dir, ports = pair
    primary = PairHub(primary_dir, tmp_path / "primary.log").start()
    backup = PairHub(backup_dir, tmp_path / "backup.log", backup=True).start()
    clients = []
    try:
        # One station tries the backup first: E_PASSIVE sends it to the primary at once (no liveness wait).
        lobby = station(primary_dir, "lobby-1", ports[2], ports[3], others=((ports[0], ports[1]),), heartbeat_ms=500)
        gate = station(primary_dir, "gate-1", ports[0], ports[1], others=((ports[2], ports[3]),), heartbeat_ms=500)
        clients += [lobby, gate]
        for i in range(60):
            gate.submit("car_in", {})
            if i % 3 == 0:
                lobby.submit("zone_enter", {"zone": "lobby", "count": 1})
        assert gate.wait_drained(30) and lobby.wait_drained(30), (gate.status(), lobby.status())
        # A refusal is in the log too (rejections never travel on the feed: the pages bring them).
        ctx = zmq.Context()
        try:
            raw = Client(ctx, ports[0], server_key(primary_dir), station_pair(primary_dir, "gate-2"),
                         station="gate-2", epoch="raw-1")
            assert raw.request("zone_enter", {"zone": "lobby", "count": 1}, 1).message.code == "E_FORBIDDEN"
        finally:
            ctx.destroy(linger=0)
        wait_for(lambda: rejections(backup_dir) == rejections(primary_dir) != [], 20, "the refusal copied")
        wait_for(lambda: rows(backup_dir) == rows(primary_dir), 20, "the backup's copy to hold the primary's log")
        first = json.loads(rows(primary_dir, "type = 'hub_switch'")[0][5])
        # The primary heard the backup wait (or, had a station come first, served it once its window passed).
        assert first in ({"era": 1, "hub": "primary", "after_gseq": 0, "reason": why} for why in ("peer_waiting", "alone"))
        assert "E_PASSIVE" not in str(lobby.outbox.counts())   # refused while passive, never rejected
        assert lobby.outbox.counts()[DELIVERED] == 20
        primary.stop()   # a clean stop: hub_stopped is the primary's last event, and the backup copies it
        wait_for(lambda: rows(backup_dir) == rows(primary_dir), 20, "the backup to copy the primary's last event")
        assert rows(backup_dir)[-1][4] == "hub_stopped"
        backup.stop()    # passive: it writes nothing of its own
        assert rows(backup_dir) == rows(primary_dir)
        summaries = []
        for folder in (primary_dir, backup_dir):
            done = subprocess.run([sys.executable, "-m", "console.cli", "report", str(folder.root), "--lang", "en"],
                                  check=False, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            summaries.append(sorted((p.name, p.read_text("utf-8")) for p in folder.report_dir.glob("*.md")))
        assert summaries[0] == summaries[1] and summaries[0]
    finally:
        for c in clients:
            c.close()
        primary.stop()
        backup.stop()
    primary.no_traceback()
    backup.no_traceback()


@pytest.mark.parametrize("n_stations", [3])
def test_the_primary_killed_mid_stream_the_backup_takes_over_and_every_report_lands_once(pair, tmp_path, n_stations):
    primary_dir, backup_dir, ports = pair
    primary = PairHub(primary_dir, tmp_path / "primary.log").start()
    backup = PairHub(backup_dir, tmp_path / "backup.log", backup=True).start()
    ids = ["gate-1", "gate-2", "parking-1"][:n_stations]
    clients = []
    try:
        for sid in ids:   # the last knows only the primary: the welcome's hubs tell it the backup
            others = ((ports[2], ports[3]),) if sid != ids[-1] else ()
            clients.append(station(primary_dir, sid, ports[0], ports[1], others=others, heartbeat_ms=500))
        for _ in range(150):
            for c in clients:
                c.submit("car_in", {})
        wait_for(lambda: all(c.outbox.counts()[DELIVERED] > 20 for c in clients), 30, "the primary's first acks")
        wait_for(lambda: len(rows(backup_dir)) > 20, 30, "the backup's copy to begin")
        primary.kill()                       # mid-stream: some acked and copied, some acked only, some unsent
        for _ in range(30):
            for c in clients:
                c.submit("car_out", {})
        for c in clients:
            assert c.wait_drained(60), c.status()
        for c in clients:                    # every saved report on the backup, once, in the station's order
            got = rows(backup_dir, "station = ?", c.station)
            assert [r[3] for r in got] == list(range(1, 181)), c.station
            assert {r[2] for r in got} == {c.outbox.epoch}
        switches = [json.loads(r[5]) for r in rows(backup_dir, "type = 'hub_switch'")]
        assert [(s["era"], s["hub"]) for s in switches] == [(1, "primary"), (2, "backup")]
        assert switches[-1]["reason"] == "peer_lost"
        after = switches[-1]["after_gseq"]
        assert rows(backup_dir, "gseq = ?", after + 1)[0][4] == "hub_switch"   # the first event of its era
        gseqs = [r[0] for r in rows(backup_dir)]
        assert gseqs == list(range(1, len(gseqs) + 1))                        # one history, no hole
        # The primary returns: it hears the active backup, turns passive, sets aside what it held past the fork
        # point (after_gseq of the switch it lacks) and copies the one history from there.
        held = rows(primary_dir)
        primary = PairHub(primary_dir, tmp_path / "primary.log").start()
        wait_for(lambda: rows(primary_dir) == rows(backup_dir), 30, "the returning primary to copy the backup's log")
        conn = sqlite3.connect(primary_dir.db())
        try:
            aside = conn.execute("SELECT gseq, station, epoch, seq, type, body FROM set_aside ORDER BY gseq").fetchall()
        finally:
            conn.close()
        assert aside == [r for r in held if r[0] > after]
        assert rows(primary_dir)[after:] != held[after:] or not aside
    finally:
        for c in clients:
            c.close()
        primary.stop()
        backup.stop()
    backup.no_traceback()
    primary.no_traceback()


def _log(folder: EventFolder, events: list[tuple[str, str, int, str, dict]]) -> None:
    """Write a log by hand: (station, epoch, seq, type, body), received one second apart."""
    store = Store(folder.db(), writer=True)
    try:
        store.append_batch([(st, ep, seq, ty, T + i * 1000, T + i * 1000, dumps(body))
                            for i, (st, ep, seq, ty, body) in enumerate(events)])
    finally:
        store.close()


T = 1_796_000_000_000


def test_a_hub_whose_log_left_the_history_sets_its_tail_aside_and_copies_from_the_fork(pair, tmp_path):
    """The returning hub's log goes on past the fork point (gseq 3, where the other took over): those rows
    move to set_aside, the picture is folded again, and from then on both logs are the same rows."""
    a_dir, b_dir, _ = pair
    common = [("hub", "h1", 1, "hub_switch", {"era": 1, "hub": "primary", "after_gseq": 0, "reason": "alone"}),
              ("gate-1", "e1", 1, "car_in", {"count": 1}), ("gate-1", "e1", 2, "car_in", {"count": 1})]
    _log(a_dir, common + [("hub", "h2", 1, "hub_switch", {"era": 2, "hub": "backup", "after_gseq": 3,
                                                          "reason": "peer_lost"}),
                          ("gate-1", "e1", 3, "car_out", {"count": 1})])
    tail = [("gate-1", "e1", 3, "car_in", {"count": 1}), ("gate-1", "e1", 4, "car_in", {"count": 1}),
            ("gate-2", "e2", 1, "car_in", {"count": 1})]
    _log(b_dir, common + tail)
    held = rows(b_dir)
    a = run_in_thread(a_dir)                    # hears b start as a backup: active, era 3
    b = run_in_thread(b_dir, backup=True)       # hears a active: passive, sets aside 4..6, copies
    try:
        wait_for(lambda: len(rows(a_dir)) > 5 and rows(b_dir) == rows(a_dir), 20, "the copy past the fork point")
        conn = sqlite3.connect(b_dir.db())
        try:
            aside = conn.execute("SELECT gseq, station, epoch, seq, type, body FROM set_aside ORDER BY gseq").fetchall()
        finally:
            conn.close()
        assert aside == held[3:] and [r[4] for r in aside] == ["car_in"] * 3
        picture = b.hub.ingest.state           # folded again from the history, the tail left out
        assert picture.counts.get("car_in") == 2 and picture.counts.get("car_out") == 1
        assert b.hub.pair.state == "passive" and a.hub.pair.state == "active" and a.hub.pair.era == 3
    finally:
        a.stop()
        b.stop()


def test_a_log_that_differs_even_at_the_fork_point_is_left_as_it_is(pair, tmp_path):
    """Row F itself differs (not one history at all): nothing is set aside, nothing copied, and the hub says so."""
    a_dir, b_dir, _ = pair
    switch = ("hub", "h1", 1, "hub_switch", {"era": 1, "hub": "primary", "after_gseq": 0, "reason": "alone"})
    _log(a_dir, [switch, ("gate-1", "e1", 1, "car_in", {"count": 1}),
                 ("hub", "h2", 1, "hub_switch", {"era": 2, "hub": "backup", "after_gseq": 2, "reason": "peer_lost"})])
    _log(b_dir, [switch, ("gate-1", "e1", 1, "car_out", {"count": 1}), ("gate-1", "e1", 2, "car_in", {"count": 1})])
    held = rows(b_dir)
    said = io.StringIO()
    a = run_in_thread(a_dir)
    b = run_in_thread(b_dir, backup=True, out=said, lang="en")
    try:
        wait_for(lambda: "event 2 of this log differs" in said.getvalue(), 20, "the hub to say its log is not the history")
        assert b.hub.pair.state == "passive" and b.hub.copy is None
        assert rows(b_dir) == held
    finally:
        a.stop()
        b.stop()
