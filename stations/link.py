"""The socket loop behind StationClient: DEALER + SUB + monitor, heartbeats, windowed in-order resend, back-off; knows protocols and the outbox, never the screen.

Runs on the client's thread only; no other thread touches these sockets. Flow control:
`cursor` is the next seq to put on the wire in this pass, `inflight` what was put there and
not yet answered. Anything that casts doubt on the wire (a new session, a gap the console
reports, a silence) rewinds the cursor to the first unacked report and sends again in order:
duplicates are harmless because the console re-acks them.
"""
from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING

import zmq
from zmq.utils.monitor import recv_monitor_message

from protocols import codec
from protocols.codec import ProtocolError
from protocols.messages import Ack, Committed, GuestListRequest, GuestPage, Heartbeat, Hello, Nack, Welcome
from stations.outbox import SAVED, Report

if TYPE_CHECKING:
    from stations.client import StationClient

log = logging.getLogger("eventdesk.station")

LIVENESS = 3             # heartbeat intervals of silence before the console counts as unreachable
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 4.0
RESEND_AFTER = 5.0       # seconds an in-flight report may go unanswered on a live link
REWIND_QUIET = 0.2       # one E_GAP rewind per this many seconds: the rest are echoes of the first
RATE_PAUSE = 0.25        # after E_RATE, before sending again (with a halved window)
STORAGE_PAUSE = 1.0      # after E_STORAGE or any other retryable code: the console's disk needs time
MISMATCH_AFTER = 2       # failed CURVE handshakes before we say "console key mismatch"
DRAIN = 1000             # frames read per wake-up, so one busy socket cannot starve the others
GUEST_CHECK = 60.0       # seconds between asking whether the guest list changed (a welcome asks at once)
GUEST_RETRY = 5.0        # a page not answered within this is asked for again
_KEY_FAIL = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
_MONITORED = zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH | sum(_KEY_FAIL)


class Link:
    """Sockets and flow state of one StationClient; lives and dies on the client's thread."""

    def __init__(self, client: StationClient) -> None:
        self.c = client
        self.outbox = client.outbox
        self.hb = client.heartbeat_ms / 1000
        self.ctx = zmq.Context()
        self.dealer: zmq.Socket | None = None
        self.monitor: zmq.Socket | None = None
        self.sub: zmq.Socket | None = None
        self.sub_monitor: zmq.Socket | None = None
        self.feed_up = False
        self.poller = zmq.Poller()
        self.topics: set[str] = set()
        self.backoff = BACKOFF_FIRST
        self.reconnect_at, self.attempts, self.key_fails = 0.0, 0, 0
        self.ever_heard = False
        self.failed_once = False     # a liveness timeout happened: say "unreachable", not "connecting"
        self.bad_frames = self.sent_frames = 0
        # The guest list being fetched: its digest and the pages so far (see _guest_page).
        self.guest_fetch: tuple[str, dict[int, list]] | None = None
        self.guest_asked_at = 0.0
        self.guest_checked_at = 0.0
        self._fresh_socket()

    def _fresh_socket(self) -> None:
        self.opened_at = self.last_send = self.hello_at = time.monotonic()
        self.heard_at: float | None = None
        self.session_up = False
        self.session_dropped = False
        self.welcomed = False
        self.cursor = 0
        self.inflight: dict[int, float] = {}
        # Congestion window: halved on E_RATE, one more per ack, so a rate-limited station
        # settles near the console's pace instead of re-sending a full window into the limit.
        self.cwnd = float(self.c.window)
        self.replay_until = 0
        self.last_rewind = 0.0
        self.paused_until = 0.0

    # --- sockets --------------------------------------------------------------------------------
    def _curve(self, sock: zmq.Socket) -> None:
        sock.linger = 0
        sock.curve_secretkey = self.c.secret
        sock.curve_publickey = self.c.public
        sock.curve_serverkey = self.c.server_key
        # libzmq's own reconnect follows the same back-off as ours while a socket lives.
        sock.reconnect_ivl = int(BACKOFF_FIRST * 1000)
        sock.reconnect_ivl_max = int(BACKOFF_CAP * 1000)

    def open(self) -> None:
        self.attempts += 1
        self._fresh_socket()
        self.dealer = self.ctx.socket(zmq.DEALER)
        self._curve(self.dealer)
        try:
            self.monitor = self.dealer.get_monitor_socket(_MONITORED)
        except zmq.ZMQError:  # without it we fall back to guessing from silence (see _publish)
            self.monitor = None
        self.dealer.connect(self.c.endpoint)
        self.poller = zmq.Poller()
        self.poller.register(self.c._wake_r.fileno(), zmq.POLLIN)
        self.poller.register(self.dealer, zmq.POLLIN)
        if self.monitor is not None:
            self.poller.register(self.monitor, zmq.POLLIN)
        if self.c.feed_endpoint:
            self.sub = self.ctx.socket(zmq.SUB)
            self._curve(self.sub)
            self.topics = set()
            self._subscribe()
            try:
                self.sub_monitor = self.sub.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
                self.poller.register(self.sub_monitor, zmq.POLLIN)
            except zmq.ZMQError:
                self.sub_monitor = None
            self.sub.connect(self.c.feed_endpoint)
            self.poller.register(self.sub, zmq.POLLIN)
        self._hello()

    def _subscribe(self) -> None:
        wanted = {"all", f"station.{self.c.station}"} | ({f"post.{self.c.post}"} if self.c.post else set())
        if self.sub is not None:
            for topic in wanted - self.topics:
                self.sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.topics = wanted

    def _drop_sockets(self) -> None:
        # Closing a socket also ends its monitor; the monitor's PAIR end is closed with it.
        for sock in (self.monitor, self.sub_monitor, self.dealer, self.sub):
            if sock is not None:
                sock.close(linger=0)
        self.dealer = self.monitor = self.sub = self.sub_monitor = None
        self.feed_up = False
        self.poller = zmq.Poller()
        self.poller.register(self.c._wake_r.fileno(), zmq.POLLIN)

    def close(self) -> None:
        self._drop_sockets()
        self.ctx.destroy(linger=0)

    def _send(self, frames: list[bytes]) -> bool:
        try:
            self.dealer.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:  # the pipe is full: the console is slow or gone; liveness decides which
            return False
        self.last_send = time.monotonic()
        return True

    def _now_ms(self) -> int:
        return int(self.c.clock() * 1000)

    def _hello(self) -> None:
        self.hello_at = time.monotonic()
        hello = Hello(role=self.c.role, app=self.c.app[:64], outbox=self.outbox.depth())
        self._send(codec.encode(hello, self.c.station, self.outbox.epoch, 0, self._now_ms()))

    # --- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        self.reconnect_at = time.monotonic()
        while not self.c._stopping.is_set():
            try:
                self._step()
            except Exception as exc:
                # Never die on what the console or the disk does to us: say so, breathe, go on.
                log.exception("%s: link step failed", self.c.station)
                self.c._set_status(last_error=f"{type(exc).__name__}: {exc}")
                time.sleep(0.1)

    def _step(self) -> None:
        if self.dealer is None and time.monotonic() >= self.reconnect_at:
            try:
                self.open()
            except zmq.ZMQError as exc:  # a malformed endpoint, say: keep the reason, try later
                self._drop_sockets()
                self.c._set_status(last_error=f"cannot connect to {self.c.endpoint}: {exc}")
                self.reconnect_at = time.monotonic() + BACKOFF_CAP
        wait = max(0.0, min(self._next_timer() - time.monotonic(), self.hb))
        ready = dict(self.poller.poll(int(wait * 1000) + 1))
        if self.c._wake_r.fileno() in ready:
            self.c._drain_wake()
        if self.monitor is not None and self.monitor in ready:
            self._read_monitor()
        if self.dealer is not None and self.dealer in ready:
            self._read_dealer()
        if self.sub_monitor is not None and self.sub_monitor in ready:
            for event in self._events(self.sub_monitor):
                self.feed_up = event == zmq.EVENT_HANDSHAKE_SUCCEEDED
                if self.feed_up and self.welcomed:
                    # Instructions published before our subscription took hold are lost to
                    # us; a fresh welcome lists the open ones again.
                    self._hello()
        if self.sub is not None and self.sub in ready:
            self._read_sub()
        self._timers()
        self._pump()
        self._publish()

    def _next_timer(self) -> float:
        if self.dealer is None:
            return self.reconnect_at
        soonest = min(self.last_send + self.hb, (self.heard_at or self.opened_at) + LIVENESS * self.hb)
        return min(soonest, self.paused_until) if self.paused_until else soonest

    def _timers(self) -> None:
        now = time.monotonic()
        if self.dealer is None:
            return
        if now - (self.heard_at or self.opened_at) > LIVENESS * self.hb:
            # Console unreachable: throw the socket away (queued frames and all) and retry later.
            self._drop_sockets()
            self.failed_once = True
            self.reconnect_at = now + self.backoff * random.uniform(1.0, 1.1)
            self.backoff = min(self.backoff * 2, BACKOFF_CAP)
            return
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
        if not self.welcomed and self.heard_at and now - self.hello_at > LIVENESS * self.hb:
            self._hello()  # the console answers but never welcomed us: the hello went astray
        if self.welcomed and self.c.wants_guests:
            if self.guest_fetch is not None and now - self.guest_asked_at > GUEST_RETRY:
                self._ask_guests(len(self.guest_fetch[1]))
            elif self.guest_fetch is None and now - self.guest_checked_at > GUEST_CHECK:
                self._ask_guests(0)
        if now - self.last_send >= self.hb:
            hb = Heartbeat(outbox=self.outbox.depth())
            self._send(codec.encode(hb, self.c.station, self.outbox.epoch, 0, self._now_ms()))
        if self.inflight and self.heard_at and now - self.heard_at < self.hb * LIVENESS:
            if now - min(self.inflight.values()) > RESEND_AFTER and now - self.last_rewind > RESEND_AFTER:
                # The link is alive yet these went unanswered: lost with a dead connection.
                self._rewind(self.outbox.first_unacked() or self.cursor, force=True)

    def _rewind(self, target: int, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self.last_rewind < REWIND_QUIET:
            return False
        self.last_rewind = now
        self.cursor = target
        for seq in [s for s in self.inflight if s >= target]:
            del self.inflight[seq]
        return True

    def _pump(self) -> None:
        """Put unacked reports on the wire in seq order, up to `window` unanswered at once."""
        if self.dealer is None or not self.welcomed or self.paused_until:
            return
        sent: list[int] = []
        while (room := int(self.cwnd) - len(self.inflight)) > 0:
            rows: list[Report] = []
            if self.replay_until and self.cursor < self.replay_until:
                rows = self.outbox.between(self.cursor, min(self.replay_until - 1, self.cursor + room - 1))
            else:
                self.replay_until = 0
                rows = self.outbox.unacked(after=self.cursor - 1, limit=room)
            if not rows:
                break
            now, put = time.monotonic(), 0
            for report in rows:
                # sent_ms carries the moment the report was saved: the station's time of the
                # fact, the same in every resend, however long the report waited.
                header = {"type": report.type, "station": self.c.station, "epoch": self.outbox.epoch,
                          "seq": report.seq, "sent_ms": report.created_ms}
                if not self._send([codec.SIGNATURE, codec.pack(header), codec.pack(report.body)]):
                    break
                self.inflight[report.seq] = now
                self.cursor = report.seq + 1
                self.sent_frames += 1
                put += 1
                if report.state == SAVED:
                    sent.append(report.seq)
            if put < len(rows):
                break
        self.c._reports_changed(self.outbox.mark_sent_many(sent))

    # --- inbound --------------------------------------------------------------------------------
    def _heard(self) -> None:
        self.heard_at = time.monotonic()
        self.ever_heard = True
        self.backoff = BACKOFF_FIRST
        self.key_fails = 0

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
        if acks:
            self.c._reports_changed(self.outbox.mark_delivered_many(acks))

    def _welcome(self, welcome: Welcome) -> None:
        if welcome.station and welcome.station != self.c.station:
            # Our key is bound to another station: sending would only earn E_IDENTITY rejections.
            self.c._set_status(last_error=f"this terminal's key belongs to {welcome.station!r}, "
                                          f"not {self.c.station!r}; reports are held")
            return
        fresh, self.welcomed = not self.welcomed, True
        self.c._set_status(last_error="")
        self.c._welcomed(welcome)
        self._subscribe()
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
            elif event in _KEY_FAIL:
                self.key_fails += 1
            elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.c._set_status(key_refused=True, last_error="the console does not admit this terminal's key")

    def _read_sub(self) -> None:
        for _ in range(DRAIN):
            try:
                frames = self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            # SUBSCRIBE matches prefixes: "station.gate-1" would also let "station.gate-10" in.
            topic = bytes(frames[0]).decode("utf-8", "replace") if frames else ""
            if topic not in self.topics:
                continue
            try:
                message = codec.decode(frames[1:]).message
                if isinstance(message, Committed):
                    self.c._instruction(message)
            except ProtocolError as exc:
                self._bad(exc, topic)

    def _publish(self) -> None:
        reachable = self.heard_at is not None and time.monotonic() - self.heard_at <= LIVENESS * self.hb
        # The monitor tells a wrong console key apart from a console that is down (failed
        # handshakes vs refused connections). Without it, only silence is left: several
        # attempts and not one byte ever heard, though the port took the connection.
        mismatch = self.key_fails >= MISMATCH_AFTER or (
            self.monitor is None and not self.ever_heard and self.attempts > 3)
        state = "online" if reachable else ("unreachable" if self.failed_once or mismatch else "connecting")
        connected = self.session_up if self.monitor is not None else reachable
        changes = {"state": state, "connected": connected, "console_reachable": reachable,
                   "key_mismatch_suspected": mismatch, "waiting": self.outbox.depth(),
                   "feed_connected": self.feed_up, "attempts": self.attempts,
                   "bad_frames": self.bad_frames, "sent_frames": self.sent_frames}
        if mismatch:
            changes["last_error"] = "console key mismatch: keys/console.key is not this console's key"
        if self.heard_at is not None:
            changes["last_heard_ms"] = self._now_ms() - int((time.monotonic() - self.heard_at) * 1000)
        self.c._set_status(**changes)
