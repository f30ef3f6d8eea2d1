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
from protocols.messages import Ack, Committed, Heartbeat, Hello, Nack, Welcome
from stations.outbox import SAVED, Report

if TYPE_CHECKING:
    from stations.client import StationClient

log = logging.getLogger("eventdesk.station")

LIVENESS = 3             # heartbeat intervals of silence before the console counts as unreachable
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 4.0
RESEND_AFTER = 5.0       # seconds an in-flight report may go unanswered on a live link
REWIND_QUIET = 0.2       # one E_GAP rewind per this many seconds: the rest are echoes of the first
RETRY_PAUSE = 1.0        # after E_RATE / E_STORAGE, before sending again
MISMATCH_AFTER = 2       # failed CURVE handshakes before we say "console key mismatch"
DRAIN = 1000             # frames read per wake-up, so one busy socket cannot starve the others
_KEY_FAIL = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
_MONITORED = (zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED
              | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
              | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


class Link:
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
        self.reconnect_at = 0.0
        self.attempts = 0
        self.ever_heard = False
        self.failed_once = False     # a liveness timeout happened: say "unreachable", not "connecting"
        self.key_fails = 0
        self.bad_frames = 0
        self.sent_frames = 0         # report frames put on the wire, resends included
        self._fresh_socket()

    def _fresh_socket(self) -> None:
        self.opened_at = self.last_send = time.monotonic()
        self.heard_at: float | None = None
        self.session_up = False
        self.session_dropped = False
        self.welcomed = False
        self.cursor = 0
        self.inflight: dict[int, float] = {}
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
        for sock in (self.dealer, self.sub):
            if sock is not None:
                try:
                    sock.disable_monitor()
                except zmq.ZMQError:
                    pass
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
            try:
                while self.c._wake_r.recv(4096):
                    pass
            except (BlockingIOError, OSError):
                pass
        if self.monitor is not None and self.monitor in ready:
            self._read_monitor()
        if self.dealer is not None and self.dealer in ready:
            self._read_dealer()
        if self.sub_monitor is not None and self.sub_monitor in ready:
            for event in self._events(self.sub_monitor):
                self.feed_up = event == zmq.EVENT_HANDSHAKE_SUCCEEDED
        if self.sub is not None and self.sub in ready:
            self._read_sub()
        self._timers()
        self._pump()
        self._publish()

    def _next_timer(self) -> float:
        if self.dealer is None:
            return self.reconnect_at
        soonest = min(self.last_send + self.hb, (self.heard_at or self.opened_at) + LIVENESS * self.hb)
        if self.paused_until:
            soonest = min(soonest, self.paused_until)
        return soonest

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
        while (room := self.c.window - len(self.inflight)) > 0:
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
                self.bad_frames += 1
                log.warning("%s: bad frame from the console: %s", self.c.station, exc)
                continue
            if isinstance(message, Ack):
                if message.epoch == self.outbox.epoch:
                    acks.append((message.seq, message.gseq))
                    self.inflight.pop(message.seq, None)
            elif isinstance(message, Nack):
                self._nack(message)
            elif isinstance(message, Welcome):
                self._welcome(message)
        if acks:
            self.c._reports_changed(self.outbox.mark_delivered_many(acks))

    def _welcome(self, welcome: Welcome) -> None:
        if welcome.station and welcome.station != self.c.station:
            # Our key is bound to another station: sending would only earn E_IDENTITY rejections.
            self.c._set_status(last_error=f"this terminal's key belongs to {welcome.station!r}, "
                                          f"not {self.c.station!r}; reports are held")
            return
        self.welcomed = True
        self.c._set_status(last_error="")
        self.c._welcomed(welcome)
        self._subscribe()
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
        first = self.outbox.first_unacked()
        if nack.code == "E_GAP":
            expected = nack.expected or nack.seq
            resent = self.inflight.get(expected)
            if resent is not None and resent >= self.last_rewind:
                return  # an echo of a gap we already closed by resending `expected`
            if first is None or expected < first:
                self.replay_until = first or self.outbox.next_seq
            self._rewind(min(expected, first or expected))
        else:
            # E_RATE, E_STORAGE or any later retryable code: wait, then resend in order.
            self.paused_until = time.monotonic() + RETRY_PAUSE
            self._rewind(first or nack.seq, force=True)

    @staticmethod
    def _events(monitor: zmq.Socket) -> list[int]:
        found = []
        for _ in range(DRAIN):
            try:
                found.append(recv_monitor_message(monitor, zmq.NOBLOCK)["event"])
            except zmq.Again:
                break
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
                self.bad_frames += 1
                log.warning("%s: bad frame on %s: %s", self.c.station, topic, exc)

    def _publish(self) -> None:
        reachable = self.heard_at is not None and time.monotonic() - self.heard_at <= LIVENESS * self.hb
        # The monitor tells a wrong console key apart from a console that is down (failed
        # handshakes vs refused connections). Without it, only silence is left: several
        # attempts and not one byte ever heard, though the port took the connection.
        mismatch = self.key_fails >= MISMATCH_AFTER or (
            self.monitor is None and not self.ever_heard and self.attempts > 3)
        state = "online" if reachable else ("unreachable" if self.failed_once or mismatch else "connecting")
        changes = {"state": state, "connected": self.session_up, "console_reachable": reachable,
                   "key_mismatch_suspected": mismatch, "waiting": self.outbox.depth(),
                   "feed_connected": self.feed_up, "attempts": self.attempts,
                   "bad_frames": self.bad_frames, "sent_frames": self.sent_frames}
        if mismatch:
            changes["last_error"] = "console key mismatch: keys/console.key is not this console's key"
        if self.heard_at is not None:
            changes["last_heard_ms"] = self._now_ms() - int((time.monotonic() - self.heard_at) * 1000)
        self.c._set_status(**changes)
