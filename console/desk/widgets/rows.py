"""A list of rows drawn line by line (Textual's line API): only the rows on screen are built and drawn.

For lists whose rows are all new each frame (the timeline under a flood: 500 events a frame),
where a DataTable rebuilt itself in full every frame: 150 rows described and added, all its
caches cleared (rings of cached lines the collector then had to find), the table re-measured.
Here a frame only swaps the list of keys; a row's cells are built when it first comes on
screen (`cells(index)`, cached by the subclass), and the ~20 lines in view are drawn.
It looks like the desk's DataTables: a header line, zebra stripes, a row cursor.
"""
from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.desk.widgets import fmt

PAD = 1   # cells of space each side of a cell, as DataTable's cell_padding


class RowList(ScrollView, can_focus=True):
    """Subclasses set the rows with `show_rows(keys, labels, widths)` and build one row's cells in `cells(index)`."""

    COMPONENT_CLASSES = {"rows--header", "rows--even-row", "rows--cursor"}
    DEFAULT_CSS = """
    RowList {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;   /* rows are cut to the width, never scrolled sideways */
        &:focus {
            background-tint: $foreground 5%;
            & > .rows--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .rows--header { background-tint: $foreground 5%; }
        }
        & > .rows--header { text-style: bold; background: $panel; color: $foreground; }
        & > .rows--even-row { background: $surface-lighten-1 50%; }
        &:dark > .rows--even-row { background: $surface-darken-1 40%; }
        & > .rows--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False), Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False), Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False), Binding("end", "edge(1)", show=False),
    ]

    cursor_row = reactive(0, layout=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._keys: list[str] = []
        self._labels: list[Text] = []
        self._widths: list[int] = []
        self._drawn: dict[tuple, Strip] = {}   # this frame's lines; rebuilt from the cells next frame
        self._styles_for: tuple = ()
        self._styles: dict[tuple[str, bool], Style] = {}

    # --- for subclasses -------------------------------------------------------------------------
    def cells(self, index: int) -> list[Text]:
        raise NotImplementedError

    def show_rows(self, keys: list[str], labels: list[Text], widths: list[int]) -> None:
        """A new frame: these rows (by key), under these column labels and widths (content cells).

        The cursor stays on its row by key, so a selection never slides onto another event as new
        ones arrive; on the first row it stays on top, following the newest.
        """
        keep = None if self.cursor_row <= 0 else self.current_key
        shape_changed = labels != self._labels or widths != self._widths
        same = keys == self._keys and not shape_changed
        self._keys, self._labels, self._widths = keys, labels, widths
        if same:
            return
        self._drawn = {}
        height = len(keys) + 1
        if self.virtual_size.height != height or self.virtual_size.width != self.size.width:
            # Only when the count changes: virtual_size asks for a layout pass (a reflow of the screen).
            self.virtual_size = Size(self.size.width, height)
        if keep is not None and keep in keys:
            self._move(keys.index(keep))
        elif keep is not None or self.cursor_row >= len(keys):
            self._move(0)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def current_key(self) -> str | None:
        return self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None

    def get_row_at(self, index: int) -> list[str]:
        """The row's cells as plain text (as DataTable.get_row_at, for tests and look-ups)."""
        return [cell.plain for cell in self.cells(index)]

    # --- moving ---------------------------------------------------------------------------------
    def _move(self, index: int) -> None:
        index = max(0, min(index, len(self._keys) - 1))
        self.cursor_row = index
        rows_in_view = max(1, self.size.height - 1)   # the header takes a line
        top = round(self.scroll_offset.y)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + rows_in_view:
            self.scroll_to(y=index - rows_in_view + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self._move(len(self._keys) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move(round(self.scroll_offset.y) + event.y - 1)

    def watch_cursor_row(self) -> None:
        self._drawn = {}
        self.refresh()

    def on_resize(self) -> None:
        self._drawn = {}

    # --- drawing --------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        focus = (self.has_focus, self.app.theme)   # drawn lines carry the theme's colours
        if y == 0:
            key = ("header", width, focus)
            return self._drawn.get(key) or self._line(key, self._labels, "rows--header", width)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        cursor = index == self.cursor_row
        key = (self._keys[index], width, index % 2, cursor, focus)
        strip = self._drawn.get(key)
        if strip is None:
            stripe = "rows--even-row" if index % 2 == 0 else ""
            strip = self._line(key, self.cells(index), stripe, width, cursor)
        return strip

    def _style(self, component: str, cursor: bool, focus: tuple) -> Style:
        """A line's style, worked out once per focus and theme: each look-up walks every ancestor's
        background (~0.6 ms), and a frame under a flood draws dozens of lines."""
        if self._styles_for != focus:
            self._styles_for, self._styles = focus, {}
        style = self._styles.get((component, cursor))
        if style is None:
            style = self.get_component_styles(component).rich_style if component else self.rich_style
            if cursor:
                style = style + self.get_component_styles("rows--cursor").rich_style
            self._styles[(component, cursor)] = style
        return style

    def _line(self, key: tuple, cells: list[Text], component: str, width: int, cursor: bool = False) -> Strip:
        style = self._style(component, cursor, key[-1])
        line = Text(end="", no_wrap=True, overflow="crop")
        for cell, w in zip(cells, self._widths):
            cut = fmt.clip(cell, w)
            line.append(" " * PAD)
            line.append_text(cut)
            line.append(" " * (w - cut.cell_len + PAD))
        if cursor:
            line.stylize(Style(color=style.color, bgcolor=style.bgcolor, bold=style.bold, italic=style.italic,
                               reverse=style.reverse, underline=style.underline))   # over the cells' own colours
        segments = [Segment(text, (style + seg_style) if seg_style else style, control)
                    for text, seg_style, control in line.render(self.app.console)]
        strip = Strip(segments).adjust_cell_length(width, style)
        self._drawn[key] = strip
        return strip
