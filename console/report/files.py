"""The summary's edges: read the log (streamed) and the scorecards, write Markdown, HTML, CSV, JSON and charts.

`write_report(folder, drill, langs)` is `eventdesk report DIR`. The log is read through
console.hub.store one batch at a time and folded by console.report.summary, so a log of millions of events
is never held in memory. Files are written beside each other under DIR/report/ (or `out`), each
atomically (a temporary file, then a rename), so a reader or the archive never sees half a file.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import time
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any, Callable

from console.event.folder import EventFolder
from console.hub.store import Store
from console.report import doc as report_doc
from console.report import drill as report_drill
from console.report import render as report_render
from console.report import text as rt
from console.report.summary import Summary, setup_rows, summarise
from protocols.file_errors import private_file
from protocols.i18n import t


class ReportError(Exception):
    """The report cannot be made (no log, a log of the other kind): a catalogue key and its parameters."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key, self.params = key, params

    def sentence(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


@dataclass
class Written:
    summary: Summary
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def prefix(drill: bool) -> str:
    # Not "rehearsal-": DIR/report/rehearsal-*.json are the runner's scorecards.
    return "drill-summary" if drill else "summary"


def scorecards(report_dir: Path) -> list[dict[str, Any]]:
    """Every readable rehearsal scorecard in the folder, oldest first (a broken file is skipped)."""
    cards = []
    for path in sorted(report_dir.glob("rehearsal-*.json")):
        try:
            card = json.loads(path.read_text("utf-8"))
            if card.get("drill") and card.get("run", {}).get("started_ms"):
                cards.append(card)
        except (OSError, ValueError, AttributeError):
            continue
    return sorted(cards, key=lambda c: c["run"]["started_ms"])


def read_summary(folder: EventFolder, drill: bool = False, db: Path | None = None,
                 whole_log: bool = False) -> tuple[Summary, list[dict[str, Any]], dict[str, Any] | None]:
    """(Summary, scorecards, the scorecard of the run covered) from the folder's log, streamed.

    For a rehearsal the newest scorecard's span of the log is summarised (a rehearsal log holds
    every run made in the folder), unless `whole_log`.
    """
    path = db or folder.db(drill)
    if not path.exists():
        raise ReportError("report.cli.no_log", path=path)
    event = folder.load()
    cards = scorecards(folder.report_dir) if drill else []
    try:
        store = Store(path, drill=drill)
    except Exception as exc:  # StoreError: a live log asked for as a rehearsal one, or not a log at all
        raise ReportError("report.cli.bad_log", reason=str(exc)) from None
    try:
        first, last = 1, store.next_gseq - 1
        latest = cards[-1] if cards and not whole_log else None
        if latest and latest["run"]["last_gseq"] <= last:
            first, last = latest["run"]["first_gseq"], latest["run"]["last_gseq"]
        else:
            latest = None
        lo, hi = store.conn.execute("SELECT MIN(recv_ms), MAX(recv_ms) FROM events WHERE gseq BETWEEN ? AND ?",
                                    (first, last)).fetchone()
        rejections = [r for r in store.rejections() if lo is None or lo <= r.recv_ms <= hi]
        rows = takewhile(lambda r: r.gseq <= last, store.since(first - 1))
        summary = summarise(rows, event.summary(), rejections, drill=drill, setup=setup_rows(store, first))
    finally:
        store.close()
    return summary, cards, latest


def summary_source(folder: EventFolder, drill: bool) -> Callable[[], Summary]:
    """What the desk's summary screen calls (in a worker thread) to get the figures."""
    return lambda: read_summary(folder, drill)[0]


def _atomic(path: Path, data: str | bytes) -> Path:
    """Write `path` whole or not at all, owner-only (a summary names guests, plates and staff)."""
    tmp = path.with_name(path.name + ".tmp")
    private_file(tmp)
    if isinstance(data, str):
        tmp.write_text(data, "utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_files(summary: Summary, out: Path, langs: tuple[str, ...], cards: list[dict[str, Any]] = (),
                latest: dict[str, Any] | None = None) -> Written:
    """The report of `summary` in each language, its charts, CSV tables and JSON figures, under `out`."""
    from console.report import charts as report_charts  # matplotlib: loaded only when a report is written

    done = Written(summary)
    base = prefix(summary.drill)
    for lang in langs:
        t0 = time.perf_counter()
        svgs, note = report_charts.draw_all(summary, lang)
        t1 = time.perf_counter()
        drill = report_drill.blocks(list(cards), lang, latest) if summary.drill else None
        doc = report_doc.build(summary, lang, drill, note)
        charts = {}
        for name, svg in svgs.items():
            rel = f"{base}-charts/{name}.{lang}.svg"
            done.files.append(_atomic(out / rel, svg))
            charts[name] = rel
        done.files.append(_atomic(out / f"{base}.{lang}.md", report_render.markdown(doc, charts)))
        done.files.append(_atomic(out / f"{base}.{lang}.html", report_render.page(doc, svgs)))
        done.seconds[f"charts_{lang}"] = t1 - t0
        done.seconds[f"documents_{lang}"] = time.perf_counter() - t1
    t0 = time.perf_counter()
    for name, (head, rows) in csv_tables(summary, langs[0]).items():
        done.files.append(_atomic(out / f"{base}-csv" / f"{name}.csv", _csv(head, rows)))
    done.files.append(_atomic(out / f"{base}.json", json.dumps(dataclasses.asdict(summary), ensure_ascii=False,
                                                               indent=1)))
    done.seconds["csv_json"] = time.perf_counter() - t0
    return done


def write_report(folder: EventFolder, drill: bool = False, langs: tuple[str, ...] = ("zh",),
                 out: Path | None = None, whole_log: bool = False) -> Written:
    """`eventdesk report DIR`: read the log, write every file; the seconds each part took are kept."""
    t0 = time.perf_counter()
    summary, cards, latest = read_summary(folder, drill, whole_log=whole_log)
    read_s = time.perf_counter() - t0
    done = write_files(summary, out or folder.report_dir, langs, cards, latest)
    done.seconds = {"read_and_fold": read_s, **done.seconds, "total": time.perf_counter() - t0}
    return done


# --- CSV ------------------------------------------------------------------------------------------

def _safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(head: list[str], rows: list[list[Any]]) -> str:
    # A byte-order mark first: Excel, where the office opens these, reads UTF-8 (Chinese headers) only with it.
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows([[_safe_cell(c) for c in row] for row in rows])
    return buf.getvalue()


def _head(lang: str, *columns: str) -> list[str]:
    return [t(f"report.csv.{c}", lang) for c in columns]


def _series_head(s: Summary, key: str, lang: str) -> str:
    """A per-minute column's header: a figure's words, or a lot or zone by its name (never `lot.p1`)."""
    kind, _, area_id = key.partition(".")
    if not area_id:
        return t(f"report.csv.{key}", lang)
    area = next((a for a in (s.lots if kind == "lot" else s.zones) if a["id"] == area_id), {"id": area_id})
    return t(f"report.csv.{kind}", lang, name=rt.pick(area, lang) or area_id)


def _s(ms: int | None) -> Any:
    return "" if ms is None else round(ms / 1000, 3)


def csv_tables(s: Summary, lang: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The tables under the report, one CSV each: headers in `lang`, ids and numbers as logged, times as local
    date-times."""
    v = s.series["values"]
    names = list(v)
    n = len(v.get("arrivals", ()))
    tables = {
        "minutes": ([t("report.csv.minute", lang), *(_series_head(s, k, lang) for k in names)], [[rt.stamp(s.series["start_ms"] + i * s.series["step_ms"], s.tz),
                                          *(v[k][i] for k in names)] for i in range(n)]),
        "incidents": (_head(lang, "id", "kind", "severity", "location", "note", "station", "source", "opened", "status",
                             "department", "ack_after_s", "resolved_after_s", "handlers"),
                      [[i["id"], i["kind"], i["severity"], i["location"], i["note"], i["station"], i["source"],
                        rt.stamp(i["opened_ms"], s.tz), i["status"], i["department"], _s(i["ack_after_ms"]),
                        _s(i["resolved_after_ms"]), " ".join(i["handlers"])] for i in s.incidents]),
        "incident_history": (_head(lang, "incident", "time", "who", "action", "note"),
                             [[i["id"], rt.stamp(ms, s.tz), who, what, note] for i in s.incidents
                              for ms, who, what, note in i["history"]]),
        "plan_steps": (_head(lang, "run", "plan", "started", "step", "department", "due_after_s", "took_s", "result",
                              "by", "reason"),
                       [[r["id"], r["plan"], rt.stamp(r["started_ms"], s.tz), st["id"], st["department"],
                         _s(st["due_after_ms"]), _s(st["took_ms"]), st["result"], st["by"], st["reason"]]
                        for r in s.plans for st in r["steps"]]),
        "findings": (_head(lang, "department", "side", "time", "finding", "text"),
                     [[d, t(f"report.csv.{side}", lang), rt.stamp(f["ms"], s.tz) if f["ms"] else "", f["key"], rt.finding(f, lang, s.tz)]
                      for d, box in s.departments.items() for side in ("highlights", "shortcomings")
                      for f in box[side]]),
        "notes": (_head(lang, "time", "station", "department", "text"),
                  [[rt.stamp(x["ms"], s.tz), x["station"], x["department"], x["text"]] for x in s.notes]),
        "stations": (_head(lang, "station", "post", "first_heard", "uptime", "down_s", "offline_spells",
                            "late_warnings", "reports"),
                     [[x["id"], x["post"], rt.stamp(x["first_ms"], s.tz) if x["first_ms"] else "",
                       "" if x["uptime"] is None else x["uptime"], _s(x["down_ms"]), len(x["offline"]),
                       x["late_warnings"], x["reports"]] for x in s.stations]),
        "delivery": (_head(lang, "station", "reports", "late", "mean_delay_ms", "max_delay_ms", "clock_ahead"),
                     [[sid, x["reports"], x["late"], x["mean_ms"], x["max_ms"], x["clock_ahead"]]
                      for sid, x in s.delays["stations"].items()]),
        "rejections": (_head(lang, "time", "station", "epoch", "seq", "type", "code", "reason_en", "reason_zh", "detail"),
                       [[rt.stamp(x["recv_ms"], s.tz), x["station"], x["epoch"], x["seq"], x["type"], x["code"],
                         x["reason"], x["reason_zh"], x["detail"]] for x in s.rejections["items"]]),
        "continuity": (_head(lang, "station", "epochs", "stored", "refused", "gaps", "conflicts"),
                       [[sid, *x.values()] for sid, x in s.continuity["stations"].items()]),
        "areas": (_head(lang, "area_kind", "id", "capacity", "peak", "peak_at", "end", "spells_over", "minutes_over"),
                  [[t(f"report.csv.area_{kind}", lang), a["id"], a["capacity"], a["peak"], rt.stamp(a["peak_ms"], s.tz) if a["peak_ms"] else "",
                    a["end"], len(a["spells"]), round(sum(x["to_ms"] - x["from_ms"] for x in a["spells"]) / 60000, 1)]
                   for kind, areas in (("lot", s.lots), ("zone", s.zones)) for a in areas]),
    }
    return tables
