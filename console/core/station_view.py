"""What a station may see of the picture: its own instructions, reports and roster, the shared figures; no other post's plates, no guest details. Pure.

A desk's snapshot is the whole state. A station's key is a post terminal's: it gets the same
shape (so `console.core.state.from_wire` reads it) with everything that is not its business left out:
other stations' reports (plates, notes), instructions addressed elsewhere, desk notes and alarms,
and the guest list (a station keeps its own, plate-free copy through guest pages).
"""
from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

from console.core import state as fold
from console.core.state.model import empty_guests, empty_roster


def targets(station_id: str, post: str) -> tuple[str, str, str]:
    """The instruction targets (and feed topics) a station hears."""
    return "all", f"post.{post}", f"station.{station_id}"


def station_view(state: fold.State, station_id: str, post: str, summary: dict[str, Any]) -> dict[str, Any]:
    """`to_wire` of the state as station `station_id` (at `post`) may see it; `summary` is its welcome's event."""
    mine = set(targets(station_id, post))

    def own(records: deque) -> deque:
        return deque((r for r in records if r.get("station") == station_id), maxlen=records.maxlen)

    guests = state.guests
    roster = empty_roster()
    for part in ("on", "last_in"):
        if station_id in state.roster.get(part, {}):
            roster[part][station_id] = state.roster[part][station_id]
    shaped = dataclasses.replace(
        state, event=summary,
        instructions={g: i for g, i in state.instructions.items() if i["target"] in mine},
        services=own(state.services), damages=own(state.damages), recent=own(state.recent),
        notes=deque(maxlen=state.notes.maxlen), alarms=deque(maxlen=state.alarms.maxlen), roster=roster,
        requests={g: r for g, r in state.requests.items() if r["station"] == station_id or r["owner"] == post},
        guests={**empty_guests(), "digest": guests["digest"], "source": guests["source"],
                "listed_ms": guests["listed_ms"]})
    return fold.to_wire(shaped)
