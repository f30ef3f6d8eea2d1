"""The log's writer thread: each commit runs beside the hub's socket loop, so a slow or locked disk never holds up a heartbeat.

The hub hands one batch at a time to `start` and keeps serving its sockets while it waits; `fd`
becomes readable when the commit is done, and `result` returns its gseqs or raises StoreError.
Only this thread touches the writing connection while a commit is in flight. Knows the store;
knows nothing of ZeroMQ.
"""
from __future__ import annotations

import socket
import threading
from typing import Callable

from console.hub.store import StoreError


class Writer:
    """One commit at a time on a thread of its own."""

    def __init__(self, append: Callable[[list, list], list[int]]) -> None:
        self._append = append
        self._ready_r, self._ready_w = socket.socketpair()
        self._ready_r.setblocking(False)
        self._job = threading.Event()
        self._stop = False
        self._args: tuple[list, list] = ([], [])
        self._result: list[int] | BaseException = []
        self.busy = False
        self._thread = threading.Thread(target=self._run, name="eventdesk-writer", daemon=True)
        self._thread.start()

    @property
    def fd(self) -> int:
        return self._ready_r.fileno()

    def start(self, rows: list, rejections: list) -> None:
        if self.busy:
            raise RuntimeError("a commit is already in flight")
        self.busy = True
        self._args = (rows, rejections)
        self._job.set()

    def done(self) -> bool:
        """True once the commit in flight has finished (its result waits in `result`)."""
        try:
            return bool(self._ready_r.recv(1))
        except BlockingIOError:
            return False

    def result(self) -> list[int]:
        self.busy = False
        result = self._result
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self) -> None:
        while True:
            self._job.wait()
            self._job.clear()
            if self._stop:
                return
            try:
                self._result = self._append(*self._args)
            except StoreError as exc:
                self._result = exc
            except Exception as exc:   # any other failure of the disk or the driver: E_STORAGE, never a dead hub
                self._result = StoreError(f"could not commit: {exc}")
            self._ready_w.send(b"!")

    def close(self) -> None:
        self._stop = True
        self._job.set()
        self._thread.join(5)
        self._ready_r.close()
        self._ready_w.close()
