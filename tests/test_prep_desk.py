"""Preparation run from the desk on screen (issue 16 item 6): through a real hub, in both languages, the office adds a
task, gives it to another department, adds a roster slot, ends it and records a plan stage, each logged; and the
forms' snapshots at 80×24 and 160×48."""
from __future__ import annotations

import pytest

from tests.test_sendoff_screens import SIZES
from tests.station_support import aio

ERROR = {"zh": "请按“时:分”", "en": "Write the time as HH:MM"}


async def fill(pilot, app, **values: str) -> None:
    """Type into the form's text fields as a person would, each focused in turn; set its dropdowns."""
    from textual.widgets import Select

    from tests.station_support import type_text
    for wid, value in values.items():
        widget = app.screen.query_one(f"#{wid}")
        if isinstance(widget, Select):
            widget.value = value
            await pilot.pause()
            continue
        widget.focus()
        await pilot.pause()
        widget.value = ""
        await type_text(pilot, value)


async def choose(pilot, app, option_id: str) -> None:
    from textual.widgets import OptionList
    options = app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(option_id)
    await pilot.press("enter")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_office_runs_preparation_from_the_readiness_board(event_dir, lang):
    from textual.widgets import OptionList

    from console.desk.screens.prep_actions import SlotForm, TaskForm
    from console.desk.screens.readiness import ReadinessScreen
    from console.hub.server import run_in_thread
    from tests.test_desk_app import desk, logged
    from tests.desk_support import wait_for

    event = event_dir.load()
    handle = run_in_thread(event_dir)
    try:
        async with desk(event_dir, handle, lang=lang, size=(120, 40)) as (app, pilot):
            await pilot.press("o")
            assert isinstance(app.screen, ReadinessScreen)
            # ⇧T: a new task; a time that is not one is said on the form and nothing is sent.
            await pilot.press("T")
            await wait_for(pilot, lambda: isinstance(app.screen, TaskForm), what="the task form")
            await fill(pilot, app, title="补充指示牌", department="logistics", due="25:00")
            await pilot.press("enter")
            assert isinstance(app.screen, TaskForm)
            assert ERROR[lang] in str(app.screen.query_one("#dialog-error").render())
            await fill(pilot, app, due="07:00", blocking="yes")
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "task_add"), what="the task logged")
            assert logged(event_dir, "task_add") == [{"title": "补充指示牌", "department": "logistics",
                                                      "due_ms": event.at_ms("07:00"), "blocking": True, "owner": ""}]
            table = app.screen.query_one("#readiness-tasks")
            tid = await wait_for(pilot, lambda: next((k for k in table._cells if str(k).startswith("T")), None),
                                 what="the new task on the board")
            # ⇧C on the task under the cursor: given to Environment, its due time kept.
            table.select_key(tid)
            await pilot.pause()
            await pilot.press("C")
            await wait_for(pilot, lambda: app.screen.query("#due") and app.screen.query_one("#due").value == "07:00",
                           what="the change form with the task's due time")
            await fill(pilot, app, department="environment", note="人手")
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "task_change"), what="the change logged")
            assert logged(event_dir, "task_change") == [{"task": tid, "department": "environment", "due_ms": 0,
                                                         "note": "人手"}]
            # ⇧R: a roster slot with an end; then ⇧E ends it now.
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, SlotForm), what="the slot form")
            await fill(pilot, app, station="lobby-1", start="09:00", end="12:00", name="赵敏")
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "roster_add"), what="the slot logged")
            assert logged(event_dir, "roster_add") == [{"station": "lobby-1", "name": "赵敏", "staff_no": "",
                                                        "start_ms": event.at_ms("09:00"), "end_ms": event.at_ms("12:00")}]
            await wait_for(pilot, lambda: any(e["key"] == "lobby-1/赵敏" for e in app.current_view.state.event["roster"]),
                           what="the slot folded")
            await pilot.press("E")
            await wait_for(pilot, lambda: app.screen.query(OptionList), what="the slots to end")
            await choose(pilot, app, "lobby-1/赵敏")
            await wait_for(pilot, lambda: logged(event_dir, "roster_change"), what="the end logged")
            assert logged(event_dir, "roster_change") == [{"slot": "lobby-1/赵敏", "station": "", "start_ms": 0,
                                                           "end_ms": 0, "end_now": True}]
            # ⇧P: the office's plan is in.
            await pilot.press("P")
            await wait_for(pilot, lambda: app.screen.query(OptionList), what="the plan stages")
            await choose(pilot, app, "submitted:office")
            await wait_for(pilot, lambda: logged(event_dir, "prep_stage"), what="the stage logged")
            assert logged(event_dir, "prep_stage") == [{"stage": "submitted", "department": "office", "note": ""}]
            verdict = app.screen.query_one("#verdict")
            words = {"zh": "已提交 1/6", "en": "1/6 submitted"}[lang]
            await wait_for(pilot, lambda: words in str(verdict.render()), what="the stage on the board")
    finally:
        handle.stop()


def form_snapshot(snap_compare, lang: str, size: tuple[int, int], key: str) -> bool:
    """The readiness board of the duty morning (tests/duty_fixture.py), then `key` opens a preparation form."""
    from tests.desk_support import settled
    from tests.test_readiness_snapshots import desk
    return snap_compare(desk(lang), run_before=settled("o", key), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("key", ["T", "R", "C"], ids=["task", "slot", "change_task"])
def test_form_snapshot(snap_compare, key, lang, size):
    assert form_snapshot(snap_compare, lang, size, key)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_readiness_board_with_plan_stages_snapshot(snap_compare, lang, size):
    from tests.desk_support import settled
    from tests.test_readiness_snapshots import desk
    assert snap_compare(desk(lang), run_before=settled("o"), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("key", ["T", "R", "C"], ids=["task", "slot", "change_task"])
@aio
async def test_every_form_label_shows_whole(key, lang, size):
    """"截止时间（时:分，或“日期 时:" was cut at its half of the form: every label is drawn whole, on the screen."""
    from textual.widgets import Label

    from console.desk.screens.prep_actions import PrepForm
    from tests.test_desk_app import screen_text
    from tests.desk_support import settled
    from tests.test_readiness_snapshots import desk

    app = desk(lang)
    async with app.run_test(size=size) as pilot:
        await settled("o", key)(pilot)
        assert isinstance(app.screen, PrepForm)
        shown = "".join(screen_text(app).split())
        labels = [str(label.render()) for label in app.screen.query(Label)]
        assert len(labels) >= 3
        for text in labels:
            assert "".join(text.split()) in shown, f"{text!r} is cut"
