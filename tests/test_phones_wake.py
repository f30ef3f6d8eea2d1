"""When the station server wakes a station's waiting pages: changes that come together wake them once, a report
that settles (delivered, refused: what its phone waits for) wakes them without the coalescing wait, and a report
still on its way (saved, sent) waits for its settling to wake them, so a tap costs each phone of its post one page.

A real event folder and its station server, its terminals' links not started: the loop's own timers are read,
nothing sleeps (the one wait is for the wake itself)."""
from __future__ import annotations

import asyncio
from dataclasses import replace

from console.stations_serve import build_server
from stations.records import Report, Status
from stations.web.station import COALESCE_S, MOVING_S, SETTLED_S


def report(state: str) -> Report:
    return Report(seq=3, type="car_in", body={}, state=state, created_ms=0)


def test_a_settled_report_wakes_the_pages_sooner_and_once_with_what_follows_it(event_dir):
    server = build_server(event_dir, "zh")
    term = server.terminals["gate-1"]
    told = server._changed(term)   # what the link's thread calls

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server._loop = loop
        term.changed = asyncio.Event()
        woken, version = term.changed, term.version
        told("report", report("sent"))               # on its way: waits for its settling
        await asyncio.sleep(0)                        # the link thread's call, run by the loop
        later = term.soon.when()
        assert later > loop.time() + COALESCE_S and later <= loop.time() + MOVING_S
        told("report", report("delivered"))          # what the phone waits for: sooner
        await asyncio.sleep(0)
        sooner = term.soon.when()
        assert sooner < later and sooner <= loop.time() + SETTLED_S
        told("status", None)                          # the waiting count that moves with it: no later, no second wake
        await asyncio.sleep(0)
        assert term.soon.when() == sooner
        await asyncio.wait_for(woken.wait(), 5)
        assert term.version == version + 1 and term.soon is None
        assert not term.changed.is_set()              # the next change wakes the next waiters

    asyncio.run(scenario())


def test_a_report_only_on_its_way_waits_for_its_settling_and_nothing_else_waits_for_it(event_dir):
    server = build_server(event_dir, "zh")
    term = server.terminals["gate-1"]

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server._loop = loop
        for state in ("saved", "sent"):
            server._changed(term)("report", report(state))
            await asyncio.sleep(0)
            assert loop.time() + COALESCE_S < term.soon.when() <= loop.time() + MOVING_S
        server._changed(term)("instruction", None)   # anything else (an order, the link's status): no longer
        await asyncio.sleep(0)
        assert term.soon.when() <= loop.time() + COALESCE_S
        term.soon.cancel()

    asyncio.run(scenario())


def test_a_status_whose_only_change_is_the_waiting_count_moves_with_its_report(event_dir):
    """The count of reports waiting goes up when a tap is sent and down with its ack: shown with the report, not on
    its own after COALESCE_S (a tap whose ack took longer than that cost every phone of its post a second draw)."""
    server = build_server(event_dir, "zh")
    term = server.terminals["gate-1"]
    told = server._changed(term)
    online = Status(station="gate-1", epoch="e", state="online", connected=True, console_reachable=True)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server._loop = loop
        told("status", online)                                       # the first word of the link: as any change
        await asyncio.sleep(0)
        assert term.soon.when() <= loop.time() + COALESCE_S
        term.soon.cancel()
        term.soon = None
        told("status", replace(online, waiting=1, sent_frames=9, last_heard_ms=5))   # a tap sent
        await asyncio.sleep(0)
        assert loop.time() + COALESCE_S < term.soon.when() <= loop.time() + MOVING_S
        told("status", replace(online, waiting=1, state="unreachable", console_reachable=False))   # the link itself
        await asyncio.sleep(0)
        assert term.soon.when() <= loop.time() + COALESCE_S
        term.soon.cancel()

    asyncio.run(scenario())
