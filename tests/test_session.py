"""protocols.session: every frame built through a Session is the bytes PROTOCOL.md documents, for a station's
messages, its saved reports and the hub's replies and publications; pure."""
from __future__ import annotations

import re

import msgpack

from protocols import codec
from protocols.bounds import topic_frame
from protocols.messages import Ack, CarIn, Heartbeat, Hello, Presence
from protocols.session import REPLIES, Session
from protocols.spec_tables import EXAMPLE, SPEC_PATH


def documented_frames() -> list[bytes]:
    """The worked example's three frames, read back from the hex dump in PROTOCOL.md itself."""
    text = SPEC_PATH.read_text("utf-8")
    block = text[text.index("frame 0, signature"):]
    block = block[:block.index("```")]
    frames = re.split(r"frame \d, [a-z]+ \(\d+ bytes\):\n", block)[1:]
    return [bytes.fromhex(" ".join(line.strip() for line in f.strip().splitlines())) for f in frames]


class SteppedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_station_session_builds_the_spec_worked_example_byte_for_byte():
    session = Session(EXAMPLE["station"], EXAMPLE["epoch"], "station")
    frames = session.frames(EXAMPLE["message"], seq=EXAMPLE["seq"], sent_ms=EXAMPLE["sent_ms"])
    assert frames == documented_frames()
    assert codec.decode(frames).message == EXAMPLE["message"]


def test_the_header_is_stamped_from_the_sessions_clock_and_nothing_else():
    clock = SteppedClock(1_796_434_867.25)
    session = Session("gate-1", "e1", "station", clock)
    first = codec.decode(session.frames(Heartbeat(outbox=3))).header
    clock.now += 2.5
    second = codec.decode(session.frames(Heartbeat(outbox=3))).header
    assert (first.station, first.epoch, first.seq, first.sent_ms) == ("gate-1", "e1", 0, 1_796_434_867_250)
    assert second.sent_ms - first.sent_ms == 2500
    # the same message at a moment the caller keeps (a saved report's) ignores the clock
    assert codec.decode(session.frames(CarIn(), seq=7, sent_ms=5)).header.sent_ms == 5


def test_a_saved_report_goes_out_with_its_stored_body_and_saved_time():
    """The link sends a report's body as the outbox holds it, not rebuilt from a dataclass."""
    session = Session("gate-1", "e1", "station", SteppedClock(9_999.0))
    body = {"plate": "A1", "vip": False, "count": 2, "release": False}
    frames = session.body_frames("car_in", body, seq=4, sent_ms=1234)
    assert frames == codec.encode(CarIn(plate="A1", count=2), "gate-1", "e1", 4, 1234)
    env = codec.decode(frames)
    assert (env.header.type, env.header.seq, env.header.sent_ms) == ("car_in", 4, 1234)


def test_the_hubs_replies_keep_the_header_they_always_had():
    """PROTOCOL.md 4.2: a hub message carries its type; station and epoch empty, seq and sent_ms 0."""
    ack = Ack(epoch="e1", seq=3, gseq=10)
    frames = REPLIES.frames(ack)
    assert frames == codec.encode(ack)
    assert msgpack.unpackb(frames[1]) == {"type": "ack", "station": "", "epoch": "", "seq": 0, "sent_ms": 0}
    assert REPLIES.size(ack) == sum(len(f) for f in frames)


def test_a_publication_is_its_topic_frame_then_the_reply_frames():
    presence = Presence(server_ms=5, stations={}, gseq=1)
    frames = REPLIES.topic_frames("presence", presence)
    assert frames == [topic_frame("presence"), *codec.encode(presence)]
    assert frames == codec.encode_topic("presence", presence)


def test_a_desk_session_names_the_desk_and_its_role():
    session = Session("desk-1", "desk", "desk", SteppedClock(1.0))
    env = codec.decode(session.frames(Hello(role=session.role, app="eventdesk-desk")))
    assert (env.header.station, env.header.epoch, env.message.role, env.header.sent_ms) == ("desk-1", "desk", "desk", 1000)
