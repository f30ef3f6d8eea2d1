"""The desk's link to the hub: snapshot + feed (Clone pattern) into a private State, actions through a reliable outbox; never imports Textual.

One thread owns the SUB (`feed`, `presence`) and a DEALER used only for hello and
`snapshot_request`: it decodes, orders and checks the feed (gaps, snapshots, presence) and hands
what is new to the screen, which folds it into its own State with `console.core.state.apply` when it
draws (`picture()`), so the desk's picture is the hub's. No copy of the state is ever made (a
copy per frame cost 1 ms for a small event and 24 ms with a guest list of thousands); the link
tells the screen at most every `PUBLISH_S` that there is something new. Operator actions go through `stations.link.client.StationClient` (role "desk", the
desk's own outbox file), so they are saved before they are sent and logged by the hub like reports.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import zmq

from console.core import state as fold
from protocols import codec, keys
from protocols.bounds import topic_frame, topic_name
from protocols.codec import ProtocolError
from protocols.messages import Committed, Heartbeat, Hello, Presence, Snapshot, SnapshotRequest, Welcome
from stations.link.client import StationClient, Status
from stations.link.worker import OutboxWorker
from stations.outbox.store import Report

log = logging.getLogger("eventdesk.desk")

PUBLISH_S = 0.1           # a picture at most every 100 ms: commit-to-screen stays under 250 ms; told at each publish (on_publish)
HUB_SILENT_S = 3.5        # presence comes every second: three missed means the hub is unreachable
SNAPSHOT_RETRY_S = 5.0    # an unanswered snapshot_request: rebuild the DEALER and ask again
BEHIND_S = 1.0            # presence names a gseq the picture lacks for this long: the last event was lost
BUFFER_MAX = 200_000      # feed events held while a snapshot is on its way
QUEUE_MAX = 50_000        # events handed over and not yet drawn (25 s at 2,000/s): past it, the screen
                          # is stuck or gone, and a new snapshot is cheaper than the queue


@dataclass(frozen=True)
class Picture:
    """What the screen needs from the link: a private copy of the state and how fresh it is."""

    state: fold.State | None    # the consumer's own picture, folded in place by each picture() call
    version: int = 0            # grows whenever `state` changed
    drill: bool = False
    hub_ok: bool = False        # heard from the hub within HUB_SILENT_S
    hub_heard_ms: int = 0       # hub time of the last frame heard (0: never)
    snapshots: int = 0
    gaps: int = 0
    actions_waiting: int = 0    # desk actions saved but not yet acknowledged by the hub
    action_error: str = ""      # the desk client's last link error, if any


class DeskLink:
    """Follows one hub for one desk. Thread-safe API; all feed work happens on its own thread."""

    def __init__(self, desk_id: str, endpoint: str, feed: str, secret_key: Path | str, server_key: Path | str,
                 outbox_path: Path | str, *, clock: Callable[[], float] = time.time,
                 on_action: Callable[[Report], None] | None = None) -> None:
        self.desk_id, self.endpoint, self.feed = desk_id, endpoint, feed
        self.public, self.secret = keys.load_pair(Path(secret_key))
        self.server_key = keys.load_public(Path(server_key))
        self.clock = clock
        self.on_action = on_action
        # Called on the link's thread after each publish (the desk posts itself a message): must not block.
        self.on_publish: Callable[[], None] | None = None
        self.client = StationClient(desk_id, outbox_path, secret_key, server_key, endpoint, None, role="desk",
                                    post="desk", on_change=self._client_changed, clock=clock, app="eventdesk-desk")
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
        # Everything below belongs to the link thread.
        self._gseq: int | None = None   # the last event handed over (None: no snapshot yet)
        self._touched: dict[str, tuple[int, int]] = {}
        self._awaiting = False        # a snapshot was asked for and the feed is being buffered
        self._pages: tuple[int, int, dict[int, bytes]] | None = None   # the snapshot being fetched: gseq, pages, data
        self._asked_at = 0.0
        self._asked_before_live = True
        self._sub_live = False        # the SUB has delivered something: our subscription is in place
        self._buffer: list[Committed] = []
        self._dirty = False
        self._published_at = 0.0
        self._heard_at: float | None = None
        self._offset_ms = 0           # hub clock minus our clock, from the last presence or welcome
        self._drill = False
        self._snapshots = 0
        self._gaps = 0
        self._behind_since: float | None = None   # when presence first named a gseq we have not folded

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
        heard_at = self._heard_at
        heard_ms = self.hub_now_ms() - int((time.monotonic() - heard_at) * 1000) if heard_at else 0
        return Picture(state, version, self._drill or st.drill, self._hub_ok(), heard_ms,
                       self._snapshots, self._gaps, st.waiting, st.last_error)

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

    # Service calls (console/core/services.py): take one, mark it done, or cancel it with a reason.
    def update_service(self, call: int, status: str, by: str = "", note: str = "") -> Report:
        return self.client.submit("service_update", {"call": call, "status": status, "by": by, "note": note})

    # --- the thread -----------------------------------------------------------------------------
    def _client_changed(self, kind: str, payload: Any) -> None:
        if kind == "report" and self.on_action is not None and payload.final:
            self.on_action(payload)

    def _hub_ok(self) -> bool:
        heard = self._heard_at
        return heard is not None and time.monotonic() - heard < HUB_SILENT_S

    def _curve(self, sock: zmq.Socket) -> None:
        sock.linger = 0
        sock.curve_secretkey = self.secret
        sock.curve_publickey = self.public
        sock.curve_serverkey = self.server_key

    def _new_dealer(self, ctx: zmq.Context) -> zmq.Socket:
        dealer = ctx.socket(zmq.DEALER)
        self._curve(dealer)
        dealer.connect(self.endpoint)
        self._send(dealer, Hello(role="desk", app="eventdesk-desk"))
        return dealer

    def _send(self, dealer: zmq.Socket, message: Any) -> None:
        try:
            dealer.send_multipart(codec.encode(message, self.desk_id, "desk", 0, int(self.clock() * 1000)),
                                  zmq.NOBLOCK)
        except zmq.Again:
            pass  # the hub is not there yet: the retry timer asks again

    def _ask_snapshot(self, dealer: zmq.Socket) -> None:
        self._awaiting = True
        self._asked_at = time.monotonic()
        self._asked_before_live = not self._sub_live
        self._pages = None
        self._send(dealer, SnapshotRequest())

    def _snapshot_page(self, dealer: zmq.Socket, page: Snapshot) -> bool:
        """Collect the pages of one snapshot, asking for each next one; True if a new snapshot is needed."""
        if not self._awaiting:
            return False   # an answer to a request already satisfied
        if self._pages is None or self._pages[0] != page.gseq:
            if page.page != 0:
                return False   # a late page of a snapshot given up
            self._pages = (page.gseq, page.pages, {})
        gseq, pages, parts = self._pages
        parts[page.page] = page.data
        missing = next((n for n in range(pages) if n not in parts), None)
        if missing is not None:
            self._asked_at = time.monotonic()
            self._send(dealer, SnapshotRequest(gseq=gseq, page=missing))
            return False
        self._pages = None
        try:
            wire = codec.unpack(b"".join(parts[n] for n in range(pages)), "state")
        except ProtocolError as exc:
            log.warning("unreadable snapshot: %s", exc)
            return True
        return self._snapshot(gseq, wire)

    def _run(self) -> None:
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        self._curve(sub)
        # Subscribe before asking for the snapshot (Clone): nothing committed after the
        # snapshot can then slip past; a gap, if any, is seen and repaired.
        for topic in ("feed", "presence"):
            sub.setsockopt(zmq.SUBSCRIBE, topic_frame(topic))
        sub.connect(self.feed)
        dealer = self._new_dealer(ctx)
        self._ask_snapshot(dealer)
        last_hb = time.monotonic()
        was_ok = lost = False
        try:
            while not self._stopping.is_set():
                poller = zmq.Poller()
                poller.register(sub, zmq.POLLIN)
                poller.register(dealer, zmq.POLLIN)
                ready = dict(poller.poll(100))
                if sub in ready:
                    dealer_wanted = self._read_sub(sub)
                    if dealer_wanted:
                        self._ask_snapshot(dealer)
                if dealer in ready:
                    if self._read_dealer(dealer):
                        self._ask_snapshot(dealer)
                now = time.monotonic()
                ok = self._hub_ok()
                lost = lost or (was_ok and not ok)
                if ok and lost and not self._awaiting:
                    # Back after a silence: what was published meanwhile is lost to us, and a
                    # gap shows only when the next event comes, so ask for the picture now.
                    self._ask_snapshot(dealer)
                    lost = False
                was_ok = ok
                if self._awaiting and now - self._asked_at > SNAPSHOT_RETRY_S:
                    dealer.close(linger=0)
                    dealer = self._new_dealer(ctx)
                    self._ask_snapshot(dealer)
                elif now - last_hb >= 1.0:
                    self._send(dealer, Heartbeat(outbox=0))
                    last_hb = now
                self._publish()
        except Exception:  # never expected; the screen shows the hub as unreachable
            log.exception("desk link stopped")
        finally:
            sub.close(linger=0)
            dealer.close(linger=0)
            ctx.term()

    def _heard(self) -> None:
        self._heard_at = time.monotonic()

    def _read_sub(self, sub: zmq.Socket) -> bool:
        """Drain the SUB; True if a (new) snapshot is needed."""
        need = False
        fresh: list[Committed] = []   # handed over in one go, not one lock per event
        for _ in range(5000):
            try:
                frames = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            self._heard()
            if not self._sub_live:
                self._sub_live = True
                # A snapshot asked for before the subscription took effect may miss an event
                # committed in between, which shows as a gap only if another follows: ask again.
                need = need or (self._asked_before_live and not self._awaiting)
            if topic_name(frames[0]) not in ("feed", "presence"):
                continue
            try:
                message = codec.decode(frames[1:]).message
            except ProtocolError as exc:
                log.warning("bad frame on the feed: %s", exc)
                continue
            if isinstance(message, Committed):
                need = self._event(message, fresh) or need
            elif isinstance(message, Presence):
                need = self._presence(message) or need
        return self._hand_over(fresh) or need

    def _hand_over(self, events: list[Committed]) -> bool:
        """Queue events for the screen; True if the queue overflowed and the picture must be fetched again."""
        if not events:
            return False
        with self._lock:
            self._events.extend(events)
            over = len(self._events) > QUEUE_MAX
            if over:
                self._events = []   # the next snapshot replaces all of them
        self._dirty = True
        if over:
            self._gaps += 1
        return over

    def _read_dealer(self, dealer: zmq.Socket) -> bool:
        need = False
        for _ in range(100):
            try:
                frames = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            self._heard()
            try:
                message = codec.decode(frames).message
            except ProtocolError as exc:
                log.warning("bad frame from the hub: %s", exc)
                continue
            if isinstance(message, Snapshot):
                need = self._snapshot_page(dealer, message) or need
            elif isinstance(message, Welcome):
                self._drill = message.drill
                self._offset_ms = message.server_ms - int(self.clock() * 1000)
                self._dirty = True
        return need

    def _snapshot(self, gseq: int, wire: Any) -> bool:
        """A whole snapshot (the picture at `gseq`, as `to_wire` made it): the new base; True if it must be fetched again."""
        if not self._awaiting and self._gseq is not None and gseq <= self._gseq:
            return False  # an answer to a request already satisfied
        try:
            state = fold.from_wire(wire)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("unusable snapshot: %s", exc)
            return False
        # The new base replaces everything handed over before it: those events are in it.
        with self._lock:
            self._base, self._events = state, []
            for sid, (heard_ms, outbox) in self._touched.items():
                self._touches[sid] = (heard_ms, outbox)   # presence heard since is newer than the snapshot's
        self._gseq, self._awaiting = state.gseq, False
        self._snapshots += 1
        self._dirty = True
        pending, self._buffer = sorted(self._buffer, key=lambda c: c.gseq), []
        fresh: list[Committed] = []
        try:
            for committed in pending:
                if self._event(committed, fresh):
                    return True
        finally:
            self._hand_over(fresh)
        return self._asked_before_live and self._sub_live

    def _event(self, c: Committed, fresh: list[Committed]) -> bool:
        """Take one feed event in order (into `fresh`); True if a gap means the picture must be fetched again."""
        if self._awaiting or self._gseq is None:
            if len(self._buffer) >= BUFFER_MAX:
                del self._buffer[: BUFFER_MAX // 2]  # the snapshot will cover what falls out
            self._buffer.append(c)
            return False
        if c.gseq <= self._gseq:
            return False
        if c.cut:
            # Too large for the feed (a guest list of thousands): only a snapshot carries it.
            self._gaps += 1
            self._buffer = []
            return True
        if c.gseq != self._gseq + 1:
            # The PUB dropped something (high-water mark, reconnect): this event cannot be
            # folded on top of a picture that misses the ones before it.
            self._gaps += 1
            self._buffer = [c]
            return True
        self._gseq = c.gseq
        fresh.append(c)
        return False

    def _presence(self, p: Presence, now: float | None = None) -> bool:
        """Fold liveness; True if the picture must be fetched again.

        A gap shows only when a later event arrives, so a lost *last* event would go unseen until
        the next one. Presence names the hub's last gseq: behind it for over BEHIND_S (longer than
        an event takes to follow its commit), the picture has missed one.
        """
        self._offset_ms = p.server_ms - int(self.clock() * 1000)
        if self._gseq is None:
            return False
        need = False
        if self._awaiting or p.gseq <= self._gseq:
            self._behind_since = None
        else:
            now = time.monotonic() if now is None else now
            if self._behind_since is None:
                self._behind_since = now
            elif now - self._behind_since > BEHIND_S:
                self._behind_since, need = None, True
                self._gaps += 1
        changed = {}
        for sid, info in p.stations.items():
            if isinstance(info, dict):
                seen = (int(info.get("last_heard_ms", 0) or 0), int(info.get("outbox", 0) or 0))
                if self._touched.get(sid) != seen:
                    self._touched[sid] = changed[sid] = seen
        if changed:
            with self._lock:
                self._touches.update(changed)
            self._dirty = True
        return need

    def _publish(self) -> None:
        """Tell the screen there is something new, at most every PUBLISH_S (it folds it when it draws)."""
        now = time.monotonic()
        if not self._dirty or now - self._published_at < PUBLISH_S or self._gseq is None:
            return
        self._dirty = False
        self._published_at = now
        if self.on_publish is not None:
            self.on_publish()
