"""The post-event summary (后期总结) as figures: one pass of the logged events through the state fold; pure.

`summarise(events, event_summary, rejections)` streams any iterable of logged events (store Rows or
Committed messages) through `console.core.state.apply`, the fold the hub, the desks and rehearsals use,
and keeps beside it only counters, per-minute levels and the few facts the fold forgets (every note,
when each lot filled, when each station went silent). Memory grows with minutes, not with events.
No database, sockets, screen, clock or files here: console.report.files reads the log and writes the
files, console.report.findings judges the facts, console.report.doc puts them into words.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from heapq import heappush, heapreplace
from typing import Any, Iterable

from console.core import plans as plan_engine
from console.core import services as service_calls
from console.core import state as fold
from console.core.state import apply
from console.report import sendoffs, service_day, terminals
from console.report.findings import derive
from console.report.series import MINUTE, Level, Spells
from protocols import eventtime

ACK_TARGET_MS = 60_000          # "fire plan acknowledged within 60 s": the desk's own yardstick
EARLY_SHARE = 0.5               # a step settled within half its target time counts as done early
DELAY_EDGES = (1_000, 5_000, 30_000, 300_000)   # buckets of recv_ms - station_ms; the last is open
WORST_DELAYS = 10
STATUS_MARKS = 200              # liveness changes kept per station (a flapping link must not grow the report)
HUB = "hub"                     # the hub's own events: no station clock, no outbox
FLOWS = ("arrivals", "departures", "cars_in", "cars_out")


@dataclass
class Summary:
    """Every figure of the summary, as plain data (dicts, lists, ints): JSON as it stands."""

    event: dict[str, Any]
    drill: bool
    first_ms: int
    last_ms: int
    first_gseq: int
    last_gseq: int
    events: int
    by_type: dict[str, int]
    guests: dict[str, Any]
    cars: dict[str, Any]
    lots: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    incident_table: dict[str, dict[str, int]]      # kind -> severity (as text) -> count
    plans: list[dict[str, Any]]
    departments: dict[str, dict[str, list]]        # dept -> highlights, shortcomings, notes
    notes: list[dict[str, Any]]
    stations: list[dict[str, Any]]
    delays: dict[str, Any]
    rejections: dict[str, Any]
    continuity: dict[str, Any]
    series: dict[str, Any]
    faults: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    instructions: list[dict[str, Any]] = field(default_factory=list)   # with each station's ack time
    clock: dict[str, Any] = field(default_factory=dict)                # a rehearsal's drill clock
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # owner -> service calls' counts and times

    @property
    def tz(self) -> dt.tzinfo:
        """The event's time zone: every clock time in the summary is read in it."""
        return eventtime.zone_or_default(self.event.get("timezone"))


class _Collector:
    def __init__(self, event_summary: dict[str, Any]) -> None:
        self.ev = event_summary
        self.state = fold.new_state(event_summary)
        self.late_ms = int(event_summary.get("late_ms", 5000))
        self.first_ms = self.last_ms = self.first_gseq = self.last_gseq = self.events = 0
        self.people, self.on_site = Level(), Level()
        self.flows: dict[str, dict[int, int]] = {k: {} for k in FLOWS}
        self.lots = {lot: Level() for lot in self.state.lots}
        self.lot_full = {lot: Spells() for lot in self.state.lots}
        self.all_full = Spells()
        self.zones = {zone: Level() for zone in self.state.zones}
        self.zone_over = {zone: Spells() for zone in self.state.zones}
        self.notes: list[dict[str, Any]] = []
        # station -> [first heard, silent since (or None), offline spells, late warnings]
        self.up: dict[str, list[Any]] = {sid: [0, None, [], 0] for sid in self.state.stations}
        self.statuses: dict[str, list[list[Any]]] = {sid: [] for sid in self.state.stations}   # [ms, status]
        # station -> [closed since (or None), closed spells]: said bye (5.2), neither online nor offline
        self.closed: dict[str, list[Any]] = {sid: [None, []] for sid in self.state.stations}
        # station -> [reports, late, sum of delays, max delay, clock ahead]
        self.delay: dict[str, list[int]] = {}
        self.buckets = [0] * (len(DELAY_EDGES) + 1)
        self.worst: list[tuple[int, int, str, str, int]] = []     # min-heap of (delay, gseq, station, type, recv)
        self.worst_floor = -1                                      # a delay must beat this to enter the heap
        self.keys: dict[str, dict[str, list[int]]] = {}           # station -> epoch -> [stored, low seq, high seq]
        self.track = {"guest_arrival": self._people, "guest_departure": self._people,
                      "car_in": self._cars, "car_out": self._cars, "lot_occupancy": self._lot,
                      "zone_enter": self._zone, "zone_exit": self._zone, "zone_count": self._zone,
                      "note": self._note, "station_status": self._status,
                      "service_request": self._service_and_terminal, "service_update": self._service_and_terminal,
                      "staff_signin": self._signin, "plan_step": self._terminal, "instruction_ack": self._terminal}
        self.calls = service_calls.Tally()
        self.signins: dict[str, int] = {}      # roster slot key -> first sign-in ms (console.report.service_day)
        self.terminals = terminals.Tally(event_summary)   # department and leader terminals (issue 16 item 3)

    # --- one event ------------------------------------------------------------------------------
    # The two methods below run once per logged event: locals over attributes, no call that can be
    # avoided, no object made per event. They are most of a million-event report's time.
    def feed(self, ev: Any) -> None:
        state, gseq = self.state, ev.gseq
        if gseq <= state.gseq:
            return       # already folded (the same overlap rule as the fold's)
        apply(state, ev)
        # The log's time (console.core.state): real on a live log, scenario time after a drill's clock.
        ms, station = (fold.event_ms(state, ev.recv_ms) if state.clock else ev.recv_ms), ev.station
        if not self.first_gseq:
            self.first_ms, self.first_gseq = ms, gseq
        self.events += 1
        self.last_gseq = gseq
        if ms > self.last_ms:
            self.last_ms = ms
        if ev.type == "drill_clock":   # a rehearsal's time starts here: the setup before it is not its day
            self.first_ms = self.last_ms = ms
        if station != HUB:
            self._delivery(ev, ms, station)
            if station in self.closed:   # heard again after its bye: no longer closed
                self._closing(station, "", ms)
            up = self.up.get(station)
            if up is not None and (up[1] is not None or not up[0]):
                self._heard(up, ms)
        track = self.track.get(ev.type)
        if track is not None:
            try:
                track(ev, ev.body, ms)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass    # the fold has counted the bad body as a fault; the report says how many

    def _delivery(self, ev: Any, ms: int, station: str) -> None:
        d = self.delay.get(station)
        if d is None:
            d = self.delay[station] = [0, 0, 0, 0, 0]
        # Both real clocks, the station's corrected to the hub's (console.core.clock_skew): a delay is the link's,
        # not a wrong clock's.
        late = ev.recv_ms - ev.station_ms - self.state.stations.get(station, {}).get("offset_ms", 0)
        d[0] += 1
        if late < 0:
            d[4] += 1          # the station's clock runs ahead of the hub's: not a delivery delay
            late = 0
        d[2] += late
        if late > d[3]:
            d[3] = late
        if late > self.late_ms:
            d[1] += 1
        self.buckets[bisect_right(DELAY_EDGES, late)] += 1
        if late > self.worst_floor:
            worst = self.worst
            if len(worst) < WORST_DELAYS:
                heappush(worst, (late, ev.gseq, station, ev.type, ms))
            else:
                heapreplace(worst, (late, ev.gseq, station, ev.type, ms))
            if len(worst) == WORST_DELAYS:
                self.worst_floor = worst[0][0]
        seq, by_epoch = ev.seq, self.keys.get(station)
        if by_epoch is None:
            by_epoch = self.keys[station] = {}
        k = by_epoch.get(ev.epoch)
        if k is None:
            by_epoch[ev.epoch] = [1, seq, seq]
        else:
            k[0] += 1
            if seq < k[1]:
                k[1] = seq
            elif seq > k[2]:
                k[2] = seq

    @staticmethod
    def _heard(up: list[Any], ms: int) -> None:
        if not up[0]:
            up[0] = ms
        if up[1] is not None:
            up[2].append([up[1], ms])
            up[1] = None

    def _people(self, ev: Any, b: dict, ms: int) -> None:
        key = "arrivals" if ev.type == "guest_arrival" else "departures"
        flow, minute = self.flows[key], ms // MINUTE
        flow[minute] = flow.get(minute, 0) + b["count"]
        self.people.set(self.state.people["headcount"], ms)

    def _cars(self, ev: Any, b: dict, ms: int) -> None:
        n = b.get("count", 1)
        flow, minute = self.flows["cars_in" if ev.type == "car_in" else "cars_out"], ms // MINUTE
        flow[minute] = flow.get(minute, 0) + n
        self.on_site.set(self.state.cars["on_site"], ms)
        if ev.type == "car_in":
            for spells in self.lot_full.values():
                if spells.since is not None:
                    spells.cars += n
            if self.all_full.since is not None:
                self.all_full.cars += n

    def _lot(self, ev: Any, b: dict, ms: int) -> None:
        lot_id = b["lot"]
        lot = self.state.lots.get(lot_id)
        if lot is None:
            return
        value = lot["occupied"]
        self.lots[lot_id].set(value, ms)
        self.lot_full[lot_id].update(value >= lot["capacity"], value, ms)
        full = all(v["occupied"] >= v["capacity"] for v in self.state.lots.values())
        self.all_full.update(full, sum(v["occupied"] for v in self.state.lots.values()), ms)

    def _zone(self, ev: Any, b: dict, ms: int) -> None:
        zone = self.state.zones.get(b["zone"])
        if zone is not None:
            self.zones[b["zone"]].set(zone["count"], ms)
            self.zone_over[b["zone"]].update(zone["count"] > zone["capacity"], zone["count"], ms)

    def _note(self, ev: Any, b: dict, ms: int) -> None:
        self.notes.append({"id": ev.gseq, "ms": ms, "station": ev.station, "department": b.get("department", ""),
                           "text": b["text"]})

    def _status(self, ev: Any, b: dict, ms: int) -> None:
        up = self.up.get(b["station"])
        if up is None:
            return
        status = b["status"]
        marks = self.statuses[b["station"]]
        if len(marks) < STATUS_MARKS:
            marks.append([ms, status])
        if self._closing(b["station"], status, self._heard_at(b, ms)):
            return
        if status == "online":
            self._heard(up, ms)
        elif status == "late":
            up[3] += 1
            if not up[0]:
                up[0] = self._heard_at(b, ms)
        elif up[1] is None:
            # Silent since it was last heard, not since the hub noticed (offline_s later).
            up[1] = self._heard_at(b, ms)
            if not up[0]:
                up[0] = up[1]

    def _closing(self, sid: str, status: str, at: int) -> bool:
        """A closed spell starts at the bye and ends when the station is heard again; True for the bye itself."""
        closed = self.closed[sid]
        if status == "closed":
            if closed[0] is None:
                closed[0] = at
            return True
        if closed[0] is not None:
            closed[1].append((closed[0], max(at, closed[0])))
            closed[0] = None
        return False

    def _service(self, ev: Any, b: dict, ms: int) -> None:
        if ev.type == "service_request":
            self.calls.raised(self.state, ev.gseq)
        else:
            self.calls.updated(self.state, b["call"])

    def _terminal(self, ev: Any, b: dict, ms: int) -> None:
        self.terminals.feed(self.state, ev, b, ms)

    def _service_and_terminal(self, ev: Any, b: dict, ms: int) -> None:
        self._service(ev, b, ms)
        self.terminals.feed(self.state, ev, b, ms)

    def _signin(self, ev: Any, b: dict, ms: int) -> None:
        service_day.signin(self.state.event, self.signins, ev.station, b, ms)   # with the desk's roster slots

    def _heard_at(self, b: dict, ms: int) -> int:
        """When a station_status says the station was last heard, on the log's time."""
        heard = b.get("last_heard_ms")
        return fold.event_ms(self.state, heard) if heard else ms

    # --- the figures ----------------------------------------------------------------------------
    def finish(self, rejections: Iterable[Any], drill: bool) -> Summary:
        s, end = self.state, self.last_ms
        rejections = list(rejections)
        start_min, end_min = self.first_ms // MINUTE, end // MINUTE
        values = {k: [self.flows[k].get(m, 0) for m in range(start_min, end_min + 1)] for k in FLOWS} \
            if self.events else {k: [] for k in FLOWS}
        if self.events:
            values["headcount"] = self.people.dense(start_min, end_min)
            values["cars_on_site"] = self.on_site.dense(start_min, end_min)
            values.update({f"lot.{k}": v.dense(start_min, end_min) for k, v in self.lots.items()})
            values.update({f"zone.{k}": v.dense(start_min, end_min) for k, v in self.zones.items()})
        p, c = s.people, s.cars
        summary = Summary(
            event={k: self.ev.get(k, "") for k in ("name", "name_en", "date", "doors_open", "lang")},
            drill=drill, first_ms=self.first_ms, last_ms=end, first_gseq=self.first_gseq,
            last_gseq=self.last_gseq, events=self.events, by_type=dict(sorted(s.counts.items())),
            guests={"arrivals": p["arrivals"], "departures": p["departures"], "checked_in": p["checked_in"],
                    "vip": p["vip_arrivals"], "on_site_end": p["headcount"], "peak": self.people.peak,
                    "peak_ms": self.people.peak_ms},
            cars={"in": c["in"], "out": c["out"], "vip": c["vip"], "on_site_end": c["on_site"],
                  "peak": self.on_site.peak, "peak_ms": self.on_site.peak_ms},
            lots=[self._area(a, self.lots, self.lot_full, "occupied") for a in self.ev.get("lots", ())],
            zones=[self._area(a, self.zones, self.zone_over, "count") for a in self.ev.get("zones", ())],
            incidents=[_incident(i) for _, i in sorted(s.incidents.items())],
            incident_table=_incident_table(s.incidents.values()),
            plans=[_run(s, r, end) for _, r in sorted(s.plans["runs"].items())],
            departments={}, notes=self.notes, stations=self._stations(),
            delays=self._delays(), rejections=_rejections(rejections, s.clock),
            instructions=[_instruction(i) for _, i in sorted(s.instructions.items())], clock=dict(s.clock),
            continuity=self._continuity(rejections),
            series={"start_ms": start_min * MINUTE, "step_ms": MINUTE, "values": values},
            faults=s.totals["faults"],
            extra={"all_lots_full": self.all_full.closed(end), "late_ms": self.late_ms,
                   "ack_target_ms": ACK_TARGET_MS, "unknown_types": s.totals["unknown"],
                   "stored_by_epoch": {sid: {ep: k[0] for ep, k in by.items()} for sid, by in self.keys.items()},
                   "hub_outages": [dict(o) for o in s.hub["outages"]], "sendoffs": sendoffs.figures(s),
                   # two hubs (issue 19): one line per switch
                   "hub_switches": [dict(x) for x in s.hub.get("switches", ())]},
        )
        summary.services = self.calls.finish(s)
        summary.extra["service_calls"] = sorted(self.calls.calls, key=lambda c: c["id"])
        summary.extra["service_late_ms"] = service_calls.late_ms(self.ev)
        summary.departments = derive(summary, list(self.ev.get("departments", ())))
        sendoffs.findings(summary.extra["sendoffs"], summary.departments)
        summary.extra["service_day"] = service_day.figures(s, self.signins)
        service_day.findings(summary.extra["service_day"], summary.stations, summary.departments)
        summary.extra["terminals"] = self.terminals.finish()
        terminals.findings(summary.extra["terminals"], summary.departments)
        # Phones paired and revoked per station (issue 18), for the stations that had any.
        summary.extra["phones"] = {sid: {"paired": st.get("phones_paired", 0), "revoked": st.get("phones_revoked", 0)}
                                   for sid, st in s.stations.items() if st.get("phones_paired") or st.get("phones_revoked")}
        return summary

    def _area(self, area: dict[str, Any], levels: dict[str, Level], spells: dict[str, Spells],
              figure: str) -> dict[str, Any]:
        aid = area["id"]
        level, now = levels[aid], (self.state.lots if figure == "occupied" else self.state.zones)[aid]
        return {"id": aid, "name": area.get("name", ""), "name_en": area.get("name_en", ""),
                "capacity": int(area.get("capacity", 0)), "peak": level.peak, "peak_ms": level.peak_ms,
                "end": now[figure], "spells": spells[aid].closed(self.last_ms)}

    def _stations(self) -> list[dict[str, Any]]:
        out = []
        hub_down = [(o["from_ms"], o["to_ms"]) for o in self.state.hub["outages"]]
        for st in self.ev.get("stations", ()):
            sid = st["id"]
            first, since, spells, late = self.up[sid]
            spans = [(a, b, False) for a, b in spells] + ([(since, self.last_ms, True)] if since is not None else [])
            # The hub's own outages are nobody's downtime: a post could not reach a hub that was not there.
            spells = [{"from_ms": a, "to_ms": b, "open": o} for a0, b0, o in spans for a, b in _minus(a0, b0, hub_down)]
            span = (self.last_ms - first - sum(_overlap(first, self.last_ms, a, b) for a, b in hub_down)) if first else 0
            # Closed on purpose (a bye) is neither online nor offline: out of the span, as the hub's outages are.
            since_closed, closed = self.closed[sid]
            closed = closed + ([(since_closed, self.last_ms)] if since_closed is not None else [])
            closed_ms = sum(b - a for a0, b0 in closed for a, b in _minus(a0, b0, hub_down)) if first else 0
            span -= closed_ms
            down = sum(x["to_ms"] - x["from_ms"] for x in spells)
            out.append({"id": sid, "post": st.get("post", ""), "name": st.get("name", ""),
                        "name_en": st.get("name_en", ""), "first_ms": first, "span_ms": span, "down_ms": down,
                        "uptime": round(1 - down / span, 4) if span > 0 else (1.0 if first else None),
                        "offline": spells, "closed_ms": closed_ms, "late_warnings": late, "statuses": self.statuses[sid],
                        "reports": self.state.stations[sid]["reports"]})
        return out

    def _delays(self) -> dict[str, Any]:
        stations = {sid: {"reports": d[0], "late": d[1], "mean_ms": d[2] // d[0] if d[0] else 0, "max_ms": d[3],
                          "clock_ahead": d[4],
                          "clock_offset_ms": self.state.stations.get(sid, {}).get("offset_ms")}
                    for sid, d in sorted(self.delay.items())}
        worst = [{"delay_ms": dl, "gseq": g, "station": st, "type": ty, "recv_ms": rm}
                 for dl, g, st, ty, rm in sorted(self.worst, reverse=True) if dl > self.late_ms]
        return {"late_ms": self.late_ms, "edges_ms": list(DELAY_EDGES), "buckets": list(self.buckets),
                "stations": stations, "worst": worst,
                "late": sum(d["late"] for d in stations.values()),
                "reports": sum(d["reports"] for d in stations.values())}

    def _continuity(self, rejections: list[Any]) -> dict[str, Any]:
        refused: dict[tuple[str, str], set[int]] = {}
        conflicts: dict[str, int] = {}
        for r in rejections:
            if r.code == "E_CONFLICT":
                conflicts[r.station] = conflicts.get(r.station, 0) + 1
            elif r.seq > 0:
                refused.setdefault((r.station, r.epoch), set()).add(r.seq)
        stations: dict[str, dict[str, int]] = {}

        def row(sid: str) -> dict[str, int]:
            return stations.setdefault(sid, {"epochs": 0, "stored": 0, "refused": 0, "gaps": 0, "conflicts": 0})

        stored = {(sid, epoch): k for sid, by in self.keys.items() for epoch, k in by.items()}
        for key in sorted(set(stored) | set(refused)):
            n, lo, hi = stored.get(key, (0, 0, 0))
            seqs = refused.get(key, set())
            r = row(key[0])
            r["epochs"] += 1
            r["stored"] += n
            r["refused"] += len(seqs)
            if n:
                # A number between the lowest and highest stored that is neither stored nor refused.
                r["gaps"] += max(0, hi - lo + 1 - n - sum(1 for q in seqs if lo <= q <= hi))
        for sid, n in conflicts.items():
            row(sid)["conflicts"] = n
        return {"duplicates_known": False, "stations": dict(sorted(stations.items())),
                "gaps": sum(r["gaps"] for r in stations.values()),
                "conflicts": sum(conflicts.values())}


def _incident(i: dict[str, Any]) -> dict[str, Any]:
    opened = i["opened_ms"]
    handlers = sorted({who for _, who, what, _ in i["history"][1:] if what != "note" or who != i["station"]})
    return {"id": i["id"], "kind": i["kind"], "severity": i["severity"], "location": i["location"],
            "note": i["note"], "station": i["station"], "source": i["source"], "opened_ms": opened,
            "status": i["status"], "department": i["department"],
            "ack_after_ms": i["ack_ms"] - opened if i["ack_ms"] else None,
            "resolved_after_ms": i["resolved_ms"] - opened if i["resolved_ms"] else None,
            "handlers": handlers, "history": [list(h) for h in i["history"]]}


def _overlap(a: int, b: int, c: int, d: int) -> int:
    return max(0, min(b, d) - max(a, c))


def _minus(a: int, b: int, holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The interval [a, b] without the `holes` (each [c, d]), as what is left of it, in order."""
    pieces = [(a, b)]
    for c, d in holes:
        pieces = [p for x, y in pieces for p in ((x, min(y, c)), (max(x, d), y)) if p[1] > p[0]]
    return pieces


def _instruction(i: dict[str, Any]) -> dict[str, Any]:
    return {"id": i["id"], "target": i["target"], "text": i["text"], "text_en": i.get("text_en", ""),
            "plan": i.get("plan", ""), "run": i.get("run", 0), "step": i.get("step", ""), "station": i["station"],
            "sent_ms": i["sent_ms"], "ack_required": i["ack_required"], "acks": dict(i["acks"])}


def _incident_table(incidents: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for i in incidents:
        row = table.setdefault(i["kind"], {})
        row[str(i["severity"])] = row.get(str(i["severity"]), 0) + 1
    return dict(sorted(table.items()))


def _run(state: fold.State, run: dict[str, Any], end_ms: int) -> dict[str, Any]:
    view = plan_engine.run_view(state, run, end_ms)
    steps = []
    for st in view.steps:
        due_after = st.due_ms - view.started_ms
        took = st.at_ms - view.started_ms if st.status in plan_engine.SETTLED else None
        if st.status in ("skipped", plan_engine.CANCELLED):
            result = st.status          # a skip has its reason; a call-off is the stand-down's, not the department's
        elif st.status == "done":
            result = "late" if st.late else "early" if took <= due_after * EARLY_SHARE else "on_time"
        else:
            result = st.status          # pending (not yet due at the end) | overdue
        steps.append({"id": st.id, "department": st.department, "posts": list(st.posts), "do": st.do,
                      "do_en": st.do_en, "due_after_ms": due_after, "took_ms": took, "by": st.by,
                      "at_ms": st.at_ms, "reason": st.reason, "result": result,
                      "confirmed": [{"post": p, "by": who, "ms": ms, "desk": desk} for p, who, ms, desk in st.confirmed]})
    down = view.stood_down
    return {"id": view.id, "plan": view.plan, "name": view.name, "name_en": view.name_en, "owner": view.owner,
            "cause": view.cause, "auto": view.auto, "note": view.note, "started_ms": view.started_ms,
            "stood_down_ms": down["ms"] if down else None, "stood_down_by": down["by"] if down else "",
            "escalations": len(run["escalations"]), "steps": steps, "proposed_ms": _proposed(state, run["id"])}


def _proposed(state: fold.State, run_id: int) -> int | None:
    """When the proposal this run answered was made (a plan that asked first), if it was one."""
    return next((p["ms"] for p in state.plans["proposals"].values() if p.get("run") == run_id), None)


def _rejections(rejections: list[Any], clock: dict[str, Any]) -> dict[str, Any]:
    by_code: dict[str, dict[str, Any]] = {}
    by_station: dict[str, int] = {}
    for r in rejections:
        c = by_code.setdefault(r.code, {"n": 0, "reason": r.reason, "reason_zh": r.reason_zh})
        c["n"] += 1
        by_station[r.station] = by_station.get(r.station, 0) + 1
    return {"total": len(rejections), "by_code": dict(sorted(by_code.items())),
            "by_station": dict(sorted(by_station.items())),
            "items": [{"station": r.station, "epoch": r.epoch, "seq": r.seq, "type": r.type, "code": r.code,
                       "reason": r.reason, "reason_zh": r.reason_zh, "recv_ms": eventtime.drill_ms(clock, r.recv_ms), "detail": r.detail}
                      for r in rejections]}


SETUP_TYPES = ("guest_list",)   # what the hub logs once on start and the day then relies on


def setup_rows(store: Any, first: int) -> list[Any]:
    """The latest of each setup event logged before gseq `first`, from a store (console.hub.store.Store.last_of)."""
    return sorted((r for r in (store.last_of(type_, first) for type_ in SETUP_TYPES) if r is not None),
                  key=lambda r: r.gseq)


def summarise(events: Iterable[Any], event_summary: dict[str, Any], rejections: Iterable[Any] = (),
              drill: bool = False, setup: Iterable[Any] = ()) -> Summary:
    """The Summary of `events` (in log order) for the event `event_summary` (Event.summary()).

    `setup` are events logged before the span that it still stands on (the guest list the hub logged when
    it started, before a rehearsal's run began): folded first, counted nowhere.
    """
    c = _Collector(event_summary)
    for ev in setup:
        apply(c.state, ev)
        left = c.state.counts.pop(ev.type, 1) - 1
        if left:
            c.state.counts[ev.type] = left
    for ev in events:
        c.feed(ev)
    return c.finish(rejections, drill)
