"""Session: who is sending (id, role, epoch, a clock for the header's sent_ms) and how its messages become frames; pure

Every frame a station, a desk or the hub puts on the wire is built here, so a header is stamped
one way (PROTOCOL.md 3: signature, header `{type, station, epoch, seq, sent_ms}`, body), as
jupyter_client's `Session` does for Jupyter. The bytes are `codec.encode`'s, which a clean-room
client follows from the spec; a Session only remembers the sender's half of the header.
Knows no sockets, no files; time comes from the clock it is given.
"""
from __future__ import annotations

from typing import Any, Callable

from protocols import codec
from protocols.bounds import topic_frame
from protocols.messages import Message, body_of


class Session:
    """One sender's identity on the wire. `clock` gives epoch seconds for `sent_ms`; without one it is 0.

    The hub's replies and publications use `REPLIES`: an empty station and epoch, seq 0 and
    sent_ms 0, as they always have (a reply is about the peer's message, not a fact of the hub's).
    """

    __slots__ = ("station", "epoch", "role", "clock")

    def __init__(self, station: str = "", epoch: str = "", role: str = "",
                 clock: Callable[[], float] | None = None) -> None:
        self.station, self.epoch, self.role, self.clock = station, epoch, role, clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000) if self.clock is not None else 0

    def frames(self, message: Message, seq: int = 0, sent_ms: int | None = None) -> list[bytes]:
        """The three frames of `message`, stamped now (or at `sent_ms`, a moment the caller keeps)."""
        return self.body_frames(message.TYPE, body_of(message), seq, sent_ms)

    def body_frames(self, type_: str, body: Any, seq: int = 0, sent_ms: int | None = None) -> list[bytes]:
        """The frames of a body already in wire form: a saved report, sent as it was saved."""
        stamp = self.now_ms() if sent_ms is None else sent_ms
        return codec.encode_body(type_, body, self.station, self.epoch, seq, stamp)

    def topic_frames(self, topic: str, message: Message) -> list[bytes]:
        """A PUB message: the topic frame (`bounds.topic_frame`), then the usual three."""
        return [topic_frame(topic), *self.frames(message)]

    def size(self, message: Message, seq: int = 0) -> int:
        """Bytes on the wire of `message` in this session: what the size limit counts."""
        return sum(len(f) for f in self.frames(message, seq))


# The hub's session: replies on the ROUTER and publications on the PUB.
REPLIES = Session()
