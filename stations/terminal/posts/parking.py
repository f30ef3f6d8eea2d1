"""The parking post (停车场): a lot's occupancy up, down, to an exact count or full in one key; space assignment.

The terminal keeps one lot selected (F6 moves to the next); the quick keys act on it. The
figures it shows are this terminal's own view: the last exact count or "full" it sent, moved
by the ups and downs since — the desk holds the combined picture.
"""
from __future__ import annotations

from typing import Any, Iterable

from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site, area_id, whole
from stations.terminal.posts.common import common_actions


def _lot(**fixed: Any):
    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return "lot_occupancy", {"lot": area_id(area), **fixed}
    return build


def _exact(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    return "lot_occupancy", {"lot": area_id(area), "occupied": whole(v["occupied"], -1)}


def _space(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    return "space_assign", {"lot": area_id(area), "space": str(v["space"]).strip(),
                            "plate": str(v["plate"]).strip()}


def occupancy(site: Site, reports: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    """Each lot's occupancy as this terminal reported it, replayed in order."""
    caps = {lot.id: lot.capacity for lot in site.lots}
    occ = dict.fromkeys(caps, 0)
    for type_, body in reports:
        lot = body.get("lot")
        if type_ != "lot_occupancy" or lot not in occ:
            continue
        if body.get("full"):
            occ[lot] = caps[lot]
        elif body.get("occupied", -1) >= 0:
            occ[lot] = body["occupied"]
        else:
            occ[lot] = max(0, occ[lot] + int(body.get("delta", 0)))
    return occ


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    occ = occupancy(site, reports)
    return [Count("", occ.get(lot.id, 0), lot.capacity, lot, selected=area is not None and lot.id == area.id)
            for lot in site.lots]


def post(site: Site) -> Post:
    return Post("parking", (
        Action("lot_up", "f1", "station.act.lot_up", _lot(delta=1), alias="1"),
        Action("lot_down", "f2", "station.act.lot_down", _lot(delta=-1), alias="2"),
        Action("lot_exact", "f3", "station.act.lot_exact", _exact,
               (Field("occupied", "field.occupied", "int", ""),), alias="3"),
        Action("lot_full", "f4", "station.act.lot_full", _lot(full=True), alias="4"),
        Action("space", "f5", "station.act.space", _space,
               (Field("space", "field.space"), Field("plate", "field.plate")), alias="5"),
        Action("next_lot", "f6", "station.act.next_lot", kind="cycle", alias="6"),
        *common_actions(site),
    ), tally, areas=lambda s: s.lots)
