"""A desk picture with contingency plans in every state, made the way the hub makes it: for snapshots and view tests.

The busy hour of `tests.desk_support`, with the plan engine run after every event (as the
hub runs it after every commit) on a small library -- fire, medical, parking full -- and what the
posts and the desk did about it: steps done, one skipped with a reason, two left overdue, and
a full lot whose plan is proposed. No sockets, no clock but the fixture's.
"""
from __future__ import annotations

from typing import Any

from console.core import plan_library, plans
from console.core import state as S
from console.event import plan_files
from console.hub.store import Row
from protocols import messages as M
from tests.desk_support import MIN, SUMMARY, T0, fixture_state

LIBRARY = plan_library.Library(tuple(p for p in plan_files.shipped() if p.id in ("fire", "medical", "parking_full")))
SEC = 1000


class _Log:
    """Folds rows with consecutive gseq on top of a state and lets the engine decide after each, like the hub."""

    def __init__(self, state: S.State) -> None:
        self.state = state

    def add(self, station: str, type_: str, body: dict[str, Any], at: int) -> int:
        gseq = self.state.gseq + 1
        S.apply(self.state, Row(gseq, station, "ep-" + station, gseq, type_, at - 50, at, body))
        return gseq

    def decide(self, at: int) -> None:
        for _ in range(10):
            decided = plans.evaluate(self.state, LIBRARY, at)
            if not decided:
                return
            for msg in decided:
                self.add("hub", msg.TYPE, msg.as_body(), at)

    def run(self, plan: str) -> int:
        return plans.active_run(self.state, plan)


def plan_fixture_state() -> S.State:
    """The busy hour, then: a medical plan 12 minutes old with one step done late and one overdue, the
    fire plan 90 s old (gate held and confirmed, parking skipped with a reason, power confirmed by the
    desk, the alarm step overdue) and a proposal for the full lot P1."""
    base = fixture_state()
    state = S.new_state({**SUMMARY, "plans": LIBRARY.summary()})
    log = _Log(state)
    # What the posts and the desk did, by time, among the busy hour's events (recent holds them all).
    done = [("desk-1", "medical", "first_aid", T0 - 11 * MIN, "done", ""),
            ("gate-1", "medical", "ambulance_lane", T0 - 9 * MIN - 30 * SEC, "done", ""),
            ("desk-1", "medical", "call_120", T0 - 8 * MIN - 30 * SEC, "done", ""),
            ("gate-1", "fire", "gate_hold", T0 - 70 * SEC, "done", ""),
            ("desk-1", "fire", "parking_halt", T0 - 40 * SEC, "skipped", "车场已无车辆进出 [b]ok[/b]"),
            ("desk-1", "fire", "isolate_power", T0 - 20 * SEC, "done", "")]
    timeline = [(rec["recv_ms"], 0, rec) for rec in base.recent] + [(d[3], 1, d) for d in done]
    timeline.append((T0 - 60 * SEC, 0, {"gseq": 0, "station": "parking-1", "type": "lot_occupancy",
                                        "body": {"lot": "p1", "occupied": -1, "delta": 0, "full": True}}))
    moved: dict[int, int] = {}   # the engine's events come in between: references follow their event
    for at, kind, rec in sorted(timeline, key=lambda e: (e[0], e[1])):
        if kind:
            station, plan, step, _, status, reason = rec
            body = M.PlanStep(run=log.run(plan), step=step, status=status, reason=reason).as_body()
            log.add(station, "plan_step", body, at)
        else:
            body = {k: moved.get(v, v) if k in ("incident", "instruction") else v for k, v in rec["body"].items()}
            moved[rec["gseq"]] = log.add(rec["station"], rec["type"], body, at)
        log.decide(at)
    log.decide(T0 - 5 * SEC)
    for sid, st in base.stations.items():   # presence as the hub last published it
        state.stations[sid].update(last_heard_ms=st["last_heard_ms"], outbox=st["outbox"])
    return state
