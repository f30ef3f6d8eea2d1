"""What a burst costs the hub's loop besides its commit: the live log's words and the garbage collector."""
from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.hub.gcpace import FULL_EVERY
from console.hub.ingest import Outcome
from console.hub.server import LIVE_LINES, Hub, run_in_thread
from console.hub.store import Row
from tests.wire import quiet_endpoints, wait_for

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.wire
def test_a_busy_second_puts_only_the_lines_it_prints_into_words(event_dir) -> None:
    """A batch of 100 stored reports prints LIVE_LINES lines and "and 80 more": the 80 are counted, and
    never put into words (formatting every one cost a burst as much as its commit)."""
    out = io.StringIO()
    quiet_endpoints(event_dir)
    hub = Hub(event_dir, out=out, lang="en")
    hub.bind()
    made = []
    stored = hub.words.stored
    hub.words.stored = lambda *a: made.append(a) or stored(*a)
    try:
        rows = [Row(i, "gate-1", "e1", i, "car_in", 1000 + i, 1000 + i, {"plate": f"A{i:04d}", "count": 1})
                for i in range(1, 101)]
        hub._emit(Outcome(stored=rows))
        hub._flush_lines()
    finally:
        hub.close()
    lines = out.getvalue().splitlines()
    assert len(made) == LIVE_LINES
    assert [a[0] for a in made] == list(range(1, LIVE_LINES + 1))          # the first of the second, in order
    said = [line for line in lines if f"#{LIVE_LINES}" in line or "more this second" in line]
    assert any(f"#{LIVE_LINES} " in line for line in said), lines
    assert any(f"and {100 - LIVE_LINES} more this second" in line for line in said), lines
    assert not any(f"#{LIVE_LINES + 1} " in line for line in lines)


@pytest.mark.wire
def test_a_hub_on_a_thread_of_another_program_leaves_its_collector_alone(event_dir) -> None:
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    quiet_endpoints(event_dir)
    handle = run_in_thread(event_dir, out=None)
    try:
        wait_for(lambda: handle.hub.writer is not None, 10, "the hub thread running its loop")
        assert handle.hub.gc_pace is None
        assert (gc.get_freeze_count(), gc.get_threshold()) == (frozen, threshold)
    finally:
        handle.hub.stop()
        handle.thread.join(10)


PROBE = """
import gc, json, os, signal, sys, threading
from console.event.folder import EventFolder
from console.hub import gcpace, server
seen, swept = {}, threading.Event()
sweep = gcpace.GcPace.sweep
def told(self):   # the real sweep, then word that it is done
    sweep(self)
    swept.set()
gcpace.GcPace.sweep = told
def watch():
    swept.wait(30)
    seen["running"] = [gc.get_freeze_count(), list(gc.get_threshold())]
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=watch, daemon=True).start()
before = [gc.get_freeze_count(), list(gc.get_threshold())]
code = server.serve(EventFolder(sys.argv[1]))
print(json.dumps({"before": before, "running": seen.get("running"), "after": [gc.get_freeze_count(), list(gc.get_threshold())], "code": code}))
"""


@pytest.mark.wire
def test_the_hub_as_its_own_process_sweeps_once_then_freezes_until_a_signal_stops_it(event_dir) -> None:
    """`eventdesk hub`'s own process: the log rebuilt into memory is swept and frozen before the loop
    serves (full passes then walk only what is new, console/hub/gcpace.py), and a SIGTERM's clean stop
    gives the collector back as it found it."""
    quiet_endpoints(event_dir)
    done = subprocess.run([sys.executable, "-c", PROBE, str(event_dir.root)], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["code"] == 0
    assert got["before"][0] == 0
    assert got["running"] is not None and got["running"][0] > 1000          # the day's state, frozen
    assert got["running"][1][2] == FULL_EVERY
    assert got["after"] == got["before"]
