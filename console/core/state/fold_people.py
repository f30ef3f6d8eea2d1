"""Who did it: the person signed in at a terminal, kept with each confirmation and sign-off (issue 16 item 3); pure.

A terminal says who is signed in there (`person` on instruction_ack, plan_step and task_signoff, `by` on
service_update). An older terminal, or one that left it out, is named by the hub's own picture: the person
it last saw sign in at that station. "" when nobody is signed in there; the screens say so in words.
"""
from __future__ import annotations

from typing import Any

from console.core.state.model import State


def signed_in(s: State, station: str) -> str:
    """The name (else the staff number) of the person who signed in last at `station` and is still on; "" for nobody."""
    people = list((s.roster.get("on") or {}).get(station, {}).values())
    if not people:
        return ""
    last = max(people, key=lambda p: p.get("ms", 0))
    return str(last.get("name") or last.get("staff_no") or "")


def person(s: State, ev: Any, b: dict[str, Any], key: str = "person") -> str:
    """Who did what this event records: the name the terminal sent, else whoever the picture has signed in there."""
    said = str(b.get(key, "") or "").strip()
    return said or signed_in(s, ev.station)


def terminals(s: State) -> frozenset[str]:
    """The posts some station of the event stands at: a department among them has a terminal of its own."""
    return frozenset(str(st.get("post", "")) for st in s.event.get("stations", ()))
