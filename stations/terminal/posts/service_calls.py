"""This post's service calls, read from its own outbox and inbox: those it raised and those routed to it, each with its state; pure.

A call raised here is a `service_request` report; its number is the gseq the hub acked it with. The
hub tells the raising post when someone else takes, finishes or cancels it (an instruction with
`notice` service_taken / service_done / service_cancelled and the number in `guest`), and tells the
post a call is routed to (service_new, to acknowledge: that takes it). What this post sent itself
(`service_update` reports, acknowledgements) counts at once. No screen, no sockets, no storage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stations.records import REJECTED, InboxItem, Report

ORDER = {"open": 0, "taken": 1, "saved": 2, "done": 3, "cancelled": 4}
RANK = {"saved": 0, "open": 1, "taken": 2, "done": 3, "cancelled": 3}   # a call only moves forward


def _furthest(*states: str) -> str:
    return max((s for s in states if s), key=lambda s: RANK.get(s, 0))


@dataclass(frozen=True)
class Call:
    id: int                 # the call's number (its gseq); 0 while the request is not delivered yet
    mine: bool              # raised here; else routed here by the event
    status: str             # saved (not delivered yet) | open | taken | done | cancelled
    service: str = ""       # a call raised here: what and where, as it was asked
    where: str = ""
    notice: InboxItem | None = None   # a call routed here: the hub's notice (its words; acknowledging takes it)

    @property
    def closed(self) -> bool:
        return self.status in ("done", "cancelled")


def _told(instructions: Iterable[InboxItem]) -> dict[int, str]:
    """call -> its last state as the hub told this post (instructions come newest first)."""
    out: dict[int, str] = {}
    for item in sorted(instructions, key=lambda i: i.id):
        if item.notice.startswith("service_") and item.notice != "service_new" and item.guest.isdigit():
            out[int(item.guest)] = item.notice.partition("_")[2]
    return out


def _sent(reports: Iterable[Report]) -> dict[int, str]:
    """call -> the last state this post set itself (refused updates changed nothing)."""
    out: dict[int, str] = {}
    for r in sorted(reports, key=lambda r: r.seq):
        if r.type == "service_update" and r.state != REJECTED:
            out[int(r.body.get("call", 0))] = str(r.body.get("status", ""))
    return out


def calls(reports: Iterable[Report], instructions: Iterable[InboxItem], acks: Mapping[int, Report]) -> list[Call]:
    """The calls this post can see, the open ones first (oldest first), then the closed ones."""
    reports, instructions = list(reports), list(instructions)
    told, sent = _told(instructions), _sent(reports)
    out = []
    for r in reports:
        if r.type != "service_request" or r.state == REJECTED:
            continue
        call = r.gseq or 0
        status = _furthest(sent.get(call, ""), told.get(call, ""), "open" if call else "saved")
        out.append(Call(call, True, status, str(r.body.get("service", "")), str(r.body.get("where", ""))))
    for item in instructions:
        if item.notice != "service_new" or not item.guest.isdigit():
            continue
        call = int(item.guest)
        taken = item.acked_ms is not None or item.id in acks
        out.append(Call(call, False, _furthest(sent.get(call, ""), told.get(call, ""), "taken" if taken else "open"),
                        notice=item))
    out.sort(key=lambda c: (c.closed, ORDER.get(c.status, 9) if not c.closed else 0, c.id or 1 << 62))
    return out
