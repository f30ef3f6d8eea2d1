"""When the desk's garbage collector may stop the screen: young passes as usual, full passes only at moments the desk chooses.

A full pass walks every live object and holds the interpreter for it: on the desk under a flood
(widgets, caches of drawn lines, a copy of the state four times a second) 40-95 ms each, about
one a second, each a frozen screen. Most of what the desk allocates dies young and is freed by
reference counting; the young passes (generations 0 and 1) still reclaim young cycles. What
survives into the old generation and later becomes a cycle waits for `due()`: when the screen
has had nothing new for IDLE_S, or at the latest every MAX_S, so memory stays flat and the
pause, when it comes, is at most one a couple of minutes under load.
"""
from __future__ import annotations

import gc
from typing import Callable

IDLE_S = 2.0      # no new picture for this long: nobody is waiting for the screen
MIN_S = 30.0      # at most this often, even when idle
MAX_S = 120.0     # and at least this often, even under a flood
NEVER = 1 << 30   # generation 2's threshold: automatic full passes off


class GcPace:
    """Takes over full collections for one running app: `start()` on mount, `stop()` on unmount."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.saved: tuple[int, int, int] | None = None
        self.last_full = 0.0
        self.last_busy = 0.0
        self.full_passes = 0

    def start(self) -> None:
        # Everything alive now (modules, widgets, the catalogue) is never garbage: out of every pass.
        gc.freeze()
        self.saved = gc.get_threshold()
        gc.set_threshold(self.saved[0], self.saved[1], NEVER)
        self.last_full = self.last_busy = self.clock()

    def stop(self) -> None:
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.unfreeze()

    def busy(self) -> None:
        """A new picture reached the screen."""
        self.last_busy = self.clock()

    def due(self) -> bool:
        """Run a full pass now if this is a good moment; True if one ran."""
        if self.saved is None:
            return False
        now = self.clock()
        since = now - self.last_full
        if since >= MAX_S or (since >= MIN_S and now - self.last_busy >= IDLE_S):
            gc.collect()
            self.last_full = self.clock()
            self.full_passes += 1
            return True
        return False
