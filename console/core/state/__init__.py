"""The live picture as a pure fold of logged events; knows no sockets, no database, no screen, no clock.

`apply(state, event)` is the only way the picture changes from the log, so the hub, every desk
(snapshot + feed), replay after a restart, rehearsal and the report all see the same figures.
Time enters only as `recv_ms` on events and `now_ms` on the calls that need it. Text from
stations is stored exactly as given and never formatted or evaluated here.

Two clocks, both from the log. The *log's time* (`event_ms`) is what every rule, screen and
report reads: the real clock on a live log, scenario time after a rehearsal's `drill_clock`,
so a drill scales with its speed. The *link's time* (`recv_ms` as received, `last_heard_ms`,
`liveness`) stays real: a heartbeat is a property of the network, not of the scenario.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from console.core.state.fold import FOLD, WINDOW_MIN, empty_guests, empty_plans, empty_readiness, empty_roster
from protocols import eventtime, orders

WIRE_VERSION = 1
RECENT_MAX = 200
SERVICES_MAX = 50
DAMAGES_MAX = 50
NOTES_MAX = 100
ALARMS_MAX = 100
NO_ACK_RESEND = 20    # a welcome repeats this many of the newest instructions asking no ack
LATE_PLACED_MS = 60_000   # a report placed this long before it arrived is marked late on the timeline

_TOTALS = ("services", "damages", "losses", "sendoffs", "sendoff_guests", "alarms", "unknown", "faults")


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


# --- the fold ----------------------------------------------------------------------------------

def apply(state: State, ev: Any) -> State:
    """Fold one logged event (a store Row or a Committed message) into `state`; never raises.

    Events at or below `state.gseq` are already in the picture (a desk's snapshot overlapping
    its feed), so they are skipped rather than counted twice.
    """
    gseq = ev.gseq
    if gseq <= state.gseq:
        return state
    state.gseq = gseq
    t, recv, body = ev.type, ev.recv_ms, ev.body
    st = state.stations.get(ev.station)
    at = recv
    if st is not None:
        st["reports"] += 1
        if recv > st["last_heard_ms"]:
            st["last_heard_ms"] = recv
        if "offset_ms" in st:
            # When it happened: its save time on the hub's clock (console.core.clock_skew), never after it arrived.
            at = min(recv, ev.station_ms + st["offset_ms"])
    ms = eventtime.drill_ms(state.clock, at) if state.clock else at
    counts = state.counts
    counts[t] = counts.get(t, 0) + 1
    fold = FOLD.get(t)
    if fold is None:
        state.totals["unknown"] += 1
    else:
        try:
            fold(state, ev, body, ms)
        except (KeyError, TypeError, ValueError, AttributeError):
            # The log is validated on the way in; a body that still fails (an older version's log,
            # a hand-edited row) must not stop a replay, so it is counted and left out.
            state.totals["faults"] += 1
    if t == "drill_clock":   # the drill's first instant is its own, and the log's time (and timeline) start again
        ms = state.last_ms = event_ms(state, recv)
        state.recent.clear()
    if ms > state.last_ms:
        state.last_ms = ms
    if t == "guest_list":   # the whole list lives in state.guests; the timeline needs only its size
        body = {"source": body.get("source", ""), "digest": body.get("digest", ""), "count": len(body.get("guests", ()))}
    _place(state.recent, {"gseq": gseq, "station": ev.station, "type": t, "recv_ms": ms, "body": body,
                          **({"late_ms": recv - at} if recv - at >= LATE_PLACED_MS else {})})
    return state


def _place(recent: deque, rec: dict[str, Any]) -> None:
    """Into the timeline at its time: a report that arrives late (saved offline) sits where it happened.
    One older than the whole window is left out of it (the log and the summary still have it)."""
    if not recent or recent[-1]["recv_ms"] <= rec["recv_ms"]:
        recent.append(rec)
        return
    at = len(recent)
    while at and recent[at - 1]["recv_ms"] > rec["recv_ms"]:
        at -= 1
    if at == 0 and len(recent) == recent.maxlen:
        return
    if len(recent) == recent.maxlen:
        recent.popleft()
        at -= 1
    recent.insert(at, rec)


def event_ms(state: State, wall_ms: int) -> int:
    """The log's time of a real instant (module docstring): what rules and screens compare with."""
    return eventtime.drill_ms(state.clock, wall_ms)


# --- presence (heard, not logged) --------------------------------------------------------------

def touch(state: State, station: str, now_ms: int, outbox: int = 0) -> None:
    """Any frame heard from a configured station: it is alive, with `outbox` reports waiting."""
    st = state.stations.get(station)
    if st is not None:
        if now_ms > st["last_heard_ms"]:
            st["last_heard_ms"] = now_ms
        st["outbox"] = outbox


def liveness(state: State, station: str, now_ms: int, floor_ms: int = 0) -> str:
    """How long the station has been silent, as online / late / offline; "unknown" if never heard.

    Silence counts from no earlier than `floor_ms`: a hub that was down itself heard nobody then,
    and a station is not offline for the hub's own outage (it gets `offline_s` to reconnect).
    """
    st = state.stations.get(station)
    if st is None or not st["last_heard_ms"]:
        return "unknown"
    silent = now_ms - max(st["last_heard_ms"], floor_ms, state.hub.get("up_at", 0))
    if silent < state.event.get("late_ms", 5000):
        return "online"
    if silent < state.event.get("offline_ms", 15000):
        return "late"
    return "offline"


# --- questions the hub and the desk ask --------------------------------------------------------

def open_incidents(state: State) -> list[dict[str, Any]]:
    """Unresolved incidents, most severe first, then newest first."""
    live = [i for i in state.incidents.values() if i["status"] != "resolved"]
    live.sort(key=lambda i: (-i["severity"], -i["id"]))
    return live


def instructions_for(state: State, station_id: str, post: str) -> list[dict[str, Any]]:
    """What a welcome hands the station, oldest first, as Committed bodies: every instruction it
    still has to acknowledge, and the newest NO_ACK_RESEND of those that ask for no acknowledgement
    (a station away when one went out still gets it; the inbox keeps each id once).

    A plan step's instruction is dropped once its plan is stood down (the all-clear replaces it).
    """
    targets = ("all", "post." + post, "station." + station_id)
    runs = state.plans["runs"]
    mine = [i for i in state.instructions.values() if i["target"] in targets
            and not (i.get("step") and (runs.get(i.get("run")) or {}).get("stood_down"))]
    to_ack = [i for i in mine if i["ack_required"] and station_id not in i["acks"]]
    told = sorted((i for i in mine if not i["ack_required"]), key=lambda i: i["id"])[-NO_ACK_RESEND:]
    # Every hold that stands here, acknowledged or not: a terminal that starts afresh must still stop cars.
    holding = {h["id"] for h in orders.reaching(state.holds, station_id, post)}
    told += [i for i in mine if i["id"] in holding and i not in to_ack and i not in told]
    return [
        {"gseq": i["id"], "station": i["station"], "epoch": i["epoch"], "seq": i["seq"],
         "type": "instruction", "station_ms": i["station_ms"], "recv_ms": i["sent_ms"], "body": _instruction_body(i)}
        for i in sorted(to_ack + told, key=lambda i: i["id"])
    ]


def _instruction_body(i: dict[str, Any]) -> dict[str, Any]:
    body = {"target": i["target"], "text": i["text"], "ack_required": i["ack_required"]}
    if i.get("run") or i.get("plan") or i.get("text_en") or i.get("guest"):   # only the fields a sender set
        body.update(text_en=i.get("text_en", ""), plan=i.get("plan", ""), run=i.get("run", 0), step=i.get("step", ""))
    if i.get("guest"):
        body.update(guest=i["guest"], notice=i.get("notice", ""))
    if i.get("gate"):
        body["gate"] = i["gate"]
    return body


# --- snapshot ----------------------------------------------------------------------------------

def _plain(x: Any) -> Any:
    """A deep copy made of dicts and lists only, so a snapshot never aliases the live state."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, deque)):
        return [_plain(v) for v in x]
    return x


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
        "readiness": _plain(state.readiness), "roster": _plain(state.roster), "guests": _plain(state.guests),
        "holds": _plain(state.holds), "clock": dict(state.clock), "hub": _plain(state.hub),
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
    )
