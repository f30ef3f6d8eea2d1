"""A station written only from protocols/PROTOCOL.md, with plain `zmq` and `msgpack`.

Nothing of ours is imported to speak the protocol: the hub is started with
console.hub.server.run_in_thread, keys are read with zmq.auth.load_certificate, the log is read
with sqlite3. If this file passes, the document is enough to build a terminal (section 11).
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq
import zmq.auth

from console.hub.server import run_in_thread  # only to start the hub

pytestmark = pytest.mark.timeout(60)

SIGNATURE = b"EVENTDESK/1"                        # section 1 / 4.1
HEADER_FIELDS = {"type", "station", "epoch", "seq", "sent_ms"}   # section 4.2


def now_ms() -> int:
    return int(time.time() * 1000)                # section 4: integer epoch milliseconds


class Peer:
    """One client (station or desk) as section 11 describes it: a CURVE DEALER, optionally a SUB."""

    def __init__(self, ctx: zmq.Context, root: Path, kind: str, ident: str, endpoint: str,
                 feed: str | None = None, topics: tuple[str, ...] = ()) -> None:
        self.ident, self.epoch = ident, "indep-0001"
        server_public, _ = zmq.auth.load_certificate(str(root / "keys" / "console.key"))
        public, secret = zmq.auth.load_certificate(str(root / "keys" / kind / f"{ident}.key_secret"))
        self.ctx, self.endpoint = ctx, endpoint
        self.keys = (public, secret, server_public)
        self.dealer = self._dealer()
        self.sub = None
        if feed:
            self.sub = ctx.socket(zmq.SUB)
            self._curve(self.sub)
            for topic in topics:   # section 3: a topic frame is the name and a full stop
                self.sub.setsockopt(zmq.SUBSCRIBE, (topic + ".").encode())
            self.sub.connect(feed)
        self.topics = set(topics)

    def _curve(self, sock: zmq.Socket) -> None:   # section 2.1
        public, secret, server_public = self.keys
        sock.linger = 0
        sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = public, secret, server_public

    def _dealer(self) -> zmq.Socket:
        sock = self.ctx.socket(zmq.DEALER)
        self._curve(sock)
        sock.connect(self.endpoint)
        return sock

    def reconnect(self) -> None:
        """Section 5.2: close with LINGER=0, build a new DEALER, hello again."""
        self.dealer.close(linger=0)
        self.dealer = self._dealer()

    def send(self, type_: str, body: dict[str, Any], seq: int = 0, sent_ms: int | None = None,
             station: str | None = None) -> None:
        header = {"type": type_, "station": self.ident if station is None else station, "epoch": self.epoch,
                  "seq": seq, "sent_ms": now_ms() if sent_ms is None else sent_ms}
        self.dealer.send_multipart([SIGNATURE, msgpack.packb(header), msgpack.packb(body)])

    @staticmethod
    def _check(frames: list[bytes]) -> tuple[dict, dict]:
        """Section 4: read the hub's messages with the same checks the hub applies."""
        assert len(frames) == 3, f"expected 3 frames, got {len(frames)}"
        assert frames[0] == SIGNATURE
        header = msgpack.unpackb(frames[1], raw=False, strict_map_key=True)
        body = msgpack.unpackb(frames[2], raw=False, strict_map_key=True)
        assert isinstance(header, dict) and set(header) <= HEADER_FIELDS and isinstance(header["type"], str)
        assert isinstance(body, dict) and all(isinstance(k, str) for k in body)
        return header, body

    def recv(self, timeout: float = 5.0, skip: tuple[str, ...] = ("heartbeat",)) -> tuple[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.dealer.poll(int(left * 1000)):
                raise AssertionError(f"{self.ident}: no answer within {timeout} s")
            header, body = self._check(self.dealer.recv_multipart())
            if header["type"] not in skip:
                return header["type"], body

    def hello(self, role: str) -> dict:
        self.send("hello", {"role": role, "app": "independent/1", "outbox": 0})
        type_, body = self.recv()
        assert type_ == "welcome", (type_, body)
        return body

    def published(self, timeout: float = 5.0) -> tuple[str, dict, dict]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sub.poll(int(left * 1000)):
                raise AssertionError(f"{self.ident}: nothing published within {timeout} s")
            frames = self.sub.recv_multipart()
            topic = frames[0].decode("utf-8")[:-1]
            if topic not in self.topics:           # section 3: compare the topic for equality all the same
                continue
            header, body = self._check(frames[1:])
            return topic, header, body

    def close(self) -> None:
        self.dealer.close(linger=0)
        if self.sub is not None:
            self.sub.close(linger=0)


def test_a_station_built_from_the_protocol_document_alone(event_dir):
    hub = run_in_thread(event_dir)
    ctx = zmq.Context()
    root = Path(event_dir.root)
    try:
        gate = Peer(ctx, root, "stations", "gate-1", hub.endpoint, hub.feed, ("all", "post.gate", "station.gate-1"))
        desk = Peer(ctx, root, "desks", "desk-1", hub.endpoint)

        # 5.1 hello -> welcome
        welcome = gate.hello("station")
        assert welcome["station"] == "gate-1" and welcome["post"] == "gate"
        assert welcome["last_seq"] == 0 and welcome["drill"] is False and welcome["instructions"] == []
        assert isinstance(welcome["heartbeat_ms"], int) and welcome["heartbeat_ms"] >= 1
        assert isinstance(welcome["event"], dict) and welcome["event"]["name"]
        heartbeat_s = welcome["heartbeat_ms"] / 1000

        # 5.3 twenty reports, pipelined, each acked after the commit with its gseq
        saved_ms = {}
        for seq in range(1, 21):
            saved_ms[seq] = now_ms()
            if seq % 2:
                gate.send("car_in", {"plate": f"湘A·{seq:05d}", "vip": False, "count": 1}, seq, saved_ms[seq])
            else:
                gate.send("guest_arrival", {"count": 2, "guest_ref": f"G{seq}", "vip_level": "", "note": "独立终端"},
                          seq, saved_ms[seq])
        gseqs = {}
        for seq in range(1, 21):
            type_, ack = gate.recv()
            assert type_ == "ack", ack
            assert (ack["epoch"], ack["seq"], ack["duplicate"]) == (gate.epoch, seq, False)
            gseqs[seq] = ack["gseq"]
        assert sorted(gseqs.values()) == list(gseqs.values())

        # 5.4 one report finally rejected: an acknowledgement of an instruction that does not exist
        gate.send("instruction_ack", {"instruction": 999999}, 21)
        type_, nack = gate.recv()
        assert type_ == "nack" and nack["code"] == "E_UNKNOWN" and nack["retry"] is False
        assert (nack["epoch"], nack["seq"]) == (gate.epoch, 21)
        assert nack["reason"] and nack["reason_zh"]
        # ... which counts as handled: the next seq is taken
        gate.send("car_out", {"plate": "湘A·00001", "count": 1}, 22)
        type_, ack = gate.recv()
        assert type_ == "ack" and ack["seq"] == 22

        # 5.2 heartbeats: each one answered with a heartbeat, for a few intervals
        for _ in range(3):
            gate.send("heartbeat", {"outbox": 0})
            type_, body = gate.recv(timeout=heartbeat_s * 3, skip=())
            assert type_ == "heartbeat" and isinstance(body, dict)
            time.sleep(heartbeat_s / 4)

        # 5.2 / 6: rebuild the socket, hello again, resend: a duplicate ack with the same gseq
        gate.reconnect()
        assert gate.hello("station")["last_seq"] == 22
        gate.send("car_in", {"plate": "湘A·00019", "vip": False, "count": 1}, 19, saved_ms[19])
        type_, ack = gate.recv()
        assert type_ == "ack" and ack["duplicate"] is True and ack["gseq"] == gseqs[19]

        # 5.7 an instruction to the gate post reaches this station's SUB; it answers through its reports
        assert desk.hello("desk")["post"] == "desk"
        deadline, desk_seq = time.monotonic() + 10, 0
        while True:     # a SUB's subscription takes a moment to reach the hub: send again until one arrives
            assert time.monotonic() < deadline, "the instruction never arrived on post.gate"
            desk_seq += 1
            desk.send("instruction", {"target": "post.gate", "text": "关闭东门", "ack_required": True}, desk_seq)
            type_, ack = desk.recv()
            assert type_ == "ack" and ack["seq"] == desk_seq
            try:
                topic, header, event = gate.published(timeout=1.0)
                break
            except AssertionError:
                continue
        assert topic == "post.gate" and header["type"] == "event" and event["type"] == "instruction"
        assert event["body"]["text"] == "关闭东门" and event["station"] == "desk-1"
        instruction_id = event["gseq"]
        gate.send("instruction_ack", {"instruction": instruction_id}, 23)
        type_, ack = gate.recv()
        assert type_ == "ack" and ack["seq"] == 23

        # The log holds each accepted report once, with the body as sent and sent_ms as saved.
        conn = sqlite3.connect(str(root / "event.db"))
        try:
            rows = conn.execute("SELECT seq, gseq, station_ms FROM events WHERE station = 'gate-1'"
                                " ORDER BY seq").fetchall()
            rejected = conn.execute("SELECT seq, code FROM rejections WHERE station = 'gate-1'").fetchall()
        finally:
            conn.close()
        assert [r[0] for r in rows] == [*range(1, 21), 22, 23]
        assert all(gseqs[s] == g and saved_ms[s] == ms for s, g, ms in rows if s <= 20)
        assert rejected == [(21, "E_UNKNOWN")]
        gate.close()
        desk.close()
    finally:
        ctx.destroy(linger=0)
        hub.stop()
