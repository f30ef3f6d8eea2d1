"""Snapshots of the readiness board (o) and the guest screen (g) from a fixed morning and a fixed clock, in both languages."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from tests.duty_fixture import duty_state
from tests.desk_support import T0, settled


def desk(lang: str) -> DeskApp:
    return DeskApp(state=duty_state(), clock=lambda: T0, lang=lang, desk="desk-1")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_readiness_board(snap_compare, lang):
    assert snap_compare(desk(lang), run_before=settled("o"), terminal_size=(80, 24))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_guest_screen(snap_compare, lang):
    assert snap_compare(desk(lang), run_before=settled("g"), terminal_size=(80, 24))


def test_readiness_board_wide(snap_compare):
    assert snap_compare(desk("zh"), run_before=settled("o"), terminal_size=(130, 36))


def test_guest_screen_wide(snap_compare):
    assert snap_compare(desk("en"), run_before=settled("g"), terminal_size=(130, 36))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_hand_off_title_names_every_link_column(lang):
    """The title said 停车场 → 礼宾 → 大堂 → 陪同 above a table with 样板间 and 陪同领导 columns too: it names each
    link column, in order, from the catalogue."""
    import asyncio

    from console.desk.widgets.guests import ChainsTable
    from protocols.i18n import t
    from tests.test_desk_app import screen_text

    async def run() -> tuple[str, list[str], str]:
        app = desk(lang)
        async with app.run_test(size=(130, 36)) as pilot:
            await settled("g")(pilot)
            table = app.screen.query_one(ChainsTable)
            return str(table.border_title), [c.label.plain for c in table.ordered_columns[2:]], screen_text(app)

    title, links, shown = asyncio.run(run())
    assert t("guestdesk.link.model_unit", lang) in links and t("guestdesk.link.greeter", lang) in links
    assert title == t("guestdesk.panel.chains", lang, links=t("guestdesk.panel.chain_step", lang).join(links))
    assert title in shown
