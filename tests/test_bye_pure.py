"""A goodbye on the wire (PROTOCOL.md 5.2), pure: the fold holds a closed station closed until it is heard
again, the silent-post plan passes it by, and the summary's uptime counts closed time as neither up nor down."""
from __future__ import annotations

from console.core import plans
from console.core import state as S
from console.hub.store import Row
from console.report.summary import summarise
from protocols import messages as M
from tests.report_fixture import T0, S as SEC, summary_dict
from tests.test_plans import EVENT, LIB

OFFLINE_MS = EVENT.summary()["offline_ms"]


def _state() -> S.State:
    return S.new_state({**EVENT.summary(), "plans": LIB.summary()})


def _status(state: S.State, gseq: int, station: str, status: str, heard: int, at: int) -> None:
    S.apply(state, Row(gseq, "hub", "hub", gseq, "station_status", at, at,
                       M.StationStatus(station=station, status=status, last_heard_ms=heard).as_body()))


def test_a_closed_station_stays_closed_until_heard_then_online() -> None:
    state = _state()
    S.touch(state, "gate-1", T0)
    _status(state, 1, "gate-1", "online", T0, T0)
    S.touch(state, "gate-1", T0 + 5 * SEC)   # the bye itself is heard, then logged
    _status(state, 2, "gate-1", "closed", T0 + 5 * SEC, T0 + 5 * SEC)
    for later in (6 * SEC, OFFLINE_MS + 60 * SEC, 8 * 3600 * SEC):
        assert S.liveness(state, "gate-1", T0 + later) == "closed"
    S.touch(state, "gate-1", T0 + 3600 * SEC)   # its terminal opens again the next morning
    assert S.liveness(state, "gate-1", T0 + 3600 * SEC) == "online"
    assert S.liveness(state, "gate-1", T0 + 3600 * SEC + OFFLINE_MS) == "offline"   # and silence counts again


def test_the_silent_post_plan_passes_a_closed_station_by() -> None:
    after = LIB.get("comms_loss").triggers[0].after_s * SEC
    state = _state()
    for sid in ("gate-1", "parking-1"):
        S.touch(state, sid, T0)
        _status(state, 1, sid, "online", T0, T0)
    _status(state, 3, "gate-1", "closed", T0, T0)
    (proposed,) = [m for m in plans.evaluate(state, LIB, T0 + after + SEC) if isinstance(m, M.PlanProposed)]
    assert proposed.cause == "silent:parking-1"   # gate-1 comes first in the event and is silent as long
    _status(state, 4, "parking-1", "closed", T0, T0)
    assert not [m for m in plans.evaluate(state, LIB, T0 + after + SEC) if isinstance(m, M.PlanProposed)]


def _summary(rows):
    return summarise([Row(g, st, "e", g, ty, ms, ms, body) for g, (ms, st, ty, body) in enumerate(rows, 1)],
                     summary_dict())


def _of(summary, sid: str) -> dict:
    (st,) = [x for x in summary.stations if x["id"] == sid]
    return st


def test_uptime_counts_closed_time_as_neither_online_nor_offline() -> None:
    """mu-1: heard at 0, closed at 10 s, heard again at 40 s, silent from 60 s (offline), log ends at 100 s.
    Closed 30 s is out of the 100 s span: 70 s; offline 40 s of it: uptime 1 - 40/70."""
    def at(s: int) -> int:
        return T0 + s * SEC

    rows = [(at(0), "mu-1", "zone_enter", {"zone": "model", "count": 1}),
            (at(1), "hub", "station_status", {"station": "mu-1", "status": "online", "last_heard_ms": at(0)}),
            (at(10), "hub", "station_status", {"station": "mu-1", "status": "closed", "last_heard_ms": at(10)}),
            (at(41), "hub", "station_status", {"station": "mu-1", "status": "online", "last_heard_ms": at(40)}),
            (at(80), "hub", "station_status", {"station": "mu-1", "status": "offline", "last_heard_ms": at(60)}),
            # gate-1 closes at 20 s and stays closed to the end: closed all that time, never down
            (at(0), "gate-1", "car_in", {"count": 1}),
            (at(20), "hub", "station_status", {"station": "gate-1", "status": "closed", "last_heard_ms": at(20)}),
            (at(100), "park-1", "car_in", {"count": 1})]
    s = _summary(rows)
    mu, gate = _of(s, "mu-1"), _of(s, "gate-1")
    assert (mu["closed_ms"], mu["span_ms"], mu["down_ms"]) == (30 * SEC, 70 * SEC, 40 * SEC)
    assert mu["uptime"] == round(1 - 40 / 70, 4)
    assert [(x["from_ms"] - T0, x["to_ms"] - T0) for x in mu["offline"]] == [(60 * SEC, 100 * SEC)]
    assert (gate["closed_ms"], gate["span_ms"], gate["down_ms"], gate["offline"]) == (80 * SEC, 20 * SEC, 0, [])
    assert gate["uptime"] == 1.0
    # A closed station is no department's shortcoming; whole the day it was open, it is among the highlights.
    short = str([d["shortcomings"] for d in s.departments.values()])
    assert "gate-1" not in short and "东门岗" not in short
    assert "东门岗" in str([d["highlights"] for d in s.departments.values()])


def test_without_a_bye_the_silence_is_offline_as_before() -> None:
    def at(s: int) -> int:
        return T0 + s * SEC

    rows = [(at(0), "mu-1", "zone_enter", {"zone": "model", "count": 1}),
            (at(25), "hub", "station_status", {"station": "mu-1", "status": "offline", "last_heard_ms": at(10)}),
            (at(100), "park-1", "car_in", {"count": 1})]
    mu = _of(_summary(rows), "mu-1")
    assert (mu["closed_ms"], mu["span_ms"], mu["down_ms"]) == (0, 100 * SEC, 90 * SEC)
