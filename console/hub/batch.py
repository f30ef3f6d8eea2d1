"""Who sent a message (Peer) and one batch on its way to the commit (Batch): the shapes Ingest and its mixins share.

Split out of console/hub/ingest.py so its mixins (ingest_control, ingest_refusals) name these
types without importing Ingest itself: the dependency runs one way. No sockets, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from console.hub.store import Rejection
from protocols.codec import Header
from protocols.messages import Alarm


@dataclass(frozen=True, slots=True)
class Peer:
    """Who sent a message, from the CURVE key alone: role ("station" or "desk"), id and post."""

    role: str
    id: str
    post: str


class Later(NamedTuple):
    """A reply built only after the batch's acks are sent (a snapshot): `build()` makes it then."""

    build: Callable[[], Any]


@dataclass
class Batch:
    """One batch on its way to the commit: what to store, what to answer, this batch's cursors."""

    next_g: int
    pending: list[tuple[bytes | None, Header, Any, str]] = field(default_factory=list)  # address, header, message, body
    replies: list[tuple[bytes, Any]] = field(default_factory=list)   # address, reply or index into pending
    rejections: list[Rejection] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    last: dict[tuple[str, str], int] = field(default_factory=dict)
    keys: dict[tuple[str, str, int], int] = field(default_factory=dict)   # report key -> index in pending
    new_ids: set[int] = field(default_factory=set)
