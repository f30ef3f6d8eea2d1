"""What a station's link is given by its owner: settings, the events it reports back through, and a wake-up pipe; no zmq, no screen

The link (stations/link/loop.py) sees its client only through these: it reads `LinkSettings`,
tells `LinkEvents` what happened (status, reports, welcome, instructions, guest list) and sleeps
on a `Wake` that any thread may ring. Nothing here reaches into the client, so the link can be
driven by anything that offers the same few methods.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from protocols.messages import Committed, Welcome

if TYPE_CHECKING:   # names for the type hints only: this interface loads no zmq and no SQLite
    from protocols.curve import ClientKeys
    from stations.outbox.store import Report


@dataclass(frozen=True)
class LinkSettings:
    """Who the link speaks for, where to, and its two clocks: `clock` (epoch seconds) stamps messages,
    `monotonic` (seconds) drives every timer, so a test can step it."""

    station: str
    role: str
    app: str
    endpoint: str
    feed_endpoint: str | None
    curve: ClientKeys
    heartbeat_ms: int = 1000
    window: int = 200
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    # Two hubs (PROTOCOL.md 5.13): the other hubs' (ROUTER, feed), moved to in turn after a liveness timeout.
    others: tuple[tuple[str, str | None], ...] = ()

    def hubs(self) -> tuple[tuple[str, str | None], ...]:
        """(ROUTER, feed) of every hub this link may use, the one it starts with first."""
        return ((self.endpoint, self.feed_endpoint), *self.others)


class LinkEvents(Protocol):
    """What the link tells its owner, always from the link's own thread."""

    @property
    def post(self) -> str:
        """The post this terminal serves now ("" before a welcome names one): it picks the feed topics."""

    @property
    def wants_guests(self) -> bool:
        """Whether this terminal keeps a copy of the guest list."""

    def set_status(self, **changes: Any) -> None: ...

    def reports_changed(self, reports: list[Report]) -> None: ...

    def welcomed(self, welcome: Welcome) -> None: ...

    def listed_instruction(self, raw: Any) -> None: ...

    def instruction(self, committed: Committed) -> None: ...

    def summary_line(self, committed: Committed) -> None:
        """A task, roster slot or lot of the welcome's event summary as it stands now (PROTOCOL.md 5.10)."""

    def guest_list(self, digest: str, guests: list[dict[str, Any]]) -> None: ...


class Wake:
    """A socketpair, not an inproc PAIR: any number of threads may ring it without sharing a zmq
    socket, and zmq.Poller watches its fd like a socket."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    def fileno(self) -> int:
        return self._r.fileno()

    def ring(self) -> None:
        try:
            self._w.send(b"!")
        except (BlockingIOError, OSError):
            pass  # the pipe is full (the loop will wake anyway) or closed (stopped)

    def drain(self) -> None:
        try:
            while self._r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        self._r.close()
        self._w.close()
