"""A thread with its own outbox connection that runs jobs in order (saves, then reads for a screen); never imports Textual.

A Textual event loop hands its SQLite work here (a submission's fsync, a view's queries) and is
told the outcome through `done`, called on this thread: the caller marshals it (`post_message`).
One connection per thread: this one is opened and used only here. While a job runs,
`StationClient.submit` on this thread saves through this connection (`current`), so a save from
a screen never shares the link thread's connection nor waits behind its commits.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

from protocols import codec
from stations.outbox.store import Outbox

log = logging.getLogger("eventdesk.station")

_here = threading.local()
Job = Callable[[Outbox], Any]
Done = Callable[[Any], None]   # given the job's result, or the exception it raised


def current(path: Path) -> Outbox | None:
    """The outbox of the worker running on this thread, when it is the file at `path`."""
    outbox = getattr(_here, "outbox", None)
    return outbox if outbox is not None and outbox.path == path else None


class OutboxWorker:
    """Runs `job(outbox)` one at a time, in the order given, on one daemon thread."""

    def __init__(self, path: Path, station: str, *, max_bytes: int = codec.MAX_BYTES,
                 clock: Callable[[], float] = time.time, name: str = "outbox-worker") -> None:
        self.path, self.station, self.max_bytes, self.clock = Path(path), station, max_bytes, clock
        self._jobs: queue.SimpleQueue[tuple[Job, Done] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def do(self, job: Job, done: Done) -> None:
        self._jobs.put((job, done))

    def close(self, timeout: float = 5.0) -> None:
        """Finish the jobs already given (a submission in flight is saved), then close the connection."""
        self._jobs.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        outbox: Outbox | BaseException
        try:
            outbox = Outbox(self.path, self.station, max_bytes=self.max_bytes, clock=self.clock)
        except Exception as exc:   # an unusable file: every job is answered with why
            outbox = exc
        _here.outbox = outbox if isinstance(outbox, Outbox) else None
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                try:
                    result = job(outbox) if isinstance(outbox, Outbox) else outbox
                except Exception as exc:   # the job's refusal is its answer, never the thread's end
                    result = exc
                try:
                    done(result)
                except Exception:
                    log.exception("an outbox job's answer failed")
        finally:
            if isinstance(outbox, Outbox):
                outbox.close()
