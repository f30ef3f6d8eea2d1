"""The hub's own up and down time, kept in its log: started (first, after a clean stop, after a crash), stopped.

A crash leaves no event behind. So the hub marks in the log's meta table, every ALIVE_MS, that it
is alive. At the next start the gap runs from that mark and is logged as `hub_started {previous:
"crash", down_from_ms}`; a clean stop logs `hub_stopped` and marks when. The summary then sees
the hub's outages, and does not charge them to the posts that could not reach it. Knows the
store's meta table; no sockets.
"""
from __future__ import annotations

import sqlite3

from console.hub.store import Store, StoreError
from protocols.messages import HubStarted, HubStopped

ALIVE_MS = 5_000        # how stale the last "alive" mark may be: the precision of a crash's start


def _meta(store: Store, key: str) -> int:
    try:
        value = store.get_meta(key)
    except (StoreError, sqlite3.Error):
        return 0
    return int(value) if value and value.isdigit() else 0


def _mark(store: Store, key: str, ms: int) -> bool:
    """Write a mark; False when the log cannot take it (the storage watch says so elsewhere)."""
    try:
        store.set_meta(key, str(ms))
        return True
    except (StoreError, sqlite3.Error):
        return False


class Life:
    """What the hub says of itself at start, every tick, and at a clean stop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.marked_ms = 0

    def started(self, now_ms: int) -> HubStarted:
        stopped, alive = _meta(self.store, "stopped_ms"), _meta(self.store, "alive_ms")
        if stopped:
            event = HubStarted(previous="stop", down_from_ms=stopped)
        elif alive:
            event = HubStarted(previous="crash", down_from_ms=alive)
        else:
            event = HubStarted(previous="first")
        _mark(self.store, "stopped_ms", 0)
        self.tick(now_ms, force=True)
        return event

    def tick(self, now_ms: int, force: bool = False) -> None:
        if force or now_ms - self.marked_ms >= ALIVE_MS:
            if _mark(self.store, "alive_ms", now_ms):
                self.marked_ms = now_ms

    def stopping(self, now_ms: int) -> HubStopped:
        _mark(self.store, "stopped_ms", now_ms)
        return HubStopped()
