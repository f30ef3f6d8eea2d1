"""The station terminal's event loop while staff type: a report every 50 ms against a real hub, lag vs. the same app idle.

    .venv/bin/python bench/station_typing.py --quick    # 10 s of typing, ~30 s in all
    .venv/bin/python bench/station_typing.py            # 60 s of typing, ~90 s in all

A hub subprocess on the sample event (ports 0, rate limit lifted), a gate terminal
(StationApp headless under `run_test`, its real StationClient and outbox file) whose outbox
already holds `--seed` delivered reports (a busy gate's day so far). Measured in the terminal's
process: event-loop lag (a 10 ms asyncio timer that schedules itself; lag = how late it wakes),
first with the app idle (the baseline, same run, same length), then while F1 (car in, one key)
is pressed every `--every` ms; and per report, key press -> delivered (the hub's ack in the outbox).
Prints figures; never a timed test. Target: lag p99 <= 30 ms while typing.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.desk_load import PROBE_S, msf, pct, say, start_hub
from bench.procs import make_folder, print_table, stop
from stations.link.client import StationClient
from stations.terminal.app import StationApp
from stations.terminal.posts.base import Site

STATION = "gate-1"


def make_client(folder, info: dict, delivered: dict[int, float]) -> StationClient:
    def changed(kind: str, payload) -> None:   # on the link's thread
        if kind == "report" and payload.state == "delivered":
            delivered.setdefault(payload.seq, time.perf_counter())
    return StationClient(STATION, folder.outbox(STATION), folder.station_key(STATION), folder.console_public,
                         info["endpoint"], info["feed"], post="gate", on_change=changed)


def seed(client: StationClient, n: int) -> None:
    """`n` reports saved before the run (fsync off for the seeding only: it is setup, not measured)."""
    client.outbox.conn.execute("PRAGMA synchronous=OFF")
    for i in range(n):
        client.submit("car_in" if i % 3 else "car_out", {})
    client.outbox.conn.execute("PRAGMA synchronous=FULL")


async def run(args, client: StationClient, site: Site, res: dict) -> None:
    app = StationApp(client, site, "en")
    lags: dict[str, list[float]] = {"idle": [], "typing": []}
    phase = ["setup"]

    async def probe() -> None:
        due = time.perf_counter() + PROBE_S
        while phase[0] != "done":
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = time.perf_counter()
            if phase[0] in lags:
                lags[phase[0]].append(now - due)
            due = now + PROBE_S

    async with app.run_test(headless=True, size=(80, 24)) as pilot:
        deadline = time.monotonic() + 60
        while not (client.status().state == "online" and client.outbox.depth() == 0):   # the seed delivered
            if time.monotonic() > deadline:
                raise RuntimeError("the seeded reports were not delivered in 60 s")
            await asyncio.sleep(0.1)
        first = client.outbox.next_seq
        prober = asyncio.create_task(probe())
        phase[0] = "idle"
        await asyncio.sleep(args.seconds)
        phase[0] = "typing"
        pressed: list[float] = []
        start = time.perf_counter()
        while (due := start + len(pressed) * args.every / 1000) < start + args.seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pressed.append(time.perf_counter())
            await pilot.press("f1")
        phase[0] = "drain"
        deadline = time.monotonic() + 30
        while client.outbox.next_seq - first < len(pressed) or client.outbox.depth():
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        phase[0] = "done"
        await prober
    res.update(lags=lags, pressed=pressed, first=first)


def report(args, res: dict, delivered: dict[int, float]) -> None:
    idle, typing = res["lags"]["idle"], res["lags"]["typing"]
    pressed, first = res["pressed"], res["first"]
    waits = [delivered[first + i] - t for i, t in enumerate(pressed) if first + i in delivered]
    say(f"typing      {len(pressed):,} presses of F1 in {args.seconds:g} s (one per {args.every:g} ms); "
        f"{len(waits):,} delivered; outbox seeded with {args.seed:,} reports")
    p99, base99 = pct(typing, .99), pct(idle, .99)
    ratio = (lambda a, b: f"{a / b:.1f}x" if b > 0 else "-")
    print_table([
        ("figure", "typing", "idle (baseline)", "ratio", "target", "met"),
        ("event-loop lag p50", msf(pct(typing, .5)), msf(pct(idle, .5)), ratio(pct(typing, .5), pct(idle, .5)),
         "(info)", "-"),
        ("event-loop lag p99", msf(p99), msf(base99), ratio(p99, base99), "<= 30 ms", "yes" if p99 <= 0.030 else "NO"),
        ("event-loop lag max", msf(max(typing, default=0)), msf(max(idle, default=0)),
         ratio(max(typing, default=0), max(idle, default=0)), "(info)", "-"),
        ("press -> delivered p50", msf(pct(waits, .5)), "-", "-", "(info)", "-"),
        ("press -> delivered p99", msf(pct(waits, .99)), "-", "-", "(info)", "-"),
        ("press -> delivered max", msf(max(waits, default=0)), "-", "-", "(info)", "-"),
        ("wakes of the 10 ms timer", f"{len(typing):,}", f"{len(idle):,}", "-", "-", "-"),
    ])


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="10 s of typing (and 10 s idle)")
    p.add_argument("--seconds", type=float, help="length of each phase (default 60; quick 10)")
    p.add_argument("--every", type=float, default=50.0, help="ms between two key presses")
    p.add_argument("--seed", type=int, default=2000, help="reports already in the outbox")
    p.add_argument("--dir", help="make the work folder here")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    work = Path(tempfile.mkdtemp(prefix="station-typing-", dir=args.dir))
    hub = client = None
    try:
        folder = make_folder(work / "event")
        hub, info = start_hub(folder, work / "hub.log")
        say(f"hub         pid {hub.pid} on {info['endpoint']}; terminal {STATION}; work folder {work}")
        delivered: dict[int, float] = {}
        client = make_client(folder, info, delivered)
        seed(client, args.seed)
        res: dict = {}
        asyncio.run(run(args, client, Site.from_summary(STATION, folder.load().summary()), res))
        report(args, res, delivered)
        return 0
    finally:
        if client is not None:
            client.close()
        stop(hub)


if __name__ == "__main__":
    sys.exit(main())
