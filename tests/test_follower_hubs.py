"""The follower with two hubs, by stepping `now`: when it moves both sockets to the other hub, the back-off, E_PASSIVE, the welcome's `hubs` and the `pair` status with its era (PROTOCOL.md 5.13)."""
from __future__ import annotations

import pytest

from console.core.follower import ACTIVE, SYNCING, Follower, Pair, hubs_of, pair_of
from protocols.messages import Presence, SnapshotRequest, Welcome
from tests.test_follower import ev, load, pages, picture

pytestmark = pytest.mark.pure

A = ("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751")
B = ("tcp://127.0.0.1:7760", "tcp://127.0.0.1:7761")
HB = 0.2                      # the welcome's heartbeat: liveness is 3 of them
WELCOME = Welcome(station="desk-1", post="desk", heartbeat_ms=int(HB * 1000))


def follower(*hubs: tuple[str, str], now: float = 0.0) -> Follower:
    f = Follower(load, hubs=hubs or (A, B))
    f.heard(now, sub=True)
    f.start(now)
    f.welcome(WELCOME, now)
    f.take()
    return f


def synced(f: Follower, upto: int, now: float) -> None:
    for p in pages(picture(upto)):
        f.page(p, now)
    assert f.state == ACTIVE and f.gseq == upto
    f.take()


def silent_until_move(f: Follower, start: float, step: float = 0.05, limit: float = 30.0) -> float:
    """Step the clock from `start` with nothing heard until the follower orders a move; when it did."""
    now = start
    while now < start + limit:
        now = round(now + step, 3)
        f.tick(now)
        if f.take().move is not None:
            return now
    raise AssertionError("no move")


def test_one_hub_never_moves_however_long_it_is_silent():
    f = follower(A)
    for n in range(1, 200):
        f.tick(n * 0.1)
        assert f.take().move is None
    assert f.hub == A and f.moves == 0


def test_silent_past_liveness_it_moves_both_sockets_to_the_other_hub_and_asks_for_a_fresh_picture():
    f = follower()
    synced(f, 5, 0.0)
    f.tick(3 * HB - 0.01)
    assert f.take().move is None                     # not yet: 3 heartbeats of silence is the limit
    f.tick(3 * HB + 0.01)
    assert f.take().move is None                     # decided; the first back-off (0.25 s) first
    f.tick(3 * HB + 0.27)
    out = f.take()
    assert out.move == B and f.hub == B
    assert out.requests == [SnapshotRequest()] and not out.heartbeat and not out.rebuild
    assert f.state == SYNCING and f.moves == 1


def test_it_keeps_alternating_and_the_waits_double_to_the_cap_until_a_welcome():
    f = follower()
    now, waits, where = 0.0, [], []
    for _ in range(7):
        before = now
        now = silent_until_move(f, now, step=0.01)
        waits.append(round(now - before - 3 * HB, 2))
        where.append(f.hub)
    assert where == [B, A, B, A, B, A, B]
    # Each wait is the back-off of 5.2 after the liveness (to the 10 ms step): 0.25, 0.5, 1, 2, 4, 4, 4.
    assert waits == pytest.approx([0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0], abs=0.02)
    f.heard(now)
    f.welcome(WELCOME, now)                        # welcomed: the waits start again
    f.take()
    now = silent_until_move(f, now, step=0.01)
    assert f.hub == A


def test_e_passive_moves_at_once_and_a_second_one_before_a_welcome_waits_the_back_off():
    f = follower()
    synced(f, 3, 0.0)
    f.passive(0.1)
    f.tick(0.1)
    assert f.take().move == B
    f.heard(0.12)
    f.passive(0.12)                                # the other is passive too (both just started)
    f.tick(0.12)
    assert f.take().move is None
    f.tick(0.12 + 0.26)
    assert f.take().move == A


def test_a_welcome_naming_the_hubs_replaces_what_it_knew_and_keeps_the_sockets_where_they_are():
    f = follower()
    c = ("tcp://127.0.0.2:7770", "tcp://127.0.0.2:7771")
    f.welcome(WELCOME, 0.1, hubs=[{"endpoint": c[0], "feed": c[1]}, {"endpoint": A[0], "feed": A[1]}])
    assert f.hubs == (c, A) and f.hub == A and f.take().move is None
    silent_until_move(f, 0.1)
    assert f.hub == c


@pytest.mark.parametrize("raw", [None, [], "x", [{"endpoint": "tcp://127.0.0.1:1"}], [{"endpoint": 1, "feed": 2}],
                                 [{"endpoint": "ipc:///tmp/x", "feed": "tcp://127.0.0.1:2"}], ["tcp://127.0.0.1:1"]])
def test_a_hubs_list_not_of_the_agreed_shape_is_ignored(raw):
    assert hubs_of(raw) == ()
    f = follower()
    f.welcome(WELCOME, 0.1, hubs=raw)
    assert f.hubs == (A, B)


def test_pair_status_is_taken_from_welcome_and_presence_and_absent_means_nothing_to_show():
    f = follower()
    assert f.pair is None                          # an older hub: the welcome said nothing
    f.welcome(WELCOME, 0.1, pair={"me": "primary", "era": 1, "peer": "in_step"})
    assert f.pair == Pair("primary", 1, "in_step") and f.pair.redundant
    synced(f, 4, 0.2)
    f.presence(Presence(server_ms=1, stations={}, gseq=4), 0.3, pair={"me": "primary", "era": 1, "peer": "lost"})
    out = f.take()
    assert f.pair.peer == "lost" and out.changed and out.requests == []   # same era: the picture stands
    f.presence(Presence(server_ms=2, stations={}, gseq=4), 0.4)           # a presence without it: kept
    assert f.pair.peer == "lost"
    assert not Pair("primary", 0, "none").redundant


@pytest.mark.parametrize("raw", [{"me": "third", "era": 1, "peer": "in_step"}, {"me": "backup", "era": -1, "peer": "lost"},
                                 {"me": "backup", "era": "2", "peer": "lost"}, {"me": "backup", "era": 2, "peer": "gone"},
                                 {"me": "backup", "era": True, "peer": "lost"}, ["backup", 2, "lost"], "pair"])
def test_a_pair_not_of_the_agreed_shape_is_none(raw):
    assert pair_of(raw) is None


def test_a_new_era_drops_what_was_buffered_and_the_fresh_snapshot_replaces_the_whole_picture():
    f = follower()
    f.welcome(WELCOME, 0.0, pair={"me": "primary", "era": 1, "peer": "in_step"})
    synced(f, 10, 0.0)
    # The backup took over at gseq 8: events 9 and 10 of era 1 were set aside; its own 9 is another event.
    f.welcome(WELCOME, 1.0, pair={"me": "backup", "era": 2, "peer": "lost"})
    out = f.take()
    assert f.state == SYNCING and out.requests == [SnapshotRequest()]
    f.event(ev(9), 1.1)                            # the new era's 9, buffered for the snapshot to sort out
    for p in pages(picture(8)):
        f.page(p, 1.2)
    out = f.take()
    assert out.based and out.base.gseq == 8 and [c.gseq for c in out.events] == [9]
    assert f.gseq == 9 and f.era == 2


def test_a_new_era_seen_first_on_presence_also_asks_for_a_fresh_picture():
    f = follower()
    f.welcome(WELCOME, 0.0, pair={"me": "primary", "era": 3, "peer": "in_step"})
    synced(f, 2, 0.0)
    f.presence(Presence(server_ms=1, stations={}, gseq=2), 0.5, pair={"me": "backup", "era": 4, "peer": "lost"})
    assert f.state == SYNCING and f.take().requests == [SnapshotRequest()]


def test_the_old_hubs_buffered_feed_is_not_folded_after_a_move():
    f = follower()
    synced(f, 5, 0.0)
    f.event(ev(7), 0.01)                           # a gap: a snapshot asked of A, A's feed buffered
    assert f.state == SYNCING and f.buffer
    move_at = silent_until_move(f, 0.01)
    assert f.hub == B and f.buffer == []
    for p in pages(picture(5)):                    # B holds only 1..5 (it had not copied 6 and 7)
        f.page(p, move_at + 0.1)
    out = f.take()
    assert out.based and out.base.gseq == 5 and out.events == [] and f.gseq == 5


def test_welcome_and_presence_carry_pair_and_hubs_and_any_other_unknown_field_is_still_refused():
    from protocols import codec
    from protocols.codec import ProtocolError
    from protocols.session import REPLIES

    def read(frames):
        return codec.decode(frames).message
    pair, hubs = {"me": "backup", "era": 2, "peer": "lost"}, [{"endpoint": B[0], "feed": B[1]}]
    message = read(REPLIES.body_frames("welcome", {"station": "desk-1", "post": "desk", "pair": pair, "hubs": hubs}))
    assert isinstance(message, Welcome) and message.station == "desk-1"
    assert (message.pair, message.hubs) == (pair, hubs)
    message = read(REPLIES.body_frames("presence", {"server_ms": 5, "stations": {}, "gseq": 3, "pair": pair}))
    assert isinstance(message, Presence) and message.gseq == 3 and message.pair == pair
    with pytest.raises(ProtocolError) as refused:
        read(REPLIES.body_frames("presence", {"server_ms": 5, "stations": {}, "gseq": 3, "pear": 1}))
    assert refused.value.code == "E_SCHEMA"
    with pytest.raises(ProtocolError):
        read(REPLIES.body_frames("heartbeat", {"outbox": 0, "pair": pair}))   # only welcome and presence carry them
