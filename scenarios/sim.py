"""Simulated posts of a rehearsal (one StationClient each) and the feed watcher the simulated desk listens with.

They talk to the hub only over the wire: reports through each one's own outbox and
StationClient, the desk's feed through a raw CURVE SUB with the desk's key (ordered by the
desk's own Clone follower, its gaps filled from the rehearsal's log). A post that "goes
silent" stops its client (the outbox stays open, so staff keep saving) and comes back as a new
client on the same outbox, like a terminal whose network returns. Never imports the hub.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import zmq

from console.core.follower import Follower
from protocols import codec, curve, keys
from protocols.bounds import topic_name
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
                 role: str = "station", answer: bool = True, clock_offset_ms: int = 0) -> None:
        self.station, self.outbox_path, self.secret, self.ends = station, outbox, secret, ends
        self.heartbeat_ms, self.sched, self.seed, self.role = heartbeat_ms, sched, seed, role
        self.ack_delay, self.step_delay = delays
        self.answer = answer          # confirm instructions and plan steps (off: people play this role)
        self.silent = False
        self.offset_s = clock_offset_ms / 1000   # a terminal whose clock is set wrong stamps its reports by it
        self.retired: list[StationClient] = []
        self.client = self._client()

    def _client(self) -> StationClient:
        return StationClient(self.station, self.outbox_path, self.secret, self.ends.console_public,
                             self.ends.endpoint, self.ends.feed if self.role == "station" else None,
                             role=self.role, heartbeat_ms=self.heartbeat_ms, on_change=self._changed,
                             app="eventdesk-rehearsal", clock=self._clock)

    def _clock(self) -> float:
        return time.time() + self.offset_s

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
    """The desk's feed as the rehearsal's operator sees it: every committed event once, in gseq order, and presence.

    A raw CURVE SUB with the desk's key, ordered and checked by the Clone follower
    (`console.core.follower`): repeats are dropped, and a gap, a `cut` event or presence naming an
    event never seen makes it resync. A snapshot would not do here: it is a picture, not the events
    that made it, and the operator (`scenarios.simdesk`) and the scorecard's counts react to events.
    So the watcher reads what it missed from the rehearsal's log (`missed(after)`: the events after
    that gseq, in order, as the runner reads them with the scorecard), hands them over, and carries on
    from the log's last gseq; if the log cannot be read, the follower's retry timer asks again.
    """

    def __init__(self, ends: Endpoints, desk_secret: Path, on_event: Callable[[Committed], None],
                 missed: Callable[[int], list[Committed]], *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ends, self.on_event, self.missed, self.monotonic = ends, on_event, missed, monotonic
        self.public, self.secret = keys.load_pair(desk_secret)
        self.server = keys.load_public(ends.console_public)
        self.counts: Counter = Counter()
        self.by_station: Counter = Counter()
        self.presence: dict[str, Any] = {}
        self.repaired = 0                    # events read back from the log after a gap
        self.ready = threading.Event()       # set at the first message: the subscription is live
        self.follower = Follower()           # never given snapshot pages: it is rebased from the feed and the log
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
        sub = curve.client_socket(ctx, zmq.SUB, (self.public, self.secret, self.server),
                                  subscribe=("feed", "presence"), connect=self.ends.feed)
        try:
            while not self._stop.is_set():
                if sub.poll(100):
                    for _ in range(5000):
                        try:
                            frames = sub.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self._frame(frames)
                self.follower.tick(self.monotonic())
                self._obey()
        finally:
            sub.close(0)
            ctx.term()

    def _frame(self, frames: list[bytes]) -> None:
        now = self.monotonic()
        self.ready.set()
        self.follower.heard(now, sub=True)
        try:
            message = codec.decode(frames[1:]).message
        except ProtocolError as exc:
            log.warning("bad feed frame: %s", exc)
            return
        if isinstance(message, Presence):
            self.presence = message.stations
            if not self.follower.ready:
                self.follower.rebase(message.gseq, None, now)   # from the last event committed before we listened
            self.follower.presence(message, now)
        elif isinstance(message, Committed) and topic_name(frames[0]) == "feed":
            if not self.follower.ready:
                self.follower.rebase(message.gseq - 1, None, now)   # from the first event heard
            self.follower.event(message, now)
        self._obey()

    def _obey(self) -> None:
        """Hand over what the follower released; on its call for a resync, fill the hole from the log."""
        for _ in range(100):   # each round empties the follower's buffer or finds a new gap in it
            orders = self.follower.take()
            for c in orders.events:
                self._hand(c)
            if not orders.requests or self.follower.gseq is None:
                return
            after = self.follower.gseq
            try:
                events = [c for c in self.missed(after) if c.gseq > after]
            except Exception:  # the log busy or gone: the follower's retry timer asks again
                log.warning("the events after gseq %d could not be read from the log", after, exc_info=True)
                return
            for c in events:
                self._hand(c)
            self.repaired += len(events)
            self.follower.rebase(events[-1].gseq if events else after, None, self.monotonic())

    def _hand(self, message: Committed) -> None:
        self.counts[message.type] += 1
        self.by_station[message.station] += 1
        try:
            self.on_event(message)
        except Exception:  # the operator's bookkeeping must not kill the feed
            log.exception("feed handler failed")
