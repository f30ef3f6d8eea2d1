"""Helpers for the station terminal tests: clients against a real hub or a dead port, Pilot waits, log queries.

No tests here; the test_station_app* modules import from it.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any, Callable

from console.event.folder import EventFolder
from stations.link.client import StationClient
from stations.terminal.app import StationApp
from stations.terminal.posts.base import Site
from tests.conftest import free_port
from tests.desk_support import aio, wait_for  # noqa: F401  (aio: the station tests import it from here)


def dead_endpoint() -> str:
    """A loopback port nobody listens on: the terminal's desk is simply not there."""
    return f"tcp://127.0.0.1:{free_port()}"


def make_client(folder: EventFolder, station: str, endpoint: str | None = None, feed: str | None = None,
                heartbeat_ms: int = 200, clock: Callable[[], float] = time.time,
                console_key: Any = None) -> StationClient:
    event = folder.load()
    st = event.station(station)
    return StationClient(station, folder.outbox(station), folder.station_key(station),
                         console_key or folder.console_public, endpoint or dead_endpoint(), feed,
                         post=st.post, heartbeat_ms=heartbeat_ms, clock=clock)


def hub_client(folder: EventFolder, hub: Any, station: str, **kw: Any) -> StationClient:
    return make_client(folder, station, hub.endpoint, hub.feed, **kw)


def make_app(folder: EventFolder, client: StationClient, lang: str = "zh", summary: dict | None = None,
             **kw: Any) -> StationApp:
    site = Site.from_summary(client.station, summary or folder.load().summary())
    return StationApp(client, site, lang, **kw)


async def until(pilot: Any, check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Let the app run until `check()` is truthy; fail with `what` after `timeout` seconds (terminals start slower)."""
    return await wait_for(pilot, check, timeout, what)


async def type_text(pilot: Any, text: str) -> None:
    """Type into the focused input as a person would: over the selection (a field selects all on focus).

    Pilot cannot press every character (it loses "·"), so the text is put in directly.
    """
    widget = pilot.app.focused
    start, end = sorted(widget.selection)
    widget.replace(text, start, end)
    await pilot.pause()


def logged(folder: EventFolder, station: str, drill: bool = False) -> list[tuple[int, int, str, dict]]:
    """(gseq, seq, type, body) of every event this station has in the hub's log, read with sqlite3."""
    with sqlite3.connect(folder.db(drill)) as db:
        rows = db.execute("SELECT gseq, seq, type, body FROM events WHERE station = ? ORDER BY gseq",
                          (station,)).fetchall()
    return [(g, s, t, json.loads(b)) for g, s, t, b in rows]


def screen_text(app: StationApp) -> str:
    """Everything the main screen shows, as plain text (what a person reads)."""
    parts = []
    for widget in app.main.query("LinkBar, Banner, CountsBar, ReportList, #flash, #hints, KeyButton"):
        rendered = widget.render()
        parts.append(getattr(rendered, "plain", None) or str(rendered))
    return "\n".join(parts)


def link_text(app: StationApp) -> str:
    return app.main.query_one("LinkBar").render().plain


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)
