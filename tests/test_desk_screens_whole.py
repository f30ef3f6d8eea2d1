"""Every desk screen says DRILL in a drill, and a wall display names no key it does not have (issue 17)."""
from __future__ import annotations

import re

import pytest

from console.desk.app import DeskApp
from console.desk.widgets.chrome import DrillBanner
from protocols.i18n import t
from tests.desk_plans_fixture import plan_fixture_state
from tests.test_desk_app import screen_text
from tests.test_desk_support import T0, aio, fixture_state, settled

SCREENS = ("main", "plans", "instructions", "station", "incident", "readiness", "guests", "summary", "help")


async def open_screen(pilot, name: str) -> None:
    """Open one desk screen the way an operator does (a key), or as the board's Enter does."""
    app = pilot.app
    keys = {"plans": "p", "instructions": "t", "readiness": "o", "guests": "g", "summary": "z", "help": "f1"}
    if name in keys:
        await pilot.press(keys[name])
    elif name == "station":
        app.open_station(next(iter(app.current_view.state.stations)))
    elif name == "incident":
        app.open_incident_screen(next(iter(app.current_view.state.incidents)))
    await settled()(pilot)


def banners(app: DeskApp) -> list[DrillBanner]:
    return [b for b in app.screen.query(DrillBanner) if b.display]


@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_every_screen_of_a_drill_says_so(name, lang):
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, drill=True, desk="desk-1")
    async with app.run_test(size=(100, 30)) as pilot:
        await settled()(pilot)
        await open_screen(pilot, name)
        assert app.screen.id != "_default" or name == "main"
        shown = banners(app)
        assert len(shown) == 1 and shown[0].region.height == 1, f"{name}: no DRILL banner"
        assert t("desk.drill_banner", lang).strip() in screen_text(app)


@pytest.mark.parametrize("name", ["main", "plans", "help"])
@aio
async def test_no_drill_banner_outside_a_drill(name):
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="zh", desk="desk-1")
    async with app.run_test(size=(100, 30)) as pilot:
        await settled()(pilot)
        await open_screen(pilot, name)
        assert banners(app) == [] and t("desk.drill_banner", "zh").strip() not in screen_text(app)


# A key a hint names: "按 p 查看", "Enter 启动 · x 不启动", "press a to …", "p opens the plans", a footer's "p 预案".
HINTED = (re.compile(r"按\s*([A-Za-z]\w*)"), re.compile(r"(?<![\w·])(Enter|[a-z])\s+(?=[\u4e00-\u9fff])"),
          re.compile(r"\bpress ([A-Za-z]\w*)"), re.compile(r"(?<![\w·'])(Enter|[a-z]) (?=opens|starts|dismisses)"))


def hinted_keys(text: str) -> set[str]:
    return {m.group(1) for pattern in HINTED for m in pattern.finditer(text)}


def usable(app: DeskApp, key: str) -> bool:
    bound = app.screen.active_bindings.get(key.lower())
    return bound is not None and bound.enabled


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_a_wall_display_names_only_keys_it_has(lang):
    """Every key a hint on the wall names is bound there and enabled; the desk itself (the control) names `p`."""
    for wall in (True, False):
        app = DeskApp(state=plan_fixture_state(), clock=lambda: T0, lang=lang, wall=wall, desk="desk-1")
        async with app.run_test(size=(160, 48)) as pilot:
            await settled()(pilot)
            named = hinted_keys(screen_text(app))
            if wall:
                assert all(usable(app, k) for k in named), \
                    f"the wall names keys it does not have: {sorted(k for k in named if not usable(app, k))}"
            else:
                assert "p" in named and usable(app, "p")
