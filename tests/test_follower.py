"""The Clone follower on its own, by stepping `now`: every state change, the snapshot's pages, gaps, presence, liveness and the timers."""
from __future__ import annotations

from typing import Any

import pytest

from console.core import state as S
from console.core.follower import ACTIVE, INITIAL, SYNCING, Follower, Orders
from protocols import codec
from protocols.codec import ProtocolError
from protocols.messages import Committed, Presence, Snapshot, SnapshotRequest, Welcome

pytestmark = pytest.mark.pure

SUMMARY = {"stations": [{"id": "gate-1", "post": "gate"}]}


def ev(g: int, cut: bool = False) -> Committed:
    return Committed(gseq=g, station="gate-1", epoch="e", seq=g, type="car_in", station_ms=g, recv_ms=g,
                     body={"plate": "", "vip": False, "count": 1}, cut=cut)


def picture(upto: int) -> S.State:
    """The hub's picture after events 1..upto."""
    st = S.new_state(SUMMARY)
    for g in range(1, upto + 1):
        S.apply(st, ev(g))
    return st


def pages(st: S.State, size: int = 10_000) -> list[Snapshot]:
    """The snapshot of `st` as the hub cuts it: one packed map in pages of `size` bytes."""
    data = codec.pack(S.to_wire(st))
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return [Snapshot(gseq=st.gseq, page=n, pages=len(parts), data=p) for n, p in enumerate(parts)]


def load(data: bytes) -> S.State:
    try:
        return S.from_wire(codec.unpack(data, "state"))
    except ProtocolError as exc:
        raise ValueError(str(exc)) from exc


def live(now: float = 0.0) -> Follower:
    """A follower whose subscription is in place and that has asked for the picture."""
    f = Follower(load)
    f.heard(now, sub=True)
    f.start(now)
    assert f.state == SYNCING and f.take().requests == [SnapshotRequest()]
    return f


def synced(upto: int = 0, now: float = 0.0) -> Follower:
    f = live(now)
    for p in pages(picture(upto)):
        f.page(p, now)
    assert f.state == ACTIVE and f.gseq == upto
    f.take()
    return f


def gseqs(out: Orders) -> list[int]:
    return [c.gseq for c in out.events]


def test_initial_then_syncing_buffers_the_feed_and_active_hands_over_what_the_snapshot_lacks():
    f = Follower(load)
    assert f.state == INITIAL and not f.ready and f.take() == Orders()
    f.heard(0.0, sub=True)
    f.start(0.0)
    assert f.state == SYNCING and f.take().requests == [SnapshotRequest()]
    for g in (2, 3, 5, 4):                     # the feed, subscribed before the snapshot was asked for
        f.event(ev(g), 0.1)
    assert f.take().events == [] and not f.ready
    base = picture(3)
    first, *rest = pages(base, size=40)
    assert len(rest) >= 2                      # a snapshot of several pages
    f.page(first, 0.2)
    assert f.take().requests == [SnapshotRequest(gseq=3, page=1)]   # each next page asked for in turn
    for n, p in enumerate(rest[:-1], start=2):
        f.page(p, 0.3)
        assert f.take().requests == [SnapshotRequest(gseq=3, page=n)]
    f.page(rest[-1], 0.4)
    out = f.take()
    assert f.state == ACTIVE and f.ready and f.gseq == 5 and f.snapshots == 1
    assert out.based and S.to_wire(out.base) == S.to_wire(base) and out.requests == []
    assert gseqs(out) == [4, 5] and out.changed   # 2 and 3 are in the base; 4 and 5 in order once


def test_repeats_change_nothing_and_a_gap_asks_for_a_new_snapshot_without_folding_on_a_hole():
    f = synced(5)
    f.event(ev(5), 1.0)
    f.event(ev(4), 1.0)
    assert f.take() == Orders()
    f.event(ev(6), 1.0)
    assert gseqs(f.take()) == [6]
    f.event(ev(8), 1.1)                        # 7 was lost
    out = f.take()
    assert f.state == SYNCING and f.gaps == 1 and out.events == [] and out.requests == [SnapshotRequest()]
    f.event(ev(9), 1.2)                        # buffered now, not a second gap
    assert f.gaps == 1 and f.take().requests == []
    for p in pages(picture(7)):
        f.page(p, 1.3)
    out = f.take()
    assert out.based and out.base.gseq == 7 and gseqs(out) == [8, 9] and f.gseq == 9


def test_a_cut_event_is_fetched_with_a_snapshot_never_folded():
    f = synced(2)
    f.event(ev(3, cut=True), 1.0)
    out = f.take()
    assert out.events == [] and out.requests == [SnapshotRequest()] and f.state == SYNCING and f.gaps == 1
    for p in pages(picture(3)):
        f.page(p, 1.1)
    assert f.take().base.gseq == 3 and f.state == ACTIVE


def test_the_snapshot_retry_rebuilds_the_dealer_and_late_pages_of_the_abandoned_one_are_ignored():
    f = live(0.0)
    old = pages(picture(3), size=40)
    f.page(old[0], 0.5)
    assert f.take().requests == [SnapshotRequest(gseq=3, page=1)]
    f.tick(5.5)                                 # 5 s after the last page asked for: not yet
    assert not f.take().rebuild
    f.tick(5.51)
    out = f.take()
    assert out.rebuild and out.requests == [SnapshotRequest()] and not out.heartbeat
    f.page(old[1], 5.6)                         # a late page of the snapshot given up
    assert f.take() == Orders() and f.state == SYNCING
    new = pages(picture(4), size=40)
    f.page(new[0], 5.7)
    f.page(old[2], 5.7)                         # ...still ignored while the new one is fetched
    assert f.take().requests == [SnapshotRequest(gseq=4, page=1)]
    for p in new[1:]:
        f.page(p, 5.8)
    assert f.take().base.gseq == 4 and f.snapshots == 1
    f.page(new[0], 5.9)                         # an answer to a request already satisfied
    assert f.take() == Orders() and f.snapshots == 1


def test_page_zero_of_another_gseq_starts_the_snapshot_again():
    """A page no longer kept comes back as page 0 of the picture as it is now (PROTOCOL.md 5.6)."""
    f = live()
    f.page(pages(picture(3), size=40)[0], 0.1)
    f.take()
    for p in pages(picture(5)):
        f.page(p, 0.2)
    assert f.take().base.gseq == 5 and f.gseq == 5


def test_an_unusable_snapshot_waits_for_the_retry_not_a_loop():
    f = live()
    f.page(Snapshot(gseq=1, page=0, pages=1, data=codec.pack({"version": -1})), 0.1)
    out = f.take()
    assert out.problems and "gseq 1" in out.problems[0] and out.requests == [] and f.state == SYNCING
    f.page(Snapshot(gseq=1, page=0, pages=1, data=b"\xc1"), 0.2)     # not even MessagePack
    assert f.take().problems and f.state == SYNCING
    f.tick(5.2)
    assert f.take().rebuild


@pytest.mark.parametrize("heartbeat_ms", [200, 1000])
def test_the_hub_is_unreachable_after_three_of_the_welcomes_heartbeats(heartbeat_ms: int):
    f = live()
    assert f.hub_ok(0.0)                        # heard at 0 (the subscription's first frame)
    f.welcome(Welcome(station="desk-1", post="desk", heartbeat_ms=heartbeat_ms), 0.0)
    silent = 3 * heartbeat_ms / 1000
    assert f.hub_ok(silent - 0.01) and not f.hub_ok(silent)
    f.heard(10.0)
    assert f.hub_ok(10.0 + silent - 0.01) and not f.hub_ok(10.0 + silent + 0.01)


def test_before_any_welcome_liveness_and_heartbeats_count_in_the_protocols_default():
    f = Follower(load)
    assert not f.hub_ok(0.0)                    # never heard
    f.start(0.0)
    f.heard(0.0)
    assert f.hub_ok(2.99) and not f.hub_ok(3.0)
    f.take()
    f.tick(0.99)
    assert not f.take().heartbeat
    f.tick(1.0)
    assert f.take().heartbeat


def test_heartbeats_go_at_the_welcomes_interval():
    f = synced()
    f.welcome(Welcome(station="desk-1", post="desk", heartbeat_ms=250), 0.0)
    f.tick(0.0)
    f.take()
    beats = []
    for step in range(1, 11):                    # eighths of a second: exact in binary
        f.heard(step / 8)
        f.tick(step / 8)
        beats.append(f.take().heartbeat)
    assert beats.count(True) == 5 and beats[1] and not beats[0]


def test_the_hub_back_after_a_silence_means_a_new_snapshot():
    """What was published while the hub was unreachable is lost to us; a gap shows only at the next event."""
    f = synced(3)
    f.tick(1.0)
    assert f.take().requests == []
    f.tick(3.5)                                  # silent for three heartbeats: unreachable
    out = f.take()
    assert not f.hub_ok(3.5) and out.changed and out.requests == [] and f.state == ACTIVE
    f.tick(8.0)
    assert f.take().requests == []               # still silent: nothing to ask yet
    f.heard(9.0)
    f.tick(9.0)
    out = f.take()
    assert out.requests == [SnapshotRequest()] and f.state == SYNCING and out.changed
    for p in pages(picture(6)):
        f.page(p, 9.1)
    f.tick(9.2)
    assert f.take().requests == [] and f.state == ACTIVE     # once is enough


def test_presence_behind_the_picture_for_over_a_second_means_a_lost_last_event():
    """A gap shows only when a later event comes; presence names the hub's last gseq, so a lost *last* event
    is noticed too -- after a second, not at once (the event may simply be on its way)."""
    f = synced(5)

    def presence(gseq: int, at: float) -> list[SnapshotRequest]:
        f.presence(Presence(server_ms=1, stations={}, gseq=gseq), at)
        return f.take().requests

    assert presence(5, 100.0) == []              # level: nothing missed
    assert presence(6, 101.0) == []              # behind: wait, it may be on its way
    assert presence(6, 101.9) == []
    f.event(ev(6), 102.0)                        # ...and it came
    assert presence(6, 102.5) == []
    assert presence(7, 103.0) == [] and presence(7, 104.0) == []
    assert presence(7, 104.2) == [SnapshotRequest()] and f.gaps == 1    # still missing after a second: re-ask
    assert presence(9, 105.0) == [] and presence(9, 107.0) == []        # a snapshot is on its way: no more asking
    assert Presence(server_ms=1).gseq == 0                              # an older hub's presence never asks


def test_presence_touches_only_what_changed_and_survives_a_new_snapshot():
    f = Follower(load)
    f.heard(0.0, sub=True)
    f.start(0.0)
    f.take()
    seen = {"gate-1": {"last_heard_ms": 5_000, "outbox": 3}}
    f.presence(Presence(server_ms=1, stations=seen), 0.1)
    assert f.take() == Orders()                  # before any base: the snapshot carries the stations
    for p in pages(picture(0)):
        f.page(p, 0.2)
    assert f.take().touches == {}
    f.presence(Presence(server_ms=2, stations=seen | {"lobby-1": "junk"}), 0.3)
    out = f.take()
    assert out.touches == {"gate-1": (5_000, 3)} and out.changed
    f.presence(Presence(server_ms=3, stations=seen), 0.4)
    assert f.take() == Orders()                  # the same news twice: nothing to hand over
    f.overflowed(0.5)
    f.take()
    for p in pages(picture(0)):
        f.page(p, 0.6)
    assert f.take().touches == {"gate-1": (5_000, 3)}   # heard since the snapshot was built: newer than it


def test_the_buffer_is_bounded_and_the_snapshot_covers_what_fell_out():
    f = Follower(load, buffer_max=10)
    f.heard(0.0, sub=True)
    f.start(0.0)
    for g in range(1, 13):
        f.event(ev(g), 0.1)
    assert [c.gseq for c in f.buffer] == list(range(6, 13))    # the oldest half went at the bound
    for p in pages(picture(5)):
        f.page(p, 0.2)
    assert gseqs(f.take()) == list(range(6, 13))
    # A snapshot older than what fell out: the hole shows as a gap, never folded over.
    g = Follower(load, buffer_max=10)
    g.heard(0.0, sub=True)
    g.start(0.0)
    for n in range(1, 13):
        g.event(ev(n), 0.1)
    g.take()
    for p in pages(picture(2)):
        g.page(p, 0.2)
    out = g.take()
    assert out.based and out.events == [] and out.requests == [SnapshotRequest()] and g.gaps == 1


def test_an_overflowing_hand_over_queue_means_a_new_snapshot():
    f = synced(0)
    f.overflowed(1.0)
    assert f.take().requests == [SnapshotRequest()] and f.gaps == 1 and f.state == SYNCING
    f.overflowed(1.1)                            # already asking: once is enough
    assert f.take().requests == [] and f.gaps == 1


def test_a_snapshot_asked_before_the_subscription_was_live_is_asked_again():
    """An event committed between the request and the subscription taking effect shows as a gap only if
    another follows: the first frame on the SUB after the snapshot, or the snapshot after it, asks again."""
    f = Follower(load)
    f.start(0.0)
    f.take()
    for p in pages(picture(2)):
        f.page(p, 0.1)
    assert f.take().requests == [] and f.state == ACTIVE
    assert not f.live                            # a picture, but not yet one the feed is known to follow
    f.heard(0.2, sub=True)
    assert f.take().requests == [SnapshotRequest()] and not f.live
    for p in pages(picture(3)):
        f.page(p, 0.3)
    assert f.take().requests == [] and f.gseq == 3 and f.live
    # ...and when the subscription became live while the snapshot was on its way:
    g = Follower(load)
    g.start(0.0)
    g.take()
    g.heard(0.1, sub=True)
    assert g.take().requests == []
    for p in pages(picture(2)):
        g.page(p, 0.2)
    assert g.take().requests == [SnapshotRequest()]


def test_the_welcome_says_whether_this_is_a_drill():
    f = live()
    f.welcome(Welcome(station="desk-1", post="desk", drill=True), 0.0)
    assert f.drill and f.take().changed


def test_a_follower_without_load_hands_over_the_joined_pages():
    f = Follower()
    f.start(0.0)
    parts = pages(picture(1), size=40)
    for p in parts:
        f.page(p, 0.0)
    out: Any = f.take()
    assert out.base == b"".join(p.data for p in parts)
