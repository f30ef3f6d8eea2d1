"""Benchmark of `eventdesk report`: the post-event summary of a log of N events (default 1,000,000).

Writes a realistic day's log with bench.replay.build_log (the ingest benchmark's mix of arrivals,
cars, lots, zones and incidents), adds the desk's side (acknowledgements, resolutions, notes) and
some station silences, then runs `python -m console.cli report DIR` in a child process and prints
the time of each part and the child's peak memory. Target: under 15 s for 1,000,000 events.

    .venv/bin/python bench/report.py                   # 1,000,000 events
    .venv/bin/python bench/report.py --events 100000 --lang both
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.replay import DAY_MS, DAY_START_MS, build_log  # noqa: E402
from console.event.folder import init_folder  # noqa: E402
from console.hub.store import Store, dumps  # noqa: E402
from protocols.messages import DEPARTMENTS  # noqa: E402

TARGET_S = 15.0
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from console.event.folder import EventFolder
from console.report.files import write_report
t0 = time.perf_counter()
done = write_report(EventFolder(Path(sys.argv[1])), langs=tuple(sys.argv[2].split(",")))
print(json.dumps({"seconds": done.seconds, "events": done.summary.events, "incidents": len(done.summary.incidents),
                  "files": [str(p) for p in done.files], "wall": time.perf_counter() - t0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def desk_side(path: Path, seed: int = 11) -> int:
    """What the desk and the hub add to a day: each incident acknowledged, most resolved, notes, silences."""
    rng = random.Random(seed)
    store = Store(path, writer=True)
    try:
        incidents = store.conn.execute("SELECT gseq, recv_ms FROM events WHERE type = 'incident_report'").fetchall()
        stations = [r[0] for r in store.conn.execute("SELECT DISTINCT station FROM events")]
        rows, seq = [], 0
        for gseq, ms in incidents:
            for status, after in (("acknowledged", rng.randint(5, 180)), ("resolved", rng.randint(120, 1800))):
                if status == "resolved" and rng.random() < 0.1:
                    continue
                seq += 1
                rows.append((ms + after * 1000, ("desk-1", "desk-bench", seq, "incident_update",
                                                 {"incident": gseq, "status": status,
                                                  "assign": rng.choice(DEPARTMENTS) if status == "acknowledged" else ""})))
        for i in range(200):
            seq += 1
            rows.append((DAY_START_MS + rng.randrange(DAY_MS), ("desk-1", "desk-bench", seq, "note",
                                                                {"text": f"记录 {i}", "department": rng.choice(DEPARTMENTS)})))
        hub = 0
        for sid in rng.sample(stations, min(3, len(stations))):
            start = DAY_START_MS + rng.randrange(DAY_MS - 3_600_000)
            for status, at in (("offline", start + 15_000), ("online", start + rng.randint(60, 900) * 1000)):
                hub += 1
                rows.append((at, ("hub", "hub-bench", hub, "station_status",
                                  {"station": sid, "status": status, "last_heard_ms": start})))
        rows.sort(key=lambda r: r[0])
        # Appended after the day in gseq order but with their own receive times, as a late desk would be.
        store.append_batch([(st, ep, sq, ty, ms - 50, ms, dumps(body)) for ms, (st, ep, sq, ty, body) in rows])
        return len(rows)
    finally:
        store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--lang", default="zh", help="zh, en or both")
    ap.add_argument("--dir", type=Path, help="keep the work folder here")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-report-"))
    folder = init_folder(work / "event", force=True)
    event = folder.load()
    if folder.db().exists():
        folder.db().unlink()
    print(f"writing a log of {args.events:,} events to {folder.db()} ...", flush=True)
    built = build_log(folder.db(), event, args.events)
    extra = desk_side(folder.db())
    total = args.events + extra
    print(f"  written in {built:.1f} s (+{extra} desk and hub events); {folder.db().stat().st_size / 1e6:.0f} MB")
    langs = "zh,en" if args.lang == "both" else args.lang
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", CHILD, str(folder.root), langs], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - t0
    if run.returncode:
        print(run.stderr, file=sys.stderr)
        return 1
    out = json.loads(run.stdout.strip().splitlines()[-1])
    s = out["seconds"]
    print(f"\nreport of {out['events']:,} events ({out['incidents']} incidents), languages {langs}")
    print(f"  {'read + fold (streamed)':<28}{s['read_and_fold']:8.2f} s   {out['events'] / s['read_and_fold']:,.0f} events/s")
    for key, value in s.items():
        if key not in ("read_and_fold", "total"):
            print(f"  {key:<28}{value:8.2f} s")
    print(f"  {'total (in the child)':<28}{s['total']:8.2f} s")
    print(f"  {'child process, with imports':<28}{wall:8.2f} s")
    print(f"  {'peak memory of the child':<28}{out['maxrss_mb']:8.0f} MB")
    verdict = "OK" if wall < TARGET_S else "OVER"
    print(f"\nREPORT {total:,} events: {wall:.2f} s (target < {TARGET_S:.0f} s) {verdict}")
    print(f"files in {folder.report_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
