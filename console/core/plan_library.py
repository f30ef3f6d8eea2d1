"""The plan library: each contingency plan's TOML text parsed into frozen dataclasses and checked.

`parse` checks one file's text; reading the files (the shipped `console/event/plans/` and an event
folder's own `DIR/plans/`) is console.event.plan_files. Anything the engine could not act on -- an unknown key, incident
kind, post, department, lot or zone, a missing translation, a text too long for an instruction --
is refused at load time with the file and the key named. Knows TOML text; no files, no sockets,
no database, no screen.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core import toml_where
from console.core.event import Event, EventFileError, syntax_error
from console.core.toml_table import Choices, TomlTable, shown
from protocols.codec import _CONTROL as _REFUSED  # what a station refuses to show, plans never say
from protocols.messages import DEPARTMENTS, GATE_ORDERS, INCIDENT_KINDS, MAX_NAME, POSTS, SEVERITIES

ANY = "*"
MAX_STEPS = 30
MAX_TRIGGERS = 20
MAX_SAY = 400          # leaves room for the plan's name in front, within an instruction's 500
MAX_DO = 300
MAX_SUMMARY = 500
MAX_DUE_S = 24 * 3600

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SUBJECTS = ("incident", "lot", "zone", "post_silent")
_TRIGGER_KEYS = {"incident": {"min_severity"}, "lot": {"at_percent"}, "zone": {"at_percent"},
                 "post_silent": {"after_s"}}
_PLAN_KEYS = {"enabled", "name", "name_en", "owner", "auto_start", "rearm_s", "summary", "summary_en",
              "all_clear", "all_clear_en", "triggers", "steps"}
_STEP_KEYS = {"id", "department", "due_s", "do", "do_en", "posts", "say", "say_en", "gate"}


class PlanFileError(EventFileError):
    """A bad plan file: the file, the key and the reason, in one sentence (the CLI prints it as is)."""


@dataclass(frozen=True)
class Trigger:
    """What sets a plan off: an incident `kind` at `min_severity` or more, a lot or zone at
    `at_percent` of its capacity, or a station of a post silent for `after_s`. `subject` is the
    incident kind, the lot or zone id, or the post; "*" means any lot, zone or post."""

    kind: str
    subject: str
    min_severity: int = 1
    at_percent: int = 100
    after_s: int = 180
    auto_start: bool = False

    def wire(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "min_severity": self.min_severity,
                "at_percent": self.at_percent, "after_s": self.after_s, "auto_start": self.auto_start}


@dataclass(frozen=True)
class Step:
    """One thing to get done: who owns it, its target time from activation, what to do, and the
    instruction (`say`, `say_en`) each of `posts` receives. No posts: the desk confirms it.
    `gate` ("hold" or "resume") goes with the instruction to the gate post: the gate's banner
    follows it (the all-clear of a run that held the gate resumes it)."""

    id: str
    department: str
    due_s: int
    do: str
    do_en: str
    posts: tuple[str, ...] = ()
    say: str = ""
    say_en: str = ""
    gate: str = ""

    def wire(self) -> dict[str, Any]:
        out = {"id": self.id, "department": self.department, "due_s": self.due_s, "do": self.do,
               "do_en": self.do_en, "posts": list(self.posts), "say": self.say, "say_en": self.say_en}
        return out | ({"gate": self.gate} if self.gate else {})


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    name_en: str
    owner: str
    steps: tuple[Step, ...]
    triggers: tuple[Trigger, ...] = ()
    auto_start: bool = False
    rearm_s: int = 900
    summary: str = ""
    summary_en: str = ""
    all_clear: str = ""
    all_clear_en: str = ""
    source: str = ""

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def wire(self) -> dict[str, Any]:
        """What a desk needs to list the plan and start it by hand."""
        return {"id": self.id, "name": self.name, "name_en": self.name_en, "owner": self.owner,
                "auto_start": self.auto_start, "summary": self.summary, "summary_en": self.summary_en,
                "triggers": [t.wire() for t in self.triggers], "steps": len(self.steps)}


@dataclass(frozen=True)
class Library:
    """The plans an event runs, in file-name order."""

    plans: tuple[Plan, ...] = ()
    _by_id: dict[str, Plan] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.plans})

    def get(self, plan_id: str) -> Plan | None:
        return self._by_id.get(plan_id)

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._by_id

    def __iter__(self):
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    def ids(self) -> list[str]:
        return [p.id for p in self.plans]

    def summary(self) -> list[dict[str, Any]]:
        return [p.wire() for p in self.plans]


# --- reading one file ---------------------------------------------------------------------------

class _Table(TomlTable):
    """A table of a plan file, with the checks plans need (bounded numbers, bilingual text)."""

    error = PlanFileError

    def number(self, key: str, default: Any, lo: int, hi: int) -> int:
        value = self.get(key, int, default)
        if not lo <= value <= hi:
            raise self.err(key, "between", lo=lo, hi=hi, value=value)
        return value

    def text(self, key: str, max_len: int, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if default is ... and not value.strip():
            raise self.err(key, "empty")
        if len(value) > max_len:
            raise self.err(key, "too_long", n=len(value), max=max_len)
        if _REFUSED.search(value):
            raise self.err(key, "control")
        return value

    def pair(self, key: str, max_len: int, required: bool = True) -> tuple[str, str]:
        """A text in Chinese (`key`) and English (`key_en`): both, or (when optional) neither."""
        zh = self.text(key, max_len, ... if required else "")
        en = self.text(key + "_en", max_len, ... if required else "")
        if bool(zh.strip()) != bool(en.strip()):
            missing = key + "_en" if zh.strip() else key
            raise self.err(missing, "both_languages", other=key if zh.strip() else key + "_en")
        return zh, en

    def choice(self, key: str, options: tuple, what: str, default: Any = ..., words: str = "") -> Any:
        """One of `options`; `what` names them (eventfile.what.*), `words` is the catalogue group of their names."""
        value = self.get(key, type(options[0]), default)
        if value not in options:
            raise self.err(key, "not_one_of", value=shown(value), what=what,
                           choices=Choices(tuple(map(str, options)), words))
        return value




def _tables(top: _Table, key: str) -> list[_Table]:
    raw = top.get(key, list, [])
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise top.err(f"{key}[{i}]", "item_table", table=key, value=shown(item))
        out.append(_Table(top.path, item, f"{key}[{i}]."))
    return out


def _trigger(t: _Table, event: Event | None, plan_auto: bool) -> Trigger:
    subjects = [k for k in _SUBJECTS if k in t.table]
    if len(subjects) != 1:
        raise PlanFileError(t.path, t.prefix.rstrip("."), "one_subject", choices=Choices(_SUBJECTS),
                            got=Choices(tuple(subjects)) if subjects else "—")
    kind = subjects[0]
    t.only({kind, "auto_start"} | _TRIGGER_KEYS[kind])
    auto = t.get("auto_start", bool, plan_auto)
    if kind == "incident":
        return Trigger(kind, t.choice(kind, INCIDENT_KINDS, "incident_kind", words="incident"),
                       min_severity=t.choice("min_severity", SEVERITIES, "severity", 1, "severity"), auto_start=auto)
    if kind == "post_silent":
        return Trigger(kind, t.choice(kind, (ANY,) + POSTS, "post"),
                       after_s=t.number("after_s", 180, 10, MAX_DUE_S), auto_start=auto)
    subject = t.get(kind, str)
    if subject != ANY:
        known = [a.id for a in (event.lots if kind == "lot" else event.zones)] if event is not None else None
        if not _ID.match(subject) or (known is not None and subject not in known):
            if known is None:
                raise t.err(kind, "not_area", value=shown(subject), what=kind)
            raise t.err(kind, "not_area_listed", value=shown(subject), what=kind, choices=Choices(tuple(known)))
    return Trigger(kind, subject, at_percent=t.number("at_percent", 100, 1, 1000), auto_start=auto)


def _step(s: _Table, seen: set[str]) -> Step:
    s.only(_STEP_KEYS)
    step_id = s.get("id", str)
    if not _ID.match(step_id):
        raise s.err("id", "bad_id", value=shown(step_id))
    if step_id in seen:
        raise s.err("id", "step_twice", value=shown(step_id))
    seen.add(step_id)
    department = s.choice("department", DEPARTMENTS, "department", words="dept")
    due_s = s.number("due_s", ..., 1, MAX_DUE_S)
    do, do_en = s.pair("do", MAX_DO)
    posts = s.get("posts", list, [])
    for i, post in enumerate(posts):
        if post not in POSTS:
            raise s.err(f"posts[{i}]", "not_post", value=shown(post), choices=Choices(POSTS, "post"))
        if post in posts[:i]:
            raise s.err(f"posts[{i}]", "twice", value=shown(post))
    say, say_en = s.pair("say", MAX_SAY, required=bool(posts))
    if say and not posts:
        raise s.err("say", "say_no_posts")
    gate = s.choice("gate", GATE_ORDERS[1:], "gate_order", words="desk.gate") if "gate" in s.table else ""
    if gate and "gate" not in posts:
        raise s.err("gate", "gate_no_gate")
    return Step(step_id, department, due_s, do, do_en, tuple(posts), say, say_en, gate)


def parse(path: Path, text: str, event: Event | None = None) -> Plan | None:
    """One plan file; None for a file that only switches a shipped plan off (`enabled = false`). A mistake is a
    PlanFileError naming the line it is on."""
    try:
        return _parse(path, text, event)
    except PlanFileError as exc:
        if exc.line is None:
            exc.line = toml_where.line_of(text, exc.key)
        raise


def _parse(path: Path, text: str, event: Event | None) -> Plan | None:
    plan_id = path.stem
    if not _ID.match(plan_id):
        raise PlanFileError(path, "(file name)", "plan_id", value=shown(plan_id))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(PlanFileError, path, text, exc) from None
    top = _Table(path, raw, "")
    top.only(_PLAN_KEYS)
    if not top.get("enabled", bool, True):
        if set(raw) != {"enabled"}:
            raise top.err("enabled", "enabled_only")
        return None
    name, name_en = top.pair("name", MAX_NAME)
    owner = top.choice("owner", DEPARTMENTS, "department", words="dept")
    auto = top.get("auto_start", bool, False)
    summary, summary_en = top.pair("summary", MAX_SUMMARY, required=False)
    all_clear, all_clear_en = top.pair("all_clear", MAX_SAY, required=False)
    rearm_s = top.number("rearm_s", 900, 0, MAX_DUE_S)
    triggers = tuple(_trigger(t, event, auto) for t in _tables(top, "triggers"))
    if len(triggers) > MAX_TRIGGERS:
        raise top.err("triggers", "too_many", max=MAX_TRIGGERS, n=len(triggers))
    seen: set[str] = set()
    steps = tuple(_step(s, seen) for s in _tables(top, "steps"))
    if not steps:
        raise top.err("steps", "no_steps")
    if len(steps) > MAX_STEPS:
        raise top.err("steps", "too_many", max=MAX_STEPS, n=len(steps))
    return Plan(plan_id, name, name_en, owner, steps, triggers, auto, rearm_s, summary, summary_en,
                all_clear, all_clear_en, str(path))
