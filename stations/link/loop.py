"""The socket loop behind StationClient: DEALER + SUB + monitor, heartbeats, windowed in-order resend, back-off, the goodbye; knows protocols and the outbox, never the screen

Runs on the client's thread only; no other thread touches these sockets. The link sees its
client only through `stations/link/host.py` (settings, events, a wake-up pipe); the window is a
`Flow` (stations/link/flow.py) and what the console says is handled by `Inbound`
(stations/link/inbound.py). Every timer (heartbeat, liveness, resend, hello, back-off) reads the
injected monotonic clock `settings.monotonic`, so tests step it instead of waiting.
"""
from __future__ import annotations

import logging
import random
import threading
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

from protocols import bounds, curve
from protocols.messages import Bye, Heartbeat, Hello, Message, Welcome
from protocols.session import Session
from stations.link.flow import Flow
from stations.link.host import LinkEvents, LinkSettings, Wake
from stations.link.inbound import Inbound
from stations.outbox.store import SAVED, Outbox, Report

log = logging.getLogger("eventdesk.station")

LIVENESS = 3             # heartbeat intervals of silence before the console counts as unreachable
BACKOFF_FIRST, BACKOFF_CAP = 0.25, 4.0
RESEND_AFTER = bounds.ACK_TIMEOUT_MS / 1000   # seconds an in-flight report may go unanswered on a live link
MISMATCH_AFTER = 2       # failed CURVE handshakes before we say "console key mismatch"
DRAIN = 1000             # frames read per wake-up, so one busy socket cannot starve the others
KEY_FAIL = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
BYE_LINGER_MS = 400      # the longest a clean stop waits for its bye to leave (PROTOCOL.md 5.2)
_MONITORED = zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH | sum(KEY_FAIL)


class Link:
    """Sockets, session and liveness of one StationClient; lives and dies on the client's thread."""

    def __init__(self, settings: LinkSettings, outbox: Outbox, events: LinkEvents, wake: Wake,
                 stopping: threading.Event) -> None:
        self.settings, self.outbox, self.events, self.wake, self.stopping = settings, outbox, events, wake, stopping
        self.mono = settings.monotonic
        self.session = Session(settings.station, outbox.epoch, settings.role, settings.clock)
        self.hb = settings.heartbeat_ms / 1000
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
        self.hub_at = 0              # which of settings.hubs() the sockets go to (two hubs, PROTOCOL.md 5.13)
        self.moved_unwelcomed = False   # two hubs: moved on E_PASSIVE and not welcomed since (the next move backs off)
        self.learned_hubs: tuple[tuple[str, str | None], ...] = ()   # two hubs: the welcome's `hubs`, when usable
        self.sent_frames = 0
        self.flow = Flow(settings.window)
        self.inbound = Inbound(settings.station, outbox, events, self.flow, self.send, self.mono)
        self._fresh_socket()

    def _fresh_socket(self) -> None:
        self.opened_at = self.last_send = self.hello_at = self.mono()
        self.heard_at: float | None = None
        self.session_up = False
        self.session_dropped = False
        self.welcomed = False
        self.flow.reset()

    # --- sockets --------------------------------------------------------------------------------
    def _socket(self, kind: int) -> zmq.Socket:
        # libzmq's own reconnect follows the same back-off as ours while a socket lives.
        return curve.client_socket(self.ctx, kind, self.settings.curve, reconnect_ivl=int(BACKOFF_FIRST * 1000),
                                   reconnect_ivl_max=int(BACKOFF_CAP * 1000))

    def open(self) -> None:
        self.attempts += 1
        self._fresh_socket()
        self.dealer = self._socket(zmq.DEALER)
        try:
            self.monitor = self.dealer.get_monitor_socket(_MONITORED)
        except zmq.ZMQError:  # without it we fall back to guessing from silence (see _publish)
            self.monitor = None
        endpoint, feed = self._hubs()[self.hub_at]
        self.dealer.connect(endpoint)
        self.poller = zmq.Poller()
        self.poller.register(self.wake.fileno(), zmq.POLLIN)
        self.poller.register(self.dealer, zmq.POLLIN)
        if self.monitor is not None:
            self.poller.register(self.monitor, zmq.POLLIN)
        if feed:
            self.sub = self._socket(zmq.SUB)
            self.topics = set()
            self._subscribe()
            try:
                self.sub_monitor = self.sub.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
                self.poller.register(self.sub_monitor, zmq.POLLIN)
            except zmq.ZMQError:
                self.sub_monitor = None
            self.sub.connect(feed)
            self.poller.register(self.sub, zmq.POLLIN)
        self._hello()

    def _subscribe(self) -> None:
        post = self.events.post
        wanted = {"all", f"station.{self.settings.station}"} | ({f"post.{post}"} if post else set())
        if self.sub is not None:
            for topic in wanted - self.topics:
                self.sub.setsockopt(zmq.SUBSCRIBE, bounds.topic_frame(topic))
        self.topics = wanted

    def _drop_sockets(self) -> None:
        # Each monitor is stopped before its PAIR end closes: libzmq writes monitor events from the context's I/O
        # thread, and one written once our PAIR end is gone (a handshake finishing just as an E_PASSIVE move drops
        # everything) blocked that thread for good, and with it every socket this link opened after: the
        # station never reached either hub again (tests/test_link_passive_move.py).
        for sock, monitor in ((self.dealer, self.monitor), (self.sub, self.sub_monitor)):
            if sock is not None:
                if monitor is not None:
                    sock.disable_monitor()
                sock.close(linger=0)
            if monitor is not None:
                monitor.close(linger=0)
        self.dealer = self.monitor = self.sub = self.sub_monitor = None
        self.feed_up = False
        self.poller = zmq.Poller()
        self.poller.register(self.wake.fileno(), zmq.POLLIN)

    def close(self) -> None:
        self._drop_sockets()
        self.ctx.destroy(linger=0)

    def bye(self, reason: str) -> None:
        """A clean stop tells a hub that welcomed us, so it shows the station closed, not offline (5.2).
        Best effort: the frame may wait BYE_LINGER_MS to leave (in `close`), never longer; an unwelcomed
        link says nothing (no hub to tell). The outbox keeps whatever is waiting."""
        if self.dealer is None or not self.welcomed or not self.send(Bye(reason=reason)):
            return
        dealer, self.dealer = self.dealer, None
        dealer.close(linger=BYE_LINGER_MS)   # the context's end waits for it, the other sockets drop at once

    def _put(self, frames: list[bytes]) -> bool:
        if self.dealer is None:
            return False
        # The moment is read before the frames leave: whoever sees them arrive sees a clock already past it.
        now = self.mono()
        try:
            self.dealer.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:  # the pipe is full: the console is slow or gone; liveness decides which
            return False
        self.last_send = now
        return True

    def send(self, message: Message) -> bool:
        """A control message (seq 0), stamped now."""
        return self._put(self.session.frames(message))

    def _hello(self) -> None:
        self.hello_at = self.mono()
        self.send(Hello(role=self.session.role, app=self.settings.app[:64], outbox=self.outbox.depth()))

    # --- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        self.reconnect_at = self.mono()
        while not self.stopping.is_set():
            try:
                self._step()
            except Exception as exc:
                # Never die on what the console or the disk does to us: say so, breathe, go on.
                log.exception("%s: link step failed", self.settings.station)
                self.events.set_status(last_error=f"{type(exc).__name__}: {exc}")
                time.sleep(0.1)

    def _step(self) -> None:
        if self.dealer is None and self.mono() >= self.reconnect_at:
            try:
                self.open()
            except zmq.ZMQError as exc:  # a malformed endpoint, say: keep the reason, try later
                self._drop_sockets()
                self.events.set_status(last_error=f"cannot connect to {self._hubs()[self.hub_at][0]}: {exc}")
                self.reconnect_at = self.mono() + BACKOFF_CAP
        # A stepped clock may stand still: the wait is real time, at most one heartbeat, and a ring wakes it.
        wait = max(0.0, min(self._next_timer() - self.mono(), self.hb))
        ready = dict(self.poller.poll(int(wait * 1000) + 1))
        if self.wake.fileno() in ready:
            self.wake.drain()
        if self.monitor is not None and self.monitor in ready:
            self._read_monitor()
        if self.dealer is not None and self.dealer in ready:
            self._read_dealer()
            if self.inbound.passive:
                self._move_on_passive()
        if self.sub_monitor is not None and self.sub_monitor in ready:
            for event in _events(self.sub_monitor):
                self.feed_up = event == zmq.EVENT_HANDSHAKE_SUCCEEDED
                if self.feed_up and self.welcomed:
                    # Instructions published before our subscription took hold are lost to
                    # us; a fresh welcome lists the open ones again.
                    self._hello()
        if self.sub is not None and self.sub in ready:
            for frames in _drain(self.sub):
                self.inbound.published(frames, self.topics)
        self._timers()
        self._pump()
        self._publish()

    # --- two hubs (PROTOCOL.md 5.13, issue 19): E_PASSIVE moves the link to the other hub at once ---------
    def _move_on_passive(self) -> None:
        """The hub stands by: drop the sockets and connect to the other one now; a second move with no welcome
        between waits the back-off, so two hubs that both refuse (a primary's first moments) are not hammered."""
        self.inbound.passive = False
        self._drop_sockets()
        self.hub_at = (self.hub_at + 1) % len(self._hubs())
        now = self.mono()
        self.reconnect_at = now + (self.backoff * random.uniform(1.0, 1.1) if self.moved_unwelcomed else 0.0)
        if self.moved_unwelcomed:
            self.backoff = min(self.backoff * 2, BACKOFF_CAP)
        self.moved_unwelcomed = True

    def _hubs(self) -> tuple[tuple[str, str | None], ...]:
        return self.learned_hubs or self.settings.hubs()

    def _learn_hubs(self, welcome: Welcome) -> None:
        """The welcome's `hubs` replace what the link knew (5.13), but only when the hub it reached is among them
        by the address it used: one reached through another address (a relay) keeps the link's own list."""
        current = self._hubs()[self.hub_at][0]
        feeds = self.settings.feed_endpoint is not None
        learned = tuple((str(h.get("endpoint", "")), str(h.get("feed", "")) if feeds else None)
                        for h in welcome.hubs if isinstance(h, dict))
        if any(e == current for e, _ in learned) and all(e and (f or not feeds) for e, f in learned):
            self.learned_hubs = learned
            self.hub_at = [e for e, _ in learned].index(current)

    def _next_timer(self) -> float:
        if self.dealer is None:
            return self.reconnect_at
        soonest = min(self.last_send + self.hb, (self.heard_at or self.opened_at) + LIVENESS * self.hb)
        paused = self.flow.paused_until
        return min(soonest, paused) if paused else soonest

    def _timers(self) -> None:
        now = self.mono()
        if self.dealer is None:
            return
        if now - (self.heard_at or self.opened_at) > LIVENESS * self.hb:
            # Console unreachable: throw the socket away (queued frames and all) and retry later.
            self._drop_sockets()
            self.failed_once = True
            self.hub_at = (self.hub_at + 1) % len(self._hubs())   # two hubs: try the other (5.13)
            self.reconnect_at = now + self.backoff * random.uniform(1.0, 1.1)
            self.backoff = min(self.backoff * 2, BACKOFF_CAP)
            return
        self.flow.paused(now)
        if not self.welcomed and self.heard_at and (self.session_up or self.monitor is None) \
                and now - self.hello_at > LIVENESS * self.hb:
            # The console answers but never welcomed us: the hello went astray. Never while the
            # connection is down: that hello would wait in the pipe and reach the console after the
            # reconnect's own, and a second welcome would send every unanswered report again.
            self._hello()
        if self.welcomed:
            self.inbound.guest_timers()
        if now - self.last_send >= self.hb:
            self.send(Heartbeat(outbox=self.outbox.depth()))
        if self.heard_at and now - self.heard_at < self.hb * LIVENESS and self.flow.overdue(now, RESEND_AFTER):
            # The link is alive yet these went unanswered: lost with a dead connection.
            self.flow.rewind(self.outbox.first_unacked() or self.flow.cursor, now, force=True)

    def _pump(self) -> None:
        """Put unacked reports on the wire in seq order, up to the window unanswered at once."""
        flow = self.flow
        if self.dealer is None or not self.welcomed or flow.paused_until:
            return
        sent: list[int] = []
        while (room := flow.room()) > 0:
            rows: list[Report] = []
            if flow.replay_until and flow.cursor < flow.replay_until:
                rows = self.outbox.between(flow.cursor, min(flow.replay_until - 1, flow.cursor + room - 1))
            else:
                flow.replay_until = 0
                rows = self.outbox.unacked(after=flow.cursor - 1, limit=room)
            if not rows:
                break
            now, put = self.mono(), 0
            for report in rows:
                # sent_ms carries the moment the report was saved: the station's time of the
                # fact, the same in every resend, however long the report waited.
                if not self._put(self.session.body_frames(report.type, report.body, report.seq, report.created_ms)):
                    break
                flow.put(report.seq, now)
                self.sent_frames += 1
                put += 1
                if report.state == SAVED:
                    sent.append(report.seq)
            if put < len(rows):
                break
        self.events.reports_changed(self.outbox.mark_sent_many(sent))

    # --- what arrives ----------------------------------------------------------------------------
    def _heard(self) -> None:
        self.heard_at = self.mono()
        self.ever_heard = True
        self.key_fails = 0

    def _read_dealer(self) -> None:
        batch = _drain(self.dealer)
        if batch:
            self._heard()
        for welcome in self.inbound.replies(batch):
            self._welcome(welcome)

    def _welcome(self, welcome: Welcome) -> None:
        if welcome.station and welcome.station != self.settings.station:
            # Our key is bound to another station: sending would only earn E_IDENTITY rejections.
            self.events.set_status(last_error=f"this terminal's key belongs to {welcome.station!r}, "
                                              f"not {self.settings.station!r}; reports are held")
            return
        fresh, self.welcomed = not self.welcomed, True
        self.moved_unwelcomed = False
        self._learn_hubs(welcome)
        self.backoff = BACKOFF_FIRST   # PROTOCOL.md 5.2: the waits start again at a welcome (not at any frame)
        if welcome.heartbeat_ms > 0:   # PROTOCOL.md 5.2: the hub's interval from now on; liveness counts in it
            self.hb = welcome.heartbeat_ms / 1000
        self.events.set_status(last_error="")
        self.inbound.welcomed(welcome)
        self._subscribe()
        if not fresh:
            return  # a second welcome on a live session only refreshes the instructions
        first = self.outbox.first_unacked() or self.outbox.next_seq
        if self.flow.replay_from(welcome.last_seq, first, self.mono()):
            # The console has lost reports we hold as handled (a restored log): send them again.
            log.warning("%s: console knows up to %d only; replaying from there", self.settings.station, welcome.last_seq)

    def _read_monitor(self) -> None:
        for event in _events(self.monitor):
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.key_fails = 0
                self.events.set_status(key_refused=False)
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
                self.events.set_status(key_refused=True, last_error="the console does not admit this terminal's key")

    # --- liveness, as the terminal shows it ------------------------------------------------------
    def _publish(self) -> None:
        now = self.mono()
        reachable = self.heard_at is not None and now - self.heard_at <= LIVENESS * self.hb
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
                   "bad_frames": self.inbound.bad_frames, "sent_frames": self.sent_frames}
        if mismatch:
            changes["last_error"] = "console key mismatch: keys/console.key is not this console's key"
        if self.heard_at is not None:
            changes["last_heard_ms"] = self.session.now_ms() - int((now - self.heard_at) * 1000)
        self.events.set_status(**changes)


def _drain(sock: zmq.Socket) -> list[list[bytes]]:
    """What is waiting on `sock`, up to DRAIN messages, without blocking."""
    batch: list[list[bytes]] = []
    while len(batch) < DRAIN:
        try:
            batch.append(sock.recv_multipart(zmq.NOBLOCK))
        except zmq.Again:
            break
    return batch


def _events(monitor: zmq.Socket) -> list[int]:
    found: list[int] = []
    while len(found) < DRAIN and monitor.poll(0):
        found.append(recv_monitor_message(monitor)["event"])
    return found
