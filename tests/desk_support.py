"""Shared pieces for the desk tests: a fixed fixture picture with fixed times, and helpers to wait on the screen."""
from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path
from typing import Any, Callable

import console
from console.core import state as S
from console.event.folder import parse
from console.hub.store import Row

SAMPLE = Path(console.__file__).parent / "event" / "sample_event.toml"
SUMMARY = parse(SAMPLE, SAMPLE.read_text("utf-8")).summary()
T0 = 1_796_437_800_000          # 2026-12-05 10:30:00 +08:00, the fixture's "now"
MIN = 60_000
INJECTED_NOTE = "[@click=app.quit]点我 \x1b[31mRED\x1b[0m"


def fixture_events() -> list[tuple[str, str, dict[str, Any], int]]:
    """(station, type, body, recv_ms) in log order (by time): a busy hour at the sales centre.

    Bodies may name an earlier incident or instruction as "@label"; `fixture_state` resolves
    it to that event's gseq, the way a real log refers to them.
    """
    ev: list[tuple[str, str, dict[str, Any], int]] = []
    for m in range(60, 0, -1):                      # arrivals and departures over the last hour
        at = T0 - m * MIN + 5_000
        ev.append(("concierge-1", "guest_arrival", {"count": 2 + (60 - m) % 7, "guest_ref": "", "vip_level": "",
                                                      "note": ""}, at))
        if m % 3 == 0:
            ev.append(("lobby-1", "guest_departure", {"count": 1 + m % 4, "guest_ref": ""}, at + 20_000))
    ev += [
        ("model-1", "incident_report", {"_ref": "crowd", "kind": "crowding", "severity": 2, "location": "样板间",
                                        "note": "已限流"}, T0 - 40 * MIN),
        ("desk-1", "incident_update", {"incident": "@crowd", "status": "resolved", "assign": "", "note": "已恢复"},
         T0 - 30 * MIN + 1),
        ("gate-1", "car_in", {"plate": "湘A·12345", "vip": True, "count": 1}, T0 - 30 * MIN),
        ("lobby-1", "incident_report", {"_ref": "leak", "kind": "water_leak", "severity": 3, "location": "洗手间",
                                        "note": "地面积水"}, T0 - 25 * MIN),
        ("desk-1", "incident_update", {"incident": "@leak", "status": "", "assign": "engineering",
                                       "note": "工程部已出发"}, T0 - 24 * MIN),
        ("gate-1", "car_in", {"plate": "", "vip": False, "count": 60}, T0 - 20 * MIN),
        ("gate-2", "car_in", {"plate": "", "vip": False, "count": 40}, T0 - 15 * MIN),
        ("concierge-1", "incident_report", {"_ref": "med", "kind": "medical", "severity": 2, "location": "入口",
                                            "note": "老人头晕"}, T0 - 12 * MIN),
        ("desk-1", "incident_update", {"incident": "@med", "status": "in_progress", "assign": "", "note": ""},
         T0 - 11 * MIN),
        ("gate-2", "car_out", {"plate": "", "count": 12}, T0 - 10 * MIN),
        ("concierge-1", "guest_arrival", {"count": 1, "guest_ref": "V-07", "vip_level": "A", "note": ""}, T0 - 9 * MIN),
        ("lobby-1", "guest_checkin", {"guest_ref": "V-07", "name": "王总", "party_size": 3, "vip_level": "A"},
         T0 - 8 * MIN),
        ("gate-2", "incident_report", {"kind": "lost_property", "severity": 1, "location": "西门",
                                       "note": INJECTED_NOTE}, T0 - 7 * MIN),
        ("parking-1", "lot_occupancy", {"lot": "p1", "occupied": 74, "delta": 0, "full": False}, T0 - 6 * MIN),
        ("parking-1", "service_request", {"service": "restock", "where": "P1 入口", "note": "雨伞不够"}, T0 - 6 * MIN),
        ("desk-1", "instruction", {"_ref": "vip", "target": "all", "text": "VIP 车队 10 分钟后到达东门，请做好准备",
                                   "ack_required": True}, T0 - 5 * MIN),
        ("model-1", "zone_count", {"zone": "model_unit", "count": 37}, T0 - 4 * MIN),
        ("gate-1", "instruction_ack", {"instruction": "@vip"}, T0 - 4 * MIN),
        ("lobby-1", "instruction_ack", {"instruction": "@vip"}, T0 - 4 * MIN),
        ("lobby-1", "zone_count", {"zone": "lobby", "count": 96}, T0 - 3 * MIN),
        ("hub", "alarm", {"code": "E_IDENTITY", "station": "gate-2", "reason": "claimed gate-1"}, T0 - 3 * MIN),
        ("parking-2", "lot_occupancy", {"lot": "p2", "occupied": 120, "delta": 0, "full": False}, T0 - 2 * MIN),
        ("lobby-1", "incident_report", {"kind": "fire", "severity": 4, "location": "大堂 [b]东侧[/b]",
                                        "note": "烟感报警"}, T0 - 90_000),
    ]
    ev.sort(key=lambda e: e[3])   # a log is in receive order
    return ev


def fixture_state() -> S.State:
    """The fixture log folded the way the hub folds it, then presence as the hub last published it."""
    state = S.new_state(SUMMARY)
    refs: dict[str, int] = {}
    for gseq, (station, type_, raw, at) in enumerate(fixture_events(), start=1):
        body = {k: (refs[v[1:]] if isinstance(v, str) and v.startswith("@") else v)
                for k, v in raw.items() if k != "_ref"}
        if "_ref" in raw:
            refs[raw["_ref"]] = gseq
        S.apply(state, Row(gseq, station, "ep-" + station, gseq, type_, at - 50, at, body))
    # Presence: who was heard last and when (gate-2 late, parking-1 offline, concierge-2 never seen).
    for sid, silent in {"gate-1": 1_000, "gate-2": 8_000, "parking-1": 300_000, "parking-2": 2_000,
                        "concierge-1": 500, "lobby-1": 1_500, "model-1": 3_000}.items():
        state.stations[sid]["last_heard_ms"] = T0 - silent
    state.stations["parking-2"]["outbox"] = 3
    return state


def aio(test: Callable[..., Any]) -> Callable[..., Any]:
    """Run an async test in a fresh event loop (no asyncio plugin is installed); fixtures still resolve."""
    @functools.wraps(test)
    def run(*args: Any, **kw: Any) -> Any:
        return asyncio.run(test(*args, **kw))
    return run


async def wait_for(pilot: Any, cond: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Let the app run until `cond()` is truthy (the screen refreshes at 4 Hz, so poll, never sleep blind)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


def stop_blinking(app) -> None:
    """A text cursor shown for good: it blinks every half second, so a picture taken later on a
    loaded machine caught it hidden where the stored one had it shown."""
    from textual.widgets import Input, TextArea
    for field in app.screen.query("Input, TextArea"):
        if isinstance(field, (Input, TextArea)):
            field.cursor_blink = False


def settled(*keys: str, most_s: float = 10.0):
    """Press keys, then wait until the screen stops changing (the tables refilled at their laid-out
    width, the dialog drawn) before the picture is taken: two looks 50 ms apart that are the same.
    Waiting for a fixed time instead was too short on a loaded machine and too long on a quiet one."""
    async def run(pilot) -> None:
        for key in keys:
            await pilot.press(key)
        await pilot.wait_for_scheduled_animations()
        stop_blinking(pilot.app)
        last, deadline = None, time.monotonic() + most_s
        while time.monotonic() < deadline:
            await pilot.pause(0.05)
            shot = pilot.app.export_screenshot()
            if shot == last:
                return
            last = shot
    return run
