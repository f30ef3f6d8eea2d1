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
from typing import Any

from console.core.state.fold import FOLD, WINDOW_MIN  # noqa: F401  (WINDOW_MIN: re-exported)

# The shape and its snapshot live in .model (imported by the folds too); re-exported as this package's API.
from console.core.state.model import (  # noqa: F401
    ALARMS_MAX,
    DAMAGES_MAX,
    LATE_PLACED_MS,
    NO_ACK_RESEND,
    NOTES_MAX,
    RECENT_MAX,
    SERVICES_MAX,
    WIRE_VERSION,
    State,
    empty_guests,
    empty_plans,
    empty_readiness,
    empty_roster,
    from_wire,
    new_state,
    to_wire,
)
from protocols import eventtime, orders

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
    """How long the station has been silent, as online / late / offline; "unknown" if never heard;
    "closed" after its bye until it is heard again.

    Silence counts from no earlier than `floor_ms`: a hub that was down itself heard nobody then,
    and a station is not offline for the hub's own outage (it gets `offline_s` to reconnect).
    """
    st = state.stations.get(station)
    if st is None or not st["last_heard_ms"]:
        return "unknown"
    if closed(st):
        return "closed"
    silent = now_ms - max(st["last_heard_ms"], floor_ms, state.hub.get("up_at", 0))
    if silent < state.event.get("late_ms", 5000):
        return "online"
    if silent < state.event.get("offline_ms", 15000):
        return "late"
    return "offline"


def closed(st: dict[str, Any]) -> bool:
    """The station said bye (PROTOCOL.md 5.2) and has not been heard since: closed on purpose, not silent."""
    return st.get("status") == "closed" and st["last_heard_ms"] <= st.get("closed_heard_ms", 0)


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
    if i.get("guest") or i.get("notice"):
        body.update(guest=i.get("guest", ""), notice=i.get("notice", ""))
    if i.get("sendoff"):
        body["sendoff"] = i["sendoff"]
    if i.get("gate"):
        body["gate"] = i["gate"]
    return body
