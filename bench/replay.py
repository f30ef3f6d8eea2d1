"""Benchmark of a restart: write a log of N realistic events fast, then time the hub's rebuild of its state.

The log is written with Store.append_batch in big batches (synchronous off while building:
only the rebuild is timed). Bodies are the canonical JSON the hub itself stores. Knows the
store, the state fold and Ingest; no sockets.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

from console.event.folder import Event
from console.hub.ingest import Ingest
from console.hub.store import Store, dumps
from protocols import codec
from protocols.messages import ALLOWED

DAY_START_MS = 1_796_000_000_000     # 2026-12-01, any fixed day will do
DAY_MS = 9 * 3600 * 1000             # 09:00 to 18:00
# Share of each kind in a busy opening day (heartbeats are not logged).
MIX = {"guest_arrival": 22, "car_in": 14, "car_out": 12, "lot_occupancy": 16,
       "zone_enter": 18, "zone_exit": 17.9, "incident_report": 0.1}


def _bodies(event: Event, rng: random.Random) -> dict[str, list[str]]:
    """A pool of stored-form bodies per kind (canonical JSON of the full validated body)."""
    lots, zones = [a.id for a in event.lots], [a.id for a in event.zones]
    raw: dict[str, list[dict]] = {
        "guest_arrival": [{"count": rng.randint(1, 6), "vip_level": rng.choice(["", "", "", "A", "B"]),
                           "guest_ref": rng.choice(["", f"G{i:04d}"]), "note": rng.choice(["", "", "带两位儿童"])}
                          for i in range(200)],
        "car_in": [{"plate": f"湘A·{rng.randint(10000, 99999)}", "vip": rng.random() < 0.05} for _ in range(200)],
        "car_out": [{"plate": f"湘A·{rng.randint(10000, 99999)}"} for _ in range(200)],
        "lot_occupancy": ([{"lot": rng.choice(lots), "delta": rng.choice([1, 1, -1, 2, -2])} for _ in range(150)]
                          + [{"lot": rng.choice(lots), "occupied": rng.randint(0, 200)} for _ in range(40)]
                          + [{"lot": lot, "full": True} for lot in lots]),
        "zone_enter": [{"zone": rng.choice(zones), "count": rng.randint(1, 8)} for _ in range(200)],
        "zone_exit": [{"zone": rng.choice(zones), "count": rng.randint(1, 8)} for _ in range(200)],
        "incident_report": [{"kind": rng.choice(["medical", "crowding", "vehicle", "lost_property", "water_leak"]),
                             "severity": rng.choice([1, 2, 2, 3]), "location": "B1", "note": "现场需要支援"}
                            for _ in range(20)],
    }
    return {t: [dumps(codec.build(t, b).as_body()) for b in bs] for t, bs in raw.items()}


def build_log(path: Path, event: Event, n: int, batch: int = 100_000, seed: int = 7) -> float:
    """Write `n` events to a fresh log at `path`; return the seconds it took."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    bodies = _bodies(event, rng)
    senders = {t: [s.id for s in event.stations if t in ALLOWED[s.post]] for t in MIX}
    epochs = {s.id: rng.getrandbits(64).to_bytes(8, "big").hex() for s in event.stations}
    seqs = dict.fromkeys(epochs, 0)
    kinds, weights = list(MIX), list(MIX.values())
    store = Store(path, writer=True)
    store.conn.execute("PRAGMA synchronous=OFF")
    try:
        step = DAY_MS / n
        for start in range(0, n, batch):
            k = min(batch, n - start)
            rows = []
            for j, t in enumerate(rng.choices(kinds, weights, k=k)):
                st = rng.choice(senders[t])
                seqs[st] = seq = seqs[st] + 1
                recv = DAY_START_MS + int((start + j) * step)
                rows.append((st, epochs[st], seq, t, recv - rng.randint(5, 400), recv, rng.choice(bodies[t])))
            store.append_batch(rows)
    finally:
        store.close()
    return time.perf_counter() - t0


def time_rebuild(path: Path, event: Event, n: int) -> dict[str, float]:
    """Open the log as the hub does and time Ingest (replay + last seqs); then the parts apart."""
    t0 = time.perf_counter()
    store = Store(path, writer=True)
    t1, c1 = time.perf_counter(), time.process_time()
    try:
        ingest = Ingest(store, event)
        t2, c2 = time.perf_counter(), time.process_time()
        state = ingest.state
        if state.gseq != n or sum(state.counts.values()) != n or state.totals["faults"]:
            raise RuntimeError(f"replay folded {sum(state.counts.values())} of {n} events, "
                               f"{state.totals['faults']} faults")
        c3 = time.process_time()
        rows = sum(1 for _ in store.since(0))   # read + JSON parse only, no fold
        c4 = time.process_time()
        store.last_seqs()
        c5 = time.process_time()
    finally:
        store.close()
    # The parts in CPU seconds: steadier than wall time on a shared machine.
    return {"open_s": t1 - t0, "ingest_s": t2 - t1, "cpu_s": c2 - c1, "read_cpu": c4 - c3,
            "last_seqs_cpu": c5 - c4, "fold_cpu": (c2 - c1) - (c4 - c3) - (c5 - c4), "rows": rows}


def profile_rebuild(path: Path, event: Event, top: int = 15) -> str:
    """cProfile of one more Ingest construction, top functions by own time."""
    import cProfile
    import io
    import pstats
    store = Store(path, writer=True)
    try:
        prof = cProfile.Profile()
        prof.enable()
        Ingest(store, event)
        prof.disable()
    finally:
        store.close()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
