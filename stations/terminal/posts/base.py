"""What a post is made of: the site it stands on, the actions its keys send, and the counts it shows.

Pure data and pure functions: no screen, no sockets, no storage. An action turns the values
of its (possibly empty) form into one report `(type, body)`; the client's `submit` then
validates it, so nothing here needs to repeat the wire schema.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Area:
    """A parking lot or a zone, as the event summary describes it."""

    id: str
    capacity: int
    name: str = ""
    name_en: str = ""
    post: str = ""
    vip_spaces: tuple[str, ...] = ()   # a lot's reserved VIP spaces (贵宾车位), by label

    def label(self, lang: str) -> str:
        if lang == "en":
            return self.name_en or self.name or self.id
        return self.name or self.name_en or self.id


@dataclass(frozen=True)
class Site:
    """Where this terminal stands: its station, post and the event's lots and zones.

    Built from the event summary (the dict `Event.summary()` makes, which the hub also sends in
    its welcome), so the station package never reads the console's files.
    """

    station: str
    post: str
    name: str = ""
    name_en: str = ""
    event_name: str = ""
    event_name_en: str = ""
    lang: str = "zh"
    timezone: str = ""                        # the event's clock ("" until the hub has said: the default zone)
    lots: tuple[Area, ...] = ()
    zones: tuple[Area, ...] = ()
    roster: tuple[dict[str, Any], ...] = ()   # this station's duty roster: {name, staff_no, from}
    tasks: tuple[dict[str, Any], ...] = ()    # the event's preparation tasks: {id, department, title, title_en, ...}

    @classmethod
    def from_summary(cls, station: str, summary: dict[str, Any], post: str = "") -> Site:
        me = next((s for s in summary.get("stations", []) if s.get("id") == station), {})

        def areas(key: str) -> tuple[Area, ...]:
            return tuple(Area(str(a.get("id", "")), int(a.get("capacity", 0) or 0), str(a.get("name", "")),
                              str(a.get("name_en", "")), str(a.get("post", "")),
                              tuple(str(x) for x in a.get("vip_spaces") or () if isinstance(x, str)))
                         for a in summary.get(key, []) if isinstance(a, dict))

        def rows(key: str) -> tuple[dict[str, Any], ...]:
            return tuple(r for r in summary.get(key, []) if isinstance(r, dict))

        return cls(station=station, post=post or str(me.get("post", "")), name=str(me.get("name", "")),
                   name_en=str(me.get("name_en", "")), event_name=str(summary.get("name", "")),
                   event_name_en=str(summary.get("name_en", "")), lang=str(summary.get("lang", "zh")),
                   timezone=str(summary.get("timezone", "") or ""),
                   lots=areas("lots"), zones=areas("zones"),
                   roster=tuple(r for r in rows("roster") if r.get("station") == station), tasks=rows("tasks"))

    def as_now(self, summary: Any) -> Site:
        """This site with the tasks and roster of the summary the hub sent and keeps live (PROTOCOL.md 5.10):
        the desk's added, moved and ended ones too; itself before any welcome."""
        if not isinstance(summary, dict) or not isinstance(summary.get("tasks"), list):
            return self
        now = Site.from_summary(self.station, summary, self.post)
        return replace(self, tasks=now.tasks, roster=now.roster)

    def label(self, lang: str) -> str:
        """The station's own name in `lang`, falling back to its id."""
        if lang == "en":
            return self.name_en or self.name or self.station
        return self.name or self.name_en or self.station

    def area_names(self, lang: str) -> dict[str, str]:
        """Lot and zone ids to their names in `lang`, for lines a person reads."""
        return {a.id: a.label(lang) for a in (*self.lots, *self.zones)}

    def zones_of(self, post: str) -> tuple[Area, ...]:
        """The zones this post counts: those assigned to it, else any zone named like it."""
        mine = tuple(z for z in self.zones if z.post == post)
        return mine or tuple(z for z in self.zones if z.id == post)


@dataclass(frozen=True)
class Field:
    """One input of an action's form. `kind`: text, int, bool or choice (with (value, label key) pairs)."""

    name: str
    label: str
    kind: str = "text"
    default: Any = ""
    choices: tuple[tuple[Any, str], ...] = ()


Build = Callable[[Site, dict[str, Any], "Area | None"], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Action:
    """One big button and its key. With no fields it sends at once; with fields it opens a form.

    `kind` is "report" (sends through `build`), or a screen-side verb: "cycle" (next lot or
    zone), "inbox" (the instruction list), "duty" (sign in or out, sign tasks off), "guests"
    (look a guest up and check them in), "calls" (this post's service calls). `title` replaces the
    label as a form's title; `remind` is a catalogue key the form and the "saved" line add, for what
    staff must do beside the report.
    """

    id: str
    key: str
    label: str
    build: Build | None = None
    fields: tuple[Field, ...] = ()
    kind: str = "report"
    alias: str = ""
    title: str = ""
    remind: str = ""   # a catalogue key said with the form's title and again once saved (the send-off's belongings)


@dataclass(frozen=True)
class Count:
    """One figure on the post's panel: a catalogue label (or an area), a value, maybe a capacity."""

    label: str
    value: int
    capacity: int | None = None
    area: Area | None = None
    selected: bool = False
    detail: str = ""          # what the figure stands for, when it helps (the free VIP spaces: A02 A03)


Tally = Callable[[Site, Iterable[tuple[str, dict[str, Any]]], "Area | None"], list[Count]]
# A post's own rule against a key now: (site, action id, standing gate orders) -> a catalogue key, or "".
Guard = Callable[[Site, str, Iterable[Any]], str]


@dataclass(frozen=True)
class Post:
    """A post's terminal: its actions in key order, the areas it counts and its running tally."""

    id: str
    actions: tuple[Action, ...]
    tally: Tally
    areas: Callable[[Site], tuple[Area, ...]] = lambda site: ()
    hold_banner: bool = False   # the gate shows the desk's "hold incoming cars" in red
    guard: Guard | None = None  # the gate keeps ordinary cars held (posts.gate.guard)


def whole(value: Any, default: int = 1) -> Any:
    """A form's number as an int when it is one; otherwise the raw text, so that the codec's
    E_SCHEMA sentence ("must be a whole number, got 'abc'") tells the staff member what is wrong."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        return text


def summed(reports: Iterable[tuple[str, dict[str, Any]]], type_: str, **match: Any) -> int:
    """Sum of `count` (1 when absent) over the reports of one type whose fields match."""
    total = 0
    for t, body in reports:
        if t == type_ and all(body.get(k) == v for k, v in match.items()):
            total += int(body.get("count", 1) or 0)
    return total


def area_id(area: Area | None) -> str:
    return area.id if area is not None else ""
