"""The whole script of a rehearsal: generated traffic and scripted items merged into one ordered list of steps.

Pure: the same scenario and seed give the same timeline. The runner plays it; the scorecard
compares the log against its figures. Desk steps carry station "" (the simulated operator).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scenarios.generators import generate
from scenarios.model import Scenario, Silence, Step


@dataclass
class Timeline:
    seed: int
    steps: list[Step]
    silences: tuple[Silence, ...]
    figures: dict[str, Any] = field(default_factory=dict)

    def station_steps(self, stations: set[str] | None = None) -> list[Step]:
        """Steps a post plays (not the desk), optionally only those of `stations`."""
        return [s for s in self.steps if s.station and (stations is None or s.station in stations)]

    def counts(self, stations: set[str] | None = None) -> dict[str, int]:
        """How many reports of each type the posts save (the desk's own steps not included)."""
        return dict(Counter(s.type for s in self.station_steps(stations)))

    def guests(self, stations: set[str] | None = None) -> int:
        return sum(s.body["count"] for s in self.station_steps(stations) if s.type == "guest_arrival")


def build(sc: Scenario, seed: int | None = None) -> Timeline:
    seed = sc.seed if seed is None else seed
    traffic = generate(sc, seed)
    base = len(traffic.steps)
    scripted = [Step(item.at_ms, item.station, item.type, item.body, "script", item.ref, base + i, i)
                for i, item in enumerate(sc.script)]
    steps = sorted(traffic.steps + scripted, key=Step.key)
    return Timeline(seed, steps, sc.silences, dict(traffic.figures))
