"""How service calls change the picture (console.core.state's part of console.core.services): raised, taken, done,
cancelled, noticed, late; no sockets, database, screen or clock.

The routing defaults live here because the fold routes each call as it is raised; the rules, the desk's
list and the summary's tally are in console.core.services.
"""
from __future__ import annotations

from typing import Any

from console.core.state.fold_people import person
from console.core.state.model import State
from protocols.messages import SERVICE_NOTICES

# Issue 16: cleaning is Environment's (环境), supplies Logistics' (后勤), drinks and tea breaks Customer
# Service's (客服部); what fits nowhere goes to the General Office, which runs the desk.
DEFAULT_ROUTE = {"drinks": "service", "tea_break": "service", "cleaning": "environment", "restock": "logistics",
                 "other": "office"}
DEFAULT_LATE_MIN = 10
OPEN, TAKEN, DONE, CANCELLED = "open", "taken", "done", "cancelled"
CLOSED = (DONE, CANCELLED)
CLOSED_KEEP = 50      # closed calls the picture keeps (the desk's "lately" and every snapshot); the log has all


def owner_of(event: dict[str, Any], service: str) -> str:
    """The department (or post) a kind of call goes to, by the event's table."""
    route = (event.get("services") or {}).get("route") or DEFAULT_ROUTE
    return route.get(service) or DEFAULT_ROUTE.get(service, "office")


def late_ms(event: dict[str, Any]) -> int:
    return int((event.get("services") or {}).get("late_ms", DEFAULT_LATE_MIN * 60_000))


def fold_request(s: State, ev: Any, b: dict, ms: int) -> None:
    s.requests[ev.gseq] = {
        "id": ev.gseq, "station": ev.station, "service": b["service"], "where": b.get("where", ""),
        "note": b.get("note", ""), "ms": ms, "owner": owner_of(s.event, b["service"]), "status": OPEN,
        "taken_by": "", "taken_station": "", "taken_ms": 0, "closed_by": "", "closed_station": "", "closed_ms": 0,
        "reason": "", "late_ms": 0, "told": [],
    }


def fold_update(s: State, ev: Any, b: dict, ms: int) -> None:
    r = s.requests.get(b["call"])
    if r is None or r["status"] in CLOSED:
        return   # the hub refuses these (check); an old log may still hold one
    status, who = b["status"], person(s, ev, b, "by")
    if status == TAKEN or (status == DONE and not r["taken_ms"]):
        r.update(taken_by=who, taken_station=ev.station, taken_ms=ms)   # done untaken: taken and done at once
    if status in CLOSED:
        r.update(closed_by=who, closed_station=ev.station, closed_ms=ms, reason=b.get("note", "") if status == CANCELLED else "")
        _prune(s.requests)
    r["status"] = status


def _prune(requests: dict[int, dict[str, Any]]) -> None:
    closed = [k for k, r in requests.items() if r["status"] in CLOSED]
    for k in closed[:max(0, len(closed) - CLOSED_KEEP)]:
        del requests[k]


def fold_notice(s: State, b: dict, gseq: int) -> None:
    """The hub's notice about a call was logged: the call's `told` records which one, so it goes once."""
    try:
        r = s.requests.get(int(b.get("guest", "")))
    except ValueError:
        return
    if r is not None:
        # "done" told the raiser (station.<id>); "done@post" the post it is routed to; "new@post" the new call.
        at_post = "@post" if b.get("target", "").startswith("post.") else ""
        r["told"].append(b["notice"].partition("_")[2] + at_post)
        r.setdefault("notices", []).append(gseq)


def fold_notice_ack(s: State, inst: dict[str, Any], ev: Any, ms: int) -> None:
    """A post acknowledged the notice of a call routed to it: that is taking the call (已接单)."""
    if inst.get("notice") != "service_new":
        return
    try:
        r = s.requests.get(int(inst.get("guest", "")))
    except ValueError:
        return
    if r is not None and r["status"] == OPEN:
        r.update(status=TAKEN, taken_by=inst.get("ack_by", {}).get(ev.station, ""), taken_station=ev.station, taken_ms=ms)


def fold_late(s: State, ref: str, ms: int) -> str:
    """An `overdue` alarm for call `ref` was logged; the reason in English for the log (the desk words it by code)."""
    r = s.requests.get(int(ref)) if ref.isdigit() else None
    if r is None:
        return f"service request {ref} is late"
    r["late_ms"] = r["late_ms"] or ms
    return f"{r['service']} at {r['where'] or r['station']} for {r['owner']} is not done in time"
