"""Two hubs by the zguide's Binary Star rules: peer states, client requests and time in, the hub's state out; pure.

One `Pair` value is what a hub knows of itself and its peer; `peer_said` and `client_came` are the only
ways it changes, each given `now_ms` by the caller (the hub's clock, a test's stepped one).
PROTOCOL.md 5.13 is the table these functions follow; `tests/test_binary_star.py` steps through it.
No sockets, no clock, no log: the hub writes the `hub_switch` event when `Step.switched` says so.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

PRIMARY, BACKUP, ACTIVE, PASSIVE = "primary", "backup", "active", "passive"
STATES = (PRIMARY, BACKUP, ACTIVE, PASSIVE)
ROLES = (PRIMARY, BACKUP)

# What became of a client's request.
SERVED, REFUSED = "served", "refused"

# Why a hub became active: written into its hub_switch event.
PEER_WAITING, PEER_RESTARTED, PEER_LOST, PEER_PASSIVE, ALONE = (
    "peer_waiting", "peer_restarted", "peer_lost", "peer_passive", "alone")
# Why a hub gave way: written into its log as the end of its era.
GAVE_WAY = "gave_way"


@dataclass(frozen=True)
class Pair:
    """One hub's view: its configured role, its state, its era, and when it last heard its peer."""

    role: str                    # PRIMARY or BACKUP, from how it was started (eventdesk hub [--backup])
    state: str
    era: int                     # the highest era seen, in its own log or from its peer (0: never active)
    window_ms: int               # the peer window: 2 × the hub heartbeat
    started_ms: int
    peer_heard_ms: int | None = None
    peer_state: str | None = None
    peer_era: int = 0

    def peer_lost(self, now_ms: int) -> bool:
        """No state from the peer for the peer window (or never, since the window after start)."""
        last = self.peer_heard_ms if self.peer_heard_ms is not None else self.started_ms
        return now_ms - last >= self.window_ms

    @property
    def serving(self) -> bool:
        return self.state == ACTIVE


@dataclass(frozen=True)
class Step:
    """A transition's outcome: the new Pair, whether the hub became active (or gave way), and why."""

    pair: Pair
    switched: bool = False       # it became active: write hub_switch {era, hub: role, after_gseq, reason}
    gave_way: bool = False       # it stopped being active: refuse every client from now on
    reason: str = ""
    answer: str = ""             # for client_came: SERVED or REFUSED


def start(role: str, now_ms: int, heartbeat_ms: int, era: int = 0) -> Pair:
    """A hub just started as `role`, its log's last era being `era`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    if heartbeat_ms <= 0:
        raise ValueError("heartbeat_ms must be more than 0")
    return Pair(role=role, state=role, era=era, window_ms=2 * heartbeat_ms, started_ms=now_ms)


def _activate(pair: Pair, reason: str) -> Step:
    era = max(pair.era, pair.peer_era) + 1
    return Step(replace(pair, state=ACTIVE, era=era), switched=True, reason=reason)


def peer_said(pair: Pair, state: str, era: int, now_ms: int) -> Step:
    """The peer's published state arrived: note it, then follow the table of PROTOCOL.md 5.13."""
    if state not in STATES:
        raise ValueError(f"peer state must be one of {STATES}, got {state!r}")
    heard = replace(pair, peer_heard_ms=now_ms, peer_state=state, peer_era=max(pair.peer_era, era))
    if pair.state == PRIMARY:
        if state in (BACKUP, PASSIVE):
            return _activate(heard, PEER_WAITING if state == BACKUP else PEER_PASSIVE)
        if state == ACTIVE:
            return Step(replace(heard, state=PASSIVE))
    elif pair.state == BACKUP:
        if state == ACTIVE:
            return Step(replace(heard, state=PASSIVE))
    elif pair.state == ACTIVE:
        if state == ACTIVE and _peer_wins(pair, era):
            return Step(replace(heard, state=PASSIVE), gave_way=True, reason=GAVE_WAY)
    elif pair.state == PASSIVE:
        if state in (PRIMARY, BACKUP):
            return _activate(heard, PEER_RESTARTED)
        if state == PASSIVE and pair.role == PRIMARY:
            return _activate(heard, PEER_PASSIVE)
    return Step(heard)


def _peer_wins(pair: Pair, peer_era: int) -> bool:
    """Two actives: the later era stays; on equal eras the primary does."""
    if peer_era != pair.era:
        return peer_era > pair.era
    return pair.role == BACKUP


def client_came(pair: Pair, now_ms: int) -> Step:
    """A client's hello, report or action arrived: serve it, refuse it, or take over and serve it."""
    if pair.state == ACTIVE:
        return Step(pair, answer=SERVED)
    if pair.state == PASSIVE and pair.peer_lost(now_ms):
        step = _activate(pair, PEER_LOST)
        return replace(step, answer=SERVED)
    if pair.state == PRIMARY and pair.peer_lost(now_ms):
        # A primary started alone: it waited the peer window to hear an active backup, and heard none.
        step = _activate(pair, ALONE)
        return replace(step, answer=SERVED)
    return Step(pair, answer=REFUSED)


def redundant(pair: Pair, now_ms: int, alone_after_ms: int) -> bool:
    """Whether the pair stands: one active and one passive, the peer heard within `alone_after_ms`."""
    if pair.peer_heard_ms is None or now_ms - pair.peer_heard_ms >= alone_after_ms:
        return False
    return {pair.state, pair.peer_state} == {ACTIVE, PASSIVE}
