"""How the VIP flows of the day change the picture (issue 16 item 4): the desk moving a guest's expected arrival, adding a delegation; pure."""
from __future__ import annotations

from typing import Any

from console.core.guests_check import initials, plate_key
from console.core.state.fold_ops import guest_seen
from console.core.state.model import State


def _guest_expect(s: State, ev: Any, b: dict, ms: int) -> None:
    """The newest expectation counts; the first one (the list's) and every change stay for the record."""
    ref = b.get("guest_ref", "")
    guest = s.guests["list"].get(ref)
    if guest is None:
        return   # the hub refuses these (semantics); an old log may still hold one
    before = expected_ms(s, ref)
    changes = s.guests.setdefault("expected", {}).setdefault(ref, {"listed_ms": before, "changes": []})
    changes["changes"].append({"ms": int(b.get("arrive_ms", 0)), "was": before, "by": ev.station, "at": ms,
                               "note": b.get("note", "")})


def expected_ms(s: State, ref: str) -> int:
    """A listed guest's newest expected arrival (epoch ms; 0: the list gives no time and nobody set one)."""
    changed = s.guests.get("expected", {}).get(ref)
    if changed and changed["changes"]:
        return int(changed["changes"][-1]["ms"])
    return int(s.guests["list"].get(ref, {}).get("arrive_ms", 0) or 0)


def added_ref(gseq: int) -> str:
    """A desk-added party's reference: the log's sequence makes it unique (D1234); staff see the name."""
    return f"D{gseq}"


def _guest_add(s: State, ev: Any, b: dict, ms: int) -> None:
    """A delegation not on the list joins it (and stays when the list is imported again); here now, it arrives."""
    g, ref = s.guests, added_ref(ev.gseq)
    name = b.get("name", "")
    first, pinyin = initials(name)
    guest = {"ref": ref, "name": name, "org": b.get("org", ""), "level": b.get("level", "A"),
             "party": int(b.get("party", 1) or 1), "arrive": "", "arrive_ms": int(b.get("arrive_ms", 0) or 0),
             "via": "", "host": b.get("host", ""), "plate": b.get("plate", ""), "needs": [], "needs_note": "",
             "notes": b.get("note", ""), "initials": first, "pinyin": pinyin, "row": 0, "by": ev.station}
    g.setdefault("added", {})[ref] = guest
    g["list"][ref] = guest
    if guest["plate"]:
        g["plates"][plate_key(guest["plate"])] = ref
    if b.get("at"):
        guest_seen(s, ev, ref, ms, "desk", party=guest["party"])
        g["arrived"][ref]["post"] = b["at"]   # the hand-off goes to the posts after the one they are at


FOLD_VIP = {"guest_expect": _guest_expect, "guest_add": _guest_add}
