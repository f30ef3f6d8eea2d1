"""Benchmark load on the wire: raw DEALER lanes that speak eventdesk, the plain echo baseline, three drivers.

A lane is one station's socket with a pool of realistic report bodies, packed once, so the
client spends its time on the wire and not in the station library. The drivers are a
pipelined window (throughput), one-at-a-time (round trip) and an open-loop pacer (latency at
a fixed offered rate). Knows zmq and msgpack; knows nothing of the hub's code.
"""
from __future__ import annotations

import secrets
import select
import time
from typing import Callable

import msgpack
import zmq

from protocols import codec
from protocols.curve import ClientKeys, client_socket

SIG = codec.SIGNATURE
# What both the hub (codec.encode(Ack(...))) and the echo baseline put in an ack's header frame.
ACK_HEADER = codec.pack({"type": "ack", "station": "", "epoch": "", "seq": 0, "sent_ms": 0})
_pack, _unpack = codec.pack, msgpack.unpackb

# A realistic mix per post, in the types ALLOWED for that post; count/plate/lot vary per body.
_PLATES = [f"湘A·{n:05d}" for n in range(10000, 10040)]


def report_pool(post: str, size: int = 64) -> list[tuple[str, dict]]:
    """`size` (type, raw body) pairs a station at `post` would send, cycling over its kinds."""
    raw: list[tuple[str, dict]] = []
    for i in range(size):
        plate, n = _PLATES[i % len(_PLATES)], 1 + i % 4
        if post == "gate":
            raw.append([("guest_arrival", {"count": n, "vip_level": "A" if i % 17 == 0 else ""}),
                        ("car_in", {"plate": plate, "vip": i % 11 == 0}),
                        ("car_out", {"plate": plate})][i % 3])
        elif post == "parking":
            raw.append([("lot_occupancy", {"lot": "p1" if i % 2 else "p2", "delta": 1 if i % 4 < 2 else -1}),
                        ("car_in", {"plate": plate}), ("car_out", {"plate": plate}),
                        ("lot_occupancy", {"lot": "p1", "occupied": 40 + i % 30})][i % 4])
        elif post == "concierge":
            raw.append(("guest_arrival", {"count": n, "guest_ref": f"G{i:04d}", "note": "VIP 客户" if i % 9 == 0 else ""}))
        elif post in ("lobby", "model_unit"):
            zone = "lobby" if post == "lobby" else "model_unit"
            raw.append(("zone_enter" if i % 2 == 0 else "zone_exit", {"zone": zone, "count": n}))
        else:  # a department's or a leader's terminal: its people come on and go off duty
            raw.append(("staff_signin" if i % 2 == 0 else "staff_signout", {"name": f"值班员{i % 8}"}))
    # Full bodies, as a station's outbox stores and sends them (every field, defaults included).
    return [(t, codec.build(t, b).as_body()) for t, b in raw]


class BenchError(RuntimeError):
    """The run is not valid (a nack, a stall, a wrong ack): stop and say why."""


class Lane:
    """One DEALER speaking the protocol for one station, with acks checked in order."""

    def __init__(self, ctx: zmq.Context, endpoint: str, station: str, post: str,
                 curve: ClientKeys | tuple[bytes, bytes, bytes] | None = None) -> None:
        self.station, self.epoch = station, secrets.token_hex(8)
        if curve is not None:
            self.sock = client_socket(ctx, zmq.DEALER, curve, sndhwm=0, rcvhwm=0, connect=endpoint)
        else:   # the plaintext baseline the bench compares CURVE against
            self.sock = ctx.socket(zmq.DEALER)
            self.sock.linger = 0
            self.sock.sndhwm = self.sock.rcvhwm = 0
            self.sock.connect(endpoint)
        self.bodies = [(t, _pack(b)) for t, b in report_pool(post)]
        self.seq = self.acked = 0
        self.timing = False
        self.sent_at: dict[int, float] = {}
        self.lat: list[float] = []

    @property
    def inflight(self) -> int:
        return self.seq - self.acked

    def hello(self, timeout_s: float = 10.0) -> dict:
        """hello (seq 0) and wait for the welcome; proves the CURVE session and ZAP admission."""
        self.sock.send_multipart([SIG, _pack({"type": "hello", "station": self.station, "epoch": self.epoch,
                                              "seq": 0, "sent_ms": int(time.time() * 1000)}),
                                  _pack({"role": "station", "app": "bench", "outbox": 0})])
        if not self.sock.poll(int(timeout_s * 1000)):
            raise BenchError(f"{self.station}: no welcome in {timeout_s} s (CURVE or ZAP refused?)")
        sig, header, body = self.sock.recv_multipart()
        h, b = _unpack(header), _unpack(body)
        if h["type"] != "welcome":
            raise BenchError(f"{self.station}: expected welcome, got {h['type']}: {b}")
        return b

    def send_next(self) -> None:
        self.seq = seq = self.seq + 1
        type_, body = self.bodies[seq % len(self.bodies)]
        self.sock.send_multipart([SIG, _pack({"type": type_, "station": self.station, "epoch": self.epoch,
                                              "seq": seq, "sent_ms": int(time.time() * 1000)}), body])
        if self.timing:
            self.sent_at[seq] = time.perf_counter()

    def drain(self) -> int:
        """Read every reply waiting; return the number of acks. A nack ends the run."""
        got, sock = 0, self.sock
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return got
            now = time.perf_counter()
            if frames[1] != ACK_HEADER:
                h, b = _unpack(frames[1]), _unpack(frames[2])
                if h.get("type") == "heartbeat":
                    continue
                raise BenchError(f"{self.station}: {h.get('type')} {b}")
            seq = _unpack(frames[2])["seq"]
            if seq != self.acked + 1:
                raise BenchError(f"{self.station}: ack for seq {seq}, expected {self.acked + 1}")
            self.acked = seq
            got += 1
            if self.timing:
                self.lat.append(now - self.sent_at.pop(seq))

    def close(self) -> None:
        self.sock.close(linger=0)


def pipelined(lanes: list[Lane], per_lane: int, window: int,
              progress: Callable[[int], None] | None = None, stall_s: float = 30.0) -> float:
    """Send `per_lane` reports on every lane, `window` unacked at most; seconds to the last ack."""
    poller = zmq.Poller()
    for lane in lanes:
        poller.register(lane.sock, zmq.POLLIN)
    by_sock = {lane.sock: lane for lane in lanes}
    targets = {lane: lane.seq + per_lane for lane in lanes}
    total, done = per_lane * len(lanes), 0
    t0 = time.perf_counter()
    for lane in lanes:
        while lane.inflight < window and lane.seq < targets[lane]:
            lane.send_next()
    while done < total:
        ready = poller.poll(int(stall_s * 1000))
        if not ready:
            raise BenchError(f"stalled: {done} of {total} acked, nothing for {stall_s} s")
        for sock, _ in ready:
            lane = by_sock[sock]
            done += lane.drain()
            target = targets[lane]
            while lane.inflight < window and lane.seq < target:
                lane.send_next()
        if progress is not None:
            progress(done)
    return time.perf_counter() - t0


def one_at_a_time(lane: Lane, n: int, timeout_s: float = 30.0) -> list[float]:
    """Round trip of `n` reports sent one after the other; seconds each."""
    lane.timing, lane.lat = True, []
    for _ in range(n):
        lane.send_next()
        while lane.acked < lane.seq:
            if not lane.sock.poll(int(timeout_s * 1000)):
                raise BenchError(f"{lane.station}: no ack for seq {lane.seq} in {timeout_s} s")
            lane.drain()
    lane.timing = False
    return lane.lat


def paced(lanes: list[Lane], rate: float, seconds: float, timeout_s: float = 30.0) -> tuple[list[float], list[float]]:
    """Open loop: report i leaves at t0 + i/rate on lane i mod len(lanes), whatever the replies do.

    Returns (report->ack seconds for every report, how late each send left against its slot).
    Waits in epoll on the sockets' ZMQ_FDs, which takes microseconds where zmq.Poller rounds to
    whole milliseconds (that would bunch sends and add queueing the hub did not cause), and which
    names only the lanes that have something: a zmq poll of every lane on every turn cost a load of
    300 lanes most of a core (bench/README.md). A ZMQ_FD only says that the socket has news, and any
    call on the socket may take that news: so a lane is drained whenever its fd wakes and after each
    send on it, if its ZMQ_EVENTS says a reply waits.
    """
    ep = select.epoll()
    by_fd = {}
    for lane in lanes:
        fd = lane.sock.getsockopt(zmq.FD)
        by_fd[fd] = lane
        ep.register(fd, select.EPOLLIN)
    ready_fd = [ep.fileno()]
    pollin = int(zmq.POLLIN)
    events = int(zmq.EVENTS)

    def drain_if_ready(lane: Lane) -> None:
        if lane.sock.getsockopt(events) & pollin:
            lane.drain()

    for lane in lanes:
        lane.timing, lane.lat = True, []
        drain_if_ready(lane)
    n, step, k = int(rate * seconds), 1.0 / rate, len(lanes)
    lags: list[float] = []
    t0 = time.perf_counter() + 0.005
    i, end_by = 0, None
    try:
        while True:
            now = time.perf_counter()
            while i < n and t0 + i * step <= now:
                lags.append(now - (t0 + i * step))
                lane = lanes[i % k]
                lane.send_next()
                drain_if_ready(lane)
                i += 1
            for fd, _ in ep.poll(0):
                drain_if_ready(by_fd[fd])
            if i == n:
                if all(lane.acked == lane.seq for lane in lanes):
                    break
                end_by = end_by or now + timeout_s
                if now > end_by:
                    raise BenchError(f"acks missing {timeout_s} s after the last send")
                wait = 0.05
            else:
                wait = t0 + i * step - time.perf_counter()
            if wait > 0:   # select on the epoll's own fd: microseconds, where epoll_wait counts whole milliseconds
                select.select(ready_fd, [], [], wait)
    finally:
        ep.close()
    lat = [x for lane in lanes for x in lane.lat]
    for lane in lanes:
        lane.timing = False
    return lat, lags


def serve_echo() -> None:
    """Baseline server: ROUTER, unpack header and body, one ack each. Prints its endpoint, runs until killed."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.sndhwm = sock.rcvhwm = 100_000
    sock.bind("tcp://127.0.0.1:0")
    print(sock.last_endpoint.decode(), flush=True)
    gseq = 0
    while True:
        ident, sig, header, body = sock.recv_multipart()
        h = _unpack(header)
        _unpack(body)
        gseq += 1
        sock.send_multipart([ident, SIG, ACK_HEADER,
                             _pack({"epoch": h["epoch"], "seq": h["seq"], "gseq": gseq, "duplicate": False})])
