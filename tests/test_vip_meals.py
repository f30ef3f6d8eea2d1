"""Meals by dietary need for the catering contact (素食, 清真, 无麸质, 无乳制品, 其他), counted in people against a
hand count: as many as came for a party here, as listed for one expected, none for one that left; on the desk's
guest screen in both languages; 清真 read from a guest list."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.core import guests_rules
from console.event import guests
from protocols import messages as M
from tests.test_guests_handoff import CONC, Wire, guest
from tests.test_guests_import import DATE, TZ, write_csv
from tests.station_support import aio

LIST = [guest("V-01", "张三", "A", 3, needs=("vegetarian", "gluten_free")),   # here, 2 of 3 came
        guest("G-01", "王五", "C", 4, needs=("dairy_free",)),                 # came and left
        guest("H-01", "马六", "B", 5, needs=("halal",)),                      # still expected: as listed
        {**guest("O-01", "钱七", "C", 1, needs=("other",)), "needs_note": "坚果过敏"},
        guest("V-02", "李四", "B", 2)]                                        # no needs
HAND_COUNT = {"vegetarian": 2, "halal": 5, "gluten_free": 2, "dairy_free": 0, "other": 1}


@pytest.fixture
def wire(event_dir):
    w = Wire(event_dir, event_dir.load().doors_open_ms)
    w.ingest.load_guests(LIST, "guests.xlsx", w.now)
    w.send(CONC, M.GuestCheckin(guest_ref="V-01", party_size=2))
    w.send(CONC, M.GuestCheckin(guest_ref="G-01", party_size=4))
    w.send(CONC, M.GuestDeparture(guest_ref="G-01", count=4))
    yield w
    w.store.close()


@pytest.mark.pure
def test_meals_by_need_match_the_hand_count(wire: Wire) -> None:
    assert guests_rules.meals(wire.ingest.state) == HAND_COUNT


@pytest.mark.pure
def test_halal_is_read_from_the_list(tmp_path: Path) -> None:
    rows = [["姓名", "人数", "特殊需求"], ["马六", "5", "清真、无乳制品"], ["Ann Lee", "1", "Halal"]]
    ma, ann = guests.load(write_csv(tmp_path / "g.csv", rows), DATE, TZ)
    assert ma["needs"] == ["halal", "dairy_free"] and ann["needs"] == ["halal"]


WORDS = {"zh": "餐饮（人）：素食 2 · 清真 5 · 无麸质 2 · 无乳制品 0 · 其他 1",
         "en": "Meals (people): vegetarian 2 · halal 5 · gluten-free 2 · dairy-free 0 · other 1"}


@pytest.mark.screen
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_guest_screen_shows_the_meals(wire: Wire, lang: str) -> None:
    from console.desk.app import DeskApp
    app = DeskApp(state=wire.ingest.state, clock=lambda: wire.now, lang=lang, desk="desk-1")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("g")
        await pilot.pause(0.3)
        summary = app.screen.query_one("#guests-summary")
        assert WORDS[lang] in summary.render().plain
