"""Every message on the wire as a frozen dataclass with a TYPE, plus the schema each body obeys.

This module knows no sockets and no storage. A field's limits live in its metadata so that
the codec can validate any decoded body against the same table that PROTOCOL.md documents.
The machinery and the vocabulary are in `protocols.schema`; the plan, readiness and guest
messages in `protocols.messages_ops`; both are re-exported here, so `protocols.messages`
stays the one place to import a message from.
"""
from __future__ import annotations

from protocols.schema import (
    DEPARTMENT_POSTS,
    DEPARTMENTS,
    FIELD_POSTS,
    GATE_ORDERS,
    INCIDENT_KINDS,
    INCIDENT_SOURCES,
    INCIDENT_STATUSES,
    MAX_COUNT,
    MAX_NAME,
    MAX_TEXT,
    NOTICES,
    POSTS,
    REGISTRY,
    ROLE_POSTS,
    SERVICES,
    SEVERITIES,
    VIP_LEVELS,
    Message,
    _f,
    anything,
    blob,
    body_of,
    choice,
    count,
    flag,
    integer,
    message,
    name,
    text,
)

# --- control: both ways, never stored -------------------------------------------------------

@message
class Hello(Message):
    TYPE = "hello"
    KIND = "control"
    role: str = choice(("station", "desk", "hub"), "station")   # hub: the passive hub of a pair (5.13)
    app: str = name("")
    outbox: int = integer(0, 0)


@message
class Heartbeat(Message):
    TYPE = "heartbeat"
    KIND = "control"
    outbox: int = integer(0, 0)


@message
class Bye(Message):
    """A station terminal closing on purpose says so: the desk shows it closed, not offline (5.2)."""

    TYPE = "bye"
    KIND = "control"
    reason: str = name("")


@message
class SnapshotRequest(Message):
    """Page 0 asks for the picture as it is now; a later page names the `gseq` that page 0 answered."""

    TYPE = "snapshot_request"
    KIND = "control"
    gseq: int = integer(0, 0)
    page: int = integer(0, 0)


@message
class InstructionsRequest(Message):
    """The open instructions a welcome had no room for, from the first one after `after` (a gseq)."""

    TYPE = "instructions_request"
    KIND = "control"
    after: int = integer(0, 0)


# --- replies: hub to one client ------------------------------------------------------------

@message
class Welcome(Message):
    TYPE = "welcome"
    KIND = "reply"
    station: str = name()
    post: str = name()
    server_ms: int = integer(0, 0)
    heartbeat_ms: int = integer(1000, 1)
    last_seq: int = integer(0, 0)
    drill: bool = flag()
    event: dict = anything({})
    instructions: list = anything([])
    instructions_more: bool = flag()
    limits: dict = anything({})
    hubs: list = anything([])      # two hubs (5.13): [{endpoint, feed}, ...], the active one first
    pair: dict = anything({})      # two hubs (5.13): {me, era, peer}


@message
class Ack(Message):
    TYPE = "ack"
    KIND = "reply"
    epoch: str = name()
    seq: int = integer(lo=1)
    gseq: int = integer(lo=1)
    duplicate: bool = flag()


@message
class Nack(Message):
    TYPE = "nack"
    KIND = "reply"
    epoch: str = name("")
    seq: int = integer(0, 0)
    code: str = name()
    reason: str = text(max_len=2000)
    reason_zh: str = text("", max_len=2000)
    retry: bool = flag()
    expected: int = integer(0, 0)


@message
class Snapshot(Message):
    """One page of the picture at `gseq`: the pages' `data` joined in order are one MessagePack map."""

    TYPE = "snapshot"
    KIND = "reply"
    gseq: int = integer(0, 0)
    page: int = integer(0, 0)
    pages: int = integer(1, 1)
    data: bytes = blob()


@message
class InstructionPage(Message):
    """More open instructions for a station, oldest first; `more` says whether to ask after the last one again."""

    TYPE = "instruction_page"
    KIND = "reply"
    instructions: list = anything([])
    more: bool = flag()


# --- published by the hub ------------------------------------------------------------------

@message
class Committed(Message):
    """One event as committed to the log, published on the `feed` topic."""

    TYPE = "event"
    KIND = "reply"
    gseq: int = integer(lo=1)
    station: str = name()
    epoch: str = name()
    seq: int = integer(lo=0)
    type: str = name()
    station_ms: int = integer(lo=0)
    recv_ms: int = integer(lo=0)
    body: dict = anything({})
    cut: bool = flag()


@message
class Presence(Message):
    """Per-station liveness the hub sees from heartbeats, published on `presence` every second."""

    TYPE = "presence"
    KIND = "reply"
    server_ms: int = integer(0, 0)
    stations: dict = anything({})
    gseq: int = integer(0, 0)
    pair: dict = anything({})      # two hubs (5.13): {me, era, peer}, as in the welcome


# --- reports from the posts ----------------------------------------------------------------

@message
class GuestArrival(Message):
    TYPE = "guest_arrival"
    count: int = count()
    guest_ref: str = name("")
    vip_level: str = choice(VIP_LEVELS, "")
    note: str = text("")


@message
class GuestDeparture(Message):
    TYPE = "guest_departure"
    count: int = count()
    guest_ref: str = name("")


@message
class GuestCheckin(Message):
    TYPE = "guest_checkin"
    guest_ref: str = name("")
    name: str = name("")
    party_size: int = count()
    vip_level: str = choice(VIP_LEVELS, "")


@message
class CarIn(Message):
    TYPE = "car_in"
    plate: str = _f("str", "", max_len=16)
    vip: bool = flag()
    count: int = count()
    # 贵宾放行: the gate let a listed VIP car in during a hold; the hub checks the plate against the list.
    release: bool = flag()

    def problem(self) -> tuple[str, str, dict] | None:
        if self.release and not (self.vip and self.plate.strip() and self.count == 1):
            return ("release", "problem.release_needs_plate", {})
        return None


@message
class CarOut(Message):
    TYPE = "car_out"
    plate: str = _f("str", "", max_len=16)
    count: int = count()


@message
class LotOccupancy(Message):
    """Exactly one of: `occupied` (exact count), `delta` (up/down), `full` (set to capacity)."""

    TYPE = "lot_occupancy"
    lot: str = name()
    occupied: int = integer(-1, -1, 100000)
    delta: int = integer(0, -MAX_COUNT, MAX_COUNT)
    full: bool = flag()

    def problem(self) -> tuple[str, str, dict] | None:
        modes = (self.occupied >= 0) + (self.delta != 0) + bool(self.full)
        return None if modes == 1 else ("occupied", "problem.lot_mode", {})


@message
class SpaceAssign(Message):
    TYPE = "space_assign"
    lot: str = name()
    space: str = name("")
    plate: str = _f("str", "", max_len=16)
    vip: bool = flag()       # one of the lot's reserved VIP spaces (贵宾车位), given to a VIP car (issue 16 item 4)


@message
class ZoneEnter(Message):
    TYPE = "zone_enter"
    zone: str = name()
    count: int = count()


@message
class ZoneExit(Message):
    TYPE = "zone_exit"
    zone: str = name()
    count: int = count()


@message
class ZoneCount(Message):
    TYPE = "zone_count"
    zone: str = name()
    count: int = integer(lo=0, hi=100000)


@message
class ServiceRequest(Message):
    TYPE = "service_request"
    service: str = choice(SERVICES)
    where: str = name("")
    note: str = text("")


@message
class DamageReport(Message):
    TYPE = "damage_report"
    item: str = name()
    where: str = name("")
    loss: bool = flag()
    note: str = text("")


@message
class SendoffNotice(Message):
    """客人即将离开: a party is about to leave. With `guest_ref` (a listed guest) the hub runs the send-off
    chain to the posts on the way out (console/core/sendoff.py); without, a walk-in party of `count`."""

    TYPE = "sendoff_notice"
    count: int = integer(0, 0, MAX_COUNT)
    note: str = text("")
    guest_ref: str = name("")
    vip: bool = flag()


@message
class IncidentReport(Message):
    TYPE = "incident_report"
    kind: str = choice(INCIDENT_KINDS)
    severity: int = choice(SEVERITIES, 2)
    location: str = name("")
    note: str = text("")


@message
class IncidentUpdate(Message):
    TYPE = "incident_update"
    incident: int = integer(lo=1)
    status: str = choice(("",) + INCIDENT_STATUSES[1:], "")
    assign: str = choice(("",) + DEPARTMENTS, "")
    note: str = text("")


@message
class InstructionAck(Message):
    TYPE = "instruction_ack"
    instruction: int = integer(lo=1)
    person: str = name("")    # who is signed in at the terminal that confirms ("": nobody, or an older terminal)


# --- actions from a desk -------------------------------------------------------------------

@message
class IncidentOpen(Message):
    TYPE = "incident_open"
    KIND = "action"
    kind: str = choice(INCIDENT_KINDS)
    severity: int = choice(SEVERITIES, 2)
    location: str = name("")
    note: str = text("")
    source: str = choice(INCIDENT_SOURCES, "desk")


@message
class Instruction(Message):
    """To `all`, `post.<post>` or `station.<id>`; the hub publishes it on that topic once logged."""

    TYPE = "instruction"
    KIND = "action"
    target: str = name("all")
    text: str = text()
    ack_required: bool = flag()
    # Set when a contingency plan sent it: `run` is the plan_started gseq, `step` the step's id
    # ("" for the stand-down notice); `text_en` is the English text where `text` is Chinese.
    text_en: str = _f("str", "", max_len=MAX_TEXT)   # `text` is a field name here, not the helper
    plan: str = name("")
    run: int = integer(0, 0)
    step: str = name("")
    # Set when the hub hands a guest on (console/core/guests_rules.py): the guest's list reference and
    # the kind of notice, "vip" (VIP arriving: acknowledge in time) or "needs" (special needs).
    guest: str = name("")
    notice: str = choice(NOTICES, "")
    # An order to the gate, whoever sends it: "hold" stops letting cars in, "resume" lifts the hold.
    gate: str = choice(GATE_ORDERS, "")
    # Set when the hub sends a link of a send-off chain (notice "sendoff"): the sendoff_notice's gseq.
    sendoff: int = integer(0, 0)


@message
class DeskNote(Message):
    TYPE = "note"
    KIND = "action"
    text: str = text()
    department: str = choice(("",) + DEPARTMENTS, "")


# --- written by the hub itself -------------------------------------------------------------

@message
class HubStarted(Message):
    """The hub took the log: the first time, after a clean stop, or after a crash (noticed as a gap)."""

    TYPE = "hub_started"
    KIND = "hub"
    previous: str = choice(("first", "stop", "crash"), "first")   # how the hub's previous run ended
    down_from_ms: int = integer(0, 0)      # since when nothing was taken in (0 the first time)


@message
class HubStopped(Message):
    """The hub is stopping cleanly (a signal, or the person who ran it); nothing is taken in until it starts again."""

    TYPE = "hub_stopped"
    KIND = "hub"


@message
class StationClock(Message):
    """The hub's estimate of a station's clock moved: placed reports use it (PROTOCOL.md 5.8)."""

    TYPE = "station_clock"
    KIND = "hub"
    station: str = name()
    offset_ms: int = integer(0)             # hub clock minus station clock: positive, the station is slow
    delay_ms: int = integer(0, 0)           # how much the samples' delays vary: the estimate's doubt


@message
class StationStatus(Message):
    """A station's liveness changed (online / late / offline, or closed: it said bye); logged so the summary sees uptime."""

    TYPE = "station_status"
    KIND = "hub"
    station: str = name()
    status: str = choice(("online", "late", "offline", "closed"))
    last_heard_ms: int = integer(0, 0)


@message
class Alarm(Message):
    """Something a desk must see that is not a report: impersonation, conflict, repeated rejections."""

    TYPE = "alarm"
    KIND = "hub"
    code: str = name()
    station: str = name("")
    reason: str = text("", max_len=2000)
    reason_zh: str = text("", max_len=2000)
    count: int = integer(1, 1)
    first_ms: int = integer(0, 0)
    last_ms: int = integer(0, 0)


# The operations messages register after the core ones, so the registry (and PROTOCOL.md) keeps its order.
from protocols.messages_ops import *  # noqa: F401,F403 — registers them; re-exported
from protocols.messages_service import *  # noqa: F401,F403 — service calls taken and done; re-exported
from protocols.messages_vip import *  # noqa: F401,F403 — VIPs end to end (issue 16 item 4); re-exported
from protocols.messages_prep import *  # noqa: F401,F403 — preparation run from the desk (issue 16 item 6); re-exported
from protocols.messages_phones import *  # noqa: F401,F403 — phones paired, unpaired, revoked (issue 18); re-exported
from protocols.messages_pair import *  # noqa: F401,F403 — two hubs: hub_state, log pages, hub_switch (issue 19); re-exported

# Which stored kinds each role may send. Incidents, instruction acks, service calls and the
# confirmation of one's own plan steps are common.
COMMON = ("incident_report", "incident_update", "instruction_ack", "service_request", "damage_report",
          "plan_step", "task_signoff", "staff_signin", "staff_signout")
ALLOWED: dict[str, frozenset[str]] = {
    "gate": frozenset(COMMON + ("car_in", "car_out", "guest_arrival")),
    "parking": frozenset(COMMON + ("lot_occupancy", "space_assign", "car_in", "car_out")),
    "concierge": frozenset(COMMON + ("guest_arrival", "guest_departure", "guest_checkin", "sendoff_notice")),
    "lobby": frozenset(COMMON + ("zone_enter", "zone_exit", "zone_count", "guest_checkin", "guest_departure",
                                 "sendoff_notice")),
    "model_unit": frozenset(COMMON + ("zone_enter", "zone_exit", "zone_count", "sendoff_notice")),
    # Department and leader terminals (issue 16 item 3) confirm, take and sign off: the common kinds only.
    **{post: frozenset(COMMON) for post in DEPARTMENT_POSTS + ROLE_POSTS},
    "desk": frozenset(("incident_open", "incident_update", "instruction", "note",
                       "plan_start", "plan_step", "plan_stand_down", "task_signoff", "drill_clock",
                       "sendoff_notice")),
}
# Service calls (issue 16): any post and any desk may take, finish or cancel one; console/core/services.py
# says which (the post it is routed to, the post that raised it, a desk).
ALLOWED = {role: kinds | {"service_update"} for role, kinds in ALLOWED.items()}
# VIPs end to end (issue 16 item 4): only a desk moves a guest's expected arrival.
ALLOWED["desk"] = ALLOWED["desk"] | {"guest_expect", "guest_add"}
# Preparation from the desk (issue 16 item 6): only the office's desk adds, moves and stages the plan.
ALLOWED["desk"] = ALLOWED["desk"] | {"task_add", "task_change", "roster_add", "roster_change", "prep_stage"}
# Phones (issue 18): the station server speaks for each station's phones; only a desk revokes them.
ALLOWED = {role: kinds | ({"phone_revoke"} if role == "desk" else {"phone_paired", "phone_unpaired"})
           for role, kinds in ALLOWED.items()}
CONTROL = frozenset(t for t, c in REGISTRY.items() if c.KIND == "control")
STORED = frozenset(t for t, c in REGISTRY.items() if c.KIND in ("report", "action", "hub"))

