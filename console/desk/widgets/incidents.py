"""The incidents board (open incidents, most severe then newest first) and the banner no serious one escapes."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from console.core import state as fold
from console.desk.widgets import fmt
from console.desk.widgets.chrome import show_text
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View, unacknowledged_high


class IncidentBoard(ViewTable):
    FLEX = (("desk.col.note", "desk.col.department", "desk.col.location", "desk.col.reporter"), "desk.col.kind")
    WIDE_AT = 90

    class Selected(Message):
        """The operator chose an incident to look into."""

        def __init__(self, incident: int) -> None:
            super().__init__()
            self.incident = incident

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        if self.compact:
            return [("desk.col.id", None), ("desk.col.kind", None), ("desk.col.location", None),
                    ("desk.col.age", None), ("desk.col.state", None)]
        return [("desk.col.id", None), ("desk.col.severity", None), ("desk.col.kind", None),
                ("desk.col.location", None), ("desk.col.reporter", None), ("desk.col.age", None),
                ("desk.col.state", None), ("desk.col.department", None), ("desk.col.note", None)]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        # Each open incident's cells as last built, by id, with what they were built from. On a long day
        # with many incidents open, nearly every row is what it was a frame ago (its age moves, seldom
        # more), and building them all again was most of the board's frame (bench/desk_attach.py).
        self._built: dict[str, tuple[tuple, list[Any]]] = {}

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        built, self._built = self._built, {}
        for inc in fold.open_incidents(view.state):
            key = str(inc["id"])
            age = fmt.duration(view.now_ms - inc["opened_ms"], view.lang, short=True)
            who = fmt.station_name(view.state, inc.get("station", ""), view.lang)
            made_of = (view.lang, self.compact, age, who, inc["status"], inc["severity"], inc["kind"],
                       inc.get("location", ""), inc.get("source"), inc.get("department"), inc.get("note", ""))
            had = built.get(key)
            cells = had[1] if had is not None and had[0] == made_of else self._make_cells(inc, view, age, who)
            self._built[key] = (made_of, cells)
            yield key, cells   # ViewTable copies each cell before fitting it: the kept ones stay whole

    def _make_cells(self, inc: dict[str, Any], view: View, age: str, who: str) -> list[Any]:
        sev = inc["severity"]
        new = inc["status"] == "new"
        words = "desk.status_short" if self.compact else "status"
        status = Text(fmt.label(f"{words}.{inc['status']}", view.lang),
                      style="bold reverse red" if new and sev >= 3 else "bold" if new else "")
        if inc.get("source") == "phone":
            who += " ☎"
        ident = Text(f"#{inc['id']}", style="bold" if new else "")
        kind = Text(fmt.label(f"incident.{inc['kind']}", view.lang), style=fmt.SEVERITY_STYLE.get(sev, ""))
        if self.compact:
            # Severity and kind share a cell: the word says how bad, the colour says it again.
            both = Text.assemble(fmt.severity(sev, view.lang), " ", kind)
            return [ident, both, fmt.safe(inc.get("location", "")), age, status]
        return [ident, fmt.severity(sev, view.lang), kind,
                fmt.safe(inc.get("location", "")), fmt.safe(who), age, status,
                fmt.label(f"dept.{inc['department']}", view.lang) if inc.get("department") else "",
                fmt.safe(inc.get("note", ""))]   # the fit cuts the longest only when the row is full

    @property
    def current(self) -> int | None:
        key = self.current_key
        return int(key) if key else None

    def on_data_table_row_selected(self, event: ViewTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(int(str(event.row_key.value))))


class HighAlertBanner(Static):
    """Red, across the screen, while any high-severity incident is still new (until someone acknowledges it)."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        items = unacknowledged_high(view.state) if view else []
        self.display = bool(items)
        if not items:
            return
        first = items[0]
        text = Text("⚠ ", style="bold")
        text.append(view.t("desk.banner.high", sev=fmt.label(f"severity.{first['severity']}", view.lang),
                           kind=fmt.label(f"incident.{first['kind']}", view.lang), id=first["id"],
                           age=fmt.duration(view.now_ms - first["opened_ms"], view.lang)), style="bold")
        if first.get("location"):
            text.append_text(fmt.at_place(first["location"], view.lang))
        if len(items) > 1:
            text.append("  " + view.t("desk.banner.more", n=len(items) - 1))
        if not view.wall:
            text.append("  " + view.t("desk.banner.hint"), style="italic")
        # Up to two lines (desk.tcss): a layout pass only when the words need another line count.
        rows = min(2, -(-text.cell_len // max(1, self.content_size.width)))
        show_text(self, text, layout=rows != getattr(self, "_rows", 0))
        self._rows = rows
