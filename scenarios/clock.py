"""The rehearsal's scaled clock and scheduler: callables run at scenario times on one thread, wall = scenario / speed.

Other threads (a station's link, the desk's feed watcher) may add work at any time; the
scheduler thread is the only one that plays it. Knows threads and time; no sockets.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger("eventdesk.rehearsal")


class Scheduler:
    def __init__(self, speed: float) -> None:
        self.speed = float(speed)
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.t0_mono = 0.0
        self.t0_ms = 0            # epoch ms at scenario time 0: converts the log's recv_ms back
        self.lag_ms = 0           # the most the player ran behind its script, in wall ms
        self.played = 0

    def start_clock(self) -> None:
        self.t0_mono = time.monotonic()
        self.t0_ms = int(time.time() * 1000)

    def now_ms(self) -> int:
        """Scenario ms since the clock started (0 before)."""
        if not self.t0_mono:
            return 0
        return int((time.monotonic() - self.t0_mono) * 1000 * self.speed)

    def at(self, scenario_ms: int, fn: Callable[..., Any], *args: Any) -> None:
        with self._cond:
            heapq.heappush(self._heap, (int(scenario_ms), next(self._order), fn, args))
            self._cond.notify()

    def after(self, delay_ms: int, fn: Callable[..., Any], *args: Any) -> None:
        self.at(self.now_ms() + delay_ms, fn, *args)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run_until(self, end_ms: int) -> bool:
        """Play everything due up to scenario time `end_ms`; False if stopped first.

        Work due after `end_ms` stays queued (the scenario is over; a held demo may go on).
        """
        while not self._stop.is_set():
            with self._cond:
                now = self.now_ms()
                if self._heap and self._heap[0][0] <= min(now, end_ms):
                    due, _, fn, args = heapq.heappop(self._heap)
                else:
                    nxt = min(self._heap[0][0] if self._heap else end_ms, end_ms)
                    if now >= end_ms:
                        return True
                    wait = (nxt - now) / 1000 / self.speed
                    self._cond.wait(max(0.0005, min(wait, 0.25)))
                    continue
            lag = int((now - due) / self.speed)
            if lag > self.lag_ms:
                self.lag_ms = lag
            try:
                fn(*args)
                self.played += 1
            except Exception:  # one bad step must not stop the drill: log it and play on
                log.exception("rehearsal step failed")
        return False
