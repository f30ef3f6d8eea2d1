"""The desk's garbage-collector pacing: full passes freeze their survivors; a sweep on the clock frees dead frozen cycles."""
from __future__ import annotations

import gc
import weakref

from console.hub.gcpace import GcPace


class Node:
    """A cycle: only the collector (not reference counting) can free it."""

    def __init__(self) -> None:
        self.me = self


def test_a_full_pass_freezes_what_survived_it_so_the_next_walks_only_what_is_new():
    now = [100.0]
    pace = GcPace(sweep_s=600, clock=lambda: now[0])
    pace.start()
    try:
        frozen_before = gc.get_freeze_count()
        alive = Node()
        gc.collect()
        assert pace.full_passes == 1
        assert gc.get_freeze_count() > frozen_before
        assert all(o is not alive for o in gc.get_objects())   # frozen: out of the collector's walk
    finally:
        pace.stop()
    assert gc.get_freeze_count() == 0


def test_a_cycle_that_dies_after_a_freeze_is_freed_by_the_sweep_when_its_time_comes():
    now = [100.0]
    pace = GcPace(sweep_s=600, clock=lambda: now[0])
    pace.start()
    try:
        node = Node()
        ref = weakref.ref(node)
        gc.collect()                      # survives, frozen
        del node
        gc.collect()
        assert ref() is not None          # a frozen cycle waits for the sweep
        now[0] += 599.0
        pace.tick()
        assert ref() is not None and pace.sweeps == 0
        now[0] += 1.0
        pace.tick()
        assert ref() is None and pace.sweeps == 1
        assert gc.get_freeze_count() > 0  # what is alive is frozen again after the sweep
    finally:
        pace.stop()


def test_stop_gives_the_process_back_its_thresholds_and_no_callback():
    before = gc.get_threshold()
    pace = GcPace(full_every=30)
    pace.start()
    assert gc.get_threshold() == (before[0], before[1], 30)
    pace.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert all(getattr(cb, "__self__", None) is not pace for cb in gc.callbacks)
