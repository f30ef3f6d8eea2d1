"""The parking post (停车场): a lot's occupancy up, down, to an exact count or full in one key; space assignment.

The terminal keeps one lot selected (F6 moves to the next); the quick keys act on it. The
figures it shows are this terminal's own view: the last exact count or "full" it sent, moved
by the ups and downs since — the desk holds the combined picture. Its free VIP spaces are the
exception: a space given at any terminal is taken here too (the hub says so, `taken_anywhere`).
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


def _vip_space(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    kind, body = _space(site, v, area)
    return kind, {**body, "vip": True}


def vip_free(area: Area, reports: Iterable[tuple[str, dict[str, Any]]]) -> tuple[str, ...]:
    """The lot's reserved VIP spaces not given to a car: by this terminal, or (`taken_anywhere`) by any other."""
    taken = {str(b.get("space", "")) for t, b in reports if t == "space_assign" and b.get("vip") and b.get("lot") == area.id}
    return tuple(s for s in area.vip_spaces if s not in taken)


def taken_anywhere(summary: Any) -> list[tuple[str, dict[str, Any]]]:
    """The VIP spaces the hub says are taken, at any terminal (the summary's lots' `vip_taken`, kept live on
    `post.parking`), as the reports `vip_free` reads."""
    lots = summary.get("lots", ()) if isinstance(summary, dict) else ()
    return [("space_assign", {"lot": lot.get("id"), "space": str(space), "vip": True})
            for lot in lots if isinstance(lot, dict) for space in lot.get("vip_taken") or ()]


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
    reports = list(reports)
    occ = occupancy(site, reports)
    out = [Count("", occ.get(lot.id, 0), lot.capacity, lot, selected=area is not None and lot.id == area.id)
           for lot in site.lots]
    if area is not None and area.vip_spaces:   # the selected lot's VIP spaces: how many are free, and which
        free = vip_free(area, reports)
        out.append(Count("station.count.vip_free", len(free), len(area.vip_spaces), detail=" ".join(free)))
    return out


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
        *((Action("vip_space", "f7", "station.act.vip_space", _vip_space,
                  (Field("space", "field.space"), Field("plate", "field.plate")), alias="7"),)
          if any(lot.vip_spaces for lot in site.lots) else ()),   # only where a lot keeps VIP spaces
        *common_actions(site),
    ), tally, areas=lambda s: s.lots)
