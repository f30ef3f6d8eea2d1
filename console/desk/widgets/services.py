"""The service calls on the desk (服务需求): open ones with their department, where, age and who took them, late ones marked, then the latest closed."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text

from console.core import services
from console.desk.widgets import fmt
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View

STATUS_STYLE = {"open": "bold", "taken": "", "done": "green", "cancelled": "dim"}


def status_cell(call: services.CallView, lang: str) -> Text:
    """待处理 / 已接单 / 已完成 / 已取消, and 延迟 after it in red when late."""
    out = Text(fmt.label(f"svc_status.{call.status}", lang), style=STATUS_STYLE.get(call.status, ""))
    if call.late:
        out.append(" " + fmt.label("svc_status.late", lang), style="bold reverse red" if call.status in ("open", "taken")
                   else "red")
    return out


def owner_cell(owner: str, lang: str) -> str:
    return services.owner_label(owner, lang)


class ServicesTable(ViewTable):
    """Every open call, late first then oldest; under them the latest closed, newest first. Row key: the call."""

    DEFAULT_CSS = """
    ServicesTable { height: 1fr; border: round $primary 60%; border-title-style: bold; }
    """
    FLEX = ("desk.svc.col.note", "desk.svc.col.by", "desk.svc.col.where", "desk.svc.col.raised_by")
    WIDE_AT = 90

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        if self.compact:
            return [("desk.svc.col.service", None), ("desk.svc.col.where", None), ("desk.svc.col.owner", None),
                    ("desk.svc.col.age", None), ("desk.svc.col.status", None), ("desk.svc.col.by", None)]
        return [("desk.svc.col.service", None), ("desk.svc.col.where", None), ("desk.svc.col.owner", None),
                ("desk.svc.col.raised_by", None), ("desk.svc.col.age", None), ("desk.svc.col.status", None),
                ("desk.svc.col.by", None), ("desk.svc.col.note", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        lang = view.lang
        for call in services.calls(view.state, view.now_ms):
            service = Text(fmt.label(f"service.{call.service}", lang), style="bold" if call.status == "open" else "")
            # No cell is cut to a fixed width here: the fit cuts the FLEX columns, and only when the row is full.
            where = fmt.safe(call.where)
            age = fmt.duration(call.age_ms, lang, short=True)
            cells = [service, where, owner_cell(call.owner, lang)]
            by = services.done_by(view.state, call.record, lang) if call.status != "open" else ""
            if self.compact:
                yield str(call.id), cells + [age, status_cell(call, lang), fmt.safe(by)]
                continue
            note = call.reason if call.status == "cancelled" else call.note
            yield str(call.id), cells + [
                fmt.safe(fmt.station_name(view.state, call.station, lang)), age,
                status_cell(call, lang), fmt.safe(by), fmt.safe(note)]


def indicator(view: View) -> Text:
    """One line for the screen's top: how many calls wait, how many are late."""
    live, late = services.open_count(view.state)
    out = Text(view.t("desk.svc.open_n", n=live), style="bold" if live else "dim")
    if late:
        out.append("  ")
        out.append(view.t("desk.svc.late_n", n=late), style="bold reverse red")
    return out
