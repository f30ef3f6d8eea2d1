"""The send-off (恭送) as hub decisions, and the desk's view of each chain; pure.

The reverse of the VIP hand-off (console/core/guests_rules.py). When a model unit, concierge, lobby or
desk says a party is about to leave (`sendoff_notice`, 客人即将离开), the posts on the way out -- lobby,
concierge, parking (for a VIP: bring the car to the door `sendoff_lead_min` minutes ahead), gate -- each
get an instruction to acknowledge. Posts where no station of the event stands are left out, and so is
the post that raised it (it knows). The party's host (the guest list's 陪同, often a sales consultant) is a
link of its own, on the station where they are signed in or rostered: "陪同人员也要到门口送行". A link not acknowledged within `sendoff_ack_ms` raises one `overdue`
alarm (what "sendoff"). A `guest_departure` naming the guest's reference marks them 离开 and closes the
chain. `evaluate(state, now_ms)` returns the hub events to log; `chains` is what the desk shows.
No sockets, database, screen or clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core.guests_rules import VIP_LEVELS, LinkView, host_station, station_label
from protocols.i18n import t
from protocols.messages import MAX_TEXT, Instruction, Message, Overdue

if TYPE_CHECKING:
    from console.core.state import State

LINKS = ("lobby", "concierge", "parking", "gate")   # the way a guest goes out, in order
# The greeting leaders (陪同领导) see VIPs off too, when the event gives them a terminal (issue 16 item 3).
# The party's host (陪同) sees them to the door too, at their own station (issue 16 item 1).
ALL_LINKS = LINKS + ("greeter", "host")
ACK_MS = 120_000
LEAD_MIN = 10


@dataclass(frozen=True)
class SendoffView:
    id: int                     # the sendoff_notice's gseq
    ref: str                    # the guest list reference ("" for a walk-in party)
    name: str                   # the guest's name, or the note a walk-in party was raised with
    org: str
    level: str
    party: int
    vip: bool
    by: str                     # the station (or desk) that raised it
    ms: int
    links: tuple[LinkView, ...]
    status: str                 # departed | complete | overdue | waiting
    complete_ms: int = 0
    departed_ms: int = 0


def ack_ms(state: State) -> int:
    return int(state.event.get("sendoff_ack_ms", ACK_MS))


def links_for(state: State, raised_at: str, vip: bool = False) -> tuple[str, ...]:
    """The posts on the way out a send-off goes to: those some station stands at, bar the one that raised it;
    for a VIP, the greeting leaders' terminal too."""
    staffed = {st.get("post") for st in state.event.get("stations", ())}
    return tuple(link for link in LINKS if link in staffed and link != raised_at) + \
        (("greeter",) if vip and "greeter" in staffed else ())


def host_target(state: State, so: dict[str, Any], posts: tuple[str, ...]) -> str:
    """`station.<id>` of the listed party's host (where signed in, else rostered), or "" when there is no host link:
    no host, a host on duty nowhere, or a host at the station that raised it or at a post already told (that
    terminal has the send-off on its screen already)."""
    guest = state.guests["list"].get(so["ref"]) if so["ref"] else None
    sid = host_station(state, guest.get("host", "")) if guest else ""
    post = state.stations.get(sid, {}).get("post", "")
    return f"station.{sid}" if sid and sid != so["by"] and post not in posts else ""


def shown_links(state: State) -> tuple[str, ...]:
    """The links the desk shows a column for: the way out, the greeting leaders when the event has their terminal,
    and the host once a send-off has gone to one."""
    staffed = {st.get("post") for st in state.event.get("stations", ())}
    hosted = any("host" in so["links"] for so in state.guests.get("sendoffs", {}).values())
    return LINKS + (("greeter",) if "greeter" in staffed else ()) + (("host",) if hosted else ())


def _who(state: State, so: dict[str, Any], lang: str) -> str:
    guest = state.guests["list"].get(so["ref"]) if so["ref"] else None
    if guest is None:
        label = so["note"] or t("sendoffrule.walkin", lang)
        return t("sendoffrule.who_walkin", lang, who=label, party=so["party"]) if so["party"] else label
    org = guest.get("org", "")
    return t("sendoffrule.who", lang, level=t("sendoffrule.level", lang, level=guest["level"])
             if guest.get("level") in VIP_LEVELS else "", name=guest.get("name", ""),
             org=t("guestrule.org", lang, org=org) if org else "", party=so["party"] or guest.get("party", 1))


def _text(state: State, so: dict[str, Any], link: str, lang: str) -> str:
    via = t("sendoffrule.desk", lang) if so["post"] == "desk" else station_label(state, so["by"], lang)
    parts = [t("sendoffrule.head", lang, who=_who(state, so, lang), via=via)]
    if link == "parking" and so["vip"]:
        parts.append(t("sendoffrule.car", lang, lead=int(state.event.get("sendoff_lead_min", LEAD_MIN))))
    parts.append(t(f"sendoffrule.ask_{link}", lang))
    return t("guestrule.sep2", lang).join(parts)[:MAX_TEXT]


def evaluate(state: State, now_ms: int) -> list[Message]:
    """The send-off links to send and the alarms for links unacknowledged in time; [] when nothing is new."""
    g, wait = state.guests, ack_ms(state)
    out: list[Message] = []
    for key in g["sendoffs_open"]:
        so = g["sendoffs"][key]
        if not so["links"]:
            posts = links_for(state, so["post"], bool(so["vip"]))
            host = host_target(state, so, posts)
            for link, target in [(p, f"post.{p}") for p in posts] + ([("host", host)] if host else []):
                out.append(Instruction(target=target, text=_text(state, so, link, "zh"),
                                       text_en=_text(state, so, link, "en"), ack_required=True, guest=so["ref"],
                                       notice="sendoff", sendoff=so["id"]))
            continue
        for link, gseq in so["links"].items():
            inst = state.instructions.get(gseq)
            if inst is None or inst["acks"] or f"sendoff:{key}/{link}" in g["overdue"]:
                continue
            due = inst["sent_ms"] + wait
            if now_ms > due:
                out.append(Overdue(what="sendoff", ref=key, target=link, due_ms=due))
    return out


# --- what the desk and the summary show -------------------------------------------------------------

def _link_views(state: State, so: dict[str, Any], now_ms: int) -> tuple[LinkView, ...]:
    wait, key = ack_ms(state), str(so["id"])
    out = []
    for link in ALL_LINKS:
        gseq = so["links"].get(link)
        inst = state.instructions.get(gseq) if gseq else None
        if inst is None:
            continue
        acks = tuple(sorted(inst["acks"].items(), key=lambda a: a[1]))
        due = inst["sent_ms"] + wait
        late = f"sendoff:{key}/{link}" in state.guests["overdue"] or (now_ms > due and not so["departed_ms"])
        status = "acked" if acks else ("overdue" if late else "waiting")
        out.append(LinkView(link, inst["target"], gseq, inst["sent_ms"], due, acks, status))
    return tuple(out)


def sendoff_view(state: State, so: dict[str, Any], now_ms: int) -> SendoffView:
    guest = state.guests["list"].get(so["ref"], {}) if so["ref"] else {}
    links = _link_views(state, so, now_ms)
    if so["departed_ms"]:
        status = "departed"
    elif so["complete_ms"]:
        status = "complete"
    else:
        status = "overdue" if any(link.status == "overdue" for link in links) else "waiting"
    return SendoffView(so["id"], so["ref"], guest.get("name") or so["note"], guest.get("org", ""),
                       guest.get("level", ""), int(so["party"] or guest.get("party", 0) or 0), so["vip"], so["by"],
                       so["ms"], links, status, so["complete_ms"], so["departed_ms"])


def chains(state: State, now_ms: int) -> list[SendoffView]:
    """Every send-off, open ones first (overdue before waiting), then the closed, each newest first."""
    views = [sendoff_view(state, so, now_ms) for so in state.guests["sendoffs"].values()]
    order = {"overdue": 0, "waiting": 1, "complete": 2, "departed": 2}
    views.sort(key=lambda v: (order[v.status], -v.ms))
    return views


def departed(state: State, ref: str) -> int:
    """When the listed guest left (离开), in ms; 0 while they have not."""
    return int(state.guests.get("departed", {}).get(ref, 0))
