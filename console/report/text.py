"""The summary's figures in words, in one language: times, durations, names and findings; pure text.

Shared by the Markdown/HTML report and the desk's summary screen so both say the same thing.
Every word comes from the catalogue. Nothing here escapes: what came from a station is returned
as given, and each renderer makes it safe for its medium.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from protocols import eventtime, names
from protocols.i18n import has, t

NONE = "—"


def clock(ms: int | None, tz: dt.tzinfo) -> str:
    """An instant on the event's clock (its own time zone, as on the desk), whatever the machine's zone."""
    return eventtime.clock(ms, tz) if ms else NONE


def stamp(ms: int | None, tz: dt.tzinfo) -> str:
    return eventtime.stamp(ms, tz) if ms else NONE


def zone_name(event: dict[str, Any], ms: int) -> str:
    """The zone the report's times are in, e.g. Asia/Shanghai (+0800)."""
    name = event.get("timezone") or eventtime.DEFAULT_ZONE
    return f"{name} ({eventtime.offset(ms, eventtime.zone_or_default(name))})"


def offset(ms: int | None, lang: str) -> str:
    """A station clock's offset from the hub's: "slow 10 min 00 s", "fast 2 s", "—" when never estimated."""
    if ms is None:
        return NONE
    return t("report.clock.slow" if ms >= 0 else "report.clock.fast", lang, d=dur(abs(ms), lang, tenths=True))


def dur(ms: int | None, lang: str, tenths: bool = False) -> str:
    """A duration to the second: 45 s, 3 min 05 s, 1 h 02 min (zh 45 秒, 3 分 05 秒, 1 小时 02 分).

    `tenths` shows delivery delays under a minute as 0.3 s: most are well under a second.
    """
    if ms is None:
        return NONE
    if tenths and ms < 59_950:
        return t("report.dur.s", lang, s=f"{ms / 1000:.1f}")
    s = int(round(ms / 1000))
    if s < 60:
        return t("report.dur.s", lang, s=s)
    if s < 3600:
        return t("report.dur.m", lang, m=s // 60, s=f"{s % 60:02d}")
    return t("report.dur.h", lang, h=s // 3600, m=f"{s // 60 % 60:02d}")


def pct(x: float | None) -> str:
    return NONE if x is None else f"{x * 100:.1f} %"


def pick(pair: dict[str, str], lang: str) -> str:
    """A {"zh", "en"} pair (or a plan/area record with name and name_en) in `lang`, falling back to the other."""
    zh = pair.get("zh", pair.get("name", "")) or pair.get("en", pair.get("name_en", ""))
    en = pair.get("en", pair.get("name_en", "")) or zh
    return en if lang == "en" else zh


def label(prefix: str, value: Any, lang: str) -> str:
    key = f"{prefix}.{value}"
    return t(key, lang) if value != "" and has(key) else (str(value) if value != "" else NONE)


def dept(d: str, lang: str) -> str:
    return label("dept", d, lang)


def kind(k: str, lang: str) -> str:
    return label("incident", k, lang)


def severity(n: int | str, lang: str) -> str:
    return label("severity", n, lang)


def post(p: str, lang: str) -> str:
    return label("post", p, lang)


def status(s: str, lang: str) -> str:
    return label("status", s, lang)


def name_of(records: list[dict[str, Any]], rid: str, lang: str) -> str:
    """A station, lot or zone named as the event file names it; desks and the hub from the catalogue."""
    return names.who(records, rid, lang)


def code_name(code: str, lang: str) -> str:
    """A refusal's cause in a few words ("填写有误"), not its wire code."""
    return names.code_name(code, lang)


def cause(s: Any, cause_ref: str, lang: str) -> str:
    """Why a plan started, in words: an incident, a full lot, a crowded zone, a silent station, the desk."""
    return names.cause(cause_ref, lang, s.stations, s.lots, s.zones)


def event_name(event: dict[str, Any], lang: str) -> str:
    return pick(event, lang) or t("report.unnamed", lang)


def finding(f: dict[str, Any], lang: str, tz: dt.tzinfo) -> str:
    """A finding's sentence: `*_at` as clock times, `*_for` as durations, pairs picked, ids named."""
    params: dict[str, Any] = {}
    for k, v in f["params"].items():
        if isinstance(v, dict):
            v = pick(v, lang)
        elif k.endswith("_at"):
            v = clock(v, tz)
        elif k.endswith("_for"):
            v = dur(v, lang)
        elif k in ("dept", "kind", "post"):
            v = label({"dept": "dept", "kind": "incident", "post": "post"}[k], v, lang)
        params[k] = v
    return t(f"report.find.{f['key']}", lang, **params)


def history_what(what: str, lang: str) -> str:
    """An incident history entry's action: opened, a status, assign:<dept>, note."""
    if what.startswith("assign:"):
        return t("report.history.assign", lang, dept=dept(what.partition(":")[2], lang))
    if what in ("opened", "note"):
        return t(f"report.history.{what}", lang)
    return status(what, lang)
