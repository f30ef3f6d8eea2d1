"""What every post can do (report an incident, open the desk's instructions) and how a report reads in a list.

Pure: builds bodies and sentences from the catalogue; knows no screen and no sockets.
"""
from __future__ import annotations

from typing import Any

from protocols import i18n
from protocols.messages import INCIDENT_KINDS, SERVICES, SEVERITIES, VIP_LEVELS
from stations.terminal.posts.base import Action, Area, Field, Site, whole

KIND_CHOICES = tuple((k, f"incident.{k}") for k in INCIDENT_KINDS)
SEVERITY_CHOICES = tuple((s, f"severity.{s}") for s in SEVERITIES)
SERVICE_CHOICES = tuple((s, f"service.{s}") for s in SERVICES)
VIP_CHOICES = tuple((v, f"station.vip.{v or 'none'}") for v in VIP_LEVELS)


def _incident(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
    return "incident_report", {"kind": v["kind"], "severity": whole(v["severity"], 2),
                               "location": str(v["location"]).strip(), "note": str(v["note"]).strip()}


def incident_fields(site: Site) -> tuple[Field, ...]:
    # The location starts as the station's own name: most incidents happen where the staff stands.
    return (Field("kind", "field.kind", "choice", "other", KIND_CHOICES),
            Field("severity", "field.severity", "choice", 2, SEVERITY_CHOICES),
            Field("location", "field.location", "text", site.name or site.station),
            Field("note", "field.note"))


def common_actions(site: Site) -> tuple[Action, ...]:
    return (Action("duty", "f8", "station.act.duty", kind="duty", alias="8"),
            Action("incident", "f9", "station.act.incident", _incident, incident_fields(site), alias="x"),
            Action("inbox", "f10", "station.act.inbox", kind="inbox", alias="i"))


# --- how a report reads in the list ----------------------------------------------------------------

def describe(type_: str, body: dict[str, Any], lang: str, names: dict[str, str] | None = None) -> str:
    """One short line for a report: its kind and the fields that say what happened.

    `names` turns lot and zone ids into the names the staff know them by.
    """
    parts = [i18n.t(f"type.{type_}", lang)]
    b = body
    names = names or {}
    count = b.get("count")
    if type_ == "lot_occupancy":
        parts.append(names.get(b.get("lot", ""), str(b.get("lot", ""))))
        if b.get("full"):
            parts.append(i18n.t("station.word.full", lang))
        elif b.get("occupied", -1) >= 0:
            parts.append(f"= {b['occupied']}")
        else:
            parts.append(f"{b.get('delta', 0):+d}")
    for key in ("zone", "lot"):
        if type_ != "lot_occupancy" and b.get(key):
            parts.append(names.get(b[key], str(b[key])))
    if isinstance(count, int) and (count != 1 or type_ in ("zone_count", "sendoff_notice")):
        parts.append(f"×{count}" if type_ not in ("zone_count",) else f"= {count}")
    for key in ("space", "plate", "guest_ref", "name", "item", "where", "location"):
        if b.get(key):
            parts.append(str(b[key]))
    if b.get("vip") and not b.get("release"):   # a release says 贵宾 itself; a reserved VIP space says so in the staff's words (贵宾车位); a VIP car is marked 贵宾
        parts.append(i18n.t("station.act.vip_space" if type_ == "space_assign" else "word.vip", lang))
    if b.get("release"):
        parts.append(i18n.t("field.release", lang))
    if b.get("vip_level"):
        parts.append(i18n.t(f"station.vip.{b['vip_level']}", lang))
    if type_ == "service_request" and b.get("service"):
        parts.append(i18n.t(f"service.{b['service']}", lang))
    if type_ == "incident_report":
        parts.insert(1, i18n.t(f"incident.{b.get('kind')}", lang))
        parts.insert(2, i18n.t(f"severity.{b.get('severity')}", lang))
    if type_ == "damage_report" and b.get("loss"):
        parts.append(i18n.t("field.loss", lang))
    if type_ == "instruction_ack":
        parts.append(f"#{b.get('instruction')}")
    if type_ == "plan_step":
        parts += [i18n.t(f"plan.step.{b.get('status', 'done')}", lang), f"#{b.get('run')} {b.get('step', '')}",
                  str(b.get("reason", ""))]
    if type_ in ("staff_signin", "staff_signout"):
        parts.append(" ".join(str(b[k]) for k in ("staff_no",) if b.get(k)))
    if type_ == "task_signoff":
        parts.append(str(b.get("task", "")))
    if b.get("party_size", 1) != 1:
        parts.append(f"×{b['party_size']}")
    if b.get("note"):
        parts.append(str(b["note"]))
    return " ".join(p for p in parts if p)
