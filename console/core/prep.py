"""The office's preparation from the desk (issue 16 item 6): its actions checked against the plan as it stands, and the plan's stages; pure.

`check` is what the hub asks before it logs a task_add, task_change, roster_add, roster_change or prep_stage:
a miss is a ProtocolError with a sentence in both languages naming what is wrong. `stages(state)` is the seed's
order as the board shows it: each department's plan 未提交 → 已提交 → 已合并, then the full rehearsal.
No sockets, database, screen or clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.core.event import MAX_ROSTER, MAX_TASKS
from console.core.state import State
from console.core.state.fold_prep import find_slot, find_task, slot_key
from protocols.codec import ProtocolError, schema_error

KINDS = frozenset(("task_add", "task_change", "roster_add", "roster_change", "prep_stage"))


@dataclass(frozen=True)
class Stages:
    """Each department's plan stage (none | submitted | merged), and the full rehearsal's mark ({} if not yet)."""

    plans: tuple[tuple[str, str], ...]
    rehearsed: dict[str, Any]

    @property
    def merged(self) -> int:
        return sum(stage == "merged" for _, stage in self.plans)

    @property
    def submitted(self) -> int:
        return sum(stage != "none" for _, stage in self.plans)


def stage_of(state: State, department: str) -> str:
    marks = state.readiness["stages"].get(department, {})
    return "merged" if "merged" in marks else "submitted" if "submitted" in marks else "none"


def stages(state: State) -> Stages:
    return Stages(tuple((d, stage_of(state, d)) for d in state.event.get("departments", ())),
                  dict(state.readiness.get("rehearsed") or {}))


def check(state: State, type_: str, msg: Any, stations: set[str]) -> None:
    """Refuse what the plan as it stands does not allow; the field and the reason in both languages."""
    departments = state.event.get("departments", ())
    doors = int(state.event.get("doors_open_ms", 0))
    if getattr(msg, "department", "") and msg.department not in departments:
        raise schema_error("department", "problem.department_not_here", got=msg.department)
    if type_ == "task_add" and len(state.event.get("tasks", ())) >= MAX_TASKS:
        raise schema_error("title", "problem.too_many", n=MAX_TASKS)
    if type_ == "roster_add" and len(state.event.get("roster", ())) >= MAX_ROSTER:
        raise schema_error("station", "problem.too_many", n=MAX_ROSTER)
    if type_ == "task_add" and msg.blocking and msg.due_ms > doors:
        raise schema_error("due_ms", "problem.blocking_after_doors")
    if type_ == "task_change":
        task = find_task(state, msg.task)
        if task is None:
            raise ProtocolError("E_UNKNOWN", what_key="what.task", ref=msg.task)
        if msg.due_ms and task.get("blocking") and msg.due_ms > doors:
            raise schema_error("due_ms", "problem.blocking_after_doors")
    if type_ in ("roster_add", "roster_change") and msg.station and msg.station not in stations:
        raise schema_error("station", "problem.unknown_station", got=msg.station)
    if type_ == "roster_add" and find_slot(state, slot_key(msg.station, msg.name, msg.staff_no)) is not None:
        raise schema_error("name", "problem.slot_twice")
    if type_ == "roster_change":
        _slot_change(state, msg)
    if type_ == "prep_stage":
        _stage(state, msg)


def _slot_change(state: State, msg: Any) -> None:
    slot = find_slot(state, msg.slot)
    if slot is None:
        raise ProtocolError("E_UNKNOWN", what_key="what.slot", ref=msg.slot)
    start = msg.start_ms or int(slot.get("from_ms", 0))
    end = msg.end_ms or int(slot.get("to_ms", 0) or 0)
    if not msg.end_now and end and end <= start:
        raise schema_error("end_ms", "problem.end_before_start")


def _stage(state: State, msg: Any) -> None:
    """The seed's order: submitted before merged, every plan merged before the full rehearsal; each once."""
    if msg.stage == "rehearsed":
        left = sum(stage != "merged" for _, stage in stages(state).plans)
        if left:
            raise schema_error("stage", "problem.rehearse_before_merge", n=left)
        if state.readiness.get("rehearsed"):
            raise schema_error("stage", "problem.stage_already")
        return
    now = stage_of(state, msg.department)
    if msg.stage == "merged" and now == "none":
        raise schema_error("stage", "problem.merge_before_submit")
    if now == msg.stage or (now == "merged" and msg.stage == "submitted"):
        raise schema_error("stage", "problem.stage_already")
