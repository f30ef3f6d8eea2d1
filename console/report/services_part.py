"""The summary's service calls (服务需求) in words: the table per department and each department's findings; pure.

The figures come from console.core.services.Tally through `Summary.services` (owner -> counts and
times in ms). An owner is a department, or a post the event routes a kind of call to; a post's
findings go to the department that staffs it, so a department that did this work never reads
"nothing found". console.report.doc and console.report.findings call in here; it imports neither.
"""
from __future__ import annotations

from typing import Any

from console.report import text as rt
from protocols.i18n import t
from protocols.messages import POSTS

COLUMNS = ("svc_owner", "svc_requests", "svc_done", "svc_cancelled", "svc_open_end", "svc_late",
           "svc_take_median", "svc_take_worst", "svc_done_median", "svc_done_worst")


def owner_name(owner: str, lang: str) -> str:
    return rt.post(owner, lang) if owner in POSTS else rt.dept(owner, lang)


def how(late_ms: int | None, lang: str) -> str:
    return t("report.svc.how", lang, late=rt.dur(late_ms, lang) if late_ms else rt.NONE)


def rows(services: dict[str, dict[str, Any]], lang: str) -> list[list[Any]]:
    return [[owner_name(owner, lang), x["requests"], x["done"], x["cancelled"], x["open_end"], x["late"],
             rt.dur(x["take_median_ms"], lang), rt.dur(x["take_worst_ms"], lang),
             rt.dur(x["done_median_ms"], lang), rt.dur(x["done_worst_ms"], lang)]
            for owner, x in services.items()]


def findings(services: dict[str, dict[str, Any]], post_department: dict[str, str]) -> list[tuple[str, str, str, dict]]:
    """(department, side, finding key, params) per owner: the calls it finished (a highlight), those late or
    left open at the end (shortcomings)."""
    out = []
    for owner, x in services.items():
        dept = post_department.get(owner, owner)
        who = {"zh": owner_name(owner, "zh"), "en": owner_name(owner, "en")}
        if x["done"]:
            out.append((dept, "highlights", "services_done", {
                "who": who, "n": x["done"], "of": x["requests"], "take_for": x["take_median_ms"],
                "done_for": x["done_median_ms"]}))
        if x["late"]:
            worst = x["done_worst_ms"] if x["done_worst_ms"] is not None else x["take_worst_ms"]
            out.append((dept, "shortcomings", "services_late", {"who": who, "n": x["late"], "of": x["requests"],
                                                                 "worst_for": worst}))
        if x["open_end"]:
            out.append((dept, "shortcomings", "services_open", {"who": who, "n": x["open_end"]}))
    return out
