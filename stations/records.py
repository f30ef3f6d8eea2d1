"""What a station holds and shows, as values: reports and instructions as the outbox keeps them, and the link's status.

Pure data shared by the outbox (which stores them), the link (which fills them in) and the
terminal's screens and widgets (which render them), so the screens need neither SQLite nor sockets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAVED, SENT, DELIVERED, REJECTED = "saved", "sent", "delivered", "rejected"
STATES = (SAVED, SENT, DELIVERED, REJECTED)
UNACKED = (SAVED, SENT)


@dataclass(frozen=True, slots=True)
class Report:
    """One report as the outbox holds it. `body` is the full body as sent (defaults filled in)."""

    seq: int
    type: str
    body: dict[str, Any]
    state: str
    created_ms: int
    gseq: int | None = None
    code: str = ""
    reason: str = ""
    reason_zh: str = ""
    updated_ms: int = 0

    @property
    def final(self) -> bool:
        return self.state in (DELIVERED, REJECTED)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An instruction from the desk; `id` is its global sequence in the console's log."""

    id: int
    target: str
    text: str
    ack_required: bool
    received_ms: int
    acked_ms: int | None = None
    text_en: str = ""
    plan: str = ""     # set when a contingency plan sent it, with its run (gseq) and step id
    run: int = 0
    step: str = ""
    guest: str = ""    # set when the hub hands a guest on: the guest's ref and "vip" or "needs"
    notice: str = ""
    gate: str = ""     # an order to the gate: "hold" or "resume"

    def text_for(self, lang: str) -> str:
        """The text in `lang` ("en" or "zh"), falling back to the one the desk wrote."""
        return self.text_en if lang == "en" and self.text_en else self.text


@dataclass(frozen=True)
class Status:
    """What the terminal shows about its link. Times are epoch ms from the client's clock."""

    station: str
    epoch: str
    state: str = "connecting"        # connecting | online | unreachable | stopped
    connected: bool = False          # a CURVE session is up right now
    console_reachable: bool = False  # the console answered within 3 heartbeat intervals
    key_mismatch_suspected: bool = False  # handshakes fail: console.key is not this console's
    key_refused: bool = False        # the console does not admit this terminal's key
    waiting: int = 0                 # reports in the outbox not yet acknowledged
    last_heard_ms: int | None = None
    last_error: str = ""
    feed_connected: bool = False     # the instruction feed (SUB) has a session
    attempts: int = 0                # sockets built so far (1 + reconnects)
    bad_frames: int = 0              # frames from the console that failed to decode
    sent_frames: int = 0             # report frames put on the wire, resends included
    post: str = ""
    drill: bool = False
    event: dict[str, Any] = field(default_factory=dict)
    server_ms: int = 0
