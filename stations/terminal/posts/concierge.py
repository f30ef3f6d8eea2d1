"""The concierge post (礼宾): arrivals +1 / +N, departures, check-in by name or reference, VIP greeted.

F7 looks a guest up in the guest list the hub sent (by name, pinyin initials or reference) and
checks them in with their party size; F5 still takes free text (a name, or a reference such as
an invitation number) for a guest who is not on the list.
"""
from __future__ import annotations

from typing import Any, Iterable

from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site, summed, whole
from stations.terminal.posts.common import VIP_CHOICES, common_actions
from stations.terminal.posts.duty import VIP, guests_action


def _counted(type_: str, one: bool):
    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return type_, {"count": 1 if one else whole(v.get("count", 1))}
    return build


def _checkin(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    who = str(v["who"]).strip()
    # A reference is one token with a digit in it (A-017, 0342); anything else is a name.
    is_ref = bool(who) and " " not in who and any(c.isdigit() for c in who)
    body: dict[str, Any] = {"party_size": whole(v["party_size"]), "vip_level": v["vip_level"]}
    body["guest_ref" if is_ref else "name"] = who
    return "guest_checkin", body


def _vip(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    return "guest_arrival", {"count": whole(v["count"]), "vip_level": v["vip_level"],
                             "guest_ref": str(v["who"]).strip(), "note": str(v["note"]).strip()}


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    reports = list(reports)
    arrivals, departures = summed(reports, "guest_arrival"), summed(reports, "guest_departure")
    vips = sum(int(b.get("count", 1)) for t, b in reports if t == "guest_arrival" and b.get("vip_level") in VIP)
    return [Count("station.count.arrivals", arrivals), Count("station.count.departures", departures),
            Count("station.count.checkins", sum(1 for t, _ in reports if t == "guest_checkin")),
            Count("station.count.vips", vips)]


def post(site: Site) -> Post:
    n = Field("count", "field.count", "int", 2)
    vip_levels = tuple(c for c in VIP_CHOICES if c[0] in VIP)   # level C is an ordinary guest (docs/PEOPLE.md)
    return Post("concierge", (
        Action("arrive", "f1", "station.act.arrive", _counted("guest_arrival", True), alias="1"),
        Action("arrive_n", "f2", "station.act.arrive_n", _counted("guest_arrival", False), (n,), alias="2"),
        Action("depart", "f3", "station.act.depart", _counted("guest_departure", True), alias="3"),
        Action("depart_n", "f4", "station.act.depart_n", _counted("guest_departure", False), (n,), alias="4"),
        Action("checkin", "f5", "station.act.checkin", _checkin,
               (Field("who", "station.field.who"), Field("party_size", "field.party_size", "int", 1),
                Field("vip_level", "field.vip_level", "choice", "", VIP_CHOICES)), alias="5"),
        Action("vip", "f6", "station.act.vip", _vip,
               (Field("vip_level", "field.vip_level", "choice", "A", vip_levels),
                Field("who", "station.field.who"), Field("count", "field.count", "int", 1),
                Field("note", "field.note")), alias="6"),
        guests_action(),
        *common_actions(site),
    ), tally)
