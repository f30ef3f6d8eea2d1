"""The kinds of drill expectation, as a small registry: each names its parameters and judges the facts read from the log.

A kind is a function decorated with `@kind(name, **params)`; the loader checks a scenario's
[[expect]] tables against these parameter lists, the scorecard calls the function. Plan kinds
report "pending" when the log holds no plan engine's work (a hub without plans), rather than
guessing. Pure: no sockets, no files, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from scenarios.model import Expect

MET, MISSED, PENDING, NOT_REACHED = "met", "missed", "pending", "not_reached"
# Kinds measured from something that has to happen first (an incident, an instruction, a plan, a silence):
# when it never did, the expectation was not reached -- nobody missed it.
TRIGGERED = ("incident_acknowledged", "incident_resolved", "instruction_acknowledged", "plan_active",
             "plan_steps_on_time", "station_offline_seen", "station_back_online", "sendoff_complete",
             "sendoff_alarm_raised")


@dataclass
class Result:
    status: str
    measured: int | None = None        # the figure judged, in `unit`
    limit: int | None = None
    detail: str = ""                   # catalogue key under score.detail.*
    params: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    unit: str = "ms"                   # "ms" a duration, "at" a scenario time, "count" a number


@dataclass(frozen=True)
class Kind:
    name: str
    params: dict[str, tuple[str, Any]]     # name -> (loader type, default; ... = required)
    judge: Callable[[Expect, Any], Result]
    pending: bool = False


KINDS: dict[str, Kind] = {}


def kind(name: str, pending: bool = False, **params: tuple[str, Any]) -> Callable:
    def register(fn: Callable[[Expect, Any], Result]) -> Callable:
        KINDS[name] = Kind(name, params, fn, pending)
        return fn
    return register


def judge(expect: Expect, facts: Any) -> Result:
    """The expectation's result; "not reached" when what it measures from never happened, or had not yet
    finished happening when the run was stopped early (a late finding stays a miss)."""
    entry = KINDS[expect.kind]
    if entry.pending:
        return Result(PENDING, detail="pending_plans")
    r = entry.judge(expect, facts)
    if r.status == MISSED and expect.kind in TRIGGERED and r.detail == "none_found":
        return Result(NOT_REACHED, limit=r.limit, detail="not_reached", unit=r.unit)
    if r.status == MISSED and not getattr(facts, "complete", True) and r.detail in ("never", "none_found", "steps_late") \
            and not _late_but_measured(r):
        return Result(NOT_REACHED, r.measured, r.limit, "stopped_early", r.params, r.items, r.unit)
    return r


def _late_but_measured(r: Result) -> bool:
    """Some item was measured over its limit: a miss, whether or not the run went on."""
    return any(i.get("delay_ms") is not None and r.limit is not None and i["delay_ms"] > r.limit for i in r.items) \
        or any(i.get("delay_ms") is not None and i.get("due_ms") is not None and i["delay_ms"] > i["due_ms"]
               for i in r.items)


def _worst(items: list[dict[str, Any]], limit: int | None, key: str = "delay_ms") -> Result:
    """Met when every item has a figure within the limit; the figure shown is the worst one."""
    if not items:
        return Result(MISSED, limit=limit, detail="none_found")
    values = [i.get(key) for i in items]
    missing = sum(v is None for v in values)
    worst = max((v for v in values if v is not None), default=None)
    ok = not missing and (limit is None or worst <= limit)
    detail = "never" if missing else ("within" if ok else "late")
    return Result(MET if ok else MISSED, worst, limit, detail, {"missing": missing, "n": len(items)}, items)


# --- incidents ---------------------------------------------------------------------------------

def _incidents(e: Expect, facts: Any) -> list[dict[str, Any]]:
    ref, kind_ = e.params.get("ref", ""), e.params.get("incident", "")
    if ref:
        gseq = facts.refs.get(ref)
        return [i for i in facts.incidents if i["id"] == gseq]
    return [i for i in facts.incidents if not kind_ or i["kind"] == kind_]


@kind("incident_acknowledged", incident=("incident", ""), ref=("ref", ""), within=("time", ...))
def incident_acknowledged(e: Expect, facts: Any) -> Result:
    items = [{"id": i["id"], "kind": i["kind"], "station": i["station"], "at_ms": i["opened_scn"],
              "delay_ms": i["ack_delay"]} for i in _incidents(e, facts)]
    return _worst(items, e.params["within"])


@kind("incident_resolved", incident=("incident", ""), ref=("ref", ""), within=("time", ...))
def incident_resolved(e: Expect, facts: Any) -> Result:
    items = [{"id": i["id"], "kind": i["kind"], "station": i["station"], "at_ms": i["opened_scn"],
              "delay_ms": i["resolve_delay"]} for i in _incidents(e, facts)]
    return _worst(items, e.params["within"])


# --- instructions ------------------------------------------------------------------------------

@kind("instruction_acknowledged", ref=("ref", ""), target=("target", ""), plan=("plan", ""), step=("str", ""),
      within=("time", ...))
def instruction_acknowledged(e: Expect, facts: Any) -> Result:
    """Every post the instruction went to confirmed it within the limit.

    The instruction is a scripted one (ref), or those a plan sent for a step (plan, step), or
    every instruction to a target.
    """
    ref, target = e.params.get("ref", ""), e.params.get("target", "")
    plan, step = e.params.get("plan", ""), e.params.get("step", "")
    found = [i for i in facts.instructions if ref and i["id"] == facts.refs.get(ref)]
    if ref and not found and ref in facts.ref_targets:
        # A person at the desk sent it (no ref): the first instruction to that target at or after its cue.
        target, cue = facts.ref_targets[ref]
        found = [i for i in facts.instructions if i["target"] == target and i["sent_scn"] >= cue][:1]
    elif not ref:
        found = [i for i in facts.instructions if (not target or i["target"] == target)
                 and (not plan or i["plan"] == plan) and (not step or i["step"] == step)]
    items = []
    for ins in found:
        for station in ins["expected"]:
            at = ins["acks"].get(station)
            items.append({"id": ins["id"], "station": station, "at_ms": ins["sent_scn"],
                          "delay_ms": None if at is None else at - ins["sent_scn"]})
    return _worst(items, e.params["within"])


# --- lots and zones ----------------------------------------------------------------------------

def _never_over(areas: dict[str, dict[str, Any]], only: str) -> Result:
    items = [{"id": a, "peak": v["peak"], "capacity": v["capacity"], "at_ms": v["peak_scn"]}
             for a, v in sorted(areas.items()) if not only or a == only]
    if not items:
        return Result(MISSED, detail="none_found", unit="count")
    over = [i for i in items if i["peak"] > i["capacity"]]
    worst = max(items, key=lambda i: i["peak"] / max(1, i["capacity"]))
    return Result(MISSED if over else MET, worst["peak"], worst["capacity"], "over" if over else "under",
                  {"area": worst["id"]}, items, unit="count")


@kind("lot_never_over", lot=("lot", ""))
def lot_never_over(e: Expect, facts: Any) -> Result:
    return _never_over(facts.lots, e.params.get("lot", ""))


@kind("zone_never_over", zone=("zone", ""))
def zone_never_over(e: Expect, facts: Any) -> Result:
    return _never_over(facts.zones, e.params.get("zone", ""))


@kind("lot_full_reported", lot=("lot", ...), by=("time", ...))
def lot_full_reported(e: Expect, facts: Any) -> Result:
    lot = facts.lots.get(e.params["lot"], {})
    at, by = lot.get("full_scn"), e.params["by"]
    if at is None:
        return Result(MISSED, None, by, "never", {"missing": 1, "n": 1}, unit="at")
    return Result(MET if at <= by else MISSED, at, by, "by" if at <= by else "after", unit="at")


# --- stations ----------------------------------------------------------------------------------

@kind("station_offline_seen", station=("station", ...), within=("time", 0))
def station_offline_seen(e: Expect, facts: Any) -> Result:
    """The desk saw the silent post go offline during its silence (hub liveness runs on the wall clock)."""
    st = facts.stations.get(e.params["station"], {})
    items = [{"at_ms": s["at_scn"], "delay_ms": s["offline_after"]} for s in st.get("silences", [])]
    return _worst(items, e.params["within"] or None)


@kind("station_back_online", station=("station", ...), within=("time", ...))
def station_back_online(e: Expect, facts: Any) -> Result:
    """After its silence the post is heard again (a report or an "online" status) within the limit."""
    st = facts.stations.get(e.params["station"], {})
    items = [{"at_ms": s["until_scn"], "delay_ms": s["back_after"]} for s in st.get("silences", [])]
    return _worst(items, e.params["within"])


@kind("all_delivered", station=("station", ""))
def all_delivered(e: Expect, facts: Any) -> Result:
    """Every report the simulated posts saved is in the log exactly once; none refused, none waiting."""
    only = e.params.get("station", "")
    rows = [dict(station=s, **v) for s, v in sorted(facts.delivery.items()) if not only or s == only]
    saved = sum(r["saved"] for r in rows)
    logged = sum(r["logged"] for r in rows)
    bad = [r for r in rows if r["logged"] != r["saved"] or r["rejected"] or r["waiting"]]
    return Result(MISSED if bad or not rows else MET, logged, saved, "delivery" if not bad else "undelivered",
                  {"saved": saved, "logged": logged, "rejected": sum(r["rejected"] for r in rows),
                   "waiting": sum(r["waiting"] for r in rows)}, rows, unit="count")


# --- contingency plans ----------------------------------------------------------------------------
# Judged in scenario time from the log: when the run started against what set it off, and when
# each step was settled against its target (due_s). The hub's own "overdue" alarms run on the
# wall clock and so rarely fire in a compressed rehearsal; the scorecard does not rely on them.

def _runs(e: Expect, facts: Any) -> list[dict[str, Any]]:
    return [r for r in facts.plans if r["plan"] == e.params["plan"]]


@kind("plan_active", plan=("plan", ...), within=("time", ...))
def plan_active(e: Expect, facts: Any) -> Result:
    """A run of the plan began within the limit of what set it off (the report, or the proposal)."""
    if not facts.plans_enabled:
        return Result(PENDING, detail="pending_plans")
    items = [{"id": r["id"], "at_ms": r["trigger_scn"], "delay_ms": r["started_scn"] - r["trigger_scn"]}
             for r in _runs(e, facts)]
    return _worst(items, e.params["within"])


@kind("plan_steps_on_time", plan=("plan", ...), department=("department", ""))
def plan_steps_on_time(e: Expect, facts: Any) -> Result:
    """Every step (of one department, if given) settled within its own target time."""
    if not facts.plans_enabled:
        return Result(PENDING, detail="pending_plans")
    dept = e.params.get("department", "")
    # A step the stand-down called off is on time for nobody and late for nobody: left out.
    items = [{"id": r["id"], "step": st["id"], "department": st["department"], "due_ms": st["due_ms"],
              "delay_ms": st["settled_after"], "status": st["status"]}
             for r in _runs(e, facts) for st in r["steps"]
             if (not dept or st["department"] == dept) and st["status"] != "cancelled"]
    if not items:
        return Result(MISSED, detail="none_found", unit="count")
    on_time = [i for i in items if i["delay_ms"] is not None and i["delay_ms"] <= i["due_ms"]]
    late = [i for i in items if i not in on_time]
    words = {(r["id"], st["id"]): st for r in _runs(e, facts) for st in r["steps"]}

    def said(lang: str) -> str:   # steps by their words (the scorecard never shows a step's id)
        field, sep, room = ("do_en", ", ", 40) if lang == "en" else ("do", "、", 20)
        return sep.join(_short(words[(i["id"], i["step"])].get(field) or words[(i["id"], i["step"])]["do"], room)
                        for i in late[:4]) + ("…" if len(late) > 4 else "")
    return Result(MET if not late else MISSED, len(on_time), len(items), "steps" if not late else "steps_late",
                  {"n": len(items), "late": ", ".join(i["step"] for i in late[:8]),
                   "late_zh": said("zh"), "late_en": said("en")}, items, unit="count")


def _short(text: str, room: int) -> str:
    return text if len(text) <= room else text[:room - 1] + "…"


# --- the send-off (恭送): judged from the hub's send-off records, in scenario time ---------------------

def _sendoffs(e: Expect, facts: Any) -> list[dict[str, Any]]:
    guest = e.params.get("guest", "")
    return [so for so in facts.sendoffs if not guest or so["ref"] == guest]


@kind("sendoff_complete", guest=("str", ""), within=("time", ...))
def sendoff_complete(e: Expect, facts: Any) -> Result:
    """Every send-off (of one listed guest, if given): each link -- the posts on the way out, the greeting leaders,
    the party's host -- acknowledged within the limit; each item names the links its chain had."""
    items = [{"id": so["id"], "guest": so["ref"], "at_ms": so["raised_scn"], "delay_ms": so["complete_after"],
              "links": [link["link"] for link in so["links"]]} for so in _sendoffs(e, facts)]
    return _worst(items, e.params["within"])


@kind("sendoff_alarm_raised", guest=("str", ""), within=("time", 0))
def sendoff_alarm_raised(e: Expect, facts: Any) -> Result:
    """Each link of a send-off not acknowledged by its deadline raised an alarm (within the limit of the deadline)."""
    items = [{"id": so["id"], "link": link["link"], "at_ms": link["due_scn"],
              "delay_ms": None if link["alarm_scn"] is None else link["alarm_scn"] - link["due_scn"]}
             for so in _sendoffs(e, facts) for link in so["links"]
             if link["ack_scn"] is None or link["ack_scn"] > link["due_scn"]]
    return _worst(items, e.params["within"] or None)

# --- service calls (console/core/services.py) --------------------------------------------------------

TRIGGERED += ("services_done",)   # measured from a call: with none raised, nobody missed it


@kind("services_done", services=("services", []), department=("department", ""), within=("time", ...))
def services_done(e: Expect, facts: Any) -> Result:
    """Every service call (of these kinds, routed to this department, if given) done within the limit of being
    raised; a cancelled one is judged by nobody."""
    kinds, dept = e.params.get("services") or [], e.params.get("department", "")
    items = [{"id": c["id"], "service": c["service"], "owner": c["owner"], "at_ms": c["raised_scn"],
              "delay_ms": c["done_delay"]}
             for c in getattr(facts, "services", ()) if c["status"] != "cancelled"
             and (not kinds or c["service"] in kinds) and (not dept or c["owner"] == dept)]
    return _worst(items, e.params["within"])


# --- the VIP hand-off, plans at once, a post's report order (issue 16 item 8) ----------------------------

TRIGGERED += ("handoff_acked", "handoff_alarm_raised", "plans_concurrent")


def _handoffs(e: Expect, facts: Any) -> list[dict[str, Any]]:
    guest, link = e.params.get("guest", ""), e.params.get("link", "")
    return [h for h in getattr(facts, "handoffs", ()) if (not guest or h["guest"] == guest)
            and (not link or h["link"] == link)]


@kind("handoff_acked", guest=("str", ""), link=("str", ""), within=("time", ...))
def handoff_acked(e: Expect, facts: Any) -> Result:
    """Every link of a VIP hand-off (of one listed guest, one link -- parking, concierge, lobby, host -- if given)
    acknowledged within the limit of the notice."""
    items = [{"guest": h["guest"], "link": h["link"], "at_ms": h["sent_scn"], "delay_ms": h["ack_after"]}
             for h in _handoffs(e, facts)]
    return _worst(items, e.params["within"])


@kind("handoff_alarm_raised", guest=("str", ""), due=("time", 0), within=("time", 0))
def handoff_alarm_raised(e: Expect, facts: Any) -> Result:
    """Each hand-off link not acknowledged within `due` (by default the event's vip_ack_s) raised an alarm, within
    the limit of that deadline."""
    items = []
    for h in _handoffs(e, facts):
        due = e.params.get("due") or h["due"]
        if h["ack_after"] is None or h["ack_after"] > due:
            items.append({"guest": h["guest"], "link": h["link"], "at_ms": h["sent_scn"] + due,
                          "delay_ms": None if h["alarm_scn"] is None else h["alarm_scn"] - h["sent_scn"] - due})
    return _worst(items, e.params["within"] or None)


@kind("plans_concurrent", at_least=("count", 2), plan=("plan", ""), other=("plan", ""))
def plans_concurrent(e: Expect, facts: Any) -> Result:
    """At some moment at least `at_least` plan runs were active at once (started, not yet stood down); with
    `plan` and `other`, a run of each of the two overlapping."""
    if not facts.plans_enabled:
        return Result(PENDING, detail="pending_plans")
    plan, other = e.params.get("plan", ""), e.params.get("other", "")
    runs = [r for r in facts.plans if not (plan and other) or r["plan"] in (plan, other)]
    if not runs:
        return Result(MISSED, detail="none_found", unit="count")
    marks = sorted([(r["started_scn"], 1, r) for r in runs] +
                   [(r["stood_down_scn"], -1, r) for r in runs if r["stood_down_scn"] is not None],
                   key=lambda m: (m[0], m[1]))   # a stand-down and a start at the same instant do not overlap
    active: list[dict[str, Any]] = []
    best, at = 0, None
    for t, step, r in marks:
        if step < 0:
            active.remove(r)
            continue
        active.append(r)
        both = not (plan and other) or {x["plan"] for x in active} >= {plan, other}
        count = len(active) if not (plan and other) else (2 if both else 1)
        if count > best:
            best, at = count, t
    need = 2 if plan and other else e.params.get("at_least") or 2
    items = [{"id": r["id"], "plan": r["plan"], "at_ms": r["started_scn"]} for r in runs]
    return Result(MET if best >= need else MISSED, best, need, "concurrent" if best >= need else "apart",
                  {"n": best, "at": at}, items, unit="count")


@kind("report_order", station=("station", ...))
def report_order(e: Expect, facts: Any) -> Result:
    """The post's reports are in the log in the order it made them: its sequence numbers and its own clock's save
    times both rise along the log (a clock set wrong by a fixed amount keeps the order; a jump back does not)."""
    o = getattr(facts, "report_order", {}).get(e.params["station"])
    if not o or not o["reports"]:
        return Result(MISSED, None, 0, "none_found", unit="count")
    ok = not o["out_of_order"]
    return Result(MET if ok else MISSED, o["out_of_order"], 0, "in_order" if ok else "out_of_order",
                  {"n": o["reports"], "first": o["first_gseq"]}, [], unit="count")
