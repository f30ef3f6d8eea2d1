"""The hub: the headless process that owns the log — ZeroMQ edge, ZAP admission, timers, live log.

It binds a CURVE ROUTER for reports and a CURVE XPUB for the feed, answers ZAP and checks every
subscription itself in the same loop (console/hub/admission.py), charges each message to its key
as it reads it, and hands each batch to Ingest, which commits (on the writer thread,
console/hub/waiting.py) before anything is acked. A log that fails costs acks (E_STORAGE) and one
alarm (console/hub/storage.py), output that fails costs lines (console/hub/edge.py): never the hub.
Its own starts and stops are in the log (console/hub/life.py). Knows ZeroMQ; knows no widgets.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, TextIO

import zmq

from console.event import plan_files
from console.core.event import HubPairError
from console.event.folder import EventFolder
from console.hub import replies
from console.hub.admission import ZAP_DOMAIN, Admission
from console.hub.edge import LiveLog, bind_endpoint
from console.hub.gcpace import GcPace
from console.hub.guard import DropPace
from console.hub.ingest import Ingest, Outcome, Peer, last_seq_in
from console.hub.life import Life
from console.hub.live_words import LiveWords
from console.hub.pair import Pairing
from console.hub.storage import StorageWatch, refuse_batch
from console.hub.store import Store, StoreError
from console.hub.upkeep import Upkeep
from console.hub.waiting import BATCH, HELD_MAX, TICK_MS, Waiting, poll_paused
from console.hub.writer import Writer
from protocols import bounds, eventtime, keys
from protocols.session import REPLIES

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
# Plain ints, not zmq.Flag members: pyzmq's send_multipart/recv_multipart do enum arithmetic and
# a getsockopt(RCVMORE) per frame, which cost more than the frames (bench/README.md).
_NOBLOCK = int(zmq.NOBLOCK)
LIVE_LINES = 20         # lines the live log prints a second; the rest are counted
READ_BUDGET_S = 0.002   # the longest one read of the ROUTER goes on before the batch is handled ...
HELD_READ_S = 0.001     # ... or while messages already read wait for a batch (a key spending its burst)
KEPT_FRAMES = 5   # the routing id, then a message's three frames and one more (so that "too many" shows)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Endpoints:
    endpoint: str
    feed: str
    console_public: str


class Hub(Admission, Waiting, Upkeep, Pairing):
    """One event's hub. `bind()` then `run()` (blocking) until `stop()` or a signal."""

    def __init__(self, folder: EventFolder, drill: bool = False, endpoint: str | None = None,
                 feed: str | None = None, out: TextIO | None = sys.stdout, clock: Callable[[], int] = now_ms,
                 lang: str | None = None, backup: bool = False):
        self.folder, self.drill, self.out, self.clock = folder, drill, out, clock
        self.event = folder.load()
        self.lang = lang or self.event.lang
        self.live = LiveLog(out, self.lang)
        if backup and not self.event.hub.backup_endpoint:   # two hubs (5.13): --backup needs its addresses
            raise HubPairError(folder.toml, "hub.backup_endpoint", "no_backup")
        # Two hubs (5.13): the backup listens on [hub] backup_endpoint and backup_feed.
        self.endpoint_cfg = endpoint or (self.event.hub.backup_endpoint if backup else self.event.hub.endpoint)
        self.feed_cfg = feed or (self.event.hub.backup_feed if backup else self.event.hub.feed)
        self.public, secret = keys.load_pair(folder.console_secret)
        self.secret = secret
        self.peers = self._load_peers()
        # The shipped plans and the event's own (DIR/plans/*.toml); a bad plan stops the start here.
        self.library = plan_files.load(folder.root, self.event)
        self.words = LiveWords(self.event, self.lang, self.library)
        self.store = Store(folder.db(drill), drill=drill, writer=True)
        # Cursor look-ups read through a connection of their own, so that a welcome never waits for
        # the writing connection while a commit is in flight on the writer thread.
        try:
            self.reader = Store(folder.db(drill), drill=drill)
            self.ingest = Ingest(self.store, self.event, drill=drill, library=self.library,
                                 lookup=last_seq_in(self.reader), commit=self._commit)
            self._check_welcomes()
        except Exception:   # the log stays free for the next start (its lock is the writer's)
            self.store.close()
            if hasattr(self, "reader"):
                self.reader.close()
            raise
        self.storage = StorageWatch(self.store, self._say, self.lang)
        self.life = Life(self.store)
        self._pair_setup(backup)
        self.ingest.pair_info = lambda now: (self.pair_hubs(), self.pair_status(now))
        self.by_user = {f"{p.role}:{p.id}": p for p in self.peers.values()}
        self.writer: Writer | None = None
        # Set when the hub is its process's main job (`serve`): the collector is then paced for the loop.
        # A hub on a thread of another program (a test, the desk's rehearsal) leaves the collector alone.
        self.gc_pace: GcPace | None = None
        self._held: list[tuple[bytes, Peer, list[bytes]]] = []
        self._stop = threading.Event()
        self.ctx = zmq.Context()
        self.dropped = 0          # frames with no known User-Id: must stay 0 (ZAP keeps them out)
        self.denied = 0           # ZAP refusals
        self.refused_topics = 0   # subscriptions a key may not make (a station asking for the feed)
        self.subscribed = 0       # subscriptions applied
        self.caught_up: dict[str, set[str]] = {}   # per station, the topics its subscription has reached (admission)
        self.unsent = 0           # replies dropped: the peer's queue was full (it does not read) or it left
        self._lines: list[str] = []   # the first lines of this second, printed on the tick
        self._more = 0                # ... and how many more there were
        self.endpoints: Endpoints | None = None
        self.next_tick = clock() + TICK_MS
        # Not the event's clock: a wall clock stepped back must not leave the ROUTER unread (tests step this one).
        self.mono: Callable[[], float] = lambda: time.monotonic() * 1000
        self.drop_pace = DropPace(self.mono())
        self._guests_seen: tuple[int, int] | None = None   # (mtime_ns, size) of the guest file last read

    # --- sockets ----------------------------------------------------------------------------
    def bind(self) -> Endpoints:
        self.zap = self.ctx.socket(zmq.REP)
        self.zap.linger = 0
        self.zap.bind(ZAP_ENDPOINT)   # bound before any CURVE socket, so admission is never skipped
        self.router = self._curve_socket(zmq.ROUTER)
        # ZeroMQ's MAXMSGSIZE applies to each frame, not to a message: a frame over it drops the
        # connection unanswered. Four times the message limit, so that a report somewhat too large
        # still gets its E_SIZE (and the station moves on) instead of being resent for ever.
        self.router.setsockopt(zmq.MAXMSGSIZE, self.event.hub.max_message_bytes * 4)
        # Mandatory: a reply to a peer whose queue is full (it does not read) fails at once and is
        # counted, instead of waiting in memory (protocols/bounds.py states the queues in bytes).
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.sndhwm, self.router.rcvhwm = bounds.ROUTER_SNDHWM, bounds.ROUTER_RCVHWM
        self.router.sndbuf = bounds.SNDBUF
        bind_endpoint(self.router, self.endpoint_cfg)
        # An XPUB in manual mode: each subscription comes to the hub with the subscriber's ZAP User-Id
        # and takes effect only if the hub applies it, so a station hears its own topics and no more.
        self.pub = self._curve_socket(zmq.XPUB)
        self.pub.setsockopt(zmq.XPUB_MANUAL, 1)
        self.pub.sndhwm = bounds.PUB_SNDHWM
        self.pub.sndbuf = bounds.SNDBUF
        bind_endpoint(self.pub, self.feed_cfg)
        self.endpoints = Endpoints(self.router.last_endpoint.decode(), self.pub.last_endpoint.decode(),
                                   self.public.decode())
        self.folder.write_runtime({"pid": os.getpid(), "endpoint": self.endpoints.endpoint,
                                   "feed": self.endpoints.feed, "console_public": self.endpoints.console_public,
                                   "drill": self.drill}, self.drill)
        return self.endpoints

    def _curve_socket(self, kind: int) -> zmq.Socket:
        s = self.ctx.socket(kind)
        s.linger = 500
        s.curve_server = True
        s.curve_secretkey = self.secret
        s.curve_publickey = self.public
        s.zap_domain = ZAP_DOMAIN
        s.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)
        return s

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        if self.endpoints is None:
            self.bind()
        self._say(self.words.ready(self.endpoints.endpoint, self.endpoints.feed, self.drill, self.store.count()))
        now = self.clock()
        self.ingest.heard_floor_ms = now   # nobody was heard while the hub was down: silence counts from now
        started = self.life.started(now)
        # Two hubs: hub_started waits for this run's first switch, so a passive log stays a prefix of the active one.
        if not self._pair_start(now, started):
            self._emit(self.ingest.hub_events([started], now))
        self.writer = Writer(self.store.append_batch)
        if self.serving():
            self.check_guests()
        if self.gc_pace is not None:
            # The log just rebuilt into memory is swept once and frozen: a full pass of the collector then
            # walks only what is new since the last one (console/hub/gcpace.py). Unpaced, one such pass
            # stopped the loop for 20 ms in a burst, and every report read meanwhile waited for it.
            self.gc_pace.start()
            self.gc_pace.sweep()
        poller, paused = zmq.Poller(), zmq.Poller()   # paused: the ROUTER left unread (console/hub/guard.py's DropPace)
        for sock in (self.zap, self.router, self.pub, *self._pair_sockets()):
            poller.register(sock, zmq.POLLIN)
            if sock is not self.router:
                paused.register(sock, zmq.POLLIN)
        self.next_tick = self.clock() + TICK_MS
        try:
            while not self._stop.is_set():
                now = self.clock()
                wait = 0 if self._held else max(0, min(self.next_tick - now, 100, self._pair_wait(now)))
                pause = self.drop_pace.wait_ms(self.mono())
                ready = dict(poll_paused(paused, min(wait, pause)) if pause else poller.poll(wait))
                self._serve(ready)
                self._pair_step(ready)
                if self.router in ready or self._held:
                    self._drain()
                if self.clock() >= self.next_tick:
                    self._tick()
                    self.next_tick = self.clock() + TICK_MS
        finally:
            self.close()

    def _serve(self, ready: dict) -> None:
        """What never waits for the log: admission and subscriptions."""
        if self.zap in ready:
            while self.zap.poll(0):
                self._zap_once()
        if self.pub in ready:
            self._subscriptions()

    def _read(self, limit: int) -> list[tuple[bytes, Peer, list[bytes]]]:
        """Up to `limit` messages from admitted keys (identity from the ZAP User-Id, nothing else), each paid
        for from its key's bucket before anything is done with it: one past the bucket is dropped here,
        unread but for the one E_RATE its key gets now and then (console/hub/guard.py). Past DropPace's allowance
        of such drops the read stops, and the ROUTER is left unread until the pace allows more; it stops too
        after a run of one key spending its burst (Guard.streak), which then waits in its own connection."""
        got, refused = [], []
        if self.drop_pace.wait_ms(self.mono()):
            return got
        recv, admit, now, pace, mono = self.router.recv, self.ingest.admit, self.clock(), self.drop_pace, self.mono
        # Held messages are the next batch's work already: reading on only makes everyone in it wait longer.
        until = time.perf_counter() + (HELD_READ_S if self._held else READ_BUDGET_S)
        streak, run = self.ingest.guard.streak, (None, 0)
        for n in range(limit):
            if n % 64 == 63 and time.perf_counter() > until:
                break   # a flood read and dropped must not hold up the few real reports read with it
            try:
                frames = _recv_frames(recv)
            except zmq.Again:
                break
            user = frames[1].get("User-Id") if len(frames) > 1 else None
            peer = self.by_user.get(user) if user else None
            if peer is None:   # never from the payload, never from the routing id
                self.dropped += 1
                continue
            ok, refusal = admit(peer, frames[1:], now)
            if ok:
                message = [f if type(f) is bytes else f.bytes for f in frames[1:]]
                instead = self._pair_gate(frames[0].bytes, peer, message, now)   # two hubs: E_PASSIVE, the peer's pages
                if instead is not None:
                    refused.append((frames[0].bytes, instead))
                    continue
                got.append((frames[0].bytes, peer, message))
                run, enough = streak(run, peer.id)
                if enough:
                    break   # one key's burst, and nobody else waiting (console/hub/guard.py's Guard.streak)
            else:
                if refusal is not None:
                    refused.append((frames[0].bytes, REPLIES.frames(refusal)))
                if not pace.dropped(mono()):
                    break
        self._send(refused)
        return got

    def _drain(self) -> None:
        """Read, then handle a batch. A key spending its burst (console/hub/guard.py) has at most guard.PER_KEY
        messages in it, in order, the rest waiting for the next batch: a key that spends its whole burst
        at once delays the others by one small batch, not by its burst. What waits is bounded by the
        keys' buckets."""
        queue = self._held + (self._read(BATCH) if len(self._held) < HELD_MAX else [])
        if self._switch_due:   # two hubs: a client's request made this hub active; its era opens before the request
            self._switch_now()
        batch, self._held = self.ingest.guard.share(queue, _sender)
        if batch:
            now = self.clock()
            try:
                outcome = self.ingest.handle(batch, now, paid=True)
            except StoreError:   # reading the log failed (a damaged page): nothing was committed
                refused, controls = refuse_batch(batch)
                outcome = self.ingest.handle(controls, now, paid=True) if controls else Outcome()
                outcome.replies += refused
            self._emit(outcome)

    def _send(self, replies_out: list[tuple[bytes, list[bytes]]]) -> None:
        send = self.router.send
        for address, frames in replies_out:
            try:
                send(address, _MORE_NOBLOCK)
                _send_frames(send, frames)
            except zmq.ZMQError:
                self.unsent += 1   # gone, or not reading: it resends and gets a duplicate ack

    def _emit(self, outcome: Outcome) -> None:
        self._send(outcome.replies)
        self._publish(outcome.publish)
        for address, later in outcome.later:   # snapshots: built only now that every ack is out
            self._send([(address, REPLIES.frames(later.build()))])
        # A busy second prints LIVE_LINES lines and counts the rest: the rest are never put into words,
        # which would cost a burst as much again as its commit.
        for row in outcome.stored:
            if self._room():
                self._lines.append(self.words.stored(row.gseq, row.station, row.type, row.body))
        for rej in outcome.rejected:
            if self._room():
                self._lines.append(self.words.refused(rej.station, rej.seq, rej.type, rej.code, rej.reason,
                                                      rej.reason_zh))

    def _publish(self, messages: list[list[bytes]]) -> None:
        send = self.pub.send
        for frames in messages:
            try:
                _send_frames(send, frames)
            except zmq.ZMQError:
                pass

    def _tick(self) -> None:
        now = self.clock()
        self.life.tick(now)
        if self.gc_pace is not None:
            self.gc_pace.tick()
        if not self.serving():   # two hubs: a passive hub writes only the copy; the active one decides
            self._flush_lines()
            return
        alarms = self._pair_tick(now)
        if alarms:
            self._emit(self.ingest.hub_events(alarms, now))
        self._watch_storage(now)
        self.check_guests()
        # Liveness changes, alarm repeats, then what the plan engine decides now (overdue steps, thresholds).
        self._emit(self.ingest.tick(now))
        self._presence(now)
        self._flush_lines()

    def _presence(self, now: int) -> None:
        stations = {sid: {"last_heard_ms": st.get("last_heard_ms", 0), "outbox": st.get("outbox", 0),
                          "status": st.get("status", "unknown")}
                    for sid, st in self.ingest.state.stations.items()}
        self._publish(replies.presence(now, stations, self.ingest.state.gseq, self.pair_status(now)))

    def _room(self) -> bool:
        """May one more line be printed this second? If not, it is counted in the second's "and N more"."""
        if len(self._lines) < LIVE_LINES:
            return True
        self._more += 1
        return False

    def _line(self, text: str) -> None:
        if self._room():
            self._lines.append(text)

    def _flush_lines(self) -> None:
        if not self._lines or self.out is None:
            return
        stamp = eventtime.clock(self.clock(), self.event.tz)
        text = "\n".join(f"{stamp} {line}" for line in self._lines)
        if self._more:
            text += f"\n{stamp} {self.words.more(self._more, self.ingest.stats['stored'])}"
        self._say(text)
        self._lines.clear()
        self._more = 0

    def _say(self, text: str) -> None:
        """Write to the live log; a full disk or a closed pipe loses the line, never the hub."""
        self.live.say(text)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        try:
            if self._stop.is_set() and self.serving():   # asked to stop (a signal, the person who ran it): a clean stop, logged
                now = self.clock()
                self._emit(self.ingest.hub_events([self.life.stopping(now)], now))
            self._flush_lines()
            s = self.ingest.stats
            self._say(self.words.stopped(received=s["received"], stored=s["stored"], duplicates=s["duplicates"],
                                         rejected=s["rejected"], retry=s["retry"], denied=self.denied,
                                         dropped=self.dropped, unsent=self.unsent, refused=self.refused_topics))
        finally:
            if self.gc_pace is not None:
                self.gc_pace.stop()
            self.release()

    def release(self) -> None:
        """Sockets, the writer, the log and hub.json, each given back even if the one before failed."""
        try:
            self._pair_close()
            for sock in ("router", "pub", "zap"):
                if hasattr(self, sock):
                    getattr(self, sock).close(linger=0)
            self.ctx.term()
        finally:
            try:
                if self.writer is not None:
                    self.writer.close()
                self.reader.close()
                self.store.close()
            finally:
                try:
                    runtime = self.folder.runtime(self.drill)
                    info = self.folder.read_runtime(self.drill)
                    if info and info.get("pid") == os.getpid():
                        runtime.unlink()
                except OSError:
                    pass


def _sender(item: tuple[bytes, Peer, list[bytes]]) -> str:
    return item[1].id


def _recv_frames(recv: Callable) -> list[zmq.Frame | bytes]:
    """`recv_multipart(NOBLOCK, copy=False)`: every frame of one message, or zmq.Again if none waits.

    Past the routing id and the three frames of a message, a frame is counted but not kept (an empty
    placeholder instead): a message of a thousand frames is refused E_FRAMES without holding them."""
    frame = recv(_NOBLOCK, copy=False)
    frames: list[zmq.Frame | bytes] = [frame]
    while frame.more:
        frame = recv(_NOBLOCK, copy=False)
        frames.append(frame if len(frames) < KEPT_FRAMES else b"")
    return frames


def _send_frames(send: Callable, frames: list[bytes]) -> None:
    """`send_multipart(frames, NOBLOCK)` for frames that are bytes (as the codec makes them)."""
    for frame in frames[:-1]:
        send(frame, _MORE_NOBLOCK)
    send(frames[-1], _NOBLOCK)


@dataclass
class HubHandle:
    """A hub running in a thread of this process (tests, the demo)."""

    hub: Hub
    thread: threading.Thread
    endpoint: str
    feed: str
    console_public: str

    def stop(self, timeout: float = 10.0) -> None:
        self.hub.stop()
        self.thread.join(timeout)


def run_in_thread(folder: EventFolder, drill: bool = False, out: TextIO | None = None, **kw) -> HubHandle:
    hub = Hub(folder, drill=drill, out=out, **kw)
    ep = hub.bind()
    thread = threading.Thread(target=hub.run, name="eventdesk-hub", daemon=True)
    thread.start()
    return HubHandle(hub, thread, ep.endpoint, ep.feed, ep.console_public)


def serve(folder: EventFolder, drill: bool = False, endpoint: str | None = None, feed: str | None = None,
          lang: str | None = None, backup: bool = False, parent: int = 0) -> int:
    """`eventdesk hub DIR [--backup]`: run in the foreground until SIGINT or SIGTERM (or, with `parent`,
    until that process is gone)."""
    hub = Hub(folder, drill=drill, endpoint=endpoint, feed=feed, lang=lang, backup=backup)
    try:
        hub.bind()
    except BaseException:
        hub.release()
        raise
    hub.gc_pace = GcPace()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: hub.stop())
    if parent:
        end_with(parent, hub.stop)
    hub.run()
    return 0


def end_with(parent: int, stop: Callable[[], None], every_s: float = 0.25) -> threading.Thread:
    """Call `stop` once process `parent` is gone, however it ended (a rehearsal's hub when the rehearsal is
    killed: SIGKILL leaves it no time to stop its hub). An orphan is handed to another parent, so the
    parent's id changes; the check costs a system call every `every_s`."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        stop()
    thread = threading.Thread(target=watch, name="end-with-parent", daemon=True)
    thread.start()
    return thread
