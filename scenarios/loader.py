"""The scenario loader: one TOML file to a checked Scenario, or a ScenarioError naming the file, the line and the key.

Unknown tables, keys, traffic kinds, report kinds and expectation kinds are refused at load
time, as are times that do not parse, stations the event does not have and reports a post may
not send. Report bodies go through the wire codec's own check, so a script can never hold a
report the hub would refuse. Line numbers come from scanning the text (see lines.py).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from console.core.guests_check import COLUMNS, GuestFileError
from console.core.guests_check import check as check_guests
from console.core.toml_where import syntax_at
from console.event.folder import SAMPLE, Event, EventFileError
from console.event.folder import parse as parse_event
from protocols import codec
from protocols.codec import ProtocolError
from protocols.messages import ALLOWED, DEPARTMENTS, INCIDENT_KINDS, POSTS, REGISTRY, SERVICES
from scenarios import expectations, generators
from scenarios.lines import Lines
from scenarios.load_errors import Choices, Named, Said, ScenarioError, kind_words, plan_names, shown
from scenarios.model import DeskPolicy, Expect, Scenario, ScriptItem, Silence, Traffic
from scenarios.timefmt import TimeFormatError, parse_ms, parse_range

HERE = Path(__file__).resolve().parent
SAMPLE_EVENT = SAMPLE   # the sample event the product ships (console/event/sample_event.toml)
DESK_TYPES = ("instruction", "incident_open", "note")
# The simulated desk and posts make these themselves, with ids no script can know in advance.
UNSCRIPTABLE = ("incident_update", "instruction_ack")
TOP = {"scenario", "desk", "stations", "traffic", "script", "silence", "expect", "guest"}


def plan_ids(event_path: Path) -> set[str]:
    """The contingency plans a hub for this event can run: the shipped ones and the event folder's own."""
    folders = (SAMPLE_EVENT.parent / "plans", event_path.parent / "plans")
    return {p.stem for d in folders if d.is_dir() for p in d.glob("*.toml")}


def shipped() -> dict[str, Path]:
    """The scenarios that come with eventdesk, by name (the file's stem)."""
    return {p.stem: p for p in sorted(HERE.glob("*.toml"))}


def find(name: str) -> Path:
    """A shipped scenario by name, or a path to a scenario file."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return path
    found = shipped().get(name.replace("-", "_"))
    if found is None:
        raise ScenarioError(name, 0, "(file)", "no_scenario", names=Choices(tuple(shipped())))
    return found


class _Table:
    """A TOML table being read: typed getters that raise ScenarioError at the key's line."""

    def __init__(self, ld: _Loader, data: Any, table: str, index: int = 0, label: str | None = None) -> None:
        self.ld, self.table, self.index = ld, table, index
        self.label = table if label is None else label
        if not isinstance(data, dict):
            raise self.err("", "kind", kind="dict", value=shown(data))
        self.data = data

    def err(self, key: str, why: str, **params: Any) -> ScenarioError:
        line = self.ld.lines.find(self.table, self.index, key)
        name = ".".join(p for p in (self.label, key) if p) or "(top)"
        return ScenarioError(self.ld.path, line, name, why, **params)

    def only(self, allowed: set[str] | dict) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.err(key, "unknown_key", allowed=Choices(tuple(sorted(allowed))))

    def get(self, key: str, kind: type | tuple, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.err(key, "required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            named = kind.__name__ if isinstance(kind, type) else ("time" if str in kind else "float")
            raise self.err(key, "kind", kind=named, value=shown(value))
        return value

    def time(self, key: str, default: Any = ...) -> int:
        value = self.get(key, (str, int, float), default)
        try:
            ms = parse_ms(value)
        except TimeFormatError as exc:
            raise self.err(key, exc.why, value=shown(value)) from None
        return self.ld.in_scenario(self, key, ms)

    def span(self, key: str, default: Any = ...) -> tuple[int, int]:
        value = self.get(key, (str, int, float), default)
        try:
            return parse_range(value)
        except TimeFormatError as exc:
            raise self.err(key, exc.why, value=shown(value)) from None


class _Loader:
    def __init__(self, path: Path, text: str, event: Event | None) -> None:
        self.path, self.text, self.lines = path, text, Lines(text)
        self.event_override = event
        self.event: Event | None = None
        self.duration = 0

    def in_scenario(self, t: _Table, key: str, ms: int) -> int:
        if self.duration and ms > self.duration:
            raise t.err(key, "after_end", s=ms // 1000, end=self.duration // 1000)
        return ms

    def station(self, t: _Table, key: str, value: Any, post: str = "") -> str:
        st = self.event.station(value) if isinstance(value, str) else None
        if st is None:
            raise t.err(key, "not_station", value=shown(value), stations=self.stations())
        if post and st.post != post:
            raise t.err(key, "wrong_post", value=shown(value), post=st.post, need=post,
                        stations=self.stations(post))
        return value

    def stations(self, post: str = "") -> Named:
        return Named((s.id, s.name, s.name_en) for s in self.event.stations if not post or s.post == post)

    def target(self, t: _Table, key: str, value: Any) -> str:
        kind_, _, name = str(value).partition(".")
        if not (value == "all" or (kind_ == "post" and name in POSTS) or (kind_ == "station" and self.event.station(name))):
            raise t.err(key, "not_target", value=shown(value), posts=Choices(POSTS, "post"), stations=self.stations())
        return value

    def param(self, t: _Table, key: str, type_: str, default: Any) -> Any:
        """One generator or expectation parameter, checked against its declared type."""
        if key not in t.data:
            if default is ...:
                raise t.err(key, "required")
            if default in ("", [], {}, 0) and type_ not in ("range",):
                return default
            value = default
        else:
            value = t.data[key]
        base, _, post = type_.partition(":")
        ev = self.event
        ids = {"lot": [a.id for a in ev.lots], "lots": [a.id for a in ev.lots], "zone": [a.id for a in ev.zones],
               "level": ["A", "B", "C"], "incident": list(INCIDENT_KINDS), "department": list(DEPARTMENTS),
               "services": list(SERVICES)}
        areas = {a.id: (a.id, a.name, a.name_en) for a in (*ev.lots, *ev.zones)}
        words = {"incident": "incident", "department": "dept", "services": "service"}
        try:
            if base == "time":
                return t.time(key, value)
            if base == "range":
                return t.span(key, value)
            if base in ("count", "int", "float", "share"):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= (base == "count")
                ok = ok and (base in ("float", "share") or isinstance(value, int)) and (base != "share" or value <= 1)
                if not ok:
                    raise t.err(key, f"want_{base}", value=shown(value))
                return value
            if base == "plan":
                known = plan_ids(self.event_path)
                if not isinstance(value, str) or (known and value not in known):
                    raise t.err(key, "not_plan", value=shown(value), plans=plan_names(self.event_path))
                return value
            if base in ("str", "ref"):
                if not isinstance(value, str):
                    raise t.err(key, "kind", kind="str", value=shown(value))
                return value
            if base == "sizes":
                if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)
                        and 1 <= value[0] <= value[1] <= 1000):
                    raise t.err(key, "sizes", value=shown(value))
                return tuple(value)
            if base in ("station", "stations"):
                many = value if base == "stations" else [value]
                if not isinstance(many, list) or (base == "stations" and not many):
                    raise t.err(key, "station_list", value=shown(value), stations=self.stations(post))
                for v in many:
                    self.station(t, key, v, post)
                return list(many) if base == "stations" else value
            if base == "target":
                return self.target(t, key, value)
            if base == "closures":
                if not isinstance(value, dict):
                    raise t.err(key, "closures", value=shown(value), lots=Named(areas[i] for i in ids["lots"]))
                out = {}
                for lot, at in value.items():
                    if lot not in ids["lots"]:
                        raise t.err(key, "not_lot", value=shown(lot), lots=Named(areas[i] for i in ids["lots"]))
                    out[lot] = self.in_scenario(t, key, parse_ms(at))
                return out
            if base in ids:
                many = value if base in ("lots", "services") else [value]
                if not isinstance(many, list) or not many or any(v not in ids[base] for v in many):
                    choices = (Named(areas[i] for i in ids[base]) if base in ("lot", "lots", "zone")
                               else Choices(tuple(ids[base]), words.get(base, "")))
                    raise t.err(key, "choose", value=shown(value), choices=choices)
                return list(many) if base in ("lots", "services") else value
        except TimeFormatError as exc:     # a closing time of a lot
            raise t.err(key, exc.why, value=shown(value)) from None
        raise AssertionError(f"unknown parameter type {type_} in a generator or expectation spec")

    # --- the file -------------------------------------------------------------------------------
    def load(self) -> Scenario:
        try:
            raw = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:   # tomllib's words are English: its line and column only
            at = syntax_at(str(exc))
            if at is None:
                raise ScenarioError(self.path, len(self.text.splitlines()) or 1, "(syntax)", "syntax_end") from None
            raise ScenarioError(self.path, at[0], "(syntax)", "syntax", column=at[1]) from None
        top = _Table(self, raw, "")
        top.only(TOP)
        head = _Table(self, top.get("scenario", dict), "scenario")
        head.only({"name", "name_en", "summary", "summary_en", "event", "duration", "seed", "speed", "start",
                   "prepared"})
        self.event = self._event(head)
        start = head.get("start", str, self.event.doors_open)
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", start):
            raise head.err("start", "not_clock", value=shown(start))
        self.duration = head.time("duration")
        if self.duration <= 0:
            raise head.err("duration", "not_positive", value=shown(head.data["duration"]))
        speed = head.get("speed", (int, float), 60)
        if speed <= 0:
            raise head.err("speed", "not_positive", value=shown(speed))
        script = tuple(self._script(i, d) for i, d in enumerate(_array(top, "script")))
        refs = [s.ref for s in script if s.ref]
        dupes = {r for r in refs if refs.count(r) > 1}
        if dupes:
            raise top.err("script", "ids_twice", ids=Choices(tuple(sorted(dupes))))
        traffic = tuple(self._traffic(i, d) for i, d in enumerate(_array(top, "traffic")))
        kinds = {tr.kind for tr in traffic}
        for i, tr in enumerate(traffic):
            if tr.kind in generators.NEEDS_ARRIVALS and "arrivals" not in kinds and "delegation" not in kinds:
                raise _Table(self, {}, "traffic", i, f"traffic[{i}]").err("kind", "needs_arrivals", value=shown(tr.kind))
        posts = self._stations(top)
        return Scenario(
            path=self.path, name=head.get("name", str), name_en=head.get("name_en", str),
            event_path=self.event_path, event=self.event, duration_ms=self.duration,
            seed=head.get("seed", int, 1), speed=float(speed), start=start,
            prepared=head.get("prepared", bool, True), summary=head.get("summary", str, ""),
            summary_en=head.get("summary_en", str, ""), desk=self._desk(top),
            station_ack_delay=posts[0], station_step_delay=posts[1], traffic=traffic, script=script,
            silences=tuple(self._silence(i, d) for i, d in enumerate(_array(top, "silence"))),
            expects=tuple(self._expect(i, d, set(refs)) for i, d in enumerate(_array(top, "expect"))),
            guests=self._guests(top), clock_offsets=posts[2])

    def _event(self, head: _Table) -> Event:
        name = head.get("event", str, "sample")
        self.event_path = SAMPLE_EVENT if name == "sample" else (self.path.parent / name)
        if self.event_override is not None:
            return self.event_override
        try:
            return parse_event(self.event_path, self.event_path.read_text("utf-8"))
        except OSError as exc:
            raise head.err("event", "event_unreadable", file=str(self.event_path), cause=exc) from None
        except EventFileError as exc:
            raise head.err("event", "event_bad", cause=exc) from None

    def _desk(self, top: _Table) -> DeskPolicy:
        t = _Table(self, top.get("desk", dict, {}), "desk")
        t.only({"ack_delay", "resolve_delay", "step_delay", "assign"})
        d = DeskPolicy()
        assign = _Table(self, t.get("assign", dict, {}), "desk.assign")
        for kind_, dept in assign.data.items():
            if kind_ not in INCIDENT_KINDS:
                raise assign.err(kind_, "unknown_key", allowed=Choices(tuple(INCIDENT_KINDS), "incident"))
            if dept not in DEPARTMENTS:
                raise assign.err(kind_, "choose", value=shown(dept), choices=Choices(tuple(DEPARTMENTS), "dept"))
        return DeskPolicy(t.span("ack_delay") if "ack_delay" in t.data else d.ack_delay,
                          t.span("resolve_delay") if "resolve_delay" in t.data else d.resolve_delay,
                          t.span("step_delay") if "step_delay" in t.data else d.step_delay,
                          dict(assign.data))

    def _stations(self, top: _Table) -> tuple[tuple[int, int], tuple[int, int], dict[str, int]]:
        """(ack delay, plan step delay, clock offsets in ms) of the simulated posts."""
        t = _Table(self, top.get("stations", dict, {}), "stations")
        t.only({"ack_delay", "step_delay", "clock_offset_s"})
        offsets = t.get("clock_offset_s", dict, {})   # real seconds on the terminal's clock, not scenario time
        for sid, value in offsets.items():
            if self.station(t, "clock_offset_s", sid) and (type(value) not in (int, float) or abs(value) > 86_400):
                raise t.err("clock_offset_s", "offset", station=sid, value=shown(value))
        return (t.span("ack_delay") if "ack_delay" in t.data else (5_000, 30_000),
                t.span("step_delay") if "step_delay" in t.data else (20_000, 90_000),
                {sid: int(value * 1000) for sid, value in offsets.items()})

    def _traffic(self, i: int, data: Any) -> Traffic:
        t = _Table(self, data, "traffic", i, f"traffic[{i}]")
        kind_ = t.get("kind", str)
        spec = generators.KINDS.get(kind_)
        if spec is None:
            raise t.err("kind", "choose", value=shown(kind_), choices=kind_words("scenario.traffic", generators.KINDS))
        t.only({"kind", *spec})
        params = {k: self.param(t, k, ty, default) for k, (ty, default) in spec.items()}
        if kind_ == "arrivals" and not params["start"] <= params["doors"] <= params["peak"] <= params["end"]:
            raise t.err("peak", "arrivals_order")
        return Traffic(kind_, i, params)

    def _script(self, i: int, data: Any) -> ScriptItem:
        t = _Table(self, data, "script", i, f"script[{i}]")
        t.only({"at", "id", "station", "report", "desk", "body", "ack_after", "resolve_after", "assign"})
        at = t.time("at")
        station = t.get("station", str, "")
        if bool(station) == ("desk" in t.data):
            raise t.err("station", "station_or_desk")
        if station:
            self.station(t, "station", station)
            type_, key = t.get("report", str), "report"
            if type_ not in REGISTRY or REGISTRY[type_].KIND != "report" or type_ in UNSCRIPTABLE:
                kinds = sorted(k for k, c in REGISTRY.items() if c.KIND == "report" and k not in UNSCRIPTABLE)
                raise t.err(key, "unknown_report", value=shown(type_), kinds=Choices(tuple(kinds), "type"))
            post = self.event.station(station).post
            if type_ not in ALLOWED[post]:
                # The kind as written and by its name (车辆入场), and what this post may send instead, each named.
                raise t.err(key, "may_not_send", value=shown(type_), name=Said.of(f"type.{type_}"), post=post,
                            kinds=Choices(tuple(sorted(k for k in ALLOWED[post] if k not in UNSCRIPTABLE)), "type"))
        else:
            if "report" in t.data:
                raise t.err("report", "desk_not_report")
            type_, key = t.get("desk", str), "desk"
            if type_ not in DESK_TYPES:
                raise t.err(key, "choose", value=shown(type_), choices=Choices(DESK_TYPES, "scenario.desk_action"))
        body = t.get("body", dict, {})
        try:
            msg = codec.build(type_, body)
        except ProtocolError as exc:
            raise t.err("body", "body", cause=exc) from None
        full = msg.as_body()
        for field_, areas in (("lot", self.event.lots), ("zone", self.event.zones)):
            if field_ in full and full[field_] not in [a.id for a in areas]:
                raise t.err("body", "not_in_event", field=field_, value=shown(full[field_]),
                            choices=Named((a.id, a.name, a.name_en) for a in areas))
        if type_ == "instruction":
            self.target(t, "body", full["target"])
        is_incident = type_ in ("incident_report", "incident_open")
        for k in ("ack_after", "resolve_after", "assign"):
            if k in t.data and not is_incident:
                raise t.err(k, "incident_only")
        return ScriptItem(at, type_, full, station, t.get("id", str, ""),
                          t.span("ack_after") if "ack_after" in t.data else None,
                          t.span("resolve_after") if "resolve_after" in t.data else None,
                          self.param(t, "assign", "department", "") if "assign" in t.data else "")

    def _silence(self, i: int, data: Any) -> Silence:
        t = _Table(self, data, "silence", i, f"silence[{i}]")
        t.only({"station", "at", "until"})
        s = Silence(self.station(t, "station", t.get("station", str)), t.time("at"), t.time("until"))
        if s.until_ms <= s.at_ms:
            raise t.err("until", "until_after_at")
        return s

    def _expect(self, i: int, data: Any, refs: set[str]) -> Expect:
        t = _Table(self, data, "expect", i, f"expect[{i}]")
        kind_ = t.get("kind", str)
        spec = expectations.KINDS.get(kind_)
        if spec is None:
            raise t.err("kind", "choose", value=shown(kind_), choices=kind_words("score.kind", expectations.KINDS))
        t.only({"kind", "label", "label_en", *spec.params})
        params = {k: self.param(t, k, ty, default) for k, (ty, default) in spec.params.items()}
        if params.get("ref") and params["ref"] not in refs:
            raise t.err("ref", "no_ref", value=shown(params["ref"]), ids=Choices(tuple(sorted(refs))))
        return Expect(kind_, params, t.get("label", str, ""), t.get("label_en", str, ""),
                      self.lines.find("expect", i))

    def _guests(self, top: _Table) -> tuple[dict[str, Any], ...]:
        """[[guest]] tables: the rehearsal's guest list, checked row by row as `eventdesk guests import` checks a file."""
        rows = [_Table(self, d, "guest", i, f"guest[{i}]") for i, d in enumerate(_array(top, "guest"))]
        if not rows:
            return ()
        columns = list(COLUMNS)
        for t in rows:
            t.only(set(columns))
        table = [columns] + [[t.data.get(c, "") for c in columns] for t in rows]
        try:
            return tuple(check_guests(table, self.event.date, self.event.tz, self.path))
        except GuestFileError as exc:
            first = exc.errors[0]   # its column reads "D (level)": the key is in the brackets
            named = re.search(r"\(([a-z_]+)\)", first.column)
            raise rows[max(0, first.row - 2)].err(named.group(1) if named else "", "guest", cause=first) from None


def _array(top: _Table, key: str) -> list[Any]:
    return top.get(key, list, [])


def load(path: Path | str, event: Event | None = None) -> Scenario:
    """Read and check one scenario file; `event` replaces the scenario's own (a rehearsal in DIR)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ScenarioError(path, 0, "(file)", "unreadable", cause=exc) from None
    return _Loader(path, text, event).load()
