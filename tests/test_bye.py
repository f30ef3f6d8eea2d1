"""A goodbye on the wire (PROTOCOL.md 5.2) through a real hub on 127.0.0.1: a StationClient closed cleanly is
logged closed once, stays closed past offline_s without an alarm or the out-of-contact plan, and is online again
when its terminal opens; a station SIGKILLed (a real subprocess) goes offline as before."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.core import state as S
from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from console.hub.store import Row
from stations.link.client import StationClient
from tests.test_hub import Stepped
from tests.wire import log_rows, wait_for

pytestmark = pytest.mark.timeout(120)

TESTS = Path(__file__).resolve().parent


def _statuses(folder: EventFolder, sid: str) -> list[str]:
    return [json.loads(body)["status"] for *_, body in log_rows(folder.db(), "type = 'station_status'")
            if json.loads(body)["station"] == sid]


def _client(folder: EventFolder, hub, sid: str) -> StationClient:
    return StationClient(sid, folder.outbox(sid), folder.station_key(sid), folder.console_public,
                         hub.endpoint, heartbeat_ms=200).start()


def _desk_picture(folder: EventFolder, hub) -> S.State:
    """The log folded as a desk folds its feed, from an empty picture."""
    state = S.new_state(hub.hub.ingest.event.summary())
    for gseq, station, epoch, seq, type_, body in log_rows(folder.db()):
        S.apply(state, Row(gseq, station, epoch, seq, type_, 0, 0, json.loads(body)))
    return state


def test_a_clean_close_is_closed_a_killed_station_is_offline(folder: EventFolder, tmp_path: Path) -> None:
    clock = Stepped(int(time.time() * 1000))
    hub = run_in_thread(folder, clock=clock, out=None)
    killed = None
    try:
        gate = _client(folder, hub, "gate-1")
        gate.submit("car_in", {"count": 1})
        wait_for(lambda: gate.outbox.depth() == 0, 20, "gate-1's report delivered")
        out = (tmp_path / "parking-1.out").open("wb")
        killed = subprocess.Popen([sys.executable, str(TESTS / "fault_station.py"), str(folder.root), "parking-1",
                                   "--count", "1", "--endpoint", hub.endpoint], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        wait_for(lambda: log_rows(folder.db(), "station = 'parking-1'"), 30, "parking-1's report in the log")
        clock.ms += 1000   # a tick: both heard, logged online
        wait_for(lambda: _statuses(folder, "gate-1") == ["online"] and _statuses(folder, "parking-1") == ["online"],
                 10, "both online")

        gate.submit("car_in", {"count": 2})   # may still wait in the outbox: the bye is said all the same
        started = time.monotonic()
        gate.close()
        assert time.monotonic() - started < 2.0   # ~0.4 s at most for the bye; the rest is a loaded machine
        wait_for(lambda: _statuses(folder, "gate-1") == ["online", "closed"], 10, "gate-1 logged closed")
        assert S.liveness(_desk_picture(folder, hub), "gate-1", clock.ms + 1) == "closed"

        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        # Past offline_s and the out-of-contact plan's 180 s, as the hub's clock says.
        clock.ms += 200_000
        wait_for(lambda: _statuses(folder, "parking-1")[-1:] == ["offline"], 10, "parking-1 offline")
        proposals = wait_for(lambda: [json.loads(b)["cause"] for *_, b in log_rows(folder.db(), "type = 'plan_proposed'")],
                             10, "the out-of-contact plan proposed")
        assert proposals == ["silent:parking-1"]   # gate-1 comes first in the event: passed by, closed
        assert _statuses(folder, "gate-1") == ["online", "closed"]   # once, and no offline after it
        assert not [b for *_, b in log_rows(folder.db(), "type = 'alarm'") if "gate-1" in b]
        picture = _desk_picture(folder, hub)
        assert S.liveness(picture, "gate-1", clock.ms) == "closed"
        assert hub.hub.ingest.state.stations["gate-1"]["status"] == "closed"

        again = _client(folder, hub, "gate-1")   # the terminal opens the next morning: heard, online
        try:
            wait_for(lambda: again.outbox.depth() == 0, 20, "the report left waiting delivered")
            clock.ms += 1000
            wait_for(lambda: _statuses(folder, "gate-1") == ["online", "closed", "online"], 10, "gate-1 online again")
        finally:
            again.close(bye="")
    finally:
        if killed is not None and killed.poll() is None:
            killed.kill()
            killed.wait(10)
        hub.stop()


def test_a_bye_to_a_hub_that_is_gone_never_holds_the_quit(folder: EventFolder) -> None:
    """Welcomed, then the hub stops: with no connection the bye has nowhere to go and closing is not held
    (a bye queued on a live but stuck connection waits stations.link.loop.BYE_LINGER_MS at most)."""
    hub = run_in_thread(folder, out=None)
    try:
        gate = _client(folder, hub, "gate-1")
        wait_for(lambda: gate.status().connected, 20, "gate-1 welcomed")
    finally:
        hub.stop()
    gate.submit("car_in", {"count": 1})   # waits in the outbox: kept, not dropped by the goodbye
    started = time.monotonic()
    gate.close()
    assert time.monotonic() - started < 2.0
    again = StationClient("gate-1", folder.outbox("gate-1"), folder.station_key("gate-1"), folder.console_public,
                          "tcp://127.0.0.1:9")
    try:
        assert again.outbox.depth() == 1
    finally:
        again.close()
