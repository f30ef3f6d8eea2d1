"""The station link's timers on a stepped monotonic clock: heartbeat, liveness and back-off, resend after the ack
timeout. The hub here is the test's own CURVE ROUTER on 127.0.0.1, so the test decides what is answered and when;
the clock moves only when the test steps it, and nothing waits for a timer to run out in real time. Also the
CURVE client-socket helper (protocols/curve.py) against the same hub."""
from __future__ import annotations

from typing import Any

import pytest
import zmq

from console.event.folder import EventFolder
from protocols import codec, keys
from protocols.curve import ClientKeys, client_socket
from protocols.messages import Ack, Hello, Welcome
from protocols.session import REPLIES, Session
from stations.link.client import StationClient
from stations.link.loop import BACKOFF_FIRST, LIVENESS, RESEND_AFTER
from stations.outbox.store import DELIVERED
from tests.wire import wait_for

pytestmark = pytest.mark.timeout(60)

HB = 1.0          # the welcome's heartbeat, in seconds of the stepped clock
QUIET = 0.3       # real seconds in which a message that is not due must not arrive


class SteppedClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class FakeHub:
    """A CURVE ROUTER with the console's real key that answers only what the test tells it to."""

    def __init__(self, folder: EventFolder) -> None:
        self.pair = keys.load_pair(folder.console_secret)
        self.ctx = zmq.Context()
        self.sock = self._router()
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"

    def _router(self) -> zmq.Socket:
        sock = self.ctx.socket(zmq.ROUTER)
        sock.linger = 0
        sock.curve_server = True
        sock.curve_publickey, sock.curve_secretkey = self.pair
        return sock

    def stop(self) -> None:
        self.sock.close(0)

    def start_again(self) -> None:
        """A hub restarted on the same endpoint: the station's libzmq reconnects by itself."""
        self.sock = self._router()
        self.sock.bind(self.endpoint)

    def recv(self, timeout: float = 10.0) -> tuple[bytes, codec.Envelope] | None:
        if not self.sock.poll(int(timeout * 1000)):
            return None
        peer, *frames = self.sock.recv_multipart()
        return peer, codec.decode(frames)

    def expect(self, type_: str, timeout: float = 10.0) -> tuple[bytes, codec.Envelope]:
        """The next message of `type_` (heartbeats in between are skipped unless asked for)."""
        while True:
            got = self.recv(timeout)
            assert got is not None, f"no {type_} from the station"
            if got[1].header.type == type_:
                return got
            assert got[1].header.type == "heartbeat", f"unexpected {got[1].header.type}"

    def nothing(self, but: str = "heartbeat") -> None:
        """Within QUIET real seconds, nothing arrives except `but`."""
        while (got := self.recv(QUIET)) is not None:
            assert got[1].header.type == but, f"{got[1].header.type} arrived before it was due"

    def reply(self, peer: bytes, message: Any) -> None:
        self.sock.send_multipart([peer, *REPLIES.frames(message)])

    def junk(self, peer: bytes) -> None:
        # Any frame counts as life (PROTOCOL.md 5.2); an unreadable one also shows in the station's
        # bad_frames, which tells the test the link has read it.
        self.sock.send_multipart([peer, b"junk"])

    def welcome(self, peer: bytes, last_seq: int = 0) -> None:
        self.reply(peer, Welcome(station="gate-1", post="gate", server_ms=1, heartbeat_ms=int(HB * 1000),
                                 last_seq=last_seq))

    def close(self) -> None:
        self.sock.close(0)
        self.ctx.term()


@pytest.fixture
def rig(event_dir):
    hub, mono = FakeHub(event_dir), SteppedClock()
    gate = StationClient("gate-1", event_dir.outbox("gate-1"), event_dir.station_key("gate-1"),
                         event_dir.console_public, hub.endpoint, heartbeat_ms=200, monotonic=mono).start()
    yield hub, gate, mono
    gate.close()
    hub.close()


def step(gate: StationClient, mono: SteppedClock, seconds: float) -> None:
    mono.now += seconds
    gate.wake()


def welcomed(hub: FakeHub, gate: StationClient) -> bytes:
    peer, hello = hub.expect("hello")
    assert hello.header.station == "gate-1" and hello.message.role == "station"
    hub.welcome(peer)
    wait_for(lambda: gate.status().state == "online" and gate.status().server_ms == 1, 10, "the welcome")
    return peer


def test_heartbeats_go_out_at_the_welcomes_interval_and_only_then(rig):
    hub, gate, mono = rig
    welcomed(hub, gate)   # the welcome's 1 s replaces the 200 ms the terminal was built with
    step(gate, mono, 0.5 * HB)
    hub.nothing(but="")
    step(gate, mono, 0.5 * HB)
    peer, beat = hub.expect("heartbeat", timeout=5)
    assert beat.message.outbox == 0 and beat.header.seq == 0
    step(gate, mono, 0.875 * HB)   # steps a float adds up exactly, so "one interval" is one interval
    hub.nothing(but="")
    step(gate, mono, 0.125 * HB)
    hub.expect("heartbeat", timeout=5)


def test_silence_for_the_liveness_drops_the_socket_and_reconnects_after_a_doubling_back_off(rig):
    hub, gate, mono = rig
    welcomed(hub, gate)
    step(gate, mono, LIVENESS * HB - 0.1)   # heartbeats go out, nothing comes back: still within liveness
    hub.nothing()
    assert gate.status().console_reachable
    step(gate, mono, 0.2)
    wait_for(lambda: (s := gate.status()).state == "unreachable" and not s.console_reachable, 10, "unreachable")
    assert gate.status().attempts == 1
    # First wait: 0.25 s (and up to 10 % more, so retries of many terminals spread out).
    step(gate, mono, BACKOFF_FIRST * 0.9)
    hub.nothing()
    step(gate, mono, BACKOFF_FIRST * 0.25)
    peer, _ = hub.expect("hello", timeout=5)
    wait_for(lambda: gate.status().attempts == 2, 10, "the second attempt")
    # An answer that is not a welcome keeps the link alive for a while but does not reset the waits.
    hub.junk(peer)
    wait_for(lambda: gate.status().bad_frames == 1, 10, "the link to read the frame")
    step(gate, mono, LIVENESS * HB + 0.1)
    wait_for(lambda: gate.status().state == "unreachable", 10, "dropped again")
    hub.nothing()
    step(gate, mono, 2 * BACKOFF_FIRST * 0.9)   # the next wait is twice as long
    hub.nothing()
    step(gate, mono, 2 * BACKOFF_FIRST * 0.25)
    peer, _ = hub.expect("hello", timeout=5)
    hub.welcome(peer)
    wait_for(lambda: (s := gate.status()).state == "online" and s.attempts == 3, 10, "online again")
    # The welcome started the waits again at the first one (PROTOCOL.md 5.2).
    step(gate, mono, LIVENESS * HB + 0.1)
    wait_for(lambda: gate.status().state == "unreachable", 10, "dropped a third time")
    hub.nothing()
    step(gate, mono, BACKOFF_FIRST * 1.15)
    hub.expect("hello", timeout=5)


def test_a_report_unanswered_on_a_live_link_is_sent_again_after_the_ack_timeout(rig):
    hub, gate, mono = rig
    welcomed(hub, gate)
    report = gate.submit("car_in", {"plate": "A1"})
    peer, first = hub.expect("car_in")
    assert first.header.seq == report.seq == 1
    # The link has finished the pass that sent it (it published the count) before the clock moves on.
    wait_for(lambda: gate.status().sent_frames == 1, 10, "the pass that sent the report")
    # Keep the link alive without answering the report: a frame every two seconds.
    elapsed = 0.0
    while elapsed + 2.0 < RESEND_AFTER:
        step(gate, mono, 2.0)
        elapsed += 2.0
        hub.expect("heartbeat", timeout=5)
        bad = gate.status().bad_frames
        hub.junk(peer)
        wait_for(lambda: gate.status().bad_frames == bad + 1, 10, "the link to read the frame")
    step(gate, mono, RESEND_AFTER - elapsed - 0.1)
    hub.nothing()
    step(gate, mono, 0.2)
    _, again = hub.expect("car_in", timeout=5)
    # The same report: its seq and the moment it was saved, however late the resend.
    assert (again.header.seq, again.header.sent_ms, again.message) == (1, first.header.sent_ms, first.message)
    hub.reply(peer, Ack(epoch=gate.outbox.epoch, seq=1, gseq=1))
    assert gate.wait_delivered(1, 10).state == DELIVERED


def test_a_hub_back_within_the_liveness_gets_one_hello_and_no_report_is_sent_twice(rig):
    """The flaky test_client case, step by step: a hub gone for less than the liveness, a clock past the
    hello's retry time while the connection is down. The retry used to wait in the pipe and reach the
    restarted hub after the reconnect's own hello; the second welcome then sent every unanswered report again."""
    hub, gate, mono = rig
    peer = welcomed(hub, gate)
    step(gate, mono, 2.0)
    hub.expect("heartbeat", timeout=5)
    hub.junk(peer)   # heard at +2 s: the link stays alive until +5 s
    wait_for(lambda: gate.status().bad_frames == 1, 10, "the link to read the frame")
    hub.stop()
    wait_for(lambda: not gate.status().connected, 10, "the disconnect")
    step(gate, mono, 1.5)   # +3.5 s: past the hello's retry (3 intervals), within the liveness
    wait_for(lambda: gate.status().state == "online", 10, "a pass on the stepped clock")
    hub.start_again()
    peer, _ = hub.expect("hello", timeout=10)
    hub.nothing()   # one hello: the one said after the new handshake
    hub.welcome(peer, last_seq=0)
    wait_for(lambda: gate.status().connected, 10, "the new session")
    report = gate.submit("car_in", {"plate": "B2"})
    peer, sent = hub.expect("car_in")
    hub.reply(peer, Ack(epoch=gate.outbox.epoch, seq=report.seq, gseq=1))
    assert gate.wait_delivered(report.seq, 10).state == DELIVERED
    hub.nothing()
    assert gate.status().sent_frames == 1


def test_the_curve_helper_makes_a_connected_client_and_closes_one_that_cannot_connect(event_dir):
    hub, ctx = FakeHub(event_dir), zmq.Context()
    try:
        pair = ClientKeys.load(event_dir.station_key("gate-1"), event_dir.console_public)
        sock = client_socket(ctx, zmq.DEALER, pair, sndhwm=7, connect=hub.endpoint)
        try:
            assert (sock.linger, sock.sndhwm) == (0, 7)
            # Through a CURVE handshake with the console's key: the keys are the right ones.
            sock.send_multipart(Session("gate-1", "e1", "station").frames(Hello(role="station")))
            got = hub.recv(10)
            assert got is not None and got[1].header.type == "hello" and got[1].header.station == "gate-1"
        finally:
            sock.close()
        with pytest.raises(zmq.ZMQError):
            client_socket(ctx, zmq.SUB, pair, subscribe=("feed",), connect="tcp://127.0.0.1:not-a-port")
    finally:
        hub.close()
        ctx.term()   # returns only once every socket of ctx is closed: the refused one was too
