"""A passive hub's copy of the active one's log: pages of "the log since gseq N", then the feed, every gap recovered; pure.

PROTOCOL.md 5.13 ("The warm copy"): PAGING (pages asked for; the feed is buffered meanwhile) → FOLLOWING
(feed events written in gseq order) and back to PAGING on a gap, a `cut` event, an overflowing buffer
or a peer state that says the copy is behind (rejections never travel on the feed, so a peer's
rejection count ahead of the copy's always asks for a page). Each input returns a `Copy`: the events
and rejections to write, in order, with the gseqs and ids they have in the active log, and the
request to send. `fork_point` says where a returning hub's log left the history. No sockets, no log,
no clock: every input carries `now_ms`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from protocols.messages import Committed

PAGING, FOLLOWING = "paging", "following"
RETRY_MS = 5000            # a page asked for and not come: ask again
BEHIND_MS = 1000           # the peer's gseq ahead of the copy this long: the feed lost the last event
BUFFER_MAX = 200_000       # feed events held while pages are on their way


@dataclass
class Copy:
    """What the agent must do now: write these (one transaction, in this order), then send `ask`."""

    events: list[Committed] = field(default_factory=list)
    rejections: list[tuple[int, Any]] = field(default_factory=list)   # (id in the active log, the rejection)
    ask: tuple[int, int] | None = None     # log_request {after: gseq, after_rejection: id}

    def __bool__(self) -> bool:
        return bool(self.events or self.rejections or self.ask)


class LogCopy:
    """Follows the active hub's log into this one; one thread feeds it. `gseq`/`rejection` are the copy's ends."""

    def __init__(self, gseq: int, rejection: int, *, retry_ms: int = RETRY_MS, behind_ms: int = BEHIND_MS,
                 buffer_max: int = BUFFER_MAX) -> None:
        self.gseq, self.rejection = gseq, rejection
        self.retry_ms, self.behind_ms, self.buffer_max = retry_ms, behind_ms, buffer_max
        self.state = PAGING
        self.gaps = 0
        self._asked_ms: int | None = None
        self._behind_since: int | None = None
        self._buffer: dict[int, Committed] = {}

    def restart(self, gseq: int, rejection: int) -> None:
        """A write failed: carry on from what the log really holds."""
        self.gseq, self.rejection = gseq, rejection
        self._page_again()

    def tick(self, now_ms: int) -> Copy:
        """Ask for a page when one is due: none asked yet, or the last one unanswered for `retry_ms`."""
        out = Copy()
        if self.state == PAGING and (self._asked_ms is None or now_ms - self._asked_ms >= self.retry_ms):
            self._ask(out, now_ms)
        elif self._behind_since is not None and now_ms - self._behind_since >= self.behind_ms:
            self._page_again()
            self._ask(out, now_ms)
        return out

    def page(self, events: Sequence[Committed], rejections: Sequence[tuple[int, Any]], more: bool,
             now_ms: int) -> Copy:
        """A log_page arrived (oldest first). What joins the copy's end is written; a page that does not is asked again."""
        out = Copy()
        for ev in events:
            if ev.gseq <= self.gseq:
                continue
            if ev.gseq != self.gseq + 1 or ev.cut:
                break   # not where the copy ends: ask again from the end below
            out.events.append(ev)
            self.gseq = ev.gseq
        for rid, rejection in rejections:
            if rid > self.rejection:
                out.rejections.append((rid, rejection))
                self.rejection = rid
        joined = not events or events[-1].gseq <= self.gseq
        if more or not joined:
            self._ask(out, now_ms)
        else:
            self.state, self._asked_ms, self._behind_since = FOLLOWING, None, None
            self._drain(out)
            if self._buffer:   # held events that still do not join: the feed lost some while paging
                self._page_again()
                self._ask(out, now_ms)
        return out

    def feed(self, ev: Committed, now_ms: int) -> Copy:
        """An event from the active hub's feed."""
        out = Copy()
        if ev.gseq <= self.gseq:
            return out
        if self.state == PAGING:
            self._hold(ev)
            return out
        if ev.cut or ev.gseq != self.gseq + 1:
            self.gaps += 1
            self._page_again()
            self._hold(ev)
            self._ask(out, now_ms)
            return out
        out.events.append(ev)
        self.gseq = ev.gseq
        self._drain(out)
        return out

    def peer_at(self, gseq: int, rejection: int, now_ms: int) -> Copy:
        """The active hub's state says where its log ends (hub_state {gseq, rejections})."""
        out = Copy()
        if self.state != FOLLOWING:
            return out
        if rejection > self.rejection:
            self._page_again()
            self._ask(out, now_ms)
        elif gseq > self.gseq:
            self._behind_since = self._behind_since if self._behind_since is not None else now_ms
            out = self.tick(now_ms)
        else:
            self._behind_since = None
        return out

    def _hold(self, ev: Committed) -> None:
        if ev.cut:
            return   # too large for the feed: a page brings it
        if len(self._buffer) >= self.buffer_max:
            self._buffer.clear()   # the pages will bring them all the same
        self._buffer[ev.gseq] = ev

    def _drain(self, out: Copy) -> None:
        for g in sorted(self._buffer):
            if g <= self.gseq:
                continue
            if g != self.gseq + 1:
                break
            out.events.append(self._buffer[g])
            self.gseq = g
        self._buffer = {g: e for g, e in self._buffer.items() if g > self.gseq}

    def _page_again(self) -> None:
        self.state, self._asked_ms, self._behind_since = PAGING, None, None

    def _ask(self, out: Copy, now_ms: int) -> None:
        out.ask = (self.gseq, self.rejection)
        self._asked_ms = now_ms


def fork_point(own: Sequence[tuple[int, int]], theirs: Sequence[tuple[int, int]]) -> int | None:
    """Where a log left the history: the last gseq both share, from each side's hub switches (era, after_gseq).

    The earliest switch one side holds and the other does not names the last event before the two
    went apart (a switch is written only by the hub that became active, after what it held). None
    when both hold the same switches: within one era one log is a prefix of the other.
    """
    mine, other = sorted(own), sorted(theirs)
    for i in range(max(len(mine), len(other))):
        a = mine[i] if i < len(mine) else None
        b = other[i] if i < len(other) else None
        if a != b:
            return min(x[1] for x in (a, b) if x is not None)
    return None
