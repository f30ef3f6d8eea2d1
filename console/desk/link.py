"""The desk's link to the hub: snapshot + feed (Clone pattern) into a private State, actions through a reliable outbox; never imports Textual.

One thread owns the SUB (`feed`, `presence`) and a DEALER used only for hello, heartbeats and
`snapshot_request`: it decodes what arrives and feeds it to the Clone follower
(`console.core.follower`, which orders and checks the feed: gaps, snapshots, presence, the hub's
liveness), does what the follower says (ask for a snapshot page, rebuild the DEALER) and hands
what is new to the screen, which folds it into its own State with `console.core.state.apply` when it
draws (`picture()`), so the desk's picture is the hub's. No copy of the state is ever made (a
copy per frame cost 1 ms for a small event and 24 ms with a guest list of thousands); the link
tells the screen at most every `PUBLISH_S` that there is something new. Operator actions go through `stations.link.client.StationClient` (role "desk", the
desk's own outbox file), so they are saved before they are sent and logged by the hub like reports.

Two hubs (PROTOCOL.md 5.13): given the other hub's pair (`others`), the follower says when to move,
and the link closes both sockets and connects them to the other hub; the action client moves by its
own liveness and resends from the welcome's `last_seq`, as a station does.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from console.core import state as fold
from console.core.follower import Follower, Pair
from protocols import codec, curve
from protocols.bounds import topic_name
from protocols.codec import ProtocolError
from protocols.messages import (
    Committed,
    Heartbeat,
    Hello,
    Nack,
    Presence,
    Snapshot,
    Welcome,
)
from protocols.session import Session
from stations.link.client import StationClient, Status
from stations.link.worker import OutboxWorker
from stations.outbox.store import Report

log = logging.getLogger("eventdesk.desk")

PUBLISH_S = 0.1           # a picture at most every 100 ms: commit-to-screen stays under 250 ms; told at each publish (on_publish)
QUEUE_MAX = 50_000        # events handed over and not yet drawn (25 s at 2,000/s): past it, the screen
                          # is stuck or gone, and a new snapshot is cheaper than the queue


@dataclass(frozen=True)
class Picture:
    """What the screen needs from the link: a private copy of the state and how fresh it is."""

    state: fold.State | None    # the consumer's own picture, folded in place by each picture() call
    version: int = 0            # grows whenever `state` changed
    drill: bool = False
    hub_ok: bool = False        # heard from the hub within three of its heartbeat intervals
    hub_heard_ms: int = 0       # hub time of the last frame heard (0: never)
    snapshots: int = 0
    gaps: int = 0
    actions_waiting: int = 0    # desk actions saved but not yet acknowledged by the hub
    action_error: str = ""      # the desk client's last link error, if any
    pair: Pair | None = None    # the two hubs as the active one last said (5.13); None: one hub, or an older one


class DeskLink:
    """Follows one hub for one desk. Thread-safe API; all feed work happens on its own thread."""

    def __init__(self, desk_id: str, endpoint: str, feed: str, secret_key: Path | str, server_key: Path | str,
                 outbox_path: Path | str, *, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_action: Callable[[Report], None] | None = None,
                 others: tuple[tuple[str, str], ...] = ()) -> None:
        self.desk_id, self.endpoint, self.feed = desk_id, endpoint, feed
        self._keys = curve.ClientKeys.load(secret_key, server_key)
        self.clock = clock            # wall clock: the hub's time and the messages' stamps
        self._session = Session(desk_id, "desk", "desk", clock)   # the desk's own frames (hello, heartbeat, snapshot requests)
        self.monotonic = monotonic    # liveness, timers and the publishing pace
        self.on_action = on_action
        # Called on the link's thread after each publish (the desk posts itself a message): must not block.
        self.on_publish: Callable[[], None] | None = None
        self.client = StationClient(desk_id, outbox_path, secret_key, server_key, endpoint, None, role="desk",
                                    post="desk", on_change=self._client_changed, clock=clock, app="eventdesk-desk",
                                    others=tuple((other, None) for other, _ in others))
        # What the link thread hands over, under _lock: a new base state (a snapshot), the events
        # in order after it, and the latest presence per station.
        self._lock = threading.Lock()
        self._base: fold.State | None = None
        self._events: list[Committed] = []
        self._touches: dict[str, tuple[int, int]] = {}
        # The consumer's side (picture()): its State and how many times it changed.
        self._fold_lock = threading.Lock()
        self._state: fold.State | None = None
        self._version = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._saver: OutboxWorker | None = None   # saves actions for a UI loop (`later`), made on first use
        # Everything below belongs to the link thread (picture() only reads the follower's counters).
        self.follower = Follower(load_snapshot, hubs=((endpoint, feed), *others))
        self._ctx: zmq.Context | None = None
        self._sub: zmq.Socket | None = None
        self._dealer: zmq.Socket | None = None
        self._dirty = False
        self._published_at = 0.0
        self._offset_ms = 0           # hub clock minus our clock, from the last presence or welcome

    # --- public API -----------------------------------------------------------------------------
    def start(self) -> DeskLink:
        if self._thread is None:
            self.client.start()
            self._thread = threading.Thread(target=self._run, name=f"desk-{self.desk_id}", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
        if self._saver is not None:
            self._saver.close()   # an action handed over is saved before the outbox closes
        self.client.close()

    def later(self, do: Callable[[DeskLink], Any], done: Callable[[Any], None]) -> None:
        """Run `do(self)` (an operator action) on the saver thread, with its own outbox connection.

        For an event loop: the save's fsync happens there. `done` gets the Report or the exception,
        on the saver's thread. Actions run one at a time in the order given.
        """
        with self._lock:
            if self._saver is None:
                self._saver = self.client.worker(f"desk-{self.desk_id}-saves")
        self._saver.do(lambda _outbox: do(self), done)

    def picture(self) -> Picture:
        """The picture as of now: what the link handed over since the last call is folded in first.

        The State returned is the caller's and is folded in place by the next call: a screen reads
        it between two calls (one consumer; a second thread calling is safe but shares it).
        """
        with self._fold_lock:
            with self._lock:
                base, events, touches = self._base, self._events, self._touches
                self._base, self._events, self._touches = None, [], {}
            if base is not None:
                self._state = base
            state = self._state
            if state is not None and (base is not None or events or touches):
                for c in events:
                    fold.apply(state, c)   # skips what the state already has
                for sid, (heard_ms, outbox) in touches.items():
                    fold.touch(state, sid, heard_ms, outbox)
                self._version += 1
            version = self._version
        st = self.client.link_status()   # as the link thread last counted it: no SQLite for the caller's loop
        f, now = self.follower, self.monotonic()
        heard_at = f.heard_at
        heard_ms = self.hub_now_ms() - int((now - heard_at) * 1000) if heard_at is not None else 0
        return Picture(state, version, f.drill or st.drill, f.hub_ok(now), heard_ms,
                       f.snapshots, f.gaps, st.waiting, st.last_error, f.pair)

    def hub_now_ms(self) -> int:
        """Our clock corrected to the hub's, so a station's silence is measured on the clock that heard it."""
        return int(self.clock() * 1000) + self._offset_ms

    def wait_ready(self, timeout: float) -> bool:
        """True once a snapshot has been applied (for tests; the screen never waits, it shows "connecting")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.picture().state is not None:
                return True
            time.sleep(0.02)
        return False

    def client_status(self) -> Status:
        return self.client.status()

    # Operator actions: each is saved in the desk's outbox first, then sent in order until acked.
    def update_incident(self, incident: int, status: str = "", assign: str = "", note: str = "") -> Report:
        return self.client.submit("incident_update", {"incident": incident, "status": status,
                                                      "assign": assign, "note": note})

    def open_incident(self, kind: str, severity: int, location: str = "", note: str = "",
                      source: str = "desk") -> Report:
        return self.client.submit("incident_open", {"kind": kind, "severity": severity, "location": location,
                                                    "note": note, "source": source})

    def instruct(self, target: str, text: str, ack_required: bool = False, gate: str = "") -> Report:
        body = {"target": target, "text": text, "ack_required": ack_required}
        return self.client.submit("instruction", body | ({"gate": gate} if gate else {}))

    def note(self, text: str, department: str = "") -> Report:
        return self.client.submit("note", {"text": text, "department": department})

    def signoff_task(self, task: str, note: str = "") -> Report:
        return self.client.submit("task_signoff", {"task": task, "note": note})

    # Contingency plans: the hub decides what follows (plan_started, instructions, the all-clear).
    def start_plan(self, plan: str, note: str = "") -> Report:
        return self.client.submit("plan_start", {"plan": plan, "note": note})

    def settle_step(self, run: int, step: str, status: str = "done", reason: str = "") -> Report:
        """Confirm a step done, or skip it (a skip needs a reason)."""
        return self.client.submit("plan_step", {"run": run, "step": step, "status": status, "reason": reason})

    def stand_down(self, run: int, note: str = "") -> Report:
        """Stand a running plan down, or dismiss a proposal (`run` is then the proposal's gseq)."""
        return self.client.submit("plan_stand_down", {"run": run, "note": note})

    def sendoff(self, guest_ref: str = "", count: int = 0, note: str = "", vip: bool = False) -> Report:
        """客人即将离开: start the send-off of a listed guest, or of a walk-in party by count and note."""
        return self.client.submit("sendoff_notice", {"guest_ref": guest_ref, "count": count, "note": note, "vip": vip})

    # Service calls (console/core/services.py): take one, mark it done, or cancel it with a reason.
    def update_service(self, call: int, status: str, by: str = "", note: str = "") -> Report:
        return self.client.submit("service_update", {"call": call, "status": status, "by": by, "note": note})

    # VIPs end to end (issue 16 item 4): the desk moves a listed guest's expected arrival (logged; "late" follows).
    def expect_arrival(self, guest_ref: str, arrive_ms: int, note: str = "") -> Report:
        return self.client.submit("guest_expect", {"guest_ref": guest_ref, "arrive_ms": arrive_ms, "note": note})

    def add_party(self, name: str, party: int = 1, level: str = "A", at: str = "gate", org: str = "", host: str = "",
                  plate: str = "") -> Report:
        """A delegation not on the list, added on the spot; `at` the post it is at now ("": not here yet)."""
        return self.client.submit("guest_add", {"name": name, "org": org, "level": level, "party": party,
                                                "host": host, "plate": plate, "at": at})

    # Phones (issue 18): revoke a station's pairings; the hub passes it to the station server, which refuses them.
    def revoke_phones(self, station: str, generation: int, reason: str = "") -> Report:
        return self.client.submit("phone_revoke", {"station": station, "generation": generation, "reason": reason})

    # Preparation from the desk (issue 16 item 6): tasks and roster slots added and moved, the plan's stages.
    def prep(self, kind: str, body: dict[str, Any]) -> Report:
        """task_add, task_change, roster_add, roster_change or prep_stage (protocols/messages_prep.py)."""
        return self.client.submit(kind, body)

    # --- the thread -----------------------------------------------------------------------------
    def _client_changed(self, kind: str, payload: Any) -> None:
        if kind == "report" and self.on_action is not None and payload.final:
            self.on_action(payload)

    def _connect(self) -> None:
        """SUB and DEALER (with its hello) to the hub the follower names. The SUB first (Clone): nothing
        committed after the snapshot can then slip past; a gap, if any, is seen and repaired."""
        assert self._ctx is not None
        endpoint, feed = self.follower.hub or (self.endpoint, self.feed)
        self._sub = curve.client_socket(self._ctx, zmq.SUB, self._keys, subscribe=("feed", "presence"), connect=feed)
        self._dealer = self._new_dealer(endpoint)

    def _new_dealer(self, endpoint: str) -> zmq.Socket:
        dealer = curve.client_socket(self._ctx, zmq.DEALER, self._keys, connect=endpoint)
        self._send(dealer, Hello(role="desk", app="eventdesk-desk"))
        return dealer

    def _close(self) -> None:
        for sock in (self._sub, self._dealer):
            if sock is not None:
                sock.close(linger=0)
        self._sub = self._dealer = None

    def _send(self, dealer: zmq.Socket, message: Any) -> None:
        try:
            dealer.send_multipart(self._session.frames(message), zmq.NOBLOCK)
        except zmq.Again:
            pass  # the hub is not there yet: the retry timer asks again

    def _run(self) -> None:
        self._ctx = zmq.Context()
        self._connect()
        self.follower.start(self.monotonic())
        try:
            while not self._stopping.is_set():
                self._do()
                sub, dealer = self._sub, self._dealer
                poller = zmq.Poller()
                poller.register(sub, zmq.POLLIN)
                poller.register(dealer, zmq.POLLIN)
                ready = dict(poller.poll(100))
                if sub in ready:
                    self._read_sub(sub)
                if dealer in ready:
                    self._read_dealer(dealer)
                self.follower.tick(self.monotonic())
                self._do()
                self._publish()
        except Exception:  # never expected; the screen shows the hub as unreachable
            log.exception("desk link stopped")
        finally:
            self._close()
            self._ctx.term()

    def _do(self) -> None:
        """Carry out the follower's orders on the sockets."""
        orders = self.follower.take()
        for problem in orders.problems:
            log.warning("%s", problem)
        if orders.move is not None:
            # The other hub (5.13): both sockets anew, so nothing queued for the old one lingers.
            self._close()
            self._connect()
        elif orders.rebuild:
            assert self._dealer is not None
            self._dealer.close(linger=0)
            self._dealer = self._new_dealer((self.follower.hub or (self.endpoint, self.feed))[0])
        dealer = self._dealer
        assert dealer is not None
        for request in orders.requests:
            self._send(dealer, request)
        if orders.heartbeat:
            self._send(dealer, Heartbeat(outbox=0))
        self._dirty = self._dirty or orders.changed
        if orders.based or orders.events or orders.touches:
            with self._lock:
                if orders.based:
                    # The new base replaces everything handed over before it: those events are in it.
                    self._base, self._events = orders.base, []
                self._events.extend(orders.events)
                self._touches.update(orders.touches)
                over = len(self._events) > QUEUE_MAX
                if over:
                    self._events = []   # the next snapshot replaces all of them
            if over:
                self.follower.overflowed(self.monotonic())
                self._do()   # the request the overflow made, at once

    def _read_sub(self, sub: zmq.Socket) -> None:
        """Drain the SUB into the follower (its orders are carried out after, in one go, not one lock per event)."""
        for _ in range(5000):
            try:
                frames = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            now = self.monotonic()
            self.follower.heard(now, sub=True)
            if topic_name(frames[0]) not in ("feed", "presence"):
                continue
            try:
                message = codec.decode(frames[1:]).message
            except ProtocolError as exc:
                log.warning("bad frame on the feed: %s", exc)
                continue
            if isinstance(message, Committed):
                self.follower.event(message, now)
            elif isinstance(message, Presence):
                self._offset_ms = message.server_ms - int(self.clock() * 1000)
                self.follower.presence(message, now)

    def _read_dealer(self, dealer: zmq.Socket) -> None:
        for _ in range(100):
            try:
                frames = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            now = self.monotonic()
            self.follower.heard(now)
            try:
                message = codec.decode(frames).message
            except ProtocolError as exc:
                log.warning("bad frame from the hub: %s", exc)
                continue
            if isinstance(message, Snapshot):
                self.follower.page(message, now)
            elif isinstance(message, Welcome):
                self._offset_ms = message.server_ms - int(self.clock() * 1000)
                self.follower.welcome(message, now)
            elif isinstance(message, Nack) and message.code == "E_PASSIVE":
                self.follower.passive(now)
                break   # the rest came from the hub we are leaving

    def _publish(self) -> None:
        """Tell the screen there is something new, at most every PUBLISH_S (it folds it when it draws)."""
        now = self.monotonic()
        if not self._dirty or now - self._published_at < PUBLISH_S or not self.follower.ready:
            return
        self._dirty = False
        self._published_at = now
        if self.on_publish is not None:
            self.on_publish()


def load_snapshot(data: bytes) -> fold.State:
    """A snapshot's joined pages as the State they describe; ValueError if they are not one."""
    try:
        return fold.from_wire(codec.unpack(data, "state"))
    except ProtocolError as exc:
        raise ValueError(str(exc)) from exc
