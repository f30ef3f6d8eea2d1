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
import threading
import time
from pathlib import Path
from typing import Any, Callable

from protocols import codec
from protocols.codec import ProtocolError
from protocols.curve import ClientKeys
from protocols.messages import Committed, Welcome
from stations.link.host import LinkSettings, Wake
from stations.link.loop import Link
from stations.link.worker import OutboxWorker, current
from stations.outbox.store import Outbox, Report
from stations.records import Status  # callers read the link's Status from here too

log = logging.getLogger("eventdesk.station")

# Posts that check guests in keep a copy of the guest list (the concierge and the sign-in desk).
GUEST_POSTS = ("concierge", "lobby")
# The event summary's lines a hub may publish again (type `summary`), and the field that names each line.
SUMMARY_KEYS = {"tasks": "id", "roster": "key", "lots": "id"}


class ClientEvents:
    """The client's half of the link's interface (stations/link/host.py's LinkEvents): the status it
    publishes, the outbox changes it announces, and the welcome, instructions and guest list it files.

    Called on the link's thread; `status` and the waits read it from any thread."""

    def __init__(self, station: str, outbox: Outbox, post: str, role: str,
                 on_change: Callable[[str, Any], None] | None) -> None:
        self.outbox, self.role = outbox, role
        self.on_change = on_change
        self._post = post
        self._status = Status(station, outbox.epoch, post=post)
        self._status_lock = threading.Lock()
        # Woken on every report state change, for wait_delivered / wait_drained.
        self.changed = threading.Condition()

    @property
    def post(self) -> str:
        return self._post

    @property
    def wants_guests(self) -> bool:
        return self.role == "station" and self._post in GUEST_POSTS

    def status(self) -> Status:
        with self._status_lock:
            return self._status

    def emit(self, kind: str, payload: Any) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(kind, payload)
        except Exception:  # a bad callback must not take the link down with it
            log.exception("on_change(%s) failed", kind)

    def reports_changed(self, reports: list[Report]) -> None:
        if not reports:
            return
        for report in reports:
            self.emit("report", report)
        with self.changed:
            self.changed.notify_all()

    def set_status(self, **changes: Any) -> None:
        with self._status_lock:
            old = self._status
            new = dataclasses.replace(old, **changes)
            self._status = new
        # Counters and last_heard_ms move with every frame; only tell the screen about real changes.
        quiet = dict(last_heard_ms=old.last_heard_ms, sent_frames=old.sent_frames, bad_frames=old.bad_frames)
        if dataclasses.replace(new, **quiet) != old:
            self.emit("status", new)

    # What the console said, filed in outbox terms.
    def welcomed(self, welcome: Welcome) -> None:
        if welcome.post and welcome.post != self._post:
            self._post = welcome.post
        self.set_status(post=self._post, drill=welcome.drill, event=welcome.event, server_ms=welcome.server_ms)
        for raw in welcome.instructions:
            self.listed_instruction(raw)

    def listed_instruction(self, raw: Any) -> None:
        """An open instruction from a welcome or an instruction page (a repeat is harmless: kept once by gseq)."""
        try:
            self.instruction(codec.build(Committed.TYPE, raw))
        except ProtocolError as exc:
            log.warning("bad instruction in a welcome or page: %s", exc)

    def guest_list(self, digest: str, guests: list[dict[str, Any]]) -> None:
        self.outbox.replace_guests(digest, guests)
        self.emit("guests", len(guests))

    def summary_line(self, committed: Committed) -> None:
        """Put the line in place of the one with the same key in the welcome's summary (or add it): what the
        duty screen and the parking tally read follows the desk and the other terminals without a reconnect."""
        part, item = committed.body.get("part"), committed.body.get("item")
        key = SUMMARY_KEYS.get(part) if isinstance(part, str) else None
        if key is None or not isinstance(item, dict) or not item.get(key):
            return
        event = dict(self.status().event or {})
        if not isinstance(event.get(part), list):
            return   # no welcome yet: the one to come carries the line
        rows = [r for r in event.get(part, ()) if isinstance(r, dict)]
        at = next((i for i, r in enumerate(rows) if r.get(key) == item[key]), None)
        if at is None:
            rows.append(item)
        else:
            rows[at] = item
        event[part] = rows
        self.set_status(event=event)

    def instruction(self, committed: Committed) -> None:
        if committed.type == "phone_revoke":   # a desk revoked this station's phones: the station server acts on it
            self.emit("phone_revoke", committed.body)
            return
        if committed.type != "instruction":
            return
        body = codec.build("instruction", committed.body)
        item, new = self.outbox.store_instruction(committed.gseq, body.target, body.text, body.ack_required,
                                                  text_en=body.text_en, plan=body.plan, run=body.run,
                                                  step=body.step, guest=body.guest, notice=body.notice,
                                                  gate=body.gate)
        if new:
            self.emit("instruction", item)


class StationClient:
    """One station's reliable sender. Thread-safe API; all socket work on one daemon thread.

    `clock` (epoch seconds) stamps reports and messages; `monotonic` (seconds) drives the link's
    timers -- heartbeat, liveness, resend, back-off -- so a test can step it instead of waiting."""

    def __init__(self, station_id: str, outbox_path: Path | str, secret_key_path: Path | str,
                 console_public_key_path: Path | str, endpoint: str, feed_endpoint: str | None = None,
                 role: str = "station", post: str | None = None, heartbeat_ms: int = 1000,
                 on_change: Callable[[str, Any], None] | None = None,
                 clock: Callable[[], float] = time.time, *, window: int = 200,
                 max_bytes: int = codec.MAX_BYTES, app: str = "eventdesk-station",
                 monotonic: Callable[[], float] = time.monotonic,
                 others: tuple[tuple[str, str | None], ...] = ()) -> None:
        self.station = station_id
        self.role = role
        self.endpoint, self.feed_endpoint = endpoint, feed_endpoint
        self.heartbeat_ms = heartbeat_ms
        self.window = window
        self.app = app
        self.clock = clock
        self.curve = ClientKeys.load(secret_key_path, console_public_key_path)
        self.outbox = Outbox(outbox_path, station_id, max_bytes=max_bytes, clock=clock)
        self.settings = LinkSettings(station_id, role, app, endpoint, feed_endpoint, self.curve,
                                     heartbeat_ms=heartbeat_ms, window=window, clock=clock, monotonic=monotonic,
                                     others=tuple(others))
        self.events = ClientEvents(station_id, self.outbox, post or "", role, on_change)
        self._wake = Wake()
        self._stopping = threading.Event()
        self._bye = ""   # set by close(): the reason the link's last frame gives the hub (5.2); empty: none
        self._thread: threading.Thread | None = None

    @property
    def on_change(self) -> Callable[[str, Any], None] | None:
        return self.events.on_change

    @on_change.setter
    def on_change(self, callback: Callable[[str, Any], None] | None) -> None:
        self.events.on_change = callback

    # --- the public API -----------------------------------------------------------------------
    def start(self) -> StationClient:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"station-{self.station}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the sockets; the outbox stays open (and keeps everything)."""
        self._stopping.set()
        self._wake.ring()
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self, bye: str = "quit") -> None:
        """A clean stop: the link says `bye` (PROTOCOL.md 5.2, with the reason given) so the desk shows the station
        closed, not offline, then stops; `bye=""` stops without it (the one-shot, which is no terminal)."""
        self._bye = bye
        self.stop()
        self.outbox.close()
        self._wake.close()

    def __enter__(self) -> StationClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wake(self) -> None:
        """Have the link look at its sockets and timers now (after a save, or a test's step of its clock)."""
        self._wake.ring()

    def submit(self, type_: str, body: dict[str, Any]) -> Report:
        """Save a report (raises ProtocolError if the console would refuse it) and wake the sender.

        On an OutboxWorker's thread the save goes through that worker's own connection.
        """
        report = self._outbox_here().save(type_, body)
        self._wake.ring()
        return report
    def check(self, type_: str, body: dict[str, Any]) -> None:
        """Raise the ProtocolError `submit` would, touching no file (safe on an event loop)."""
        self.outbox.check(type_, body)

    def acknowledge_instruction(self, gseq: int, person: str = "") -> Report:
        """Confirm an instruction: an instruction_ack report (with who is signed in here, when someone is),
        and the inbox remembers it was acked."""
        report = self.submit("instruction_ack", {"instruction": gseq} | ({"person": person} if person else {}))
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
        with self.events.changed:
            while True:
                report = self.outbox.get(seq)
                if report is None:
                    raise KeyError(f"no report {seq} in {self.outbox.path}")
                left = deadline - time.monotonic()
                if report.final or left <= 0:
                    return report
                self.events.changed.wait(min(left, 0.5))

    def wait_drained(self, timeout: float) -> bool:
        """True once nothing waits in the outbox; False if `timeout` runs out first."""
        deadline = time.monotonic() + timeout
        with self.events.changed:
            while self.outbox.depth():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.events.changed.wait(min(left, 0.5))
        return True

    def status(self) -> Status:
        return dataclasses.replace(self.events.status(), waiting=self.outbox.depth())

    def link_status(self) -> Status:
        """The status as the link thread last published it, `waiting` included: no SQLite, for an event loop."""
        return self.events.status()

    @property
    def post(self) -> str:
        return self.events.post

    @property
    def wants_guests(self) -> bool:
        return self.events.wants_guests

    def guests(self) -> list[dict[str, Any]]:
        """The guest list as this terminal last received it (kept in the outbox, so it works offline)."""
        return self.outbox.guests()

    # --- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        link = Link(self.settings, self.outbox, self.events, self._wake, self._stopping)
        try:
            link.run()
            if self._bye:
                link.bye(self._bye)
        except Exception as exc:  # never expected; keep the reason visible on the terminal
            log.exception("station link stopped")
            self.events.set_status(last_error=f"link stopped: {exc!r}")
        finally:
            link.close()
            self.events.set_status(state="stopped", connected=False, console_reachable=False)
