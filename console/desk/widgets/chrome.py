"""The frame around the board: the header line, the DRILL banner and a footer that shows key descriptions in the desk's language."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey  # not re-exported by textual.widgets; pinned by the snapshot tests

from console.desk.widgets import fmt
from console.desk.widgets.view import View
from protocols.i18n import t


def titled(widget: Widget, title: str | None = None, subtitle: str | None = None) -> None:
    """Set a border's title and subtitle (None: leave it) only when the words change.

    Textual repaints a widget on every assignment, even of the same words, and a panel's repaint
    re-chops everything inside it: set each frame, the panels' borders were ~a sixth of a frame.
    """
    shown = getattr(widget, "_desk_titles", (None, None))
    title = shown[0] if title is None else title
    subtitle = shown[1] if subtitle is None else subtitle
    if (title, subtitle) == shown:
        return
    if title != shown[0]:
        widget.border_title = title
    if subtitle != shown[1]:
        widget.border_subtitle = subtitle
    widget._desk_titles = (title, subtitle)


def show_text(widget: Static, content: Text, layout: bool = False) -> None:
    """`Static.update` only when the words or their styles change: each update repaints, and with
    `layout` reflows the whole screen, while most frames under a flood leave most lines as they were.
    `layout=False` (the default) is for lines whose size the words cannot change (height 1, nowrap)."""
    if content == getattr(widget, "_desk_text", None):
        return
    widget._desk_text = content
    widget.update(content, layout=layout)


class DeskHeader(Static):
    """Event name, hub clock, link health, actions still waiting to be acknowledged."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        ev = view.state.event
        name = (ev.get("name_en") if view.lang == "en" else ev.get("name")) or ev.get("name", "")
        text = Text.assemble(fmt.safe(name, "bold"), "  ", (fmt.clock(view.now_ms, view.tz), "bold"))
        if view.hub == "ok":
            text.append("  ● " + view.t("desk.hub.ok"), style="green")
        elif view.hub == "lost":
            silent = view.link_ms - view.hub_heard_ms if view.hub_heard_ms else 0
            text.append("  ✖ " + view.t("desk.hub.lost", d=fmt.duration(silent, view.lang)), style="bold white on red")
        elif view.hub == "connecting":
            text.append("  … " + view.t("desk.hub.connecting"), style="yellow")
        else:
            text.append("  " + view.t("desk.hub.local"), style="dim")
        if view.waiting:
            text.append("  ⇡ " + view.t("desk.actions_waiting", n=view.waiting), style="bold yellow")
        if view.desk:
            text.append("  " + view.desk, style="dim")
        if view.wall:
            text.append("  " + view.t("desk.wall_mode"), style="dim")
        show_text(self, text)   # height 1 and the screen's width (desk.tcss): words never resize it


class DrillBanner(Static):
    """One line saying this is a drill, on every screen of a drill (hidden otherwise)."""

    DEFAULT_CSS = """
    DrillBanner { height: 1; background: $warning; color: $background; display: none; }
    """
    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        self.display = bool(view and view.drill)
        if view and view.drill:
            show_text(self, Text(view.t("desk.drill_banner"), style="bold", justify="center"))   # height 1


def top(header_id: str | None = None) -> ComposeResult:
    """The header and the DRILL banner under it: the first two lines of every desk screen."""
    yield DeskHeader(id=header_id)
    yield DrillBanner()


class DeskFooter(Footer):
    """Textual's footer, with each binding's description looked up in the catalogue (it holds a key)."""

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        lang = getattr(self.app, "lang", "zh")
        seen: set[str] = set()
        active = list(self.screen.active_bindings.values())
        # Help and the plans first, quit last: on a narrow terminal the end of the footer is cut off.
        active.sort(key=lambda a: {"help": 0, "plans": 1, "quit": 3}.get(a[1].action, 2))
        for _, binding, enabled, tooltip in active:
            if not binding.show or binding.action in seen or (self.app.wall and not enabled):
                continue   # a wall display shows only keys it has: it refuses every action
            seen.add(binding.action)
            key = FooterKey(binding.key, self.app.get_key_display(binding), t(binding.description, lang),
                            binding.action, disabled=not enabled, tooltip=tooltip)
            key.compact = self.compact   # set, not data-bound: this compose also runs on a language switch
            yield key
