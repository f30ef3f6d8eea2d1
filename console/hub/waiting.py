"""The hub while a commit is in flight: the writer thread writes, the loop keeps answering what needs no write.

A mixin of Hub (console/hub/server.py). A heartbeat, a hello or a page request is answered within
CONTROL_WAIT_MS whatever the disk does; reports wait for the next batch, and once the commit has taken longer than
STORAGE_WAIT_MS they are answered E_STORAGE (retry) instead, so no client waits behind the disk.
"""
from __future__ import annotations

import time
from typing import Callable

import zmq

from protocols import bounds
from protocols.i18n import t
from protocols.session import REPLIES

HELD_MAX = 20_000   # messages read while a commit is in flight, kept for the next batch
TICK_MS = 1000
BATCH = 2000        # messages read at a time


def poll_paused(poller: zmq.Poller, ms: float) -> list:
    """Poll the sockets other than the ROUTER for the drop pace's pause (console/hub/guard.py's DropPace).
    zmq's poll counts whole milliseconds; a shorter pause polls them once and sleeps the rest, so that the
    ROUTER is read again on time (a report that arrived during the pause waits for it)."""
    if ms >= 1.0:
        return poller.poll(int(ms))
    ready = poller.poll(0)
    if not ready:
        time.sleep(ms / 1000.0)
    return ready


class Waiting:
    """Hub's commit through the writer thread, and its loop meanwhile."""

    def _commit(self, rows: list, rejections: list, late: Callable[[], list]) -> list[int]:
        """Ingest's commit: the writer thread writes while this loop keeps answering what needs no write.

        A commit done within CONTROL_WAIT_MS is simply waited for. Past that, control messages are
        answered at once and reports are held for the next batch; if the commit is not done within
        STORAGE_WAIT_MS, the batch's reports get E_STORAGE (they come again; should the
        commit still succeed, their acks follow) and so does every report until it is done.
        """
        if self.writer is None:   # not running the loop (a hub driven by hand): write in place
            return self.store.append_batch(rows, rejections)
        self.writer.start(rows, rejections)
        started = time.monotonic()
        deadline = started + bounds.STORAGE_WAIT_MS / 1000
        # A commit usually takes a millisecond or two: wait for it alone first, so that the writer
        # thread does not have to fight this loop for the interpreter; only a slower one is served around.
        quiet = zmq.Poller()
        quiet.register(self.writer.fd, zmq.POLLIN)
        if quiet.poll(bounds.CONTROL_WAIT_MS) and self.writer.done():
            return self.writer.result()
        poller, paused = zmq.Poller(), zmq.Poller()   # paused: the ROUTER left unread (console/hub/guard.py's DropPace)
        for sock in (self.zap, self.router, self.pub, self.writer.fd):
            poller.register(sock, zmq.POLLIN)
            if sock is not self.router:
                paused.register(sock, zmq.POLLIN)
        slow = False
        while not self.writer.done():
            pause = self.drop_pace.wait_ms(self.mono())
            ready = dict(poll_paused(paused, min(20, pause)) if pause else poller.poll(20))
            self._serve(ready)
            if self.router in ready:
                self._read_busy(slow)
            if not slow and time.monotonic() >= deadline:
                slow = True
                self._say_storage_wait()
                self._send(late())
                held, self._held = self._held, []
                self._send([(a, REPLIES.frames(self.ingest.refuse_busy(p, f, self.clock()))) for a, p, f in held])
            if self.clock() >= self.next_tick:
                self._presence(self.clock())
                self.next_tick = self.clock() + TICK_MS
            self._beat_if_due()   # two hubs: a slow commit must not make the other hub count this one lost
        return self.writer.result()

    def _read_busy(self, slow: bool) -> None:
        out = []
        for address, peer, frames in self._read(BATCH):
            now = self.clock()
            reply = self.ingest.answer_now(peer, frames, now)
            if reply is None and (slow or len(self._held) >= HELD_MAX):
                reply = self.ingest.refuse_busy(peer, frames, now)
            if reply is None:
                self._held.append((address, peer, frames))
            else:
                out.append((address, REPLIES.frames(reply)))
        self._send(out)

    def _say_storage_wait(self) -> None:
        self._line(t("hub.live.storage_wait", self.lang, ms=bounds.STORAGE_WAIT_MS))
