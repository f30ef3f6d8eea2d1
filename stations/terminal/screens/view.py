"""What the terminal shows, as one immutable value: link status, recent reports, instructions, tallies.

Built off the event loop (stations.terminal.view_builder, on the terminal's outbox worker) and
handed to the screen whole; the screen only reads it, so it needs no sockets or SQLite to load.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from stations.records import InboxItem, Report, Status
from stations.terminal.posts import plan_tasks
from stations.terminal.posts.service_calls import Call
from stations.terminal.posts.base import Count

RECENT = 30          # reports kept on screen; more than fit at 80x24, fewer than a scroll would need
TALLY_LIMIT = 100_000  # every report of an event day (a busy gate makes a few thousand)


@dataclass(frozen=True)
class View:
    status: Status
    recent: tuple[Report, ...] = ()
    instructions: tuple[InboxItem, ...] = ()
    pending: tuple[InboxItem, ...] = ()
    orders: tuple[InboxItem, ...] = ()          # gate orders and plan all-clears: protocols.orders folds them
    counts: tuple[Count, ...] = ()
    # instruction id -> its instruction_ack report (read-only: the view is shared with the screens)
    acks: Mapping[int, Report] = field(default_factory=lambda: MappingProxyType({}))
    on_duty: tuple[dict[str, str], ...] = ()   # who this terminal signed in and not out
    tasks_done: frozenset[str] = frozenset()    # preparation tasks this terminal signed off
    checked_in: frozenset[str] = frozenset()    # guest refs this terminal checked in
    tasks: tuple[plan_tasks.Task, ...] = ()     # open plan steps given to this post, oldest first
    plans: tuple[InboxItem, ...] = ()           # one order of each plan running for this post
    guests: tuple[dict[str, Any], ...] = ()     # the guest list as last received (check-in look-up)
    calls: tuple[Call, ...] = ()                # service calls raised here or routed here (posts.service_calls)
