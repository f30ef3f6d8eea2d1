"""How the send-off (恭送) changes the picture: a party about to leave, its links, their acks, the guest gone; pure.

The other half of console/core/sendoff.py, which decides; these folds only record. A send-off is keyed
by its sendoff_notice's gseq (as text, so the snapshot's maps keep string keys); console.core.state.fold
and fold_ops call in here, and this module imports only the model.
"""
from __future__ import annotations

from typing import Any

from console.core.state.model import State

VIP_LEVELS = ("A", "B")


def sendoff_notice(s: State, ev: Any, b: dict, ms: int) -> None:
    """客人即将离开: a party named by its list reference, or a walk-in party by a count and a note."""
    g, ref = s.guests, b.get("guest_ref", "")
    guest = g["list"].get(ref) if ref else None
    seen = g["arrived"].get(ref, {}) if guest is not None else {}
    party = b.get("count", 0)
    if guest is not None and not party:
        party = seen.get("party") or int(guest.get("party", 1) or 1)
    s.totals["sendoffs"] += 1
    s.totals["sendoff_guests"] += party
    vip = bool(b.get("vip") or seen.get("vip") or (guest or {}).get("level") in VIP_LEVELS)
    key = str(ev.gseq)
    # The reference is kept even when this fold has no list (a drill's scorecard folds only its own part of
    # the log): the hub refused any reference its list did not have.
    g["sendoffs"][key] = {"id": ev.gseq, "ref": ref, "note": b.get("note", ""),
                          "party": party, "vip": vip, "by": ev.station,
                          "post": s.stations.get(ev.station, {}).get("post", "desk"), "ms": ms,
                          "links": {}, "complete_ms": 0, "departed_ms": 0}
    g["sendoffs_open"].append(key)


def sendoff_link(s: State, ev: Any, b: dict, ms: int) -> None:
    """The hub sent one link of a send-off chain (an instruction with `sendoff` set): the first per post stands;
    one to a station (`station.<id>`) is the party's host's."""
    so = s.guests["sendoffs"].get(str(b["sendoff"]))
    if so is not None:
        s.instructions[ev.gseq]["sendoff"] = b["sendoff"]
        kind, _, name = b.get("target", "").partition(".")
        so["links"].setdefault("host" if kind == "station" else name, ev.gseq)


def sendoff_acked(s: State, inst: dict[str, Any], ms: int) -> None:
    """A link was acknowledged: the chain is complete once every link it sent has been."""
    key = str(inst.get("sendoff", 0))
    so = s.guests["sendoffs"].get(key)
    if so is None or so["complete_ms"]:
        return
    if all(s.instructions.get(gseq, {}).get("acks") for gseq in so["links"].values()):
        so["complete_ms"] = ms
        _close(s, key)


def departed(s: State, ref: str, ms: int) -> None:
    """A guest_departure named a guest: the guest has left (离开) and their send-off, if any, is closed."""
    g, seen_off = s.guests, False
    for key, so in g["sendoffs"].items():   # a chain complete before the guest left still learns when they did
        if so["ref"] == ref and not so["departed_ms"]:
            so["departed_ms"], seen_off = ms, True
            _close(s, key)
    if seen_off or ref in g["list"]:   # any other text a post typed as a reference is not kept
        g["departed"].setdefault(ref, ms)


def _close(s: State, key: str) -> None:
    if key in s.guests["sendoffs_open"]:
        s.guests["sendoffs_open"].remove(key)


def overdue(s: State, ev: Any, b: dict, ms: int) -> None:
    """One link of a send-off not acknowledged in time: one alarm, which the desk names by the party and the post."""
    key, link = b["ref"], b.get("target", "")
    s.guests["overdue"].setdefault(f"sendoff:{key}/{link}", ms)
    so = s.guests["sendoffs"].get(key, {})
    name = s.guests["list"].get(so.get("ref", ""), {}).get("name") or so.get("note") or f"#{key}"
    s.totals["alarms"] += 1
    s.alarms.append({"id": ev.gseq, "ms": ms, "code": "sendoff_no_ack", "station": "",
                     "reason": f"send-off of {name}: {link} has not acknowledged", "what": "sendoff",
                     "ref": key, "target": link})
