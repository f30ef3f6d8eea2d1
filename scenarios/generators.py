"""Traffic generators: parties of guests on an arrival curve, their cars, stays, zone visits and service calls, as timed reports.

Pure and deterministic: the same scenario and seed give the same steps, byte for byte. Each
generator draws from its own random stream (seed, kind, index), so adding a generator to a
scenario never moves the guests another one made. Knows the event's lots and zones; no
sockets, no clock, no files.
"""
from __future__ import annotations

import math
import random
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from protocols import codec
from scenarios.model import Scenario, Step, Traffic

MIN = 60_000
GRID_MS = 10_000   # the arrival curve is integrated on this grid: fine enough, cheap enough

# The parameters each kind takes: name -> (type, default); a default of ... means required.
# Types are checked by the loader (see loader.PARAM_TYPES).
KINDS: dict[str, dict[str, tuple[str, Any]]] = {
    "arrivals": {"guests": ("count", ...), "party": ("sizes", [1, 4]), "start": ("time", 0),
                 "doors": ("time", ...), "peak": ("time", ...), "end": ("time", ...),
                 "early": ("share", 0.3), "vip_share": ("share", 0.0),
                 "stations": ("stations:concierge", ...)},
    "departures": {"stay": ("range", ...), "stations": ("stations:concierge", ...)},
    "cars": {"share": ("share", ...), "lead": ("range", "2m..6m"), "lag": ("range", "2m..5m"),
             "gates": ("stations:gate", ...), "lots": ("lots", ...), "lot_stations": ("stations:parking", []),
             "count_every": ("time", "10m"), "close": ("closures", {})},
    "zones": {"lobby": ("zone", ...), "lobby_station": ("station:lobby", ...),
              "model": ("zone", ""), "model_station": ("station:model_unit", ""),
              "lobby_stay": ("range", "10m..30m"), "model_share": ("share", 0.0), "model_after": ("range", "5m..20m"),
              "model_stay": ("range", "10m..20m")},
    "delegation": {"at": ("time", ...), "guests": ("count", ...), "level": ("level", "A"),
                   "ref": ("str", ""), "cars": ("int", 0), "lot": ("lot", ""), "gate": ("station:gate", ""),
                   "parking_station": ("station:parking", ""), "concierge": ("station:concierge", ...),
                   "lobby_station": ("station:lobby", ""), "stay": ("time", ...)},
    "requests": {"per_hour": ("float", ...), "stations": ("stations", ...), "services": ("services", ...),
                 "start": ("time", 0), "end": ("time", 0)},
}
NEEDS_ARRIVALS = ("departures", "cars", "zones")


@dataclass
class Party:
    """Guests who arrive together; later generators fill in their stay, car and visits."""

    at_ms: int
    size: int
    concierge: str
    vip: str = ""
    ref: str = ""
    cars: int | None = None        # None: the cars generator decides
    lot: str = ""                  # a reserved lot (a delegation)
    gate: str = ""
    parking_station: str = ""
    lobby_station: str = ""
    stay_ms: int | None = None
    leave_ms: int | None = None
    plates: list[str] = field(default_factory=list)


@dataclass
class Traffic_:
    """What the generators produced: the steps and the figures the scorecard checks against."""

    steps: list[Step] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def stream(seed: int, kind: str, index: int) -> random.Random:
    # A string seed goes through SHA-512: the same stream in every process, whatever PYTHONHASHSEED.
    return random.Random(f"{seed}:{kind}:{index}")


def draw(rng: random.Random, span: tuple[int, int]) -> int:
    low, high = span
    return low if high <= low else rng.randint(low, high)


class _Out:
    """Collects steps in generation order, dropping any outside the scenario."""

    def __init__(self, duration_ms: int) -> None:
        self.duration = duration_ms
        self.steps: list[Step] = []

    def add(self, at_ms: int, station: str, type_: str, body: dict[str, Any], source: str) -> None:
        at_ms = max(0, at_ms)
        if at_ms <= self.duration and station:
            # The full wire body (defaults filled in), checked by the codec: exactly what the log will hold.
            full = codec.build(type_, body).as_body()
            self.steps.append(Step(at_ms, station, type_, full, source, order=len(self.steps)))


# --- the arrival curve ------------------------------------------------------------------------

def density(t: int, start: int, doors: int, peak: int, end: int, early: float) -> float:
    """Arrivals per unit time, peak = 1: a build-up to `early` at the doors, a rise to the peak, an exponential tail."""
    if t < start or t > end:
        return 0.0
    if t <= doors:
        return early * (t - start) / max(1, doors - start)
    if t <= peak:
        return early + (1.0 - early) * (t - doors) / max(1, peak - doors)
    tau = max(1, end - peak) / 3.0
    return math.exp(-(t - peak) / tau)


def arrival_times(rng: random.Random, n: int, p: dict[str, Any]) -> list[int]:
    """`n` sorted arrival times drawn from the curve by inverse transform on a fine grid."""
    start, end = p["start"], p["end"]
    grid = list(range(start, end + 1, GRID_MS)) or [start]
    cumulative, total = [], 0.0
    for t in grid:
        total += density(t, start, p["doors"], p["peak"], end, p["early"])
        cumulative.append(total)
    if total <= 0:
        return [start] * n
    times = []
    for _ in range(n):
        i = min(bisect_left(cumulative, rng.random() * total), len(grid) - 1)
        times.append(grid[i] + rng.randrange(GRID_MS))
    return sorted(min(t, end) for t in times)


def arrivals(tr: Traffic, seed: int) -> list[Party]:
    p, rng = tr.params, stream(seed, "arrivals", tr.index)
    low, high = p["party"]
    sizes, left = [], p["guests"]
    while left > 0:
        size = min(left, rng.randint(low, high))
        sizes.append(size)
        left -= size
    times = arrival_times(rng, len(sizes), p)
    parties = []
    for at, size in zip(times, sizes):
        vip = "C" if p["vip_share"] and rng.random() < p["vip_share"] else ""
        parties.append(Party(at, size, rng.choice(p["stations"]), vip=vip))
    return parties


def delegation(tr: Traffic) -> Party:
    p = tr.params
    return Party(p["at"], p["guests"], p["concierge"], vip=p["level"], ref=p["ref"], cars=p["cars"], lot=p["lot"],
                 gate=p["gate"], parking_station=p["parking_station"], lobby_station=p["lobby_station"],
                 stay_ms=p["stay"])


# --- the pipeline -----------------------------------------------------------------------------

def generate(sc: Scenario, seed: int | None = None) -> Traffic_:
    """Every generated step of the scenario, sorted by time, and the figures behind them."""
    seed = sc.seed if seed is None else seed
    out, res = _Out(sc.duration_ms), Traffic_()
    by_kind: dict[str, list[Traffic]] = {}
    for tr in sc.traffic:
        by_kind.setdefault(tr.kind, []).append(tr)
    parties: list[Party] = []
    for tr in by_kind.get("arrivals", ()):
        parties += arrivals(tr, seed)
    parties += [delegation(tr) for tr in by_kind.get("delegation", ())]
    parties.sort(key=lambda q: q.at_ms)
    for tr in by_kind.get("departures", ()):
        rng = stream(seed, "departures", tr.index)
        for q in parties:
            if q.stay_ms is None:
                q.stay_ms = draw(rng, tr.params["stay"])
    for q in parties:
        q.leave_ms = q.at_ms + q.stay_ms if q.stay_ms is not None else None
    listed = {g["ref"]: g.get("name", "") for g in sc.guests}   # the lobby checks a listed party in by its name
    for q in parties:
        body = {"count": q.size, "vip_level": q.vip}
        if q.ref:
            body["guest_ref"] = q.ref
        out.add(q.at_ms, q.concierge, "guest_arrival", body, "arrivals")
        if q.lobby_station:
            out.add(q.at_ms + 2 * MIN, q.lobby_station, "guest_checkin",
                    {"guest_ref": q.ref, "name": listed.get(q.ref) or q.ref, "party_size": q.size, "vip_level": q.vip}, "delegation")
    departure_stations = [s for tr in by_kind.get("departures", ()) for s in tr.params["stations"]]
    rng = stream(seed, "departure-posts", 0)
    for q in parties:
        if q.leave_ms is not None and departure_stations:
            station = q.concierge if q.vip else rng.choice(departure_stations)
            out.add(q.leave_ms, station, "guest_departure", {"count": q.size}, "departures")
    lots: dict[str, Any] = {}
    for tr in by_kind.get("cars", ()):
        lots = _cars(tr, sc, seed, parties, out)
    for tr in by_kind.get("zones", ()):
        _zones(tr, sc, seed, parties, out)
    for tr in by_kind.get("requests", ()):
        _requests(tr, sc, seed, out)
    res.parties = parties
    res.steps = sorted(out.steps, key=Step.key)
    res.figures = {
        "parties": len(parties), "guests": sum(q.size for q in parties),
        "vip_guests": sum(q.size for q in parties if q.vip),
        "departed_guests": sum(q.size for q in parties if q.leave_ms is not None and q.leave_ms <= sc.duration_ms),
        **lots,
    }
    return res


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "湘" + rng.choice(letters) + "·" + "".join(rng.choice("0123456789" + letters[:6]) for _ in range(5))


def _cars(tr: Traffic, sc: Scenario, seed: int, parties: list[Party], out: _Out) -> dict[str, Any]:
    """Cars arrive ahead of their guests and fill the lots in order; lots report counts and "full"."""
    p, rng = tr.params, stream(seed, "cars", tr.index)
    capacity = {a.id: a.capacity for a in sc.event.lots}
    lot_station = _lot_stations(p, sc)
    moves: list[tuple[int, int, str, Party | None, str]] = []   # (t, +1/-1, plate, party, gate)
    for q in parties:
        n = q.cars if q.cars is not None else (1 if rng.random() < p["share"] else 0)
        gate = q.gate or rng.choice(p["gates"])
        for i in range(n):
            plate = _plate(rng)
            q.plates.append(plate)
            t_in = max(0, q.at_ms - draw(rng, p["lead"]))
            moves.append((t_in, 1, plate, q, gate))
            if q.leave_ms is not None:
                moves.append((q.leave_ms + draw(rng, p["lag"]), -1, plate, q, gate))
    moves.sort(key=lambda m: (m[0], -m[1]))
    occupied = dict.fromkeys(p["lots"], 0)
    parked: dict[str, str] = {}
    full_at: dict[str, int] = {}
    peak = dict.fromkeys(p["lots"], 0)
    counted = dict.fromkeys(p["lots"], 0)
    tick, every = p["count_every"], p["count_every"]
    turned = cars_in = cars_out = 0
    for t, sign, plate, q, gate in moves:
        if t > sc.duration_ms:
            break   # the rest happens after the rehearsal ends
        while every and tick <= t:
            _count(out, tick, occupied, counted, lot_station)
            tick += every
        if sign > 0:
            lot = q.lot or next((lot for lot in p["lots"] if occupied[lot] < capacity[lot]
                                 and not (lot in p["close"] and t >= p["close"][lot])), "")
            out.add(t, gate, "car_in", {"plate": plate, "vip": bool(q.vip), "count": 1}, "cars")
            cars_in += 1
            if not lot:   # nowhere to park: the gate sends the car away again
                out.add(t + MIN, gate, "car_out", {"plate": plate, "count": 1}, "cars")
                turned += 1
                continue
            parked[plate] = lot
            occupied[lot] += 1
            peak[lot] = max(peak[lot], occupied[lot])
            if q.lot:
                out.add(t + MIN, q.parking_station or lot_station.get(lot, ""), "space_assign",
                        {"lot": lot, "space": f"VIP-{len(parked)}", "plate": plate}, "cars")
            if occupied[lot] >= capacity[lot] and lot not in full_at and t <= sc.duration_ms:
                full_at[lot] = t
                out.add(t, lot_station.get(lot, ""), "lot_occupancy", {"lot": lot, "full": True}, "cars")
                counted[lot] = occupied[lot]
        elif plate in parked:
            occupied[parked.pop(plate)] -= 1
            out.add(t, gate, "car_out", {"plate": plate, "count": 1}, "cars")
            cars_out += 1
    while every and tick <= sc.duration_ms:
        _count(out, tick, occupied, counted, lot_station)
        tick += every
    return {"cars_in": cars_in, "cars_out": cars_out, "turned_away": turned, "lot_full_ms": full_at,
            "lot_peak": peak, "lot_end": dict(occupied)}


def _lot_stations(p: dict[str, Any], sc: Scenario) -> dict[str, str]:
    given = p["lot_stations"] or [s.id for s in sc.event.stations if s.post == "parking"]
    return {lot: given[i % len(given)] for i, lot in enumerate(p["lots"])} if given else {}


def _count(out: _Out, t: int, occupied: dict[str, int], counted: dict[str, int], lot_station: dict[str, str]) -> None:
    """The periodic head count each parking post reports, only when it changed since the last one."""
    for lot, n in occupied.items():
        if n != counted[lot]:
            out.add(t, lot_station.get(lot, ""), "lot_occupancy", {"lot": lot, "occupied": n}, "cars")
            counted[lot] = n


def _zones(tr: Traffic, sc: Scenario, seed: int, parties: list[Party], out: _Out) -> None:
    """Parties sit in the lobby for a while, some then tour the show flat (send-off notice if they leave from there)."""
    p, rng = tr.params, stream(seed, "zones", tr.index)
    lobby, lobby_st = p["lobby"], p["lobby_station"]
    for q in parties:
        t_in = q.at_ms + MIN
        leave = q.leave_ms if q.leave_ms is not None else math.inf
        if leave - t_in < 2 * MIN:
            continue
        t_out = min(t_in + draw(rng, p["lobby_stay"]), leave - MIN)
        out.add(t_in, lobby_st, "zone_enter", {"zone": lobby, "count": q.size}, "zones")
        out.add(int(t_out), lobby_st, "zone_exit", {"zone": lobby, "count": q.size}, "zones")
        if p["model"] and rng.random() < p["model_share"]:
            t_m = max(t_out, q.at_ms + draw(rng, p["model_after"]))
            t_end = t_m + draw(rng, p["model_stay"])
            if t_end >= leave:
                continue
            out.add(int(t_m), p["model_station"], "zone_enter", {"zone": p["model"], "count": q.size}, "zones")
            out.add(int(t_end), p["model_station"], "zone_exit", {"zone": p["model"], "count": q.size}, "zones")
            if leave - t_end <= 10 * MIN:
                # Leaving straight from the show flat: it tells the other posts to prepare the send-off.
                out.add(int(t_end), p["model_station"], "sendoff_notice", {"count": q.size}, "zones")


def _requests(tr: Traffic, sc: Scenario, seed: int, out: _Out) -> None:
    """Service calls (drinks, tea break, cleaning) as a Poisson stream per station."""
    p, rng = tr.params, stream(seed, "requests", tr.index)
    end = p["end"] or sc.duration_ms
    for station in p["stations"]:
        t = p["start"]
        while True:
            t += int(rng.expovariate(p["per_hour"] / 3_600_000)) if p["per_hour"] > 0 else end + 1
            if t > end:
                break
            # No place typed: a station's id is not a place staff would write.
            out.add(t, station, "service_request", {"service": rng.choice(p["services"]), "where": ""},
                    "requests")
