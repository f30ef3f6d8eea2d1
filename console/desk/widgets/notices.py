"""The notice bar: the desk's notices as lines in the layout, above the footer (or at a dialog's foot), never over a panel."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.desk.notices import Notice
from console.desk.widgets.chrome import show_text
from protocols.i18n import t

STYLE = {"error": "bold white on dark_red", "warning": "bold black on dark_orange", "information": "white on grey23"}
MARK = {"error": "✖", "warning": "▲", "information": "●"}


def rows_for(height: int) -> int:
    """How many notices a screen of `height` rows shows at once: at 80×24 two, so the panels keep their rows."""
    return 2 if height < 30 else 4


def lines(notices: list[Notice], rows: int, lang: str) -> Text:
    """One line per cause (it wraps rather than cut its words); past `rows`, one line says how many more."""
    shown, rest = notices[:rows], len(notices) - rows
    out = Text()
    for i, n in enumerate(shown):
        if i:
            out.append("\n")
        line = Text(f"{MARK.get(n.severity, '●')} ", style=STYLE.get(n.severity, ""))
        line.append(n.text)
        if n.count > 1:
            line.append(t("desk.notices.repeat", lang, n=n.count))
        line.stylize(STYLE.get(n.severity, ""))
        out.append_text(line)
    if rest > 0:
        out.append("\n" + t("desk.notices.more", lang, n=rest), style="dim")
    return out


class NoticeBar(Static):
    """Shown only while something stands; its height is its lines'."""

    DEFAULT_CSS = """
    NoticeBar { height: auto; max-height: 10; padding: 0 1; background: $panel; display: none; }
    NoticeBar.-docked { dock: bottom; }
    """

    def show(self, notices: list[Notice], rows: int, lang: str) -> None:
        self.display = bool(notices)
        show_text(self, lines(notices, rows, lang), layout=True)
