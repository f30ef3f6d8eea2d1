"""The desk's notices on screen: whole words in both languages at 80×24, never over a dialog, gone on the clock's time."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from console.desk.screens.modals import DeskModal
from console.desk.widgets.notices import NoticeBar
from tests.test_desk_app import screen_text
from tests.desk_support import T0, aio, fixture_state, settled



# The two sentences a review saw lose characters where a toast crossed the panels' border.
ZH = ["已提交：新建事件（治安）", "请先在事件板上选中一个事件。"]


class Clock:
    def __init__(self) -> None:
        self.ms = T0

    def __call__(self) -> int:
        return self.ms


def desk(lang: str, clock: Clock) -> DeskApp:
    return DeskApp(state=fixture_state(), clock=clock, lang=lang, desk="desk-1")


def bar(app: DeskApp) -> NoticeBar:
    return app.screen.query_children(NoticeBar).first()


@aio
@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_chinese_notices_keep_every_character(size) -> None:
    app = desk("zh", Clock())
    async with app.run_test(size=size) as pilot:
        await settled()(pilot)
        for text in ZH:
            app.notify(text, timeout=10)
        await pilot.pause()   # the Noticed message handled, the screen refreshed
        shown = screen_text(app)
        for text in ZH:
            assert text in shown, shown


@aio
async def test_a_notice_never_covers_a_dialog() -> None:
    app = desk("zh", Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await settled("i")(pilot)
        assert isinstance(app.screen, DeskModal)
        app.notify("新的紧急事件 #9：火警（地点：大堂）", severity="error", timeout=15)
        await pilot.pause()   # the Noticed message handled, the screen refreshed
        notice = bar(app)
        assert notice.display and "火警" in screen_text(app)
        for child in app.screen.children:
            if child is not notice and child.display:
                assert not child.region.overlaps(notice.region), child


@aio
async def test_repeats_stack_on_one_line_and_the_panels_keep_their_rows() -> None:
    app = desk("zh", Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await settled()(pilot)
        for _ in range(3):
            app.notify("西门岗离线", severity="warning", timeout=10)
        for i in range(4):
            app.notify(f"已提交：值班记录 {i}", timeout=10)
        await pilot.pause()   # the Noticed message handled, the screen refreshed
        shown = screen_text(app)
        assert "西门岗离线（共 3 次）" in shown and "另有 3 条提示" in shown
        assert bar(app).region.height == 3


@aio
async def test_notices_go_when_their_time_is_up_on_the_desks_clock() -> None:
    clock = Clock()
    app = desk("en", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled()(pilot)
        app.notify("Saved: duty log entry", timeout=4)
        await pilot.pause()   # the Noticed message handled, the screen refreshed
        assert bar(app).display
        clock.ms += 3_999
        app.tick()
        await pilot.pause()
        assert bar(app).display
        clock.ms += 1
        app.tick()
        await pilot.pause()
        assert "Saved: duty log entry" not in screen_text(app)
        # Stepping the clock made posts late (the fixture's stations fall silent): one line each.
        late = [n.text for n in app.notices.live(clock.ms)]
        assert late and all(" is late: silent for " in x for x in late)
        for _ in range(30):   # on to offline, a second at a time: each post keeps one line
            clock.ms += 1_000
            app.tick()
        await pilot.pause()
        live = app.notices.live(clock.ms)
        offline = [n for n in live if " is offline: " in n.text]
        assert offline and all(n.severity == "error" for n in offline) and any(n.count == 2 for n in offline)
        assert len(live) == len({n.text.split(" is ")[0] for n in live})
        clock.ms += 60_000
        app.tick()
        await pilot.pause()
        assert bar(app).display == bool(app.notices.live(clock.ms))
