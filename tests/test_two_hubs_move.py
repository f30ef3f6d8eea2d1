"""Two hubs, the stations' side (PROTOCOL.md 5.13): a station that knows both hubs moves to the other after its liveness timeout, and its outbox rewinds so that every report lands there exactly once.

(A report acked by the first hub keeps that hub's gseq in the outbox: not yet moved to the new history.)
The other hub here is a plain hub on a copy of the event folder with an empty log: the worst a backup
can know (it copied nothing), so every report, acked by the first hub or not, must come again.
Real hub processes on 127.0.0.1 (the first one SIGKILLed mid-stream), a real station client and outbox.
"""
from __future__ import annotations

import shutil

import pytest

from console.event.folder import EventFolder, set_endpoints
from stations.outbox.store import DELIVERED
from tests.test_client import HubProcess, logged, station
from tests.wire import quiet_port, set_hub_options, wait_for

pytestmark = pytest.mark.timeout(90)


def test_the_first_hub_killed_the_station_moves_and_every_report_lands_once_on_the_other(event_dir, tmp_path):
    set_hub_options(event_dir, heartbeat_s=0.2, late_s=1.0, offline_s=3.0)   # liveness 0.6 s: a quick test
    other = EventFolder(tmp_path / "other")
    shutil.copytree(event_dir.root, other.root)     # the same event.toml and keys, no log yet
    set_endpoints(other, f"tcp://127.0.0.1:{quiet_port()}", f"tcp://127.0.0.1:{quiet_port()}")   # its own machine
    first = HubProcess(event_dir, tmp_path / "first.log").start()
    second = HubProcess(other, tmp_path / "second.log").start()
    gate = None
    try:
        gate = station(event_dir, "gate-1", first.endpoint, first.feed, others=((second.endpoint, second.feed),))
        for _ in range(200):
            gate.submit("car_in", {})
        wait_for(lambda: gate.outbox.counts()[DELIVERED] > 0, 15, "the first acks from the first hub")
        first.kill()                                  # mid-stream: some acked, some committed unacked, some unsent
        for _ in range(30):
            gate.submit("car_out", {})
        assert gate.wait_drained(45), gate.status()
        rows = logged(other, "gate-1")                # all of them on the other hub, in seq order, once
        assert [seq for _, seq, _ in rows] == list(range(1, 231))
        assert {epoch for epoch, _, _ in rows} == {gate.outbox.epoch}
        assert gate.outbox.counts()[DELIVERED] == 230 and gate.outbox.depth() == 0
        assert len(logged(event_dir, "gate-1")) < 230  # the first hub had not got them all: the move did it
        assert gate.status().console_reachable
    finally:
        if gate is not None:
            gate.close()
        first.stop()
        second.stop()
