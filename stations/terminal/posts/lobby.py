"""The lobby post (大堂): guests into and out of the lobby zone, and service calls (drinks, tea break, cleaning, restock) with where.
"""
from __future__ import annotations

from typing import Any, Iterable

from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site, area_id, whole
from stations.terminal.posts.common import common_actions, service_action
from stations.terminal.posts.duty import guests_action


def zone_move(type_: str, one: bool):
    """A zone_enter / zone_exit for the selected zone, of 1 or of the form's count."""
    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return type_, {"zone": area_id(area), "count": 1 if one else whole(v.get("count", 1))}
    return build


def headcount(reports: Iterable[tuple[str, dict[str, Any]]], zone: str) -> int:
    """This terminal's head count of one zone: the last exact count, moved by entries and exits since."""
    n = 0
    for type_, body in reports:
        if body.get("zone") != zone:
            continue
        if type_ == "zone_count":
            n = int(body.get("count", 0))
        elif type_ == "zone_enter":
            n += int(body.get("count", 1))
        elif type_ == "zone_exit":
            n = max(0, n - int(body.get("count", 1)))
    return n


def zone_counts(site: Site, reports: list[tuple[str, dict[str, Any]]], area: Area | None,
                post: str) -> list[Count]:
    return [Count("", headcount(reports, z.id), z.capacity, z, selected=area is not None and z.id == area.id)
            for z in site.zones_of(post)]


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    reports = list(reports)
    return zone_counts(site, reports, area, "lobby") + [
        Count("station.count.services", sum(1 for t, _ in reports if t == "service_request"))]


def post(site: Site) -> Post:
    n = Field("count", "field.count", "int", 2)
    return Post("lobby", (
        Action("enter", "f1", "station.act.enter", zone_move("zone_enter", True), alias="1"),
        Action("exit", "f2", "station.act.exit", zone_move("zone_exit", True), alias="2"),
        Action("enter_n", "f3", "station.act.enter_n", zone_move("zone_enter", False), (n,), alias="3"),
        Action("exit_n", "f4", "station.act.exit_n", zone_move("zone_exit", False), (n,), alias="4"),
        service_action("f5", "5"),
        Action("calls", "f6", "station.act.calls", kind="calls", alias="6"),   # its service calls and their state
        guests_action(),
        *common_actions(site),
    ), tally, areas=lambda s: s.zones_of("lobby"))
