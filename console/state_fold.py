"""How each logged event type changes the picture (console.state's per-type half); no sockets, database, screen or clock.

Each function takes (state, event, body, recv_ms) and mutates the state in place. It may raise
only on a body that broke the schema; apply counts that as a fault. Station text is stored as
given, never formatted or evaluated.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.guests import plate_key

if TYPE_CHECKING:
    from console.state import State

WINDOW_MIN = 120      # minutes of arrival/departure curve kept in memory; the report reads the log
HISTORY_MAX = 50      # per incident and per plan run; the first entry is always kept


def empty_plans() -> dict[str, Any]:
    """`State.plans`: desk requests, proposals and runs by gseq; per plan id the [gseq, ms] of its last close."""
    return {"requests": {}, "proposals": {}, "runs": {}, "closed": {}}


def empty_readiness() -> dict[str, Any]:
    """`State.readiness`: task id -> its sign-off {by, ms, note, gseq, more}; task id -> ms it was alarmed overdue."""
    return {"done": {}, "overdue": {}}


def empty_roster() -> dict[str, Any]:
    """`State.roster`: station -> {who: {name, staff_no, ms}} signed in now; station -> last sign-in ms;
    roster entry key -> ms it was alarmed."""
    return {"on": {}, "last_in": {}, "overdue": {}}


def empty_guests() -> dict[str, Any]:
    """`State.guests`: the list (ref -> guest) and its plates, who arrived, the notices the hub sent for
    each guest ("vip:<link>" / "needs:lobby" -> instruction gseq), alarms, walk-ins, and needs still to pass on."""
    return {"list": {}, "plates": {}, "digest": "", "source": "", "listed_ms": 0, "arrived": {}, "notices": {},
            "overdue": {}, "walkins": {"parties": 0, "people": 0}, "needs_due": [], "vip_arrived": []}


def _bucket(p: dict[str, Any], key: str, minute: int, n: int) -> None:
    b = p[key]
    old = b.get(minute)
    if old is not None:
        b[minute] = old + n
        return
    last = p["last_min"]
    if minute > last:
        # Keys always lie in (last - WINDOW_MIN, last], so only the minutes that slid out need
        # deleting: the cost per new minute is the step, not the size of the curve.
        arr, dep = p["arrivals_by_min"], p["departures_by_min"]
        if minute - last >= WINDOW_MIN:
            arr.clear()
            dep.clear()
        else:
            for m in range(last - WINDOW_MIN + 1, minute - WINDOW_MIN + 1):
                arr.pop(m, None)
                dep.pop(m, None)
        p["last_min"] = minute
    elif minute <= last - WINDOW_MIN:
        return  # a clock step back past the window: the totals count it, the curve cannot
    b[minute] = n


def _guest_arrival(s: State, ev: Any, b: dict, ms: int) -> None:
    n, p = b["count"], s.people
    p["arrivals"] += n
    p["headcount"] += n
    if b.get("vip_level"):
        p["vip_arrivals"] += n
    _bucket(p, "arrivals_by_min", ms // 60000, n)
    if b.get("guest_ref") in s.guests["list"]:
        _guest_seen(s, ev, b["guest_ref"], ms, "arrival", party=n, vip=b.get("vip_level") in ("A", "B"))


def _guest_departure(s: State, ev: Any, b: dict, ms: int) -> None:
    n, p = b["count"], s.people
    p["departures"] += n
    left = p["headcount"] - n
    p["headcount"] = left if left > 0 else 0
    _bucket(p, "departures_by_min", ms // 60000, n)


def _guest_checkin(s: State, ev: Any, b: dict, ms: int) -> None:
    n, p = b.get("party_size", 1), s.people
    p["checked_in"] += n
    if b.get("vip_level") in ("A", "B"):
        p["vip_arrivals"] += n
    if b.get("guest_ref") in s.guests["list"]:
        _guest_seen(s, ev, b["guest_ref"], ms, "checkin", party=n, vip=b.get("vip_level") in ("A", "B"))
    else:
        walkins = s.guests["walkins"]
        walkins["parties"] += 1
        walkins["people"] += n


def _car_in(s: State, ev: Any, b: dict, ms: int) -> None:
    n, c = b.get("count", 1), s.cars
    c["in"] += n
    c["on_site"] += n
    if b.get("vip"):
        c["vip"] += n
    plate = b.get("plate")
    if plate and s.guests["plates"]:
        ref = s.guests["plates"].get(plate_key(plate))
        if ref is not None:
            _guest_seen(s, ev, ref, ms, "car", vip=bool(b.get("vip")))


def _car_out(s: State, ev: Any, b: dict, ms: int) -> None:
    n, c = b.get("count", 1), s.cars
    c["out"] += n
    left = c["on_site"] - n
    c["on_site"] = left if left > 0 else 0


def _lot_occupancy(s: State, ev: Any, b: dict, ms: int) -> None:
    lot = s.lots.get(b["lot"])
    if lot is None:
        return
    cap = lot["capacity"]
    occupied, delta = b.get("occupied", -1), b.get("delta", 0)
    if occupied >= 0:
        value = occupied
    elif delta:
        value = lot["occupied"] + delta
    elif b.get("full"):
        value = cap
    else:
        return
    # Twice the capacity still shows "over" while a miscount cannot run the figure away.
    lot["occupied"] = 0 if value < 0 else min(value, cap * 2)
    lot["updated_ms"] = ms


def _space_assign(s: State, ev: Any, b: dict, ms: int) -> None:
    lot = s.lots.get(b["lot"])
    if lot is not None:
        lot["assigned"] += 1


def _zone_enter(s: State, ev: Any, b: dict, ms: int) -> None:
    zone = s.zones.get(b["zone"])
    if zone is not None:
        zone["count"] += b["count"]
        zone["updated_ms"] = ms


def _zone_exit(s: State, ev: Any, b: dict, ms: int) -> None:
    zone = s.zones.get(b["zone"])
    if zone is not None:
        left = zone["count"] - b["count"]
        zone["count"] = left if left > 0 else 0
        zone["updated_ms"] = ms


def _zone_count(s: State, ev: Any, b: dict, ms: int) -> None:
    zone = s.zones.get(b["zone"])
    if zone is not None:
        zone["count"] = max(0, b["count"])
        zone["updated_ms"] = ms


def _service_request(s: State, ev: Any, b: dict, ms: int) -> None:
    s.totals["services"] += 1
    s.services.append({"id": ev.gseq, "station": ev.station, "ms": ms, "service": b["service"],
                       "where": b.get("where", ""), "note": b.get("note", "")})


def _damage_report(s: State, ev: Any, b: dict, ms: int) -> None:
    loss = bool(b.get("loss"))
    s.totals["damages"] += 1
    s.totals["losses"] += loss
    s.damages.append({"id": ev.gseq, "station": ev.station, "ms": ms, "item": b["item"],
                      "where": b.get("where", ""), "loss": loss, "note": b.get("note", "")})


def _sendoff_notice(s: State, ev: Any, b: dict, ms: int) -> None:
    s.totals["sendoffs"] += 1
    s.totals["sendoff_guests"] += b.get("count", 0)


def _incident_open(s: State, ev: Any, b: dict, ms: int) -> None:
    note = b.get("note", "")
    s.unresolved.setdefault(b["kind"], {})[ev.gseq] = b.get("severity", 2)
    s.incidents[ev.gseq] = {
        "id": ev.gseq, "kind": b["kind"], "severity": b.get("severity", 2),
        "location": b.get("location", ""), "note": note, "station": ev.station,
        "source": b.get("source", "station"), "opened_ms": ms, "status": "new", "department": "",
        "ack_ms": 0, "resolved_ms": 0, "history": [[ms, ev.station, "opened", note]],
    }


def _incident_update(s: State, ev: Any, b: dict, ms: int) -> None:
    inc = s.incidents.get(b["incident"])
    if inc is None:
        return  # the hub nacks these with E_UNKNOWN; an old log may still hold one
    status, dept, note = b.get("status", ""), b.get("assign", ""), b.get("note", "")
    history, who = inc["history"], ev.station
    if status:
        if status == "resolved":
            if inc["status"] != "resolved":
                inc["resolved_ms"] = ms
            s.unresolved.get(inc["kind"], {}).pop(inc["id"], None)
        else:
            inc["resolved_ms"] = 0  # reopened
            s.unresolved.setdefault(inc["kind"], {})[inc["id"]] = inc["severity"]
        inc["status"] = status
        history.append([ms, who, status, note])
    if dept:
        inc["department"] = dept
        if inc["status"] == "new":
            inc["status"] = "acknowledged"  # handing it to a department is taking notice of it
        history.append([ms, who, "assign:" + dept, "" if status else note])
    if not status and not dept:
        history.append([ms, who, "note", note])
    elif not inc["ack_ms"]:
        # The first change of status or owner is the response that response time measures;
        # a bare note (often the reporter adding detail) is not.
        inc["ack_ms"] = ms
    if len(history) > HISTORY_MAX:
        del history[1]


def _instruction(s: State, ev: Any, b: dict, ms: int) -> None:
    # Epoch, seq and station time are kept so a welcome can resend it as the Committed it was.
    s.instructions[ev.gseq] = {
        "id": ev.gseq, "station": ev.station, "epoch": ev.epoch, "seq": ev.seq,
        "station_ms": ev.station_ms, "sent_ms": ms, "target": b.get("target", "all"),
        "text": b["text"], "ack_required": bool(b.get("ack_required")), "acks": {},
        "text_en": b.get("text_en", ""), "plan": b.get("plan", ""), "run": b.get("run", 0), "step": b.get("step", ""),
    }
    if b.get("gate"):   # an order to the gate (hold / resume), kept only where one was given
        s.instructions[ev.gseq]["gate"] = b["gate"]
    if b.get("guest"):
        s.instructions[ev.gseq].update(guest=b["guest"], notice=b.get("notice", ""))
        if b.get("notice"):
            _guest_notice(s, ev, b, ms)
    run = s.plans["runs"].get(b.get("run", 0))
    if run is not None:
        # What the plan engine sent for a step (or, once stood down, the all-clear: step ""), by
        # target, so that it sends each one once.
        step_id = b.get("step", "")
        if step_id:
            step = run["steps"].get(step_id)
            sent = step["sent"] if step is not None else None
        else:
            sent = run["all_clear_sent"] if run["stood_down"] is not None else None
        if sent is not None:
            sent.setdefault(b.get("target", "all"), ev.gseq)


def _instruction_ack(s: State, ev: Any, b: dict, ms: int) -> None:
    inst = s.instructions.get(b["instruction"])
    if inst is not None and ev.station not in inst["acks"]:
        inst["acks"][ev.station] = ms


def _note(s: State, ev: Any, b: dict, ms: int) -> None:
    s.notes.append({"id": ev.gseq, "station": ev.station, "ms": ms, "text": b["text"],
                    "department": b.get("department", "")})


def _alarm(s: State, ev: Any, b: dict, ms: int) -> None:
    who = b.get("station", "")
    s.totals["alarms"] += 1
    s.alarms.append({"id": ev.gseq, "ms": ms, "code": b["code"], "station": who, "reason": b.get("reason", "")})
    st = s.stations.get(who)
    if st is not None and b["code"].startswith("E_"):   # a rejection the station caused, not one about it
        st["rejected"] += 1


def _station_status(s: State, ev: Any, b: dict, ms: int) -> None:
    st = s.stations.get(b["station"])
    if st is None:
        return
    if st["status"] != b["status"]:
        st["status"] = b["status"]
        st["since_ms"] = ms
    heard = b.get("last_heard_ms", 0)
    if heard > st["last_heard_ms"]:
        st["last_heard_ms"] = heard


# --- contingency plans: what console.plans decided and what the desk and the posts did ----------

def _history(run: dict[str, Any], entry: list[Any]) -> None:
    history = run["history"]
    history.append(entry)
    if len(history) > HISTORY_MAX:
        del history[1]


def _plan_start(s: State, ev: Any, b: dict, ms: int) -> None:
    s.plans["requests"][ev.gseq] = {"id": ev.gseq, "plan": b["plan"], "note": b.get("note", ""),
                                    "by": ev.station, "ms": ms, "run": 0}


def _plan_started(s: State, ev: Any, b: dict, ms: int) -> None:
    p, plan, cause = s.plans, b["plan"], b.get("cause", "")
    steps = {}
    for st in b.get("steps", ()):
        steps[str(st["id"])] = {
            "id": str(st["id"]), "department": st.get("department", ""), "due_s": int(st.get("due_s", 0)),
            "posts": list(st.get("posts", ())), "do": st.get("do", ""), "do_en": st.get("do_en", ""),
            "say": st.get("say", ""), "say_en": st.get("say_en", ""), "gate": st.get("gate", ""),
            "status": "pending", "by": "", "at_ms": 0, "reason": "", "escalated_ms": 0, "sent": {},
        }
    request = b.get("request", 0)
    p["runs"][ev.gseq] = {
        "id": ev.gseq, "plan": plan, "name": b.get("name", ""), "name_en": b.get("name_en", ""),
        "owner": b.get("owner", ""), "cause": cause, "auto": bool(b.get("auto")), "request": request,
        "note": b.get("note", ""), "started_ms": ms, "steps": steps, "escalations": [], "stood_down": None,
        "all_clear": b.get("all_clear", ""), "all_clear_en": b.get("all_clear_en", ""), "all_clear_sent": {},
        "history": [[ms, ev.station, "started", cause]],
    }
    req = p["requests"].get(request)
    if req is not None and req["plan"] == plan:
        req["run"] = ev.gseq
    for prop in p["proposals"].values():   # starting a plan answers every open proposal of it
        if prop["plan"] == plan and prop["status"] == "open":
            prop.update(status="started", run=ev.gseq, closed_ms=ms)


def _plan_proposed(s: State, ev: Any, b: dict, ms: int) -> None:
    s.plans["proposals"][ev.gseq] = {
        "id": ev.gseq, "plan": b["plan"], "name": b.get("name", ""), "name_en": b.get("name_en", ""),
        "cause": b.get("cause", ""), "ms": ms, "status": "open", "run": 0, "closed_ms": 0, "by": "", "note": "",
    }


def _plan_step(s: State, ev: Any, b: dict, ms: int) -> None:
    run = s.plans["runs"].get(b["run"])
    step = run["steps"].get(b["step"]) if run is not None else None
    if step is None:
        return  # the hub nacks these with E_UNKNOWN; an old log may still hold one
    status, reason = b.get("status", "done"), b.get("reason", "")
    if step["status"] != status:   # a second "done" from another station of the post keeps the first
        step.update(status=status, by=ev.station, at_ms=ms, reason=reason)
    _history(run, [ms, ev.station, f"{status}:{step['id']}", reason])


def _plan_stand_down(s: State, ev: Any, b: dict, ms: int) -> None:
    p, note = s.plans, b.get("note", "")
    run = p["runs"].get(b["run"])
    if run is not None:
        if run["stood_down"] is None:
            run["stood_down"] = {"gseq": ev.gseq, "ms": ms, "by": ev.station, "note": note}
            _history(run, [ms, ev.station, "stood_down", note])
            p["closed"][run["plan"]] = [ev.gseq, ms]
        return
    prop = p["proposals"].get(b["run"])
    if prop is not None and prop["status"] == "open":   # standing a proposal down dismisses it
        prop.update(status="dismissed", closed_ms=ms, by=ev.station, note=note)
        p["closed"][prop["plan"]] = [ev.gseq, ms]


def _plan_escalated(s: State, ev: Any, b: dict, ms: int) -> None:
    run = s.plans["runs"].get(b["run"])
    step = run["steps"].get(b["step"]) if run is not None else None
    if step is None:
        return
    if not step["escalated_ms"]:
        step["escalated_ms"] = ms
    run["escalations"].append([ms, step["id"]])
    _history(run, [ms, ev.station, f"escalated:{step['id']}", ""])
    s.totals["alarms"] += 1
    s.alarms.append({"id": ev.gseq, "ms": ms, "code": "plan_overdue", "station": "",
                     "reason": f"{run['name_en'] or run['plan']} #{run['id']}: step {step['id']} is overdue"})


# --- readiness, duty roster and guests (console/readiness.py and console/guests_rules.py decide) -------

def _task_signoff(s: State, ev: Any, b: dict, ms: int) -> None:
    done = s.readiness["done"]
    first = done.get(b["task"])
    if first is None:
        done[b["task"]] = {"by": ev.station, "ms": ms, "note": b.get("note", ""), "gseq": ev.gseq, "more": 0}
    else:
        first["more"] += 1   # a second sign-off is logged; the first one stands


def _who_key(b: dict) -> str:
    return b.get("staff_no", "").strip() or b.get("name", "").strip()


def _staff_signin(s: State, ev: Any, b: dict, ms: int) -> None:
    name, no = b.get("name", "").strip(), b.get("staff_no", "").strip()
    if not name or not no:   # complete one from the roster, so the desk shows a name for "S101"
        for entry in s.event.get("roster", ()):
            if (no and entry.get("staff_no") == no) or (name and not no and entry.get("name") == name):
                name, no = name or entry.get("name", ""), no or entry.get("staff_no", "")
                break
    key = no or name
    on = s.roster["on"]
    for station, people in on.items():   # one person stands at one station at a time
        if station != ev.station:
            people.pop(key, None)
    on.setdefault(ev.station, {})[key] = {"name": name, "staff_no": no, "ms": ms}
    s.roster["last_in"][ev.station] = ms


def _staff_signout(s: State, ev: Any, b: dict, ms: int) -> None:
    people = s.roster["on"].get(ev.station, {})
    name, no = b.get("name", "").strip(), b.get("staff_no", "").strip()
    for key, who in list(people.items()):
        if (no and who["staff_no"] == no) or (name and who["name"] == name) or key in (no, name):
            del people[key]


def _guest_list(s: State, ev: Any, b: dict, ms: int) -> None:
    g = s.guests
    listed = {}
    for guest in b.get("guests", ()):
        if isinstance(guest, dict) and guest.get("ref"):
            listed[str(guest["ref"])] = guest
    g["list"] = listed
    g["plates"] = {plate_key(x["plate"]): ref for ref, x in listed.items() if x.get("plate")}
    g.update(digest=b.get("digest", ""), source=b.get("source", ""), listed_ms=ms)


def _guest_seen(s: State, ev: Any, ref: str, ms: int, how: str, party: int = 0, vip: bool = False) -> None:
    """A listed guest was seen: by a plate at the gate, an arrival or a check-in. The first sighting is the arrival."""
    g = s.guests
    guest = g["list"][ref]
    seen = g["arrived"].get(ref)
    if seen is None:
        post = s.stations.get(ev.station, {}).get("post", "")
        seen = g["arrived"][ref] = {"ms": ms, "station": ev.station, "post": post, "how": how, "gseq": ev.gseq,
                                    "party": party or int(guest.get("party", 1) or 1), "vip": vip,
                                    "checked_in": False, "checkin_ms": 0}
        if guest.get("needs"):
            g["needs_due"].append(ref)
    elif vip:
        seen["vip"] = True
    if how == "checkin":
        seen.update(checked_in=True, checkin_ms=seen["checkin_ms"] or ms, party=party or seen["party"])
    if (seen["vip"] or guest.get("level") in ("A", "B")) and ref not in g["vip_arrived"]:
        g["vip_arrived"].append(ref)   # the hand-off rule looks at these only, not at every arrival


def _guest_notice(s: State, ev: Any, b: dict, ms: int) -> None:
    g, ref, target = s.guests, b["guest"], b.get("target", "all")
    link = "host" if target.startswith("station.") else target.partition(".")[2] or target
    g["notices"].setdefault(ref, {}).setdefault(f"{b['notice']}:{link}", ev.gseq)
    if link == "lobby" and ref in g["needs_due"]:   # a VIP notice to the lobby carries the needs too
        g["needs_due"].remove(ref)


_OVERDUE_CODE = {"task": "task_overdue", "roster": "post_unstaffed", "handoff": "vip_no_ack"}


def _overdue(s: State, ev: Any, b: dict, ms: int) -> None:
    what, ref, target = b["what"], b["ref"], b.get("target", "")
    code = _OVERDUE_CODE[what]
    if what == "task":
        s.readiness["overdue"].setdefault(ref, ms)
        reason = f"blocking task {ref} is not signed off"
    elif what == "roster":
        s.roster["overdue"].setdefault(ref, ms)
        reason = f"nobody has signed in at {target} (roster: {ref})"
    else:
        s.guests["overdue"].setdefault(f"{ref}/{target}", ms)
        if target == "host":
            code = "host_unreachable"
        name = s.guests["list"].get(ref, {}).get("name", ref)
        reason = f"VIP {name} ({ref}): {target} has not acknowledged" if code == "vip_no_ack" \
            else f"VIP {name} ({ref}): the host is not signed in anywhere"
    s.totals["alarms"] += 1
    s.alarms.append({"id": ev.gseq, "ms": ms, "code": code, "station": target if what == "roster" else "",
                     "reason": reason, "what": what, "ref": ref, "target": target})


FOLD = {
    "guest_arrival": _guest_arrival, "guest_departure": _guest_departure, "guest_checkin": _guest_checkin,
    "car_in": _car_in, "car_out": _car_out, "lot_occupancy": _lot_occupancy, "space_assign": _space_assign,
    "zone_enter": _zone_enter, "zone_exit": _zone_exit, "zone_count": _zone_count,
    "service_request": _service_request, "damage_report": _damage_report, "sendoff_notice": _sendoff_notice,
    "incident_report": _incident_open, "incident_open": _incident_open, "incident_update": _incident_update,
    "instruction": _instruction, "instruction_ack": _instruction_ack, "note": _note,
    "alarm": _alarm, "station_status": _station_status,
    "plan_start": _plan_start, "plan_started": _plan_started, "plan_proposed": _plan_proposed,
    "plan_step": _plan_step, "plan_stand_down": _plan_stand_down, "plan_escalated": _plan_escalated,
    "task_signoff": _task_signoff, "staff_signin": _staff_signin, "staff_signout": _staff_signout,
    "guest_list": _guest_list, "overdue": _overdue,
}
