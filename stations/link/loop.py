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
from typing import Any

import zmq

from protocols import bounds, codec
from protocols.messages import Heartbeat, Hello
from stations.link.inbound import KEY_FAIL, Inbound
from stations.outbox.store import SAVED, Report

log = logging.getLogger("eventdesk.station")

LIVENESS = 3             # heartbeat intervals of silence before the console counts as unreachable
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 4.0
RESEND_AFTER = bounds.ACK_TIMEOUT_MS / 1000   # seconds an in-flight report may go unanswered on a live link
REWIND_QUIET = 0.2       # one E_GAP rewind per this many seconds: the rest are echoes of the first
MISMATCH_AFTER = 2       # failed CURVE handshakes before we say "console key mismatch"
GUEST_CHECK = 60.0       # seconds between asking whether the guest list changed (a welcome asks at once)
GUEST_RETRY = 5.0        # a page not answered within this is asked for again
_MONITORED = zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH | sum(KEY_FAIL)


class Link(Inbound):
    """Sockets and flow state of one StationClient; lives and dies on the client's thread.

    What arrives on the sockets is handled by the Inbound half (stations/link/inbound.py).
    """

    def __init__(self, client: Any) -> None:
        # `client` is the StationClient that owns this loop, typed loosely on purpose: the client
        # imports the loop, and the loop must not import its owner back (no import cycle).
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
                self.sub.setsockopt(zmq.SUBSCRIBE, bounds.topic_frame(topic))
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

    # --- liveness -------------------------------------------------------------------------------
    def _heard(self) -> None:
        self.heard_at = time.monotonic()
        self.ever_heard = True
        self.backoff = BACKOFF_FIRST
        self.key_fails = 0

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
