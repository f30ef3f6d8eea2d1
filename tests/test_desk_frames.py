"""The desk's frame rate under a steady stream: pictures come by the link's publishes (at most ten a
second), and the clock's timer adds a frame only for its next second or a quiet link.

Real parts: a hub on 127.0.0.1, a station sending 100 reports a second through its outbox, the desk's
link and the app under Pilot. The count can only fall on a loaded machine, never rise, so the bound is
safe; the floor proves the desk drew the stream at all.
"""
from __future__ import annotations

import threading
import time

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import PUBLISH_S, DeskLink
from console.hub.server import run_in_thread
from tests.test_station_app_support import aio, hub_client, until

SECONDS = 3.0


@aio
async def test_under_a_steady_stream_the_desk_draws_no_more_than_the_link_publishes_and_the_clock_ticks(event_dir):
    hub = run_in_thread(event_dir)
    gate = hub_client(event_dir, hub, "gate-1").start()
    link = DeskLink("desk-1", hub.endpoint, hub.feed, event_dir.desk_key("desk-1"), event_dir.console_public,
                    event_dir.root / "desks" / "desk-1.outbox.db").start()
    app = DeskApp(link=link, state=new_state(event_dir.load().summary()), lang="zh", desk="desk-1")
    frames: list[float] = []
    original = app.tick

    def tick(fresh: bool = False) -> None:   # set before mount: the timer and Published both call it
        before = app.current_view
        original(fresh)
        if app.current_view is not before:
            frames.append(time.monotonic())
    app.tick = tick
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            gate.submit("car_in", {"count": 1})
            time.sleep(0.01)
    sender = threading.Thread(target=stream, daemon=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            sender.start()
            await until(pilot, lambda: app.current_view.state.gseq > 20, what="the stream on the desk")
            t0 = time.monotonic()
            await pilot.pause(SECONDS)
            drawn = [t for t in frames if t0 <= t < t0 + SECONDS]
    finally:
        stop.set()
        if sender.is_alive():
            sender.join(5)
        link.close()
        gate.stop()
        hub.stop()
    per_second = 1 / PUBLISH_S
    # At most one frame per publish plus one per second of the clock (and one of slack at each edge).
    assert len(drawn) <= SECONDS * (per_second + 1) + 2, (len(drawn), "frames in", SECONDS, "s")
    assert len(drawn) >= SECONDS * 2, "the desk hardly drew the stream: the bound above proves nothing"
