"""Each department's highlights (亮点) and shortcomings (不足), judged from the summary's facts; pure.

A finding is a catalogue key under `report.find.` with its parameters, never a sentence, so that
the same facts read in either language. Parameter names tell how to word them (console.report.text):
`*_at` is an instant, `*_for` a duration, a {"zh", "en"} pair a name, `dept`/`kind`/`post` an id.
Only facts from the log are judged; the thresholds are named below with why.
"""
from __future__ import annotations

from statistics import median
from typing import Any

from console.report import services_part

# Silences shorter than this are network blips the station's outbox covered; they stay in data quality.
OFFLINE_FINDING_MS = 60_000
# Who staffs each post: gate and parking are Order & Security's (秩序部: posts, car flow); the
# reception posts are Customer Service's (客服部: staff deployment and post work plans).
POST_DEPARTMENT = {"gate": "security", "parking": "security", "concierge": "service", "lobby": "service",
                   "model_unit": "service"}
# A department's own terminal is its own; the greeting leaders and sales staff answer to the General Office.
POST_DEPARTMENT.update({"engineering": "engineering", "environment": "environment", "logistics": "logistics",
                        "service": "service", "security": "security", "greeter": "office", "sales": "office"})
DESK_DEPARTMENT = "office"          # the command desk is the General Office's (综合办公室)
CAR_DEPARTMENT = "security"
ZONE_DEPARTMENT = "service"


def _name(item: dict[str, Any]) -> dict[str, str]:
    zh = item.get("name") or item.get("name_en") or item.get("id", "")
    return {"zh": zh, "en": item.get("name_en") or zh}


def _add(out: dict[str, dict[str, list]], dept: str, side: str, key: str, ms: int, **params: Any) -> None:
    box = out.setdefault(dept, {"highlights": [], "shortcomings": [], "notes": []})
    box[side].append({"key": key, "ms": ms, "params": params})


def _plans(summary: Any, out: dict) -> None:
    tally: dict[str, dict[str, int]] = {}
    for run in summary.plans:
        plan = _name(run)
        for st in run["steps"]:
            dept = st["department"] or run["owner"] or DESK_DEPARTMENT
            t = tally.setdefault(dept, {})
            t[st["result"]] = t.get(st["result"], 0) + 1
            # The step in words, both languages (a finding is rendered later, in either): staff never see its id.
            words = {"zh": st["do"] or st["id"], "en": st["do_en"] or st["do"] or st["id"]}
            common = dict(plan=plan, run=run["id"], step=words, due_for=st["due_after_ms"])
            due_ms = run["started_ms"] + st["due_after_ms"]
            if st["result"] == "early":
                _add(out, dept, "highlights", "step_early", st["at_ms"], took_for=st["took_ms"], **common)
            elif st["result"] == "late":
                _add(out, dept, "shortcomings", "step_late", st["at_ms"], took_for=st["took_ms"],
                     late_for=st["took_ms"] - st["due_after_ms"], **common)
            elif st["result"] == "overdue":
                _add(out, dept, "shortcomings", "step_overdue", due_ms, due_at=due_ms, **common)
    for dept, t in tally.items():
        settled = t.get("early", 0) + t.get("on_time", 0)
        if settled and not t.get("late") and not t.get("overdue"):
            _add(out, dept, "highlights", "steps_all_on_time", 0, n=settled)


def _incidents(summary: Any, out: dict) -> None:
    target = summary.extra["ack_target_ms"]
    fast = [i["ack_after_ms"] for i in summary.incidents if i["ack_after_ms"] is not None
            and i["ack_after_ms"] <= target]
    if fast:
        _add(out, DESK_DEPARTMENT, "highlights", "ack_fast", 0, n=len(fast), of=len(summary.incidents),
             target_for=target, fastest_for=min(fast))
    resolved: dict[str, list[int]] = {}
    for i in summary.incidents:
        common = dict(id=i["id"], kind=i["kind"])
        if i["ack_after_ms"] is None:
            _add(out, DESK_DEPARTMENT, "shortcomings", "never_acknowledged", i["opened_ms"], **common)
        elif i["ack_after_ms"] > target:
            _add(out, DESK_DEPARTMENT, "shortcomings", "ack_slow", i["opened_ms"], took_for=i["ack_after_ms"],
                 target_for=target, **common)
        owner = i["department"] or DESK_DEPARTMENT
        if i["status"] == "resolved" and i["resolved_after_ms"] is not None:
            resolved.setdefault(owner, []).append(i["resolved_after_ms"])
        else:
            _add(out, owner, "shortcomings", "unresolved", i["opened_ms"], opened_at=i["opened_ms"],
                 open_for=summary.last_ms - i["opened_ms"], **common)
    for dept, times in resolved.items():
        _add(out, dept, "highlights", "resolved", 0, n=len(times), median_for=int(median(times)),
             fastest_for=min(times))


def _areas(summary: Any, out: dict) -> None:
    lots = {"zh": "、".join(_name(a)["zh"] for a in summary.lots),
            "en": ", ".join(_name(a)["en"] for a in summary.lots)}
    for spell in summary.extra.get("all_lots_full", ()):
        common = dict(lots=lots, from_at=spell["from_ms"], to_at=spell["to_ms"],
                      full_for=spell["to_ms"] - spell["from_ms"])
        if spell["cars_in"]:
            _add(out, CAR_DEPARTMENT, "shortcomings", "cars_in_while_full", spell["from_ms"], n=spell["cars_in"],
                 **common)
        else:
            _add(out, CAR_DEPARTMENT, "highlights", "gate_held", spell["from_ms"], **common)
    for zone in summary.zones:
        for spell in zone["spells"]:
            _add(out, ZONE_DEPARTMENT, "shortcomings", "zone_over", spell["from_ms"], zone=_name(zone),
                 from_at=spell["from_ms"], to_at=spell["to_ms"], over_for=spell["to_ms"] - spell["from_ms"],
                 peak=spell["peak"], capacity=zone["capacity"])


def _stations(summary: Any, out: dict) -> None:
    steady: dict[str, list[str]] = {}
    for st in summary.stations:
        dept = POST_DEPARTMENT.get(st["post"], DESK_DEPARTMENT)
        long = [s for s in st["offline"] if s["to_ms"] - s["from_ms"] >= OFFLINE_FINDING_MS]
        for s in long:
            _add(out, dept, "shortcomings", "station_offline", s["from_ms"], station=_name(st), post=st["post"],
                 from_at=s["from_ms"], to_at=s["to_ms"], off_for=s["to_ms"] - s["from_ms"])
        if st["first_ms"] and not st["offline"]:
            steady.setdefault(dept, []).append(_name(st))
    for dept, names in steady.items():
        _add(out, dept, "highlights", "stations_steady", 0,
             stations={"zh": "、".join(n["zh"] for n in names), "en": ", ".join(n["en"] for n in names)})


def derive(summary: Any, departments: list[str]) -> dict[str, dict[str, list]]:
    """dept -> {"highlights", "shortcomings", "notes"}, every department of the event listed (in its order)."""
    out: dict[str, dict[str, list]] = {d: {"highlights": [], "shortcomings": [], "notes": []} for d in departments}
    _plans(summary, out)
    _incidents(summary, out)
    _areas(summary, out)
    _stations(summary, out)
    for dept, side, key, params in services_part.findings(getattr(summary, "services", {}), POST_DEPARTMENT):
        _add(out, dept, side, key, 0, **params)
    for note in summary.notes:
        if note["department"]:
            out.setdefault(note["department"], {"highlights": [], "shortcomings": [], "notes": []})["notes"].append(note)
    for box in out.values():
        for side in ("highlights", "shortcomings"):
            box[side].sort(key=lambda f: f["ms"])
    return out
