"""DeskLink against a real hub: snapshot then feed gives exactly the hub's state, for a late desk, two desks, a lost feed connection, a hub restart.

The Clone rules on their own (gaps, pages, presence, timers) are tested purely in test_follower.py.
"""
from __future__ import annotations

import json
import time

import pytest
import zmq

from console.core import state as S
from console.core.follower import ACTIVE
from console.desk.hub_start import ensure_hub
from console.desk.link import DeskLink
from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from stations.link.client import StationClient
from tests.tcp_proxy import Proxy
from tests.wire import Client, Feed, desk_pair, log_rows, server_key, set_hub_options, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def hub(event_dir: EventFolder):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def link(folder: EventFolder, hub, desk: str = "desk-1", **kw) -> DeskLink:
    return DeskLink(desk, hub.endpoint, hub.feed, folder.desk_key(desk), folder.console_public,
                    folder.root / "desks" / f"{desk}.outbox.db", **kw).start()


def station(folder: EventFolder, hub, sid: str) -> StationClient:
    return StationClient(sid, folder.root / "stations" / f"{sid}.outbox.db", folder.station_key(sid),
                         folder.console_public, hub.endpoint, hub.feed).start()


def hub_state(folder: EventFolder, hub, desk: str = "desk-2") -> dict:
    """The hub's state as any client gets it: a snapshot over a raw DEALER."""
    ctx = zmq.Context()
    try:
        c = Client(ctx, hub.endpoint, server_key(folder), desk_pair(folder, desk), station=desk, epoch="probe")
        snap = c.snapshot()
        c.close()
        return snap.state
    finally:
        ctx.destroy(linger=0)


def same_as_hub(folder: EventFolder, hub, desk_link: DeskLink) -> bool:
    pic = desk_link.picture()
    return pic.state is not None and S.to_wire(pic.state) == hub_state(folder, hub)


def traffic(client: StationClient, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        client.submit("car_in", {"plate": f"A{i:05d}", "count": 1})
    assert client.wait_drained(10)


def test_a_desk_shows_exactly_the_hub_state(event_dir, hub):
    gate = station(event_dir, hub, "gate-1")
    try:
        traffic(gate, 5)
        d = link(event_dir, hub)
        try:
            assert d.wait_ready(10)
            traffic(gate, 20, 5)
            gate.stop()   # quiet: presence stops moving, so the two states can be compared exactly
            wait_for(lambda: same_as_hub(event_dir, hub, d), 10, "the desk to match the hub")
            assert d.picture().state.cars["in"] == 25 and d.picture().hub_ok
        finally:
            d.close()
    finally:
        gate.close()


def test_a_desk_reopened_mid_event_shows_exactly_the_hub_state(event_dir, hub):
    gate, lobby = station(event_dir, hub, "gate-1"), station(event_dir, hub, "lobby-1")
    try:
        first = link(event_dir, hub)
        assert first.wait_ready(10)
        traffic(gate, 10)
        r = first.open_incident("smoke", 3, "B1", "seen from the desk")
        assert first.client.wait_delivered(r.seq, 10).state == "delivered"
        first.close()                                   # the operator closes the desk...
        traffic(gate, 10, 10)                           # ...the event goes on without it
        lobby.submit("zone_count", {"zone": "lobby", "count": 33})
        assert lobby.wait_drained(10)
        gate.stop(), lobby.stop()
        again = link(event_dir, hub)                    # ...and opens it again
        try:
            wait_for(lambda: same_as_hub(event_dir, hub, again), 10, "the reopened desk to match the hub")
            st = again.picture().state
            assert st.cars["in"] == 20 and st.zones["lobby"]["count"] == 33
            assert [i["kind"] for i in st.incidents.values()] == ["smoke"]
            # The same outbox file: the reopened desk's next action continues its numbering.
            r2 = again.note("back again")
            assert again.client.wait_delivered(r2.seq, 10).state == "delivered" and r2.seq == 2
        finally:
            again.close()
    finally:
        gate.close(), lobby.close()


def test_two_desks_agree(event_dir, hub):
    gate = station(event_dir, hub, "gate-1")
    one, two = link(event_dir, hub, "desk-1"), link(event_dir, hub, "desk-2")
    try:
        assert one.wait_ready(10) and two.wait_ready(10)
        traffic(gate, 30)
        r = two.open_incident("medical", 2, "lobby")
        assert two.client.wait_delivered(r.seq, 10).state == "delivered"
        incident = two.client.outbox.get(r.seq).gseq
        r = one.update_incident(incident, assign="service")
        assert one.client.wait_delivered(r.seq, 10).state == "delivered"
        gate.stop()
        wait_for(lambda: (one.picture().state.gseq == two.picture().state.gseq
                          and S.to_wire(one.picture().state) == S.to_wire(two.picture().state)
                          and one.picture().state.incidents.get(incident, {}).get("department") == "service"),
                 10, "both desks to show the same picture")
        rows = log_rows(event_dir.db(), "type IN ('incident_open', 'incident_update')")
        assert [(r[1], r[4]) for r in rows] == [("desk-2", "incident_open"), ("desk-1", "incident_update")]
    finally:
        one.close(), two.close(), gate.close()


def test_actions_are_logged_like_reports_and_rejections_come_back(event_dir, hub):
    finished = []
    d = link(event_dir, hub, on_action=finished.append)
    try:
        assert d.wait_ready(10)
        ok = d.instruct("post.gate", "关闭西门，车辆改走东门", ack_required=True)
        bad = d.update_incident(9999, status="acknowledged")
        assert d.client.wait_delivered(ok.seq, 10).state == "delivered"
        assert d.client.wait_delivered(bad.seq, 10).state == "rejected"
        wait_for(lambda: len(finished) == 2, 5, "both final outcomes reported")
        assert {r.state for r in finished} == {"delivered", "rejected"}
        assert next(r for r in finished if r.state == "rejected").code == "E_UNKNOWN"
        (row,) = log_rows(event_dir.db(), "type = 'instruction'")
        assert row[1] == "desk-1" and json.loads(row[5])["target"] == "post.gate"
        wait_for(lambda: d.picture().state.instructions, 5, "the instruction in the desk's picture")
    finally:
        d.close()


def test_a_screen_that_stops_drawing_gets_a_new_snapshot_not_an_endless_queue(event_dir, hub, monkeypatch):
    import console.desk.link as desk_link
    monkeypatch.setattr(desk_link, "QUEUE_MAX", 10)
    gate = station(event_dir, hub, "gate-1")
    d = link(event_dir, hub)
    try:
        assert d.wait_ready(10)
        # A first snapshot asked before the SUB was heard is asked again when it is (follower.heard): were the
        # traffic that first SUB frame, its events would wait for that snapshot and never reach the queue (a CI run).
        wait_for(lambda: d.follower.live, 10, "the desk's feed heard from, its picture trusted")
        before = d.picture()
        traffic(gate, 25)                  # nobody calls picture() meanwhile: the queue passes its bound
        wait_for(lambda: d.follower.gaps > before.gaps and d.follower.state == ACTIVE
                 and d.follower.snapshots > before.snapshots, 10, "the link to drop its queue for a snapshot")
        gate.stop()
        wait_for(lambda: same_as_hub(event_dir, hub, d), 10, "the desk to match the hub")
        assert d.picture().state.cars["in"] == 25
    finally:
        d.close()
        gate.close()


def test_presence_names_the_last_committed_gseq(event_dir, hub):
    ctx = zmq.Context()
    gate = station(event_dir, hub, "gate-1")
    try:
        feed = Feed(ctx, hub.feed, server_key(event_dir), desk_pair(event_dir, "desk-1"), [])
        feed.ready()
        saved = gate.submit("car_in", {"count": 1})
        gseq = gate.wait_delivered(saved.seq, 10).gseq
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, env = feed.recv(5.0, {"presence"})
            if env.message.gseq >= gseq:
                break
        assert gseq <= env.message.gseq <= hub.hub.ingest.state.gseq
        feed.close()
    finally:
        gate.close()
        ctx.destroy(linger=0)


class ManualClock:
    """The desk's monotonic clock, moved only by the test (thread-safe: one float, replaced whole)."""

    def __init__(self, at: float = 1000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at

    def step(self, seconds: float) -> None:
        self.at += seconds


@pytest.mark.parametrize("heartbeat_s", [0.25, 1.0])
def test_the_hub_counts_as_unreachable_after_three_of_the_welcomes_heartbeats(event_dir, heartbeat_s):
    """Liveness is the welcome's interval times three (PROTOCOL.md 5.2), measured on the desk's own clock."""
    set_hub_options(event_dir, heartbeat_s=heartbeat_s)
    handle = run_in_thread(event_dir)
    clock = ManualClock()
    d = link(event_dir, handle, monotonic=clock)
    try:
        assert d.wait_ready(10)
        wait_for(lambda: d.follower.heartbeat_ms == int(heartbeat_s * 1000), 10, "the welcome")
        handle.stop()                                # nothing is heard from now on
        assert d.picture().hub_ok
        clock.step(3 * heartbeat_s - 0.05)
        assert d.picture().hub_ok
        clock.step(0.1)
        assert not d.picture().hub_ok
    finally:
        d.close()
        handle.stop()


def feed_proxy(hub) -> Proxy:
    """The hub's feed behind a proxy the test can cut."""
    return Proxy(("127.0.0.1", int(hub.feed.rsplit(":", 1)[1]))).start()


def lose_the_feed(proxy: Proxy, gate: StationClient, lost: int, start: int) -> None:
    """`lost` reports published while the feed's connection is gone, then one more after it is back."""
    proxy.blackhole()
    proxy.reset()
    traffic(gate, lost, start)
    proxy.heal()
    traffic(gate, 1, start + lost)


def test_a_feed_connection_lost_mid_event_shows_as_a_gap_and_the_desk_catches_up(event_dir, hub):
    """Events published while the desk's SUB reconnects are lost to it: the next one shows the gap
    (or presence names a gseq it lacks), and a new snapshot repairs the picture."""
    proxy = feed_proxy(hub)
    gate = station(event_dir, hub, "gate-1")
    d = DeskLink("desk-1", hub.endpoint, proxy.endpoint, event_dir.desk_key("desk-1"), event_dir.console_public,
                 event_dir.root / "desks" / "desk-1.outbox.db").start()
    try:
        assert d.wait_ready(10)
        traffic(gate, 5)
        wait_for(lambda: d.picture().state.cars["in"] == 5, 10, "the first events on the desk")
        before = d.picture()
        assert before.gaps == 0
        lose_the_feed(proxy, gate, 5, 5)
        gate.stop()
        wait_for(lambda: same_as_hub(event_dir, hub, d), 20, "the desk to repair its picture")
        pic = d.picture()
        assert pic.state.cars["in"] == 11 and pic.gaps > before.gaps and pic.snapshots > before.snapshots
    finally:
        d.close()
        gate.close()
        proxy.close()


def test_the_desk_notices_a_lost_hub_and_catches_up_after_a_restart(event_dir):
    handle = run_in_thread(event_dir)
    d = link(event_dir, handle)
    gate = None
    try:
        assert d.wait_ready(10)
        handle.stop()
        wait_for(lambda: not d.picture().hub_ok, 10, "the desk to see the hub gone")
        handle = run_in_thread(event_dir)           # same folder, same endpoints: a restart
        gate = station(event_dir, handle, "gate-1")
        traffic(gate, 3)
        gate.stop()
        wait_for(lambda: d.picture().hub_ok and d.picture().state.cars["in"] == 3, 20,
                 "the desk to reconnect and catch up")
        wait_for(lambda: same_as_hub(event_dir, handle, d), 10, "the desk to match the restarted hub")
    finally:
        d.close()
        if gate is not None:
            gate.close()
        handle.stop()


def test_ensure_hub_starts_a_detached_hub_that_outlives_the_desk(event_dir: EventFolder):
    import os
    import signal
    assert event_dir.read_runtime() is None
    info = ensure_hub(event_dir)
    try:
        assert info.started and info.log_path == event_dir.root / "hub.log"
        assert event_dir.read_runtime()["pid"] == info.pid
        again = ensure_hub(event_dir)                 # a second desk finds it and starts nothing
        assert not again.started and again.pid == info.pid and again.endpoint == info.endpoint
        assert os.getsid(info.pid) == info.pid        # its own session: the desk's Ctrl-C never reaches it
    finally:
        os.kill(info.pid, signal.SIGTERM)
        wait_for(lambda: event_dir.read_runtime() is None, 10, "the hub to stop")
