"""The station terminal: every line in the chosen language after F12, and the DRILL flag on every screen of a drill (issue 17)."""
from __future__ import annotations

import re

import pytest

from console.hub.server import run_in_thread
from protocols import i18n
from tests.test_desk_app import screen_text
from tests.station_support import aio, hub_client, make_app, make_client, until

SIZE = (80, 24)
# Words that are the same in both languages on the gate's screen: its id, key names, the switch's own label.
BOTH = {"gate", "Ctrl", "English", "VIP"}


def foreign(text: str, lang: str) -> list[str]:
    """Words on screen in the other language: Latin words in Chinese, Chinese in English."""
    if lang == "zh":
        return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in BOTH]
    return [w for w in re.findall(r"[\u4e00-\u9fff]+", text) if w not in ("中文", "演练")]


@pytest.mark.parametrize("start", ["en", "zh"])
@aio
async def test_after_f12_every_line_is_in_the_chosen_language(event_dir, start):
    """A report saved (its message on screen), then F12: the message of the other language goes too."""
    client = make_client(event_dir, "gate-1")
    app = make_app(event_dir, client, start)
    other = "zh" if start == "en" else "en"
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            await until(pilot, lambda: client.outbox.get(1) is not None, what="saved")
            await pilot.pause(0.3)
            assert not foreign(screen_text(app), start)
            await pilot.press("f12")
            await pilot.pause(0.3)
            assert not foreign(screen_text(app), other), foreign(screen_text(app), other)
    finally:
        client.close()


# gate-1's keys that open a screen of their own: a plate form, duty and tasks, an incident form, the instructions.
SCREENS = ("f3", "f8", "f9", "f10")


@aio
async def test_every_station_screen_of_a_drill_says_so(event_dir):
    hub = run_in_thread(event_dir, drill=True)
    client = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, client, "zh")
    flag = i18n.t("station.drill", "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: flag in screen_text(app), what="the DRILL flag on the post screen")
            for key in SCREENS:
                await pilot.press(key)
                await until(pilot, lambda: app.screen is not app.main, what=f"{key} opens a screen")
                assert flag in screen_text(app), f"{key}: {type(app.screen).__name__} without the DRILL flag"
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is app.main, what="back")
    finally:
        client.close()
        hub.stop()


@pytest.mark.parametrize("station", ["gate-1", "parking-1", "concierge-1", "lobby-1", "model-1"])
@aio
async def test_each_post_screen_in_chinese_shows_no_id_and_no_english(event_dir, station):
    """Every post's screen, after a report and with its instructions open (F10), names things: no station,
    desk, lot or plan id and no stray English (the scanner of the desk's and the summary's tests)."""
    from tests.staff_text import event_ids, leaks, plan_ids
    from tests.test_desk_app import screen_text as shown
    from tests.desk_support import settled

    client = make_client(event_dir, station)
    app = make_app(event_dir, client, "zh")
    ids = event_ids(event_dir.load().summary()) | plan_ids()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f1")
            await until(pilot, lambda: "#1" in screen_text(app), what="the saved report on screen")
            assert leaks(screen_text(app), ids) == [], screen_text(app)
            await pilot.press("f10")
            await until(pilot, lambda: app.screen is not app.main, what="the instructions open")
            await settled()(pilot)                          # drawn whole, however loaded the machine
            # The instructions themselves, as drawn (screen_text reads only the main screen's widgets).
            assert leaks(shown(app), ids) == [], shown(app)
    finally:
        client.close()
