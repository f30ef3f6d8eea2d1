"""The station's link to the console: a thread that drains the outbox over a CURVE DEALER and files instructions from a SUB; knows protocols and the outbox, never the screen.

Callers (a Textual terminal, the one-shot CLI, tests, simulated stations) only save into the
outbox through `submit` and read `status()`; the thread owns every socket. An event loop saves
and reads through a `worker()` of its own instead and reads `link_status()`, so it runs no SQLite.
What the console answered goes back into the outbox, and `on_change(kind, payload)` is called
from the thread with kind "report" (a Report whose state changed), "status" (a Status) or
"instruction" (an InboxItem) -- a Textual app marshals it with `post_message`.
"""
from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from protocols import codec, keys
from protocols.codec import ProtocolError
from protocols.messages import Committed, Welcome
from stations.link.worker import OutboxWorker, current
from stations.link.loop import Link
from stations.outbox.store import Outbox, Report
from stations.records import Status  # noqa: F401  (re-exported: callers read the link's Status from here)

log = logging.getLogger("eventdesk.station")

# Posts that check guests in keep a copy of the guest list (the concierge and the sign-in desk).
GUEST_POSTS = ("concierge", "lobby")


class StationClient:
    """One station's reliable sender. Thread-safe API; all socket work on one daemon thread."""

    def __init__(self, station_id: str, outbox_path: Path | str, secret_key_path: Path | str,
                 console_public_key_path: Path | str, endpoint: str, feed_endpoint: str | None = None,
                 role: str = "station", post: str | None = None, heartbeat_ms: int = 1000,
                 on_change: Callable[[str, Any], None] | None = None,
                 clock: Callable[[], float] = time.time, *, window: int = 200,
                 max_bytes: int = codec.MAX_BYTES, app: str = "eventdesk-station") -> None:
        self.station = station_id
        self.role = role
        self.endpoint, self.feed_endpoint = endpoint, feed_endpoint
        self.heartbeat_ms = heartbeat_ms
        self.window = window
        self.app = app
        self.on_change = on_change
        self.clock = clock
        self.public, self.secret = keys.load_pair(Path(secret_key_path))
        self.server_key = keys.load_public(Path(console_public_key_path))
        self.outbox = Outbox(outbox_path, station_id, max_bytes=max_bytes, clock=clock)
        self._post = post or ""
        self._status = Status(station_id, self.outbox.epoch, post=self._post)
        self._status_lock = threading.Lock()
        # Woken on every report state change, for wait_delivered / wait_drained.
        self._changed = threading.Condition()
        # A socketpair, not an inproc PAIR: any number of caller threads may write a byte
        # to it without sharing a zmq socket, and zmq.Poller watches its fd like a socket.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the public API -----------------------------------------------------------------------
    def start(self) -> StationClient:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"station-{self.station}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the sockets; the outbox stays open (and keeps everything)."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self) -> None:
        self.stop()
        self.outbox.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> StationClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, type_: str, body: dict[str, Any]) -> Report:
        """Save a report (raises ProtocolError if the console would refuse it) and wake the sender.

        On an OutboxWorker's thread the save goes through that worker's own connection.
        """
        report = self._outbox_here().save(type_, body)
        self._wake()
        return report

    def check(self, type_: str, body: dict[str, Any]) -> None:
        """Raise the ProtocolError `submit` would, touching no file (safe on an event loop)."""
        self.outbox.check(type_, body)

    def acknowledge_instruction(self, gseq: int) -> Report:
        """Confirm an instruction: an instruction_ack report, and the inbox remembers it was acked."""
        report = self.submit("instruction_ack", {"instruction": gseq})
        self._outbox_here().mark_instruction_acked(gseq)
        return report

    def worker(self, name: str = "") -> OutboxWorker:
        """A thread of the caller's own, with its own connection to this outbox, for saves and reads off a UI loop."""
        return OutboxWorker(self.outbox.path, self.station, max_bytes=self.outbox.max_bytes,
                                   clock=self.clock, name=name or f"outbox-{self.station}")

    def _outbox_here(self) -> Outbox:
        return current(self.outbox.path) or self.outbox

    def wait_delivered(self, seq: int, timeout: float) -> Report:
        """The report once delivered or rejected, or as it stands when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                report = self.outbox.get(seq)
                if report is None:
                    raise KeyError(f"no report {seq} in {self.outbox.path}")
                left = deadline - time.monotonic()
                if report.final or left <= 0:
                    return report
                self._changed.wait(min(left, 0.5))

    def wait_drained(self, timeout: float) -> bool:
        """True once nothing waits in the outbox; False if `timeout` runs out first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.outbox.depth():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def status(self) -> Status:
        with self._status_lock:
            current = self._status
        return dataclasses.replace(current, waiting=self.outbox.depth())

    def link_status(self) -> Status:
        """The status as the link thread last published it, `waiting` included: no SQLite, for an event loop."""
        with self._status_lock:
            return self._status

    @property
    def post(self) -> str:
        return self._post

    @property
    def wants_guests(self) -> bool:
        return self.role == "station" and self._post in GUEST_POSTS

    def guests(self) -> list[dict[str, Any]]:
        """The guest list as this terminal last received it (kept in the outbox, so it works offline)."""
        return self.outbox.guests()

    # --- called from the thread -----------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"!")
        except (BlockingIOError, OSError):
            pass  # the pipe is full (the loop will wake anyway) or closed (stopped)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _emit(self, kind: str, payload: Any) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(kind, payload)
        except Exception:  # a bad callback must not take the link down with it
            log.exception("on_change(%s) failed", kind)

    def _reports_changed(self, reports: list[Report]) -> None:
        if not reports:
            return
        for report in reports:
            self._emit("report", report)
        with self._changed:
            self._changed.notify_all()

    def _set_status(self, **changes: Any) -> None:
        with self._status_lock:
            old = self._status
            new = dataclasses.replace(old, **changes)
            self._status = new
        # Counters and last_heard_ms move with every frame; only tell the screen about real changes.
        quiet = dict(last_heard_ms=old.last_heard_ms, sent_frames=old.sent_frames, bad_frames=old.bad_frames)
        if dataclasses.replace(new, **quiet) != old:
            self._emit("status", new)

    def _run(self) -> None:
        link = Link(self)
        try:
            link.run()
        except Exception as exc:  # never expected; keep the reason visible on the terminal
            log.exception("station link stopped")
            self._set_status(last_error=f"link stopped: {exc!r}")
        finally:
            link.close()
            self._set_status(state="stopped", connected=False, console_reachable=False)

    # Message handlers the link calls, kept here because they speak in outbox terms.
    def _welcomed(self, welcome: Welcome) -> None:
        if welcome.post and welcome.post != self._post:
            self._post = welcome.post
        self._set_status(post=self._post, drill=welcome.drill, event=welcome.event, server_ms=welcome.server_ms)
        for raw in welcome.instructions:
            self._listed_instruction(raw)

    def _listed_instruction(self, raw: Any) -> None:
        """An open instruction from a welcome or an instruction page (a repeat is harmless: kept once by gseq)."""
        try:
            self._instruction(codec.build(Committed.TYPE, raw))
        except ProtocolError as exc:
            log.warning("bad instruction in a welcome or page: %s", exc)

    def _guest_list(self, digest: str, guests: list[dict[str, Any]]) -> None:
        self.outbox.replace_guests(digest, guests)
        self._emit("guests", len(guests))

    def _instruction(self, committed: Committed) -> None:
        if committed.type != "instruction":
            return
        body = codec.build("instruction", committed.body)
        item, new = self.outbox.store_instruction(committed.gseq, body.target, body.text, body.ack_required,
                                                  text_en=body.text_en, plan=body.plan, run=body.run,
                                                  step=body.step, guest=body.guest, notice=body.notice,
                                                  gate=body.gate)
        if new:
            self._emit("instruction", item)

