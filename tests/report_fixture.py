"""A small event and a hand-written log for the summary tests: every figure can be worked out by hand.

The timeline (seconds after T0, an exact minute) is in `EVENTS`; the expected figures are spelled
out next to the tests that check them. Station text carries markup on purpose (`<script>`, `**`,
`|`, `=cmd`) so the renderers' escaping is tested on the same log.
"""
from __future__ import annotations

import json
from pathlib import Path

from console.event.folder import EventFolder, make_keys, parse
from console.hub.store import Rejection, Store, dumps

T0 = 1_796_464_800_000          # an exact minute (60 000 divides it)
S = 1000

EVENT_TOML = """
desks = ["desk-1"]

[event]
name = "滨江壹号开放日"
name_en = "Riverside Open Day"
date = "2026-12-05"
lang = "zh"

[hub]
endpoint = "tcp://127.0.0.1:7750"
feed = "tcp://127.0.0.1:7751"

[[stations]]
id = "gate-1"
post = "gate"
name = "东门岗"
name_en = "East gate"

[[stations]]
id = "park-1"
post = "parking"
name = "停车场岗"
name_en = "Lot post"

[[stations]]
id = "conc-1"
post = "concierge"
name = "礼宾岗"
name_en = "Concierge"

[[stations]]
id = "lobby-1"
post = "lobby"
name = "大堂岗"
name_en = "Lobby post"

[[stations]]
id = "mu-1"
post = "model_unit"
name = "样板间岗"
name_en = "Show flat post"

[[lots]]
id = "p1"
capacity = 10
name = "地面停车场"
name_en = "Surface lot"
post = "parking"

[[lots]]
id = "p2"
capacity = 5
name = "地下车库"
name_en = "Garage"
post = "parking"

[[zones]]
id = "lobby"
capacity = 20
name = "大堂"
name_en = "Lobby"
post = "lobby"

[[zones]]
id = "model"
capacity = 4
name = "样板间"
name_en = "Show flat"
post = "model_unit"
"""

PLAN_STEPS = [
    {"id": "s1", "department": "security", "due_s": 60, "posts": ["gate"], "do": "关闭车辆入口", "do_en": "Close the car entrance"},
    {"id": "s2", "department": "service", "due_s": 120, "posts": ["lobby"], "do": "引导来宾疏散", "do_en": "Lead guests out"},
    {"id": "s3", "department": "engineering", "due_s": 60, "posts": [], "do": "切断非消防电源", "do_en": "Cut non-fire power"},
]

NOTE_EVIL = "guest fainted | **bold** <script>alert(1)</script> [x](javascript:alert(1))"
LOCATION_EVIL = "B1 <img src=x onerror=alert(1)>"
NOTE_DESK = "=HYPERLINK(\"http://x\") 茶歇补货及时 <b>good</b>"

# (seconds after T0, station, seq, type, body, delivery delay in ms: recv - station_ms)
EVENTS = [
    (0, "gate-1", 1, "guest_arrival", {"count": 3}, 100),
    (10, "gate-1", 2, "car_in", {"count": 1}, 100),
    (20, "park-1", 1, "lot_occupancy", {"lot": "p1", "occupied": 9}, 100),
    (30, "conc-1", 1, "guest_arrival", {"count": 2, "vip_level": "A"}, -2000),   # station clock 2 s ahead
    (65, "park-1", 2, "lot_occupancy", {"lot": "p1", "delta": 1}, 100),           # p1 full (10/10)
    (70, "park-1", 3, "lot_occupancy", {"lot": "p2", "occupied": 5}, 100),        # p2 full: every lot full
    (80, "gate-1", 4, "car_in", {"count": 2}, 100),                               # 2 cars in while all full
    (120, "lobby-1", 1, "zone_enter", {"zone": "lobby", "count": 6}, 100),
    (125, "mu-1", 1, "zone_enter", {"zone": "model", "count": 5}, 100),           # show flat over 4
    (130, "conc-1", 2, "incident_report", {"kind": "medical", "severity": 3, "location": LOCATION_EVIL,
                                           "note": NOTE_EVIL}, 100),              # gseq 10
    (150, "desk-1", 1, "incident_update", {"incident": 10, "status": "acknowledged"}, 100),
    (160, "desk-1", 2, "incident_update", {"incident": 10, "assign": "service"}, 100),
    (190, "park-1", 4, "lot_occupancy", {"lot": "p1", "delta": -3}, 100),         # p1 7/10: the full spell ends
    (200, "mu-1", 2, "zone_exit", {"zone": "model", "count": 3}, 7000),           # delivered 7 s late
    (240, "hub", 1, "station_status", {"station": "lobby-1", "status": "offline", "last_heard_ms": T0 + 120 * S}, 0),
    (250, "gate-1", 5, "guest_departure", {"count": 4}, 100),
    (300, "conc-1", 3, "incident_report", {"kind": "fire", "severity": 4, "location": "大堂"}, 100),   # gseq 17
    (305, "hub", 2, "plan_started", {"plan": "fire", "name": "火警预案", "name_en": "Fire plan", "owner": "security",
                                     "cause": "incident:17", "auto": True, "steps": PLAN_STEPS}, 0),  # gseq 18
    (320, "gate-1", 7, "plan_step", {"run": 18, "step": "s1", "status": "done"}, 100),          # early: 15 s of 60
    (400, "lobby-1", 2, "plan_step", {"run": 18, "step": "s2", "status": "done"}, 200_000),    # on time: 95 s of 120
    (480, "desk-1", 3, "incident_update", {"incident": 17, "status": "acknowledged"}, 100),     # 180 s: slow
    (500, "hub", 3, "plan_escalated", {"run": 18, "step": "s3", "due_ms": T0 + 365 * S}, 0),
    (600, "desk-1", 4, "incident_update", {"incident": 10, "status": "resolved"}, 100),        # 470 s
    (610, "desk-1", 5, "note", {"text": NOTE_DESK, "department": "logistics"}, 100),
    (620, "desk-1", 6, "note", {"text": "general remark", "department": ""}, 100),
    (630, "hub", 4, "station_status", {"station": "lobby-1", "status": "online", "last_heard_ms": T0 + 400 * S}, 0),
]

REJECTIONS = [
    Rejection("gate-1", "ep-gate-1", 3, "car_in", "E_SCHEMA", "The count is wrong: it must be at least 1, got -3.",
              "“人数/数量”填写有误：不能小于 1，收到 -3", T0 + 90 * S),
    Rejection("mu-1", "ep-mu-1", 3, "car_in", "E_FORBIDDEN", "a Model unit station may not send Car in",
              "样板间终端不能发送车辆进场", T0 + 210 * S),
]


def summary_dict() -> dict:
    return parse(Path("event.toml"), EVENT_TOML).summary()


def write_log(path: Path, drill: bool = False, events=EVENTS, rejections=REJECTIONS) -> Path:
    """The fixture log at `path`, written as the hub writes: one append_batch per event, rejections in time order."""
    store = Store(path, drill=drill, writer=True)
    try:
        pending = sorted(rejections, key=lambda r: r.recv_ms)
        for at, station, seq, type_, body, delay in events:
            recv = T0 + at * S
            due = [r for r in pending if r.recv_ms <= recv]
            pending = [r for r in pending if r.recv_ms > recv]
            store.append_batch([(station, f"ep-{station}", seq, type_, recv - delay, recv, dumps(body))], due)
        if pending:
            store.append_batch([], pending)
    finally:
        store.close()
    return path


def make_folder(root: Path, drill: bool = False, keys: bool = False) -> EventFolder:
    folder = EventFolder(root)
    root.mkdir(parents=True, exist_ok=True)
    folder.toml.write_text(EVENT_TOML, "utf-8")
    if keys:
        make_keys(folder)
    write_log(folder.db(drill), drill)
    return folder


def scorecard(first: int, last: int, started_ms: int, slug: str = "fire_drill", met: int = 2,
              missed: int = 1, ack: int = 20_000) -> dict:
    """A minimal scorecard, as scenarios.scorecard writes one, for the comparison tests."""
    return {"version": 1, "drill": True,
            "scenario": {"slug": slug, "file": f"{slug}.toml", "name": "消防演练", "name_en": "Fire drill",
                         "duration_ms": 600_000},
            "event": {"name": "x", "name_en": "x", "dir": ".", "temporary": False},
            "run": {"seed": 7, "speed": 10.0, "started_ms": started_ms, "wall_ms": 60_000, "first_gseq": first,
                    "last_gseq": last, "simulated": [], "people": [], "sim_desk": True, "desk": "desk-1",
                    "lag_ms": 0, "complete": True, "ended_ms": 600_000, "data": "",
                    "liveness_s": {"late": 5.0, "offline": 15.0}},
            "generated": {}, "log": {"events": last - first + 1, "people": {"arrivals": 5}},
            "expectations": [{"kind": "incident_acknowledged", "label": "火情 60 秒内确认",
                              "label_en": "fire acknowledged within 60 s", "params": {}, "line": 1,
                              "status": "met" if ack <= 60_000 else "missed", "measured": ack, "limit": 60_000,
                              "unit": "ms", "detail": "", "detail_params": {}, "items": []}],
            "incidents": [{"ack_delay": ack}], "instructions": [], "lots": {}, "zones": {}, "stations": {},
            "delivery": {}, "plans": {"enabled": True, "runs": [], "departments": {}},
            "summary": {"met": met, "missed": missed}, "fixes": []}


def write_scorecard(folder: EventFolder, card: dict, name: str) -> Path:
    folder.report_dir.mkdir(parents=True, exist_ok=True)
    path = folder.report_dir / name
    path.write_text(json.dumps(card, ensure_ascii=False), "utf-8")
    return path
