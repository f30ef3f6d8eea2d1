"""Who did something, in words: a station by the event file's name, a desk as "1号指挥台", the hub as "系统".

Desks, screens, summaries and scorecards all name people's terminals through here, so no staff
surface shows an id where a name exists (docs/GLOSSARY.md).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from protocols.i18n import has, t

_NUMBER = re.compile(r"(\d+)$")
_PLATE_JUNK = re.compile(r"[\s·.\-•・]")


def plate_key(plate: str) -> str:
    """A plate as compared: no spaces, dots or dashes, upper case (湘A·12345 == 湘a12345)."""
    return _PLATE_JUNK.sub("", plate).upper()


def pick(record: dict[str, Any], lang: str) -> str:
    """A record's name in `lang`, falling back to the other language's."""
    name = record.get("name_en") if lang == "en" else record.get("name")
    return name or record.get("name") or record.get("name_en") or ""


def desk_name(desk_id: str, lang: str) -> str:
    """"desk-2" → "2号指挥台" / "Desk 2"; a desk id with no number → "指挥台" / "Desk"."""
    m = _NUMBER.search(desk_id)
    return t("names.desk_n", lang, n=int(m.group(1))) if m else t("names.desk", lang)


def who(records: Iterable[dict[str, Any]], rid: str, lang: str) -> str:
    """The name of a station (from `records`, the event's stations), a desk or the hub."""
    for r in records:
        if r.get("id") == rid:
            return pick(r, lang) or rid
    if rid == "hub":
        return t("names.system", lang)
    if rid.startswith("desk"):
        return desk_name(rid, lang)
    return rid


def with_person(place: str, person: str, lang: str) -> str:
    """A terminal and who was signed in there: "东门岗（张三）"; "东门岗（无人签到）" when nobody was."""
    return t("names.place_person", lang, place=place, person=person or t("names.nobody_signed_in", lang))


def cause(cause_ref: str, lang: str, stations: Iterable[dict[str, Any]] = (), lots: Iterable[dict[str, Any]] = (),
          zones: Iterable[dict[str, Any]] = ()) -> str:
    """Why a plan started, in words ("incident:17" → "事件 #17"): an incident, a full lot, a crowded zone, a
    silent station, the desk; "—" for none. Records are the event's, to name lots, zones and stations."""
    kind, _, ref = cause_ref.partition(":")
    if kind not in ("incident", "lot", "zone", "silent", "desk"):
        return "—"
    if kind in ("lot", "zone", "silent"):
        ref = who({"lot": lots, "zone": zones, "silent": stations}[kind], ref, lang)
    return t(f"plan.cause.{kind}", lang, ref=ref)


def target(records: Iterable[dict[str, Any]], target_ref: str, lang: str) -> str:
    """Whom an instruction is for, in words: "post.gate" → 门岗, "station.gate-1" → 东门岗, "all" → 全体岗位."""
    kind, _, name = target_ref.partition(".")
    if kind == "post":
        return t(f"post.{name}", lang)
    if kind == "station":
        return who(records, name, lang)
    return t("names.all_posts", lang)


def code_name(code: str, lang: str) -> str:
    """A refusal's or an alarm's cause in a few words ("填写有误", "身份不符"), never its code."""
    for key in (f"alarm.{code}", f"code_name.{code}"):
        if has(key):
            return t(key, lang)
    return t("names.other_cause", lang)
