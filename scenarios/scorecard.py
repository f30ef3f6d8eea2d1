"""The drill scorecard: read this run's part of the rehearsal log, fold it, judge each expectation, say what to fix.

Reads the log with console.store (read-only) and folds it with console.state, the same fold
the hub and the desk use. Every duration comes from the log's recv_ms, scaled back by the
speed to scenario seconds. The result is one plain dict (the JSON file); render.py draws it.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console import state as fold
from console.event import EventFolder
from console.store import Store
from protocols import eventtime
from protocols.file_errors import private_dir, private_file
from scenarios import expectations, render
from scenarios.model import Scenario
from scenarios.timeline import Timeline

VERSION = 1
ANSWERS = ("instruction_ack", "plan_step")   # what simulated posts send in answer, not from the script
MAX_ITEMS = 60      # per expectation in the JSON: enough to read, small enough to diff


@dataclass
class RunInput:
    folder: EventFolder
    scenario: Scenario
    timeline: Timeline
    seed: int
    speed: float
    t0_ms: int
    first_gseq: int
    simulated: tuple[str, ...]
    people: tuple[str, ...]
    sim_desk: bool
    desk: str
    delivery: dict[str, dict[str, Any]]     # station -> outbox counts and epoch
    refs: dict[str, int]                    # script id -> gseq
    lag_ms: int = 0
    made_folder: bool = True
    data: Path | None = None
    ended_ms: int = 0
    complete: bool = True


@dataclass
class Facts:
    """What the expectations judge; every time in scenario ms, every duration in scenario ms."""

    speed: float
    refs: dict[str, int]
    ref_targets: dict[str, tuple[str, int]]
    incidents: list[dict[str, Any]] = field(default_factory=list)
    instructions: list[dict[str, Any]] = field(default_factory=list)
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    stations: dict[str, dict[str, Any]] = field(default_factory=dict)
    delivery: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    plans_enabled: bool = False


def _targets(event: Any, target: str) -> list[str]:
    """The stations an instruction to `target` reaches."""
    if target == "all":
        return [s.id for s in event.stations]
    kind, _, name = target.partition(".")
    return [s.id for s in event.stations if (kind == "post" and s.post == name) or (kind == "station" and s.id == name)]


def read_facts(run: RunInput) -> tuple[Facts, dict[str, Any]]:
    """Fold this run's rows of the rehearsal log into Facts, plus the raw figures of the log."""
    sc, ev = run.scenario, run.scenario.event
    store = Store(run.folder.db(drill=True), drill=True)
    try:
        rows = list(store.since(run.first_gseq - 1))
        start_recv = rows[0].recv_ms if rows else run.t0_ms
        rejections = [r for r in store.rejections() if r.recv_ms >= start_recv]
    finally:
        store.close()

    def scn(ms: int) -> int:
        return int(round((ms - run.t0_ms) * run.speed))

    state = fold.new_state(ev.summary())
    lots = {a.id: {"capacity": a.capacity, "peak": 0, "peak_scn": 0, "full_scn": None} for a in ev.lots}
    zones = {a.id: {"capacity": a.capacity, "peak": 0, "peak_scn": 0} for a in ev.zones}
    heard: dict[str, list[tuple[int, str]]] = {}      # station -> (scenario ms, "report" | status)
    by_type: Counter = Counter()
    epochs = {s: d.get("epoch") for s, d in run.delivery.items()}
    logged: Counter = Counter()
    scripted: Counter = Counter()     # reports of the simulated posts that the script made them send
    sim_guests = 0
    for row in rows:
        fold.apply(state, row)
        t = scn(row.recv_ms)
        if row.type == "station_status":
            heard.setdefault(row.body["station"], []).append((t, row.body["status"]))
            continue
        by_type[row.type] += 1
        heard.setdefault(row.station, []).append((t, "report"))
        if epochs.get(row.station) == row.epoch:
            logged[row.station] += 1
            if row.station != run.desk and row.type not in ANSWERS:
                scripted[row.type] += 1
            if row.type == "guest_arrival":
                sim_guests += row.body["count"]
        if row.type == "lot_occupancy" and row.body["lot"] in lots:
            lot, now = lots[row.body["lot"]], state.lots[row.body["lot"]]["occupied"]
            if now > lot["peak"]:
                lot["peak"], lot["peak_scn"] = now, t
            if lot["full_scn"] is None and (row.body.get("full") or now >= lot["capacity"]):
                lot["full_scn"] = t
        elif row.type.startswith("zone_") and row.body["zone"] in zones:
            zone, now = zones[row.body["zone"]], state.zones[row.body["zone"]]["count"]
            if now > zone["peak"]:
                zone["peak"], zone["peak_scn"] = now, t

    ref_of = {g: r for r, g in run.refs.items()}
    incidents = []
    for inc in sorted(state.incidents.values(), key=lambda i: i["id"]):
        opened = scn(inc["opened_ms"])
        incidents.append({
            "id": inc["id"], "ref": ref_of.get(inc["id"], ""), "kind": inc["kind"], "severity": inc["severity"],
            "station": inc["station"], "location": inc["location"], "department": inc["department"],
            "status": inc["status"], "opened_scn": opened,
            "ack_delay": scn(inc["ack_ms"]) - opened if inc["ack_ms"] else None,
            "resolve_delay": scn(inc["resolved_ms"]) - opened if inc["resolved_ms"] else None})
    instructions = []
    for ins in sorted(state.instructions.values(), key=lambda i: i["id"]):
        instructions.append({
            "id": ins["id"], "ref": ref_of.get(ins["id"], ""), "target": ins["target"], "text": ins["text"],
            "plan": ins.get("plan", ""), "step": ins.get("step", ""),
            "sent_scn": scn(ins["sent_ms"]), "ack_required": ins["ack_required"],
            "expected": _targets(ev, ins["target"]) if ins["ack_required"] else [],
            "acks": {s: scn(ms) for s, ms in ins["acks"].items()}})
    stations: dict[str, dict[str, Any]] = {}
    for s in sc.silences:
        marks = heard.get(s.station, [])
        offline = next((t for t, what in marks if what == "offline" and s.at_ms <= t <= s.until_ms + 60_000), None)
        back = next((t for t, what in marks if what in ("report", "online") and t >= s.until_ms), None)
        stations.setdefault(s.station, {"silences": []})["silences"].append({
            "at_scn": s.at_ms, "until_scn": s.until_ms,
            "offline_after": None if offline is None else offline - s.at_ms,
            "back_after": None if back is None else back - s.until_ms})
    for sid, marks in heard.items():
        stations.setdefault(sid, {"silences": []})["statuses"] = [(t, w) for t, w in marks if w != "report"]
    delivery = {}
    for sid, d in run.delivery.items():
        saved = sum(d.get(k, 0) for k in ("saved", "sent", "delivered", "rejected"))
        delivery[sid] = {"saved": saved, "delivered": d.get("delivered", 0), "rejected": d.get("rejected", 0),
                         "waiting": d.get("saved", 0) + d.get("sent", 0), "logged": logged[sid]}
    plans_enabled = hasattr(state, "plans")
    runs = _plan_runs(state, scn, incidents) if plans_enabled else []
    ref_targets = {item.ref: (item.body["target"], item.at_ms) for item in sc.script
                   if item.ref and item.type == "instruction"}
    facts = Facts(run.speed, dict(run.refs), ref_targets, incidents, instructions, lots, zones, stations, delivery,
                  runs, plans_enabled)
    figures = {"events": len(rows), "by_type": dict(sorted(by_type.items())), "people": {
        k: v for k, v in state.people.items() if not k.endswith("_by_min")}, "cars": dict(state.cars),
        "guests_from_simulated": sim_guests, "posts_by_type": dict(sorted(scripted.items())),
        "posts_reports": sum(scripted.values()), "rejections": [
            {"station": r.station, "seq": r.seq, "type": r.type, "code": r.code, "reason": r.reason}
            for r in rejections][:MAX_ITEMS], "rejected": len(rejections),
        "last_gseq": rows[-1].gseq if rows else run.first_gseq}
    return facts, figures


def _plan_runs(state: Any, scn: Any, incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each plan run with what set it off and every step: its target and when it was settled (scenario ms)."""
    opened = {i["id"]: i["opened_scn"] for i in incidents}
    # A plan that asks first starts from the desk's request; what set it off is its proposal's cause.
    proposed = {p["run"]: p for p in state.plans.get("proposals", {}).values() if p.get("run")}
    out = []
    for run in sorted(state.plans.get("runs", {}).values(), key=lambda r: r["id"]):
        started = scn(run["started_ms"])
        prop = proposed.get(run["id"])
        cause = prop["cause"] if prop else run["cause"]
        kind, _, ref = cause.partition(":")
        trigger = opened.get(int(ref)) if kind == "incident" and ref.isdigit() else None
        if trigger is None:
            trigger = scn(prop["ms"]) if prop else started
        steps = []
        for st in run["steps"].values():
            settled = scn(st["at_ms"]) - started if st["status"] in ("done", "skipped") and st["at_ms"] else None
            steps.append({"id": st["id"], "department": st["department"], "posts": st["posts"],
                          "due_ms": st["due_s"] * 1000, "status": st["status"], "by": st["by"],
                          "settled_after": settled})
        down = run.get("stood_down")
        out.append({"id": run["id"], "plan": run["plan"], "name": run["name"], "name_en": run["name_en"],
                    "owner": run["owner"], "cause": cause, "auto": run["auto"], "trigger_scn": trigger,
                    "started_scn": started, "stood_down_scn": scn(down["ms"]) if down else None, "steps": steps})
    return out


def departments(runs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Plan steps by department: on time, late, still open, skipped."""
    out: dict[str, dict[str, int]] = {}
    for run in runs:
        for st in run["steps"]:
            d = out.setdefault(st["department"], {"on_time": 0, "late": 0, "open": 0, "skipped": 0})
            if st["settled_after"] is None:
                d["open"] += 1
            elif st["status"] == "skipped":
                d["skipped"] += 1
            else:
                d["on_time" if st["settled_after"] <= st["due_ms"] else "late"] += 1
    return dict(sorted(out.items()))


def score(run: RunInput) -> dict[str, Any]:
    """The scorecard of one finished run, as a JSON-ready dict."""
    sc = run.scenario
    facts, log_figures = read_facts(run)
    results = []
    for e in sc.expects:
        r = expectations.judge(e, facts)
        results.append({"kind": e.kind, "label": e.label, "label_en": e.label_en, "params": e.params,
                        "line": e.line, "status": r.status, "measured": r.measured, "limit": r.limit,
                        "unit": r.unit, "detail": r.detail, "detail_params": r.params,
                        "items": r.items[:MAX_ITEMS]})
    sim = set(run.simulated)
    generated = {**run.timeline.figures, "reports": len(run.timeline.station_steps(sim)),
                 "by_type": dict(sorted(run.timeline.counts(sim).items())),
                 "guests_simulated": run.timeline.guests(sim),
                 "departures_simulated": sum(s.body["count"] for s in run.timeline.station_steps(sim)
                                             if s.type == "guest_departure")}
    card = {
        "version": VERSION, "drill": True,
        "scenario": {"slug": sc.slug, "file": str(sc.path), "name": sc.name, "name_en": sc.name_en,
                     "duration_ms": sc.duration_ms},
        "event": {"name": sc.event.name, "name_en": sc.event.name_en, "dir": str(run.folder.root),
                  "timezone": sc.event.timezone,
                  "temporary": run.made_folder},
        "run": {"seed": run.seed, "speed": run.speed, "started_ms": run.t0_ms,
                "wall_ms": int(time.time() * 1000) - run.t0_ms, "first_gseq": run.first_gseq,
                "last_gseq": log_figures["last_gseq"], "simulated": list(run.simulated), "people": list(run.people),
                "sim_desk": run.sim_desk, "desk": run.desk, "lag_ms": run.lag_ms,
                "complete": run.complete, "ended_ms": run.ended_ms,
                "data": str(run.data) if run.data else "",
                "liveness_s": {"late": sc.event.hub.late_s, "offline": sc.event.hub.offline_s}},
        "generated": _plain(generated), "log": _plain(log_figures),
        "expectations": _plain(results),
        "incidents": _plain(facts.incidents), "instructions": _plain(facts.instructions),
        "lots": _plain(facts.lots), "zones": _plain(facts.zones), "stations": _plain(facts.stations),
        "delivery": _plain(facts.delivery),
        "plans": {"enabled": facts.plans_enabled, "runs": _plain(facts.plans),
                  "departments": departments(facts.plans)},
        "summary": dict(Counter(r["status"] for r in results)),
    }
    card["fixes"] = fixes(card)
    return card


def fixes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """What to fix, as catalogue keys with parameters: one per missed expectation, then other findings."""
    out = []
    for r in card["expectations"]:
        if r["status"] == "missed":
            out.append({"key": f"score.fix.{r['kind']}", "params": {
                "label": r["label_en"] or r["label"] or r["kind"], "label_zh": r["label"] or r["label_en"] or r["kind"],
                **{k: v for k, v in r["params"].items() if isinstance(v, (str, int))}}})
    for dept, d in card["plans"]["departments"].items():
        if d["late"] or d["open"]:
            out.append({"key": "score.fix.plan_department", "params": {"dept": dept, **d}})
    unresolved = [i for i in card["incidents"] if i["status"] != "resolved"]
    if unresolved:
        out.append({"key": "score.fix.unresolved", "params": {"n": len(unresolved)}})
    if card["log"]["rejected"]:
        out.append({"key": "score.fix.rejected", "params": {"n": card["log"]["rejected"]}})
    return out


def _plain(x: Any) -> Any:
    """JSON-safe copy: tuples to lists, int keys to strings."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def write(card: dict[str, Any], report_dir: Path, lang: str = "zh") -> dict[str, Path]:
    """DIR/report/rehearsal-<scenario>-<timestamp>.json and .md; returns both paths."""
    private_dir(report_dir)
    stamp = eventtime.compact(card["run"]["started_ms"], eventtime.zone_or_default(card["event"].get("timezone")))
    base = report_dir / f"rehearsal-{card['scenario']['slug']}-{stamp}"
    n = 1
    while base.with_suffix(".json").exists():   # two runs in one second: keep both
        n += 1
        base = report_dir / f"rehearsal-{card['scenario']['slug']}-{stamp}-{n}"
    paths = {"json": base.with_suffix(".json"), "md": base.with_suffix(".md")}
    for kind, text in (("json", json.dumps(card, ensure_ascii=False, indent=1)), ("md", render.markdown(card, lang))):
        private_file(paths[kind])   # owner-only, like every report the event folder keeps
        paths[kind].write_text(text, "utf-8")
    return paths


def load(path: Path | str) -> dict[str, Any]:
    card = json.loads(Path(path).read_text("utf-8"))
    if card.get("version") != VERSION or not card.get("drill"):
        raise ValueError(f"{path} is not a rehearsal scorecard (version {VERSION})")
    return card
