"""A rehearsal's hub ends with the rehearsal, even when the rehearsal is killed (SIGKILL gives it no time
to stop its hub): `eventdesk hub --parent PID` stops cleanly once that process is gone.

Real processes and signals: a parent process starts a real hub and is SIGKILLed; the hub must stop on
its own, cleanly (its runtime file removed), within seconds. Without `--parent` it must keep taking reports.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.event.folder import EventFolder
from stations.records import DELIVERED
from tests.station_support import make_client
from tests.wire import wait_for

pytestmark = pytest.mark.timeout(60)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state   # a zombie has stopped: only its parent's wait is missing


def parent_of_a_hub(folder: EventFolder, log: Path, *hub_args: str) -> tuple[subprocess.Popen, int]:
    """A process that starts `eventdesk hub DIR *hub_args` (its own session, as the rehearsal and the desk start
    theirs) and then waits to be killed: (that process, the hub's pid)."""
    script = textwrap.dedent(f"""
        import os, signal, subprocess, sys
        args = [a.replace("PARENT", str(os.getpid())) for a in {list(hub_args)!r}]
        hub = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", {str(folder.root)!r},
                                "--endpoint", "tcp://127.0.0.1:0", "--feed", "tcp://127.0.0.1:0", *args],
                               stdout=open({str(log)!r}, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        print(hub.pid, flush=True)
        signal.pause()
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    return parent, int(parent.stdout.readline())


def test_a_hub_started_with_parent_stops_cleanly_when_its_parent_is_killed(event_dir: EventFolder, tmp_path):
    parent, hub_pid = parent_of_a_hub(event_dir, tmp_path / "hub.log", "--drill", "--parent", "PARENT")
    try:
        wait_for(lambda: (info := event_dir.read_runtime(drill=True)) and info["pid"] == hub_pid, 20,
                 "the drill hub's runtime file")
        assert alive(hub_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_for(lambda: not alive(hub_pid), 15, "the hub stopping after its parent was killed")
        assert event_dir.read_runtime(drill=True) is None   # a clean stop: no stale runtime file left
    finally:
        if parent.poll() is None:
            parent.kill()
        if alive(hub_pid):
            os.kill(hub_pid, signal.SIGKILL)


def test_without_parent_a_hub_outlives_whoever_started_it(event_dir: EventFolder, tmp_path):
    # The desk's own hub (hub_start.py) must keep taking reports after the desk that started it is gone.
    parent, hub_pid = parent_of_a_hub(event_dir, tmp_path / "hub.log")
    client = None
    try:
        info = wait_for(lambda: (i := event_dir.read_runtime()) and i["pid"] == hub_pid and i, 20, "the hub's runtime file")
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        # Orphaned, it still takes a report end to end: hello, save, ack (far longer than a watcher's period).
        client = make_client(event_dir, "gate-1", info["endpoint"], info["feed"]).start()
        report = client.submit("car_in", {"count": 1})
        assert client.wait_delivered(report.seq, 15).state == DELIVERED
        assert alive(hub_pid) and event_dir.read_runtime() is not None
    finally:
        if client is not None:
            client.stop()
        if parent.poll() is None:
            parent.kill()
        if alive(hub_pid):
            os.kill(hub_pid, signal.SIGTERM)
            wait_for(lambda: not alive(hub_pid), 15, "the hub's stop")
