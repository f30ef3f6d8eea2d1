"""The summary as a document in one language: headings, paragraphs, tables, lists and chart slots; pure.

Built once from a Summary and rendered twice (console.report.render: Markdown and HTML), so both
files carry the same figures. Every cell is plain text; the renderers escape all of it, which is
what keeps a station's note from becoming markup in either file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.report import service_day, services_part, terminals
from console.report import text as rt
from console.report.summary import Summary
from protocols.i18n import t

MAX_TIMELINES = 100     # incident timelines written out in full; the CSV has every one
MAX_REJECTIONS = 100    # refused reports listed one by one; the CSV has every one
CHARTS = ("people", "cars", "zones", "incidents")
RESULTS = ("early", "on_time", "late", "skipped", "overdue", "pending", "cancelled")
SENDOFF_COLS = ("post", "sent", "acked", "median", "slowest", "late", "missed")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Para:
    text: str
    style: str = ""             # "" | "strong" | "note"


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    name: str
    title: str


@dataclass
class Doc:
    title: str
    lang: str
    blocks: list[Any] = field(default_factory=list)

    def add(self, *blocks: Any) -> None:
        self.blocks.extend(blocks)

    def table(self, head_keys: tuple[str, ...], rows: list[list[Any]]) -> None:
        self.blocks.append(Table(tuple(t(f"report.col.{k}", self.lang) for k in head_keys),
                                 tuple(tuple(str(c) for c in r) for r in rows)))


def build(s: Summary, lang: str, drill_blocks: list[Any] | None = None, chart_note: str = "") -> Doc:
    """The whole report; `drill_blocks` (console.report.drill) go last for a rehearsal."""
    key = "report.title_drill" if s.drill else "report.title"
    doc = Doc(t(key, lang, name=rt.event_name(s.event, lang)), lang)
    _meta(doc, s)
    _glance(doc, s)
    doc.add(Heading(t("report.section.charts", lang), 2))
    if chart_note:
        doc.add(Para(chart_note, "note"))
    doc.add(*(Chart(name, t(f"report.chart.{name}", lang)) for name in CHARTS))
    _incidents(doc, s)
    _plans(doc, s)
    _service_day(doc, s)
    _sendoffs(doc, s)
    _services(doc, s)
    _terminals(doc, s)
    _departments(doc, s)
    _quality(doc, s)
    if drill_blocks:
        doc.add(*drill_blocks)
    return doc


def _meta(doc: Doc, s: Summary) -> None:
    lang = doc.lang
    if not s.events:
        doc.add(Para(t("report.meta.empty", lang), "strong"))
    else:
        doc.add(Para(t("report.meta.span", lang, date=s.event.get("date", ""), first=rt.stamp(s.first_ms, s.tz),
                       last=rt.stamp(s.last_ms, s.tz), span=rt.dur(s.last_ms - s.first_ms, lang), events=s.events,
                       a=s.first_gseq, b=s.last_gseq)))
    doc.add(Para(t("report.meta.source", lang, tz=rt.zone_name(s.event, s.first_ms or s.last_ms)), "note"))
    if s.drill:
        doc.add(Para(t("report.meta.drill", lang), "strong"))
    if s.faults or s.extra.get("unknown_types"):
        doc.add(Para(t("report.meta.faults", lang, n=s.faults, unknown=s.extra.get("unknown_types", 0)), "note"))


def _glance(doc: Doc, s: Summary) -> None:
    lang, g, c = doc.lang, s.guests, s.cars
    doc.add(Heading(t("report.section.glance", lang), 2))
    rows: list[list[Any]] = [
        [t("report.fig.arrivals", lang), g["arrivals"], ""], [t("report.fig.departures", lang), g["departures"], ""],
        [t("report.fig.checked_in", lang), g["checked_in"], ""], [t("report.fig.vip", lang), g["vip"], ""],
        [t("report.fig.peak_guests", lang), g["peak"], rt.clock(g["peak_ms"], s.tz)],
        [t("report.fig.guests_end", lang), g["on_site_end"], ""],
        [t("report.fig.cars_in", lang), c["in"], ""], [t("report.fig.cars_out", lang), c["out"], ""],
        [t("report.fig.cars_vip", lang), c["vip"], ""],
        [t("report.fig.peak_cars", lang), c["peak"], rt.clock(c["peak_ms"], s.tz)]]
    for lot in s.lots:
        name = rt.pick(lot, lang) or lot["id"]
        rows.append([t("report.fig.lot_peak", lang, lot=name), f"{lot['peak']} / {lot['capacity']}",
                     rt.clock(lot["peak_ms"], s.tz)])
        full = lot["spells"]
        rows.append([t("report.fig.lot_full", lang, lot=name),
                     t("report.fig.spells", lang, n=len(full), d=rt.dur(sum(x["to_ms"] - x["from_ms"] for x in full), lang)),
                     rt.clock(full[0]["from_ms"], s.tz) if full else rt.NONE])
    for zone in s.zones:
        name = rt.pick(zone, lang) or zone["id"]
        rows.append([t("report.fig.zone_peak", lang, zone=name), f"{zone['peak']} / {zone['capacity']}",
                     rt.clock(zone["peak_ms"], s.tz)])
    still = sum(1 for i in s.incidents if i["status"] != "resolved")
    rows.append([t("report.fig.incidents", lang), t("report.fig.incidents_n", lang, n=len(s.incidents), open=still), ""])
    rows.append([t("report.fig.plans", lang), len(s.plans), ""])
    doc.table(("figure", "value", "when"), rows)
    if s.incident_table:
        table = [[rt.kind(k, lang), *(row.get(str(sev), 0) for sev in range(1, 5)), sum(row.values())]
                 for k, row in s.incident_table.items()]
        doc.add(Para(t("report.sub.by_kind", lang), "strong"))
        doc.blocks.append(Table((t("report.col.kind", lang), *(rt.severity(n, lang) for n in range(1, 5)),
                                 t("report.col.total", lang)), tuple(tuple(str(c) for c in r) for r in table)))
    if s.plans:
        doc.add(Bullets(tuple(t("report.fig.plan_line", lang, id=r["id"], name=rt.pick(r, lang) or r["plan"],
                                 at=rt.clock(r["started_ms"], s.tz)) for r in s.plans)))


def _incidents(doc: Doc, s: Summary) -> None:
    lang = doc.lang
    doc.add(Heading(t("report.section.incidents", lang), 2))
    if not s.incidents:
        doc.add(Para(t("report.none.incidents", lang)))
        return
    doc.add(Para(t("report.sub.incidents_how", lang), "note"))
    doc.table(("id", "kind", "severity", "location", "reported", "reporter", "ack_after", "resolved_after",
               "department", "handlers", "status"),
              [[i["id"], rt.kind(i["kind"], lang), rt.severity(i["severity"], lang), i["location"] or rt.NONE,
                rt.clock(i["opened_ms"], s.tz), rt.name_of(s.stations, i["station"], lang), rt.dur(i["ack_after_ms"], lang),
                rt.dur(i["resolved_after_ms"], lang), rt.dept(i["department"], lang),
                ", ".join(rt.name_of(s.stations, h, lang) for h in i["handlers"]) or rt.NONE,
                rt.status(i["status"], lang)] for i in s.incidents])
    for i in s.incidents[:MAX_TIMELINES]:
        doc.add(Heading(t("report.sub.timeline", lang, id=i["id"], kind=rt.kind(i["kind"], lang),
                          sev=rt.severity(i["severity"], lang), where=i["location"] or rt.NONE), 3))
        doc.table(("time", "who", "action", "note"),
                  [[rt.clock(ms, s.tz), rt.name_of(s.stations, who, lang), rt.history_what(what, lang), note or ""]
                   for ms, who, what, note in i["history"]])
    if len(s.incidents) > MAX_TIMELINES:
        doc.add(Para(t("report.more_in_csv", lang, n=len(s.incidents) - MAX_TIMELINES, file="incident_history.csv"),
                     "note"))


def _plans(doc: Doc, s: Summary) -> None:
    lang = doc.lang
    doc.add(Heading(t("report.section.plans", lang), 2))
    if not s.plans:
        doc.add(Para(t("report.none.plans", lang)))
        return
    tally: dict[str, dict[str, int]] = {}
    for run in s.plans:
        for st in run["steps"]:
            row = tally.setdefault(st["department"], dict.fromkeys(RESULTS, 0))
            row[st["result"]] += 1
    doc.add(Para(t("report.sub.by_department", lang), "strong"))
    doc.table(("department", *RESULTS), [[rt.dept(d, lang), *row.values()] for d, row in sorted(tally.items())])
    doc.add(Para(t("report.sub.results_how", lang), "note"))
    for run in s.plans:
        doc.add(Heading(t("report.sub.run", lang, id=run["id"], name=rt.pick(run, lang) or run["plan"]), 3))
        down = (t("report.run.stood_down", lang, at=rt.clock(run["stood_down_ms"], s.tz),
                  by=rt.name_of(s.stations, run["stood_down_by"], lang))
                if run["stood_down_ms"] else t("report.run.active", lang))
        doc.add(Para(t("report.run.line", lang, cause=rt.cause(s, run["cause"], lang), at=rt.clock(run["started_ms"], s.tz),
                       owner=rt.dept(run["owner"], lang), down=down, n=run["escalations"],
                       how=t("report.run.auto" if run["auto"] else "report.run.by_desk", lang))))
        doc.table(("step", "department", "what", "target", "settled_after", "by", "result"),
                  [[n, rt.dept(st["department"], lang), (st["do_en"] or st["do"]) if lang == "en" else st["do"],
                    rt.dur(st["due_after_ms"], lang), rt.dur(st["took_ms"], lang),
                    rt.name_of(s.stations, st["by"], lang) if st["by"] else rt.NONE,
                    t(f"report.result.{st['result']}", lang) + (f" ({st['reason']})" if st["reason"] else "")]
                   for n, st in enumerate(run["steps"], 1)])


def _service_day(doc: Doc, s: Summary) -> None:
    """Preparation, roster attendance, VIP hand-off, invited vs arrived, damage and loss (console.report.service_day)."""
    for heading, lead, head, rows, bullets in service_day.sections(s, doc.lang):
        doc.add(Heading(heading, 2), Para(lead, "note"))
        doc.blocks.append(Table(head, tuple(tuple(str(c) for c in r) for r in rows)))
        if bullets:
            doc.add(Bullets(tuple(bullets)))


def _sendoffs(doc: Doc, s: Summary) -> None:
    """恭送 (console.report.sendoffs): the count, a row per link of the way out, the links never acknowledged."""
    f, lang = s.extra.get("sendoffs") or {}, doc.lang
    if not f.get("count"):
        return
    doc.add(Heading(t("report.sendoff.section", lang), 2),
            Para(t("report.sendoff.lead", lang, n=f["count"], listed=f["listed"], vip=f["vip"], complete=f["complete"],
                   departed=f["departed"], target=rt.dur(f["ack_target_ms"], lang))))
    doc.blocks.append(Table(tuple(t(f"report.sendoff.col.{k}", lang) for k in SENDOFF_COLS), tuple(
        (rt.post(r["link"], lang), str(r["sent"]), str(r["acked"]), rt.dur(r["median_ms"], lang),
         rt.dur(r["max_ms"], lang), str(r["late"]), str(r["missed"])) for r in f["links"])))
    if f["missed"]:
        walkin = t("sendoffrule.walkin", lang)
        doc.add(Para(t("report.sendoff.missed", lang), "strong"), Bullets(tuple(
            f"{rt.clock(m['ms'], s.tz)} · {m['name'] or walkin} · {rt.post(m['link'], lang)}" for m in f["missed"])))


def _services(doc: Doc, s: Summary) -> None:
    """Service calls per department (console.report.services_part): counts, time to take and to done."""
    lang, calls = doc.lang, s.services
    said = Para(services_part.how(s.extra.get("service_late_ms"), lang), "note") if calls else Para(t("report.svc.none", lang))
    doc.add(Heading(t("report.section.services", lang), 2), said)
    if calls:
        doc.table(services_part.COLUMNS, services_part.rows(calls, lang))


def _terminals(doc: Doc, s: Summary) -> None:
    """Department and leader terminals (console.report.terminals): what each confirmed, how fast, and who."""
    figures = s.extra.get("terminals") or []
    if figures:
        doc.add(Heading(t("report.section.terminals", doc.lang), 2), Para(t("report.terminals.lead", doc.lang), "note"))
        doc.table(terminals.COLUMNS, terminals.rows(figures, doc.lang))


def _departments(doc: Doc, s: Summary) -> None:
    lang = doc.lang
    doc.add(Heading(t("report.section.departments", lang), 2))
    doc.add(Para(t("report.sub.departments_how", lang), "note"))
    for d, box in s.departments.items():
        doc.add(Heading(rt.dept(d, lang), 3))
        for side in ("highlights", "shortcomings"):
            doc.add(Para(t(f"report.sub.{side}", lang), "strong"))
            doc.add(Bullets(tuple(rt.finding(f, lang, s.tz) for f in box[side]) or (t("report.none.found", lang),)))
        if box["notes"]:
            doc.add(Para(t("report.sub.notes", lang), "strong"), Bullets(tuple(_note(n, s, lang) for n in box["notes"])))
    general = [n for n in s.notes if not n["department"]]
    if general:
        doc.add(Heading(t("report.sub.general_notes", lang), 3), Bullets(tuple(_note(n, s, lang) for n in general)))


def _note(n: dict[str, Any], s: Summary, lang: str) -> str:
    return f"{rt.clock(n['ms'], s.tz)} · {rt.name_of(s.stations, n['station'], lang)} · {n['text']}"


def _quality(doc: Doc, s: Summary) -> None:
    lang, d = doc.lang, s.delays
    doc.add(Heading(t("report.section.quality", lang), 2))
    doc.add(Heading(t("report.sub.uptime", lang), 3), Para(t("report.sub.uptime_how", lang), "note"))
    doc.table(("station", "post", "first_heard", "uptime", "offline", "longest", "late_warnings", "reports"),
              [[rt.name_of(s.stations, st["id"], lang), rt.post(st["post"], lang), rt.clock(st["first_ms"], s.tz),
                rt.pct(st["uptime"]) if st["first_ms"] else t("report.never_heard", lang),
                "; ".join(f"{rt.clock(x['from_ms'], s.tz)}–{rt.clock(x['to_ms'], s.tz)}" for x in st["offline"]) or rt.NONE,
                rt.dur(max((x["to_ms"] - x["from_ms"] for x in st["offline"]), default=None), lang),
                st["late_warnings"], st["reports"]] for st in s.stations])
    phones = s.extra.get("phones") or {}
    if phones:   # issue 18: how many phones each station's code paired, and how many a revoke ended
        doc.add(Heading(t("report.phones.title", lang), 3),
                Bullets(tuple(t("report.phones.line", lang, station=rt.name_of(s.stations, sid, lang), paired=x["paired"],
                                revoked=x["revoked"]) for sid, x in phones.items())))
    outages = s.extra.get("hub_outages", ())
    doc.add(Heading(t("report.sub.hub", lang), 3),
            Bullets(tuple(t("report.outage.crash" if o["crash"] else "report.outage.stop", lang,
                            since=rt.clock(o["from_ms"], s.tz), to=rt.clock(o["to_ms"], s.tz),
                            d=rt.dur(o["to_ms"] - o["from_ms"], lang)) for o in outages)
                    or (t("report.outage.none", lang),)))
    switches = s.extra.get("hub_switches", ())
    if switches:   # two hubs (issue 19, PROTOCOL.md 5.13): a line per switch
        doc.add(Heading(t("report.pair.title", lang), 3),
                Bullets(tuple(t("report.pair.line", lang, at=rt.clock(x["at_ms"], s.tz), era=x["era"],
                                hub=t(f"hub_role.{x['hub']}", lang), why=t(f"hub_switch_why.{x['reason']}", lang))
                              for x in switches)))
    doc.add(Heading(t("report.sub.delivery", lang), 3),
            Para(t("report.sub.delivery_how", lang, late=d["late"], n=d["reports"], limit=rt.dur(d["late_ms"], lang))))
    edges = [0, *d["edges_ms"]]
    ranges = [t("report.range.between", lang, a=rt.dur(a, lang), b=rt.dur(b, lang)) for a, b in zip(edges, edges[1:])]
    ranges.append(t("report.range.over", lang, a=rt.dur(edges[-1], lang)))
    doc.table(("delay", "reports"), [[r, n] for r, n in zip(ranges, d["buckets"])])
    doc.table(("station", "reports", "late", "mean", "max", "clock_ahead", "clock_offset"),
              [[rt.name_of(s.stations, sid, lang), x["reports"], x["late"], rt.dur(x["mean_ms"], lang, True), rt.dur(x["max_ms"], lang, True),
                x["clock_ahead"], rt.offset(x.get("clock_offset_ms"), lang)]
               for sid, x in d["stations"].items()])
    if d["worst"]:
        doc.add(Para(t("report.sub.worst", lang), "strong"))
        doc.table(("gseq", "station", "type", "received", "delay"),
                  [[w["gseq"], rt.name_of(s.stations, w["station"], lang), rt.label("type", w["type"], lang), rt.clock(w["recv_ms"], s.tz),
                    rt.dur(w["delay_ms"], lang, True)] for w in d["worst"]])
    r = s.rejections
    doc.add(Heading(t("report.sub.rejections", lang), 3), Para(t("report.sub.rejections_n", lang, n=r["total"])))
    if r["total"]:
        doc.table(("code", "count", "example"),
                  [[rt.code_name(code, lang), x["n"], (x["reason_zh"] or x["reason"]) if lang == "zh" else x["reason"]]
                   for code, x in r["by_code"].items()])
        doc.table(("time", "station", "seq", "type", "code", "reason"),
                  [[rt.clock(x["recv_ms"], s.tz), rt.name_of(s.stations, x["station"], lang), x["seq"] or x["detail"],
                    rt.label("type", x["type"], lang), rt.code_name(x["code"], lang),
                    (x["reason_zh"] or x["reason"]) if lang == "zh" else x["reason"]]
                   for x in r["items"][:MAX_REJECTIONS]])
        if r["total"] > MAX_REJECTIONS:
            doc.add(Para(t("report.more_in_csv", lang, n=r["total"] - MAX_REJECTIONS, file="rejections.csv"), "note"))
    c = s.continuity
    doc.add(Heading(t("report.sub.duplicates", lang), 3), Para(t("report.sub.duplicates_how", lang)),
            Para(t("report.sub.continuity", lang, gaps=c["gaps"], conflicts=c["conflicts"])))
    doc.table(("station", "epochs", "stored", "refused", "gaps", "conflicts"),
              [[rt.name_of(s.stations, sid, lang), x["epochs"], x["stored"], x["refused"], x["gaps"], x["conflicts"]]
               for sid, x in c["stations"].items()])
