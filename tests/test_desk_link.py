"""DeskLink against a real hub: snapshot then feed gives exactly the hub's state, for a late desk, two desks, a gap, a hub restart."""
from __future__ import annotations

import json
import threading
import time

import pytest
import zmq

from console.core import state as S
from console.desk.hub_start import ensure_hub
from console.desk.link import DeskLink
from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from protocols.messages import Committed, Presence
from stations.link.client import StationClient
from tests.wire import Client, Feed, desk_pair, log_rows, server_key, wait_for

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


def bare_link() -> DeskLink:
    """A DeskLink with no sockets and no thread: only its ordering half and picture() are exercised."""
    d = DeskLink.__new__(DeskLink)
    d.clock, d._offset_ms, d._heard_at, d._drill = time.time, 0, None, False
    d._lock, d._fold_lock = threading.Lock(), threading.Lock()
    d._base, d._events, d._touches, d._touched = None, [], {}, {}
    d._state, d._version, d._gseq = None, 0, None
    d._awaiting, d._buffer, d._dirty, d._gaps, d._snapshots, d._behind_since = True, [], False, 0, 0, None
    d._asked_before_live, d._sub_live = False, True
    return d


def folded(d: DeskLink) -> S.State:
    """What the screen would draw now (picture() folds what the link handed over)."""
    d.client = type("Idle", (), {"link_status": lambda self: type("St", (), {"drill": False, "waiting": 0,
                                                                              "last_error": ""})()})()
    return d.picture().state


@pytest.mark.pure
def test_a_gap_in_the_feed_means_a_new_snapshot():
    """The Clone rules on their own: buffer until the snapshot, drop what it covers, re-ask on a gap."""
    d = bare_link()
    summary = {"stations": [{"id": "gate-1", "post": "gate"}]}

    def ev(g: int) -> Committed:
        return Committed(gseq=g, station="gate-1", epoch="e", seq=g, type="car_in", station_ms=g, recv_ms=g,
                         body={"plate": "", "vip": False, "count": 1})

    def feed(g: int) -> bool:
        fresh: list[Committed] = []
        need = d._event(ev(g), fresh)
        d._hand_over(fresh)
        return need

    base = S.new_state(summary)
    for g in (1, 2, 3):
        S.apply(base, ev(g))
    for g in (2, 3, 4, 5):            # the feed, subscribed before the snapshot was asked for
        assert feed(g) is False
    assert folded(d) is None                                      # nothing to draw before the snapshot
    assert d._snapshot(3, S.to_wire(base)) is False
    state = folded(d)
    assert state.gseq == 5 and state.cars["in"] == 5              # 4 and 5 applied once; 2 and 3 dropped
    assert feed(5) is False and folded(d).cars["in"] == 5         # a repeat changes nothing
    assert feed(7) is True and d._gaps == 1                       # 6 was lost: ask again
    assert folded(d).gseq == 5                                    # ...without folding 7 on a hole
    # The new snapshot replaces the picture; what was handed over before it is in it, not applied twice.
    for g in (4, 5, 6, 7):
        S.apply(base, ev(g))
    d._awaiting = True
    assert d._snapshot(base.gseq, S.to_wire(base)) is False
    again = folded(d)
    assert again is not state and again.gseq == 7 and S.to_wire(again) == S.to_wire(base)


@pytest.mark.pure
def test_a_screen_that_stops_drawing_gets_a_new_snapshot_not_an_endless_queue(monkeypatch):
    import console.desk.link as desk_client
    monkeypatch.setattr(desk_client, "QUEUE_MAX", 10)
    d = bare_link()
    d._snapshot(0, S.to_wire(S.new_state({"stations": [{"id": "gate-1", "post": "gate"}]})))
    events = [Committed(gseq=g, station="gate-1", epoch="e", seq=g, type="car_in", station_ms=g, recv_ms=g,
                        body={"plate": "", "vip": False, "count": 1}) for g in range(1, 13)]
    assert d._hand_over(events[:10]) is False and len(d._events) == 10
    assert d._hand_over(events[10:]) is True and d._events == [] and d._gaps == 1   # ask for the picture again
    assert folded(d).gseq == 0                 # nothing half-applied meanwhile; the snapshot brings it all


@pytest.mark.pure
def test_presence_reaches_the_picture_without_a_copy():
    d = bare_link()
    d._snapshot(0, S.to_wire(S.new_state({"stations": [{"id": "gate-1", "post": "gate"}]})))
    first = folded(d)
    version = d._version
    d._presence(Presence(server_ms=1, stations={"gate-1": {"last_heard_ms": 5_000, "outbox": 3}}, gseq=0))
    assert folded(d) is first and first.stations["gate-1"]["last_heard_ms"] == 5_000 \
        and first.stations["gate-1"]["outbox"] == 3 and d._version == version + 1
    d._presence(Presence(server_ms=2, stations={"gate-1": {"last_heard_ms": 5_000, "outbox": 3}}, gseq=0))
    assert folded(d) is first and d._version == version + 1      # the same news twice: no new frame


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


@pytest.mark.pure
def test_presence_behind_the_picture_for_over_a_second_means_a_lost_last_event():
    """A gap shows only when a later event comes; presence names the hub's last gseq, so a lost *last* event
    is noticed too -- after BEHIND_S, not at once (the event may simply be on its way)."""
    d = bare_link()
    d._awaiting, d._gseq = False, 5

    def presence(gseq: int, at: float) -> bool:
        return d._presence(Presence(server_ms=1, stations={}, gseq=gseq), now=at)

    assert presence(5, 100.0) is False and d._behind_since is None       # level: nothing missed
    assert presence(6, 101.0) is False                                   # behind: wait, it may be on its way
    assert presence(6, 101.9) is False
    d._gseq = 6                                                          # ...and it came
    assert presence(6, 102.5) is False and d._behind_since is None
    assert presence(7, 103.0) is False
    assert presence(7, 104.2) is True and d._gaps == 1                   # still missing after a second: re-ask
    d._awaiting = True                                                   # a snapshot is on its way: no more asking
    assert presence(9, 105.0) is False and presence(9, 107.0) is False
    assert Presence(server_ms=1).gseq == 0                               # an older hub's presence never asks


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
