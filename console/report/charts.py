"""The summary's charts drawn with matplotlib (Agg, SVG out): people, cars and lots, zones, incidents.

Text is drawn as paths, so the SVG needs no font where it is opened: the HTML stays self-contained
and reads the same on any machine. Chinese labels need a CJK font where the report is *made*, and a
fresh machine has none: the charts ship their own (console/report/fonts, a subset of Noto Sans CJK
SC; console.report.font_subset says why a bundled subset and what it holds). A full CJK font this
machine has (matplotlib's list, then fontconfig) is tried first, for the rare character outside the
subset. Knows the Summary and matplotlib; no store, no screen.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import subprocess
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")   # no display, no GUI toolkit: the report is made by a command or a worker thread

import matplotlib.dates as mdates  # noqa: E402  (after the backend is chosen)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from console.report import font_subset  # noqa: E402
from console.report import text as rt  # noqa: E402
from console.report.summary import Summary  # noqa: E402
from protocols import eventtime  # noqa: E402
from protocols.i18n import t  # noqa: E402

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN")
SEVERITY_COLOUR = {1: "#8a94a3", 2: "#e0a100", 3: "#e0561b", 4: "#a8071a"}
PALETTE = ("#1f5fa8", "#2e9e5b", "#b5651d", "#7b3fa0", "#c23b6e", "#3a8fa3")
GANTT_MAX = 40          # more incidents than this are drawn as points, not one bar each
WIDTH_IN = 10.5


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A full CJK family this machine has, or None (the bundled subset then draws every Chinese label)."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    try:   # installed after matplotlib built its font cache: ask fontconfig and add the file
        found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(found.splitlines(), key=lambda p: ("Sans" not in p, p)):
        path = line.split(":")[0].strip()
        if not path:
            continue
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except Exception:  # a font file matplotlib cannot read: try the next one
            continue
    return None


@lru_cache(maxsize=1)
def bundled_font() -> str:
    """The shipped subset's family, added to matplotlib's list (once)."""
    font_manager.fontManager.addfont(str(font_subset.FONT))
    return font_subset.FAMILY


def _fonts() -> list[str]:
    # DejaVu first for Latin and digits; matplotlib falls back glyph by glyph along the list.
    return ["DejaVu Sans", *([cjk_font()] if cjk_font() else []), bundled_font()]


def _name(area: dict[str, Any], lang: str) -> str:
    return rt.pick(area, lang) or area["id"]


def _style(salt: str) -> dict[str, Any]:
    # The CJK fonts after DejaVu in every language: an area named only in Chinese still draws in English.
    fonts = _fonts()
    # A salt per chart keeps the SVG ids apart when several charts share one HTML page, and the
    # output stable from run to run (the archive's checksums then mean something).
    return {"font.family": fonts, "font.size": 9, "svg.fonttype": "path", "svg.hashsalt": salt,
            "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
            "axes.unicode_minus": False}


def _wall(ms: int, tz: dt.tzinfo) -> dt.datetime:
    """The event's clock face as a naive datetime: matplotlib draws naive times as they are (never in the machine's zone)."""
    return eventtime.local(ms, tz).replace(tzinfo=None)


def _times(s: Summary, n: int) -> list[dt.datetime]:
    start = s.series["start_ms"]
    return [_wall(start + i * s.series["step_ms"], s.tz) for i in range(n)]


def _flows(ax: Any, x: list[dt.datetime], up: list[int], down: list[int], labels: tuple[str, str]) -> None:
    """Per-minute counts above the axis and below it, each as one filled staircase: one path, not a bar a minute."""
    edges = [mdates.date2num(v) for v in x]
    edges.append(edges[-1] + 1 / 1440)
    ax.stairs(up, edges, fill=True, color=PALETTE[1], label=labels[0])
    ax.stairs([-n for n in down], edges, fill=True, color=PALETTE[2], label=labels[1])
    ax.xaxis_date()


def _level(ax: Any, x: list[dt.datetime], y: list[int], fill: bool = False, **kw: Any) -> None:
    """A level per minute as steps held to the end of the last minute (not cut at its start)."""
    x = [*x, x[-1] + dt.timedelta(minutes=1)]
    y = [*y, y[-1]]
    if fill:
        ax.fill_between(x, y, step="post", alpha=0.25, color=kw.get("color"))
    ax.step(x, y, where="post", **kw)


def _time_axis(ax: Any) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=12))


def _counts(ax: Any, mirrored: bool = False) -> None:
    """A count axis (people, cars, per minute): whole-number ticks from 0, also when every count is 0,
    where matplotlib alone draws "-0.04 … 0.04". `mirrored`: departures below the axis, read as counts."""
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    low, high = ax.get_ylim()
    if mirrored:
        ax.set_ylim(min(low, -1), max(high, 1))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(round(v))}"))
    else:
        ax.set_ylim(0, max(high, 1))


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]     # drop the XML prolog and DOCTYPE: it is inlined in HTML


def _empty(ax: Any, lang: str) -> None:
    ax.text(0.5, 0.5, t("report.chart.no_data", lang), ha="center", va="center", transform=ax.transAxes,
            color="#5b6472")
    ax.set_xticks([])
    ax.set_yticks([])


def people(s: Summary, lang: str) -> str:
    v = s.series["values"]
    fig, (top, low) = plt.subplots(2, 1, figsize=(WIDTH_IN, 4.6), sharex=True, height_ratios=(3, 2))
    if not v.get("headcount"):
        _empty(top, lang)
        _empty(low, lang)
        return _svg(fig)
    x = _times(s, len(v["headcount"]))
    _level(top, x, v["headcount"], fill=True, color=PALETTE[0], label=t("report.chart.on_site", lang))
    top.set_ylabel(t("report.chart.people_axis", lang))
    top.legend(loc="upper left")
    _counts(top)
    _flows(low, x, v["arrivals"], v["departures"], (t("report.chart.arrivals", lang), t("report.chart.departures", lang)))
    low.set_ylabel(t("report.chart.per_min", lang))
    low.legend(loc="upper left")
    _counts(low, mirrored=True)
    _time_axis(low)
    return _svg(fig)


def cars(s: Summary, lang: str) -> str:
    v = s.series["values"]
    fig, (top, low) = plt.subplots(2, 1, figsize=(WIDTH_IN, 4.6), sharex=True, height_ratios=(3, 2))
    if not v.get("cars_on_site"):
        _empty(top, lang)
        _empty(low, lang)
        return _svg(fig)
    x = _times(s, len(v["cars_on_site"]))
    for i, lot in enumerate(s.lots):
        colour = PALETTE[i % len(PALETTE)]
        _level(top, x, v[f"lot.{lot['id']}"], color=colour, label=_name(lot, lang))
        top.axhline(lot["capacity"], color=colour, linestyle="--", linewidth=0.8)
    top.set_ylabel(t("report.chart.lot_axis", lang))
    _counts(top)
    if s.lots:
        top.legend(loc="upper left")
    _flows(low, x, v["cars_in"], v["cars_out"], (t("report.chart.cars_in", lang), t("report.chart.cars_out", lang)))
    low.set_ylabel(t("report.chart.per_min", lang))
    low.legend(loc="upper left")
    _counts(low, mirrored=True)
    _time_axis(low)
    return _svg(fig)


def zones(s: Summary, lang: str) -> str:
    v = s.series["values"]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.2))
    if not s.zones or not v.get("headcount"):
        _empty(ax, lang)
        return _svg(fig)
    x = _times(s, len(v["headcount"]))
    for i, zone in enumerate(s.zones):
        colour = PALETTE[i % len(PALETTE)]
        _level(ax, x, v[f"zone.{zone['id']}"], color=colour, label=_name(zone, lang))
        ax.axhline(zone["capacity"], color=colour, linestyle="--", linewidth=0.8)
    ax.set_ylabel(t("report.chart.zone_axis", lang))
    _counts(ax)
    ax.legend(loc="upper left")
    _time_axis(ax)
    return _svg(fig)


def incidents(s: Summary, lang: str) -> str:
    items = s.incidents
    fig, ax = plt.subplots(figsize=(WIDTH_IN, max(2.4, min(len(items), GANTT_MAX) * 0.28 + 1.2)))
    if not items:
        _empty(ax, lang)
        return _svg(fig)
    when = lambda ms: _wall(ms, s.tz)  # noqa: E731
    if len(items) <= GANTT_MAX:
        # One bar per incident from report to resolution (to the end of the log when still open).
        for row, i in enumerate(items):
            end = i["opened_ms"] + (i["resolved_after_ms"] if i["resolved_after_ms"] is not None
                                    else s.last_ms - i["opened_ms"])
            colour = SEVERITY_COLOUR.get(i["severity"], "#444")
            still_open = i["resolved_after_ms"] is None
            ax.barh(row, (end - i["opened_ms"]) / 86_400_000 or 1 / 86_400, left=when(i["opened_ms"]),
                    color=colour, alpha=0.45 if still_open else 0.9, hatch="//" if still_open else None,
                    edgecolor=colour, height=0.6)
            if i["ack_after_ms"] is not None:
                ax.plot([when(i["opened_ms"] + i["ack_after_ms"])], [row], marker="|", color="black", markersize=9)
        ax.set_yticks(range(len(items)), [f"#{i['id']} {rt.kind(i['kind'], lang)}" for i in items])
        ax.invert_yaxis()
    else:
        for sev, colour in SEVERITY_COLOUR.items():
            pts = [i for i in items if i["severity"] == sev]
            ax.scatter([when(i["opened_ms"]) for i in pts], [sev] * len(pts), color=colour, s=14,
                       label=rt.severity(sev, lang))
        ax.set_yticks(range(1, 5), [rt.severity(n, lang) for n in range(1, 5)])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SEVERITY_COLOUR.values()]
    labels = [rt.severity(n, lang) for n in SEVERITY_COLOUR]
    if len(items) <= GANTT_MAX:
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#5b6472", hatch="//"))
        labels.append(t("report.chart.unresolved", lang))
    # Above the plot, so it never covers a bar.
    ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=len(labels), fontsize=8,
              frameon=False)
    ax.set_xlim(when(s.first_ms), when(max(s.last_ms, s.first_ms + 60_000)))
    _time_axis(ax)
    return _svg(fig)


DRAW = {"people": people, "cars": cars, "zones": zones, "incidents": incidents}


def draw_all(s: Summary, lang: str) -> tuple[dict[str, str], str]:
    """({chart name: SVG text}, a note for the report: none now that the charts bring their own Chinese font)."""
    # A character outside every font (a rare one in a place name) draws as a box; say nothing per label.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    out = {}
    for name, draw in DRAW.items():
        with matplotlib.rc_context(_style(f"eventdesk-{name}")):
            out[name] = draw(s, lang)
    return out, ""
