"""A rehearsal's hub ends with the rehearsal, even when the rehearsal is killed (SIGKILL gives it no time
to stop its hub): `eventdesk hub --parent PID` stops cleanly once that process is gone.

Real processes and signals: a parent process starts a real hub and is SIGKILLed; the hub must stop on
its own, cleanly (its runtime file removed), within seconds.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from console.event.folder import EventFolder
from tests.wire import wait_for

pytestmark = pytest.mark.timeout(60)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state   # a zombie has stopped: only its parent's wait is missing


def test_a_hub_started_with_parent_stops_cleanly_when_its_parent_is_killed(event_dir: EventFolder, tmp_path):
    script = textwrap.dedent(f"""
        import os, subprocess, sys, time
        hub = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", {str(event_dir.root)!r}, "--drill",
                                "--endpoint", "tcp://127.0.0.1:0", "--feed", "tcp://127.0.0.1:0",
                                "--parent", str(os.getpid())],
                               stdout=open({str(tmp_path / "hub.log")!r}, "ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
        print(hub.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    hub_pid = int(parent.stdout.readline())
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
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        hub = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", {str(event_dir.root)!r},
                                "--endpoint", "tcp://127.0.0.1:0", "--feed", "tcp://127.0.0.1:0"],
                               stdout=open({str(tmp_path / "hub.log")!r}, "ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
        print(hub.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    hub_pid = int(parent.stdout.readline())
    try:
        wait_for(lambda: (info := event_dir.read_runtime()) and info["pid"] == hub_pid, 20, "the hub's runtime file")
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        time.sleep(1.5)   # six of the watcher's periods, had there been one
        assert alive(hub_pid) and event_dir.read_runtime() is not None
    finally:
        if parent.poll() is None:
            parent.kill()
        if alive(hub_pid):
            os.kill(hub_pid, signal.SIGTERM)
            wait_for(lambda: not alive(hub_pid), 15, "the hub's stop")
