"""The help screen: every key of the desk with what it does, in the desk's language."""
from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Static

from console.desk.keys import KEYS, OPERATOR_SCOPES
from console.desk.widgets import fmt
from console.desk.widgets.chrome import DrillBanner
from protocols.i18n import t

COLUMNS = ((("desk.help.incident", ("incident",)), ("desk.help.desk", ("desk", "plan"))),
           (("desk.help.moving", ("board", "doc", "detail")), ("desk.help.app", ("app",))))


def _column(lang: str, groups: tuple, wall: bool) -> Group:
    parts: list = []
    for title, scopes in groups:
        if wall and set(scopes) & set(OPERATOR_SCOPES):
            continue   # a wall display has no actions to explain
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True, min_width=6)
        keys.add_column()
        for key in KEYS:
            if key.scope in scopes:
                shown = key.display or " / ".join(k.upper() if len(k) > 1 else k for k in key.keys.split(","))
                keys.add_row(shown, t(key.text, lang))
        parts += [Text(t(title, lang), style="bold underline"), keys, Text("")]
    return Group(*parts[:-1])   # no blank line under the last group: the list fits at 80x24


def help_table(lang: str, wall: bool = False) -> Table:
    """Two columns of key groups, so the whole list fits on an 80x24 terminal."""
    outer = Table.grid(padding=(0, 3), expand=True)
    outer.add_column(ratio=1)
    outer.add_column(ratio=1)
    outer.add_row(*(_column(lang, groups, wall) for groups in COLUMNS))
    return outer


class Prose(Static):
    """A paragraph folded at its width by `fmt.fold`: a line never starts with "。" or any closing mark
    (Rich breaks CJK anywhere and left a lone "。" on the help's last line)."""

    DEFAULT_CSS = "Prose { height: auto; }"

    def __init__(self, words: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.words = words

    def render(self) -> Text:
        return Text("\n".join(fmt.fold(self.words, self.content_size.width or 1)), style="dim")

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(fmt.fold(self.words, width or 1))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "desk.key.back")]
    # Opaque: a see-through screen makes every redraw of the help also redraw the board under it,
    # dimmed (a fifth of the desk's loop under a flood). The help covers the board anyway.
    DEFAULT_CSS = """
    HelpScreen { background: $background; }
    HelpScreen DrillBanner { dock: top; }
    """

    def compose(self) -> ComposeResult:
        lang, wall = self.app.lang, self.app.wall
        yield DrillBanner()   # a drill says so on every screen, this one too
        with VerticalScroll(id="help") as box:
            box.border_title = t("desk.help.title", lang)
            yield Static(help_table(lang, wall), id="help-keys")
            yield Prose(t("desk.help.footer_note", lang), id="help-note")

    def on_mount(self) -> None:
        self.query_one(DrillBanner).view = self.app.current_view

    def on_screen_resume(self) -> None:
        self.query_one(DrillBanner).view = self.app.current_view   # installed once, shown again later

    def action_close(self) -> None:
        self.dismiss()
