"""No table cell is cut while its row has free columns: every DataTable of every desk screen, zh and en, 80x24 and 160x48 (issue 17)."""
from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable

from console.desk.app import DeskApp
from tests.desk_plans_fixture import plan_fixture_state
from tests.test_desk_screens_whole import SCREENS, open_screen
from tests.desk_support import T0, aio, settled


def cut_while_free(table: DataTable) -> list[str]:
    """Cells (and headers) drawn cut -- ending in "…", or longer than their column -- in a table whose
    row still has free columns (the scrollbar's cells counted as taken, shown or not)."""
    columns = table.ordered_columns
    free = table.size.width - table.styles.scrollbar_size_vertical - sum(c.get_render_width(table) for c in columns)
    if free <= 0 or not columns:
        return []
    cells = [(c.label, c) for c in columns]
    for row in range(table.row_count):
        cells += [(cell if isinstance(cell, Text) else Text(str(cell)), columns[i])
                  for i, cell in enumerate(table.get_row_at(row))]
    return [f"{text.plain!r} in {column.key.value} ({free} free)" for text, column in cells
            if text.plain.endswith("…") or text.cell_len > column.content_width]


def test_the_checker_sees_a_cut_cell_beside_free_columns():
    """The checker itself can fail: a column set narrower than its cell, in a wide table."""
    import asyncio

    async def run() -> list[str]:
        app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang="en", desk="desk-1")
        async with app.run_test(size=(160, 48)) as pilot:
            await settled("o")(pilot)
            table = app.screen.query_one("#readiness-duty", DataTable)
            table.ordered_columns[0].content_width = 4
            return cut_while_free(table)

    assert asyncio.run(run())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_no_cell_is_cut_while_its_row_has_room(lang, size):
    app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    async with app.run_test(size=size) as pilot:
        await settled()(pilot)
        seen = 0
        for name in SCREENS:
            await open_screen(pilot, name)
            for table in app.screen.query(DataTable):
                if table.display and table.size.width:
                    seen += 1
                    assert not cut_while_free(table), f"{name} #{table.id}: {cut_while_free(table)[:3]}"
            while len(app.screen_stack) > 1:
                app.pop_screen()
            await settled()(pilot)
        assert seen >= 10   # the walk reached the tables (main, plans, instructions, detail, readiness, guests)


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_timeline_filters_show_their_whole_words(lang):
    """Each dropdown is as wide as what it shows: "Severity", never "Severit ▼", also once a choice is made."""
    from textual.widgets import Select

    from protocols.i18n import t
    from tests.test_desk_app import screen_text

    app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settled()(pilot)
        line = next(x for x in screen_text(app).splitlines() if "▼" in x)
        for key in ("desk.filter.post", "desk.filter.kind", "desk.filter.severity"):
            assert f"{t(key, lang)} ▼" in " ".join(line.split()), line
        app.screen.query_one("#filter-kind", Select).value = "incident_report"
        await settled()(pilot)
        line = next(x for x in screen_text(app).splitlines() if "▼" in x)
        assert f"{t('type.incident_report', lang)} ▼" in " ".join(line.split()), line


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_service_calls_cut_no_cell_while_the_row_has_room(lang, size):
    """At 120 the 处理人 column showed "客服部值班（无人签 …" beside an empty 备注 (issue 17): no column is cut to a
    fixed width; the fit cuts the flexible ones only when the row is full."""
    from console.desk.widgets.services import ServicesTable
    from tests.test_services_snapshots import service_state

    app = DeskApp(state=service_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    async with app.run_test(size=size) as pilot:
        await settled("f")(pilot)
        table = app.screen.query_one(ServicesTable)
        assert table.row_count >= 5
        assert not cut_while_free(table), cut_while_free(table)[:3]


@aio
async def test_a_table_filled_with_many_rows_scrolls_to_its_last_and_keeps_the_widths_it_was_fitted_to():
    """ViewTable skips DataTable's measuring of each new row (its rows are one line and `_fit` sizes its columns);
    the scrollable height must still count every row, the last one must be reachable, and the widths stay the fit's."""
    from textual.app import App, ComposeResult

    from console.desk.widgets.table import ViewTable

    class Words:
        lang = "en"

        def t(self, key: str) -> str:
            return key.upper()

    class Many(ViewTable):
        def columns_for(self, view):
            return [("a", None), ("b", None)]

        def rows_for(self, view):
            return [(f"r{i}", [f"row {i}", "x" * (1 + i % 7)]) for i in range(400)]

    class Holder(App):
        def compose(self) -> ComposeResult:
            yield Many(id="many")

    app = Holder()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(Many)
        table.view = Words()
        await pilot.pause()
        await pilot.pause()
        assert table.row_count == 400
        assert table.virtual_size.height == 400 + table.header_height
        assert [c.content_width for c in table.ordered_columns] == [len("row 399"), 7]
        table.move_cursor(row=399)
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y > 0
        assert "row 399" in "".join(seg.text for seg in table.render_line(table.size.height - 1))
