"""What a connected station's copy of the event summary gains live: tasks, roster slots and VIP spaces changed after its welcome; pure.

A welcome carries the summary as it stands (console/hub/ingest_control.py `summary_for`); a line that
changes later reaches the stations concerned as an `event` of type `summary` on their topics, body
`{part, item}`: the line as a welcome would now carry it, which the station puts in place of its line
with the same key (PROTOCOL.md 5.10). Old terminals file only `instruction` events and let it pass.
Knows the state and the wire's messages; no ZeroMQ.
"""
from __future__ import annotations

from typing import Any, Callable

from console.core.state.fold_prep import added_task_id, find_slot, find_task, slot_key
from console.core.state.model import State
from protocols.messages import Committed

SUMMARY_TYPE = "summary"
HIDDEN = ("changes", "added")   # the history of a task or slot: the desks' snapshot carries it, a welcome does not


def plan_line(row: dict[str, Any]) -> dict[str, Any]:
    """A task or roster slot as a welcome carries it."""
    return {k: v for k, v in row.items() if k not in HIDDEN}


def lot_lines(lots: list[dict[str, Any]], state: State) -> list[dict[str, Any]]:
    """The summary's lots; one that keeps VIP spaces also says which are taken (`vip_taken`, by any terminal)."""
    return [{**lot, "vip_taken": sorted(state.lots.get(lot.get("id"), {}).get("vip_taken", {}))}
            if lot.get("vip_spaces") else lot for lot in lots]


def changes(state: State, lots: Callable[[], list[dict[str, Any]]],
            committed: Committed) -> list[tuple[str, Committed]]:
    """(topic, message) for each station topic that must hear of the event just folded into `state`."""
    t, b = committed.type, committed.body
    if t in ("task_add", "task_change"):
        # Every station's summary lists every task: a task given to another department changes department
        # there, and the first department's terminal stops showing it.
        task = find_task(state, added_task_id(committed.gseq) if t == "task_add" else str(b.get("task", "")))
        return [("all", _line(committed, "tasks", plan_line(task)))] if task else []
    if t in ("roster_add", "roster_change"):
        key = (slot_key(str(b.get("station", "")), str(b.get("name", "")), str(b.get("staff_no", "")))
               if t == "roster_add" else str(b.get("slot", "")))
        slot = find_slot(state, key)
        if slot is None:
            return []
        # A slot moved away goes to the station it left too: that station drops it, as it is not its own any more.
        stations = {slot["station"], *(c.get("station", "") for c in slot.get("changes", [])[-1:])} - {""}
        line = _line(committed, "roster", plan_line(slot))
        return [(f"station.{s}", line) for s in sorted(stations)]
    if t == "space_assign" and b.get("vip"):
        lot = next((x for x in lot_lines(lots(), state) if x.get("id") == b.get("lot")), None)
        return [("post.parking", _line(committed, "lots", lot))] if lot else []
    return []


def _line(committed: Committed, part: str, item: dict[str, Any]) -> Committed:
    return Committed(gseq=committed.gseq, station=committed.station, epoch=committed.epoch, seq=committed.seq,
                     type=SUMMARY_TYPE, station_ms=committed.station_ms, recv_ms=committed.recv_ms,
                     body={"part": part, "item": item})


def catch_up(state: State, lots: list[dict[str, Any]], station: str, post: str, epoch: str,
             now_ms: int) -> list[Committed]:
    """The lines a station's welcome may have missed, for the moment its own topic's subscription takes effect:
    what was published before it did never reached it. The tasks the desk added or changed, the slots at this
    station or moved from it, and, for a parking post, the lots' taken VIP spaces; as the hub (station `hub`,
    seq 0) at the log's last gseq. A line the station has already is put in place again: harmless."""
    slots = [r for r in state.event.get("roster", ())
             if (r.get("added") or r.get("changes")) and station in (r.get("station"), *_left(r))]
    found = [("tasks", plan_line(t)) for t in state.event.get("tasks", ()) if t.get("added") or t.get("changes")]
    found += [("roster", plan_line(r)) for r in slots]
    if post == "parking":
        found += [("lots", lot) for lot in lot_lines(lots, state) if lot.get("vip_taken")]
    return [Committed(gseq=max(state.gseq, 1), station="hub", epoch=epoch, seq=0, type=SUMMARY_TYPE,
                      station_ms=now_ms, recv_ms=now_ms, body={"part": part, "item": item}) for part, item in found]


def _left(slot: dict[str, Any]) -> list[str]:
    return [c.get("station", "") for c in slot.get("changes", [])[-1:]]
