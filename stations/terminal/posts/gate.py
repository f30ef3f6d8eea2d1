"""The gate (门岗): cars in and out in one key each, a plate and VIP flag when wanted, and the desk's hold.

"Hold incoming cars" is an instruction with `gate: "hold"` (from the desk's form or a plan's
step); `gate: "resume"` lifts the holds of whoever sends it (the desk's own, or the plan run's via
its all-clear). The gate stays held while any hold stands (protocols.orders: the hub's rule too),
and each standing hold shows in red above everything else, so nobody at the barrier can miss it.
The words of an instruction never decide: a plan's all-clear says 恢复 and a model-unit order
says 暂停参观 without meaning the barrier.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Iterable

from protocols import orders
from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site, summed
from stations.terminal.posts.common import common_actions


def _car(type_: str, **fixed: Any):
    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"count": 1, **fixed}
        plate = str(v.get("plate", "")).strip()
        if plate:
            body["plate"] = plate
        if v.get("vip"):
            body["vip"] = True
        return type_, body
    return build


def holds(site: Site, items: Iterable[Any]) -> tuple[Any, ...]:
    """The inbox items whose holds stop cars at this station now, oldest first (protocols.orders' rule).

    `items` are inbox items with their gate orders and plan all-clears, in any order.
    """
    by_id = {i.id: i for i in items}
    standing = orders.fold([{**asdict(i), "ms": i.received_ms} for i in by_id.values()],
                           lambda sid: site.post if sid == site.station else "")
    return tuple(by_id[h["id"]] for h in orders.reaching(standing, site.station, site.post) if h["id"] in by_id)


HELD_KEYS = ("car_in", "car_in_plate", "vip_in")   # the keys that let a car in: held while a hold stands


def guard(site: Site, action: str, orders: Iterable[Any]) -> str:
    """Why this key may not be used now (a catalogue key), or "": ordinary cars stay held, and 贵宾放行
    is for a hold only. The plate itself is checked against the guest list by the hub, which has it."""
    held = bool(holds(site, orders))
    if held and action in HELD_KEYS:
        return "station.gate.held"
    if not held and action == "vip_release":
        return "station.gate.not_held"
    return ""


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    reports = list(reports)
    cars_in, cars_out = summed(reports, "car_in"), summed(reports, "car_out")
    return [Count("station.count.cars_in", cars_in), Count("station.count.cars_out", cars_out),
            Count("station.count.on_site", max(cars_in - cars_out, 0)),
            Count("station.count.vip_cars", summed(reports, "car_in", vip=True))]


def post(site: Site) -> Post:
    return Post("gate", (
        Action("car_in", "f1", "station.act.car_in", _car("car_in"), alias="1"),
        Action("car_out", "f2", "station.act.car_out", _car("car_out"), alias="2"),
        Action("car_in_plate", "f3", "station.act.car_in_plate", _car("car_in"),
               (Field("plate", "field.plate"), Field("vip", "field.vip", "bool", False)), alias="3"),
        Action("car_out_plate", "f4", "station.act.car_out_plate", _car("car_out"),
               (Field("plate", "field.plate"),), alias="4"),
        Action("vip_in", "f5", "station.act.vip_in", _car("car_in", vip=True), alias="5"),
        Action("vip_release", "f6", "station.act.vip_release", _car("car_in", vip=True, release=True),
               (Field("plate", "field.plate"),), alias="6", remind="station.gate.release_remind"),
        *common_actions(site),
    ), tally, hold_banner=True, guard=guard)
