"""The Clone follower as a state machine: snapshot pages, feed events and presence in, what to hand over and when to resync out; pure.

PROTOCOL.md 5.6 (the zguide's `clone.py`): INITIAL (nothing asked yet) → SYNCING (a snapshot asked
for; the feed is buffered meanwhile) → ACTIVE (events fold in gseq order on the snapshot), and back
to SYNCING whenever the picture can no longer be trusted: a gap or a `cut` event on the feed, the
hand-over queue overflowing, presence naming a gseq the picture lacks, the hub back after a silence.
No sockets, threads or clock here: every input carries `now` (seconds on a monotonic clock) and the
agent that owns the sockets does what `take()` says (send these requests, rebuild the DEALER, hand
this base and these events to the screen).

Two hubs (PROTOCOL.md 5.13): given more than one (ROUTER, feed) pair, the follower also says when to
move both sockets to the other hub (after the liveness timeout, or at once on `E_PASSIVE`, then
alternating with the back-off of 5.2), takes the welcome's `hubs` list in place of what it knew, and
keeps the hubs' `pair` status (`Pair`) for the desk's indicator; a new era asks for a fresh picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from protocols.messages import Committed, Presence, Snapshot, SnapshotRequest, Welcome

INITIAL, SYNCING, ACTIVE = "initial", "syncing", "active"

DEFAULT_HEARTBEAT_MS = 1000   # PROTOCOL.md 5.2: the interval before a welcome names one
LIVENESS = 3                  # heartbeat intervals heard nothing: the hub is unreachable (5.2)
SNAPSHOT_RETRY_S = 5.0        # an unanswered snapshot_request: rebuild the DEALER and ask again
BEHIND_S = 1.0                # presence names a gseq the picture lacks for this long: the last event was lost (5.6)
BUFFER_MAX = 200_000          # feed events held while a snapshot is on its way
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 4.0   # the waits between moves to the other hub (5.2), reset by a welcome
HUBS_MAX = 4                  # more in a welcome's `hubs` is not a pair of hubs: the rest is ignored
ROLES, PEERS = ("primary", "backup"), ("none", "in_step", "behind", "lost")


@dataclass(frozen=True)
class Pair:
    """The welcome's or presence's `pair` (5.13): which hub speaks (the active one), its era, how its peer is."""

    me: str
    era: int
    peer: str

    @property
    def redundant(self) -> bool:
        """The event names a backup (`peer` is not "none"): there is something for the desk to show."""
        return self.peer != "none"


def pair_of(raw: Any) -> Pair | None:
    """`pair` as sent, or None when it is absent (an older hub) or not of the agreed shape."""
    if not isinstance(raw, dict):
        return None
    me, era, peer = raw.get("me"), raw.get("era"), raw.get("peer")
    if me not in ROLES or peer not in PEERS or type(era) is not int or era < 0:
        return None
    return Pair(me, era, peer)


def hubs_of(raw: Any) -> tuple[tuple[str, str], ...]:
    """A welcome's `hubs: [{endpoint, feed}, …]` (the active one first) as (ROUTER, feed) pairs; () if unusable."""
    if not isinstance(raw, list):
        return ()
    found: list[tuple[str, str]] = []
    for item in raw[:HUBS_MAX]:
        if not isinstance(item, dict):
            return ()
        endpoint, feed = item.get("endpoint"), item.get("feed")
        if not (isinstance(endpoint, str) and isinstance(feed, str) and endpoint.startswith("tcp://")
                and feed.startswith("tcp://")):
            return ()
        found.append((endpoint, feed))
    return tuple(found)


@dataclass
class Orders:
    """What the agent must do after the inputs since the last `take()`, in this order."""

    move: tuple[str, str] | None = None   # close DEALER and SUB (linger 0), connect both to this (ROUTER, feed) first
    rebuild: bool = False          # close the DEALER and open a new one (with its hello) before sending
    requests: list[SnapshotRequest] = field(default_factory=list)   # to send on the DEALER, in order
    heartbeat: bool = False        # send a heartbeat on the DEALER
    based: bool = False            # a new base: it replaces everything handed over before it
    base: Any = None               # ...the loaded snapshot (None for a follower that rebases itself)
    events: list[Committed] = field(default_factory=list)   # in gseq order, after the base or the last handed over
    touches: dict[str, tuple[int, int]] = field(default_factory=dict)   # station -> (last_heard_ms, outbox)
    changed: bool = False          # something the screen shows changed: tell it
    problems: list[str] = field(default_factory=list)   # unusable snapshots, for the agent's log


class Follower:
    """Follows one hub's feed; one thread feeds it (not thread-safe), others may read its counters."""

    def __init__(self, load: Callable[[bytes], Any] | None = None, *, buffer_max: int = BUFFER_MAX,
                 retry_s: float = SNAPSHOT_RETRY_S, behind_s: float = BEHIND_S,
                 hubs: tuple[tuple[str, str], ...] = ()) -> None:
        # `load` turns a snapshot's joined pages into the base handed over; it raises ValueError
        # (or KeyError, TypeError, AttributeError) for one that cannot be used.
        self.load = load
        self.buffer_max, self.retry_s, self.behind_s = buffer_max, retry_s, behind_s
        self.state = INITIAL
        self.gseq: int | None = None          # the last event handed over (None: no base yet)
        self.heartbeat_ms = DEFAULT_HEARTBEAT_MS
        self.drill = False
        self.heard_at: float | None = None    # when the hub was last heard, on either socket
        self.snapshots = 0
        self.gaps = 0
        self.buffer: list[Committed] = []
        self._pages: tuple[int, int, dict[int, bytes]] | None = None   # the snapshot being fetched: gseq, pages, data
        self._asked_at = 0.0
        self._asked_before_live = False   # set at each request; a follower rebased from elsewhere never asked
        self._sub_live = False                # the SUB has delivered something: our subscription is in place
        self._behind_since: float | None = None   # when presence first named a gseq we have not handed over
        self._touched: dict[str, tuple[int, int]] = {}
        self._was_ok = self._lost = False
        self._beat_at: float | None = None
        self._out = Orders()
        # Two hubs: where the sockets go (hubs[at]), the hubs' status, and the moves' timing.
        self.hubs, self.at = tuple(hubs), 0
        self.pair: Pair | None = None
        self.era: int | None = None           # the era of the last pair seen: a new one drops the picture
        self.moves = 0
        self.refusals = 0                     # E_PASSIVE answers heard (each a move at once or after the back-off)
        self._opened_at = 0.0                 # when the sockets were last connected (liveness counts from there too)
        self._move_at: float | None = None    # a move decided, to be made then
        self._backoff = BACKOFF_FIRST
        self._settled = True                  # welcomed since the last move: an E_PASSIVE moves at once

    # --- what the agent reads -------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """A base has been handed over: there is a picture to draw."""
        return self.gseq is not None

    def hub_ok(self, now: float) -> bool:
        """Heard from the hub within LIVENESS heartbeat intervals (the welcome's, or the default before one)."""
        heard = self.heard_at
        return heard is not None and now - heard < LIVENESS * self.heartbeat_ms / 1000

    @property
    def live(self) -> bool:
        """The picture is trusted and the feed is known to reach us: ACTIVE, with the SUB heard from. Until the
        SUB is heard, a snapshot asked before may be asked again (`heard`), and events wait for it."""
        return self.state == ACTIVE and self._sub_live

    @property
    def hub(self) -> tuple[str, str] | None:
        """The (ROUTER, feed) the sockets go to now (None: the agent was given none)."""
        return self.hubs[self.at] if self.hubs else None

    def take(self) -> Orders:
        """What to do since the last call; the follower forgets it."""
        out, self._out = self._out, Orders()
        return out

    # --- inputs ---------------------------------------------------------------------------------
    def start(self, now: float) -> None:
        """INITIAL → SYNCING: ask for the picture (the agent subscribed first, so nothing slips past)."""
        if self.state == INITIAL:
            self._opened_at = now
            self._beat_at = now   # the hello has just gone: the first heartbeat is one interval away
            self._resync(now)

    def heard(self, now: float, sub: bool = False) -> None:
        """Any frame from the hub, readable or not (`sub`: on the SUB, so our subscription is in place)."""
        self.heard_at = now
        if sub and not self._sub_live:
            self._sub_live = True
            # A snapshot asked for before the subscription took effect may miss an event
            # committed in between, which shows as a gap only if another follows: ask again.
            if self._asked_before_live and self.state == ACTIVE:
                self._resync(now)

    def welcome(self, w: Welcome, now: float, hubs: Any = None, pair: Any = None) -> None:
        """The hub's welcome: its heartbeat interval from now on (liveness counts in it) and the drill flag.

        `hubs` and `pair` (5.13) are the welcome's, raw (the message's own fields when it has them);
        a `hubs` list replaces the pairs known, and the sockets stay where they are.
        """
        self.heartbeat_ms = max(1, w.heartbeat_ms)
        self.drill = w.drill
        self._out.changed = True
        self._backoff, self._settled = BACKOFF_FIRST, True
        known = hubs_of(getattr(w, "hubs", None) if hubs is None else hubs)
        if known:
            here = self.hub
            self.hubs, self.at = known, known.index(here) if here in known else 0
        self._paired(getattr(w, "pair", None) if pair is None else pair, now)

    def passive(self, now: float) -> None:
        """A `nack E_PASSIVE`: this hub is not the active one; go to the other at once (back-off if bouncing)."""
        self.refusals += 1
        if len(self.hubs) > 1 and self._move_at is None:
            self._plan_move(now, 0.0 if self._settled else self._backoff)

    def event(self, c: Committed, now: float) -> None:
        """One feed event: buffered while syncing, handed over in order once active."""
        if self.state != ACTIVE:
            if len(self.buffer) >= self.buffer_max:
                del self.buffer[: self.buffer_max // 2]   # the snapshot will cover what falls out
            self.buffer.append(c)
            return
        assert self.gseq is not None
        if c.gseq <= self.gseq:
            return   # in the base already, or a repeat
        if c.cut:
            # Too large for the feed (a guest list of thousands): only a snapshot carries it.
            self.gaps += 1
            self.buffer = []
            self._resync(now)
            return
        if c.gseq != self.gseq + 1:
            # The PUB dropped something (high-water mark, reconnect): this event cannot be
            # folded on top of a picture that misses the ones before it.
            self.gaps += 1
            self.buffer = [c]
            self._resync(now)
            return
        self.gseq = c.gseq
        self._out.events.append(c)
        self._out.changed = True

    def presence(self, p: Presence, now: float, pair: Any = None) -> None:
        """Station liveness to touch in the picture, and the hub's last gseq to check the picture against.

        A gap shows only when a later event arrives, so a lost *last* event would go unseen until
        the next one. Presence names the hub's last gseq: behind it for over `behind_s` (longer
        than an event takes to follow its commit), the picture has missed one.
        """
        self._paired(getattr(p, "pair", None) if pair is None else pair, now)
        if self.gseq is None:
            return   # the snapshot will carry the stations as they are
        if self.state != ACTIVE or p.gseq <= self.gseq:
            self._behind_since = None
        elif self._behind_since is None:
            self._behind_since = now
        elif now - self._behind_since > self.behind_s:
            self._behind_since = None
            self.gaps += 1
            self._resync(now)
        for sid, info in p.stations.items():
            if isinstance(info, dict):
                seen = (int(info.get("last_heard_ms", 0) or 0), int(info.get("outbox", 0) or 0))
                if self._touched.get(sid) != seen:
                    self._touched[sid] = self._out.touches[sid] = seen
                    self._out.changed = True

    def page(self, page: Snapshot, now: float) -> None:
        """One snapshot page: ask for the next missing one, or, with all of them, take the new base."""
        if self.state != SYNCING:
            return   # an answer to a request already satisfied
        if self._pages is None or self._pages[0] != page.gseq:
            if page.page != 0:
                return   # a late page of a snapshot given up
            self._pages = (page.gseq, page.pages, {})
        gseq, pages, parts = self._pages
        parts[page.page] = page.data
        missing = next((n for n in range(pages) if n not in parts), None)
        if missing is not None:
            self._asked_at = now
            self._out.requests.append(SnapshotRequest(gseq=gseq, page=missing))
            return
        self._pages = None
        data = b"".join(parts[n] for n in range(pages))
        try:
            base = self.load(data) if self.load is not None else data
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Left SYNCING: the retry timer asks again on a new DEALER, not at once in a loop.
            self._out.problems.append(f"unusable snapshot at gseq {gseq}: {exc}")
            return
        self.rebase(gseq, base, now)

    def rebase(self, gseq: int, base: Any, now: float) -> None:
        """A new base: the picture after event `gseq`. The buffered feed after it follows in order."""
        self._out.based, self._out.base, self._out.events = True, base, []
        # Presence heard since the snapshot was built is newer than what it says of the stations.
        self._out.touches = dict(self._touched)
        self._out.changed = True
        self.gseq, self.state, self._pages = gseq, ACTIVE, None
        self._behind_since = None
        self.snapshots += 1
        pending, self.buffer = sorted(self.buffer, key=lambda c: c.gseq), []
        for c in pending:
            self.event(c, now)   # a gap among them resyncs, and the rest wait in the buffer again
        if self.state == ACTIVE and self._asked_before_live and self._sub_live:
            self._resync(now)

    def overflowed(self, now: float) -> None:
        """The agent's hand-over queue passed its bound (the screen is stuck or gone) and was dropped."""
        if self.state == ACTIVE:
            self.gaps += 1
            self._resync(now)

    def tick(self, now: float) -> None:
        """Timers: a move to the other hub, a resync when the hub is back after a silence, the snapshot retry, the heartbeat."""
        if len(self.hubs) > 1:
            since = max(self.heard_at or self._opened_at, self._opened_at)
            if self._move_at is None and now - since > LIVENESS * self.heartbeat_ms / 1000:
                self._plan_move(now, self._backoff)
            if self._move_at is not None:
                if now < self._move_at:
                    return   # waiting out the back-off: nothing to send to a hub we are leaving
                self._connect(now)
        ok = self.hub_ok(now)
        self._lost = self._lost or (self._was_ok and not ok)
        if ok != self._was_ok:
            self._out.changed = True
        self._was_ok = ok
        if ok and self._lost and self.state == ACTIVE:
            # Back after a silence: what was published meanwhile is lost to us, and a gap
            # shows only when the next event comes, so ask for the picture now.
            self._lost = False
            self._resync(now)
        if self.state == SYNCING and now - self._asked_at > self.retry_s:
            self._out.rebuild = True
            self._resync(now)
            self._beat_at = now
        elif self._beat_at is None or now - self._beat_at >= self.heartbeat_ms / 1000:
            self._out.heartbeat = True
            self._beat_at = now

    # --- inside ---------------------------------------------------------------------------------
    def _paired(self, raw: Any, now: float) -> None:
        pair = pair_of(raw)
        if pair is None:
            return   # an older hub says nothing of a pair: keep showing nothing
        if pair != self.pair:
            self.pair = pair
            self._out.changed = True
        if self.era is not None and pair.era != self.era and self.state != INITIAL:
            # A new era: the events after its switch that we hold may have been set aside (5.13);
            # only a fresh snapshot is the new history. It replaces the whole picture when it lands.
            self.buffer = []
            self._resync(now)
        self.era = pair.era

    def _plan_move(self, now: float, wait: float) -> None:
        self.at = (self.at + 1) % len(self.hubs)
        self._move_at = now + wait
        if wait > 0:   # the move at once on E_PASSIVE leaves the first wait for a bounce back
            self._backoff = min(self._backoff * 2, BACKOFF_CAP)
        self._settled = False

    def _connect(self, now: float) -> None:
        """Both sockets to hubs[at], a hello and a fresh picture: the other hub's feed is another stream."""
        self._move_at = None
        self._opened_at = self._beat_at = now
        self._sub_live = self._lost = False
        self.buffer = []
        self.moves += 1
        # Whatever was to go to the old DEALER is moot: the new one gets its hello and this request.
        self._out.move, self._out.rebuild, self._out.requests, self._out.heartbeat = self.hubs[self.at], False, [], False
        self._resync(now)

    def _resync(self, now: float) -> None:
        self.state = SYNCING
        self._asked_at = now
        self._asked_before_live = not self._sub_live
        self._pages = None
        self._behind_since = None
        self._out.requests.append(SnapshotRequest())
