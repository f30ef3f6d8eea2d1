"""Guests on the day: the VIP hand-off and special needs as hub decisions, and the desk's view of who came; pure.

When a listed guest of reception level A or B arrives -- the gate reports the car's plate, or a
post checks the guest in -- the posts still ahead of them (parking, concierge, lobby and the model
unit where the event has one, after the post that saw them) and the named host (at the station where the host is signed in, else where
the host is rostered) each get a "VIP arriving" instruction with the level, party size and
special needs, to acknowledge. A link not acknowledged within `vip_ack_ms`, or a host who is on
duty nowhere, raises one `overdue` alarm. A guest with special needs who arrives otherwise gets
a "special needs" notice to the lobby (which passes it to catering).

`evaluate(state, now_ms)` returns these hub events; once folded they show in `state.guests`
and evaluating again returns nothing new. `view` and `chains` are what the desk's guest screen
shows. No sockets, database, screen or clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import readiness
from console.core.guests_check import NEEDS
from console.core.state.fold_vip import expected_ms
from console.core.state.fold_people import terminals
from protocols.i18n import t
from protocols.messages import MAX_TEXT, Instruction, Message, Overdue

if TYPE_CHECKING:
    from console.core.state import State

FLOW = ("gate", "parking", "concierge", "lobby", "model_unit")   # the way a guest comes in, to the show flat
LINKS = ("parking", "concierge", "lobby", "model_unit")           # the posts a hand-off may reach
STAFFED_ONLY = ("model_unit",)   # reached only where the event has such a station (not every event shows a flat)
LATE_MS = 15 * 60_000                               # past the expected time by this much: late ([hub] guest_late_min)
VIP_LEVELS = ("A", "B")


@dataclass(frozen=True)
class LinkView:
    link: str                   # parking | concierge | lobby | host
    target: str                 # post.<post>, station.<id>, or "" (host on duty nowhere)
    gseq: int                   # the instruction's id (0: not sent)
    sent_ms: int
    due_ms: int
    acked: tuple[tuple[str, int], ...]   # (station, ms) that acknowledged
    status: str                 # acked | waiting | overdue | unsent


@dataclass(frozen=True)
class GuestView:
    ref: str
    name: str
    org: str
    level: str
    party: int
    arrive: str
    arrive_ms: int
    via: str
    host: str
    plate: str
    needs: tuple[str, ...]
    needs_note: str
    notes: str
    status: str                 # arrived | late | expected
    arrived_ms: int = 0
    arrived_party: int = 0
    checked_in: bool = False
    station: str = ""           # the station that saw the guest first
    vip: bool = False           # a hand-off is (or will be) made for this guest
    links: tuple[LinkView, ...] = ()
    needs_sent: int = 0         # the "special needs" notice's instruction id
    departed_ms: int = 0        # when a guest_departure named them (离开), 0 while they are here
    moved: int = 0              # how often the desk moved the expected arrival (guest_expect); arrive_ms is the newest


@dataclass(frozen=True)
class Totals:
    listed: int
    listed_people: int
    arrived: int
    arrived_people: int
    late: int
    expected: int
    vip: int
    vip_arrived: int
    walkin_parties: int
    walkin_people: int
    links_open: int             # hand-off notices sent and not yet acknowledged
    links_overdue: int


def is_vip(guest: dict[str, Any], seen: dict[str, Any] | None) -> bool:
    return guest.get("level") in VIP_LEVELS or bool(seen and seen.get("vip"))


def links_after(post: str, state: State | None = None) -> tuple[str, ...]:
    """The hand-off posts still ahead of a guest first seen at `post` (none after the model unit or elsewhere);
    with the state, the model unit only where the event has a station there."""
    if post not in FLOW:
        return ()
    posts = {st.get("post") for st in state.stations.values()} if state is not None else set(STAFFED_ONLY)
    return tuple(p for p in FLOW[FLOW.index(post) + 1:] if p in LINKS and (p not in STAFFED_ONLY or p in posts))


def handoff_links(state: State, post: str) -> tuple[str, ...]:
    """The hand-off's links for a guest first seen at `post`: the posts ahead, then the greeting leaders'
    terminal (陪同领导) when the event has one (issue 16 item 3), wherever the guest was seen."""
    leaders = ("greeter",) if "greeter" in terminals(state) else ()
    return links_after(post, state) + leaders


def shown_links(state: State) -> tuple[str, ...]:
    """The hand-off links the desk shows a column for: the posts (the model unit where the event has one), the
    greeting leaders when they have a terminal, the host."""
    posts = {st.get("post") for st in state.stations.values()}
    return (*(p for p in LINKS if p not in STAFFED_ONLY or p in posts),
            *(("greeter",) if "greeter" in terminals(state) else ()), "host")


def host_station(state: State, host: str) -> str:
    return readiness.on_duty(state, host) or readiness.rostered_at(state, host) if host else ""


def needs_words(guest: dict[str, Any], lang: str) -> str:
    words = [t(f"need.{n}", lang) for n in guest.get("needs", ()) if n != "other" or not guest.get("needs_note")]
    if guest.get("needs_note"):
        words.append(guest["needs_note"])
    return t("guestrule.sep", lang).join(words)


def station_label(state: State, sid: str, lang: str) -> str:
    for st in state.event.get("stations", ()):
        if st.get("id") == sid:
            return (st.get("name_en") if lang == "en" else st.get("name")) or st.get("name") or sid
    return sid


def _text(kind: str, state: State, guest: dict[str, Any], seen: dict[str, Any], lang: str, link: str = "") -> str:
    org = guest.get("org", "")
    parts = [t(f"guestrule.head_{kind}", lang, level=guest.get("level") or "-", name=guest.get("name", ""),
               org=t("guestrule.org", lang, org=org) if org else "", party=seen.get("party") or guest.get("party", 1),
               via=t(f"post.{seen['post']}", lang) if seen.get("how") == "desk" and seen.get("post")   # added by a desk
               else station_label(state, seen.get("station", ""), lang))]
    needs = needs_words(guest, lang)
    if needs:
        parts.append(t("guestrule.needs", lang, needs=needs))
    if kind == "vip" and guest.get("host"):
        parts.append(t("guestrule.host", lang, host=guest["host"]))
    for phone in ("phone", "escort_phone"):   # whom a post calls: the party's contact, the escort
        if kind == "vip" and guest.get(phone):
            parts.append(t(f"guestrule.{phone}", lang, phone=guest[phone]))
    if guest.get("notes"):
        parts.append(t("guestrule.notes", lang, notes=" ".join(guest["notes"].split())[:120]))
    if kind == "vip" and link == "lobby" and guest.get("level") == "A":   # 一级接待: the leaders greet in the lobby
        parts.append(t("guestrule.greeters", lang))
    parts.append(t(f"guestrule.ask_{kind}", lang))
    return t("guestrule.sep2", lang).join(parts)[:MAX_TEXT]


def _notice(kind: str, target: str, ref: str, state: State, guest: dict[str, Any], seen: dict[str, Any]) -> Instruction:
    link = target.partition(".")[2] if target.startswith("post.") else ""
    return Instruction(target=target, text=_text(kind, state, guest, seen, "zh", link),
                       text_en=_text(kind, state, guest, seen, "en", link), ack_required=True, guest=ref, notice=kind)


# --- decisions -----------------------------------------------------------------------------------

def evaluate(state: State, now_ms: int) -> list[Message]:
    """The hand-off notices, special-needs notices and hand-off alarms to log now; [] when nothing is new."""
    g = state.guests
    listed, notices, alarmed = g["list"], g["notices"], g["overdue"]
    ack_ms = int(state.event.get("vip_ack_ms", 120_000))
    out: list[Message] = []
    for ref in g["vip_arrived"]:
        guest, seen = listed.get(ref), g["arrived"].get(ref)
        if guest is None or seen is None or not is_vip(guest, seen):
            continue
        sent = notices.get(ref, {})
        for link in handoff_links(state, seen.get("post", "")):
            gseq = sent.get(f"vip:{link}")
            if gseq is None:
                out.append(_notice("vip", f"post.{link}", ref, state, guest, seen))
            else:
                out += _late(state, ref, link, gseq, ack_ms, now_ms, alarmed)
        if guest.get("host"):
            gseq = sent.get("vip:host")
            if gseq is None:
                station = host_station(state, guest["host"])
                if station:
                    out.append(_notice("vip", f"station.{station}", ref, state, guest, seen))
                elif now_ms > seen["ms"] + ack_ms and f"{ref}/host" not in alarmed:
                    out.append(Overdue(what="handoff", ref=ref, target="host", due_ms=seen["ms"] + ack_ms))
            else:
                out += _late(state, ref, "host", gseq, ack_ms, now_ms, alarmed)
    for ref in g["needs_due"]:
        guest, seen = listed.get(ref), g["arrived"].get(ref)
        if guest is None or seen is None or "needs:lobby" in notices.get(ref, {}):
            continue
        if is_vip(guest, seen) and "lobby" in links_after(seen.get("post", ""), state):
            continue   # the VIP notice to the lobby carries the needs
        out.append(_notice("needs", "post.lobby", ref, state, guest, seen))
    return out


def _late(state: State, ref: str, link: str, gseq: int, ack_ms: int, now_ms: int, alarmed: dict) -> list[Message]:
    inst = state.instructions.get(gseq)
    if inst is None or inst["acks"] or f"{ref}/{link}" in alarmed:
        return []
    due = inst["sent_ms"] + ack_ms
    return [Overdue(what="handoff", ref=ref, target=link, due_ms=due)] if now_ms > due else []


# --- what the desk shows -------------------------------------------------------------------------

def _links(state: State, ref: str, guest: dict[str, Any], seen: dict[str, Any], now_ms: int) -> tuple[LinkView, ...]:
    ack_ms = int(state.event.get("vip_ack_ms", 120_000))
    sent = state.guests["notices"].get(ref, {})
    names = list(handoff_links(state, seen.get("post", ""))) + (["host"] if guest.get("host") else [])
    out = []
    for link in names:
        gseq = sent.get(f"vip:{link}", 0)
        inst = state.instructions.get(gseq) if gseq else None
        if inst is None:
            due = seen["ms"] + ack_ms
            status = "overdue" if f"{ref}/{link}" in state.guests["overdue"] or now_ms > due else "unsent"
            out.append(LinkView(link, "", 0, 0, due, (), status))
            continue
        due = inst["sent_ms"] + ack_ms
        acks = tuple(sorted(inst["acks"].items(), key=lambda a: a[1]))
        status = "acked" if acks else ("overdue" if now_ms > due else "waiting")
        out.append(LinkView(link, inst["target"], gseq, inst["sent_ms"], due, acks, status))
    return tuple(out)


def meals(state: State) -> dict[str, int]:
    """Meals by dietary need for catering (素食, 清真, 无麸质, 无乳制品, 其他): people, not parties — a party that
    came counts as many as came, one still expected as many as listed; a party that left counts no more."""
    out = dict.fromkeys(NEEDS, 0)
    g = state.guests
    for ref, guest in g["list"].items():
        if ref in g.get("departed", {}):
            continue
        seen = g["arrived"].get(ref)
        people = int(seen["party"] if seen else guest.get("party", 1) or 1)
        for need in guest.get("needs", ()):
            if need in out:
                out[need] += people
    return out


def late_ms(state: State) -> int:
    """How long after the newest expected arrival a guest not here is late (延迟): the event's setting."""
    return int(state.event.get("guest_late_ms", LATE_MS) or LATE_MS)


def guest_view(state: State, ref: str, now_ms: int) -> GuestView | None:
    g = state.guests
    guest = g["list"].get(ref)
    if guest is None:
        return None
    seen = g["arrived"].get(ref)
    arrive_ms = expected_ms(state, ref)   # the newest expectation: the desk may have moved it (guest_expect)
    if seen is not None:
        status = "arrived"
    elif arrive_ms and now_ms > arrive_ms + late_ms(state):
        status = "late"
    else:
        status = "expected"
    vip = is_vip(guest, seen)
    return GuestView(
        ref, guest.get("name", ""), guest.get("org", ""), guest.get("level", ""), int(guest.get("party", 1) or 1),
        guest.get("arrive", ""), arrive_ms, guest.get("via", ""), guest.get("host", ""), guest.get("plate", ""),
        tuple(guest.get("needs", ())), guest.get("needs_note", ""), guest.get("notes", ""), status,
        seen["ms"] if seen else 0, seen["party"] if seen else 0, bool(seen and seen["checked_in"]),
        seen["station"] if seen else "", vip, _links(state, ref, guest, seen, now_ms) if (seen and vip) else (),
        g["notices"].get(ref, {}).get("needs:lobby", 0), int(g.get("departed", {}).get(ref, 0)),
        len(g.get("expected", {}).get(ref, {}).get("changes", ())))


def view(state: State, now_ms: int) -> tuple[Totals, list[GuestView]]:
    """Every listed guest: late first, then those expected (soonest first), then those arrived (latest first)."""
    views = [v for v in (guest_view(state, ref, now_ms) for ref in state.guests["list"]) if v is not None]
    order = {"late": 0, "expected": 1, "arrived": 2}
    views.sort(key=lambda v: (order[v.status], -v.arrived_ms if v.status == "arrived" else (v.arrive_ms or 1 << 62),
                              v.name))
    links = [link for v in views for link in v.links]
    walk = state.guests["walkins"]
    totals = Totals(len(views), sum(v.party for v in views), sum(v.status == "arrived" for v in views),
                    sum(v.arrived_party for v in views if v.status == "arrived"),
                    sum(v.status == "late" for v in views), sum(v.status == "expected" for v in views),
                    sum(v.level in VIP_LEVELS for v in views), sum(v.vip and v.status == "arrived" for v in views),
                    walk["parties"], walk["people"], sum(link.status == "waiting" for link in links),
                    sum(link.status == "overdue" for link in links))
    return totals, views


def chains(state: State, now_ms: int) -> list[GuestView]:
    """The VIPs who arrived, newest first, each with the state of every link of the hand-off."""
    out = [v for v in (guest_view(state, ref, now_ms) for ref in state.guests["vip_arrived"]) if v is not None and v.vip]
    out.sort(key=lambda v: -v.arrived_ms)
    return out
