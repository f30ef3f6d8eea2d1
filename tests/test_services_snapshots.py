"""Snapshots of the desk's service screen (f) from a fixture picture with a fixed clock, 80×24 and 160×48, zh and en:
open calls late first with their department, where, age and who took them, then the latest closed."""
from __future__ import annotations

import pytest

from console.core import state as S
from console.desk.app import DeskApp
from console.hub.store import Row
from tests.desk_support import INJECTED_NOTE, MIN, T0, fixture_state, settled

SIZES = [(80, 24), (160, 48)]


def service_state() -> S.State:
    """The desk fixture, plus calls in every state: one late and untaken, two taken (one at a terminal nobody was
    signed in at), one done, one cancelled."""
    state = fixture_state()
    events = [
        ("lobby-1", "service_request", {"service": "tea_break", "where": "洽谈区", "note": "咖啡不够"}, T0 - 14 * MIN),
        ("model-1", "service_request", {"service": "cleaning", "where": "样板间 3 号", "note": INJECTED_NOTE}, T0 - 4 * MIN),
        ("desk-1", "service_update", {"call": "@2", "status": "taken", "by": "王芳", "note": ""}, T0 - 3 * MIN),
        ("lobby-1", "service_request", {"service": "drinks", "where": "贵宾室", "note": ""}, T0 - 9 * MIN),
        ("desk-1", "service_update", {"call": "@4", "status": "done", "by": "李四", "note": ""}, T0 - 2 * MIN),
        ("gate-1", "service_request", {"service": "other", "where": "东门", "note": ""}, T0 - 8 * MIN),
        ("gate-1", "service_update", {"call": "@6", "status": "cancelled", "by": "", "note": "已自行处理"}, T0 - 7 * MIN),
        # Taken at a terminal nobody was signed in at: the longest 处理人 a row has (issue 17).
        ("model-1", "service_request", {"service": "drinks", "where": "样板间 2 号", "note": ""}, T0 - 6 * MIN),
        ("service-1", "service_update", {"call": "@8", "status": "taken", "by": "", "note": ""}, T0 - 5 * MIN),
    ]
    base = state.gseq
    for n, (station, type_, body, at) in enumerate(events, start=1):
        if isinstance(body.get("call"), str):
            body = {**body, "call": base + int(body["call"][1:])}
        S.apply(state, Row(base + n, station, "ep-" + station, base + n, type_, at - 50, at, body))
    late = next(r for r in state.requests.values() if r["service"] == "tea_break")
    S.apply(state, Row(base + 10, "hub", "ep-hub", base + 10, "overdue",
                       T0 - 4 * MIN, T0 - 4 * MIN, {"what": "service", "ref": str(late["id"]), "target": "service",
                                                    "due_ms": T0 - 4 * MIN}))
    return state


@pytest.mark.parametrize("lang,size", [(lang, size) for lang in ("zh", "en") for size in SIZES],
                         ids=lambda v: v if isinstance(v, str) else f"{v[0]}x{v[1]}")
def test_service_screen(snap_compare, lang, size):
    app = DeskApp(state=service_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    assert snap_compare(app, run_before=settled("f"), terminal_size=size)
