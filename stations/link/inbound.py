"""What the console says to a station and how the link answers: acks, nacks, welcomes, guest pages, feed instructions, socket events.

A mixin of Link, split out so the loop and the wire's reactions read apart; it runs on the
client's thread like the rest of Link and works on Link's sockets and flow state (see link.py).
"""
from __future__ import annotations

import logging
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

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
    Nack,
    Welcome,
)

log = logging.getLogger("eventdesk.station")

RATE_PAUSE = 0.25        # after E_RATE, before sending again (with a halved window)
STORAGE_PAUSE = 1.0      # after E_STORAGE or any other retryable code: the console's disk needs time
DRAIN = 1000             # frames read per wake-up, so one busy socket cannot starve the others
KEY_FAIL = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)


class Inbound:
    """Link's handlers for what arrives on its DEALER, SUB and monitor sockets."""

    # --- the console's answers ------------------------------------------------------------------
    def _bad(self, exc: ProtocolError, where: str) -> None:
        self.bad_frames += 1
        if self.bad_frames <= 10 or self.bad_frames % 1000 == 0:  # a flood must not flood the log too
            log.warning("%s: bad frame #%d from %s: %s", self.c.station, self.bad_frames, where, exc)

    def _read_dealer(self) -> None:
        acks: list[tuple[int, int]] = []
        for _ in range(DRAIN):
            try:
                frames = self.dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            self._heard()
            try:
                message = codec.decode(frames).message
            except ProtocolError as exc:
                self._bad(exc, "the console")
                continue
            if isinstance(message, Ack):
                if message.epoch == self.outbox.epoch:
                    acks.append((message.seq, message.gseq))
                    self.inflight.pop(message.seq, None)
                    self.cwnd = min(float(self.c.window), self.cwnd + 1)
            elif isinstance(message, Nack):
                self._nack(message)
            elif isinstance(message, Welcome):
                self._welcome(message)
            elif isinstance(message, GuestPage):
                self._guest_page(message)
            elif isinstance(message, InstructionPage):
                for raw in message.instructions:
                    self.c._listed_instruction(raw)
                if message.more:
                    self._ask_instructions(message.instructions)
        if acks:
            self.c._reports_changed(self.outbox.mark_delivered_many(acks))

    def _welcome(self, welcome: Welcome) -> None:
        if welcome.station and welcome.station != self.c.station:
            # Our key is bound to another station: sending would only earn E_IDENTITY rejections.
            self.c._set_status(last_error=f"this terminal's key belongs to {welcome.station!r}, "
                                          f"not {self.c.station!r}; reports are held")
            return
        fresh, self.welcomed = not self.welcomed, True
        if welcome.heartbeat_ms > 0:   # PROTOCOL.md 5.2: the hub's interval from now on; liveness counts in it
            self.hb = welcome.heartbeat_ms / 1000
        self.c._set_status(last_error="")
        self.c._welcomed(welcome)
        self._subscribe()
        if welcome.instructions_more:
            self._ask_instructions(welcome.instructions)
        listed = welcome.event.get("guests") if isinstance(welcome.event, dict) else None
        if self.c.wants_guests and isinstance(listed, dict) and listed.get("digest", "") != self.outbox.guest_digest():
            self._ask_guests(0)
        else:
            self.guest_checked_at = time.monotonic()   # the welcome said our copy is current
        if not fresh:
            return  # a second welcome on a live session only refreshes the instructions
        first = self.outbox.first_unacked() or self.outbox.next_seq
        if welcome.last_seq + 1 < first:
            # The console has lost reports we hold as handled (a restored log): send them again.
            log.warning("%s: console knows up to %d only; replaying from there", self.c.station, welcome.last_seq)
            self.replay_until = first
            first = welcome.last_seq + 1
        self._rewind(first, force=True)

    def _nack(self, nack: Nack) -> None:
        if nack.seq == 0 or nack.epoch != self.outbox.epoch:
            self.c._set_status(last_error=f"{nack.code}: {nack.reason}")
            return
        if not nack.retry:
            self.inflight.pop(nack.seq, None)
            self.c._reports_changed(
                [r for r in [self.outbox.mark_rejected(nack.seq, nack.code, nack.reason, nack.reason_zh)] if r])
            return
        # Never rewind past what we hold: a console asking for seq 10**12 must not park the cursor.
        first = self.outbox.first_unacked() or self.outbox.next_seq
        if nack.code == "E_GAP":
            expected = nack.expected or nack.seq
            resent = self.inflight.get(expected)
            if resent is not None and resent >= self.last_rewind:
                return  # an echo of a gap we already closed by resending `expected`
            if expected < first:
                self.replay_until = first  # it wants reports we hold as handled: it lost them
            self._rewind(min(expected, first))
        else:
            # E_RATE, E_STORAGE or any later retryable code: wait, then resend in order.
            rate = nack.code == "E_RATE"
            if rate:
                self.cwnd = max(1.0, self.cwnd / 2)
            self.paused_until = time.monotonic() + (RATE_PAUSE if rate else STORAGE_PAUSE)
            self._rewind(first, force=True)

    def _ask_instructions(self, listed: list) -> None:
        """Open instructions a welcome had no room for come a page at a time: ask after the last one held."""
        gseqs = [raw.get("gseq") for raw in listed if isinstance(raw, dict)]
        after = max((g for g in gseqs if isinstance(g, int) and g >= 0), default=0)
        self._send(codec.encode(InstructionsRequest(after=after), self.c.station, self.outbox.epoch, 0, self._now_ms()))

    # --- the guest list, page by page ---------------------------------------------------------------
    def _ask_guests(self, page: int) -> None:
        self.guest_asked_at = self.guest_checked_at = time.monotonic()
        ask = GuestListRequest(digest=self.outbox.guest_digest(), page=page)
        self._send(codec.encode(ask, self.c.station, self.outbox.epoch, 0, self._now_ms()))

    def _guest_page(self, page: GuestPage) -> None:
        """Collect pages of one version of the list; keep it once every page is in."""
        if page.pages == 0:   # our copy is current (or the hub has no list any more)
            self.guest_fetch = None
            if page.digest != self.outbox.guest_digest():
                self.c._guest_list(page.digest, [])
            return
        if self.guest_fetch is None or self.guest_fetch[0] != page.digest:
            self.guest_fetch = (page.digest, {})   # a new version began: start it afresh
        pages = self.guest_fetch[1]
        pages[page.page] = [g for g in page.guests if isinstance(g, dict)]
        missing = [n for n in range(page.pages) if n not in pages]
        if missing:
            self._ask_guests(missing[0])
            return
        self.guest_fetch = None
        self.c._guest_list(page.digest, [g for n in range(page.pages) for g in pages[n]])

    # --- the monitors and the feed -------------------------------------------------------------
    @staticmethod
    def _events(monitor: zmq.Socket) -> list[int]:
        found: list[int] = []
        while len(found) < DRAIN and monitor.poll(0):
            found.append(recv_monitor_message(monitor)["event"])
        return found

    def _read_monitor(self) -> None:
        for event in self._events(self.monitor):
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.key_fails = 0
                self.c._set_status(key_refused=False)
                if self.session_dropped:
                    # libzmq reconnected by itself (a console restart): greet it as a new session.
                    self.welcomed = False
                    self._hello()
                self.session_up, self.session_dropped = True, False
            elif event == zmq.EVENT_DISCONNECTED:
                self.session_dropped = self.session_dropped or self.session_up
                self.session_up = False
                self.welcomed = False
            elif event in KEY_FAIL:
                self.key_fails += 1
            elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.c._set_status(key_refused=True, last_error="the console does not admit this terminal's key")

    def _read_sub(self) -> None:
        for _ in range(DRAIN):
            try:
                frames = self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            # Topic frames end in a full stop, so a subscription matches one topic; check it all the same.
            topic = topic_name(frames[0]) if frames else None
            if topic not in self.topics:
                continue
            try:
                message = codec.decode(frames[1:]).message
                if isinstance(message, Committed):
                    self.c._instruction(message)
            except ProtocolError as exc:
                self._bad(exc, topic)
