"""The hub: the headless process that owns the log — ZeroMQ edge, ZAP admission, timers, live log.

It binds a CURVE ROUTER for reports and a CURVE PUB for the feed, answers ZAP itself in the
same loop (so admission can neither die in a thread nor fail open), and hands each drained
batch to Ingest, which commits before anything is acked. A log that fails costs acks (E_STORAGE)
and one alarm (console.hub_storage), and output that fails costs lines (console.hub_edge): never
the hub. Knows ZeroMQ; knows no widgets.
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
import zmq.utils.z85

from console import guests as guest_file
from console import plan_library
from console.event import EventFolder
from console.hub_edge import LiveLog, bind_endpoint
from console.hub_life import Life
from console.hub_storage import StorageWatch, refuse_batch
from console.ingest import Ingest, Outcome, Peer
from console.store import Store, StoreError
from protocols import codec, eventtime, keys
from protocols.file_errors import why_text
from protocols.messages import Alarm, Presence

ZAP_DOMAIN = b"eventdesk"
ZAP_ENDPOINT = "inproc://zeromq.zap.01"
MAX_BATCH = 2000
TICK_MS = 1000
# Plain ints, not zmq.Flag members: pyzmq's send_multipart/recv_multipart do enum arithmetic and
# a getsockopt(RCVMORE) per frame, which cost more than the frames (bench/README.md).
_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Endpoints:
    endpoint: str
    feed: str
    console_public: str


class Hub:
    """One event's hub. `bind()` then `run()` (blocking) until `stop()` or a signal."""

    def __init__(self, folder: EventFolder, drill: bool = False, endpoint: str | None = None,
                 feed: str | None = None, out: TextIO | None = sys.stdout, clock: Callable[[], int] = now_ms,
                 lang: str | None = None):
        self.folder, self.drill, self.out, self.clock = folder, drill, out, clock
        self.event = folder.load()
        self.lang = lang or self.event.lang
        self.live = LiveLog(out, self.lang)
        self.endpoint_cfg = endpoint or self.event.hub.endpoint
        self.feed_cfg = feed or self.event.hub.feed
        self.public, secret = keys.load_pair(folder.console_secret)
        self.secret = secret
        self.peers = self._load_peers()
        # The shipped plans and the event's own (DIR/plans/*.toml); a bad plan stops the start here.
        self.library = plan_library.load(folder.root, self.event)
        self.store = Store(folder.db(drill), drill=drill, writer=True)
        try:
            self.ingest = Ingest(self.store, self.event, drill=drill, library=self.library)
        except StoreError:
            self.store.close()
            raise
        self.storage = StorageWatch(self.store, self._say, self.lang)
        self.life = Life(self.store)
        self._stop = threading.Event()
        self.ctx = zmq.Context()
        self.dropped = 0          # frames with no known User-Id: must stay 0 (ZAP keeps them out)
        self.denied = 0           # ZAP refusals
        self._lines: list[str] = []   # the first lines of this second, printed on the tick
        self._more = 0                # ... and how many more there were
        self.endpoints: Endpoints | None = None
        self._guests_seen: tuple[int, int] | None = None   # (mtime_ns, size) of the guest file last read

    def _load_peers(self) -> dict[str, Peer]:
        posts = {s.id: s.post for s in self.event.stations}
        peers: dict[str, Peer] = {}
        for z85_key, name in keys.public_keys(self.folder.keys / "stations").items():
            if name in posts:
                peers[z85_key.decode()] = Peer("station", name, posts[name])
        for z85_key, name in keys.public_keys(self.folder.keys / "desks").items():
            if name in self.event.desks:
                peers[z85_key.decode()] = Peer("desk", name, "desk")
        return peers

    # --- sockets ----------------------------------------------------------------------------
    def bind(self) -> Endpoints:
        self.zap = self.ctx.socket(zmq.REP)
        self.zap.linger = 0
        self.zap.bind(ZAP_ENDPOINT)   # bound before any CURVE socket, so admission is never skipped
        self.router = self._curve_socket(zmq.ROUTER)
        self.router.setsockopt(zmq.MAXMSGSIZE, self.event.hub.max_message_bytes * 4)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 0)
        self.router.sndhwm = self.router.rcvhwm = 100_000
        bind_endpoint(self.router, self.endpoint_cfg)
        self.pub = self._curve_socket(zmq.PUB)
        self.pub.sndhwm = 200_000
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

    # --- ZAP --------------------------------------------------------------------------------
    def _zap_once(self) -> None:
        msg = self.zap.recv_multipart()
        try:
            version, request_id, domain, _address, _identity, mechanism = msg[:6]
            credentials = msg[6:]
            ok = (version == b"1.0" and domain == ZAP_DOMAIN and mechanism == b"CURVE" and len(credentials) == 1)
            peer = self.peers.get(zmq.utils.z85.encode(credentials[0]).decode()) if ok else None
        except Exception:  # a malformed ZAP request must not stop the hub: deny it
            request_id, peer = (msg[1] if len(msg) > 1 else b""), None
        if peer is None:
            self.denied += 1
            self.zap.send_multipart([b"1.0", request_id, b"400", b"unknown key", b"", b""])
        else:
            user = f"{peer.role}:{peer.id}".encode()
            self.zap.send_multipart([b"1.0", request_id, b"200", b"OK", user, b""])

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        if self.endpoints is None:
            self.bind()
        self._say(f"hub ready: {self.event.name} — reports {self.endpoints.endpoint}, feed {self.endpoints.feed}"
                  f"{' [DRILL]' if self.drill else ''}; {self.store.count()} events in the log")
        now = self.clock()
        self.ingest.heard_floor_ms = now   # nobody was heard while the hub was down: silence counts from now
        self._emit(self.ingest.hub_events([self.life.started(now)], now))
        self.check_guests()
        by_user = {f"{p.role}:{p.id}": p for p in self.peers.values()}
        poller = zmq.Poller()
        poller.register(self.zap, zmq.POLLIN)
        poller.register(self.router, zmq.POLLIN)
        next_tick = self.clock() + TICK_MS
        try:
            while not self._stop.is_set():
                wait = max(0, min(next_tick - self.clock(), 100))
                ready = dict(poller.poll(wait))
                if self.zap in ready:
                    while self.zap.poll(0):
                        self._zap_once()
                if self.router in ready:
                    self._drain(by_user)
                if self.clock() >= next_tick:
                    self._tick()
                    next_tick = self.clock() + TICK_MS
        finally:
            self.close()

    def _drain(self, by_user: dict[str, Peer]) -> None:
        batch = []
        recv = self.router.recv
        for _ in range(MAX_BATCH):
            try:
                frames = _recv_frames(recv)
            except zmq.Again:
                break
            user = frames[-1].get("User-Id") if len(frames) > 1 else None
            peer = by_user.get(user) if user else None
            if peer is None:   # never from the payload, never from the routing id
                self.dropped += 1
                continue
            batch.append((frames[0].bytes, peer, [f.bytes for f in frames[1:]]))
        if batch:
            now = self.clock()
            try:
                outcome = self.ingest.handle(batch, now)
            except StoreError:   # reading the log failed (a damaged page): nothing was committed
                replies, controls = refuse_batch(batch)
                outcome = self.ingest.handle(controls, now) if controls else Outcome()
                outcome.replies += replies
            self._emit(outcome)

    def _emit(self, outcome: Outcome) -> None:
        send = self.router.send
        for address, frames in outcome.replies:
            try:
                send(address, _MORE_NOBLOCK)
                _send_frames(send, frames)
            except zmq.ZMQError:
                pass  # the peer went away; it resends and gets a duplicate ack
        send = self.pub.send
        for frames in outcome.publish:
            try:
                _send_frames(send, frames)
            except zmq.ZMQError:
                pass
        for row in outcome.stored:
            self._line(f"#{row.gseq} {row.station} {row.type} {_brief(row.body)}")
        for rej in outcome.rejected:
            self._line(f"REJECTED {rej.station} seq {rej.seq} {rej.code}: {rej.reason}")

    def check_guests(self) -> None:
        """Load the guest file when it is new or changed (`eventdesk guests import` replaces it atomically).

        A list that fails its checks is not loaded: the hub keeps the one it has, says why in its
        log and raises one alarm on the desks; reports keep flowing either way.
        """
        path = self.folder.guest_file(self.event)
        try:
            st = path.stat()
        except OSError:
            return
        seen = (st.st_mtime_ns, st.st_size)
        if seen == self._guests_seen:
            return
        self._guests_seen = seen
        try:
            guests = guest_file.load(path, self.event.date, self.event.tz)
        except Exception as exc:  # noqa: BLE001 — whatever a guest file does, the hub keeps its list and runs
            if not isinstance(exc, guest_file.GuestFileError):
                exc = guest_file.GuestFileError(path, [guest_file.err(0, "", "unreadable", detail=why_text(exc, "en"))])
            self._say(f"guest list {path} not loaded: {exc}")
            reason = f"{path.name}: {exc.errors[0].sentence('en')}" + (
                f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else "")
            self._emit(self.ingest.hub_events([Alarm(code="guest_list", reason=reason[:2000])], self.clock()))
            return
        out = self.ingest.load_guests(guests, path.name, self.clock())
        if out.stored:
            self._line(f"guest list {path.name}: {len(guests)} guests loaded")
        self._emit(out)

    def _tick(self) -> None:
        now = self.clock()
        self.life.tick(now)
        self._watch_storage(now)
        self.check_guests()
        # Liveness changes, then what the plan engine decides now (overdue steps, thresholds).
        self._emit(self.ingest.hub_events(self.ingest.liveness_changes(now), now))
        stations = {sid: {"last_heard_ms": st.get("last_heard_ms", 0), "outbox": st.get("outbox", 0),
                          "status": st.get("status", "unknown")}
                    for sid, st in self.ingest.state.stations.items()}
        try:
            self.pub.send_multipart(codec.encode_topic("presence", Presence(server_ms=now, stations=stations,
                                                                        gseq=self.ingest.state.gseq)),
                                    zmq.NOBLOCK)
        except zmq.ZMQError:
            pass
        self._flush_lines()

    def _watch_storage(self, now: int) -> None:
        """One line and one alarm per stretch of log failures (console.hub_storage); an alarm the
        log could not take yet is offered again on the next tick."""
        self.storage.update(now)
        if self.storage.pending:
            out = self.ingest.hub_events(list(self.storage.pending), now)
            if out.stored:
                self.storage.pending.clear()
            self._emit(out)
            self.storage.update(now)

    def _line(self, text: str) -> None:
        if len(self._lines) < 20:
            self._lines.append(text)
        else:
            self._more += 1

    def _flush_lines(self) -> None:
        if not self._lines or self.out is None:
            return
        stamp = eventtime.clock(self.clock(), self.event.tz)
        text = "\n".join(f"{stamp} {line}" for line in self._lines)
        if self._more:
            text += f"\n{stamp} … and {self._more} more this second ({self.ingest.stats['stored']} stored in all)"
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
            if self._stop.is_set():   # asked to stop (a signal, the person who ran it): a clean stop, logged
                now = self.clock()
                self._emit(self.ingest.hub_events([self.life.stopping(now)], now))
            self._flush_lines()
            s = self.ingest.stats
            self._say(f"hub stopped: received {s['received']}, stored {s['stored']}, duplicates {s['duplicates']}, "
                      f"rejected {s['rejected']}, asked to resend {s['retry']}, denied keys {self.denied}, "
                      f"dropped frames {self.dropped}")
        finally:
            self.release()

    def release(self) -> None:
        """Sockets, the log and hub.json, each given back even if the one before failed."""
        try:
            for sock in ("router", "pub", "zap"):
                if hasattr(self, sock):
                    getattr(self, sock).close(linger=0)
            self.ctx.term()
        finally:
            try:
                self.store.close()
            finally:
                try:
                    runtime = self.folder.runtime(self.drill)
                    info = self.folder.read_runtime(self.drill)
                    if info and info.get("pid") == os.getpid():
                        runtime.unlink()
                except OSError:
                    pass


def _recv_frames(recv: Callable) -> list[zmq.Frame]:
    """`recv_multipart(NOBLOCK, copy=False)`: every frame of one message, or zmq.Again if none waits."""
    frame = recv(_NOBLOCK, copy=False)
    frames = [frame]
    while frame.more:
        frame = recv(_NOBLOCK, copy=False)
        frames.append(frame)
    return frames


def _send_frames(send: Callable, frames: list[bytes]) -> None:
    """`send_multipart(frames, NOBLOCK)` for frames that are bytes (as the codec makes them)."""
    for frame in frames[:-1]:
        send(frame, _MORE_NOBLOCK)
    send(frames[-1], _NOBLOCK)


def _brief(body: dict) -> str:
    """One line of a body for the live log; station text is cut short and control-free already."""
    parts = [f"{k}={v}" for k, v in body.items() if v not in ("", 0, False, None)]
    line = " ".join(parts)
    return line if len(line) <= 100 else line[:97] + "..."


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
          lang: str | None = None) -> int:
    """`eventdesk hub DIR`: run in the foreground until SIGINT or SIGTERM."""
    hub = Hub(folder, drill=drill, endpoint=endpoint, feed=feed, lang=lang)
    try:
        hub.bind()
    except BaseException:
        hub.release()
        raise
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: hub.stop())
    hub.run()
    return 0
