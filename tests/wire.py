"""Test helpers that speak EVENTDESK/1 on raw pyzmq sockets with the event folder's real CURVE keys.

A `Client` is a bare DEALER (CURVE, plaintext, or with any keypair) that sends frames exactly
as given and reads the hub's replies with deadlines; a `Feed` is a SUB that knows when its
subscriptions are live. Also: editing [hub] settings in event.toml and reading the log with
plain sqlite3. No mocks; nothing here sleeps longer than a poll interval.
"""
from __future__ import annotations

import random
import re
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import msgpack
import zmq
import zmq.auth

from console.event.folder import EventFolder, set_endpoints
from protocols import codec
from protocols.bounds import topic_frame, topic_name
from protocols.codec import Envelope

SIG = b"EVENTDESK/1"


def now_ms() -> int:
    return int(time.time() * 1000)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def set_hub_options(folder: EventFolder, **options: Any) -> None:
    """Rewrite `key = value` lines of the [hub] table in event.toml (the sample has every key)."""
    text = folder.toml.read_text("utf-8")
    for key, value in options.items():
        shown = repr(value) if not isinstance(value, str) else f'"{value}"'
        text, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {shown}   ", text, count=1)
        if n == 0:  # not in the sample: add it at the top of [hub]
            text = text.replace("[hub]\n", f"[hub]\n{key} = {shown}\n", 1)
    folder.toml.write_text(text, "utf-8")


def quiet_port(rng: random.Random | None = None) -> int:
    """A free loopback port below the kernel's ephemeral range. A hub that is killed and restarted
    leaves its port unbound for a moment, while stations reconnect from ephemeral ports: a port
    from that range could meanwhile be taken by one of them (even as a TCP self-connection to
    itself), and the restarted hub would fail with "Address already in use"."""
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = rng or random.Random()
    for _ in range(200):
        port = rng.randint(max(1024, low - 12000), low - 1)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the ephemeral range")


def quiet_endpoints(folder: EventFolder) -> None:
    """Move the event's [hub] endpoints to two ports outside the ephemeral range."""
    a = quiet_port()
    b = quiet_port()
    while b == a:
        b = quiet_port()
    set_endpoints(folder, f"tcp://127.0.0.1:{a}", f"tcp://127.0.0.1:{b}")


def station_pair(folder: EventFolder, station_id: str) -> tuple[bytes, bytes]:
    return zmq.auth.load_certificate(str(folder.station_key(station_id)))


def desk_pair(folder: EventFolder, desk_id: str) -> tuple[bytes, bytes]:
    return zmq.auth.load_certificate(str(folder.desk_key(desk_id)))


def server_key(folder: EventFolder) -> bytes:
    return zmq.auth.load_certificate(str(folder.console_public))[0]


def frames_of(type_: str, body: Any, station: str = "", epoch: str = "", seq: int = 0,
              sent_ms: int | None = None) -> list[bytes]:
    header = {"type": type_, "station": station, "epoch": epoch, "seq": seq,
              "sent_ms": now_ms() if sent_ms is None else sent_ms}
    return [SIG, msgpack.packb(header, use_bin_type=True), msgpack.packb(body, use_bin_type=True)]


def full(type_: str, body: dict) -> dict:
    """The body as the hub stores and publishes it: every field, defaults filled in."""
    return codec.build(type_, body).as_body()


class Picture(NamedTuple):
    gseq: int
    state: dict
    pages: int


class Client:
    """One DEALER to the hub. `pair=None, curve=True` makes a fresh (unknown) keypair."""

    def __init__(self, ctx: zmq.Context, endpoint: str, server: bytes | None,
                 pair: tuple[bytes, bytes] | None = None, *, curve: bool = True,
                 station: str = "", epoch: str = "", routing_id: bytes | None = None) -> None:
        self.station, self.epoch = station, epoch
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        if routing_id is not None:
            self.sock.routing_id = routing_id
        self.sock.sndhwm = self.sock.rcvhwm = 0   # no silent drops in bulk tests
        if curve:
            if pair is None:
                pair = zmq.curve_keypair()
            self.sock.curve_publickey, self.sock.curve_secretkey = pair
            self.sock.curve_serverkey = server
        self.sock.connect(endpoint)

    def raw(self, frames: list[bytes]) -> None:
        self.sock.send_multipart(frames)

    def send(self, type_: str, body: Any, seq: int = 0, *, station: str | None = None,
             epoch: str | None = None, sent_ms: int | None = None, block: bool = True) -> list[bytes]:
        """`block=False` for a peer the hub refuses: once its handshake has failed, libzmq drops the
        connection for good and a DEALER with no connection would wait forever to send."""
        frames = frames_of(type_, body, self.station if station is None else station,
                           self.epoch if epoch is None else epoch, seq, sent_ms)
        try:
            self.sock.send_multipart(frames, 0 if block else zmq.NOBLOCK)
        except zmq.Again:
            pass   # not even queued: it reaches nothing, which is what such a test asserts
        return frames

    def recv_frames(self, timeout: float = 5.0) -> list[bytes] | None:
        if self.sock.poll(int(timeout * 1000)):
            return self.sock.recv_multipart()
        return None

    def recv(self, timeout: float = 5.0, skip_heartbeats: bool = True) -> Envelope:
        """The next reply, decoded and checked with the same codec the hub uses."""
        deadline = time.monotonic() + timeout
        while True:
            frames = self.recv_frames(max(0.0, deadline - time.monotonic()))
            if frames is None:
                raise AssertionError(f"no reply from the hub within {timeout} s")
            env = codec.decode(frames)
            if skip_heartbeats and env.header.type == "heartbeat":
                continue
            return env

    def request(self, type_: str, body: Any, seq: int = 0, timeout: float = 5.0, **kw: Any) -> Envelope:
        self.send(type_, body, seq, **kw)
        return self.recv(timeout)

    def hello(self, role: str = "station") -> Any:
        env = self.request("hello", {"role": role, "app": "tests", "outbox": 0})
        assert env.header.type == "welcome", env
        return env.message

    def snapshot(self, timeout: float = 5.0) -> Any:
        """Every page of one snapshot, joined: (gseq, the picture as a map, pages)."""
        env = self.request("snapshot_request", {"gseq": 0, "page": 0}, timeout=timeout)
        assert env.header.type == "snapshot", env
        first = env.message
        parts = [first.data]
        for page in range(1, first.pages):
            env = self.request("snapshot_request", {"gseq": first.gseq, "page": page}, timeout=timeout)
            assert env.header.type == "snapshot" and (env.message.gseq, env.message.page) == (first.gseq, page), env
            parts.append(env.message.data)
        return Picture(first.gseq, codec.unpack(b"".join(parts)), first.pages)

    def silent_for(self, seconds: float) -> bool:
        """True if nothing at all arrives for `seconds`."""
        return self.recv_frames(seconds) is None

    def close(self) -> None:
        self.sock.close(linger=0)


def station(ctx: zmq.Context, hub: Any, folder: EventFolder, station_id: str, epoch: str = "ep-1") -> Client:
    """A raw client with station `station_id`'s own key, on `hub` (a console.hub.server.HubHandle)."""
    return Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, station_id),
                  station=station_id, epoch=epoch)


def desk(ctx: zmq.Context, hub: Any, folder: EventFolder, desk_id: str = "desk-1", epoch: str = "desk-ep") -> Client:
    """A raw client with desk `desk_id`'s own key."""
    return Client(ctx, hub.endpoint, server_key(folder), desk_pair(folder, desk_id), station=desk_id, epoch=epoch)


class Feed:
    """A SUB on the hub's PUB. `ready()` waits for a `presence` message, which proves that every
    subscription made before it is live (ZeroMQ forwards subscriptions in order). A station may not
    hear presence (`presence=False`): `ready(hub)` then waits until the hub has applied its topics."""

    def __init__(self, ctx: zmq.Context, endpoint: str, server: bytes, pair: tuple[bytes, bytes],
                 topics: list[str], presence: bool = True) -> None:
        self.sock = ctx.socket(zmq.SUB)
        self.sock.linger = 0
        self.sock.rcvhwm = 0
        self.sock.curve_publickey, self.sock.curve_secretkey = pair
        self.sock.curve_serverkey = server
        self.presence = presence
        for topic in [*topics, "presence"] if presence else topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, topic_frame(topic))
        self.topics = set(topics)
        self.sock.connect(endpoint)
        self.held: list[tuple[str, Envelope]] = []

    def ready(self, timeout: float = 10.0, hub: Any = None, applied: int = 0) -> None:
        """Live: a presence came (a desk), or the hub (a console.hub.server.Hub) has applied `applied` subscriptions."""
        if not self.presence:
            wait_for(lambda: hub.subscribed >= applied, timeout, f"the hub to apply {applied} subscriptions")
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._next(deadline - time.monotonic())
            if got and got[0] == "presence":
                return
            if got:
                self.held.append(got)
        raise AssertionError("the feed subscription never became live")

    def _next(self, timeout: float) -> tuple[str, Envelope] | None:
        if not self.sock.poll(max(0, int(timeout * 1000))):
            return None
        frames = self.sock.recv_multipart()
        return topic_name(frames[0]), codec.decode(frames[1:])

    def recv(self, timeout: float = 5.0, topics: set[str] | None = None) -> tuple[str, Envelope]:
        """The next message on one of `topics` (default: those asked for, presence excluded)."""
        want = self.topics if topics is None else topics
        for i, (topic, env) in enumerate(self.held):
            if topic in want:
                del self.held[i]
                return topic, env
        deadline = time.monotonic() + timeout
        while True:
            got = self._next(deadline - time.monotonic())
            if got is None:
                raise AssertionError(f"nothing on {sorted(want)} within {timeout} s")
            if got[0] in want:  # topics are prefix matches: compare the frame for equality
                return got

    def close(self) -> None:
        self.sock.close(linger=0)


# --- the log, read with plain sqlite3 ------------------------------------------------------------

def log_rows(db: Path, where: str = "1", args: tuple = ()) -> list[tuple]:
    """(gseq, station, epoch, seq, type, body) rows of the log, in gseq order."""
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(f"SELECT gseq, station, epoch, seq, type, body FROM events WHERE {where}"
                            " ORDER BY gseq", args).fetchall()
    finally:
        conn.close()


def rejection_rows(db: Path, where: str = "1", args: tuple = ()) -> list[tuple]:
    """(station, epoch, seq, type, code, reason, reason_zh, detail) rows, in order."""
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(f"SELECT station, epoch, seq, type, code, reason, reason_zh, detail FROM rejections"
                            f" WHERE {where} ORDER BY id", args).fetchall()
    finally:
        conn.close()
