"""Readiness before the doors open (前期准备) and the duty roster: state and time in, the board and the alarms out; pure.

`board(state, now_ms)` is what the desk's readiness screen shows: every task with its status,
progress per department, what is overdue, what still blocks opening, and the GO / NO-GO.
`duty(state, now_ms)` says who is on which post. `evaluate(state, now_ms)` returns the hub
events to log now: an `overdue` alarm, once, for a blocking task not signed off by its due time
and for a rostered station nobody has signed in at by its start. Like console.core.plans it returns
nothing new once its decisions are folded, so the hub calls it after every commit and every
second, and a replay of the log is the readiness history. No sockets, database, screen or clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protocols.messages import Message, Overdue

if TYPE_CHECKING:
    from console.core.state import State


@dataclass(frozen=True)
class TaskView:
    id: str
    department: str
    title: str
    title_en: str
    owner: str
    due_ms: int
    blocking: bool
    status: str                 # done | overdue | open
    by: str = ""
    at_ms: int = 0
    note: str = ""
    late: bool = False          # signed off after its due time
    alarmed_ms: int = 0

    def title_in(self, lang: str) -> str:
        return (self.title_en or self.title) if lang == "en" else self.title


@dataclass(frozen=True)
class DepartmentView:
    department: str
    done: int
    total: int
    overdue: int
    blocking_open: int


@dataclass(frozen=True)
class Board:
    go: bool                    # every blocking task is signed off
    doors_open_ms: int
    tasks: tuple[TaskView, ...]         # open blocking first, then overdue, then by due time; done last
    departments: tuple[DepartmentView, ...]
    blocking_open: tuple[TaskView, ...]
    overdue: tuple[TaskView, ...]
    done: int
    total: int


@dataclass(frozen=True)
class PostDuty:
    station: str
    post: str
    rostered: tuple[dict[str, Any], ...]   # roster entries of this station, earliest first
    on: tuple[dict[str, Any], ...]         # who is signed in now: {name, staff_no, ms}
    start_ms: int                          # the earliest rostered start (0: not rostered)
    status: str                            # on | waiting | missing | over (every slot ended) | free (no roster, nobody on)
    alarmed_ms: int = 0


def tasks(state: State, now_ms: int) -> list[TaskView]:
    done, alarmed = state.readiness["done"], state.readiness["overdue"]
    out = []
    for t in state.event.get("tasks", ()):
        sign = done.get(t["id"])
        due = int(t.get("due_ms", 0))
        if sign is not None:
            status = "done"
        else:
            status = "overdue" if now_ms > due else "open"
        out.append(TaskView(
            t["id"], t.get("department", ""), t.get("title", ""), t.get("title_en", ""), t.get("owner", ""), due,
            bool(t.get("blocking")), status, sign["by"] if sign else "", sign["ms"] if sign else 0,
            sign["note"] if sign else "", bool(sign and sign["ms"] > due), alarmed.get(t["id"], 0)))
    return out


def board(state: State, now_ms: int) -> Board:
    views = tasks(state, now_ms)
    order = {"overdue": 1, "open": 2, "done": 3}
    views.sort(key=lambda v: (0 if (v.blocking and v.status != "done") else order[v.status], v.due_ms, v.id))
    departments = []
    for dep in state.event.get("departments", ()):
        mine = [v for v in views if v.department == dep]
        if not mine:
            continue
        departments.append(DepartmentView(dep, sum(v.status == "done" for v in mine), len(mine),
                                          sum(v.status == "overdue" for v in mine),
                                          sum(v.blocking and v.status != "done" for v in mine)))
    blocking = tuple(v for v in views if v.blocking and v.status != "done")
    return Board(not blocking, int(state.event.get("doors_open_ms", 0)), tuple(views), tuple(departments), blocking,
                 tuple(v for v in views if v.status == "overdue"), sum(v.status == "done" for v in views), len(views))


def duty(state: State, now_ms: int) -> list[PostDuty]:
    """Every station with its roster and who is signed in, in the event's station order."""
    by_station: dict[str, list[dict[str, Any]]] = {}
    for entry in state.event.get("roster", ()):
        by_station.setdefault(entry["station"], []).append(entry)
    alarmed = state.roster["overdue"]
    out = []
    for sid, st in state.stations.items():
        rostered = sorted(by_station.get(sid, ()), key=lambda e: e.get("from_ms", 0))
        on = tuple(sorted(state.roster["on"].get(sid, {}).values(), key=lambda w: w["ms"]))
        start = rostered[0]["from_ms"] if rostered else 0
        if on:
            status = "on"
        elif not rostered:
            status = "free"
        elif all(slot_over(e, now_ms) for e in rostered):
            status = "over"
        else:
            status = "missing" if now_ms >= start else "waiting"
        out.append(PostDuty(sid, st.get("post", ""), tuple(rostered), on, start, status,
                            max((alarmed.get(e["key"], 0) for e in rostered), default=0)))
    return out


def slot_over(entry: dict[str, Any], now_ms: int) -> bool:
    """A roster slot with an end is over from its end on; one without lasts the day."""
    end = int(entry.get("to_ms", 0) or 0)
    return bool(end) and now_ms >= end


def on_duty(state: State, who: str) -> str:
    """The station where a person (name or staff number) is signed in now, or ""."""
    for sid, people in state.roster["on"].items():
        for key, person in people.items():
            if who in (key, person.get("name"), person.get("staff_no")):
                return sid
    return ""


def rostered_at(state: State, who: str) -> str:
    """The station a person (name or staff number) is rostered at, or ""."""
    for entry in state.event.get("roster", ()):
        if who and who in (entry.get("name"), entry.get("staff_no")):
            return entry["station"]
    return ""


def evaluate(state: State, now_ms: int) -> list[Message]:
    """The readiness alarms to log now: [] when the log already says it all."""
    out: list[Message] = []
    done, alarmed = state.readiness["done"], state.readiness["overdue"]
    for t in state.event.get("tasks", ()):
        due = int(t.get("due_ms", 0))
        if t.get("blocking") and now_ms >= due and t["id"] not in done and t["id"] not in alarmed:
            out.append(Overdue(what="task", ref=t["id"], due_ms=due))
    roster = state.roster
    for entry in state.event.get("roster", ()):
        start, station = int(entry.get("from_ms", 0)), entry["station"]
        if now_ms < start or entry["key"] in roster["overdue"] or roster["on"].get(station) or slot_over(entry, now_ms):
            continue
        if roster["last_in"].get(station, 0) >= start:
            continue   # someone took the post after its start and has left since: it was staffed in time
        out.append(Overdue(what="roster", ref=entry["key"], target=station, due_ms=start))
    return out
