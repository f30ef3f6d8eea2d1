"""The desk's frame rate under a steady stream: pictures come by the link's publishes (at most ten a
second), and the clock's timer adds a frame only for its next second or a quiet link.

Real parts: a hub on 127.0.0.1, a station sending 100 reports a second through its outbox, the desk's
link and the app under Pilot. The count can only fall on a loaded machine, never rise, so the bound is
safe; the floor proves the desk drew the stream at all.
"""
from __future__ import annotations

import math
import threading
import time

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import PUBLISH_S, DeskLink
from console.hub.server import run_in_thread
from tests.station_support import aio, hub_client, until

FRAMES = 25   # the window: this many frames drawn while the stream runs


@aio
async def test_under_a_steady_stream_the_desk_draws_no_more_than_the_link_publishes_and_the_clock_ticks(event_dir):
    hub = run_in_thread(event_dir)
    gate = hub_client(event_dir, hub, "gate-1").start()
    link = DeskLink("desk-1", hub.endpoint, hub.feed, event_dir.desk_key("desk-1"), event_dir.console_public,
                    event_dir.root / "desks" / "desk-1.outbox.db").start()
    app = DeskApp(link=link, state=new_state(event_dir.load().summary()), lang="zh", desk="desk-1")
    frames: list[float] = []
    published: list[float] = []
    original, told = app.tick, app._link_published

    def publish() -> None:   # on the link's thread: on_mount hands the link this instance attribute
        published.append(time.monotonic())
        told()
    app._link_published = publish

    def tick(fresh: bool = False) -> None:   # set before mount: the timer and Published both call it
        before = app.current_view
        original(fresh)
        if app.current_view is not before:
            frames.append(time.monotonic())
    app.tick = tick
    stop = threading.Event()

    def stream() -> None:   # 100 reports a second, until told to stop
        while not stop.is_set():
            gate.submit("car_in", {"count": 1})
            stop.wait(0.01)
    sender = threading.Thread(target=stream, daemon=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            sender.start()
            await until(pilot, lambda: app.current_view.state.gseq > 20, what="the stream on the desk")
            t0, first = time.monotonic(), len(frames)
            await until(pilot, lambda: len(frames) >= first + FRAMES, what=f"{FRAMES} frames of the stream")
            t1 = time.monotonic()
            drawn = [t for t in frames if t0 <= t <= t1]
            publishes = [t for t in published if t0 <= t <= t1]
    finally:
        stop.set()
        if sender.is_alive():
            sender.join(5)
        link.close()
        gate.stop()
        hub.stop()
    seconds = t1 - t0
    # At most one frame per publish plus one per second of the clock (and one of slack at each edge).
    # The timer used to add a frame of its own four times a second: 39 frames where this allows 35.
    assert len(drawn) <= len(publishes) + math.ceil(seconds) + 2, (len(drawn), len(publishes), seconds)
    # The link kept its pace (so the bound is about the desk, not a starved link).
    assert len(publishes) <= seconds / PUBLISH_S + 2, (len(publishes), seconds)
