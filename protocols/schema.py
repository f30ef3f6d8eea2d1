"""The machinery of message schemas: field kinds with limits, the Message base, the registry.

Also the domain vocabulary every message draws on (posts, departments, incident kinds...).
Knows nothing of sockets, storage or any particular message.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

FIELD_POSTS = ("gate", "parking", "concierge", "lobby", "model_unit")   # the posts on the ground (section 1.1)
# Department and leader terminals (issue 16 item 3): a department's own post has the department's id, so a
# plan step or a service call owned by a department reaches its terminal; "greeter" is the greeting leaders
# (陪同领导), "sales" the sales staff (销售).
DEPARTMENT_POSTS = ("engineering", "environment", "logistics", "service", "security")
ROLE_POSTS = ("greeter", "sales")
POSTS = FIELD_POSTS + DEPARTMENT_POSTS + ROLE_POSTS
DEPARTMENTS = ("office", "service", "security", "engineering", "environment", "logistics")
INCIDENT_KINDS = (
    "fire", "smoke", "power_outage", "water_outage", "water_leak", "flooding",
    "medical", "security", "crowding", "vehicle", "lost_child", "lost_property",
    "gathering", "suspicious_person", "heat", "thunderstorm", "typhoon", "other",
)
SEVERITIES = (1, 2, 3, 4)  # low, medium, high, critical
INCIDENT_STATUSES = ("new", "acknowledged", "in_progress", "resolved")
SERVICES = ("drinks", "tea_break", "cleaning", "restock", "other")
VIP_LEVELS = ("", "A", "B", "C")
NOTICES = ("", "vip", "needs", "sendoff", "service_new", "service_taken", "service_done", "service_cancelled",
           "incident")   # service_*: protocols.messages_service
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


def blob() -> Any:
    """Raw bytes (MessagePack bin): a slice of a larger packed value, as in snapshot pages."""
    return _f("bin", b"")


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
