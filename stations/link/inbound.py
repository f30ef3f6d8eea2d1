"""What the console says to a station and what the link does with it: acks, nacks, a welcome's lists, guest pages, instruction pages, feed instructions

A class of its own with its own state (the guest list being fetched, bad frames counted); it
works on the window (`Flow`), the outbox and the owner's `LinkEvents`, and puts its requests on
the wire through the `send` it is given. It never touches a socket: the link reads the frames
and hands them over, on the link's thread. Timers read the link's injected monotonic clock.
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

from protocols import codec
from protocols.bounds import topic_name
from protocols.codec import ProtocolError
from protocols.messages import (
    Ack,
    Committed,
    GuestListRequest,
    GuestPage,
    InstructionPage,
    InstructionsRequest,
    Message,
    Nack,
    Welcome,
)
from stations.link.flow import Flow
from stations.link.host import LinkEvents
from stations.outbox.store import Outbox

log = logging.getLogger("eventdesk.station")

GUEST_CHECK = 60.0       # seconds between asking whether the guest list changed (a welcome asks at once)
GUEST_RETRY = 5.0        # a page not answered within this is asked for again


class Inbound:
    """The console's answers on the DEALER and the feed's instructions on the SUB, for one StationClient."""

    def __init__(self, station: str, outbox: Outbox, events: LinkEvents, flow: Flow,
                 send: Callable[[Message], bool], monotonic: Callable[[], float]) -> None:
        self.station, self.outbox, self.events, self.flow = station, outbox, events, flow
        self.send, self.monotonic = send, monotonic
        self.bad_frames = 0
        self.passive = False   # two hubs (5.13): an E_PASSIVE came; the link moves to the other hub
        # The guest list being fetched: its digest and the pages so far (see guest_page).
        self.guest_fetch: tuple[str, dict[int, list]] | None = None
        self.guest_asked_at = self.guest_checked_at = float("-inf")

    def bad(self, exc: ProtocolError, where: str) -> None:
        self.bad_frames += 1
        if self.bad_frames <= 10 or self.bad_frames % 1000 == 0:  # a flood must not flood the log too
            log.warning("%s: bad frame #%d from %s: %s", self.station, self.bad_frames, where, exc)

    # --- the console's answers ------------------------------------------------------------------
    def replies(self, batch: Sequence[Sequence[bytes]]) -> list[Welcome]:
        """Handle a batch read from the DEALER; the welcomes in it are the link's to handle (a session
        begins), returned in order."""
        acks: list[tuple[int, int]] = []
        welcomes: list[Welcome] = []
        for frames in batch:
            try:
                message = codec.decode(frames).message
            except ProtocolError as exc:
                self.bad(exc, "the console")
                continue
            if isinstance(message, Ack):
                if message.epoch == self.outbox.epoch:
                    acks.append((message.seq, message.gseq))
                    self.flow.acked(message.seq)
            elif isinstance(message, Nack):
                self.nack(message)
            elif isinstance(message, Welcome):
                welcomes.append(message)
            elif isinstance(message, GuestPage):
                self.guest_page(message)
            elif isinstance(message, InstructionPage):
                for raw in message.instructions:
                    self.events.listed_instruction(raw)
                if message.more:
                    self.ask_instructions(message.instructions)
        if acks:
            self.events.reports_changed(self.outbox.mark_delivered_many(acks))
        return welcomes

    def nack(self, nack: Nack) -> None:
        if nack.code == "E_PASSIVE":   # two hubs (5.13): this one stands by; the link moves to the other at once
            self.passive = True
            return
        if nack.seq == 0 or nack.epoch != self.outbox.epoch:
            self.events.set_status(last_error=f"{nack.code}: {nack.reason}")
            return
        if not nack.retry:
            self.flow.dropped(nack.seq)
            rejected = self.outbox.mark_rejected(nack.seq, nack.code, nack.reason, nack.reason_zh)
            self.events.reports_changed([rejected] if rejected else [])
            return
        self.flow.retry(nack, self.outbox.first_unacked() or self.outbox.next_seq, self.monotonic())

    def welcomed(self, welcome: Welcome) -> None:
        """A welcome's lists: the open instructions (paged if it had no room) and whether our guest list is current."""
        self.events.welcomed(welcome)
        if welcome.instructions_more:
            self.ask_instructions(welcome.instructions)
        listed = welcome.event.get("guests") if isinstance(welcome.event, dict) else None
        if self.events.wants_guests and isinstance(listed, dict) and listed.get("digest", "") != self.outbox.guest_digest():
            self.ask_guests(0)
        else:
            self.guest_checked_at = self.monotonic()   # the welcome said our copy is current

    def ask_instructions(self, listed: list) -> None:
        """Open instructions a welcome had no room for come a page at a time: ask after the last one held."""
        gseqs = [raw.get("gseq") for raw in listed if isinstance(raw, dict)]
        after = max((g for g in gseqs if isinstance(g, int) and g >= 0), default=0)
        self.send(InstructionsRequest(after=after))

    # --- the guest list, page by page ---------------------------------------------------------------
    def ask_guests(self, page: int) -> None:
        self.guest_asked_at = self.guest_checked_at = self.monotonic()
        self.send(GuestListRequest(digest=self.outbox.guest_digest(), page=page))

    def guest_timers(self) -> None:
        """On a welcomed session: ask for a page again that went unanswered, or ask now and then whether the list changed."""
        if not self.events.wants_guests:
            return
        now = self.monotonic()
        if self.guest_fetch is not None and now - self.guest_asked_at > GUEST_RETRY:
            self.ask_guests(len(self.guest_fetch[1]))
        elif self.guest_fetch is None and now - self.guest_checked_at > GUEST_CHECK:
            self.ask_guests(0)

    def guest_page(self, page: GuestPage) -> None:
        """Collect pages of one version of the list; keep it once every page is in."""
        if page.pages == 0:   # our copy is current (or the hub has no list any more)
            self.guest_fetch = None
            if page.digest != self.outbox.guest_digest():
                self.events.guest_list(page.digest, [])
            return
        if self.guest_fetch is None or self.guest_fetch[0] != page.digest:
            self.guest_fetch = (page.digest, {})   # a new version began: start it afresh
        pages = self.guest_fetch[1]
        pages[page.page] = [g for g in page.guests if isinstance(g, dict)]
        missing = [n for n in range(page.pages) if n not in pages]
        if missing:
            self.ask_guests(missing[0])
            return
        self.guest_fetch = None
        self.events.guest_list(page.digest, [g for n in range(page.pages) for g in pages[n]])

    # --- the feed -------------------------------------------------------------------------------
    def published(self, frames: Sequence[bytes], topics: set[str]) -> None:
        """One message from the SUB: an instruction for one of our topics is filed, a changed summary line kept."""
        # Topic frames end in a full stop, so a subscription matches one topic; check it all the same.
        topic = topic_name(frames[0]) if frames else None
        if topic not in topics:
            return
        try:
            message = codec.decode(frames[1:]).message
            if isinstance(message, Committed) and message.type == "summary":   # a line of the event summary changed
                self.events.summary_line(message)
            elif isinstance(message, Committed):
                self.events.instruction(message)
        except ProtocolError as exc:
            self.bad(exc, topic)
