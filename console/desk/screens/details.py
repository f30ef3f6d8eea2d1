"""Screens that look into one thing: a station (status and recent reports), an incident (its history), the instructions."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from console.desk.keys import bindings
from console.desk.screens.actions import DeskActions
from console.desk.widgets import fmt
from console.desk.widgets.chrome import DeskFooter, titled, top
from console.desk.widgets.instructions import DeliveryTable, InstructionsTable
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View, liveness, silence_ms


class ViewScreen(DeskActions, Screen):
    """A screen the app feeds a View each tick; it passes the View down to every widget that takes one."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def on_mount(self) -> None:
        self.view = self.app.current_view

    def on_screen_resume(self) -> None:
        # The app feeds only the screens on view (DeskApp.tick): one coming back to the top takes
        # the newest frame right after it is back on screen as it was, so the key that uncovered it
        # is answered by the first redraw and the catch-up follows in the next (bench/desk_load.py).
        self.call_after_refresh(self.call_later, self._catch_up)   # after the redraw's own callbacks, not among them

    def _catch_up(self) -> None:
        if self.is_current and self.view is not self.app.current_view:
            self.view = self.app.current_view

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        try:
            self.show(view)
        except NoMatches:
            pass   # still composing, or closing: the next tick fills it

    def show(self, view: View) -> None:
        """Hand the frame down; screens add their own facts first."""
        for widget in self.query("*"):
            # Every widget declaring a `view` reactive takes the frame (data down, one way).
            if widget is not self and "view" in getattr(type(widget), "_reactives", ()):
                widget.view = view

    def action_back(self) -> None:
        self.dismiss()


class _Lines(ViewTable):
    """A table whose rows a screen computes (recent reports, history)."""

    def __init__(self, columns: list[str], rows, **kw: Any) -> None:
        super().__init__(**kw)
        self._columns, self._rows = columns, rows

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [(c, None) for c in self._columns]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        return self._rows(view)


def _facts(view: View, pairs: list[tuple[str, Any]]) -> Text:
    out = Text()
    for key, value in pairs:
        out.append(view.t(key) + "  ", style="dim")
        out.append_text(value if isinstance(value, Text) else Text(str(value)))
        out.append("\n")
    out.rstrip()
    return out


class StationScreen(ViewScreen):
    BINDINGS = bindings("detail", "desk", quiet=("desk",))

    def __init__(self, station: str) -> None:
        super().__init__()
        self.station = station

    def compose(self) -> ComposeResult:
        yield from top()
        yield Static(id="facts", classes="facts")
        yield _Lines(["desk.col.time", "desk.col.event"], self._recent, id="station-recent")
        yield DeskFooter()

    def _recent(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for rec in reversed(view.state.recent):
            if rec.get("station") == self.station or (rec.get("body") or {}).get("station") == self.station:
                yield str(rec["gseq"]), [Text(fmt.clock(rec["recv_ms"], view.tz), style="dim"),
                                         fmt.describe(rec, view.state, view.lang)]

    def show(self, view: View) -> None:
        super().show(view)
        st = view.state.stations.get(self.station, {})
        live = liveness(view, self.station)
        silent = silence_ms(view, self.station)
        status = Text(f"{fmt.LIVENESS_MARK[live]} {view.t('liveness.' + live)}", style=fmt.LIVENESS_STYLE[live])
        if silent is not None and live != "hub_lost":
            status.append("  " + view.t("desk.heard_ago", d=fmt.duration(silent, view.lang)))
        name = fmt.safe(fmt.station_name(view.state, self.station, view.lang), "bold")
        self.query_one("#facts", Static).update(_facts(view, [
            ("desk.col.station", name + Text(f"  ({self.station})", style="dim")),
            ("desk.col.post", fmt.label("post." + st.get("post", ""), view.lang)),
            ("desk.col.status", status),
            ("desk.col.outbox", st.get("outbox", 0)), ("desk.col.reports", st.get("reports", 0)),
            ("desk.col.rejected", Text(str(st.get("rejected", 0)), style="bold red" if st.get("rejected") else "")),
            *([("desk.col.gate", held)] if (held := fmt.holds(view.state, self.station, view.lang, view.tz)) else []),
            *([("desk.col.clock", Text(off, style="bold yellow"))] if (off := fmt.clock_off(st, view.lang)) else []),
        ]))
        self.query_one("#facts").border_title = view.t("desk.panel.station")
        self.query_one("#station-recent").border_title = view.t("desk.panel.recent")


class IncidentScreen(ViewScreen):
    BINDINGS = bindings("detail", "incident", "desk", quiet=("desk",))

    def __init__(self, incident: int) -> None:
        super().__init__()
        self.incident = incident

    def selected_incident(self) -> int | None:
        return self.incident

    def compose(self) -> ComposeResult:
        yield from top()
        yield Static(id="facts", classes="facts")
        yield _Lines(["desk.col.time", "desk.col.who", "desk.col.what", "desk.col.note"], self._history,
                     id="incident-history")
        yield DeskFooter()

    def _history(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        inc = view.state.incidents.get(self.incident)
        for n, (ms, who, what, note) in enumerate(reversed(inc["history"] if inc else [])):
            if what.startswith("assign:"):
                what_text = view.t("desk.history.assign", dept=fmt.label("dept." + what[7:], view.lang))
            elif what in ("opened", "note"):
                what_text = view.t(f"desk.history.{what}")
            else:
                what_text = fmt.label(f"status.{what}", view.lang, what)
            yield str(n), [Text(fmt.clock(ms, view.tz), style="dim"), fmt.safe(fmt.station_name(view.state, who, view.lang)),
                           what_text, fmt.safe(note)]

    def show(self, view: View) -> None:
        super().show(view)
        inc = view.state.incidents.get(self.incident)
        facts = self.query_one("#facts", Static)
        titled(facts, view.t("desk.panel.incident", id=self.incident))
        titled(self.query_one("#incident-history"), view.t("desk.panel.history"))
        if inc is None:
            facts.update(view.t("desk.msg.no_incident"))
            return
        who = fmt.safe(fmt.station_name(view.state, inc["station"], view.lang))
        if inc.get("source") in ("desk", "phone"):   # how a desk heard of it; a station's own report says nothing
            who.append("  (" + fmt.label(f"desk.source.{inc['source']}", view.lang) + ")", style="dim")
        facts.update(_facts(view, [
            ("desk.col.kind", Text(fmt.label(f"incident.{inc['kind']}", view.lang), style="bold")),
            ("desk.col.severity", fmt.severity(inc["severity"], view.lang)),
            ("desk.col.location", fmt.safe(inc.get("location", ""))),
            ("desk.col.reporter", who),
            ("desk.col.opened", f"{fmt.clock(inc['opened_ms'], view.tz)}  ({fmt.ago(view.now_ms - inc['opened_ms'], view.lang)})"),
            ("desk.col.state", fmt.label(f"status.{inc['status']}", view.lang)),
            ("desk.col.department", fmt.label(f"dept.{inc['department']}", view.lang) if inc["department"] else "—"),
            ("desk.col.note", fmt.safe(inc.get("note", ""))),
        ]))


class InstructionsScreen(ViewScreen):
    BINDINGS = bindings("detail", "desk", quiet=("desk",))

    def action_instructions(self) -> None:
        pass  # already here

    def compose(self) -> ComposeResult:
        yield from top()
        yield InstructionsTable(id="instructions-list")
        yield DeliveryTable(id="instruction-delivery")
        yield DeskFooter()

    def on_data_table_row_highlighted(self, event: InstructionsTable.RowHighlighted) -> None:
        if event.data_table.id == "instructions-list":
            delivery = self.query_one(DeliveryTable)
            delivery.instruction = self.query_one(InstructionsTable).current
            if self.view is not None:
                delivery.watch_view(self.view)

    def show(self, view: View) -> None:
        delivery = self.query_one(DeliveryTable)
        if delivery.instruction is None:
            delivery.instruction = max(view.state.instructions, default=None)
        titled(self.query_one(InstructionsTable), view.t("desk.panel.instructions"))
        titled(delivery, view.t("desk.panel.delivery"))
        super().show(view)
