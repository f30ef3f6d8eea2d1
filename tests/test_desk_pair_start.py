"""A desk on an event that names two hubs starts none of its own: it follows the pair (PROTOCOL.md 5.13).

The decision is pure (`follow_pair`, `others`); the whole path runs `eventdesk desk DIR` as a real
subprocess on a pseudo-terminal, with a real backup hub active elsewhere, and looks at what it started.
"""
from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.desk.hub_start import follow_pair, others
from console.event.folder import EventFolder, set_endpoints
from tests.wire import quiet_port, set_hub_options, wait_for

P1, P2 = ("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751"), ("tcp://127.0.0.2:7750", "tcp://127.0.0.2:7751")


@pytest.mark.pure
def test_with_two_hubs_named_and_none_here_the_desk_follows_them_and_starts_none():
    assert follow_pair((P1, P2), None, drill=False)
    assert not follow_pair((P1, P2), {"pid": 1, "endpoint": P2[0], "feed": P2[1]}, drill=False)   # this machine's hub
    assert not follow_pair((P1,), None, drill=False)              # one hub: started here as always
    assert not follow_pair((P1, P2), None, drill=True)            # a rehearsal's hub is always local


@pytest.mark.pure
def test_a_desk_beside_the_backup_moves_to_the_primary_and_a_drill_desk_moves_nowhere():
    assert others((P1, P2), P1[0], drill=False) == (P2,)
    assert others((P1, P2), P2[0], drill=False) == (P1,)
    assert others((P1,), P1[0], drill=False) == ()
    # A rehearsal desk on its local drill hub never moves to a live one (it would log the drill there).
    assert others((P1, P2), "tcp://127.0.0.1:40001", drill=True) == ()


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen, end = b"", time.monotonic() + timeout
    while needle not in seen and time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def switches(folder: EventFolder) -> int:
    if not folder.db().exists():
        return 0
    conn = sqlite3.connect(folder.db())
    try:
        return conn.execute("SELECT count(*) FROM events WHERE type = 'hub_switch'").fetchone()[0]
    except sqlite3.OperationalError:   # no log yet
        return 0
    finally:
        conn.close()


def start_hub(folder: EventFolder, log: Path, *args: str) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "console.cli", "hub", str(folder.root), *args],
                                stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.timeout(120)
def test_eventdesk_desk_on_a_pair_starts_no_hub_and_follows_the_working_one(event_dir: EventFolder, tmp_path):
    ports = [f"tcp://127.0.0.1:{quiet_port()}" for _ in range(4)]
    set_endpoints(event_dir, ports[0], ports[1])
    set_hub_options(event_dir, heartbeat_s=0.5, late_s=1.0, offline_s=3.0, backup_endpoint=ports[2], backup_feed=ports[3])
    # Three machines, each with its copy of the folder: the primary's, the backup's, and the desk's (event_dir).
    primary, backup = EventFolder(tmp_path / "primary"), EventFolder(tmp_path / "backup")
    shutil.copytree(event_dir.root, primary.root)
    shutil.copytree(event_dir.root, backup.root)
    first = start_hub(primary, tmp_path / "primary.log")
    second = start_hub(backup, tmp_path / "backup.log", "--backup", "--lang", "en")
    main = desk = None
    try:
        # The backup follows the primary (it says so in its live log) before the desk starts.
        wait_for(lambda: "copies its log" in (tmp_path / "backup.log").read_text("utf-8", "replace"), 30,
                 "the backup following the primary")
        main, child = pty.openpty()
        desk = subprocess.Popen([sys.executable, "-m", "console.cli", "desk", str(event_dir.root), "--lang", "en"],
                                stdin=child, stdout=child, stderr=child, start_new_session=True,
                                env={**os.environ, "TERM": "xterm-256color"})
        os.close(child)
        out = read_until(main, b"starts none here", 30)
        assert b"follows whichever is working" in out, out[-2000:]
        first.kill()   # whether or not the desk had reached it yet: either way it must end on the backup
        first.wait(10)
        # The desk is the only client: the backup takes over only because the desk came to it.
        wait_for(lambda: switches(backup) >= 1, 40, "the backup's takeover after the desk came to it")
        assert event_dir.read_runtime(False) is None   # no hub of the desk's folder ever started on its machine
    finally:
        if desk is not None:
            os.killpg(desk.pid, signal.SIGTERM)
            try:
                desk.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(desk.pid, signal.SIGKILL)
                desk.wait(10)
        if main is not None:
            os.close(main)
        for hub in (first, second):
            if hub.poll() is None:
                hub.terminate()
                hub.wait(10)
    assert not event_dir.db().exists()
