"""Every message on the wire as a frozen dataclass with a TYPE, plus the schema each body obeys.

This module knows no sockets and no storage. A field's limits live in its metadata so that
the codec can validate any decoded body against the same table that PROTOCOL.md documents.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

POSTS = ("gate", "parking", "concierge", "lobby", "model_unit")
DEPARTMENTS = ("office", "service", "security", "engineering", "environment", "logistics")
INCIDENT_KINDS = (
    "fire", "smoke", "power_outage", "water_outage", "water_leak", "flooding",
    "medical", "security", "crowding", "vehicle", "lost_child", "lost_property", "other",
)
SEVERITIES = (1, 2, 3, 4)  # low, medium, high, critical
INCIDENT_STATUSES = ("new", "acknowledged", "in_progress", "resolved")
SERVICES = ("drinks", "tea_break", "cleaning", "restock", "other")
VIP_LEVELS = ("", "A", "B", "C")
NOTICES = ("", "vip", "needs")
GATE_ORDERS = ("", "hold", "resume")
INCIDENT_SOURCES = ("desk", "phone")

MAX_COUNT = 1000
MAX_TEXT = 500
MAX_NAME = 64


def _f(kind: str, default: Any = dataclasses.MISSING, **limits: Any) -> Any:
    """A dataclass field carrying its wire kind and limits (min, max, max_len, choices)."""
    meta = {"kind": kind, **limits}
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def text(default: Any = dataclasses.MISSING, max_len: int = MAX_TEXT, **kw: Any) -> Any:
    return _f("str", default, max_len=max_len, **kw)


def name(default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    return _f("str", default, max_len=MAX_NAME, **kw)


def integer(default: Any = dataclasses.MISSING, lo: int | None = None, hi: int | None = None, **kw: Any) -> Any:
    return _f("int", default, min=lo, max=hi, **kw)


def count(default: Any = 1) -> Any:
    return integer(default, 1, MAX_COUNT)


def flag(default: bool = False) -> Any:
    return _f("bool", default)


def choice(options: tuple, default: Any = dataclasses.MISSING) -> Any:
    kind = "int" if all(isinstance(o, int) for o in options) else "str"
    return _f(kind, default, choices=options)


def anything(default: Any) -> Any:
    """A nested map or list, checked only for its outer type (hub-to-client payloads)."""
    return _f("map" if isinstance(default, dict) else "list", default)


REGISTRY: dict[str, type] = {}


def message(cls: type) -> type:
    """Freeze a message class and register it under its TYPE."""
    cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
    if cls.TYPE in REGISTRY:
        raise ValueError(f"duplicate message type {cls.TYPE}")
    REGISTRY[cls.TYPE] = cls
    return cls


class Message:
    """Base of every message: TYPE names it on the wire; KIND says who sends it and whether it is stored."""

    TYPE: ClassVar[str] = ""
    #: "control" (not stored), "report" (station, stored), "action" (desk, stored),
    #: "reply" (hub to client), "hub" (stored, written by the hub itself)
    KIND: ClassVar[str] = "report"

    def as_body(self) -> dict[str, Any]:
        """The wire body: every field by name."""
        return body_of(self)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def body_of(message: Message) -> dict[str, Any]:
    """Every field of a message by name: its wire body. Works for every type, `Committed` included."""
    cls = type(message)
    names = _FIELD_NAMES.get(cls)
    if names is None:   # dataclasses.fields() is slow enough to show in the hub's profile
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return {n: getattr(message, n) for n in names}


# --- control: both ways, never stored -------------------------------------------------------

@message
class Hello(Message):
    TYPE = "hello"
    KIND = "control"
    role: str = choice(("station", "desk"), "station")
    app: str = name("")
    outbox: int = integer(0, 0)


@message
class Heartbeat(Message):
    TYPE = "heartbeat"
    KIND = "control"
    outbox: int = integer(0, 0)


@message
class SnapshotRequest(Message):
    TYPE = "snapshot_request"
    KIND = "control"


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
    TYPE = "snapshot"
    KIND = "reply"
    gseq: int = integer(0, 0)
    state: dict = anything({})


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


@message
class Presence(Message):
    """Per-station liveness the hub sees from heartbeats, published on `presence` every second."""

    TYPE = "presence"
    KIND = "reply"
    server_ms: int = integer(0, 0)
    stations: dict = anything({})
    gseq: int = integer(0, 0)


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
    TYPE = "sendoff_notice"
    count: int = integer(0, 0, MAX_COUNT)
    note: str = text("")


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
    # Set when the hub hands a guest on (console/guests_rules.py): the guest's list reference and
    # the kind of notice, "vip" (VIP arriving: acknowledge in time) or "needs" (special needs).
    guest: str = name("")
    notice: str = choice(NOTICES, "")
    # An order to the gate, whoever sends it: "hold" stops letting cars in, "resume" lifts the hold.
    gate: str = choice(GATE_ORDERS, "")


@message
class DeskNote(Message):
    TYPE = "note"
    KIND = "action"
    text: str = text()
    department: str = choice(("",) + DEPARTMENTS, "")


# --- written by the hub itself -------------------------------------------------------------

@message
class StationStatus(Message):
    """A station's liveness changed (online / late / offline); logged so the summary sees uptime."""

    TYPE = "station_status"
    KIND = "hub"
    station: str = name()
    status: str = choice(("online", "late", "offline"))
    last_heard_ms: int = integer(0, 0)


@message
class Alarm(Message):
    """Something a desk must see that is not a report: impersonation, conflict, repeated rejections."""

    TYPE = "alarm"
    KIND = "hub"
    code: str = name()
    station: str = name("")
    reason: str = text("", max_len=2000)


# --- contingency plans (console/plans.py runs them; the hub writes what it decides) -------------

PLAN_STEP_STATUSES = ("done", "skipped")


@message
class PlanStart(Message):
    """The desk starts a plan by hand (or accepts a proposal of it); the hub answers with plan_started."""

    TYPE = "plan_start"
    KIND = "action"
    plan: str = name()
    note: str = text("")


@message
class PlanStep(Message):
    """A step of a running plan is done or skipped; a post may send it only for steps given to its post."""

    TYPE = "plan_step"
    run: int = integer(lo=1)
    step: str = name()
    status: str = choice(PLAN_STEP_STATUSES, "done")
    reason: str = text("")

    def problem(self) -> tuple[str, str, dict] | None:
        skipped_silently = self.status == "skipped" and not self.reason.strip()
        return ("reason", "problem.skip_reason", {}) if skipped_silently else None


@message
class PlanStandDown(Message):
    """The desk stands a running plan down, or dismisses a proposal; `run` is either one's gseq."""

    TYPE = "plan_stand_down"
    KIND = "action"
    run: int = integer(lo=1)
    note: str = text("")


@message
class PlanStarted(Message):
    """A plan run begins; its gseq is the run id. Carries the plan as it was, so the log tells it all."""

    TYPE = "plan_started"
    KIND = "hub"
    plan: str = name()
    name: str = name("")
    name_en: str = _f("str", "", max_len=MAX_NAME)   # `name` is a field name from here on
    owner: str = choice(("",) + DEPARTMENTS, "")
    cause: str = _f("str", "", max_len=MAX_NAME)
    auto: bool = flag()
    request: int = integer(0, 0)
    note: str = text("")
    steps: list = anything([])
    all_clear: str = text("")
    all_clear_en: str = text("")


@message
class PlanProposed(Message):
    """A trigger matched a plan that asks the desk first: start it (plan_start) or dismiss it."""

    TYPE = "plan_proposed"
    KIND = "hub"
    plan: str = name()
    name: str = name("")
    name_en: str = _f("str", "", max_len=MAX_NAME)   # `name` is a field name from here on
    cause: str = _f("str", "", max_len=MAX_NAME)


@message
class PlanEscalated(Message):
    """A step passed its target time and is still open: an alarm for the desk."""

    TYPE = "plan_escalated"
    KIND = "hub"
    run: int = integer(lo=1)
    step: str = name()
    due_ms: int = integer(0, 0)


# --- readiness, duty roster and guests (console/readiness.py, console/guests_rules.py) -------------

OVERDUE_WHAT = ("handoff", "roster", "task")


@message
class TaskSignoff(Message):
    """A preparation task from event.toml `[[tasks]]` is done; the desk or any station signs it off."""

    TYPE = "task_signoff"
    task: str = name()
    note: str = text("")


def _who(msg: Any) -> tuple[str, str, dict] | None:
    return None if (msg.name.strip() or msg.staff_no.strip()) else ("name", "problem.need_who", {})


@message
class StaffSignin(Message):
    """A staff member starts duty at this station, by name or staff number (or both)."""

    TYPE = "staff_signin"
    name: str = name("")
    staff_no: str = _f("str", "", max_len=32)

    def problem(self) -> tuple[str, str, dict] | None:
        return _who(self)


@message
class StaffSignout(Message):
    """A staff member leaves duty at this station."""

    TYPE = "staff_signout"
    name: str = name("")
    staff_no: str = _f("str", "", max_len=32)

    def problem(self) -> tuple[str, str, dict] | None:
        return _who(self)


@message
class GuestListRequest(Message):
    """A station asks for its copy of the guest list, one page at a time (see PROTOCOL.md 5.11)."""

    TYPE = "guest_list_request"
    KIND = "control"
    digest: str = name("")
    page: int = integer(0, 0)


@message
class GuestPage(Message):
    """One page of the guest list for stations; `pages` 0 means "your copy (digest) is current"."""

    TYPE = "guest_page"
    KIND = "reply"
    digest: str = name("")
    page: int = integer(0, 0)
    pages: int = integer(0, 0)
    count: int = integer(0, 0)
    guests: list = anything([])


@message
class GuestList(Message):
    """The guest list as imported (eventdesk guests import), logged when the hub first sees it."""

    TYPE = "guest_list"
    KIND = "hub"
    source: str = text("")
    digest: str = name("")
    guests: list = anything([])


@message
class Overdue(Message):
    """Something due is not done: a VIP hand-off link unacknowledged, a post not staffed, a blocking task open."""

    TYPE = "overdue"
    KIND = "hub"
    what: str = choice(OVERDUE_WHAT)
    ref: str = name()
    target: str = name("")
    due_ms: int = integer(0, 0)


# Which stored kinds each role may send. Incidents, instruction acks, service calls and the
# confirmation of one's own plan steps are common.
COMMON = ("incident_report", "incident_update", "instruction_ack", "service_request", "damage_report",
          "plan_step", "task_signoff", "staff_signin", "staff_signout")
ALLOWED: dict[str, frozenset[str]] = {
    "gate": frozenset(COMMON + ("car_in", "car_out", "guest_arrival")),
    "parking": frozenset(COMMON + ("lot_occupancy", "space_assign", "car_in", "car_out")),
    "concierge": frozenset(COMMON + ("guest_arrival", "guest_departure", "guest_checkin")),
    "lobby": frozenset(COMMON + ("zone_enter", "zone_exit", "zone_count", "guest_checkin", "guest_departure")),
    "model_unit": frozenset(COMMON + ("zone_enter", "zone_exit", "zone_count", "sendoff_notice")),
    "desk": frozenset(("incident_open", "incident_update", "instruction", "note",
                       "plan_start", "plan_step", "plan_stand_down", "task_signoff")),
}
CONTROL = frozenset(t for t, c in REGISTRY.items() if c.KIND == "control")
STORED = frozenset(t for t, c in REGISTRY.items() if c.KIND in ("report", "action", "hub"))


def fields_of(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)
