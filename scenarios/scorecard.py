"""The drill scorecard: read this run's part of the rehearsal log, fold it, judge each expectation, say what to fix.

Reads the log with console.hub.store (read-only) and folds it with console.core.state, the same fold
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

from console.event.folder import EventFolder
from console.hub.store import Store
from console.report.summary import setup_rows, summarise
from protocols import eventtime
from protocols.file_errors import private_dir, private_file
from protocols.messages import Committed
from scenarios import expectations, render
from scenarios.model import Scenario
from scenarios.timeline import Timeline

VERSION = 2   # 2: facts from console.report.summary's fold, step statuses are its results
ANSWERS = ("instruction_ack", "plan_step")   # what simulated posts send in answer, not from the script
SETTLED_RESULTS = ("early", "on_time", "late", "skipped")
BUCKET = render.BUCKET
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
    complete: bool = True           # the script played to its end (a stopped run cannot miss what came later)
    sendoffs: list[dict[str, Any]] = field(default_factory=list)   # each send-off and its links (scenario ms)
    services: list[dict[str, Any]] = field(default_factory=list)   # every service call, with its delays
    handoffs: list[dict[str, Any]] = field(default_factory=list)   # each VIP hand-off notice (scenario ms)
    report_order: dict[str, dict[str, Any]] = field(default_factory=dict)   # station -> its reports' order
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)   # station -> clock offset set and estimated


def _targets(event: Any, target: str) -> list[str]:
    """The stations an instruction to `target` reaches."""
    if target == "all":
        return [s.id for s in event.stations]
    kind, _, name = target.partition(".")
    return [s.id for s in event.stations if (kind == "post" and s.post == name) or (kind == "station" and s.id == name)]


def logged_events(folder: EventFolder, after: int, drill: bool = True) -> list[Committed]:
    """The log's events after gseq `after`, as the feed published them: what the feed watcher missed (scenarios.sim)."""
    store = Store(folder.db(drill=drill), drill=drill)
    try:
        return [Committed(gseq=r.gseq, station=r.station, epoch=r.epoch, seq=r.seq, type=r.type,
                          station_ms=r.station_ms, recv_ms=r.recv_ms, body=r.body) for r in store.since(after)]
    finally:
        store.close()


def read_facts(run: RunInput) -> tuple[Facts, dict[str, Any]]:
    """This run's part of the rehearsal log as Facts (scenario time), plus the raw figures of the log.

    The facts come from console.report.summary's Summary of the same span: one fold for the scorecard and
    the post-event summary, so their peaks, response times and step results are the same numbers.
    """
    sc, ev = run.scenario, run.scenario.event
    store = Store(run.folder.db(drill=True), drill=True)
    try:
        rows = list(store.since(run.first_gseq - 1))
        start_recv = rows[0].recv_ms if rows else run.t0_ms
        rejections = [r for r in store.rejections() if r.recv_ms >= start_recv]
        setup = setup_rows(store, run.first_gseq)    # the guest list the rehearsal's hub logged on start
    finally:
        store.close()
    s = summarise(rows, ev.summary(), rejections, drill=True, setup=setup)
    # Scenario time is the log's time since the drill clock's start (the log is on it: console.core.state).
    origin = s.clock.get("start", s.first_ms)

    def scn(ms: int) -> int:
        return ms - origin

    ref_of = {g: r for r, g in run.refs.items()}
    incidents = [{
        "id": i["id"], "ref": ref_of.get(i["id"], ""), "kind": i["kind"], "severity": i["severity"],
        "station": i["station"], "location": i["location"], "department": i["department"],
        "status": i["status"], "opened_scn": scn(i["opened_ms"]), "ack_delay": i["ack_after_ms"],
        "resolve_delay": i["resolved_after_ms"]} for i in s.incidents]
    instructions = [{
        "id": i["id"], "ref": ref_of.get(i["id"], ""), "target": i["target"], "text": i["text"],
        "plan": i["plan"], "step": i["step"], "sent_scn": scn(i["sent_ms"]), "ack_required": i["ack_required"],
        "expected": _targets(ev, i["target"]) if i["ack_required"] else [],
        "acks": {st: scn(ms) for st, ms in i["acks"].items()}} for i in s.instructions]

    def area(a: dict[str, Any]) -> dict[str, Any]:
        full = a["spells"][0]["from_ms"] if a["spells"] else None
        return {"capacity": a["capacity"], "peak": a["peak"], "peak_scn": scn(a["peak_ms"]) if a["peak_ms"] else 0,
                "full_scn": None if full is None else scn(full)}
    lots = {a["id"]: area(a) for a in s.lots}
    zones = {a["id"]: {k: v for k, v in area(a).items() if k != "full_scn"} for a in s.zones}
    stations = _stations(sc, s, scn)
    logged = s.extra["stored_by_epoch"]
    delivery = {}
    for sid, d in run.delivery.items():
        saved = sum(d.get(k, 0) for k in ("saved", "sent", "delivered", "rejected"))
        delivery[sid] = {"saved": saved, "delivered": d.get("delivered", 0), "rejected": d.get("rejected", 0),
                         "waiting": d.get("saved", 0) + d.get("sent", 0),
                         "logged": logged.get(sid, {}).get(d.get("epoch"), 0)}
    runs = _plan_runs(s, scn)
    ref_targets = {item.ref: (item.body["target"], item.at_ms) for item in sc.script
                   if item.ref and item.type == "instruction"}
    facts = Facts(run.speed, dict(run.refs), ref_targets, incidents, instructions, lots, zones, stations, delivery,
                  runs, plans_enabled=True, complete=run.complete,   # every hub runs the plan engine
                  sendoffs=_sendoffs(s, scn))
    facts.services = [{"id": c["id"], "station": c["station"], "service": c["service"], "owner": c["owner"],
                       "status": c["status"], "raised_scn": scn(c["ms"]),
                       "take_delay": c["taken_ms"] - c["ms"] if c["taken_ms"] else None,
                       "done_delay": c["closed_ms"] - c["ms"] if c["status"] == "done" else None}
                      for c in s.extra.get("service_calls", ())]
    facts.handoffs = [{"guest": h["ref"], "link": h["link"], "sent_scn": scn(h["sent_ms"]),
                       "ack_after": None if h["ack_ms"] is None else h["ack_ms"] - h["sent_ms"], "due": h["wait_ms"],
                       "alarm_scn": None if h["alarm_ms"] is None else scn(h["alarm_ms"])}
                      for h in s.extra["service_day"]["handoff"]["items"]]
    facts.report_order = report_order(rows, run.desk)
    facts.clocks = clocks(sc.clock_offsets, s.delays["stations"])
    return facts, _log_figures(run, rows, rejections, s)


CLOCK_SHOWN_MS = 1_000   # a clock the hub found off by less is a network's jitter, not a clock set wrong


def clocks(offsets: dict[str, int], delivery: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each post whose clock the scenario set off, or the hub found off: by how much (ms, ahead of the hub's
    positive) and what the hub estimated from its hellos and heartbeats (console.core.clock_skew)."""
    out = {}
    found = {s for s, d in delivery.items() if abs(d.get("clock_offset_ms") or 0) >= CLOCK_SHOWN_MS}
    for sid in sorted(set(offsets) | found):
        est = delivery.get(sid, {}).get("clock_offset_ms")
        # The summary's offset is the hub's clock minus the station's: a clock ahead is negative there.
        out[sid] = {"set_ms": offsets.get(sid, 0), "estimated_ms": None if est is None else -est}
    return out


def report_order(rows: list[Any], desk: str) -> dict[str, dict[str, Any]]:
    """Per station (each run of its outbox): reports logged out of the order it made them -- a sequence number
    below the one before it, or a save time earlier than the report before it by that station's clock."""
    out: dict[str, dict[str, Any]] = {}
    last: dict[tuple[str, str], tuple[int, int]] = {}
    for r in rows:
        if r.station in ("hub", desk):
            continue
        o = out.setdefault(r.station, {"reports": 0, "out_of_order": 0, "first_gseq": 0})
        o["reports"] += 1
        before = last.get((r.station, r.epoch))
        if before is not None and (r.seq < before[0] or r.station_ms < before[1]):
            o["out_of_order"] += 1
            o["first_gseq"] = o["first_gseq"] or r.gseq
        last[(r.station, r.epoch)] = (r.seq, r.station_ms)
    return out


def _sendoffs(s: Any, scn: Any) -> list[dict[str, Any]]:
    """Each send-off in scenario time: raised, complete (after how long), and per link sent, due, acknowledged, alarmed."""
    def at(ms: int | None) -> int | None:
        return None if ms is None else scn(ms)
    return [{"id": c["id"], "ref": c["ref"], "raised_scn": scn(c["ms"]),
             "complete_after": None if c["complete_ms"] is None else c["complete_ms"] - c["ms"],
             "links": [{"link": x["link"], "sent_scn": scn(x["sent_ms"]), "due_scn": scn(x["due_ms"]),
                        "ack_scn": at(x["ack_ms"]), "alarm_scn": at(x["alarm_ms"])} for x in c["links"]]}
            for c in s.extra.get("sendoffs", {}).get("chains", ())]


def _stations(sc: Scenario, s: Any, scn: Any) -> dict[str, dict[str, Any]]:
    """Each scripted silence: when the desk saw the post offline, and when it was heard again (scenario ms)."""
    by_id = {st["id"]: st for st in s.stations}
    out: dict[str, dict[str, Any]] = {}
    for sid, st in by_id.items():
        out[sid] = {"silences": [], "statuses": [(scn(ms), what) for ms, what in st["statuses"]]}
    for silence in sc.silences:
        st = by_id.get(silence.station)
        if st is None:
            continue
        marks = out[silence.station]["statuses"]
        offline = next((t for t, what in marks if what == "offline"
                        and silence.at_ms <= t <= silence.until_ms + 60_000), None)
        back = next((scn(x["to_ms"]) for x in st["offline"] if not x["open"] and scn(x["to_ms"]) >= silence.until_ms),
                    None)
        out[silence.station]["silences"].append({
            "at_scn": silence.at_ms, "until_scn": silence.until_ms,
            "offline_after": None if offline is None else offline - silence.at_ms,
            "back_after": None if back is None else back - silence.until_ms})
    return out


def _log_figures(run: RunInput, rows: list[Any], rejections: list[Any], s: Any) -> dict[str, Any]:
    """What the log holds: counts by type, people and cars, and how many reports the simulated posts made."""
    by_type: Counter = Counter()
    epochs = {sid: d.get("epoch") for sid, d in run.delivery.items()}
    scripted: Counter = Counter()     # reports of the simulated posts that the script made them send
    sim_guests = 0
    # The script plays once the drill clock has started; before it, the day's preparation (runner._prepare).
    begun = next((r.gseq for r in rows if r.type == "drill_clock"), 0)
    for row in rows:
        if row.type == "station_status":
            continue
        by_type[row.type] += 1
        if epochs.get(row.station) == row.epoch and row.station != run.desk and row.gseq > begun:
            if row.type not in ANSWERS:
                scripted[row.type] += 1
            if row.type == "guest_arrival":
                sim_guests += row.body["count"]
    g = s.guests
    return {"events": len(rows), "by_type": dict(sorted(by_type.items())),
            "people": {"arrivals": g["arrivals"], "departures": g["departures"], "headcount": g["on_site_end"],
                       "checked_in": g["checked_in"], "vip_arrivals": g["vip"]},
            "cars": {"in": s.cars["in"], "out": s.cars["out"], "vip": s.cars["vip"], "on_site": s.cars["on_site_end"]},
            "guests_from_simulated": sim_guests, "posts_by_type": dict(sorted(scripted.items())),
            "posts_reports": sum(scripted.values()), "rejections": [
                {"station": r.station, "seq": r.seq, "type": r.type, "code": r.code, "reason": r.reason}
                for r in rejections][:MAX_ITEMS], "rejected": len(rejections),
            "last_gseq": rows[-1].gseq if rows else run.first_gseq}


def _plan_runs(s: Any, scn: Any) -> list[dict[str, Any]]:
    """Each plan run with what set it off and every step as the summary judged it (scenario ms)."""
    opened = {i["id"]: i["opened_ms"] for i in s.incidents}
    out = []
    for run in s.plans:
        kind, _, ref = run["cause"].partition(":")
        trigger = opened.get(int(ref)) if kind == "incident" and ref.isdigit() else None
        if trigger is None:
            trigger = run["proposed_ms"] or run["started_ms"]
        steps = [{"id": st["id"], "do": st["do"], "do_en": st["do_en"], "department": st["department"], "posts": st["posts"],
                  "due_ms": st["due_after_ms"], "status": st["result"], "by": st["by"],
                  "settled_after": st["took_ms"] if st["result"] in SETTLED_RESULTS else None}
                 for st in run["steps"]]
        out.append({"id": run["id"], "plan": run["plan"], "name": run["name"], "name_en": run["name_en"],
                    "owner": run["owner"], "cause": run["cause"], "auto": run["auto"], "trigger_scn": scn(trigger),
                    "started_scn": scn(run["started_ms"]),
                    "stood_down_scn": None if run["stood_down_ms"] is None else scn(run["stood_down_ms"]),
                    "steps": steps})
    return out


def departments(runs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Plan steps by department, as the summary judged them: on time, late, still open, skipped, called off."""
    out: dict[str, dict[str, int]] = {}
    for run in runs:
        for st in run["steps"]:
            d = out.setdefault(st["department"], dict.fromkeys(("on_time", "late", "open", "skipped", "cancelled"), 0))
            d[BUCKET[st["status"]]] += 1
    return dict(sorted(out.items()))


def score(run: RunInput) -> dict[str, Any]:
    """The scorecard of one finished run, as a JSON-ready dict."""
    sc = run.scenario
    facts, log_figures = read_facts(run)
    plan_names = _plan_names(run)
    results = []
    for e in sc.expects:
        r = expectations.judge(e, facts)
        named = {"plan": list(plan_names[e.params["plan"]])} if e.params.get("plan") in plan_names else {}
        results.append({"kind": e.kind, "label": e.label, "label_en": e.label_en, "params": e.params, "names": named,
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
                  # Names for what the card mentions by id: staff read names (protocols/names.py).
                  "stations": [{"id": x.id, "name": x.name, "name_en": x.name_en} for x in sc.event.stations],
                  "lots": [{"id": x.id, "name": x.name, "name_en": x.name_en} for x in sc.event.lots],
                  "zones": [{"id": x.id, "name": x.name, "name_en": x.name_en} for x in sc.event.zones],
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
        "delivery": _plain(facts.delivery), "clocks": _plain(facts.clocks),
        "plans": {"enabled": facts.plans_enabled, "runs": _plain(facts.plans),
                  "departments": departments(facts.plans)},
        "summary": dict(Counter(r["status"] for r in results)),
    }
    card["fixes"] = fixes(card)
    return card


def _plan_names(run: RunInput) -> dict[str, tuple[str, str]]:
    """Each plan's name in both languages (the event folder's plans over the shipped ones), so a card
    names a plan by what staff call it even when it never ran."""
    # Read here, when a card is scored, not on import: the runner itself never loads the plan files.
    from console.event.plan_files import load as load_plans   # the files the drill's hub ran on
    return {p.id: (p.name, p.name_en or p.name) for p in load_plans(run.folder.root).plans}


def fixes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """What to fix, as catalogue keys with parameters: one per missed expectation, then other findings."""
    out = []
    for r in card["expectations"]:
        if r["status"] == "missed":
            out.append({"key": f"score.fix.{r['kind']}", "params": {
                # No label of its own: the kind's words, in each language (never the kind's id).
                "label": r["label_en"] or r["label"] or render.label(r, "en"),
                "label_zh": r["label"] or r["label_en"] or render.label(r, "zh"),
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
