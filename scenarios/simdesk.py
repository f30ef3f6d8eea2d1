"""The simulated desk operator: answers what the feed shows, after drawn delays, through the desk's own StationClient.

It acknowledges and assigns each incident, resolves it later, starts a plan the hub proposes,
confirms the plan steps no post owns, and stands a plan down once its incident is resolved (or,
for a plan with another cause, once every step is settled). Delays come from a random stream
keyed by what is answered, so a rerun with the same seed answers alike. Headless runs and the
demo switch it on; when people play the desk it only watches.
"""
from __future__ import annotations

import random
import threading
from typing import Any

from protocols.i18n import t
from protocols.messages import Committed
from scenarios.clock import Scheduler
from scenarios.generators import draw
from scenarios.model import DeskPolicy, ScriptItem
from scenarios.sim import SimStation

# Who the operator hands each kind of incident to (DOMAIN.md: which department owns which plan).
DEFAULT_ASSIGN = {
    "fire": "security", "smoke": "security", "security": "security", "crowding": "security",
    "vehicle": "security", "lost_child": "security", "power_outage": "engineering",
    "water_outage": "engineering", "water_leak": "engineering", "flooding": "engineering",
    "medical": "service", "lost_property": "service", "gathering": "security", "suspicious_person": "security",
    "heat": "service", "thunderstorm": "security", "typhoon": "engineering", "other": "office",
}
STAND_DOWN_AFTER = (30_000, 90_000)   # from the incident resolved (or the last step) to the stand-down
SERVICE_WORK = (120_000, 420_000)     # a service call taken to done: fetching drinks or a mop takes minutes


class SimDesk:
    def __init__(self, desk: SimStation, policy: DeskPolicy, sched: Scheduler, seed: int, active: bool,
                 lang: str = "zh") -> None:
        self.desk, self.policy, self.sched, self.seed, self.active = desk, policy, sched, seed, active
        self.lang = lang   # what the simulated operator types is in the drill's language, like a person's
        self.scripted: dict[tuple[str, int], ScriptItem] = {}   # (station, seq) -> the item that made it
        self.open: set[int] = set()
        self.runs: dict[int, dict[str, Any]] = {}               # plan run gseq -> cause, steps, settled
        self.proposed: dict[str, str] = {}                      # plan id -> the cause of its open proposal
        self.lock = threading.Lock()

    def expect(self, station: str, seq: int, item: ScriptItem) -> None:
        """A scripted incident was just saved as (station, seq): answer it with the item's own delays."""
        with self.lock:
            self.scripted[(station, seq)] = item

    def _rng(self, *key: Any) -> random.Random:
        return random.Random(":".join([str(self.seed), "desk", *map(str, key)]))

    def on_event(self, ev: Committed) -> None:
        """Called by the feed watcher's thread for every committed event: only schedules work."""
        handler = getattr(self, "_on_" + ev.type, None)
        if handler is not None:
            handler(ev, ev.body)

    def _later(self, delay_ms: int, type_: str, body: dict[str, Any]) -> None:
        if self.active:
            self.sched.after(delay_ms, self.desk.submit, type_, body)

    # --- incidents --------------------------------------------------------------------------------
    def _on_incident_report(self, ev: Committed, b: dict[str, Any]) -> None:
        with self.lock:
            self.open.add(ev.gseq)
            item = self.scripted.get((ev.station, ev.seq))
        rng = self._rng(ev.station, ev.seq)
        ack = draw(rng, item.ack_after if item and item.ack_after else self.policy.ack_delay)
        resolve = draw(rng, item.resolve_after if item and item.resolve_after else self.policy.resolve_delay)
        dept = (item.assign if item else "") or self.policy.assign.get(b.get("kind", ""), "") \
            or DEFAULT_ASSIGN.get(b.get("kind", ""), "office")
        self._later(ack, "incident_update", {"incident": ev.gseq, "status": "acknowledged", "assign": dept})
        self._later(ack + resolve, "incident_update",
                    {"incident": ev.gseq, "status": "resolved", "note": "演练处置完毕 / drill: handled"})

    _on_incident_open = _on_incident_report

    def _on_incident_update(self, ev: Committed, b: dict[str, Any]) -> None:
        if b.get("status") != "resolved":
            return
        with self.lock:
            self.open.discard(b.get("incident"))
            runs = [r for r, run in self.runs.items() if run["cause"] == f"incident:{b.get('incident')}"]
        for run in runs:
            self._stand_down(run)

    # --- service calls ----------------------------------------------------------------------------
    def _on_service_request(self, ev: Committed, b: dict[str, Any]) -> None:
        """The operator takes each call for its department, then marks it done when the work is."""
        rng = self._rng("service", ev.gseq)
        take = draw(rng, self.policy.ack_delay)
        self._later(take, "service_update", {"call": ev.gseq, "status": "taken", "by": t("scenario.operator.by", self.lang)})
        self._later(take + draw(rng, SERVICE_WORK), "service_update", {"call": ev.gseq, "status": "done"})

    # --- plans ------------------------------------------------------------------------------------
    def _on_plan_proposed(self, ev: Committed, b: dict[str, Any]) -> None:
        with self.lock:
            self.proposed[b["plan"]] = b.get("cause", "")
        self._later(draw(self._rng("propose", ev.gseq), self.policy.ack_delay), "plan_start",
                    {"plan": b["plan"], "note": t("scenario.operator.started", self.lang)})

    def _on_plan_started(self, ev: Committed, b: dict[str, Any]) -> None:
        steps = {str(s.get("id")): s for s in b.get("steps", ()) if isinstance(s, dict)}
        with self.lock:
            # Started at the desk's request after a proposal: the run belongs to what set the proposal off.
            cause = self.proposed.pop(b.get("plan"), "") if b.get("request") else ""
            self.runs[ev.gseq] = {"cause": cause or b.get("cause", ""), "steps": set(steps), "settled": set(),
                                  "down": False}
        for sid, step in steps.items():
            if not step.get("posts"):   # nobody at a post owns it: the desk's departments report it done
                self._later(draw(self._rng("step", b.get("plan"), sid), self.policy.step_delay), "plan_step",
                            {"run": ev.gseq, "step": sid, "status": "done"})

    def _on_plan_step(self, ev: Committed, b: dict[str, Any]) -> None:
        with self.lock:
            run = self.runs.get(b.get("run"))
            if run is None:
                return
            run["settled"].add(b.get("step"))
            finished = run["settled"] >= run["steps"] and not run["cause"].startswith("incident:")
        if finished:
            self._stand_down(b["run"])

    def _on_plan_stand_down(self, ev: Committed, b: dict[str, Any]) -> None:
        with self.lock:
            if b.get("run") in self.runs:
                self.runs[b["run"]]["down"] = True

    def _stand_down(self, run: int) -> None:
        with self.lock:
            entry = self.runs.get(run)
            if entry is None or entry["down"]:
                return
            entry["down"] = True
        self._later(draw(self._rng("down", run), STAND_DOWN_AFTER), "plan_stand_down",
                    {"run": run, "note": t("scenario.operator.handled", self.lang)})
