"""The contingency-plan engine: state and time in, decisions out; pure -- no sockets, database, screen or clock.

`evaluate(state, library, now_ms)` returns the hub events to log now: plans to start or to
propose (a trigger matched, or the desk asked), the instruction each post receives, the
escalation of each overdue step, and the all-clear once a plan is stood down. Every decision,
once logged and folded by console.core.state, shows in `state.plans`, so evaluating again returns
nothing new: the hub may call it after every commit and every second, and a replay of the log
is the plan history. `view`, `proposals` and `steps_for_post` are what the desk's checklist and
a station's step list show. A step's instruction to the gate carries its `gate` order (hold /
resume); the all-clear to a gate the run held says `resume`.

Rules, so that one situation raises a plan once:
- a plan is *busy* while it has a run not stood down or a proposal not answered; a busy plan
  is not triggered again (a second fire report joins the fire plan already running);
- an incident triggers a plan only if it is unresolved and newer than the plan's last close
  (stand-down or dismissal): what happened while the plan ran was covered by that run;
- a threshold (lot, zone, silent post) triggers again only `rearm_s` after the last close.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core.state.fold_people import terminals
from console.core.state import closed
from protocols import eventtime
from protocols.messages import MAX_TEXT, Instruction, Message, PlanEscalated, PlanProposed, PlanStarted

if TYPE_CHECKING:
    from console.core.plan_library import Library, Plan, Trigger
    from console.core.state import State

SETTLED = ("done", "skipped")
CANCELLED = "cancelled"         # open when its run was stood down: called off, nobody's fault


@dataclass(frozen=True)
class Hit:
    """A trigger that matched: the plan, why (e.g. "incident:17", "lot:p1"), and whether it starts at once."""

    plan: Plan
    cause: str
    auto: bool


@dataclass(frozen=True)
class StepView:
    id: str
    department: str
    posts: tuple[str, ...]
    do: str
    do_en: str
    due_ms: int
    status: str                 # pending | overdue | done | skipped | cancelled
    by: str = ""
    at_ms: int = 0
    reason: str = ""
    escalated_ms: int = 0
    late: bool = False          # settled after its target time
    # (target, instruction id, stations that acknowledged it) for each instruction sent
    sent: tuple[tuple[str, int, tuple[str, ...]], ...] = ()
    # (post, who confirmed for it, when, whether a desk did) for each post that has confirmed
    confirmed: tuple[tuple[str, str, int, bool], ...] = ()
    # (post, who was signed in at the station that confirmed for it, "" for nobody): issue 16 item 3
    people: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunView:
    id: int
    plan: str
    name: str
    name_en: str
    owner: str
    cause: str
    auto: bool
    note: str
    started_ms: int
    active: bool
    steps: tuple[StepView, ...]
    may_stand_down: bool
    overdue: int
    next_due_ms: int            # the earliest target time of a step still open; 0 when none
    stood_down: dict[str, Any] | None = None


# --- decisions -----------------------------------------------------------------------------------

def evaluate(state: State, library: Library, now_ms: int, heard_floor_ms: int = 0) -> list[Message]:
    """The hub events to log now (see the module docstring); [] when the log already says it all.

    `heard_floor_ms`: silence is counted from no earlier than this (the hub's start), so a hub
    restarted after an outage does not find every station "silent" before they reconnect.
    """
    plans = state.plans
    out: list[Message] = []
    busy = _busy(state)
    latest = _latest_runs(state)
    staffed = terminals(state)
    for req in plans["requests"].values():
        if req["run"] or latest.get(req["plan"], 0) > req["id"]:
            continue   # honoured, or overtaken by a run that began after it
        plan = library.get(req["plan"])
        if plan is None:
            continue   # the library lost it since; the hub refused new requests for it
        out.append(_started(plan, f"desk:{req['id']}", auto=False, request=req["id"], note=req["note"],
                            staffed=staffed))
        busy.add(plan.id)
        latest[plan.id] = 1 << 62
    for hit in triggered(state, library, now_ms, heard_floor_ms, busy):
        if hit.auto:
            out.append(_started(hit.plan, hit.cause, auto=True, staffed=staffed))
        else:
            out.append(PlanProposed(plan=hit.plan.id, name=hit.plan.name, name_en=hit.plan.name_en, cause=hit.cause))
    for run in plans["runs"].values():
        if run["stood_down"] is None:
            out += _run_due(run, now_ms)
        elif run["all_clear"] or run["all_clear_en"]:
            out += _all_clear(run)
    return out


def triggered(state: State, library: Library, now_ms: int, heard_floor_ms: int = 0,
              busy: set[str] | None = None) -> list[Hit]:
    """The plans a trigger sets off now: one hit per plan that is not busy, its first matching trigger."""
    busy = _busy(state) if busy is None else busy
    closed = state.plans["closed"]
    hits = []
    for plan in library:
        if plan.id in busy or not plan.triggers:
            continue
        last_close = closed.get(plan.id)
        for trig in plan.triggers:
            cause = _match(trig, plan, state, last_close, now_ms, heard_floor_ms)
            if cause:
                hits.append(Hit(plan, cause, trig.auto_start))
                break
    return hits


def _match(trig: Trigger, plan: Plan, state: State, last_close: list | None, now_ms: int, floor: int) -> str:
    if trig.kind == "incident":
        mark = last_close[0] if last_close else 0
        found = [i for i, sev in state.unresolved.get(trig.subject, {}).items() if sev >= trig.min_severity and i > mark]
        return f"incident:{min(found)}" if found else ""
    if last_close and now_ms - last_close[1] < plan.rearm_s * 1000:
        return ""
    if trig.kind in ("lot", "zone"):
        areas, figure = (state.lots, "occupied") if trig.kind == "lot" else (state.zones, "count")
        for area_id, area in areas.items():
            if trig.subject in ("*", area_id) and area["capacity"] > 0 \
                    and area[figure] * 100 >= area["capacity"] * trig.at_percent:
                return f"{trig.kind}:{area_id}"
        return ""
    if trig.kind == "post_silent":
        for sid, st in state.stations.items():
            heard = st["last_heard_ms"]   # on the link's clock: read on the log's, so a drill's silence scales
            if heard and not closed(st) and trig.subject in ("*", st["post"]) \
                    and now_ms - max(eventtime.drill_ms(state.clock, heard), floor) >= trig.after_s * 1000:
                return f"silent:{sid}"
    return ""


def _busy(state: State) -> set[str]:
    plans = state.plans
    busy = {r["plan"] for r in plans["runs"].values() if r["stood_down"] is None}
    busy.update(p["plan"] for p in plans["proposals"].values() if p["status"] == "open")
    return busy


def _latest_runs(state: State) -> dict[str, int]:
    latest: dict[str, int] = {}
    for run_id, run in state.plans["runs"].items():
        if run_id > latest.get(run["plan"], 0):
            latest[run["plan"]] = run_id
    return latest


def _started(plan: Plan, cause: str, auto: bool, request: int = 0, note: str = "",
             staffed: frozenset[str] = frozenset()) -> PlanStarted:
    return PlanStarted(plan=plan.id, name=plan.name, name_en=plan.name_en, owner=plan.owner, cause=cause,
                       auto=auto, request=request, note=note, steps=[routed(s, staffed) for s in plan.steps],
                       all_clear=plan.all_clear, all_clear_en=plan.all_clear_en)


def routed(step: Any, staffed: frozenset[str]) -> dict[str, Any]:
    """A step as the run carries it. One that names no post but belongs to a department with a terminal
    (issue 16 item 3) goes to that terminal, its `do` as the order, instead of waiting on the desk."""
    wire = step.wire()
    if not wire["posts"] and step.department in staffed:
        wire.update(posts=[step.department], say=step.do, say_en=step.do_en)
    return wire


def _say(name: str, text: str, en: bool = False) -> str:
    if not text:
        return ""
    line = f"[{name}] {text}" if en else f"【{name}】{text}"
    return line[:MAX_TEXT]


def _run_due(run: dict[str, Any], now_ms: int) -> list[Message]:
    """Instructions not yet sent for the open steps, and escalations of the steps past their time."""
    out: list[Message] = []
    for step in run["steps"].values():
        if step["status"] in SETTLED:
            continue
        for post in step["posts"]:
            target = "post." + post
            if target not in step["sent"]:
                out.append(Instruction(
                    target=target, text=_say(run["name"], step["say"]) or _say(run["name_en"], step["say_en"], True),
                    text_en=_say(run["name_en"], step["say_en"], True), ack_required=True,
                    plan=run["plan"], run=run["id"], step=step["id"],
                    gate=step.get("gate", "") if post == "gate" else ""))
        due = run["started_ms"] + step["due_s"] * 1000
        if now_ms > due and not step["escalated_ms"]:
            out.append(PlanEscalated(run=run["id"], step=step["id"], due_ms=due))
    return out


def _all_clear(run: dict[str, Any]) -> list[Message]:
    """The stand-down notice, once, to every target that received an instruction of the run; to a
    gate the run held, it carries `gate: resume`."""
    targets = sorted({t for step in run["steps"].values() for t in step["sent"]})
    zh = _say(run["name"], run["all_clear"]) or _say(run["name_en"], run["all_clear_en"], True)
    en = _say(run["name_en"], run["all_clear_en"], True)
    held = any(s.get("gate") == "hold" and "post.gate" in s["sent"] for s in run["steps"].values())
    return [Instruction(target=t, text=zh, text_en=en, ack_required=True, plan=run["plan"], run=run["id"], step="",
                        gate="resume" if held and t == "post.gate" else "")
            for t in targets if t not in run["all_clear_sent"]]


# --- questions the desk and the stations ask -----------------------------------------------------

def step_status(run: dict[str, Any], step: dict[str, Any], now_ms: int) -> str:
    """pending | overdue | done | skipped | cancelled."""
    if step["status"] != "pending":
        return step["status"]
    return "overdue" if now_ms > run["started_ms"] + step["due_s"] * 1000 else "pending"


def may_stand_down(run: dict[str, Any]) -> bool:
    """Every step done or skipped. (The desk may stand a plan down earlier, with a note.)"""
    return run["stood_down"] is None and all(s["status"] in SETTLED for s in run["steps"].values())


def active_run(state: State, plan_id: str) -> int:
    """The id of the plan's run not yet stood down (the newest if several), or 0."""
    live = [r["id"] for r in state.plans["runs"].values() if r["plan"] == plan_id and r["stood_down"] is None]
    return max(live) if live else 0


def run_view(state: State, run: dict[str, Any], now_ms: int) -> RunView:
    steps = []
    started = run["started_ms"]
    for step in run["steps"].values():
        due = started + step["due_s"] * 1000
        sent = tuple((target, gseq, tuple(sorted(state.instructions.get(gseq, {}).get("acks", {}))))
                     for target, gseq in step["sent"].items())
        confirmed = tuple((post, c["by"], c["ms"], c["desk"]) for post, c in step.get("confirmed", {}).items())
        steps.append(StepView(
            step["id"], step["department"], tuple(step["posts"]), step["do"], step["do_en"], due,
            step_status(run, step, now_ms), step["by"], step["at_ms"], step["reason"], step["escalated_ms"],
            step["status"] in SETTLED and step["at_ms"] > due, sent, confirmed,
            tuple((post, c.get("person", "")) for post, c in step.get("confirmed", {}).items())))
    open_due = [s.due_ms for s in steps if s.status in ("pending", "overdue")]
    return RunView(run["id"], run["plan"], run["name"], run["name_en"], run["owner"], run["cause"], run["auto"],
                   run["note"], started, run["stood_down"] is None, tuple(steps), may_stand_down(run),
                   sum(s.status == "overdue" for s in steps), min(open_due) if open_due else 0,
                   run["stood_down"])


def view(state: State, now_ms: int, closed: int = 5) -> list[RunView]:
    """The runs for the desk's checklist: every active one (oldest first), then the `closed` most recent stood down."""
    runs = state.plans["runs"]
    active = [run_view(state, r, now_ms) for _, r in sorted(runs.items()) if r["stood_down"] is None]
    done = [r for _, r in sorted(runs.items(), reverse=True) if r["stood_down"] is not None][:closed]
    return active + [run_view(state, r, now_ms) for r in done]


def proposals(state: State) -> list[dict[str, Any]]:
    """Proposals the desk has not answered, oldest first: start the plan (plan_start) or dismiss (plan_stand_down)."""
    return [p for _, p in sorted(state.plans["proposals"].items()) if p["status"] == "open"]


def steps_for_post(state: State, post: str, now_ms: int) -> list[tuple[RunView, StepView]]:
    """Open steps of active runs given to `post`, most urgent first: what a station may confirm."""
    out = []
    for run in view(state, now_ms, closed=0):
        for step in run.steps:
            if post in step.posts and step.status in ("pending", "overdue"):
                out.append((run, step))
    out.sort(key=lambda rs: (rs[1].due_ms, rs[0].id))
    return out


def describe_cause(cause: str) -> tuple[str, str]:
    """("incident" | "lot" | "zone" | "silent" | "desk", ref): for the catalogue's plan.cause.<kind>."""
    kind, _, ref = cause.partition(":")
    return kind, ref
