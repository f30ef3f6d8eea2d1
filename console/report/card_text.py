"""A drill scorecard's words: totals, start time, figures and labels, and durations as text; pure.

Shared by the scorecard (scenarios.render re-exports these) and the summary's drill section
(console.report.drill), so the report and the scorecard file say the same. Lives on the console
side so that console never imports scenarios (only console.cli composes the two).
"""
from __future__ import annotations

from typing import Any

from protocols import eventtime, names
from protocols.i18n import t


def clock(ms: int) -> str:
    """Scenario ms as H:MM:SS (negative shown with a minus sign)."""
    sign = "-" if ms < 0 else ""
    s = abs(int(ms)) // 1000
    return f"{sign}{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


_UNIT_WORDS = {"en": ("s", "min", "h"), "zh": ("秒", "分", "小时")}


def seconds(ms: int | float | None, lang: str = "en") -> str:
    """A duration in ms as "12 s", "3 min 05 s" or "1 h 02 min" (zh: "12 秒", "3 分 05 秒"); "-" for None."""
    if ms is None:
        return "-"
    sec, mn, hr = _UNIT_WORDS.get(lang, _UNIT_WORDS["en"])
    s = int(round(ms / 1000))
    if s < 60:
        return f"{s} {sec}"
    if s < 3600:
        return f"{s // 60} {mn} {s % 60:02d} {sec}"
    return f"{s // 3600} {hr} {s // 60 % 60:02d} {mn}"


STATUSES = ("met", "missed", "not_reached", "pending")
# The summary's step results (console.report.summary) in the scorecard's columns (a card before version 2: none).
BUCKET = {"early": "on_time", "on_time": "on_time", "late": "late", "overdue": "open", "pending": "open",
          "skipped": "skipped", "cancelled": "cancelled"}


def totals(summary: dict[str, int], lang: str) -> str:
    """"3 met · 1 missed · 1 not reached · 0 pending" for a scorecard's summary counts."""
    return t("score.totals", lang, **{c: summary.get(c, 0) for c in STATUSES})


def started_at(card: dict[str, Any], seconds: bool = False) -> str:
    """When the run started, on the event's clock (a card written before zones were kept: the default zone)."""
    tz = eventtime.zone_or_default(card.get("event", {}).get("timezone"))
    text = eventtime.stamp(card["run"]["started_ms"], tz)
    return text if seconds else text[:16]


def figure(value: Any, unit: str, lang: str = "en") -> str:
    if value is None:
        return t("score.status.none")
    if unit == "ms":
        return seconds(value, lang)
    if unit == "at":
        return clock(value)
    return str(value)


def label(r: dict[str, Any], lang: str) -> str:
    own = (r.get("label_en") or r.get("label")) if lang == "en" else (r.get("label") or r.get("label_en"))
    if own:
        return own
    params = {k: (seconds(v, lang) if k == "within" else clock(v) if k == "by" else v) for k, v in r["params"].items()}
    for k, (zh, en) in r.get("names", {}).items():   # a plan by its name, never its id
        params[k] = en if lang == "en" else zh
    return t(f"score.kind.{r['kind']}", lang, **params)


def fix_text(f: dict[str, Any], lang: str) -> str:
    params = dict(f["params"])
    if lang == "zh" and "label_zh" in params:
        params["label"] = params["label_zh"]
    if "dept" in params:
        params["dept"] = t(f"dept.{params['dept']}", lang)
    return t(f["key"], lang, **params)


# The parameters of an expectation's detail that name a place or a terminal, and where their names are.
_NAMED = {"area": ("lots", "zones"), "lot": ("lots",), "zone": ("zones",), "station": ("stations",)}


def detail(card: dict[str, Any], r: dict[str, Any], lang: str) -> str:
    """An expectation's detail sentence, with lots, zones and terminals by their names, never their ids."""
    if not r["detail"]:
        return ""
    ev = card.get("event", {})
    params = dict(r["detail_params"])
    for key in [k for k in params if f"{k}_{lang}" in params]:
        params[key] = params[f"{key}_{lang}"]   # words the expectation gave in each language (steps by what they say)
    for key, parts in _NAMED.items():
        if isinstance(params.get(key), str):
            params[key] = names.who([x for part in parts for x in ev.get(part, ())], params[key], lang)
    return t(f"score.detail.{r['detail']}", lang, **params)
