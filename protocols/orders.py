"""Standing orders to the gate: which holds stand, who set them and why, folded from instructions; pure.

A hold is not "the newest gate message". The gate stays held while any hold stands and lets cars in
again only when the last one is lifted. Each hold has a holder:
- `desk`: the command desk set it by hand. Any desk may lift it with a resume; the office is one.
- `run:<id>`: a contingency plan's step set it. Only that run lifts it: its all-clear, or its
  stand-down.

A resume lifts only its own holder's holds, on the same target or on a narrower one the target
covers. A resume to `post.gate` lifts that holder's holds on `station.gate-2` as well.

The hub's state fold and the gate terminal both use these functions, so the desk and the gate
agree. Instructions are mappings with the fields of an `instruction` body, plus `id` (their gseq)
and, where known, `by` (who sent it) and `ms` (when it was logged).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

HOLD, RESUME = "hold", "resume"
DESK = "desk"


def holder(run: int) -> str:
    """Who a gate order speaks for: a plan run, or the desk."""
    return f"run:{run}" if run else DESK


def key(who: str, target: str) -> str:
    return f"{who}|{target}"


def covers(target: str, other: str, post_of: Callable[[str], str]) -> bool:
    """Whether an order to `target` also speaks for `other`: all > post.<p> > station.<id> of that post."""
    if target == other or target == "all":
        return True
    if target.startswith("post.") and other.startswith("station."):
        return post_of(other[len("station."):]) == target[len("post."):]
    return False


def apply(holds: dict[str, dict[str, Any]], item: Mapping[str, Any], post_of: Callable[[str], str]) -> bool:
    """Fold one instruction into `holds` (key -> hold); True if the standing holds changed.

    A plan's all-clear (its `run`, no `step`) lifts that run's holds whatever it says about the gate.
    """
    run, order = int(item.get("run") or 0), item.get("gate", "")
    changed = lift_run(holds, run) if run and not item.get("step") else False
    if order == HOLD:
        who, target = holder(run), str(item.get("target", "all"))
        holds[key(who, target)] = {
            "holder": who, "target": target, "id": int(item.get("id") or 0), "run": run,
            "plan": item.get("plan", ""), "text": item.get("text", ""), "text_en": item.get("text_en", ""),
            "by": item.get("by", ""), "ms": int(item.get("ms") or 0)}
        return True
    if order == RESUME:
        who, target = holder(run), str(item.get("target", "all"))
        for k in [k for k, h in holds.items() if h["holder"] == who and covers(target, h["target"], post_of)]:
            del holds[k]
            changed = True
    return changed


def lift_run(holds: dict[str, dict[str, Any]], run: int) -> bool:
    """A plan run ends (stood down): every hold it set is lifted. True if there was one."""
    gone = [k for k, h in holds.items() if h["holder"] == holder(run)]
    for k in gone:
        del holds[k]
    return bool(gone)


def reaching(holds: Mapping[str, Mapping[str, Any]], station: str, post: str) -> list[Mapping[str, Any]]:
    """The holds that stop cars at this station, oldest first."""
    mine = ("all", "post." + post, "station." + station)
    return sorted((h for h in holds.values() if h["target"] in mine), key=lambda h: h["id"])


def fold(items: list[Mapping[str, Any]], post_of: Callable[[str], str]) -> dict[str, dict[str, Any]]:
    """The standing holds after these instructions, applied in id order (a terminal's own inbox)."""
    holds: dict[str, dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: int(i.get("id") or 0)):
        apply(holds, item, post_of)
    return holds
