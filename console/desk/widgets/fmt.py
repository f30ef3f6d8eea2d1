"""Pure text helpers for the desk: durations, names, severities, gauges and one-line event summaries; no Textual.

Every word comes from the catalogue in the language asked for. Text that came from a station
is wrapped by `safe`: a rich Text with no markup parsed and control characters made visible,
so `[@click=app.quit]` or an escape sequence is shown as typed and never acted on.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from console.core import services
from console.core.clock_skew import SKEWED_MS
from protocols import eventtime, names, orders
from protocols.i18n import has, t

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SEVERITY_STYLE = {1: "dim", 2: "yellow", 3: "bold red", 4: "bold white on red"}
LIVENESS_STYLE = {"online": "green", "late": "bold yellow", "offline": "bold red", "unknown": "dim", "hub_lost": "dim",
                  "closed": "dim"}
_ZONE_SIGN = {"zone_enter": "+", "zone_exit": "-", "zone_count": "="}
LIVENESS_MARK = {"online": "●", "late": "▲", "offline": "✖", "unknown": "○", "hub_lost": "?",
                 "closed": "○"}   # closed on purpose (a bye): nothing to chase


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "⏎"
    if code == 0x09:
        return " "
    if code < 0x20:
        return chr(0x2400 + code)          # ␛ for ESC, ␇ for BEL: the Unicode control pictures
    if code == 0x7F:
        return "␡"
    return f"<{code:02x}>"


def safe(text: Any, style: str = "") -> Text:
    """Untrusted text, shown literally on one line: no markup, no escape sequences, no newlines."""
    return Text(_CONTROL.sub(_visible, str(text)), style=style, end="")


def clip(text: Text, width: int) -> Text:
    """Cut to `width` terminal cells (CJK counts double), with an ellipsis when cut."""
    if width <= 0 or text.cell_len <= width:
        return text
    out = text.copy()
    out.truncate(width, overflow="ellipsis")
    return out


# Marks that close a phrase never start a line, marks that open one never end it (the Chinese
# rules 避头点 and 避尾点): each goes to the next line with its neighbour rather than alone.
_CLOSING = set("。，、；：？！）》」』】〕…—,.;:?!)]}%")
_OPENING = set("（《「『【〔([{")
_UNIT = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef][^\S\n]*|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+[^\S\n]*|\s")


def fold(words: str, width: int) -> list[str]:
    """Lines of at most `width` cells (CJK counts double), broken between Chinese characters or
    between Latin words, and never with a punctuation mark first on a line."""
    units: list[str] = []
    for unit in _UNIT.findall(words):
        if units and unit.strip() and (unit.strip()[0] in _CLOSING or units[-1][-1] in _OPENING):
            units[-1] += unit   # "报" + "。", "（" + "C": one piece, so no line starts or ends on the mark
        else:
            units.append(unit)
    lines, line = [], ""
    for unit in units:
        if line and cell_len((line + unit).rstrip()) > width:
            lines.append(line.rstrip())
            line = unit.lstrip()
        else:
            line += unit
    if line.strip():
        lines.append(line.rstrip())
    return lines


def duration(ms: int, lang: str, short: bool = False) -> str:
    """A span of time: 42s / 5 min / 2 h 7 min (42秒 / 5分钟 / 2小时7分); `short` for table cells (5m, 5分)."""
    s = max(0, int(ms // 1000))
    table = "desk.dur_short" if short else "desk.dur"
    if s < 60:
        return t(f"{table}.s", lang, n=s)
    if s < 3600:
        return t(f"{table}.m", lang, n=s // 60)
    return t(f"{table}.h", lang, h=s // 3600, m=s % 3600 // 60)


def ago(ms: int, lang: str) -> str:
    return t("desk.ago", lang, d=duration(ms, lang))


def clock(ms: int, tz: dt.tzinfo) -> str:
    """HH:MM:SS of an epoch-ms instant on the event's clock (its zone, not the desk machine's)."""
    return eventtime.clock(ms, tz) if ms else "--:--:--"


def holds(state: Any, station: str, lang: str, tz: dt.tzinfo) -> Text | None:
    """Who holds cars at this station and since when ("消防应急预案 #44 20:06；指挥台 20:10"); None if nobody."""
    standing = orders.reaching(state.holds, station, state.stations.get(station, {}).get("post", ""))
    if not standing:
        return None
    parts = []
    for h in standing:
        run = state.plans["runs"].get(h["run"]) if h["run"] else None
        who = (f"{(run.get('name_en') if lang == 'en' else run.get('name')) or run['plan']} #{run['id']}" if run
               else t("desk.gate.by_desk", lang))
        parts.append(f"{who} {clock(h['ms'], tz)[:5]}")
    return safe(t("desk.gate.held_by", lang, who=("; " if lang == "en" else "；").join(parts)), "bold red")


def clock_off(st: dict[str, Any], lang: str) -> str:
    """"时钟慢 10分钟" / "clock 10 min slow" for a station whose clock is off by more than SKEWED_MS, else ""."""
    off = st.get("offset_ms", 0)
    if abs(off) <= SKEWED_MS:   # console.core.clock_skew: within this, nobody need look at the clock
        return ""
    return t("desk.clock.slow" if off > 0 else "desk.clock.fast", lang, d=duration(abs(off), lang))


def zone_of(state: Any) -> dt.tzinfo:
    """The event's time zone, as the hub's event summary names it."""
    return eventtime.zone_or_default(state.event.get("timezone"))


def label(key: str, lang: str, fallback: str = "") -> str:
    return t(key, lang) if has(key) else (fallback or key.rsplit(".", 1)[-1])


def station_name(state: Any, sid: str, lang: str) -> str:
    """The station's name as the event file gives it; desks and the hub named from the catalogue."""
    return names.who(state.event.get("stations", ()), sid, lang)


def area_name(state: Any, kind: str, area_id: str, lang: str) -> str:
    for area in state.event.get(kind, ()):
        if area.get("id") == area_id:
            name = area.get("name_en") if lang == "en" else area.get("name")
            return name or area.get("name") or area.get("name_en") or area_id
    return area_id


def at_place(where: str, lang: str) -> Text:
    """"（地点：大堂）" / " (at: Lobby)": where something is, the station's words shown literally."""
    before, _, after = t("desk.at_place", lang, where="\0").partition("\0")
    return Text.assemble(before, safe(where), after)


def severity(n: int, lang: str) -> Text:
    return Text(label(f"severity.{n}", lang, str(n)), style=SEVERITY_STYLE.get(n, ""))


def gauge(value: int, capacity: int, width: int) -> Text:
    """A bar of `width` cells: green under 90 %, amber from 90 %, red when full."""
    width = max(1, width)
    ratio = value / capacity if capacity > 0 else 0.0
    filled = min(width, round(ratio * width)) if value else 0
    style = "bold red" if ratio >= 1.0 else "bold yellow" if ratio >= 0.9 else "green"
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "grey37"))


def gauge_style(value: int, capacity: int) -> str:
    ratio = value / capacity if capacity > 0 else 0.0
    return "bold red" if ratio >= 1.0 else "bold yellow" if ratio >= 0.9 else ""


def target_name(state: Any, target: str, lang: str) -> str:
    return names.target(state.event.get("stations", ()), target, lang)


def words(record: dict[str, Any], lang: str) -> str:
    """An instruction's text in the desk's language: plans send Chinese with an English twin."""
    return (record.get("text_en") or record.get("text", "")) if lang == "en" else record.get("text", "")


def describe(rec: dict[str, Any], state: Any, lang: str) -> Text:
    """One recent event as a line: its kind in words, then the fields that matter for it."""
    typ, b = rec.get("type", ""), rec.get("body") or {}
    out = Text(label(f"type.{typ}", lang, typ), style="bold", end="")
    parts: list[Text | str] = []
    n = b.get("count")
    if typ in ("guest_arrival", "guest_departure", "car_in", "car_out", "sendoff_notice") and n:
        parts.append(f"×{n}")
    if typ in ("car_in", "car_out", "space_assign") and b.get("plate"):
        parts.append(safe(b["plate"]))
    if b.get("vip_level"):
        parts.append(Text(label(f"report.guestlist.level.{b['vip_level']}", lang, b["vip_level"]), style="magenta"))
    if typ == "car_in" and b.get("vip") and not b.get("release"):   # a release says 贵宾 itself
        parts.append(Text(label("word.vip", lang), style="magenta"))
    if typ == "guest_expect":   # the desk moved a guest's expected arrival: who, and to when (by name, never the ref)
        parts.append(safe(state.guests["list"].get(b.get("guest_ref", ""), {}).get("name") or b.get("guest_ref", "")))
        parts.append(clock(b.get("arrive_ms", 0), eventtime.zone_or_default(state.event.get("timezone")))[:5])
    if typ == "car_in" and b.get("release"):   # let in through a hold: the desk must see it
        parts.append(Text(label("field.release", lang), style="bold magenta"))
    if typ == "guest_checkin":
        parts += [safe(b.get("name") or b.get("guest_ref", "")), f"×{b.get('party_size', 1)}"]
    if typ in ("sendoff_notice", "guest_departure") and b.get("guest_ref"):   # who is leaving, by name
        parts.append(safe(state.guests["list"].get(b["guest_ref"], {}).get("name") or b["guest_ref"]))
    if typ in ("lot_occupancy", "space_assign"):
        parts.append(area_name(state, "lots", b.get("lot", ""), lang))
        if typ == "lot_occupancy":
            occ, delta = b.get("occupied", -1), b.get("delta", 0)
            parts.append(t("field.full", lang) if b.get("full") else str(occ) if occ >= 0 else f"{delta:+d}")
        elif b.get("space"):
            parts.append(safe(b["space"]))
    if typ in _ZONE_SIGN:
        parts += [area_name(state, "zones", b.get("zone", ""), lang), f"{_ZONE_SIGN[typ]}{b.get('count', '')}"]
    if typ == "service_request":
        parts.append(label(f"service.{b.get('service', '')}", lang))
    if typ == "damage_report":
        parts.append(safe(b.get("item", "")))
        if b.get("loss"):
            parts.append(Text(t("field.loss", lang), style="red"))
    if typ in ("incident_report", "incident_open"):
        parts += [label(f"incident.{b.get('kind', '')}", lang), severity(b.get("severity", 2), lang)]
    if typ == "incident_update":
        parts.append(f"#{b.get('incident', '')}")
        if b.get("status"):
            parts.append(label(f"status.{b['status']}", lang))
        if b.get("assign"):
            parts.append("→ " + label(f"dept.{b['assign']}", lang))
    if typ == "service_update":
        parts += [label(f"svc_status.{b.get('status', '')}", lang), safe(services.call_words(state, b.get("call"), lang))]
    if typ == "instruction_ack":
        parts.append(f"#{b.get('instruction', '')}")
    if typ == "phone_unpaired":   # phones (issue 18) in words: why it ended; never its label, never a code
        parts.append(label(f"phone_why.{b.get('why', '')}", lang))
    if typ == "phone_revoke":
        parts.append(station_name(state, b.get("station", ""), lang))
        if b.get("reason"):
            parts.append(Text("“", style="dim") + safe(b["reason"]) + Text("”", style="dim"))
    if typ == "instruction":
        parts.append("→ " + target_name(state, b.get("target", "all"), lang))
        if b.get("gate") in ("hold", "resume"):
            parts.append(Text(t(f"desk.gate.{b['gate']}", lang), style="bold red" if b["gate"] == "hold" else "green"))
    if typ == "station_status":
        parts += [station_name(state, b.get("station", ""), lang),
                  Text(label(f"liveness.{b.get('status', '')}", lang), style=LIVENESS_STYLE.get(b.get("status"), ""))]
    if typ == "station_clock":
        parts += [station_name(state, b.get("station", ""), lang),
                  clock_off(b, lang) or t("desk.clock.right", lang)]
    if typ.startswith("plan_"):
        run = state.plans["runs"].get(b.get("run")) if hasattr(state, "plans") else None
        named = (b.get("name_en") if lang == "en" else b.get("name")) or b.get("name") or b.get("plan", "")
        if not named and run is not None:
            named = (run["name_en"] if lang == "en" else run["name"]) or run["name"]
        step = (run or {}).get("steps", {}).get(b.get("step", ""), {})
        did = ((step.get("do_en") if lang == "en" else step.get("do")) or b.get("step", "")) if b.get("step") else ""
        status = label(f"plan.step.{b['status']}", lang, b["status"]) if b.get("status") else ""
        parts += [p for p in (safe(named) if named else "", status, safe("· " + did) if did else "") if p]
    if typ == "alarm":
        parts += [Text(names.code_name(b.get("code", ""), lang), style="bold red")]
        if b.get("station"):
            parts.append(station_name(state, b["station"], lang))
        if b.get("count", 1) > 1:   # one line per cause: the hub's repeats update it (console/hub/guard.py)
            parts.append(f"×{b['count']}")
    if typ == "task_signoff":
        title = next(((x.get("title_en") if lang == "en" else x.get("title")) or x.get("title", "")
                      for x in state.event.get("tasks", ()) if x.get("id") == b.get("task")), b.get("task", ""))
        parts.append(safe(title))
    if typ in PREP_TYPES:
        parts += prep_words(state, typ, b, lang)
    if typ == "hub_switch":   # two hubs (5.13): which server took over, and why, in words
        parts.append(t("report.pair.took_over", lang, hub=label(f"hub_role.{b.get('hub')}", lang),
                       era=b.get("era", ""), why=label(f"hub_switch_why.{b.get('reason')}", lang)))
    if typ in ("staff_signin", "staff_signout"):
        parts.append(safe(" ".join(str(b[k]) for k in ("name", "staff_no") if b.get(k))))
    if typ == "overdue":   # what it is about in words (a task's title, a guest and the link), never its ref
        what = b.get("what", "")
        head = t("alarm.service_late", lang) if what == "service" else label(f"readiness.what.{what}", lang, what)
        parts += [Text(head, style="bold red"), safe(duty_subject(state, b, lang))]
    if typ == "guest_list":
        parts += [safe(b.get("source", "")), f"×{b.get('count', len(b.get('guests', ())))}"]
    where = b.get("where") or b.get("location")
    if where:
        parts.append(at_place(where, lang))
    if typ == "note" and b.get("department"):
        parts.append(label(f"dept.{b['department']}", lang))
    # A reason in the desk's language only: the hub's alarms carry both; an English one never in Chinese text.
    said = b.get("note") or (words(b, lang) if typ == "instruction" else b.get("text")) or (
        b.get("reason_zh") if lang == "zh" else b.get("reason") if typ not in ("phone_revoke", "hub_switch") else "")
    if said:
        parts.append(Text("“", style="dim") + safe(said) + Text("”", style="dim"))
    for part in parts:
        out.append(" ")
        out.append(part if isinstance(part, Text) else Text(part))
    return out


PREP_TYPES = ("task_add", "task_change", "roster_add", "roster_change", "prep_stage")


def prep_words(state: Any, typ: str, b: dict[str, Any], lang: str) -> list[Any]:
    """The desk's preparation (issue 16 item 6) in words: the task's title, the person and station, the department;
    never a task's or a slot's id."""
    if typ in ("task_add", "task_change"):
        task = next((x for x in state.event.get("tasks", ()) if x.get("id") == b.get("task")), {})
        title = b.get("title") or (task.get("title_en") if lang == "en" else task.get("title")) or task.get("title", "")
        return [safe(title)] + (["→ " + label(f"dept.{b['department']}", lang)] if b.get("department") else [])
    if typ in ("roster_add", "roster_change"):
        slot = next((x for x in state.event.get("roster", ()) if x.get("key") == b.get("slot")), {})
        who = b.get("name") or b.get("staff_no") or slot.get("name") or slot.get("staff_no", "")
        where = b.get("station") or slot.get("station", "")
        return [safe(who)] + ([station_name(state, where, lang)] if where else [])
    stage = label(f"readiness.prep.stage.{b.get('stage')}", lang) if b.get("stage") != "rehearsed" \
        else t("readiness.prep.stage.do_rehearsed", lang)
    return ([label(f"dept.{b['department']}", lang)] if b.get("department") else []) + [stage]


def sendoff_subject(state: Any, key: str, link: str, lang: str) -> str:
    """A send-off link in words: the leaving party's name (a walk-in's note) and the post on the way out."""
    so = state.guests.get("sendoffs", {}).get(key, {})
    name = state.guests["list"].get(so.get("ref", ""), {}).get("name") or so.get("note") or t("guestdesk.sendoff.walkin", lang)
    return f"{safe(name).plain} · {label(f'post.{link}', lang, link)}"


def duty_subject(state: Any, alarm: dict[str, Any], lang: str) -> str:
    """What an `overdue` alarm is about, in words: the task's title, the station, or the guest and the link."""
    what, ref = alarm.get("what"), alarm.get("ref", "")
    if what == "task":
        for task in state.event.get("tasks", ()):
            if task.get("id") == ref:
                return (task.get("title_en") if lang == "en" else task.get("title")) or task.get("title") or ref
        return ref
    if what == "roster":
        return station_name(state, alarm.get("station") or ref.partition("/")[0], lang)
    if what == "sendoff":
        return sendoff_subject(state, ref, alarm.get("target", ""), lang)
    if what == "service":
        return services.call_words(state, ref, lang)
    guest = state.guests["list"].get(ref, {})
    link = alarm.get("target", "")
    return f"{safe(guest.get('name', ref)).plain} · {label(f'guestdesk.link.{link}', lang, link)}"
