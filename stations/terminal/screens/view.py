"""What the terminal shows, read from the client in one go: link status, recent reports, instructions, tallies.

The screen is refreshed from a fresh View at a steady rate (never once per message), so a
burst of acks after a reconnect costs one redraw. Reads the outbox through the client's
public API only; never writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stations.records import REJECTED, InboxItem, Report, Status
from stations.terminal.posts import duty, plan_tasks
from stations.terminal.posts.base import Area, Count, Post, Site

if TYPE_CHECKING:   # the view reads the client it is handed; it needs no sockets or SQLite to load
    from stations.link.client import StationClient

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
    acks: dict[int, Report] = field(default_factory=dict)   # instruction id -> its instruction_ack report
    on_duty: tuple[dict[str, str], ...] = ()   # who this terminal signed in and not out
    tasks_done: frozenset[str] = frozenset()    # preparation tasks this terminal signed off
    checked_in: frozenset[str] = frozenset()    # guest refs this terminal checked in
    tasks: tuple[plan_tasks.Task, ...] = ()     # open plan steps given to this post, oldest first
    plans: tuple[InboxItem, ...] = ()           # one order of each plan running for this post


class Reader:
    """Builds Views; recounts the tally only when the outbox gained reports or a rejection."""

    def __init__(self, client: StationClient, post: Post, site: Site) -> None:
        self.client, self.post, self.site = client, post, site
        self._tally_key: tuple[Any, ...] | None = None
        self._reports: list[tuple[str, dict[str, Any]]] = []
        self._acks: dict[int, Report] = {}
        self._duty: tuple[tuple[dict[str, str], ...], frozenset[str], frozenset[str]] = ((), frozenset(), frozenset())

    def read(self, area: Area | None) -> View:
        outbox = self.client.outbox
        status = self.client.status()
        key = (outbox.next_seq, outbox.counts()[REJECTED])
        if key != self._tally_key:
            # Oldest first so tallies replay in order; rejected reports never happened for the desk.
            everything = list(reversed(outbox.recent(TALLY_LIMIT)))
            self._reports = [(r.type, r.body) for r in everything if r.state != REJECTED]
            self._tally_key = key
            self._duty = (tuple(duty.on_duty(self._reports)), frozenset(duty.signed_off(self._reports)),
                          frozenset(str(b.get("guest_ref")) for t, b in self._reports
                                    if t == "guest_checkin" and b.get("guest_ref")))
        recent = tuple(outbox.recent(RECENT))
        instructions = tuple(outbox.instructions(50))
        tasks, plans = plan_tasks.read(instructions, self._reports)
        acks = {r.body.get("instruction"): r for r in reversed(outbox.recent(200)) if r.type == "instruction_ack"}
        return View(status=status, recent=recent, instructions=instructions,
                    pending=tuple(outbox.pending_instructions()), orders=tuple(outbox.standing_orders()),
                    counts=tuple(self.post.tally(self.site, self._reports, area)), acks=acks,
                    on_duty=self._duty[0], tasks_done=self._duty[1], checked_in=self._duty[2],
                    tasks=tasks, plans=plans)
