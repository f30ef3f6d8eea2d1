"""Snapshots of the desk from a fixture picture with a fixed clock: no sockets, same pixels every run, both languages."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from tests.desk_support import T0, fixture_state, settled

SIZES = [(80, 24), (160, 48)]




def desk(lang: str, wall: bool = False) -> DeskApp:
    return DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, wall=wall, desk="desk-1")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_main_screen(snap_compare, lang, size):
    assert snap_compare(desk(lang), run_before=settled(), terminal_size=size)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_screen(snap_compare, lang):
    assert snap_compare(desk(lang), run_before=settled("f1"), terminal_size=(80, 24))


def test_wall_display(snap_compare):
    assert snap_compare(desk("zh", wall=True), run_before=settled(), terminal_size=(160, 48))


def test_incident_detail_shows_history_and_station_text_literally(snap_compare):
    async def open_lost_property(pilot):
        app = pilot.app
        lost = next(i for i in app.current_view.state.incidents.values() if i["kind"] == "lost_property")
        app.open_incident_screen(lost["id"])
        await settled()(pilot)

    assert snap_compare(desk("en"), run_before=open_lost_property, terminal_size=(100, 24))


def test_instructions_screen(snap_compare):
    assert snap_compare(desk("zh"), run_before=settled("t"), terminal_size=(100, 24))


def test_notices_at_80x24_in_chinese(snap_compare):
    """Notices sit above the footer in the layout: whole Chinese words, the panels above untouched."""
    async def told(pilot):
        await settled()(pilot)
        pilot.app.notify("已提交：新建事件（治安）", timeout=30)
        for _ in range(2):
            pilot.app.notify("西门岗离线：2分钟未联系", severity="error", timeout=30)
        await settled()(pilot)

    assert snap_compare(desk("zh"), run_before=told, terminal_size=(80, 24))
