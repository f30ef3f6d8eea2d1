"""The network-namespace harness proves itself (tests/netns.py): a hub on a machine of its own whose link is cut and healed loses no report, and with two such machines a cut link moves the station and the desk to the other hub (PROTOCOL.md 5.13).

Real hubs in their own namespaces, reached over veth pairs at 127.x addresses; a real station client, desk
link and outboxes in the test's namespace. Skipped, with the reason, where `ip netns` is not permitted.
"""
from __future__ import annotations

import pytest

from console.desk.link import DeskLink
from stations.outbox.store import SAVED
from tests.netns import (  # noqa: F401 (netns and two_hub_machines are fixtures)
    QUICK,
    NetnsHub,
    freeze,
    hub_folder,
    name_pair,
    netns,
    thaw,
    two_hub_machines,
)
from tests.test_client import assert_exactly_once, logged, station
from tests.test_desk_two_hubs import HEARTBEAT_MS, desk_notes, shows_the_log
from tests.wire import set_hub_options, wait_for

pytestmark = pytest.mark.timeout(120)


def test_a_cut_link_to_the_hubs_machine_the_station_keeps_saving_and_healed_every_report_lands_once(
        netns, event_dir, tmp_path):  # noqa: F811
    set_hub_options(event_dir, **QUICK)
    machine = netns()
    hub = NetnsHub(machine, hub_folder(event_dir, machine), tmp_path / "hub.log").start()
    gate = None
    try:
        gate = station(event_dir, "gate-1", hub.endpoint, hub.feed, heartbeat_ms=HEARTBEAT_MS)
        for _ in range(30):
            gate.submit("car_in", {})
        assert gate.wait_drained(20), gate.status()
        assert gate.status().console_reachable
        machine.cut()
        wait_for(lambda: not gate.status().console_reachable, 10, "the station to find the hub unreachable")
        saved = [gate.submit("car_out", {}) for _ in range(20)]       # the terminal still says "saved"
        assert all(r.state == SAVED for r in saved) and gate.outbox.depth() == 20
        assert len(logged(event_dir, "gate-1")) == 30                  # nothing crossed the cut
        machine.heal()
        assert gate.wait_drained(30), gate.status()
        assert_exactly_once(event_dir, gate, 50)
    finally:
        if gate is not None:
            gate.close()
        hub.stop()


def test_two_hub_machines_a_cut_link_to_the_first_moves_the_station_and_the_desk_to_the_other(
        two_hub_machines, event_dir):  # noqa: F811
    a, b = two_hub_machines.a, two_hub_machines.b
    gate = d = None
    try:
        gate = station(event_dir, "gate-1", a.endpoint, a.feed, others=two_hub_machines.others(a),
                   heartbeat_ms=HEARTBEAT_MS)
        d = DeskLink("desk-1", a.endpoint, a.feed, event_dir.desk_key("desk-1"), event_dir.console_public,
                     event_dir.root / "desks" / "desk-1.outbox.db", others=two_hub_machines.others(a)).start()
        assert d.wait_ready(20)
        for _ in range(25):
            gate.submit("car_in", {})
        d.note("on machine A")
        assert gate.wait_drained(20) and d.client.wait_drained(20)
        assert d.follower.hub == a.pair and d.follower.moves == 0
        a.ns.cut()
        d.note("after the cut")
        for _ in range(15):
            gate.submit("car_out", {})
        assert gate.wait_drained(45), gate.status()
        assert d.client.wait_drained(45), d.client_status()
        gate.stop()                                                    # quiet: presence stops moving the picture
        wait_for(lambda: shows_the_log(d, b.folder), 30, "the desk to show exactly a fold of hub B's log")
        assert d.follower.hub == b.pair
        assert [seq for _, seq, _ in logged(b.folder, "gate-1")] == list(range(1, 41))   # all of them, once, in order
        assert desk_notes(b.folder) == [(1, "on machine A"), (2, "after the cut")]
        assert len(logged(a.folder, "gate-1")) == 25                   # A heard nothing after the cut
    finally:
        for client in (d, gate):
            if client is not None:
                client.close()


def test_two_hub_machines_the_first_frozen_the_station_moves_and_thawed_the_first_lives_on(
        two_hub_machines, event_dir):  # noqa: F811
    a, b = two_hub_machines.a, two_hub_machines.b
    gate = station(event_dir, "gate-1", a.endpoint, a.feed, others=two_hub_machines.others(a),
                   heartbeat_ms=HEARTBEAT_MS)
    try:
        for _ in range(10):
            gate.submit("car_in", {})
        assert gate.wait_drained(20)
        freeze(a.proc)                                                 # a hung machine: sockets open, no answer
        for _ in range(10):
            gate.submit("car_out", {})
        assert gate.wait_drained(45), gate.status()
        assert [seq for _, seq, _ in logged(b.folder, "gate-1")] == list(range(1, 21))
        thaw(a.proc)
        wait_for(lambda: a.folder.read_runtime() and a.proc.poll() is None, 10, "hub A running again")
        # Thawed, hub A reads what the station sent it while frozen (still in A's socket buffers) and may log
        # some of 11-20 too: two plain hubs are not a pair (the pair's thaw is test_netns_failover's). What
        # holds: A's log is a run of the station's seqs from 1, each once, at least the ten it acked.
        seqs = [seq for _, seq, _ in logged(a.folder, "gate-1")]
        assert seqs == list(range(1, len(seqs) + 1)) and 10 <= len(seqs) <= 20, seqs
    finally:
        gate.close()


def test_the_pair_named_for_two_machines_is_a_pair_the_event_accepts(netns, event_dir, tmp_path):  # noqa: F811
    """For the hub side's failover tests: both folders name machine A's hub the primary and B's the backup."""
    a, b = netns(), netns()
    copy = hub_folder(event_dir, b, tmp_path / "machine-b")
    for folder in (event_dir, copy):
        name_pair(folder, a, b)
        assert folder.load().hub.pairs() == ((a.endpoint(7750), a.endpoint(7751)), (b.endpoint(7750), b.endpoint(7751)))
    assert a.ip != b.ip and a.ip.startswith("127.") and b.ip.startswith("127.")
