"""A fixed morning for the readiness board and the guest screen: tasks signed off, staff signed in, guests arriving.

The desk fixture's busy hour (tests/desk_support.py) with, on top, what the hub would have
logged: every hub decision comes from the real pure rules (console.core.readiness, console.core.guests_rules)
run at the time of each event, exactly as the hub runs them after each batch. Times are local, so
build the state only after the test has fixed TZ.
"""
from __future__ import annotations

from typing import Any

from console.core import guests_rules, readiness
from console.core import state as S
from console.event.folder import parse
from console.hub.store import Row
from tests.desk_support import MIN, SAMPLE, T0, fixture_events

HOUR = 60 * MIN

GUESTS: list[dict[str, Any]] = [
    {"ref": "V-001", "name": "张明远", "org": "省住房和城乡建设厅", "level": "A", "party": 3, "arrive": "10:10",
     "via": "自驾", "host": "周婷", "plate": "湘A·88888", "needs": ["vegetarian"], "needs_note": "", "notes": "",
     "initials": ["zmy"], "pinyin": "zhangmingyuan"},
    {"ref": "V-002", "name": "李慧", "org": "市规划局", "level": "B", "party": 2, "arrive": "10:00", "via": "G1234",
     "host": "S203", "plate": "", "needs": ["gluten_free", "dairy_free"], "needs_note": "", "notes": "",
     "initials": ["lh"], "pinyin": "lihui"},
    {"ref": "V-003", "name": "陈志强", "org": "省发改委", "level": "A", "party": 2, "arrive": "10:45", "via": "CZ3101",
     "host": "王强", "plate": "湘A·12000", "needs": [], "needs_note": "", "notes": "", "initials": ["czq"],
     "pinyin": "chenzhiqiang"},
    {"ref": "G-101", "name": "王建国", "org": "长沙天辰科技有限公司", "level": "C", "party": 4, "arrive": "10:15",
     "via": "", "host": "", "plate": "", "needs": ["other"], "needs_note": "清真", "notes": "", "initials": ["wjg"],
     "pinyin": "wangjianguo"},
    {"ref": "G-102", "name": "刘芳", "org": "", "level": "C", "party": 1, "arrive": "09:50", "via": "", "host": "",
     "plate": "", "needs": [], "needs_note": "", "notes": "", "initials": ["lf"], "pinyin": "liufang"},
    {"ref": "G-103", "name": "赵磊", "org": "湘江置业", "level": "C", "party": 2, "arrive": "10:20", "via": "", "host": "",
     "plate": "", "needs": [], "needs_note": "", "notes": "", "initials": ["zl"], "pinyin": "zhaolei"},
    {"ref": "G-104", "name": "John Smith", "org": "Acme Ltd", "level": "C", "party": 1, "arrive": "10:00", "via": "",
     "host": "", "plate": "", "needs": ["gluten_free"], "needs_note": "", "notes": "", "initials": ["js"],
     "pinyin": "johnsmith"},
    {"ref": "G-105", "name": "孙丽[b]x[/b]", "org": "", "level": "C", "party": 3, "arrive": "", "via": "", "host": "",
     "plate": "", "needs": [], "needs_note": "", "notes": "", "initials": ["slbxb"], "pinyin": "sunlibxb"},
]


def _at(hhmm: str, days: int = 0) -> int:
    h, m = (int(x) for x in hhmm.split(":"))
    return T0 - HOUR * 10 - 30 * MIN + h * HOUR + m * MIN + days * 24 * HOUR   # T0 is 10:30 on the event day


def duty_events() -> list[tuple[str, str, dict[str, Any], int]]:
    """(station, type, body, recv_ms): the morning's readiness, roster and guest events."""
    ev: list[tuple[str, str, dict[str, Any], int]] = []
    for station, who, hhmm in (("gate-1", "S101", "08:20"), ("gate-2", "S102", "08:25"), ("parking-1", "S103", "08:28"),
                               ("lobby-1", "S203", "08:50"), ("concierge-1", "S201", "08:55"),
                               ("model-1", "S204", "08:58"), ("concierge-2", "S202", "08:59")):
        ev.append((station, "staff_signin", {"name": "", "staff_no": who}, _at(hhmm)))
    ev.append(("desk-1", "task_signoff", {"task": "office-meeting", "note": "会议纪要已归档"}, _at("16:00", -4)))
    ev.append(("desk-1", "task_signoff", {"task": "office-rehearsal", "note": ""}, _at("17:30", -2)))
    for task, who, hhmm, note in (
            ("office-plan", "desk-1", "05:10", "已下发"), ("service-deploy", "concierge-1", "06:40", ""),
            ("engineering-power", "desk-2", "07:20", "配电房正常"), ("engineering-water", "desk-2", "07:40", ""),
            ("environment-greenery", "desk-1", "06:20", ""), ("environment-cleaning", "lobby-1", "08:45", ""),
            ("security-fire-lanes", "gate-1", "08:10", "东西两侧通畅"), ("logistics-supplies", "desk-1", "08:20", ""),
            ("service-training", "desk-1", "08:40", "迟了 10 分钟")):
        ev.append((who, "task_signoff", {"task": task, "note": note}, _at(hhmm)))
    ev.append(("hub", "guest_list", {"source": "来宾名单.xlsx", "digest": "3f2a9c1d0b7e4a55", "guests": [
        {**g, "arrive_ms": _at(g["arrive"]) if g["arrive"] else 0, "row": i + 2} for i, g in enumerate(GUESTS)]},
        _at("07:30")))
    ev += [
        ("concierge-1", "guest_checkin", {"guest_ref": "V-002", "name": "李慧", "party_size": 2, "vip_level": "B"},
         _at("10:05")),
        ("concierge-2", "guest_checkin", {"guest_ref": "G-101", "name": "王建国", "party_size": 5, "vip_level": "C"},
         _at("10:12")),
        ("concierge-2", "guest_checkin", {"guest_ref": "", "name": "散客", "party_size": 2, "vip_level": ""},
         _at("10:14")),
        ("gate-1", "car_in", {"plate": "湘A 88888", "vip": True, "count": 1}, _at("10:20")),
    ]
    return sorted(ev, key=lambda e: e[3])


ACKS = {   # (guest, link) -> (station, minutes after the notice): who acknowledged, when
    ("V-002", "host"): ("lobby-1", 1),
    ("V-001", "parking"): ("parking-1", 1), ("V-001", "concierge"): ("concierge-1", 2),
    ("V-001", "host"): ("lobby-1", 1), ("G-101", "needs"): ("lobby-1", 3),
}


def duty_state(now_ms: int = T0) -> S.State:
    """The desk fixture's hour plus the duty morning, folded as the hub folds its log, rules run as the hub runs them."""
    summary = parse(SAMPLE, SAMPLE.read_text("utf-8")).summary()   # due times in the test's TZ
    state = S.new_state(summary)
    timeline = [(at, station, type_, body) for station, type_, body, at in fixture_events() + duty_events()]
    acks: list[tuple[int, str, int]] = []
    gseq = 0
    refs: dict[str, int] = {}

    def log(station: str, type_: str, body: dict[str, Any], at: int) -> int:
        nonlocal gseq
        gseq += 1
        S.apply(state, Row(gseq, station, "ep-" + station, gseq, type_, at - 50, at, body))
        return gseq

    def decide(at: int) -> None:
        for _ in range(4):
            found = readiness.evaluate(state, at) + guests_rules.evaluate(state, at)
            if not found:
                return
            for msg in found:
                g = log("hub", msg.TYPE, msg.as_body(), at)
                body = msg.as_body()
                if msg.TYPE == "instruction" and body.get("guest"):
                    link = "host" if body["target"].startswith("station.") else body["target"].split(".")[1]
                    who = ACKS.get((body["guest"], "needs" if body["notice"] == "needs" else link))
                    if who is not None:
                        acks.append((at + who[1] * MIN, who[0], g))

    timeline.sort(key=lambda e: e[0])
    for at, station, type_, raw in timeline:
        while acks and min(acks)[0] <= at:
            when, who, inst = min(acks)
            acks.remove((when, who, inst))
            decide(when)
            log(who, "instruction_ack", {"instruction": inst}, when)
        decide(at)
        body = {k: (refs[v[1:]] if isinstance(v, str) and v.startswith("@") else v)
                for k, v in raw.items() if k != "_ref"}
        g = log(station, type_, body, at)
        if "_ref" in raw:
            refs[raw["_ref"]] = g
        decide(at)
    for when, who, inst in sorted(acks):
        if when <= now_ms:
            decide(when)
            log(who, "instruction_ack", {"instruction": inst}, when)
    decide(now_ms)
    for sid, silent in {"gate-1": 1_000, "gate-2": 8_000, "parking-1": 300_000, "parking-2": 2_000,
                        "concierge-1": 500, "concierge-2": 900, "lobby-1": 1_500, "model-1": 3_000}.items():
        state.stations[sid]["last_heard_ms"] = now_ms - silent
    return state
