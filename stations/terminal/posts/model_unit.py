"""The model unit (样板间): visitors in and out against the flat's capacity, damage or loss, and "prepare send-off".
"""
from __future__ import annotations

from typing import Any, Iterable

from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site, whole
from stations.terminal.posts.common import common_actions
from stations.terminal.posts.lobby import zone_counts, zone_move


def _damage(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    return "damage_report", {"item": str(v["item"]).strip(), "where": str(v["where"]).strip(),
                             "loss": bool(v["loss"]), "note": str(v["note"]).strip()}


def _sendoff(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    """客人即将离开: a listed guest by the reference on their visit notice, or a walk-in party by count and note."""
    return "sendoff_notice", {"count": whole(v["count"], 0), "note": str(v["note"]).strip(),
                              "guest_ref": str(v["guest_ref"]).strip(), "vip": bool(v["vip"])}


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    reports = list(reports)
    return zone_counts(site, reports, area, "model_unit") + [
        Count("station.count.damage", sum(1 for t, _ in reports if t == "damage_report")),
        Count("station.count.sendoffs", sum(1 for t, _ in reports if t == "sendoff_notice"))]


def post(site: Site) -> Post:
    n = Field("count", "field.count", "int", 2)
    return Post("model_unit", (
        Action("enter", "f1", "station.act.visitor_in", zone_move("zone_enter", True), alias="1"),
        Action("exit", "f2", "station.act.visitor_out", zone_move("zone_exit", True), alias="2"),
        Action("enter_n", "f3", "station.act.visitor_in_n", zone_move("zone_enter", False), (n,), alias="3"),
        Action("exit_n", "f4", "station.act.visitor_out_n", zone_move("zone_exit", False), (n,), alias="4"),
        Action("damage", "f5", "station.act.damage", _damage,
               (Field("item", "field.item"), Field("where", "field.where"),
                Field("loss", "field.loss", "bool", False), Field("note", "field.note")), alias="5"),
        Action("sendoff", "f6", "station.act.sendoff", _sendoff,
               (Field("count", "field.count", "int", 0), Field("note", "field.note"),
                Field("guest_ref", "station.field.guest_ref"), Field("vip", "station.field.sendoff_vip", "bool", False)),
               alias="6", remind="station.sendoff.remind"),
        *common_actions(site),
    ), tally, areas=lambda s: s.zones_of("model_unit"))
