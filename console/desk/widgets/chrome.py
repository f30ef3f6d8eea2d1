"""The frame around the board: the header line, the DRILL banner and a footer that shows key descriptions in the desk's language."""
from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey  # not re-exported by textual.widgets; pinned by the snapshot tests

from console.desk.widgets import fmt
from console.desk.widgets.view import View, pair_words
from protocols import names
from protocols.i18n import has, t


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


# The pair of hubs: in step is quiet, a peer catching up is worth a glance, a lost one means no backup.
PAIR_STYLE = {"ok": "green", "behind": "yellow", "lost": "bold white on red"}


class DeskHeader(Static):
    """Event name, hub clock, link health, actions still waiting to be acknowledged."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def on_resize(self) -> None:
        if self.view is not None:
            self.watch_view(self.view)   # the first view may come before the header has a width to fit

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        ev = view.state.event
        name = (ev.get("name_en") if view.lang == "en" else ev.get("name")) or ev.get("name", "")
        head, clock = fmt.safe(name, "bold"), fmt.clock(view.now_ms, view.tz)
        pair = pair_words(view)
        if pair is not None and self.size.width:
            # Which server is active says more than the event's name (which the operator knows): on a
            # narrow screen the name gives way so the pair's words stay whole (and the cut line's "…" after them).
            head = fmt.clip(head, max(self.size.width - cell_len(clock) - cell_len(pair[0]) - 7, 8))
        text = Text.assemble(head, "  ", (clock, "bold"))
        if pair is not None:
            # Said by the active hub itself: the desk hears it, so "system connected" goes without saying.
            words, urgency = pair
            text.append("  ● " + words, style=PAIR_STYLE[urgency])
        elif view.hub == "ok":
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
            text.append("  " + names.desk_name(view.desk, view.lang), style="dim")
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


def key_name(binding: Binding, lang: str) -> str:
    """A key as staff know it: "F5", "Esc", "回车"/"Enter", "Ctrl+Q"; a letter as it is."""
    shown = binding.key_display or binding.key.split(",")[0]
    shown = shown.split(" / ")[0]   # "F1 / ?": the footer has room for one name, the help screen gives both
    if shown in KEY_WORDS:
        return t(KEY_WORDS[shown], lang)
    if "+" in shown:
        return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in shown.split("+"))
    return shown.upper() if len(shown) > 1 and shown[0] == "f" and shown[1:].isdigit() else shown


KEY_WORDS = {"escape": "desk.keyname.escape", "enter": "desk.keyname.enter", "tab": "desk.keyname.tab"}
#: The footer's order: help (where every key is), the way back and the plans first, then the
#: screen's own keys, the language and quit last -- and these are never left out for want of room.
FIRST, LAST = ("help", "back", "plans"), ("toggle_lang", "quit")


def _words(binding: Binding, lang: str) -> str:
    """A key's words in the footer: the catalogue's short form (`desk.key_short.<action>`) where it has one."""
    short = f"desk.key_short.{binding.action}"
    return t(short if has(short) else binding.description, lang)


def _rank(action: str) -> int:
    if action in FIRST:
        return FIRST.index(action)
    return len(FIRST) + 1 + LAST.index(action) if action in LAST else len(FIRST)


class DeskFooter(Footer):
    """Textual's footer with each key's description from the catalogue, and only whole keys: where the
    row is too narrow, the screen's last keys are left out (they are all on F1) -- help, the language
    and Ctrl+Q always show. Keys of Textual's own widgets (a dropdown's "Dismiss menu") are not words
    of the catalogue and are not shown: they still work."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(compact=True, **kw)   # one space between keys: every key of a screen fits 120 columns

    def _keys(self) -> tuple[tuple[Binding, bool, str, str, str], ...]:
        """What the row shows now: each key's binding, whether it works, its tooltip, name and words."""
        lang = getattr(self.app, "lang", "zh")
        keys: dict[str, tuple[Binding, bool, str]] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in keys or not has(binding.description):
                continue
            if self.app.wall and not enabled:
                continue   # a wall display shows only keys it has: it refuses every action
            keys[binding.action] = (binding, enabled, tooltip)
        order = sorted(keys, key=_rank)
        labels = {a: (key_name(keys[a][0], lang), _words(keys[a][0], lang)) for a in order}
        # Each key takes "key words " (the compact footer: a space inside, one after).
        width = {a: cell_len(k) + cell_len(w) + 2 for a, (k, w) in labels.items()}
        room = self.app.size.width
        while sum(width[a] for a in order) > room:
            middle = [a for a in order if a not in FIRST + LAST]
            if not middle:
                break
            order.remove(middle[-1])
        return tuple((keys[a][0], keys[a][1], keys[a][2], *labels[a]) for a in order)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._shown = self._keys()
        for binding, enabled, tooltip, name, words in self._shown:
            key = FooterKey(binding.key, name, words, binding.action, disabled=not enabled, tooltip=tooltip)
            key.compact = self.compact   # set, not data-bound: this compose also runs on a language switch
            yield key

    async def _recompose_if_changed(self) -> None:
        """Rebuild the row only when its keys, their words or whether they work have changed.

        Textual rebuilds it on every focus move and every return to the screen, and a rebuild
        reflows and redraws the whole screen: under a flood that was the next key's wait.
        """
        if self.is_attached and self._keys() != getattr(self, "_shown", None):
            await self.recompose()

    def bindings_changed(self, screen: Any) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    def on_resize(self) -> None:
        if self._bindings_ready:
            self.call_after_refresh(self._recompose_if_changed)   # the width decides which keys fit
