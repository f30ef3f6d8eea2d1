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


class ViewTable(DataTable):
    """Subclasses give `columns_for(view)` (catalogue keys) and `rows_for(view)` ((key, cells) pairs).

    Every cell is a rich Text (never markup). When the row is wider than the table, the
    `FLEX` column is cut to fit, so the important columns stay on screen at 80 cells.
    """

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)
    WIDE_AT = 60      # the table's own width (cells) from which it shows every column
    FLEX: tuple[str, ...] = ()   # column keys that give up width, first to last (default: the last column)
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
        """Cut the FLEX columns, in turn, until the row fits the table's width (CJK counts double).

        Returns each column's content width, so the table is drawn right at once rather than
        after DataTable measures new rows on its next idle.
        """
        pad = 2 * self.cell_padding
        widths = [max([labels[i].cell_len] + [cells[i].cell_len for _, cells in rows]) + pad
                  for i in range(len(labels))]
        room = self.size.width - 1  # a vertical scrollbar may take one cell
        if room <= 0 or not labels:
            return [w - pad for w in widths]
        for key in [k for k in self.FLEX if k in keys] or [keys[-1]]:
            over = sum(widths) - room
            if over <= 0:
                break
            i = keys.index(key)
            keep = max(6, widths[i] - pad - over)
            labels[i] = fmt.clip(labels[i], keep)
            for _, cells in rows:
                cells[i] = fmt.clip(cells[i], keep)
            widths[i] = keep + pad
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
