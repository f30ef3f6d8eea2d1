"""event.toml parsed and checked into the Event dataclasses: stations, areas, tasks, roster, guests.

Every mistake in the file becomes one EventFileError naming the file, the line, the key and the reason,
a sentence of the catalogue in either language (eventfile.*). Knows TOML and nothing else: no folder,
no files, no sockets, no database, no screen.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from console.core import hub_pair
from console.core import services as service_calls
from console.core import toml_where
from console.core.toml_table import Choices, TomlTable, shown
from protocols import eventtime
from protocols.file_errors import why_text
from protocols.i18n import has, t
from protocols.messages import DEPARTMENTS, POSTS

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class EventFileError(Exception):
    """A bad event.toml: the file, the line, the key and the reason. `why` names a sentence of the catalogue
    (eventfile.why.*) filled from `params`; a plan file's own checks may still give an English sentence."""

    def __init__(self, path: Path | str, key: str, why: str, line: int | None = None, **params: Any) -> None:
        self.path, self.key, self.why, self.line, self.params = str(path), key, why, line, params
        super().__init__(path, key, why)

    def because(self, lang: str) -> str:
        """What is wrong and what to write instead, in `lang`."""
        if not has(f"eventfile.why.{self.why}"):
            return self.why
        return t(f"eventfile.why.{self.why}", lang, **{k: self._param(k, v, lang) for k, v in self.params.items()})

    @staticmethod
    def _param(name: str, value: Any, lang: str) -> Any:
        if isinstance(value, Choices):
            return value.text(lang)
        if isinstance(value, BaseException):
            return why_text(value, lang)
        if name in ("kind", "what"):
            return t(f"eventfile.{name}.{value}", lang)
        return value

    @property
    def reason(self) -> str:
        return self.because("en")

    def sentence(self, lang: str) -> str:
        """The whole error as a person reads it: the file, the line and the place, and the reason."""
        if not has(f"eventfile.why.{self.why}"):
            return str(self)   # a plan file's check with no catalogue sentence yet: its English, never mixed
        return toml_where.sentence(self.path, self.key, self.line, self.because(lang), lang)

    def __str__(self) -> str:
        return f"{self.path}: {self.key}: {self.reason}"


class HubPairError(EventFileError):
    """A mistake in the two hubs' addresses (issue 19): the reason in either language (hub.pair.why.*)."""

    def __init__(self, path: Path | str, key: str, why: str, **params: Any) -> None:
        self.why_key, self.pair_params = why, params   # not `params`: the base may keep its own
        super().__init__(path, key, t(f"hub.pair.why.{why}", "en", **params))

    def sentence(self, lang: str) -> str:
        return f"{self.path}: {self.key}: {t(f'hub.pair.why.{self.why_key}', lang, **self.pair_params)}"


@dataclass(frozen=True)
class Station:
    id: str
    post: str
    name: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class Area:
    """A parking lot or a zone: something with a head count against a capacity."""

    id: str
    capacity: int
    name: str = ""
    name_en: str = ""
    post: str = ""
    vip_spaces: tuple[str, ...] = ()   # a lot's spaces kept for VIP cars (贵宾车位), by label


@dataclass(frozen=True)
class Task:
    """A preparation task (前期准备): its department, owner, due time, whether it blocks opening.

    The due time is a clock time on a date (`due_at`, "YYYY-MM-DD HH:MM" on the event's wall); the old
    form, minutes from doors-open (`due`), still loads and is used when `due_at` is "".
    """

    id: str
    department: str
    title: str
    title_en: str = ""
    due: int = 0
    blocking: bool = False
    owner: str = ""
    due_at: str = ""


@dataclass(frozen=True)
class Shift:
    """One line of the duty roster: who staffs a station from when to when (HH:MM on the event day; no end: all day)."""

    station: str
    name: str
    staff_no: str = ""
    start: str = "00:00"
    end: str = ""

    @property
    def key(self) -> str:
        return f"{self.station}/{self.staff_no or self.name}"


PAIR_HEARTBEAT_S = 0.5   # heartbeat_s when event.toml names a backup hub and no heartbeat


@dataclass(frozen=True)
class HubSettings:
    endpoint: str = "tcp://127.0.0.1:7750"
    feed: str = "tcp://127.0.0.1:7751"
    max_message_bytes: int = 64 * 1024
    rate_per_s: float = 100.0     # what `eventdesk init` writes (console/event/sample_event.toml): one default
    rate_burst: int = 1000
    heartbeat_s: float = 1.0
    late_s: float = 5.0
    offline_s: float = 15.0
    vip_ack_s: float = 120.0      # a VIP hand-off notice not acknowledged within this raises an alarm
    sendoff_ack_s: float = 120.0  # a send-off link (客人即将离开) not acknowledged within this raises an alarm
    sendoff_lead_min: int = 10    # a VIP's car is at the door this many minutes before the party leaves
    guest_late_min: int = 15      # a guest not here this long after the newest expected arrival is late (延迟)
    # Two hubs (issue 19, PROTOCOL.md 5.13): the backup's ROUTER and feed; "" = one hub alone.
    backup_endpoint: str = ""
    backup_feed: str = ""

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(ROUTER, feed) of each hub a client may use, the primary's first."""
        return hub_pair.pairs(self.endpoint, self.feed, self.backup_endpoint, self.backup_feed)


@dataclass(frozen=True)
class Event:
    name: str
    date: str
    name_en: str = ""
    doors_open: str = "09:30"
    lang: str = "zh"
    timezone: str = eventtime.DEFAULT_ZONE   # the event's wall clock: every HH:MM here is read in it
    hub: HubSettings = field(default_factory=HubSettings)
    stations: tuple[Station, ...] = ()
    desks: tuple[str, ...] = ("desk-1",)
    lots: tuple[Area, ...] = ()
    zones: tuple[Area, ...] = ()
    departments: tuple[str, ...] = DEPARTMENTS
    tasks: tuple[Task, ...] = ()
    roster: tuple[Shift, ...] = ()
    guests: str = ""              # the guest list file, relative to the folder ("" = guests.json if present)
    services: service_calls.Settings = field(default_factory=service_calls.Settings)   # [services]: routes, late limit

    @property
    def tz(self) -> dt.tzinfo:
        return eventtime.zone(self.timezone)

    def at_ms(self, hhmm: str) -> int:
        """Epoch ms of HH:MM on the event day, in the event's own time zone (never the machine's)."""
        return eventtime.at_ms(self.date, hhmm, self.tz)

    @property
    def doors_open_ms(self) -> int:
        return self.at_ms(self.doors_open)

    def due_ms(self, task: Task) -> int:
        """A task's due instant: its clock time on its date, or (the old form) minutes from doors-open."""
        if task.due_at:
            day, _, hhmm = task.due_at.partition(" ")
            return eventtime.at_ms(day, hhmm, self.tz)
        return self.doors_open_ms + task.due * 60_000

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    def summary(self) -> dict[str, Any]:
        """What clients need to know of the event: sent in welcomes and snapshots."""
        return {
            "name": self.name, "name_en": self.name_en, "date": self.date,
            "doors_open": self.doors_open, "lang": self.lang, "timezone": self.timezone,
            "stations": [vars(s) for s in self.stations],
            "lots": [vars(a) for a in self.lots],
            "zones": [vars(a) for a in self.zones],
            "departments": list(self.departments),
            "late_ms": int(self.hub.late_s * 1000), "offline_ms": int(self.hub.offline_s * 1000),
            "doors_open_ms": self.doors_open_ms, "vip_ack_ms": int(self.hub.vip_ack_s * 1000),
            "sendoff_ack_ms": int(self.hub.sendoff_ack_s * 1000), "sendoff_lead_min": self.hub.sendoff_lead_min,
            "tasks": [{**vars(t), "due_ms": self.due_ms(t)} for t in self.tasks],
            "roster": [{"station": r.station, "name": r.name, "staff_no": r.staff_no, "from": r.start,
                        "from_ms": self.at_ms(r.start), "key": r.key, "to": r.end,
                        "to_ms": self.at_ms(r.end) if r.end else 0} for r in self.roster],
            "services": self.services.summary(),
            "guest_late_ms": self.hub.guest_late_min * 60_000,   # VIPs end to end: late against the newest expectation
        }


class _Reader(TomlTable):
    """A table of event.toml; `done` refuses unknown keys, `ident` checks an id."""

    error = EventFileError
    done = TomlTable.only

    def ident(self, key: str) -> str:
        value = self.get(key, str)
        if not _ID.match(value):
            raise self.err(key, "bad_id", value=shown(value))
        return value


def _vip_spaces(r: _Reader, item: dict[str, Any]) -> tuple[str, ...]:
    """`vip_spaces = ["A01", "A02"]` (the spaces' labels) or a count (`3`: labelled VIP1, VIP2, VIP3); none by default."""
    raw = item.get("vip_spaces", [])
    capacity = item.get("capacity", 0) if isinstance(item.get("capacity"), int) else 0
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw <= min(capacity, 100):
            raise r.err("vip_spaces", "vip_count", value=raw, max=min(capacity, 100))
        return tuple(f"VIP{i}" for i in range(1, raw + 1))
    if not isinstance(raw, list) or not all(isinstance(x, str) and 0 < len(x.strip()) <= 16 for x in raw):
        raise r.err("vip_spaces", "vip_spaces", value=shown(raw))
    spaces = tuple(x.strip() for x in raw)
    if len(set(spaces)) != len(spaces):
        raise r.err("vip_spaces", "vip_twice")
    if len(spaces) > min(capacity, 100):
        raise r.err("vip_spaces", "too_many", max=min(capacity, 100), n=len(spaces))
    return spaces


def _areas(path: Path, raw: Any, what: str) -> tuple[Area, ...]:
    if not isinstance(raw, list):
        raise EventFileError(path, what, "list_of_tables", table=what)
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise EventFileError(path, f"{what}[{i}]", "item_table", table=what, value=shown(item))
        r = _Reader(path, item, f"{what}[{i}].")
        area = Area(id=r.ident("id"), capacity=r.get("capacity", int), name=r.get("name", str, ""),
                    name_en=r.get("name_en", str, ""), post=r.get("post", str, ""),
                    vip_spaces=_vip_spaces(r, item) if what == "lots" else ())
        r.done({"id", "capacity", "name", "name_en", "post"} | ({"vip_spaces"} if what == "lots" else set()))
        if area.capacity < 1:
            raise r.err("capacity", "at_least_one", value=area.capacity)
        if area.post and area.post not in POSTS:
            raise r.err("post", "not_post", value=shown(area.post), choices=Choices(POSTS, "post"))
        if area.id in seen:
            raise r.err("id", "twice", value=shown(area.id))
        seen.add(area.id)
        out.append(area)
    return tuple(out)


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_TASKS = 200     # the welcome carries the task list to every station: keep it well inside a message
MAX_ROSTER = 500


_DUE_AT = re.compile(r"^(?:(\d{4}-\d{2}-\d{2}) )?(([01]\d|2[0-3]):[0-5]\d)$")


def _due(r: _Reader, date: str) -> tuple[int, str]:
    """`due`: a clock time ("08:30", on the event's day) or one on a date ("2026-12-12 08:30"), in the event's
    zone; the old form, whole minutes from doors-open (-120: two hours before), still loads."""
    raw = r.table.get("due", 0)
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise r.err("due", "due_at", value=shown(raw))
    if isinstance(raw, int):
        if not -7 * 24 * 60 <= raw <= 24 * 60:
            raise r.err("due", "due", value=raw)
        return raw, ""
    m = _DUE_AT.match(raw.strip())
    if m is None:
        raise r.err("due", "due_at", value=shown(raw))
    day = m.group(1) or date
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise r.err("due", "not_date", value=shown(day)) from None
    return 0, f"{day} {m.group(2)}"


def _tasks(path: Path, raw: Any, departments: list[str], date: str, tz: dt.tzinfo,
           doors_ms: int) -> tuple[Task, ...]:
    if not isinstance(raw, list):
        raise EventFileError(path, "tasks", "list_of_tables", table="tasks")
    if len(raw) > MAX_TASKS:
        raise EventFileError(path, "tasks", "too_many", max=MAX_TASKS, n=len(raw))
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise EventFileError(path, f"tasks[{i}]", "item_table", table="tasks", value=shown(item))
        r = _Reader(path, item, f"tasks[{i}].")
        due, due_at = _due(r, date)
        task = Task(id=r.ident("id"), department=r.get("department", str), title=r.get("title", str),
                    title_en=r.get("title_en", str, ""), due=due, due_at=due_at,
                    blocking=r.get("blocking", bool, False), owner=r.get("owner", str, ""))
        r.done({"id", "department", "title", "title_en", "due", "blocking", "owner"})
        if task.department not in departments:
            raise r.err("department", "not_event_department", value=shown(task.department),
                        choices=Choices(tuple(departments), "dept"))
        if not task.title.strip() or len(task.title) > 64:
            raise r.err("title", "length", max=64)
        if len(task.title_en) > 64:
            raise r.err("title_en", "max_length", max=64)
        if len(task.owner) > 64:
            raise r.err("owner", "max_length", max=64)
        late = (eventtime.at_ms(*task.due_at.split(" "), tz) > doors_ms) if task.due_at else task.due > 0
        if task.blocking and late:
            raise r.err("due", "blocking_due")
        if task.id in seen:
            raise r.err("id", "twice", value=shown(task.id))
        seen.add(task.id)
        out.append(task)
    return tuple(out)


def _roster(path: Path, raw: Any, stations: set[str]) -> tuple[Shift, ...]:
    if not isinstance(raw, list):
        raise EventFileError(path, "roster", "list_of_tables", table="roster")
    if len(raw) > MAX_ROSTER:
        raise EventFileError(path, "roster", "too_many", max=MAX_ROSTER, n=len(raw))
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise EventFileError(path, f"roster[{i}]", "item_table", table="roster", value=shown(item))
        r = _Reader(path, item, f"roster[{i}].")
        shift = Shift(station=r.get("station", str), name=r.get("name", str), staff_no=r.get("staff_no", str, ""),
                      start=r.get("from", str), end=r.get("to", str, ""))
        r.done({"station", "name", "staff_no", "from", "to"})
        if shift.station not in stations:
            raise r.err("station", "not_station", value=shown(shift.station), choices=Choices(tuple(stations)))
        if not shift.name.strip() or len(shift.name) > 64:
            raise r.err("name", "length", max=64)
        if len(shift.staff_no) > 32:
            raise r.err("staff_no", "max_length", max=32)
        if not _HHMM.match(shift.start):
            raise r.err("from", "not_time", value=shown(shift.start), example="08:30")
        if shift.end and (not _HHMM.match(shift.end) or shift.end <= shift.start):
            raise r.err("to", "shift_end", value=shown(shift.end), start=shift.start, example="17:30")
        if shift.key in seen:
            raise r.err("name" if not shift.staff_no else "staff_no", "rostered_twice",
                        value=shown(shift.staff_no or shift.name), station=shift.station)
        seen.add(shift.key)
        out.append(shift)
    return tuple(out)


def _guest_file(path: Path, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise EventFileError(path, "guests", "guest_file", value=shown(raw))
    name = Path(raw)
    if name.is_absolute() or ".." in name.parts:
        raise EventFileError(path, "guests", "guest_inside", value=shown(raw))
    if name.suffix.lower() not in (".json", ".csv", ".xlsx"):
        raise EventFileError(path, "guests", "guest_suffix", value=shown(raw))
    return raw


def parse(path: Path, text: str) -> Event:
    """The event in `text`, or an EventFileError that names the line the mistake is on."""
    try:
        return _parse(path, text)
    except EventFileError as exc:
        if exc.line is None:
            exc.line = toml_where.line_of(text, exc.key)
        raise


def syntax_error(error: type[EventFileError], path: Path, text: str, exc: tomllib.TOMLDecodeError) -> EventFileError:
    """tomllib's own words are English: only its line and column are kept (event and plan files alike)."""
    at = toml_where.syntax_at(str(exc))
    if at is None:   # "at end of document": the last line
        return error(path, "(syntax)", "syntax_end", line=len(text.splitlines()) or 1)
    return error(path, "(syntax)", "syntax", line=at[0], column=at[1])


def _parse(path: Path, text: str) -> Event:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(EventFileError, path, text, exc) from None
    top = _Reader(path, raw, "")
    top.done({"event", "hub", "stations", "desks", "lots", "zones", "departments", "tasks", "roster", "guests",
              "services"})
    ev = _Reader(path, top.get("event", dict), "event.")
    name, date = ev.get("name", str), ev.get("date", str)
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise ev.err("date", "not_date", value=shown(date)) from None
    doors = ev.get("doors_open", str, "09:30")
    if not _HHMM.match(doors):
        raise ev.err("doors_open", "not_time", value=shown(doors), example="09:30")
    lang = ev.get("lang", str, "zh")
    if lang not in ("zh", "en"):
        raise ev.err("lang", "lang", value=shown(lang))
    timezone = ev.get("timezone", str, eventtime.DEFAULT_ZONE)
    try:
        eventtime.zone(timezone or "(empty)")
    except eventtime.ZoneError:
        raise ev.err("timezone", "timezone", value=shown(timezone)) from None
    ev.done({"name", "name_en", "date", "doors_open", "lang", "timezone"})

    raw_hub = top.get("hub", dict, {})
    hub_r = _Reader(path, raw_hub, "hub.")
    d = HubSettings()
    hub = HubSettings(**{k: hub_r.get(k, type(getattr(d, k)), getattr(d, k)) for k in vars(d)})
    if hub.backup_endpoint and "heartbeat_s" not in raw_hub:
        # Terminals leave a silent hub after three heartbeats: at 1 s a takeover takes ~3.3 s, at
        # 0.5 s ~1.9 s (bench/failover.py), inside issue 19's 3 s. Written out, the file's value stands.
        hub = replace(hub, heartbeat_s=PAIR_HEARTBEAT_S)
    hub_r.done(set(vars(d)))
    for key in ("heartbeat_s", "late_s", "offline_s", "rate_per_s", "rate_burst", "max_message_bytes", "vip_ack_s",
                "sendoff_ack_s", "sendoff_lead_min", "guest_late_min"):
        if getattr(hub, key) <= 0:
            raise hub_r.err(key, "positive")
    if not hub.heartbeat_s < hub.late_s < hub.offline_s:
        raise hub_r.err("late_s", "late_between")
    pair = hub_pair.check(hub.endpoint, hub.feed, hub.backup_endpoint, hub.backup_feed)
    if pair is not None:
        raise HubPairError(path, f"hub.{pair.key}", pair.why, **pair.params)

    stations, seen = [], set()
    raw_st = top.get("stations", list, [])
    for i, item in enumerate(raw_st):
        if not isinstance(item, dict):
            raise EventFileError(path, f"stations[{i}]", "item_table", table="stations", value=shown(item))
        r = _Reader(path, item, f"stations[{i}].")
        st = Station(id=r.ident("id"), post=r.get("post", str), name=r.get("name", str, ""),
                     name_en=r.get("name_en", str, ""))
        r.done({"id", "post", "name", "name_en"})
        if st.id == "hub":
            raise r.err("id", "hub_reserved")
        if st.post not in POSTS:
            raise r.err("post", "not_post", value=shown(st.post), choices=Choices(POSTS, "post"))
        if st.id in seen:
            raise r.err("id", "twice", value=shown(st.id))
        seen.add(st.id)
        stations.append(st)

    desks = top.get("desks", list, ["desk-1"])
    for i, desk in enumerate(desks):
        if not isinstance(desk, str) or not _ID.match(desk):
            raise EventFileError(path, f"desks[{i}]", "bad_id", value=shown(desk))
        if desk in seen:
            raise EventFileError(path, f"desks[{i}]", "desk_is_station", value=shown(desk))
        if desk in desks[:i]:
            raise EventFileError(path, f"desks[{i}]", "twice", value=shown(desk))
    departments = top.get("departments", list, list(DEPARTMENTS))
    for i, dep in enumerate(departments):
        if dep not in DEPARTMENTS:
            raise EventFileError(path, f"departments[{i}]", "not_department", value=shown(dep),
                                 choices=Choices(DEPARTMENTS, "dept"))
    return Event(name=name, date=date, name_en=ev.get("name_en", str, ""), doors_open=doors, lang=lang,
                 timezone=timezone,
                 hub=hub, stations=tuple(stations), desks=tuple(desks),
                 lots=_areas(path, raw.get("lots", []), "lots"), zones=_areas(path, raw.get("zones", []), "zones"),
                 departments=tuple(departments),
                 tasks=_tasks(path, raw.get("tasks", []), departments, date, eventtime.zone(timezone),
                              eventtime.at_ms(date, doors, eventtime.zone(timezone))),
                 roster=_roster(path, raw.get("roster", []), seen),
                 guests=_guest_file(path, raw["guests"]) if "guests" in raw else "",
                 services=service_calls.parse_settings(_Reader, path, raw.get("services", {}), tuple(departments)))
