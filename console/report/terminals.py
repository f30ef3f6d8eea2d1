"""The summary's department and leader terminals (issue 16 item 3): what each confirmed, how fast, and who; pure.

Fed each logged plan_step, instruction_ack and service_update after the fold has applied it (so the picture
says whether this event was the one that counted), it keeps, per department or role post with a terminal:
plan steps confirmed from there (time from the plan's start) and those the desk confirmed for it, service
calls taken and finished there (time from the call), notices and orders acknowledged there (time from
sending), and the people signed in who did it. `rows` words it for console.report.doc; `findings` gives
each department the work its own terminal did (issue 16 item 7: no department that confirmed anything there
reads "本次无相关记录"), and what it left to the desk or did with nobody signed in. No files.
"""
from __future__ import annotations

from statistics import median
from typing import Any

from console.report import text as rt
from console.report.findings import DESK_DEPARTMENT, POST_DEPARTMENT
from protocols import names
from protocols.i18n import t
from protocols.messages import DEPARTMENT_POSTS, ROLE_POSTS

POSTS = DEPARTMENT_POSTS + ROLE_POSTS
COLUMNS = ("term_terminal", "term_steps", "term_steps_median", "term_steps_late", "term_by_desk", "term_taken",
           "term_take_median", "term_done", "term_done_median", "term_acks", "term_ack_median", "term_people")


class Tally:
    """Per post with a terminal: lists of times (ms) and the people named, as the log streams by."""

    def __init__(self, event_summary: dict[str, Any]) -> None:
        mine = [s for s in event_summary.get("stations", ()) if s.get("post") in POSTS]
        self.post_of = {str(s.get("id")): str(s.get("post")) for s in mine}
        self.stations = mine
        self.rows: dict[str, dict[str, Any]] = {
            post: {"steps": [], "late": 0, "by_desk": 0, "taken": [], "done": [], "acks": [], "people": {},
                   "nobody": 0, "raised": 0} for post in POSTS if post in self.post_of.values()}

    def feed(self, state: Any, ev: Any, b: dict[str, Any], ms: int) -> None:
        if not self.rows:
            return
        post = self.post_of.get(ev.station)
        if ev.type == "plan_step":
            self._step(state, ev, b, ms, post)
        elif post is None:
            return
        elif ev.type == "instruction_ack":
            inst = state.instructions.get(b.get("instruction"))
            if inst is not None and inst["acks"].get(ev.station) == ms:
                self._count(post, "acks", ms - inst["sent_ms"], inst.get("ack_by", {}).get(ev.station, ""))
                self._call(state, post, ev, inst.get("guest", ""), ms, "taken")
        elif ev.type == "service_request":
            self.rows[post]["raised"] += 1      # a call for the guests they look after (the sales staff's F2)
        elif ev.type == "service_update":
            self._call(state, post, ev, b.get("call"), ms, "taken")
            self._call(state, post, ev, b.get("call"), ms, "done")

    def _step(self, state: Any, ev: Any, b: dict[str, Any], ms: int, post: str | None) -> None:
        run = state.plans["runs"].get(b.get("run"))
        step = run["steps"].get(b.get("step")) if run is not None else None
        if step is None:
            return
        late = ms > run["started_ms"] + step["due_s"] * 1000
        for p, c in step.get("confirmed", {}).items():
            if p not in self.rows or c["by"] != ev.station or c["ms"] != ms:
                continue
            if c["desk"]:
                self.rows[p]["by_desk"] += 1      # the desk confirmed for the terminal: counted apart
            elif p == post:
                self._count(p, "steps", ms - run["started_ms"], c.get("person", ""))
                self.rows[p]["late"] += late

    def _call(self, state: Any, post: str, ev: Any, ref: Any, ms: int, what: str) -> None:
        r = state.requests.get(int(ref)) if str(ref).isdigit() else None
        if r is None:
            return
        station, at, who = (r["taken_station"], r["taken_ms"], r["taken_by"]) if what == "taken" else \
            (r["closed_station"], r["closed_ms"], r["closed_by"])
        if station == ev.station and at == ms and (what == "taken" or r["status"] == "done"):
            self._count(post, what, ms - r["ms"], who)

    def _count(self, post: str, key: str, took_ms: int, person: str) -> None:
        row = self.rows[post]
        row[key].append(took_ms)
        if person:
            row["people"][person] = row["people"].get(person, 0) + 1
        else:
            row["nobody"] += 1

    def finish(self) -> list[dict[str, Any]]:
        """One row per post with a terminal, in the catalogue's order: counts, median and worst times, people."""
        def med(xs: list[int]) -> int | None:
            return int(median(xs)) if xs else None
        def place(post: str) -> dict[str, str]:
            here = [s for s in self.stations if s.get("post") == post]
            return {lang: t("guestrule.sep", lang).join(names.pick(s, lang) or str(s.get("id")) for s in here)
                    for lang in ("zh", "en")}
        return [{"post": post, "place": place(post),
                 "steps": len(x["steps"]), "steps_median_ms": med(x["steps"]),
                 "steps_worst_ms": max(x["steps"], default=None), "steps_late": x["late"], "by_desk": x["by_desk"],
                 "taken": len(x["taken"]), "take_median_ms": med(x["taken"]), "done": len(x["done"]),
                 "done_median_ms": med(x["done"]), "acks": len(x["acks"]), "ack_median_ms": med(x["acks"]),
                 "people": dict(sorted(x["people"].items())), "nobody": x["nobody"], "raised": x["raised"]}
                for post, x in self.rows.items()]


def _who(row: dict[str, Any], lang: str) -> str:
    """确认人: each person with how many times; "无人签到 ×n" for confirmations nobody was signed in for."""
    parts = [f"{p} ×{n}" for p, n in row["people"].items()]
    if row["nobody"]:
        parts.append(f"{t('names.nobody_signed_in', lang)} ×{row['nobody']}")
    return t("guestrule.sep", lang).join(parts) or rt.NONE


def rows(figures: list[dict[str, Any]], lang: str) -> list[list[Any]]:
    out = []
    for r in figures:
        out.append([f"{rt.post(r['post'], lang)} · {r['place'][lang]}", r["steps"], rt.dur(r["steps_median_ms"], lang),
                    r["steps_late"], r["by_desk"], r["taken"], rt.dur(r["take_median_ms"], lang), r["done"],
                    rt.dur(r["done_median_ms"], lang), r["acks"], rt.dur(r["ack_median_ms"], lang), _who(r, lang)])
    return out


# --- findings ------------------------------------------------------------------------------------

# (what was done there, its count, its median) in the order a department's day goes: orders, calls, notices.
WORK = (("steps", "steps", "steps_median_ms"), ("taken", "taken", "take_median_ms"),
        ("done", "done", "done_median_ms"), ("acks", "acks", "ack_median_ms"), ("raised", "raised", ""))


def _work(r: dict[str, Any], lang: str) -> str:
    """What a terminal did, in words: 预案步骤 2 项（中位 1分15秒）、接单 1 项（…）… — only the parts it did."""
    parts = [t(f"report.find.terminal.part.{part}", lang, n=r[n], median=rt.dur(r[m], lang) if m else "")
             for part, n, m in WORK if r.get(n)]
    return t("guestrule.sep", lang).join(parts)


def _add(out: dict[str, dict[str, list]], dept: str, side: str, key: str, **params: Any) -> None:
    out.setdefault(dept, {"highlights": [], "shortcomings": [], "notes": []})[side].append(
        {"key": key, "ms": 0, "params": params})


def findings(figures: list[dict[str, Any]], out: dict[str, dict[str, list]]) -> None:
    """Per terminal: what it confirmed there (a highlight of the department that staffs it; the greeting leaders'
    and the sales staff's go to the General Office), the plan steps the desk had to confirm for it, and the
    confirmations made with nobody signed in (who did it is then not on record)."""
    for r in figures:
        dept = POST_DEPARTMENT.get(r["post"], DESK_DEPARTMENT)
        place = {"zh": r["place"]["zh"], "en": r["place"]["en"]}
        if any(r.get(n) for _, n, _ in WORK):
            work = {lang: _work(r, lang) for lang in ("zh", "en")}
            if r["people"] or r["nobody"]:      # it confirmed something: who did
                _add(out, dept, "highlights", "terminal.work", place=place, work=work,
                     people={lang: _who(r, lang) for lang in ("zh", "en")})
            else:
                _add(out, dept, "highlights", "terminal.work_plain", place=place, work=work)
        if r["by_desk"]:
            _add(out, dept, "shortcomings", "terminal.by_desk", place=place, n=r["by_desk"])
        if r["nobody"]:
            _add(out, dept, "shortcomings", "terminal.nobody", place=place, n=r["nobody"])
