"""Simulated posts of a rehearsal (one StationClient each) and the feed watcher the simulated desk listens with.

They talk to the hub only over the wire: reports through each one's own outbox and
StationClient, the desk's feed through a raw CURVE SUB with the desk's key. A post that "goes
silent" stops its client (the outbox stays open, so staff keep saving) and comes back as a new
client on the same outbox, like a terminal whose network returns. Never imports the hub.
"""
from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import zmq

from protocols import codec, keys
from protocols.bounds import topic_frame, topic_name
from protocols.codec import ProtocolError
from protocols.messages import Committed, Presence
from scenarios.clock import Scheduler
from scenarios.generators import draw
from stations.link.client import StationClient
from stations.outbox.store import Report

log = logging.getLogger("eventdesk.rehearsal")

class Endpoints:
    def __init__(self, endpoint: str, feed: str, console_public: Path) -> None:
        self.endpoint, self.feed, self.console_public = endpoint, feed, console_public


class SimStation:
    """One simulated post: saves reports on cue, confirms instructions after a delay, can go silent."""

    def __init__(self, station: str, outbox: Path, secret: Path, ends: Endpoints, heartbeat_ms: int,
                 sched: Scheduler, delays: tuple[tuple[int, int], tuple[int, int]], seed: int,
                 role: str = "station", answer: bool = True) -> None:
        self.station, self.outbox_path, self.secret, self.ends = station, outbox, secret, ends
        self.heartbeat_ms, self.sched, self.seed, self.role = heartbeat_ms, sched, seed, role
        self.ack_delay, self.step_delay = delays
        self.answer = answer          # confirm instructions and plan steps (off: people play this role)
        self.silent = False
        self.retired: list[StationClient] = []
        self.client = self._client()

    def _client(self) -> StationClient:
        return StationClient(self.station, self.outbox_path, self.secret, self.ends.console_public,
                             self.ends.endpoint, self.ends.feed if self.role == "station" else None,
                             role=self.role, heartbeat_ms=self.heartbeat_ms, on_change=self._changed,
                             app="eventdesk-rehearsal")

    def start(self) -> None:
        self.client.start()

    def submit(self, type_: str, body: dict[str, Any]) -> Report:
        return self.client.submit(type_, body)

    def go_silent(self) -> None:
        """The terminal drops off the network: no more frames, not even heartbeats."""
        if not self.silent:
            self.silent = True
            self.client.stop()

    def come_back(self) -> None:
        """The network returns: a fresh client on the same outbox sends what waited, in order."""
        if self.silent:
            self.silent = False
            self.retired.append(self.client)
            self.client = self._client()
            self.client.start()

    def _changed(self, kind: str, payload: Any) -> None:
        # Called on the client's link thread: only queue work, never block it.
        if kind != "instruction" or not self.answer:
            return
        rng = random.Random(f"{self.seed}:ack:{self.station}:{payload.text}")
        ack = draw(rng, self.ack_delay)
        if payload.ack_required and payload.acked_ms is None:
            self.sched.after(ack, self._confirm, payload.id)
        if getattr(payload, "step", "") and getattr(payload, "run", 0):
            # A plan step given to this post: done once the staff have done it, after the ack.
            self.sched.after(ack + draw(rng, self.step_delay), self.submit, "plan_step",
                             {"run": payload.run, "step": payload.step, "status": "done"})

    def _confirm(self, instruction: int) -> None:
        item = self.client.outbox.get_instruction(instruction)
        if item is not None and item.acked_ms is None:
            self.client.acknowledge_instruction(instruction)

    def close(self) -> None:
        for c in [*self.retired, self.client]:
            try:
                c.close()
            except Exception:  # closing twice or after a failed start: nothing left to save
                log.debug("closing %s", self.station, exc_info=True)


class FeedWatcher:
    """A raw CURVE SUB on the hub's feed with the desk's key: every committed event, and presence."""

    def __init__(self, ends: Endpoints, desk_secret: Path, on_event: Callable[[Committed], None]) -> None:
        self.ends, self.on_event = ends, on_event
        self.public, self.secret = keys.load_pair(desk_secret)
        self.server = keys.load_public(ends.console_public)
        self.counts: Counter = Counter()
        self.by_station: Counter = Counter()
        self.presence: dict[str, Any] = {}
        self.ready = threading.Event()       # set at the first message: the subscription is live
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rehearsal-feed", daemon=True)

    def start(self) -> FeedWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.linger = 0
        sub.curve_secretkey, sub.curve_publickey, sub.curve_serverkey = self.secret, self.public, self.server
        for topic in ("feed", "presence"):
            sub.setsockopt(zmq.SUBSCRIBE, topic_frame(topic))
        sub.connect(self.ends.feed)
        try:
            while not self._stop.is_set():
                if not sub.poll(100):
                    continue
                while True:
                    try:
                        frames = sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self._frame(frames)
        finally:
            sub.close(0)
            ctx.term()

    def _frame(self, frames: list[bytes]) -> None:
        self.ready.set()
        try:
            message = codec.decode(frames[1:]).message
        except ProtocolError as exc:
            log.warning("bad feed frame: %s", exc)
            return
        if isinstance(message, Presence):
            self.presence = message.stations
        elif isinstance(message, Committed) and topic_name(frames[0]) == "feed":
            self.counts[message.type] += 1
            self.by_station[message.station] += 1
            try:
                self.on_event(message)
            except Exception:  # the operator's bookkeeping must not kill the feed
                log.exception("feed handler failed")
