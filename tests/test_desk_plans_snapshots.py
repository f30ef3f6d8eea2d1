"""Snapshots of the desk's contingency plans from a fixture picture with a fixed clock: the plans screen and the
main screen's panel (wide) or line (80x24), in both languages."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from tests.desk_plans_fixture import plan_fixture_state
from tests.desk_support import T0, settled

SIZES = [(80, 24), (160, 48)]




def desk(lang: str) -> DeskApp:
    return DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plans_screen(snap_compare, lang, size):
    """p: proposals, both running plans and every step; the cursor's row in full below (here: the proposal)."""
    assert snap_compare(desk(lang), run_before=settled("p"), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_main_screen_with_plans(snap_compare, lang, size):
    """Wide: the plans panel under the incidents. 80x24: the one-line indicator, red for the overdue steps."""
    assert snap_compare(desk(lang), run_before=settled(), terminal_size=size)


def test_plans_screen_on_a_skipped_step(snap_compare):
    """The cursor on the fire plan's skipped parking step: below it, its posts, acknowledgements and the reason
    in full (typed by a person: shown literally)."""
    assert snap_compare(desk("zh"), run_before=settled("p", *["down"] * 10), terminal_size=(100, 30))
