"""No SQLite on a UI's event loop: the station terminal and the desk, driven against a real hub, run
every statement of theirs (views, saves, acks, status) on other threads.

Every connection opened while a test runs is traced (`set_trace_callback` runs on the thread that
executes the statement); a statement on the app's loop thread while staff act is a failure that
names it. Real parts only: a hub on 127.0.0.1, real outbox files, the apps under Pilot.
"""
from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import DeskLink
from console.hub.server import run_in_thread
from stations.records import DELIVERED
from tests.station_support import aio, hub_client, make_app, type_text, until

SIZE = (80, 24)


class Statements:
    """Which thread ran which statement, on every connection opened after `install`."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[int, str]] = []
        self._connect = sqlite3.connect

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def connect(*args: Any, **kw: Any) -> sqlite3.Connection:
            conn = self._connect(*args, **kw)
            conn.set_trace_callback(self._record)
            return conn
        monkeypatch.setattr(sqlite3, "connect", connect)

    def _record(self, sql: str) -> None:
        if self.on:
            self.seen.append((threading.get_ident(), sql))

    def on_thread(self, ident: int) -> list[str]:
        return [sql for who, sql in self.seen if who == ident]


@pytest.fixture
def statements(monkeypatch):
    traced = Statements()
    traced.install(monkeypatch)
    return traced


@pytest.fixture
def hub(event_dir, statements):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


@aio
async def test_the_station_terminal_loop_runs_no_sqlite(event_dir, hub, statements):
    client = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, client, "en")
    try:
        async with app.run_test(size=SIZE) as pilot:
            loop = threading.get_ident()
            await until(pilot, lambda: app.view is not None and app.view.status.state == "online", what="online")
            statements.on = True
            for key in ("f1", "f2", "f1", "f5"):
                await pilot.press(key)
                await pilot.pause()
            await pilot.press("f3")                                   # a form: typed, then sent
            await type_text(pilot, "湘A·12345")
            await pilot.press("enter")
            await pilot.press("f10")                                  # the inbox, over a fresh view
            await pilot.pause()
            await pilot.press("escape", "l")                          # and the language, which redraws
            await until(pilot, lambda: not app.saving and app.view is not None and len(app.view.recent) == 5
                        and all(r.state == DELIVERED for r in app.view.recent), what="all five delivered, on screen")
            statements.on = False
    finally:
        client.close()
    assert statements.on_thread(loop) == [], "SQLite ran on the terminal's event loop"
    assert statements.seen, "the trace saw nothing: the test would pass whatever the app did"


@aio
async def test_the_desk_loop_runs_no_sqlite(event_dir, hub, statements):
    link = DeskLink("desk-1", hub.endpoint, hub.feed, event_dir.desk_key("desk-1"), event_dir.console_public,
                    event_dir.root / "desks" / "desk-1.outbox.db")
    app = DeskApp(link=link, state=new_state(event_dir.load().summary()), lang="en", desk="desk-1")
    finals: list[Any] = []

    def finished(report: Any) -> None:   # on the link's thread
        finals.append(report)
        app.action_finished(report)
    link.on_action = finished
    link.start()
    try:
        async with app.run_test(size=SIZE) as pilot:
            loop = threading.get_ident()
            await until(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            statements.on = True
            for n in range(3):
                app.send(lambda lk, n=n: lk.note(f"note {n}"), "desk.sent.note")
                await pilot.pause()
            app.send(lambda lk: lk.instruct("all", "tea break at ten"), "desk.sent.instruction")
            await until(pilot, lambda: len(finals) == 4, what="four actions delivered")
            await until(pilot, lambda: app.current_view.waiting == 0, what="nothing waiting, on screen")
            statements.on = False
    finally:
        link.close()
    assert [r.state for r in finals] == [DELIVERED] * 4
    assert statements.on_thread(loop) == [], "SQLite ran on the desk's event loop"
    assert statements.seen, "the trace saw nothing: the test would pass whatever the app did"
