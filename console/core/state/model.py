"""The picture's shape: the State dataclass, its empty parts, and its snapshot on the wire; pure data.

The bottom of console.core.state: the folds (fold_ops, then fold) and the package's queries import
this module, and it imports none of them, so the package's dependencies run one way.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

WIRE_VERSION = 1
RECENT_MAX = 200
SERVICES_MAX = 50
DAMAGES_MAX = 50
NOTES_MAX = 100
ALARMS_MAX = 100
NO_ACK_RESEND = 20    # a welcome repeats this many of the newest instructions asking no ack
LATE_PLACED_MS = 60_000   # a report placed this long before it arrived is marked late on the timeline

_TOTALS = ("services", "damages", "losses", "sendoffs", "sendoff_guests", "alarms", "unknown", "faults")


def empty_plans() -> dict[str, Any]:
    """`State.plans`: desk requests, proposals and runs by gseq; per plan id the [gseq, ms] of its last close."""
    return {"requests": {}, "proposals": {}, "runs": {}, "closed": {}}


def empty_readiness() -> dict[str, Any]:
    """`State.readiness`: task id -> its sign-off {by, ms, note, gseq, more}; task id -> ms it was alarmed overdue;
    department -> {stage: {by, ms, note}} of its plan (submitted, merged); the full rehearsal's {by, ms, note} or {}."""
    return {"done": {}, "overdue": {}, "stages": {}, "rehearsed": {}}


def empty_roster() -> dict[str, Any]:
    """`State.roster`: station -> {who: {name, staff_no, ms}} signed in now; station -> last sign-in ms;
    roster entry key -> ms it was alarmed."""
    return {"on": {}, "last_in": {}, "overdue": {}}


def empty_guests() -> dict[str, Any]:
    """`State.guests`: the list (ref -> guest) and its plates, who arrived, the notices the hub sent for
    each guest ("vip:<link>" / "needs:lobby" -> instruction gseq), alarms, walk-ins, and needs still to pass on;
    the send-offs (console/core/state/sendoff_fold.py) by the sendoff_notice's gseq as text, those with a link
    still to acknowledge, and the listed guests who left (ref -> ms)."""
    return {"list": {}, "plates": {}, "digest": "", "source": "", "listed_ms": 0, "arrived": {}, "notices": {},
            "overdue": {}, "walkins": {"parties": 0, "people": 0}, "needs_due": [], "vip_arrived": [],
            "sendoffs": {}, "sendoffs_open": [], "departed": {}}



@dataclass(eq=False)
class State:
    """Everything the desk shows, as of event `gseq`; mutated in place by `apply`.

    Records are plain dicts and lists, so a snapshot is a cheap copy and the desk reads the
    same shapes the hub folds.
    """

    event: dict[str, Any]
    gseq: int = 0
    last_ms: int = 0
    stations: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)
    cars: dict[str, int] = field(default_factory=dict)
    lots: dict[str, dict[str, int]] = field(default_factory=dict)
    zones: dict[str, dict[str, int]] = field(default_factory=dict)
    incidents: dict[int, dict[str, Any]] = field(default_factory=dict)
    instructions: dict[int, dict[str, Any]] = field(default_factory=dict)
    services: deque = field(default_factory=lambda: deque(maxlen=SERVICES_MAX))
    damages: deque = field(default_factory=lambda: deque(maxlen=DAMAGES_MAX))
    notes: deque = field(default_factory=lambda: deque(maxlen=NOTES_MAX))
    alarms: deque = field(default_factory=lambda: deque(maxlen=ALARMS_MAX))
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT_MAX))
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TOTALS, 0))
    plans: dict[str, Any] = field(default_factory=empty_plans)
    readiness: dict[str, Any] = field(default_factory=empty_readiness)
    roster: dict[str, Any] = field(default_factory=empty_roster)
    guests: dict[str, Any] = field(default_factory=empty_guests)
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)   # standing gate holds (protocols.orders)
    clock: dict[str, Any] = field(default_factory=dict)    # a rehearsal's drill_clock ({} live): see event_ms
    hub: dict[str, Any] = field(default_factory=lambda: {"up_ms": 0, "outages": []})   # the hub's own up and down
    requests: dict[int, dict[str, Any]] = field(default_factory=dict)   # service calls by gseq (console.core.services)
    # Derived, not on the wire: unresolved incident ids and severities by kind, for the plan engine.
    unresolved: dict[str, dict[int, int]] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and to_wire(self) == to_wire(other)


def _station(post: str) -> dict[str, Any]:
    return {"post": post, "last_heard_ms": 0, "outbox": 0, "reports": 0, "rejected": 0,
            "status": "unknown", "since_ms": 0}


def new_state(event_summary: dict[str, Any]) -> State:
    """An empty picture of the event described by `Event.summary()`."""
    s = State(event=_plain(event_summary))
    for st in event_summary.get("stations", ()):
        s.stations[st["id"]] = _station(st.get("post", ""))
    for lot in event_summary.get("lots", ()):
        s.lots[lot["id"]] = {"capacity": int(lot.get("capacity", 0)), "occupied": 0, "assigned": 0, "updated_ms": 0}
    for zone in event_summary.get("zones", ()):
        s.zones[zone["id"]] = {"capacity": int(zone.get("capacity", 0)), "count": 0, "updated_ms": 0}
    s.people = {"headcount": 0, "arrivals": 0, "departures": 0, "checked_in": 0, "vip_arrivals": 0,
                "last_min": 0, "arrivals_by_min": {}, "departures_by_min": {}, "parties": {}}
    s.cars = {"in": 0, "out": 0, "vip": 0, "on_site": 0}
    return s


# --- snapshot ----------------------------------------------------------------------------------

def _plain(x: Any) -> Any:
    """A deep copy made of dicts and lists only, so a snapshot never aliases the live state."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, deque)):
        return [_plain(v) for v in x]
    return x


def _guests(g: dict[str, Any]) -> dict[str, Any]:
    """The guest part, its list and plate index shared, not copied: a new guest_list replaces both whole
    and nothing changes them in place, so the snapshot cannot see them move. Copying thousands of guests
    was most of a snapshot's cost on the hub's loop."""
    return {k: v if k in ("list", "plates") else _plain(v) for k, v in g.items()}


def to_wire(state: State) -> dict[str, Any]:
    """The whole state as msgpack-friendly data (string keys only; int-keyed maps become lists)."""
    people = {k: _plain(v) for k, v in state.people.items() if not k.endswith("_by_min")}
    for key in ("arrivals_by_min", "departures_by_min"):
        people[key] = [[m, n] for m, n in sorted(state.people[key].items())]
    return {
        "version": WIRE_VERSION, "gseq": state.gseq, "last_ms": state.last_ms,
        "event": _plain(state.event), "stations": _plain(state.stations), "people": people,
        "cars": dict(state.cars), "lots": _plain(state.lots), "zones": _plain(state.zones),
        "incidents": [_plain(i) for _, i in sorted(state.incidents.items())],
        "instructions": [_plain(i) for _, i in sorted(state.instructions.items())],
        "services": _plain(state.services), "damages": _plain(state.damages),
        "notes": _plain(state.notes), "alarms": _plain(state.alarms), "recent": _plain(state.recent),
        "counts": dict(state.counts), "totals": dict(state.totals),
        "plans": {kind: [_plain(r) for _, r in sorted(state.plans[kind].items())]
                  for kind in ("requests", "proposals", "runs")} | {"closed": _plain(state.plans["closed"])},
        "readiness": _plain(state.readiness), "roster": _plain(state.roster), "guests": _guests(state.guests),
        "holds": _plain(state.holds), "clock": dict(state.clock), "hub": _plain(state.hub),
        "requests": [_plain(r) for _, r in sorted(state.requests.items())],
    }


def from_wire(d: dict[str, Any]) -> State:
    """The State that `to_wire` described; raises ValueError for another wire version."""
    if d.get("version") != WIRE_VERSION:
        raise ValueError(f"state snapshot version {d.get('version')!r}, expected {WIRE_VERSION}")
    d = _plain(d)
    people = d["people"]
    people.setdefault("parties", {})
    for key in ("arrivals_by_min", "departures_by_min"):
        people[key] = {m: n for m, n in people[key]}
    plans = d.get("plans") or {}
    unresolved: dict[str, dict[int, int]] = {}
    for i in d["incidents"]:
        if i["status"] != "resolved":
            unresolved.setdefault(i["kind"], {})[i["id"]] = i["severity"]
    return State(
        event=d["event"], gseq=d["gseq"], last_ms=d["last_ms"], stations=d["stations"], people=people,
        cars=d["cars"], lots=d["lots"], zones=d["zones"],
        incidents={i["id"]: i for i in d["incidents"]},
        instructions={i["id"]: i for i in d["instructions"]},
        services=deque(d["services"], maxlen=SERVICES_MAX), damages=deque(d["damages"], maxlen=DAMAGES_MAX),
        notes=deque(d["notes"], maxlen=NOTES_MAX), alarms=deque(d["alarms"], maxlen=ALARMS_MAX),
        recent=deque(d["recent"], maxlen=RECENT_MAX), counts=d["counts"],
        totals={**dict.fromkeys(_TOTALS, 0), **d["totals"]},
        plans={**{kind: {r["id"]: r for r in plans.get(kind, ())} for kind in ("requests", "proposals", "runs")},
               "closed": plans.get("closed", {})},
        unresolved=unresolved,
        readiness={**empty_readiness(), **(d.get("readiness") or {})},
        roster={**empty_roster(), **(d.get("roster") or {})},
        guests={**empty_guests(), **(d.get("guests") or {})},
        holds=d.get("holds") or {}, clock=d.get("clock") or {},
        hub=d.get("hub") or {"up_ms": 0, "outages": []},
        requests={r["id"]: r for r in d.get("requests") or ()},
    )
