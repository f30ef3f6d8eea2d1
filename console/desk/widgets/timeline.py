"""The timeline of recent events, newest first, filtered by post, event type and a severity floor."""
from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Select

from console.desk.widgets import fmt
from console.desk.widgets.rows import PAD, RowList
from console.desk.widgets.view import View, event_severity, filter_recent
from protocols.messages import POSTS, REGISTRY

# Types worth filtering on: what is logged, in the catalogue's order of the wire.
LOGGED = [t for t, c in REGISTRY.items() if c.KIND in ("report", "action", "hub")]


class TimelineTable(RowList):
    """The newest ROWS events that pass the filters; a row's words are built when it first comes on screen."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)
    post = reactive("")
    kind = reactive("")
    min_severity = reactive(0)

    # Rows kept in the list: far more than a terminal shows at once (a 48-line screen shows ~40);
    # under a flood all of them are new each frame, but only those on screen are ever described.
    ROWS = 150
    WIDE_AT = 56      # from this width (cells), a station column; below it, who and what share one
    STATION_MAX = 12  # the station column's widest

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._recs: list[dict[str, Any]] = []
        self._view: View | None = None
        # Cells already built, by (gseq, lang, compact): a logged event never changes once written,
        # so a row is described once, not once a frame. Only rows still in the list are kept.
        self._made: dict[tuple[int, str, bool], list[Text]] = {}

    @property
    def compact(self) -> bool:
        return self.size.width < self.WIDE_AT

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        self._view = view
        compact = self.compact
        recs = filter_recent(view.state, self.post, self.kind, self.min_severity, limit=self.ROWS)
        self._recs = recs
        keys = [(rec["gseq"], view.lang, compact) for rec in recs]
        made = self._made
        self._made = {k: made[k] for k in keys if k in made}
        if compact:
            labels = [Text(view.t("desk.col.time")), Text(view.t("desk.col.event"))]
            time_w = max(5, labels[0].cell_len)
            widths = [time_w, max(6, self.size.width - time_w - 4 * PAD)]
        else:
            labels = [Text(view.t(k)) for k in ("desk.col.time", "desk.col.station", "desk.col.event")]
            names = {fmt.station_name(view.state, sid, view.lang) for sid in {rec.get("station", "") for rec in recs}}
            station_w = min(self.STATION_MAX, max([labels[1].cell_len] + [fmt.safe(n).cell_len for n in names]))
            time_w = max(8, labels[0].cell_len)
            widths = [time_w, station_w, max(6, self.size.width - time_w - station_w - 6 * PAD)]
        self.show_rows([str(rec["gseq"]) for rec in recs], labels, widths)

    def on_resize(self) -> None:
        super().on_resize()
        if self._view is not None:
            self.watch_view(self._view)   # the width decides the columns

    def cells(self, index: int) -> list[Text]:
        view, rec = self._view, self._recs[index]
        key = (rec["gseq"], view.lang, self.compact)
        cells = self._made.get(key)
        if cells is None:
            cells = self._made[key] = self._row(rec, view, key[2])
        return cells

    def _row(self, rec: dict[str, Any], view: View, compact: bool) -> list[Any]:
        # Cells are cached and drawn as they are: RowList clips a copy, never the cached Text.
        sev = event_severity(rec, view.state)
        line = fmt.describe(rec, view.state, view.lang)
        if sev >= 3 and rec["type"] != "incident_update":
            line.stylize(fmt.SEVERITY_STYLE[sev], 0, len(fmt.label(f"type.{rec['type']}", view.lang)))
        who = fmt.safe(fmt.station_name(view.state, rec.get("station", ""), view.lang))
        when = fmt.clock(rec["recv_ms"], view.tz)
        if rec.get("late_ms"):   # saved offline, placed when it happened: say how late it came in
            line.append("  " + view.t("desk.arrived_late", d=fmt.duration(rec["late_ms"], view.lang, short=True)),
                        style="dim yellow")
        if compact:
            # Narrow: hours and minutes, and who said it, briefly, leads the line.
            who = fmt.clip(who, 8)
            who.pad_right(8 - who.cell_len)   # events line up whatever the name's width
            return [Text(when[:5], style="dim"), Text.assemble(who, " ", line)]
        return [Text(when, style="dim"), fmt.clip(who, 12), line]

    def _refilter(self) -> None:
        if self.view is not None:
            self.watch_view(self.view)

    def watch_post(self) -> None:
        self._refilter()

    def watch_kind(self) -> None:
        self._refilter()

    def watch_min_severity(self) -> None:
        self._refilter()


SELECT_FRAME = 4   # a compact Select's cells around its words: padding, the arrow and a gap to the next


class Timeline(Vertical):
    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def compose(self) -> ComposeResult:
        with Horizontal(id="timeline-filters"):
            yield Select([], id="filter-post", compact=True, allow_blank=True)
            yield Select([], id="filter-kind", compact=True, allow_blank=True)
            yield Select([], id="filter-severity", compact=True, allow_blank=True)
        yield TimelineTable(id="timeline-table")

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        if getattr(self, "_lang", None) != view.lang:
            self._lang = view.lang
            self._relabel(view)

    def _relabel(self, view: View) -> None:
        """Filter choices are words too: rebuilt in the new language, the choice kept."""
        options = {
            "filter-post": [(view.t(f"post.{p}"), p) for p in POSTS + ("desk",)],
            "filter-kind": [(fmt.label(f"type.{t}", view.lang), t) for t in LOGGED],
            "filter-severity": [(view.t("desk.filter.sev_at_least", sev=view.t(f"severity.{n}")), n)
                                for n in (1, 2, 3, 4)],
        }
        prompts = {"filter-post": "desk.filter.post", "filter-kind": "desk.filter.kind",
                   "filter-severity": "desk.filter.severity"}
        for wid, opts in options.items():
            select = self.query_one(f"#{wid}", Select)
            keep = select.value
            with select.prevent(Select.Changed):
                select.prompt = view.t(prompts[wid])
                select.set_options(opts)
                if keep is not Select.NULL and keep in [v for _, v in opts]:
                    select.value = keep
        self._labels = {wid: dict((v, label) for label, v in opts) for wid, opts in options.items()}
        self._prompts = {wid: view.t(key) for wid, key in prompts.items()}
        for select in self.query(Select):
            self._fit_filter(select)

    def _fit_filter(self, select: Select) -> None:
        """As wide as what it shows (the prompt or the choice) and its arrow: "Severity" whole, never "Severit"."""
        shown = self._prompts[select.id] if select.value is Select.NULL else self._labels[select.id][select.value]
        select.styles.width = cell_len(shown) + SELECT_FRAME

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if getattr(self, "_labels", None):
            self._fit_filter(event.select)
        table = self.query_one(TimelineTable)
        value = None if event.value is Select.NULL else event.value
        if event.select.id == "filter-post":
            table.post = value or ""
        elif event.select.id == "filter-kind":
            table.kind = value or ""
        elif event.select.id == "filter-severity":
            table.min_severity = int(value or 0)
