"""A scenario as checked, frozen data: what the loader produces and the generators, runner and scorecard read.

No parsing here and no behaviour beyond small lookups. Every time is integer milliseconds of
scenario time, counted from the start of the scenario.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.event.folder import Event


@dataclass(frozen=True)
class Traffic:
    """One traffic generator: its kind (see generators.KINDS) and its checked parameters."""

    kind: str
    index: int                      # position among [[traffic]] tables: part of its random stream
    params: dict[str, Any]


@dataclass(frozen=True)
class ScriptItem:
    """A report from a post, or an action of the desk, at a given scenario time."""

    at_ms: int
    type: str
    body: dict[str, Any]
    station: str = ""               # a station id, or "" for a desk action
    ref: str = ""                   # a label expectations can point at
    ack_after: tuple[int, int] | None = None      # the simulated desk's delay for this incident
    resolve_after: tuple[int, int] | None = None
    assign: str = ""

    @property
    def desk(self) -> bool:
        return not self.station


@dataclass(frozen=True)
class Silence:
    """A post that drops off the network from `at_ms` until `until_ms` (it keeps saving reports)."""

    station: str
    at_ms: int
    until_ms: int


@dataclass(frozen=True)
class Expect:
    """One expectation of the drill: a registered kind (see expectations.KINDS) and its parameters."""

    kind: str
    params: dict[str, Any]
    label: str = ""
    label_en: str = ""
    line: int = 0


@dataclass(frozen=True)
class DeskPolicy:
    """How the simulated operator answers (headless): delays as (low, high) ms, who gets what."""

    ack_delay: tuple[int, int] = (15_000, 45_000)
    resolve_delay: tuple[int, int] = (300_000, 900_000)
    step_delay: tuple[int, int] = (30_000, 150_000)     # to confirm a plan step the desk owns
    assign: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    name_en: str
    event_path: Path
    event: Event
    duration_ms: int
    seed: int
    speed: float = 60.0
    start: str = "09:00"            # when scenario time 0 is on the event's clock, on the event day
    prepared: bool = True           # the day's preparation is done before it starts (sign-offs, sign-ins)
    summary: str = ""
    summary_en: str = ""
    desk: DeskPolicy = field(default_factory=DeskPolicy)
    station_ack_delay: tuple[int, int] = (5_000, 30_000)
    station_step_delay: tuple[int, int] = (20_000, 90_000)   # after the ack, to confirm a plan step
    traffic: tuple[Traffic, ...] = ()
    script: tuple[ScriptItem, ...] = ()
    silences: tuple[Silence, ...] = ()
    expects: tuple[Expect, ...] = ()
    guests: tuple[dict[str, Any], ...] = ()   # [[guest]]: the rehearsal's guest list, checked as a file's would be
    # [stations] clock_offset_s: station -> ms its terminal's real clock runs ahead of the hub's (behind: negative)
    clock_offsets: dict[str, int] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def start_ms(self) -> int:
        """Scenario time 0 as an instant on the event's clock."""
        return self.event.at_ms(self.start)

    def title(self, lang: str) -> str:
        return self.name if lang == "zh" or not self.name_en else self.name_en

    def station_post(self, station: str) -> str:
        st = self.event.station(station)
        return st.post if st else ""


@dataclass(frozen=True)
class Step:
    """One thing the player does at a scenario time: a station (or the desk, station "") saves a report."""

    at_ms: int
    station: str
    type: str
    body: dict[str, Any]
    source: str                     # "arrivals", "cars", "script", ...
    ref: str = ""
    order: int = 0                  # ties at the same time keep generation order
    item: int = -1                  # index into Scenario.script for a scripted step

    def key(self) -> tuple[int, int]:
        return (self.at_ms, self.order)
