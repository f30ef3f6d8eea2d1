"""What one admitted key may cost the hub: token buckets, new outbox epochs, report cursors kept in bounds, alarms coalesced.

An admitted key can still be hostile (a stolen terminal, a broken program). Everything it sends
is paid for from its own bucket before any work is done; what the hub remembers about it is
bounded whatever it sends; and however often it trips the same alarm, the desks see one line per
cause. Pure bookkeeping on an injected clock: knows no sockets, no SQLite, no screen.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from protocols.messages import Alarm

SNAPSHOT_COST = 10        # tokens a snapshot costs when it has to be built (each page then costs 1 like any message)
RATE_NOTICE_MS = 100      # a key over its bucket gets one E_RATE this often; the rest of a flood goes unanswered
BURST_SLACK = 16          # a key this many messages (or 100 ms of its rate, if more) ahead of its rate is spending its burst
PER_KEY = 4               # messages of a key spending its burst taken into one batch; the rest wait for the next
READ_STREAK = 16          # messages in a row from one key spending its burst, after which a read of the ROUTER stops
EPOCHS_BURST = 8          # new outbox epochs a key may start at once (a reinstall, a test bench) ...
EPOCH_REFILL_MS = 600_000  # ... and one more every ten minutes
CURSORS_MAX = 4096        # (station, epoch) cursors kept in memory; the rest are read again from the log
ALARM_EVERY_MS = 5000     # a repeated alarm is logged again at most this often, with its running count
ALARM_QUIET_MS = 60_000   # after this long without a repeat, the next one starts a new alarm
# Reading a message only to drop it costs ~20 us (the hub's loop and ZeroMQ's CURVE thread): 2,000 a second
# is a twentieth of a core. At 20,000 a flood took the hub and the flooder half a core each (bench/hostile.py).
DROPS_PER_S = 2_000      # messages over their key's bucket the hub reads (to drop) a second, at most ...
DROPS_BURST = 64          # ... in runs of this many; then it leaves the ROUTER unread for a moment


class Bucket:
    """A token bucket on an injected clock: `rate` tokens a second, at most `burst` saved up."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: float, now_ms: int) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), now_ms

    def take(self, now_ms: int, cost: float = 1.0) -> bool:
        if now_ms > self.at:
            self.tokens = min(self.burst, self.tokens + (now_ms - self.at) * self.rate / 1000.0)
            self.at = now_ms
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class DropPace:
    """How fast the hub reads messages it can only drop. Reading and dropping is cheap but not free (CURVE in
    ZeroMQ's thread, a few calls in the hub's): a key sending as fast as the hub reads takes a core. ZeroMQ's
    ROUTER serves its connections one message each in turn, so a pause costs the other keys at most its length,
    while the flood's excess waits in its own connection (RCVHWM, then the sender's TCP buffer). A pause is
    exactly as long as the bucket needs for one more message (half a millisecond at 2,000 a second): rounded up
    to a whole millisecond, as zmq's poll counts, it doubled what a report arriving meanwhile waited."""

    def __init__(self, now_ms: float, rate: float = DROPS_PER_S, burst: int = DROPS_BURST) -> None:
        self.bucket = Bucket(rate, burst, now_ms)
        self.pauses = 0   # read passes cut short by the pace

    def wait_ms(self, now_ms: float) -> float:
        """0 when the ROUTER may be read now; else the milliseconds (a fraction, often) to leave it unread."""
        b = self.bucket
        b.take(now_ms, 0.0)   # refill only
        return 0.0 if b.tokens >= 1.0 else (1.0 - b.tokens) * 1000.0 / b.rate

    def dropped(self, now_ms: float) -> bool:
        """Count one message read and dropped; False when the read should stop here."""
        if self.bucket.take(now_ms):
            return True
        self.pauses += 1
        return False


class Guard:
    """Per-key allowances: messages (any kind, good or bad) and new outbox epochs."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s, self.burst = rate_per_s, burst
        self._messages: dict[str, Bucket] = {}
        self._epochs: dict[str, Bucket] = {}
        self._noticed: dict[str, int] = {}

    def charge(self, who: str, now_ms: int, cost: float = 1.0) -> bool:
        """Take `cost` tokens from the key's bucket; False (and nothing taken) when it has not enough."""
        bucket = self._messages.get(who)
        if bucket is None:
            bucket = self._messages[who] = Bucket(self.rate_per_s, self.burst, now_ms)
        return bucket.take(now_ms, cost)

    def spending(self, who: str) -> bool:
        """Is this key sending faster than its rate refills (more than BURST_SLACK into its burst)? The hub
        then takes only a small share of its messages into each batch, so it delays the others little."""
        bucket = self._messages.get(who)
        return bucket is not None and bucket.tokens < bucket.burst - max(BURST_SLACK, bucket.rate / 10)

    def share(self, queue: list, who: Callable[[object], str]) -> tuple[list, list]:
        """(this batch, what waits for the next) from `queue` in order: all of every other key's messages and
        PER_KEY of a key spending its burst. At 16 a batch (and 63 in the first, before the key counted as
        spending) the burst's first 100 ms cost the others' reports 5-16 ms each (bench/hostile.py); at 4 a
        batch costs them about one commit. Order within a key is kept."""
        batch, held, taken = [], [], {}
        for item in queue:
            key = who(item)
            n = taken.get(key, 0)
            if n < PER_KEY or not self.spending(key):
                batch.append(item)
                taken[key] = n + 1
            else:
                held.append(item)
        return batch, held

    def streak(self, last: tuple[str | None, int], who: str) -> tuple[tuple[str | None, int], bool]:
        """(the run so far, stop reading now?) after a message from `who` was read and paid for. ZeroMQ's ROUTER
        serves its connections one message each in turn, so READ_STREAK in a row from one key spending its burst
        mean nobody else had anything waiting: reading on would only move that key's burst from its connection
        into the hub's queue, where it is taken PER_KEY a batch anyway. Read on, a burst of snapshot requests
        or reports cost every turn of the loop 1.6-2.3 ms of reading (bench/hostile.py, stop 30)."""
        if not self.spending(who):
            return (None, 0), False
        run = last[1] + 1 if last[0] == who else 1
        return (who, run), run >= READ_STREAK

    def notice(self, who: str, now_ms: int) -> bool:
        """Should a message over the limit be answered (E_RATE)? Once per RATE_NOTICE_MS per key: a client
        that gets it pauses and resends all it has unanswered, so more answers would only feed a flood."""
        if now_ms - self._noticed.get(who, now_ms - RATE_NOTICE_MS) < RATE_NOTICE_MS:
            return False
        self._noticed[who] = now_ms
        return True

    def new_epoch(self, who: str, now_ms: int) -> bool:
        """May this key start one more outbox epoch now?"""
        bucket = self._epochs.get(who)
        if bucket is None:
            bucket = self._epochs[who] = Bucket(1000.0 / EPOCH_REFILL_MS, EPOCHS_BURST, now_ms)
        return bucket.take(now_ms)

    def limits(self) -> dict[str, float | int]:
        """What the welcome tells a client about these allowances."""
        return {"rate_per_s": self.rate_per_s, "rate_burst": self.burst, "rate_notice_ms": RATE_NOTICE_MS,
                "snapshot_cost": SNAPSHOT_COST,
                "new_epochs_burst": EPOCHS_BURST, "new_epoch_every_ms": EPOCH_REFILL_MS}


class Cursors:
    """The highest seq handled per (station, epoch), as a bounded cache over the log.

    The log holds the truth (every stored or finally rejected seq), so a cursor that falls out of the
    cache is read again when its epoch comes back: a key that makes up new epochs cannot grow this.
    """

    def __init__(self, lookup: Callable[[str, str], int | None], size: int = CURSORS_MAX) -> None:
        self._lookup, self._size = lookup, size
        self._known: OrderedDict[tuple[str, str], int] = OrderedDict()

    def get(self, key: tuple[str, str]) -> int | None:
        """The cursor, or None when the log has nothing for this epoch (it is new)."""
        seq = self._known.get(key)
        if seq is not None:
            self._known.move_to_end(key)
            return seq
        seq = self._lookup(*key)
        if seq is not None:
            self._put(key, seq)
        return seq

    def update(self, cursors: dict[tuple[str, str], int]) -> None:
        for key, seq in cursors.items():
            self._put(key, seq)

    def _put(self, key: tuple[str, str], seq: int) -> None:
        self._known[key] = seq
        self._known.move_to_end(key)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    def __len__(self) -> int:
        return len(self._known)


@dataclass
class _Run:
    first_ms: int
    last_ms: int
    count: int
    logged_count: int
    logged_ms: int
    reason: str
    reason_zh: str


class Alarms:
    """One alarm per (station, cause): the first at once, then its running count at most every ALARM_EVERY_MS.

    A flood of impersonations or conflicts thus writes a handful of log rows, not one per message,
    and the desk keeps one line per cause (the fold updates the alarm that `first_ms` names).
    """

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], _Run] = {}

    def raised(self, station: str, code: str, reason: str, reason_zh: str, now_ms: int) -> Alarm | None:
        """Count one occurrence; the Alarm to log now, or None when it waits to be logged with others."""
        key = (station, code)
        run = self._runs.get(key)
        if run is None or now_ms - run.last_ms > ALARM_QUIET_MS:
            run = self._runs[key] = _Run(now_ms, now_ms, 0, 0, now_ms - ALARM_EVERY_MS, reason, reason_zh)
        run.count += 1
        run.last_ms = now_ms
        run.reason, run.reason_zh = reason, reason_zh
        return self._log(key, run, now_ms) if now_ms - run.logged_ms >= ALARM_EVERY_MS else None

    def unlogged(self, alarm: Alarm) -> None:
        """An alarm handed out to be logged did not reach the log (the commit failed): log it again when due."""
        run = self._runs.get((alarm.station, alarm.code))
        if run is not None and run.first_ms == alarm.first_ms:
            run.logged_count = 0
            run.logged_ms = run.last_ms - ALARM_EVERY_MS

    def due(self, now_ms: int) -> list[Alarm]:
        """Alarms whose repeats have waited long enough to be logged; old quiet runs are forgotten."""
        out = []
        for key, run in list(self._runs.items()):
            if run.count > run.logged_count and now_ms - run.logged_ms >= ALARM_EVERY_MS:
                out.append(self._log(key, run, now_ms))
            elif run.count == run.logged_count and now_ms - run.last_ms > ALARM_QUIET_MS:
                del self._runs[key]
        return out

    @staticmethod
    def _log(key: tuple[str, str], run: _Run, now_ms: int) -> Alarm:
        run.logged_count, run.logged_ms = run.count, now_ms
        return Alarm(code=key[1], station=key[0], reason=run.reason[:2000], reason_zh=run.reason_zh[:2000],
                     count=run.count, first_ms=run.first_ms, last_ms=run.last_ms)
