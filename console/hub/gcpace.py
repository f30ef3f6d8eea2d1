"""Garbage collection paced for a long-lived loop (the hub's, the desk's screen): full passes walk only what is new.

A full (generation 2) pass of CPython's collector walks every tracked object outside the frozen
set. Under a flood the desk holds a day's picture and Textual's caches, so each pass stopped the
screen for 60-90 ms (bench/desk_load.py `--steps`), and a key pressed then waited for it; the hub
holds the day's state, and one pass in a burst stopped its loop for 20 ms (bench/hostile.py), every
report read meanwhile waiting for it. The hub uses it only as its process's main job (`serve`):
the collector is the process's, not the loop's. Every
object that survives a full pass is alive at that moment, so it is frozen right after it: the
next pass walks only what came later (a few milliseconds).

What is frozen is never looked at again by the collector; objects freed by their reference count
(most of them) still go at once. Only a cycle that was alive at a freeze and dies later (a closed
dialog's widgets, say) waits: once every `sweep_s` (ten minutes) the screen's tick unfreezes
everything, sweeps it in one full pass and freezes it again (the hub's tick likewise). That one pass is the old, long one,
paid once in ten minutes instead of every few seconds. (It cannot run from the collector's own
callback: a collection asked for during one does nothing.)
"""
from __future__ import annotations

import gc
import time
from typing import Callable

FULL_EVERY = 30    # young-generation passes between two full ones (Python's default: 10)
SWEEP_S = 600.0    # a full pass over the frozen objects too, at most this often


class GcPace:
    """Installed while a screen or a hub runs (`start` / `stop`); the clock is injected for tests."""

    def __init__(self, sweep_s: float = SWEEP_S, clock: Callable[[], float] = time.monotonic,
                 full_every: int = FULL_EVERY) -> None:
        self.sweep_s, self.clock, self.full_every = sweep_s, clock, full_every
        self.full_passes = self.sweeps = 0
        self._threshold: tuple[int, int, int] | None = None
        self._swept_at = 0.0
        self._sweeping = False

    def start(self) -> None:
        # Everything alive now (modules, widgets, the catalogue) never becomes garbage.
        gc.freeze()
        self._threshold = gc.get_threshold()
        gc.set_threshold(self._threshold[0], self._threshold[1], self.full_every)
        self._swept_at = self.clock()
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._threshold is not None:
            gc.set_threshold(*self._threshold)
            self._threshold = None
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase != "stop" or info.get("generation") != 2 or self._sweeping:
            return
        self.full_passes += 1
        gc.freeze()   # the survivors: all alive now, so the next full pass skips them

    def tick(self) -> None:
        """Called by the screen's timer: sweeps when one is due."""
        if self._threshold is not None and self.clock() - self._swept_at >= self.sweep_s:
            self.sweep()

    def sweep(self) -> None:
        """One full pass over everything, the frozen set included; then freeze what is left. The desk
        also sweeps once its first picture is on screen: the day so far is then frozen at the start."""
        self._sweeping = True
        try:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        finally:
            self._sweeping = False
        self.sweeps += 1
        self._swept_at = self.clock()
