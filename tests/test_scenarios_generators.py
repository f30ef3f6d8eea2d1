"""Traffic generators, pure: the same seed gives the same reports; the curve, the car lead, lots and zones behave."""
from __future__ import annotations

from collections import Counter

import pytest

from scenarios import generators, loader
from scenarios.model import Traffic
from scenarios.timeline import build

MIN = 60_000


def opening_day():
    return loader.load(loader.shipped()["opening_day"])


def sequence(tl):
    return [(s.at_ms, s.station, s.type, s.body) for s in tl.steps]


@pytest.mark.parametrize("name", sorted(loader.shipped()))
def test_same_seed_same_reports(name):
    sc = loader.load(loader.shipped()[name])
    first, second = build(sc), build(sc)
    assert sequence(first) == sequence(second) and first.figures == second.figures
    assert sequence(build(sc, seed=sc.seed + 1)) != sequence(first)
    # In time order, and inside the scenario.
    times = [s.at_ms for s in first.steps]
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= sc.duration_ms


def test_arrival_curve_builds_up_peaks_after_the_doors_and_tails_off():
    sc = opening_day()
    p = next(tr for tr in sc.traffic if tr.kind == "arrivals").params
    arrivals = [s for s in build(sc).steps if s.type == "guest_arrival" and not s.body.get("guest_ref")]
    per_quarter = Counter(s.at_ms // (15 * MIN) for s in arrivals)
    busiest = max(per_quarter, key=per_quarter.get)
    assert p["doors"] <= busiest * 15 * MIN <= p["peak"] + 15 * MIN        # the peak comes after the doors open
    before = sum(n for q, n in per_quarter.items() if q * 15 * MIN < p["doors"])
    assert 0 < before < per_quarter[busiest] * 2                           # a build-up, smaller than the rush
    late = [per_quarter.get(q, 0) for q in range(busiest + 1, p["end"] // (15 * MIN) + 1)]
    assert late[-1] < late[0] and max(late) < per_quarter[busiest]         # a tail
    assert all(p["start"] <= s.at_ms <= p["end"] for s in arrivals)


def test_total_guests_is_exact():
    sc = opening_day()
    tl = build(sc)
    arrivals = next(tr for tr in sc.traffic if tr.kind == "arrivals").params["guests"]
    delegation = sum(tr.params["guests"] for tr in sc.traffic if tr.kind == "delegation")
    assert tl.guests() == arrivals + delegation == tl.figures["guests"]
    assert sum(s.body["count"] for s in tl.steps if s.type == "guest_arrival" and s.body["vip_level"] == "A") == delegation


def test_cars_come_in_ahead_of_their_guests_and_never_overfill_a_lot():
    sc = opening_day()
    res = generators.generate(sc)
    car_in = {s.body["plate"]: s.at_ms for s in res.steps if s.type == "car_in"}
    with_cars = [q for q in res.parties if q.plates]
    assert with_cars and len(car_in) == sum(len(q.plates) for q in with_cars)
    lead = next(tr for tr in sc.traffic if tr.kind == "cars").params["lead"]
    for q in with_cars:
        for plate in q.plates:
            assert car_in[plate] <= q.at_ms
            assert q.at_ms - car_in[plate] <= lead[1] or q.lot   # a delegation's cars keep their own time
    capacity = {a.id: a.capacity for a in sc.event.lots}
    reported = [s for s in res.steps if s.type == "lot_occupancy"]
    assert all(s.body["occupied"] <= capacity[s.body["lot"]] for s in reported if s.body["occupied"] >= 0)
    full = [s for s in reported if s.body["full"]]
    assert [(s.body["lot"], s.at_ms) for s in full] == list(res.figures["lot_full_ms"].items())
    assert res.figures["lot_peak"]["p1"] == capacity["p1"]                 # "one lot filling up"


def test_zone_counts_never_go_negative_and_departures_follow_arrivals():
    tl = build(opening_day())
    inside: Counter = Counter()
    for s in tl.steps:
        if s.type in ("zone_enter", "zone_exit"):
            inside[s.body["zone"]] += s.body["count"] if s.type == "zone_enter" else -s.body["count"]
            assert inside[s.body["zone"]] >= 0
    arrived = departed = 0
    for s in tl.steps:
        arrived += s.body["count"] if s.type == "guest_arrival" else 0
        departed += s.body["count"] if s.type == "guest_departure" else 0
        assert departed <= arrived


def test_a_new_generator_does_not_move_the_others():
    sc = opening_day()
    extra = Traffic("requests", len(sc.traffic), {"per_hour": 30.0, "stations": ["model-1"], "services": ["drinks"],
                                                  "start": 0, "end": 0})
    more = type(sc)(**{**sc.__dict__, "traffic": sc.traffic + (extra,)})
    before = [s for s in sequence(build(sc)) if s[2] != "service_request"]
    after = [s for s in sequence(build(more)) if s[2] != "service_request"]
    assert before == after
    assert sum(s[2] == "service_request" for s in sequence(build(more))) > sum(
        s[2] == "service_request" for s in sequence(build(sc)))


def test_a_closed_lot_takes_no_more_cars():
    sc = loader.load(loader.shipped()["rainstorm"])
    cars = next(tr for tr in sc.traffic if tr.kind == "cars").params
    lot, closed_at = next(iter(cars["close"].items()))
    res = generators.generate(sc)
    counts = [s for s in res.steps if s.type == "lot_occupancy" and s.body["lot"] == lot and s.at_ms > closed_at]
    values = [s.body["occupied"] for s in counts]
    assert values == sorted(values, reverse=True)       # after the closure the flooded lot only empties
    assert "p1" in res.figures["lot_full_ms"]           # and the other lot fills up
