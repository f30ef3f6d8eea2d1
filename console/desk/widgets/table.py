"""A DataTable refilled from a View: keeps the row under the cursor by key, and fits its width without sideways scrolling."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from console.desk.widgets import fmt
from console.desk.widgets.view import View


def _text(cell: Any) -> Text:
    return cell.copy() if isinstance(cell, Text) else Text(str(cell))


MIN_CELLS = 6   # a cut column keeps this much: a word and the ellipsis


def _levels(widths: list[int], budget: int, floor: int) -> list[int]:
    """Widths under one cap that fill `budget` exactly where they can (water-filling), none under `floor`."""
    left, ordered = budget, sorted(range(len(widths)), key=lambda i: widths[i])
    out = list(widths)
    for n, i in enumerate(ordered):
        share = left // (len(ordered) - n)
        if widths[i] <= share:
            left -= widths[i]
            continue
        cut = ordered[n:]
        # The cap, and one more cell for the first few: the row ends at the table's edge, not a cell short.
        extra = left - share * len(cut)
        for k, j in enumerate(sorted(cut)):
            out[j] = max(floor, min(widths[j], share + (1 if k < extra else 0)))
        break
    return out


class ViewTable(DataTable):
    """Subclasses give `columns_for(view)` (catalogue keys) and `rows_for(view)` ((key, cells) pairs).

    Every cell is a rich Text (never markup). When the row is wider than the table, the
    `FLEX` columns are cut to fit, so the important columns stay on screen at 80 cells.
    """

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)
    WIDE_AT = 60      # the table's own width (cells) from which it shows every column
    # Column keys that give up width: groups in turn (a key alone is a group of one), within a
    # group the widest first. Default: the last column.
    FLEX: tuple[str | tuple[str, ...], ...] = ()
    FOLLOW_TOP = False           # a cursor on the first row stays there as rows arrive (newest-first lists)

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self._shape: tuple = ()
        self._keys: list[str] = []
        self._cells: dict[str, list[Text]] = {}

    @property
    def compact(self) -> bool:
        """A narrow table must fit without scrolling sideways: fewer, merged columns."""
        return self.size.width < self.WIDE_AT

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        raise NotImplementedError

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        raise NotImplementedError

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        # DataTable measures every cell of every new row on its next idle, to widen columns and size rows. Ours
        # are one line high and sized by `_fit` as they are filled, so that pass changed nothing and cost the
        # desk's first picture of a long day ~100 ms (1,000 incidents: bench/desk_attach.py). The scrollable
        # size it also computes is still computed. (Textual's own method: tests/test_desk_table_fit.py checks both.)
        super()._update_dimensions(())

    @property
    def current_key(self) -> str | None:
        if not self._keys or self.cursor_row < 0 or self.cursor_row >= len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def select_key(self, key: str) -> None:
        if key in self._keys:
            self.move_cursor(row=self._keys.index(key))

    def on_resize(self) -> None:
        # The width decides what fits: refill at the new size rather than scroll sideways.
        if self.view is not None:
            self.watch_view(self.view)

    def _fit(self, keys: list[str], labels: list[Text], rows: list[tuple[str, list[Text]]]) -> list[int]:
        """Give every column what its longest cell needs; when the row is wider than the table, cut
        the FLEX groups in turn, each group's widest columns first to one level, until the row fills
        the table exactly (CJK counts double).

        So no cell is cut while its row has free columns, and a short FLEX column keeps its words
        while a long one gives up its end. Returns each column's content width, so the table is
        drawn right at once rather than after DataTable measures new rows on its next idle.
        """
        pad = 2 * self.cell_padding
        widths = [max([labels[i].cell_len] + [cells[i].cell_len for _, cells in rows]) + pad
                  for i in range(len(labels))]
        room = self.size.width - self.styles.scrollbar_size_vertical   # the scrollbar's cells, kept whether shown or not
        if room <= 0 or not labels or sum(widths) <= room:
            return [w - pad for w in widths]
        groups = [[keys.index(k) for k in ((g,) if isinstance(g, str) else g) if k in keys] for g in self.FLEX]
        for flex in [g for g in groups if g] or [[len(keys) - 1]]:
            over = sum(widths) - room
            if over <= 0:
                break
            budget = sum(widths[i] for i in flex) - over
            for i, width in zip(flex, _levels([widths[i] for i in flex], budget, MIN_CELLS + pad)):
                if width < widths[i]:
                    labels[i] = fmt.clip(labels[i], width - pad)
                    for _, cells in rows:
                        cells[i] = fmt.clip(cells[i], width - pad)
                    widths[i] = width
        return [w - pad for w in widths]

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        columns = self.columns_for(view)
        labels = [Text(view.t(key)) for key, _ in columns]
        rows = [(key, [_text(c) for c in cells]) for key, cells in self.rows_for(view)]
        widths = self._fit([key for key, _ in columns], labels, rows)
        shape = (view.lang, self.compact, tuple(label.plain for label in labels))
        rebuilt = shape != self._shape
        if rebuilt:
            # Column labels are words and their number depends on the width: rebuild them.
            self.clear(columns=True)
            for (key, width), label in zip(columns, labels):
                self.add_column(label, width=width, key=key)
            self._shape, self._keys, self._cells = shape, [], {}
        keys = [key for key, _ in rows]
        if keys == self._keys:
            # The usual second: same rows, some cells changed (ages). Update in place, so the
            # cursor and the scroll position stay where the operator left them.
            col_keys = [key for key, _ in columns]
            for key, cells in rows:
                old = self._cells.get(key, [])
                for i, cell in enumerate(cells):
                    if i >= len(old) or cell != old[i]:
                        self.update_cell(key, col_keys[i], cell, update_width=True)
        else:
            keep = None if (self.FOLLOW_TOP and self.cursor_row <= 0) else self.current_key
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            self._keys = keys
            # The cursor stays on the same row (by key), and the view with it: the operator's
            # selection never slides onto another incident because a new one arrived.
            if keep in keys:
                self.move_cursor(row=keys.index(keep), animate=False)
        for column, width in zip(self.ordered_columns, widths):
            column.content_width = width   # may shrink as well as grow, unlike DataTable's own measure
        self._cells = dict(rows)
