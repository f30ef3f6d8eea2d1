"""The desk's summary screen (key z): the report's figures and sparklines, both languages, station text literal."""
from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import Sparkline

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.screens.summary import SummaryScreen
from console.hub.store import Store
from console.report.summary import summarise
from tests.report_fixture import T0, S, summary_dict, write_log
from tests.desk_support import aio, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    store = Store(write_log(tmp_path_factory.mktemp("log") / "event.db"))
    try:
        return summarise(store.since(0), summary_dict(), store.rejections())
    finally:
        store.close()


def text_of(app: DeskApp) -> str:
    """Everything on the screen, including the scrolled-away part of the summary, as plain text."""
    con = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    for static in app.screen.query("Static"):
        con.print(static.content)
    return con.export_text()


def desk(source, lang: str = "en") -> DeskApp:
    app = DeskApp(state=new_state(summary_dict()), clock=lambda: T0 + 700 * S, lang=lang, desk="desk-1")
    app.summary_source = source
    return app


@aio
async def test_z_opens_the_summary_with_the_reports_figures(summary):
    calls = []
    app = desk(lambda: calls.append(1) or summary)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("z")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.summary, what="the summary")
        await pilot.pause(0.2)
        shown = text_of(app)
        assert "Post-event summary: Riverside Open Day" in shown
        assert "Peak guests on site" in shown and "Surface lot" in shown and "10/10" in shown
        assert "2 (1 unresolved at the end)" in shown
        assert "yet the gate let 2 car(s) in meanwhile." in shown
        assert "Lobby post" in shown and "45.1 %" in shown
        # Station text shown as typed: the markup in the incident's location is not acted on.
        assert "B1 <img src=x onerror=alert(1)>" in shown
        sparks = app.screen.query(Sparkline)
        assert len(sparks) == 3 + 2 + 2 and list(sparks.first().data) == [5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1]
        await pilot.press("l")                          # the desk's language switch reaches this screen too
        await wait_for(pilot, lambda: "后期总结" in text_of(app), what="the Chinese summary")
        assert "现场人数峰值" in text_of(app)
        await pilot.press("z")                          # already open: not stacked twice
        await pilot.pause(0.1)
        assert sum(isinstance(s, SummaryScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, SummaryScreen) and calls == [1]


@aio
async def test_without_a_log_the_screen_says_why(summary):
    app = desk(None, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("z")
        await wait_for(pilot, lambda: "无法读取日志" in text_of(app), what="the reason")


@aio
async def test_a_failing_source_is_shown_not_raised(summary):
    def broken():
        raise RuntimeError("disk on fire")
    app = desk(broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("z")
        await wait_for(pilot, lambda: "The summary could not be computed: disk on fire" in text_of(app), what="error")
