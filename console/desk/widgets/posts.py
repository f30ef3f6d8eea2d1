"""The posts table: every station with its post, liveness and time since last heard, outbox depth and rejections."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.message import Message

from console.desk.widgets import fmt
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View, liveness, silence_ms
from protocols import orders


class PostsTable(ViewTable):
    FLEX = (("desk.col.post", "desk.col.station"),)
    WIDE_AT = 52

    class Selected(Message):
        """The operator chose a station to look into."""

        def __init__(self, station: str) -> None:
            super().__init__()
            self.station = station

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        post = [] if self.compact else [("desk.col.post", None)]
        return [("desk.col.station", None), *post, ("desk.col.status", None),
                ("desk.col.outbox", None), ("desk.col.rejected", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        compact = self.compact
        for sid, st in view.state.stations.items():
            live = liveness(view, sid)
            style = fmt.LIVENESS_STYLE[live]
            silent = silence_ms(view, sid)
            status = Text(f"{fmt.LIVENESS_MARK[live]} {view.t('liveness.' + live)}", style=style)
            if silent is not None and live not in ("hub_lost", "closed"):
                status.append(" " + fmt.duration(silent, view.lang, short=True), style="" if live == "online" else style)
            if fmt.clock_off(st, view.lang):   # its times are corrected; people should still set it right
                status.append(" " + view.t("desk.clock.mark"), style="bold yellow")
            if orders.reaching(view.state.holds, sid, st.get("post", "")):
                status.append(" " + view.t("desk.gate.holding"), style="bold white on red")
            name = fmt.safe(fmt.station_name(view.state, sid, view.lang))   # cut by the fit only when the row is full
            if live in ("late", "offline"):
                name.stylize("reverse " + ("yellow" if live == "late" else "red"))
            outbox, rejected = st.get("outbox", 0), st.get("rejected", 0)
            post = [] if compact else [fmt.label("post." + st.get("post", ""), view.lang)]
            yield sid, [name, *post, status,
                        Text(str(outbox), style="bold yellow" if outbox else "dim", justify="right"),
                        Text(str(rejected), style="bold red" if rejected else "dim", justify="right")]

    def on_data_table_row_selected(self, event: ViewTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(str(event.row_key.value)))
