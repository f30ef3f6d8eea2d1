"""Every desk screen says DRILL in a drill, its footer shows its keys whole, and a wall display names no key it does not have (issue 17)."""
from __future__ import annotations

import re

import pytest
from textual.widgets._footer import FooterKey

from console.desk.app import DeskApp
from console.desk.widgets.chrome import DeskFooter, DrillBanner
from protocols.i18n import has, t
from tests.desk_plans_fixture import plan_fixture_state
from tests.test_desk_app import screen_text
from tests.desk_support import T0, aio, fixture_state, settled

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


def footer_keys(app: DeskApp) -> dict[str, tuple[str, str]]:
    """The footer's keys on screen, action -> (key as shown, words), each whole within the screen's width."""
    footers = app.screen.query(DeskFooter)
    if not footers:
        return {}
    shown = {}
    for key in footers.first().query(FooterKey):
        assert key.region.right <= app.size.width, f"{key.key_display} runs off the screen"
        shown[key.action] = (key.key_display, key.description)
    return shown


def screen_keys(app: DeskApp) -> set[str]:
    """The actions a screen binds for the footer (a catalogue description): what staff may press there."""
    return {b.action for _, b, enabled, _ in app.screen.active_bindings.values()
            if b.show and has(b.description) and (enabled or not app.wall)}


@pytest.mark.parametrize("name", [s for s in SCREENS if s != "help"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_footer_shows_every_key_at_120_and_quit_at_80(name, lang):
    for width in (120, 80):
        app = DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
        async with app.run_test(size=(width, 30)) as pilot:
            await settled()(pilot)
            await open_screen(pilot, name)
            shown = footer_keys(app)
            kept = {"quit", "help", "toggle_lang"} | ({"back"} & screen_keys(app))
            assert kept <= set(shown), f"{name} at {width}: {shown}"
            if width == 120:
                assert set(shown) == screen_keys(app), f"{name}: left out {screen_keys(app) - set(shown)}"
            for key, _ in shown.values():
                # As staff know them: F5, Esc, 回车/Enter, Ctrl+Q -- never "f5", "esc", "escape", "ctrl+q".
                assert key == key.strip() and (len(key) == 1 or key[0].isupper() or key == "回车"), key


@aio
async def test_the_footer_is_rebuilt_only_when_its_keys_change():
    """Textual rebuilds a footer on every focus move and every return to its screen; a rebuild reflows
    the whole screen, which under a flood was the wait before the next key. Same keys: same widgets."""
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="zh", desk="desk-1")
    async with app.run_test(size=(120, 36)) as pilot:
        await settled()(pilot)
        before = list(app.screen.query(FooterKey))
        assert before
        await pilot.press("tab")                 # focus moves to the next panel: the same keys
        await pilot.press("question_mark")       # the help, and back
        await pilot.pause()
        await pilot.press("escape")
        await settled()(pilot)
        assert list(app.screen.query(FooterKey)) == before
        await pilot.press("l")                   # the language changes every key's words
        await settled()(pilot)
        after = list(app.screen.query(FooterKey))
        assert after and after[0] is not before[0]
        assert footer_keys(app)["quit"][1] != dict((k.action, k.description) for k in before)["quit"]


@aio
async def test_a_screen_hidden_whole_under_the_help_is_not_fed_and_one_under_a_dialog_is():
    """The help is opaque: drawing the board under it each second cost the loop for nothing. A dialog is
    see-through: the board under it follows the clock."""
    now = [T0]
    app = DeskApp(state=fixture_state(), clock=lambda: now[0], lang="zh", desk="desk-1")
    async with app.run_test(size=(120, 36)) as pilot:
        await settled()(pilot)
        board = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        before = board.view
        now[0] += 2000
        app.tick()
        assert board.view is before and app.screen.is_modal
        await pilot.press("escape")
        await settled("s")(pilot)                # the instruction dialog, over the board
        assert app.screen is not board and app.screen.is_modal
        before = board.view
        now[0] += 2000
        app.tick()
        assert board.view is not before and board.view.now_ms == now[0]


CLOSING = "。，、；：？！）》」』】〕…,.;:?!)]}"


@pytest.mark.parametrize("size", [(80, 24), (64, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_help_screen_never_puts_a_punctuation_mark_first_on_a_line(lang, size):
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    async with app.run_test(size=size) as pilot:
        await open_screen(pilot, "help")
        lines = []
        for widget in app.screen.query("#help-keys, #help-note"):
            region = widget.content_region
            lines += [strip.text for strip in widget.render_lines(region.reset_offset)]
        assert len([line for line in lines if line.strip()]) > 10
        for line in lines:
            # A table row holds two columns: a piece is what stands between runs of spaces.
            for piece in re.split(r"\s{2,}", line.strip()):
                assert not piece or piece[0] not in CLOSING, f"a line starts with {piece[0]!r}: {line!r}"


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_summary_with_nothing_counted_shows_no_negative_or_fractional_counts(lang, tmp_path):
    """A log with no arrivals, cars or incidents: every figure and chart label is a whole number from 0."""
    from tests.test_report_charts_axes import QUIET, summary_of

    quiet = summary_of(tmp_path, QUIET)
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    app.summary_source = lambda: quiet
    async with app.run_test(size=(100, 40)) as pilot:
        await open_screen(pilot, "summary")
        await settled()(pilot)
        text = screen_text(app)
        assert "▲0" in text   # the sparklines' peaks are drawn
        assert not re.findall(r"(?<![\w:])-\d|\d\.\d", text), re.findall(r".{12}(?:-\d|\d\.\d).{4}", text)
