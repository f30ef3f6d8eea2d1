"""How the desk's preparation changes the picture (issue 16 item 6): tasks and roster slots added, moved, ended; plan stages; pure.

The tasks and roster of event.toml are the plan as first written (`state.event`); the desk's changes are folded
into those same lists, so the board, the alarms, the terminals' sign-off and the summary read one plan. Each
task and slot keeps who changed it, when and what it was (`changes`); a replay of the log gives the same plan.
"""
from __future__ import annotations

from typing import Any

from console.core.state.model import State
from protocols import eventtime

CHANGES_MAX = 20      # per task or slot; the first entry is always kept


def added_task_id(gseq: int) -> str:
    """A desk-added task's id: the log's sequence makes it unique (T1234); staff see its title."""
    return f"T{gseq}"


def slot_key(station: str, name: str, staff_no: str) -> str:
    """A roster slot's key, as event.toml's roster builds it (console.core.event.Shift.key)."""
    return f"{station}/{staff_no.strip() or name.strip()}"


def find_task(s: State, task_id: str) -> dict[str, Any] | None:
    return next((x for x in s.event.get("tasks", ()) if x.get("id") == task_id), None)


def find_slot(s: State, key: str) -> dict[str, Any] | None:
    return next((x for x in s.event.get("roster", ()) if x.get("key") == key), None)


def _hhmm(s: State, ms: int) -> str:
    return eventtime.local(ms, eventtime.zone_or_default(s.event.get("timezone"))).strftime("%H:%M") if ms else ""


def _changed(item: dict[str, Any], entry: dict[str, Any]) -> None:
    changes = item.setdefault("changes", [])
    changes.append(entry)
    if len(changes) > CHANGES_MAX:
        del changes[1]


def _task_add(s: State, ev: Any, b: dict, ms: int) -> None:
    s.event.setdefault("tasks", []).append({
        "id": added_task_id(ev.gseq), "department": b.get("department", ""), "title": b.get("title", ""),
        "title_en": "", "due": 0, "due_at": "", "blocking": bool(b.get("blocking")), "owner": b.get("owner", ""),
        "due_ms": int(b.get("due_ms", 0)), "added": {"by": ev.station, "ms": ms}})


def _task_change(s: State, ev: Any, b: dict, ms: int) -> None:
    task = find_task(s, b.get("task", ""))
    if task is None:
        return   # the hub refuses these (semantics); an old log may still hold one
    _changed(task, {"by": ev.station, "ms": ms, "department": task["department"], "due_ms": task["due_ms"],
                    "note": b.get("note", "")})
    if b.get("department"):
        task["department"] = b["department"]
    if b.get("due_ms"):
        task["due_ms"] = int(b["due_ms"])
        s.readiness["overdue"].pop(task["id"], None)   # a new due time may fall due again: one alarm for it


def _roster_add(s: State, ev: Any, b: dict, ms: int) -> None:
    name, no, station = b.get("name", "").strip(), b.get("staff_no", "").strip(), b.get("station", "")
    start, end = int(b.get("start_ms", 0)), int(b.get("end_ms", 0))
    s.event.setdefault("roster", []).append({
        "station": station, "name": name, "staff_no": no, "from": _hhmm(s, start), "from_ms": start,
        "key": slot_key(station, name, no), "to": _hhmm(s, end), "to_ms": end, "added": {"by": ev.station, "ms": ms}})


def _roster_change(s: State, ev: Any, b: dict, ms: int) -> None:
    slot = find_slot(s, b.get("slot", ""))
    if slot is None:
        return
    _changed(slot, {"by": ev.station, "ms": ms, "station": slot["station"], "from_ms": slot["from_ms"],
                    "to_ms": slot.get("to_ms", 0)})
    if b.get("station"):
        slot["station"] = b["station"]
    if b.get("start_ms"):
        slot.update(from_ms=int(b["start_ms"]), **{"from": _hhmm(s, int(b["start_ms"]))})
        s.roster["overdue"].pop(slot["key"], None)
    end = ms if b.get("end_now") else int(b.get("end_ms", 0))
    if end:
        slot.update(to_ms=end, to=_hhmm(s, end))


def _prep_stage(s: State, ev: Any, b: dict, ms: int) -> None:
    stage, dept = b.get("stage", ""), b.get("department", "")
    mark = {"by": ev.station, "ms": ms, "note": b.get("note", "")}
    if stage == "rehearsed":
        s.readiness["rehearsed"] = s.readiness.get("rehearsed") or mark   # the first full rehearsal stands
        return
    s.readiness["stages"].setdefault(dept, {}).setdefault(stage, mark)


FOLD_PREP = {"task_add": _task_add, "task_change": _task_change, "roster_add": _roster_add,
             "roster_change": _roster_change, "prep_stage": _prep_stage}
