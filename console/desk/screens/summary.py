"""The desk's summary screen (后期总结): the report's figures with terminal charts, in the desk's language.

The figures are a console.report.summary Summary, the very one `eventdesk report` writes, asked of a
`source` the app provides (it reads the log; this screen never touches the database) in a thread
worker, so a long log never freezes the desk. Sparklines draw the per-minute series, bars the peaks
against capacity; every word is from the catalogue and station text is shown literally.
"""
from __future__ import annotations

from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Sparkline, Static

from console.desk.keys import bindings
from console.desk.screens.details import ViewScreen
from console.desk.widgets import fmt
from console.desk.widgets.chrome import DeskFooter, top
from console.desk.widgets.view import View
from console.report import services_part
from console.report import text as rt
from protocols.i18n import t

# A console.report.summary Summary. Not imported: console.report.summary reaches the plan engine, and through it the
# event folder and the keys (zmq), which a screen must not import even indirectly.
Summary = Any
BAR = 28
LIST_MAX = 30     # incidents and findings listed on screen; the files have them all


def _grid(*head: str) -> Table:
    """Columns as wide as their header at least; the last one (free text) folds rather than pushing the rest out."""
    table = Table(box=None, pad_edge=False, padding=(0, 2), header_style="bold dim", show_edge=False)
    for i, h in enumerate(head):
        last = i == len(head) - 1
        table.add_column(h, no_wrap=not last, overflow="fold" if last else "ellipsis",
                         min_width=Text(h).cell_len or 1)
    return table


def _row(table: Table, *cells: Any) -> None:
    # Text, never str: a str cell would be read as rich markup, and some of it came from a station.
    table.add_row(*(c if isinstance(c, Text) else fmt.safe(c) for c in cells))


def _title(lang: str, key: str) -> Text:
    return Text(t(key, lang), style="bold underline")


def glance(s: Summary, lang: str) -> Group:
    g, c = s.guests, s.cars
    table = _grid(t("report.col.figure", lang), t("report.col.value", lang), t("report.col.when", lang))
    for key, value, when in (("arrivals", g["arrivals"], 0), ("departures", g["departures"], 0),
                             ("vip", g["vip"], 0), ("peak_guests", g["peak"], g["peak_ms"]),
                             ("cars_in", c["in"], 0), ("cars_out", c["out"], 0), ("peak_cars", c["peak"], c["peak_ms"])):
        _row(table, t(f"report.fig.{key}", lang), Text(str(value), style="bold"), rt.clock(when, s.tz) if when else "")
    still = sum(1 for i in s.incidents if i["status"] != "resolved")
    _row(table, t("report.fig.incidents", lang), t("report.fig.incidents_n", lang, n=len(s.incidents), open=still), "")
    _row(table, t("report.fig.plans", lang), str(len(s.plans)), "")
    return Group(_title(lang, "report.section.glance"), table)


def peaks(s: Summary, lang: str) -> Group:
    table = _grid("", "", "", t("report.col.when", lang))
    for area in (*s.lots, *s.zones):
        name = rt.pick(area, lang) or area["id"]
        full = f" · {t('report.fig.spells', lang, n=len(area['spells']), d=rt.dur(sum(x['to_ms'] - x['from_ms'] for x in area['spells']), lang))}" \
            if area["spells"] else ""
        _row(table, name, fmt.gauge(area["peak"], area["capacity"], BAR),
             Text(f"{area['peak']}/{area['capacity']}", style=fmt.gauge_style(area["peak"], area["capacity"])),
             rt.clock(area["peak_ms"], s.tz) + full)
    return Group(_title(lang, "report.desk.peaks"), table)


def incidents(s: Summary, lang: str) -> Group:
    parts: list[Any] = [_title(lang, "report.section.incidents")]
    if not s.incidents:
        return Group(*parts, Text(t("report.none.incidents", lang)))
    by_kind = _grid(t("report.col.kind", lang), *(rt.severity(n, lang) for n in range(1, 5)), t("report.col.total", lang))
    for kind, row in s.incident_table.items():
        _row(by_kind, rt.kind(kind, lang), *(str(row.get(str(n), 0)) for n in range(1, 5)), str(sum(row.values())))
    items = _grid(*(t(f"report.col.{c}", lang) for c in ("id", "kind", "severity", "reported", "ack_after",
                                                         "resolved_after", "department", "location")))
    for i in s.incidents[:LIST_MAX]:
        _row(items, str(i["id"]), rt.kind(i["kind"], lang), fmt.severity(i["severity"], lang), rt.clock(i["opened_ms"], s.tz),
             rt.dur(i["ack_after_ms"], lang), rt.dur(i["resolved_after_ms"], lang), rt.dept(i["department"], lang),
             i["location"] or rt.NONE)
    return Group(*parts, by_kind, Text(""), items)


def plans(s: Summary, lang: str) -> Group:
    parts: list[Any] = [_title(lang, "report.section.plans")]
    if not s.plans:
        return Group(*parts, Text(t("report.none.plans", lang)))
    results = ("early", "on_time", "late", "skipped", "overdue", "pending", "cancelled")
    table = _grid(t("report.col.department", lang), *(t(f"report.col.{r}", lang) for r in results))
    tally: dict[str, dict[str, int]] = {}
    for run in s.plans:
        for st in run["steps"]:
            tally.setdefault(st["department"], dict.fromkeys(results, 0))[st["result"]] += 1
    for dept, row in sorted(tally.items()):
        _row(table, rt.dept(dept, lang), *(Text(str(n), style="bold red" if r in ("late", "overdue") and n else "")
                                           for r, n in row.items()))
    runs = [Text(t("report.fig.plan_line", lang, id=r["id"], name=rt.pick(r, lang) or r["plan"],
                   at=rt.clock(r["started_ms"], s.tz)), style="dim") for r in s.plans]
    return Group(*parts, table, *runs)


def services(s: Summary, lang: str) -> Group:
    """Service calls per department (console.report.services_part): the report's own table, on screen."""
    if not s.services:
        return Group(_title(lang, "report.section.services"), Text(t("report.svc.none", lang)))
    table = _grid(*(t(f"report.col.{c}", lang) for c in services_part.COLUMNS))
    for cells in services_part.rows(s.services, lang):
        _row(table, *(str(c) for c in cells))
    return Group(_title(lang, "report.section.services"), table,
                 Text(services_part.how(s.extra.get("service_late_ms"), lang), style="dim"))


def departments(s: Summary, lang: str) -> Group:
    parts: list[Any] = [_title(lang, "report.section.departments")]
    for dept, box in s.departments.items():
        parts.append(Text(rt.dept(dept, lang), style="bold"))
        for f in box["highlights"][:LIST_MAX]:
            parts.append(Text("  ✔ ", style="green") + fmt.safe(rt.finding(f, lang, s.tz)))
        for f in box["shortcomings"][:LIST_MAX]:
            parts.append(Text("  ✘ ", style="bold red") + fmt.safe(rt.finding(f, lang, s.tz)))
        for n in box["notes"][:LIST_MAX]:
            parts.append(Text("  ✎ ", style="cyan") + fmt.safe(f"{rt.clock(n['ms'], s.tz)} {n['text']}"))
        if not any(box.values()):
            parts.append(Text("  " + t("report.none.found", lang), style="dim"))
    return Group(*parts)


def quality(s: Summary, lang: str) -> Group:
    table = _grid(t("report.col.station", lang), t("report.col.uptime", lang), "", t("report.col.longest", lang),
                  t("report.col.reports", lang), t("report.col.late", lang))
    for st in s.stations:
        up = st["uptime"]
        longest = max((x["to_ms"] - x["from_ms"] for x in st["offline"]), default=None)
        late = s.delays["stations"].get(st["id"], {}).get("late", 0)
        _row(table, rt.pick(st, lang) or st["id"],
             fmt.gauge(int((up or 0) * 100), 100, BAR // 2) if st["first_ms"] else Text(""),
             rt.pct(up) if st["first_ms"] else t("report.never_heard", lang), rt.dur(longest, lang),
             str(st["reports"]), Text(str(late), style="bold yellow" if late else ""))
    d, r, c = s.delays, s.rejections, s.continuity
    lines = [Text(t("report.sub.delivery_how", lang, late=d["late"], n=d["reports"], limit=rt.dur(d["late_ms"], lang))),
             Text(t("report.sub.rejections_n", lang, n=r["total"]) + " " +
                  ", ".join(f"{code} ×{x['n']}" for code, x in r["by_code"].items())),
             Text(t("report.sub.continuity", lang, gaps=c["gaps"], conflicts=c["conflicts"]))]
    return Group(_title(lang, "report.section.quality"), table, *lines)


class SummaryScreen(ViewScreen):
    BINDINGS = [*bindings("detail"), Binding("f5", "recompute", "report.desk.refresh")]
    DEFAULT_CSS = """
    SummaryScreen #summary-status { height: auto; padding: 0 1; color: $text-muted; }
    SummaryScreen #summary-body { height: 1fr; padding: 0 1; scrollbar-size: 1 1; }
    SummaryScreen #summary-body > Static { margin-bottom: 1; }
    SummaryScreen #summary-sparks { height: auto; margin-bottom: 1; }
    SummaryScreen .summary-spark { height: 1; }
    SummaryScreen .summary-spark Label { width: 32; text-wrap: nowrap; text-overflow: ellipsis; }
    SummaryScreen .summary-spark Sparkline { width: 1fr; height: 1; }
    """

    def __init__(self, source: Callable[[], Summary] | None) -> None:
        super().__init__()
        self.source = source
        self.summary: Summary | None = None
        self.error = ""
        self._lang: str | None = None

    def compose(self) -> ComposeResult:
        yield from top()
        yield Static(id="summary-status", markup=False)
        with VerticalScroll(id="summary-body"):
            yield Static(id="summary-glance")
            yield Vertical(id="summary-sparks")
            for part in ("peaks", "incidents", "plans", "services", "departments", "quality"):
                yield Static(id=f"summary-{part}")
        yield DeskFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.action_recompute()

    def action_recompute(self) -> None:
        if self.source is None:
            self.error = t("report.desk.unavailable", self.app.lang)
            self._draw(self.app.lang)
            return
        self.query_one("#summary-status", Static).update(t("report.desk.loading", self.app.lang))
        self._load()

    @work(thread=True, exclusive=True, group="summary")
    def _load(self) -> None:
        try:
            summary, error = self.source(), ""
        except Exception as exc:  # the log could not be read: say why on the screen, keep the desk running
            summary, error = None, str(exc)
        self.app.call_from_thread(self._loaded, summary, error)

    def _loaded(self, summary: Summary | None, error: str) -> None:
        self.summary, self.error = summary, error
        self._draw(self.app.lang)

    def show(self, view: View) -> None:
        super().show(view)
        if view.lang != self._lang and (self.summary is not None or self.error):
            self._draw(view.lang)

    def _draw(self, lang: str) -> None:
        self._lang = lang
        status = self.query_one("#summary-status", Static)
        s = self.summary
        if s is None:
            status.update(self.error if self.source is None else t("report.desk.failed", lang, reason=self.error))
            return
        title = t("report.title_drill" if s.drill else "report.title", lang, name=rt.event_name(s.event, lang))
        status.update(Text.assemble((title, "bold"), "  ",
                                    (t("report.desk.computed", lang, at=rt.clock(s.last_ms, s.tz), events=s.events), "dim")))
        self.query_one("#summary-glance", Static).update(glance(s, lang))
        for part, draw in (("peaks", peaks), ("incidents", incidents), ("plans", plans), ("services", services),
                           ("departments", departments), ("quality", quality)):
            self.query_one(f"#summary-{part}", Static).update(draw(s, lang))
        self._sparks(s, lang)

    def _sparks(self, s: Summary, lang: str) -> None:
        box = self.query_one("#summary-sparks", Vertical)
        box.remove_children()
        v = s.series["values"]
        rows = [(t("report.desk.headcount", lang), v.get("headcount", [])),
                (t("report.desk.arrivals", lang), v.get("arrivals", [])),
                (t("report.desk.cars_on_site", lang), v.get("cars_on_site", []))]
        rows += [(rt.pick(a, lang) or a["id"], v.get(f"lot.{a['id']}", [])) for a in s.lots]
        rows += [(rt.pick(a, lang) or a["id"], v.get(f"zone.{a['id']}", [])) for a in s.zones]
        box.mount_all(Horizontal(Label(fmt.safe(f"{name} ▲{max(data, default=0)}")), Sparkline(data),
                                 classes="summary-spark") for name, data in rows)
