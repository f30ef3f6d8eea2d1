"""How plan, readiness, duty-roster and guest-list events change the picture: console.core.state.fold's other half.

Same contract as console.core.state.fold: each fold takes (state, event, body, recv_ms) and mutates the
state in place, with no sockets, database, screen or clock. console.core.state.fold merges `FOLD_OPS`
into its `FOLD` and calls `guest_seen` / `guest_notice` from its own folds, so this module must
never import it.
"""
from __future__ import annotations

from typing import Any

from console.core.state import fold_services as services
from console.core.state.fold_people import person
from console.core.guests_check import plate_key
from console.core.state.model import State
from console.core.state.sendoff_fold import overdue as sendoff_overdue
from protocols import orders

HISTORY_MAX = 50      # per incident and per plan run; the first entry is always kept


# --- contingency plans: what console.core.plans decided and what the desk and the posts did ----------

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
            "confirmed": {},   # post -> {"by", "ms", "desk"}: the step is done when every post has confirmed
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
    _history(run, [ms, ev.station, f"{status}:{step['id']}", reason])
    if step["status"] != "pending":
        return   # settled already, or cancelled by the stand-down: logged, and it changes nothing
    who = person(s, ev, b)
    if status != "done":
        step.update(status=status, by=ev.station, at_ms=ms, reason=reason, person=who)
        return
    station = s.stations.get(ev.station)
    # A station confirms for its own post; a desk for the post it names, or for every post still open.
    posts = [station["post"]] if station is not None else [b["post"]] if b.get("post") else step["posts"]
    confirmed = step.setdefault("confirmed", {})
    for post in posts:
        if post in step["posts"] and post not in confirmed:   # another station of the post: the first stands
            confirmed[post] = {"by": ev.station, "ms": ms, "desk": station is None, "person": who}
    if all(p in confirmed for p in step["posts"]):
        step.update(status="done", by=ev.station, at_ms=ms, reason=reason, person=who)


def _plan_stand_down(s: State, ev: Any, b: dict, ms: int) -> None:
    p, note = s.plans, b.get("note", "")
    run = p["runs"].get(b["run"])
    if run is not None:
        if run["stood_down"] is None:
            run["stood_down"] = {"gseq": ev.gseq, "ms": ms, "by": ev.station, "note": note}
            _history(run, [ms, ev.station, "stood_down", note])
            p["closed"][run["plan"]] = [ev.gseq, ms]
            orders.lift_run(s.holds, run["id"])   # its holds end with it, whatever else holds the gate
            for step in run["steps"].values():    # what was still open is called off: nobody is late for it
                if step["status"] == "pending":
                    step.update(status="cancelled", by=ev.station, at_ms=ms)
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


# --- readiness, duty roster and guests (console/core/readiness.py and console/core/guests_rules.py decide) -------

def _task_signoff(s: State, ev: Any, b: dict, ms: int) -> None:
    done = s.readiness["done"]
    first = done.get(b["task"])
    if first is None:
        done[b["task"]] = {"by": ev.station, "ms": ms, "note": b.get("note", ""), "gseq": ev.gseq, "more": 0,
                           "person": person(s, ev, b)}
    else:
        first["more"] += 1   # a second sign-off is logged; the first one stands


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
    for ref, guest in g.get("added", {}).items():   # parties the desk added on the day stay (fold_vip)
        listed.setdefault(ref, guest)
    g["list"] = listed
    g["plates"] = {plate_key(x["plate"]): ref for ref, x in listed.items() if x.get("plate")}
    g.update(digest=b.get("digest", ""), source=b.get("source", ""), listed_ms=ms)


def guest_seen(s: State, ev: Any, ref: str, ms: int, how: str, party: int = 0, vip: bool = False) -> None:
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


def guest_notice(s: State, ev: Any, b: dict, ms: int) -> None:
    g, ref, target = s.guests, b["guest"], b.get("target", "all")
    link = "host" if target.startswith("station.") else target.partition(".")[2] or target
    g["notices"].setdefault(ref, {}).setdefault(f"{b['notice']}:{link}", ev.gseq)
    if link == "lobby" and ref in g["needs_due"]:   # a VIP notice to the lobby carries the needs too
        g["needs_due"].remove(ref)


_OVERDUE_CODE = {"task": "task_overdue", "roster": "post_unstaffed", "handoff": "vip_no_ack", "service": "service_late"}


def _overdue(s: State, ev: Any, b: dict, ms: int) -> None:
    what, ref, target = b["what"], b["ref"], b.get("target", "")
    if what == "sendoff":
        sendoff_overdue(s, ev, b, ms)
        return
    code = _OVERDUE_CODE[what]
    if what == "task":
        s.readiness["overdue"].setdefault(ref, ms)
        reason = f"blocking task {ref} is not signed off"
    elif what == "service":
        reason = services.fold_late(s, ref, ms)
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


FOLD_OPS = {
    "plan_start": _plan_start, "plan_started": _plan_started, "plan_proposed": _plan_proposed,
    "plan_step": _plan_step, "plan_stand_down": _plan_stand_down, "plan_escalated": _plan_escalated,
    "task_signoff": _task_signoff, "staff_signin": _staff_signin, "staff_signout": _staff_signout,
    "guest_list": _guest_list, "overdue": _overdue,
}
