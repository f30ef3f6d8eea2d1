"""How each logged event type changes the picture (console.core.state's per-type half); no sockets, database, screen or clock.

Each function takes (state, event, body, recv_ms) and mutates the state in place. It may raise
only on a body that broke the schema; apply counts that as a fault. Station text is stored as
given, never formatted or evaluated. The plan, readiness, roster and guest-list folds live in
console.core.state.fold_ops; `FOLD` here maps every type, theirs included.
"""
from __future__ import annotations

from typing import Any

from console.core.state import fold_services as services
from console.core.guests_check import plate_key
from console.core.state.fold_ops import FOLD_OPS, HISTORY_MAX, guest_notice, guest_seen
from console.core.state.fold_people import person
from console.core.state.fold_vip import FOLD_VIP
from console.core.state.fold_phones import FOLD_PHONES
from console.core.state.fold_prep import FOLD_PREP
from console.core.state.model import State
from console.core.state.sendoff_fold import departed, sendoff_acked, sendoff_link, sendoff_notice
from protocols import eventtime, orders

WINDOW_MIN = 120      # minutes of arrival/departure curve kept in memory; the report reads the log
DOOR_POSTS = ("gate", "concierge")   # where people are counted in (docs/PEOPLE.md)
VIP_LEVELS = ("A", "B")              # level C is an ordinary listed guest


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


# --- the people ledger (docs/PEOPLE.md): the door counts, the sign-in desk signs in ---------------

def _party(s: State, ref: str) -> dict[str, int] | None:
    """What the ledger knows of the listed party with this reference: counted at the door, checked in, as VIP.

    Only references on the guest list are tracked: they are what two reports can share, and they
    bound what the picture (and every desk's snapshot) carries.
    """
    if not ref or ref not in s.guests["list"]:
        return None
    return s.people.setdefault("parties", {}).setdefault(ref, {"door": 0, "checked_in": 0, "vip": 0})


def _count_in(s: State, n: int, ms: int) -> None:
    p = s.people
    p["arrivals"] += n
    p["headcount"] += n
    _bucket(p, "arrivals_by_min", ms // 60000, n)


def _count_vip(p: dict[str, Any], party: dict[str, int] | None, level: str, n: int) -> None:
    """A VIP party counts once, as the largest size any report gave it (F6 may greet one of three)."""
    if level not in VIP_LEVELS:
        return
    more = n - party["vip"] if party is not None else n
    if more > 0:
        p["vip_arrivals"] += more
        if party is not None:
            party["vip"] = n


def _guest_arrival(s: State, ev: Any, b: dict, ms: int) -> None:
    n, ref = b["count"], b.get("guest_ref", "")
    party = _party(s, ref)
    _count_in(s, n, ms)
    if party is not None:
        party["door"] += n
    _count_vip(s.people, party, b.get("vip_level", ""), n)
    if ref in s.guests["list"]:
        guest_seen(s, ev, ref, ms, "arrival", party=n, vip=b.get("vip_level") in VIP_LEVELS)


def _guest_departure(s: State, ev: Any, b: dict, ms: int) -> None:
    n, p = b["count"], s.people
    p["departures"] += n
    left = p["headcount"] - n
    p["headcount"] = left if left > 0 else 0
    _bucket(p, "departures_by_min", ms // 60000, n)
    if b.get("guest_ref"):
        departed(s, b["guest_ref"], ms)


def _guest_checkin(s: State, ev: Any, b: dict, ms: int) -> None:
    n, p, ref = b.get("party_size", 1), s.people, b.get("guest_ref", "")
    party = _party(s, ref)
    if party is None or not party["checked_in"]:
        p["checked_in"] += n
        if party is not None:
            party["checked_in"] = n
    at_door = s.stations.get(ev.station, {}).get("post") in DOOR_POSTS
    if at_door and not (party and party["door"]):   # checking a party in at the door is its door count
        _count_in(s, n, ms)
        if party is not None:
            party["door"] = n
    _count_vip(p, party, b.get("vip_level", ""), n)
    if ref in s.guests["list"]:
        guest_seen(s, ev, ref, ms, "checkin", party=n, vip=b.get("vip_level") in VIP_LEVELS)
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
    if b.get("release"):   # 贵宾放行 through a hold: counted apart (the log keeps the plate)
        c["released"] = c.get("released", 0) + n
    plate = b.get("plate")
    if plate and s.guests["plates"]:
        ref = s.guests["plates"].get(plate_key(plate))
        if ref is not None:
            guest_seen(s, ev, ref, ms, "car", vip=bool(b.get("vip")))


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
        if b.get("vip"):   # a reserved VIP space taken: by which car, and whose it is when the list knows the plate
            ref = s.guests["plates"].get(plate_key(b.get("plate", ""))) if b.get("plate") else None
            lot.setdefault("vip_taken", {}).setdefault(b.get("space", ""), {
                "plate": b.get("plate", ""), "guest": ref or "", "station": ev.station, "ms": ms})


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
    services.fold_request(s, ev, b, ms)


def _damage_report(s: State, ev: Any, b: dict, ms: int) -> None:
    loss = bool(b.get("loss"))
    s.totals["damages"] += 1
    s.totals["losses"] += loss
    s.damages.append({"id": ev.gseq, "station": ev.station, "ms": ms, "item": b["item"],
                      "where": b.get("where", ""), "loss": loss, "note": b.get("note", "")})


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
        if inc.get("told_n", 0) > 1:
            inc["told_n"] -= 1   # what was told moved up with it


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
    if b.get("gate") or (b.get("run") and not b.get("step")):
        orders.apply(s.holds, {**b, "id": ev.gseq, "by": ev.station, "ms": ms}, lambda sid: post_of(s, sid))
    if b.get("guest") or b.get("notice"):   # a walk-in party's send-off names no guest
        s.instructions[ev.gseq].update(guest=b.get("guest", ""), notice=b.get("notice", ""))
        if b.get("notice") in services.SERVICE_NOTICES:
            services.fold_notice(s, b, ev.gseq)
        elif b.get("notice") == "incident":
            _incident_told(s, b)
        elif b.get("notice") in ("vip", "needs"):   # a send-off's links are kept by sendoff_link
            guest_notice(s, ev, b, ms)
    if b.get("sendoff"):
        sendoff_link(s, ev, b, ms)
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


def _incident_told(s: State, b: dict) -> None:
    """The hub told a reporter what became of its incident (console/core/incident_notices.py): all of its
    history up to now has been told, so the next notice says only what follows."""
    inc = s.incidents.get(int(b["guest"])) if str(b.get("guest", "")).isdigit() else None
    if inc is not None:
        inc["told_n"] = len(inc["history"])


def post_of(s: State, station: str) -> str:
    return s.stations.get(station, {}).get("post", "")


def _instruction_ack(s: State, ev: Any, b: dict, ms: int) -> None:
    inst = s.instructions.get(b["instruction"])
    if inst is not None and ev.station not in inst["acks"]:
        inst["acks"][ev.station] = ms
        inst.setdefault("ack_by", {})[ev.station] = person(s, ev, b)   # issue 16 item 3: who confirmed
        if inst.get("sendoff"):
            sendoff_acked(s, inst, ms)
        services.fold_notice_ack(s, inst, ev, ms)


def _note(s: State, ev: Any, b: dict, ms: int) -> None:
    s.notes.append({"id": ev.gseq, "station": ev.station, "ms": ms, "text": b["text"],
                    "department": b.get("department", "")})


def _alarm(s: State, ev: Any, b: dict, ms: int) -> None:
    who = b.get("station", "")
    if b.get("count", 1) > 1 and _alarm_again(s, ev, b, ms):
        return
    s.totals["alarms"] += 1
    s.alarms.append({"id": ev.gseq, "ms": ms, "code": b["code"], "station": who, "reason": b.get("reason", ""),
                     "reason_zh": b.get("reason_zh", ""), "count": b.get("count", 1),
                     "first_ms": b.get("first_ms", 0), "last": ev.gseq})
    st = s.stations.get(who)
    if st is not None and b["code"].startswith("E_"):   # a rejection the station caused, not one about it
        st["rejected"] += b.get("count", 1)


def _alarm_again(s: State, ev: Any, b: dict, ms: int) -> bool:
    """A repeat of an alarm (the hub coalesces them, console/hub/guard.py): the alarm it repeats is updated in
    place, keeping its id (no new alert), and its previous line leaves the timeline, so the desk shows
    one line per cause with the running count. False when that alarm is no longer held."""
    who = b.get("station", "")
    alarm = next((a for a in reversed(s.alarms) if a["code"] == b["code"] and a["station"] == who
                  and a.get("first_ms") == b.get("first_ms", 0)), None)
    if alarm is None:
        return False
    gone = next((r for r in s.recent if r["gseq"] == alarm.get("last")), None)
    if gone is not None:
        s.recent.remove(gone)
    st = s.stations.get(who)
    if st is not None and b["code"].startswith("E_"):
        st["rejected"] += max(0, b["count"] - alarm.get("count", 1))
    alarm.update(ms=ms, reason=b.get("reason", ""), reason_zh=b.get("reason_zh", ""), count=b["count"], last=ev.gseq)
    return True


def _drill_clock(s: State, ev: Any, b: dict, ms: int) -> None:
    s.clock = {"at": ev.recv_ms, "start": b["start_ms"], "ms_per_s": b["ms_per_s"], "scenario": b.get("scenario", "")}


OUTAGES_MAX = 100


def _hub_started(s: State, ev: Any, b: dict, ms: int) -> None:
    hub = s.hub
    down = b.get("down_from_ms", 0)
    if b.get("previous") in ("stop", "crash") and down:
        hub["outages"].append({"from_ms": eventtime.drill_ms(s.clock, down), "to_ms": ms, "crash": b["previous"] == "crash"})
        del hub["outages"][:-OUTAGES_MAX]
    hub["up_ms"], hub["up_at"] = ms, ev.recv_ms   # up_at on the real clock: liveness counts from it


def _hub_switch(s: State, ev: Any, b: dict, ms: int) -> None:
    """Two hubs (PROTOCOL.md 5.13): one line per switch for the summary; `switches` is absent from older pictures."""
    switches = s.hub.setdefault("switches", [])
    switches.append({"at_ms": ms, "era": b["era"], "hub": b["hub"], "after_gseq": b.get("after_gseq", 0),
                     "reason": b.get("reason", "")})
    del switches[:-OUTAGES_MAX]


def _station_clock(s: State, ev: Any, b: dict, ms: int) -> None:
    st = s.stations.get(b["station"])
    if st is not None:
        st["offset_ms"] = b["offset_ms"]


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
    if b["status"] == "closed":   # closed until heard after this (state.liveness)
        st["closed_heard_ms"] = max(heard, st["last_heard_ms"])



FOLD = {
    "guest_arrival": _guest_arrival, "guest_departure": _guest_departure, "guest_checkin": _guest_checkin,
    "car_in": _car_in, "car_out": _car_out, "lot_occupancy": _lot_occupancy, "space_assign": _space_assign,
    "zone_enter": _zone_enter, "zone_exit": _zone_exit, "zone_count": _zone_count,
    "service_request": _service_request, "damage_report": _damage_report, "sendoff_notice": sendoff_notice,
    "incident_report": _incident_open, "incident_open": _incident_open, "incident_update": _incident_update,
    "instruction": _instruction, "instruction_ack": _instruction_ack, "note": _note,
    "alarm": _alarm, "station_status": _station_status, "drill_clock": _drill_clock,
    "hub_started": _hub_started, "station_clock": _station_clock, "hub_stopped": lambda s, ev, b, ms: None,
    "hub_switch": _hub_switch,
    "service_update": services.fold_update,
    **FOLD_OPS,
    **FOLD_VIP,
    **FOLD_PREP,
    **FOLD_PHONES,
}
