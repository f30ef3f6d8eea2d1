"""Replies and publications cut to size: welcomes, instruction pages, snapshot pages, guest pages, feed events, presence.

No message the hub sends may exceed what clients are told to accept (protocols/bounds.py): a
reply at most `reply_max(max_message_bytes)`, a publication at most FEED_MAX. What does not fit
is paged (the client asks for the next page) or, on the feed, sent without its body. Knows the
codec and the state; knows no sockets and no storage.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from console.core import state as fold
from console.core.station_view import targets
from console.event import guests as guest_file
from protocols import bounds, codec
from protocols.messages import Committed, GuestPage, InstructionPage, Presence, Snapshot, Welcome
from protocols.session import REPLIES

ROOM = 1024            # bytes a page leaves under its limit for the frames, the header and the map around the items
SNAPSHOTS_KEPT = 8     # built snapshots kept so that each client can fetch every page of the one it began
SNAPSHOT_BYTES_KEPT = 64 * 1024 * 1024


def fit(items: list[Any], budget: int) -> int:
    """How many of `items`, from the first, pack into `budget` bytes (at least one, so a page always moves on)."""
    used = 0
    for n, item in enumerate(items):
        used += len(codec.pack(item))
        if used > budget:
            return max(1, n)
    return len(items)


def paginate(entries: list[Any], budget: int) -> list[list[Any]]:
    """Entries in pages whose packed size stays under `budget` bytes (always at least one page)."""
    pages: list[list[Any]] = []
    rest = entries
    while rest or not pages:
        n = fit(rest, budget)
        pages.append(rest[:n])
        rest = rest[n:]
    return pages


def open_instructions(state: fold.State, station_id: str, post: str) -> list[dict[str, Any]]:
    """What a station must hold after a (re)connect, oldest first: the instructions still open for it
    and the newest gate order (hold or resume) addressed to it, so a gate that starts with an empty
    outbox knows at once whether it is holding the cars."""
    listed = fold.instructions_for(state, station_id, post)
    heard = targets(station_id, post)
    gate = max((i for i in state.instructions.values() if i.get("gate") and i["target"] in heard),
               key=lambda i: i["id"], default=None)
    if gate is not None and all(x["gseq"] != gate["id"] for x in listed):
        listed.append(_as_event(gate))
        listed.sort(key=lambda x: x["gseq"])
    return listed


def _as_event(i: dict[str, Any]) -> dict[str, Any]:
    """An instruction of the state as a welcome lists it: the Committed it was (as instructions_for makes them)."""
    return {"gseq": i["id"], "station": i["station"], "epoch": i["epoch"], "seq": i["seq"], "type": "instruction",
            "station_ms": i["station_ms"], "recv_ms": i["sent_ms"], "body": fold._instruction_body(i)}


def welcome(base: Welcome, instructions: list[dict[str, Any]], budget: int) -> Welcome:
    """The welcome with as many of `instructions` as fit under `budget`; `instructions_more` if not all did."""
    room = budget - ROOM - REPLIES.size(base)
    n = fit(instructions, room) if instructions and room > 0 else 0
    if room <= 0 or len(codec.pack(instructions[:n])) > room:
        n = 0
    return Welcome(**{**codec.body_of(base), "instructions": instructions[:n], "instructions_more": n < len(instructions)})


def instruction_page(instructions: list[dict[str, Any]], after: int, budget: int) -> InstructionPage:
    rest = [i for i in instructions if i["gseq"] > after]
    n = fit(rest, budget - ROOM)
    return InstructionPage(instructions=rest[:n], more=n < len(rest))


class Snapshots:
    """Snapshots packed once per (shape, gseq) and cut into pages, kept a while so every page of one can be fetched.

    `shape` is "desk" or "station:<id>". A request for page 0, or for a gseq no longer kept, gets
    page 0 of the picture as it is now; a client seeing a gseq it did not ask for starts again.
    """

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, int], list[bytes]] = OrderedDict()

    def page(self, shape: str, gseq: int, want_gseq: int, page: int, budget: int,
             build: Callable[[], dict[str, Any]]) -> tuple[Snapshot, bool]:
        """(the page, True when it had to be built now)."""
        kept = self._kept.get((shape, want_gseq)) if page > 0 else None
        built = False
        if kept is None:
            page, want_gseq = 0, gseq
            kept = self._kept.get((shape, gseq))
            if kept is None:
                data = codec.pack(build())
                size = max(1, budget - ROOM)
                kept = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
                self._keep((shape, gseq), kept)
                built = True
        self._kept.move_to_end((shape, want_gseq))
        page = min(page, len(kept) - 1)
        return Snapshot(gseq=want_gseq, page=page, pages=len(kept), data=kept[page]), built

    def would_build(self, shape: str, gseq: int, want_gseq: int, page: int) -> bool:
        if page > 0 and (shape, want_gseq) in self._kept:
            return False
        return (shape, gseq) not in self._kept

    def _keep(self, key: tuple[str, int], pages: list[bytes]) -> None:
        self._kept[key] = pages
        while len(self._kept) > SNAPSHOTS_KEPT or (
                len(self._kept) > 1 and sum(len(p) for v in self._kept.values() for p in v) > SNAPSHOT_BYTES_KEPT):
            self._kept.popitem(last=False)


class GuestPages:
    """The guest list as stations keep it (no plates), cut into pages once per version."""

    def __init__(self) -> None:
        self._pages: tuple[str, list[list[dict[str, Any]]]] = ("", [])

    def page(self, guests: dict[str, Any], digest: str, page: int, budget: int) -> GuestPage:
        if not guests["digest"] or digest == guests["digest"]:
            return GuestPage(digest=guests["digest"], page=0, pages=0, count=len(guests["list"]))
        if self._pages[0] != guests["digest"]:
            self._pages = (guests["digest"], paginate([guest_file.for_station(x) for x in guests["list"].values()],
                                                      budget - ROOM))
        pages = self._pages[1]
        page = min(page, len(pages) - 1)
        return GuestPage(digest=guests["digest"], page=page, pages=len(pages), count=len(guests["list"]),
                         guests=pages[page])


def publication(topic: str, committed: Committed) -> list[bytes]:
    """An event on the PUB; one too large for FEED_MAX goes out without its body (`cut`), and a desk that
    gets it fetches a snapshot instead (a guest list of thousands is the usual case)."""
    frames = REPLIES.topic_frames(topic, committed)
    if sum(len(f) for f in frames) <= bounds.FEED_MAX:
        return frames
    return REPLIES.topic_frames(topic, Committed(**{**codec.body_of(committed), "body": {}, "cut": True}))


def presence(server_ms: int, stations: dict[str, dict[str, Any]], gseq: int,
             pair: dict[str, Any] | None = None) -> list[list[bytes]]:
    """Presence for every station, in as many messages as FEED_MAX needs (each names some stations);
    each carries the hub pair's status (two hubs, 5.13; {} with one hub)."""
    ids = list(stations)
    out = []
    for chunk in paginate([[sid, stations[sid]] for sid in ids], bounds.FEED_MAX - ROOM):
        out.append(REPLIES.topic_frames("presence", Presence(server_ms=server_ms, stations=dict(chunk), gseq=gseq,
                                                             pair=pair or {})))
    return out
