"""What the summary keeps per figure while the log streams by: per-minute levels and spells over a line; pure.

A level (people on site, a lot's occupancy) keeps its peak and, for each minute it changed in, the
highest and the last value, so a chart of minutes shows every peak however short. A spell is a run
of time over a line (a full lot, a crowded zone) with the cars that came in meanwhile.
"""
from __future__ import annotations

from typing import Any

MINUTE = 60_000


class Level:
    """A figure that goes up and down (people on site, a lot): its peak and, per minute, (max, last)."""

    __slots__ = ("value", "peak", "peak_ms", "by_min")

    def __init__(self) -> None:
        self.value, self.peak, self.peak_ms = 0, 0, 0
        self.by_min: dict[int, list[int]] = {}

    def set(self, value: int, ms: int) -> None:
        minute = ms // MINUTE
        cell = self.by_min.get(minute)
        if cell is None:
            # The minute starts at the level carried from before, so a drop inside it keeps that as its max.
            self.by_min[minute] = [max(value, self.value), value]
        else:
            if value > cell[0]:
                cell[0] = value
            cell[1] = value
        self.value = value
        if value > self.peak:
            self.peak, self.peak_ms = value, ms

    def dense(self, start: int, end: int) -> list[int]:
        out, carry, by = [], 0, self.by_min
        for m in range(start, end + 1):
            cell = by.get(m)
            if cell is None:
                out.append(carry)
            else:
                out.append(cell[0])
                carry = cell[1]
        return out


class Spells:
    """Time spent over a line (a full lot, a crowded zone): closed spells [from, to, cars in meanwhile, peak]."""

    __slots__ = ("since", "peak", "cars", "done")

    def __init__(self) -> None:
        self.since: int | None = None
        self.peak = self.cars = 0
        self.done: list[list[int]] = []

    def update(self, over: bool, value: int, ms: int) -> None:
        if over and self.since is None:
            self.since, self.peak, self.cars = ms, value, 0
        elif over:
            self.peak = max(self.peak, value)
        elif self.since is not None:
            self.done.append([self.since, ms, self.cars, self.peak])
            self.since = None

    def closed(self, end_ms: int) -> list[dict[str, Any]]:
        spells = [{"from_ms": a, "to_ms": b, "cars_in": c, "peak": p, "open": False} for a, b, c, p in self.done]
        if self.since is not None:
            spells.append({"from_ms": self.since, "to_ms": end_ms, "cars_in": self.cars, "peak": self.peak,
                           "open": True})
        return spells
