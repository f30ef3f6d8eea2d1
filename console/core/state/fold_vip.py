"""How the VIP flows of the day change the picture (issue 16 item 4): the desk moving a guest's expected arrival; pure."""
from __future__ import annotations

from typing import Any

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


FOLD_VIP = {"guest_expect": _guest_expect}
