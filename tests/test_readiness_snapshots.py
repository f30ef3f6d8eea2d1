"""Snapshots of the readiness board (o) and the guest screen (g) from a fixed morning and a fixed clock, in both languages."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from tests.duty_fixture import duty_state
from tests.test_desk_support import T0, settled


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
