"""Builds the terminal's View from the outbox, on the terminal's outbox worker thread (never on the event loop).

Keeps the tallies between builds and recounts only when the outbox gained reports or a
rejection; re-reads the guest list only when its version changed. Reads through the worker's
own connection and the link's published status; never writes.
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Callable

from stations.outbox.store import Outbox
from stations.records import REJECTED, Report, Status
from stations.terminal.posts import duty, parking, plan_tasks, service_calls
from stations.terminal.posts.base import Area, Post, Site
from stations.terminal.screens.view import RECENT, TALLY_LIMIT, View


class ViewBuilder:
    """One per terminal; used only on its worker's thread, so it needs no lock."""

    def __init__(self, status: Callable[[], Status], post: Post, site: Site) -> None:
        self.status, self.post, self.site = status, post, site
        self._tally_key: tuple[Any, ...] | None = None
        self._reports: list[tuple[str, dict[str, Any]]] = []
        self._duty: tuple[tuple[dict[str, str], ...], frozenset[str], frozenset[str]] = ((), frozenset(), frozenset())
        self._guests: tuple[str, tuple[dict[str, Any], ...]] = ("", ())

    def build(self, outbox: Outbox, area: Area | None) -> View:
        status = dataclasses.replace(self.status(), waiting=outbox.depth())
        key = (outbox.next_seq, outbox.counts()[REJECTED])
        if key != self._tally_key:
            # Oldest first so tallies replay in order; rejected reports never happened for the desk.
            everything = list(reversed(outbox.recent(TALLY_LIMIT)))
            self._reports = [(r.type, r.body) for r in everything if r.state != REJECTED]
            self._tally_key = key
            self._duty = (tuple(duty.on_duty(self._reports)), frozenset(duty.signed_off(self._reports)),
                          frozenset(str(b.get("guest_ref")) for t, b in self._reports
                                    if t == "guest_checkin" and b.get("guest_ref")))
        digest = outbox.guest_digest()
        if digest != self._guests[0]:
            self._guests = (digest, tuple(outbox.guests()))
        recent = tuple(outbox.recent(RECENT))
        instructions = tuple(outbox.instructions(50))
        tasks, plans = plan_tasks.read(instructions, self._reports)
        lately = outbox.recent(200)
        acks: dict[int, Report] = {r.body.get("instruction"): r for r in reversed(lately)
                                   if r.type == "instruction_ack"}
        return View(status=status, recent=recent, instructions=instructions,
                    pending=tuple(outbox.pending_instructions()), orders=tuple(outbox.standing_orders()),
                    counts=tuple(self.post.tally(self.site, self._reports + parking.taken_anywhere(status.event), area)), acks=MappingProxyType(acks),
                    on_duty=self._duty[0], tasks_done=self._duty[1], checked_in=self._duty[2],
                    tasks=tasks, plans=plans, guests=self._guests[1],
                    calls=tuple(service_calls.calls(lately, instructions, acks)))
