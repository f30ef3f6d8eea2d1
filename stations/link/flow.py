"""The send window of a station's link: which seq goes on the wire next, what is out unanswered, when to rewind or pause; pure

`cursor` is the next seq to put on the wire in this pass, `inflight` what was put there and not
yet answered (seq -> when, on the link's monotonic clock). Anything that casts doubt on the wire
(a new session, a gap the console reports, a silence) rewinds the cursor to the first unacked
report and the link sends again in order: duplicates are harmless because the console re-acks them.
Times are arguments; nothing here reads a clock, a socket or the outbox.
"""
from __future__ import annotations

from protocols.messages import Nack

RATE_PAUSE = 0.25        # after E_RATE, before sending again (with a halved window)
STORAGE_PAUSE = 1.0      # after E_STORAGE or any other retryable code: the console's disk needs time
REWIND_QUIET = 0.2       # one E_GAP rewind per this many seconds: the rest are echoes of the first


class Flow:
    """The window's state for one connection; `reset` when a socket is rebuilt."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.reset()

    def reset(self) -> None:
        self.cursor = 0
        self.inflight: dict[int, float] = {}
        # Congestion window: halved on E_RATE, one more per ack, so a rate-limited station
        # settles near the console's pace instead of re-sending a full window into the limit.
        self.cwnd = float(self.window)
        self.replay_until = 0
        self.last_rewind = float("-inf")   # none yet: the first rewind is never "too soon"
        self.paused_until = 0.0

    def room(self) -> int:
        return int(self.cwnd) - len(self.inflight)

    def put(self, seq: int, now: float) -> None:
        self.inflight[seq] = now
        self.cursor = seq + 1

    def acked(self, seq: int) -> None:
        self.inflight.pop(seq, None)
        self.cwnd = min(float(self.window), self.cwnd + 1)

    def dropped(self, seq: int) -> None:
        """A final answer other than an ack: the report is done with, nothing is widened."""
        self.inflight.pop(seq, None)

    def rewind(self, target: int, now: float, force: bool = False) -> bool:
        if not force and now - self.last_rewind < REWIND_QUIET:
            return False
        self.last_rewind = now
        self.cursor = target
        for seq in [s for s in self.inflight if s >= target]:
            del self.inflight[seq]
        return True

    def retry(self, nack: Nack, first: int, now: float) -> None:
        """A retryable nack for one of ours; `first` is the first seq we still hold unanswered."""
        # Never rewind past what we hold: a console asking for seq 10**12 must not park the cursor.
        if nack.code == "E_GAP":
            expected = nack.expected or nack.seq
            resent = self.inflight.get(expected)
            if resent is not None and resent >= self.last_rewind:
                return  # an echo of a gap we already closed by resending `expected`
            if expected < first:
                self.replay_until = first  # it wants reports we hold as handled: it lost them
            self.rewind(min(expected, first), now)
            return
        # E_RATE, E_STORAGE or any later retryable code: wait, then resend in order.
        rate = nack.code == "E_RATE"
        if rate:
            self.cwnd = max(1.0, self.cwnd / 2)
        self.paused_until = now + (RATE_PAUSE if rate else STORAGE_PAUSE)
        self.rewind(first, now, force=True)

    def replay_from(self, last_seq: int, first: int, now: float) -> bool:
        """A new session: send again from `first`, or from after `last_seq` when the console knows less
        than we hold as handled (a restored log). True when it is the latter."""
        replay = last_seq + 1 < first
        if replay:
            self.replay_until = first
            first = last_seq + 1
        self.rewind(first, now, force=True)
        return replay

    def paused(self, now: float) -> bool:
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
        return bool(self.paused_until)

    def overdue(self, now: float, after: float) -> bool:
        """A report has been out unanswered longer than `after`, and no rewind happened in that time."""
        return bool(self.inflight) and now - min(self.inflight.values()) > after and now - self.last_rewind > after
