"""A DataTable that is refilled from a View and keeps the row under the cursor by key across refills."""
from __future__ import annotations

from typing import Any, Iterable

from textual.reactive import reactive
from textual.widgets import DataTable

from console.widgets.view import View


class ViewTable(DataTable):
    """Subclasses give `columns(view)` (catalogue keys) and `rows(view)` ((key, cells) pairs)."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self._lang = ""
        self._keys: list[str] = []

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

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        keep = self.current_key
        if view.lang != self._lang:
            # Column labels are words: a new language means new columns.
            self.clear(columns=True)
            for label_key, width in self.columns_for(view):
                self.add_column(view.t(label_key), width=width, key=label_key)
            self._lang = view.lang
        else:
            self.clear()
        self._keys = []
        for key, cells in self.rows_for(view):
            self.add_row(*cells, key=key)
            self._keys.append(key)
        if keep in self._keys:
            self.move_cursor(row=self._keys.index(keep), animate=False, scroll=False)
