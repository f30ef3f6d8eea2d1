"""Two hubs (not a test): how long a takeover takes, and what following costs the primary (issue 19, PROTOCOL.md 5.13).

    .venv/bin/python bench/failover.py            # 20 takeovers, 4 interleaved rounds of each load (~5 min)
    .venv/bin/python bench/failover.py --quick    # 5 takeovers, 2 rounds (~1.5 min)

(a) Takeover: a primary (`python -m console.cli hub DIR`) and a backup (`... --backup`) on 127.0.0.1, each on
its own copy of a fresh event folder; one real StationClient (outbox + link, both hubs known) sends a report
every 20 ms. Once the backup's copy holds the station's first reports, the primary is SIGKILLed; the figure is
the time from the kill to the first report saved after it that the station holds as delivered (only the
backup can have acked it). Each round starts a new pair. The time is mostly the station's liveness (3 of the
hubs' heartbeats, `--heartbeat`) plus its back-off; the backup's peer window (2 heartbeats) runs meanwhile.
(b) The cost of a backup on the primary: the same paced load (`--rate` over five raw CURVE lanes, bench.wire,
open loop) against a hub alone and against a primary with a backup following its feed and asking for log
pages, in alternating rounds; report->ack p99 of each, and their ratio. Both setups run throughout, so
whatever else the machine does weighs on both alike.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmq

from bench import wire
from bench.ingest import ms, pct, say
from bench.procs import LANES, REPO, HubProc, make_folder, print_table, stop
from console.core.event import PAIR_HEARTBEAT_S
from console.event.folder import EventFolder, set_endpoints
from protocols import keys
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED

TICK_S = 0.02           # the takeover station's report interval, and so the figure's resolution
TAKEOVER_GOAL_S = 3.0
COST_GOAL = 1.2


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 (a pair names its ports before its hubs run)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pair_folders(root: Path, heartbeat_s: float) -> tuple[EventFolder, EventFolder]:
    """A fresh event naming a primary and a backup on four 127.0.0.1 ports, and the backup's copy of it."""
    primary = make_folder(root / "primary")
    ports = [f"tcp://127.0.0.1:{free_port()}" for _ in range(4)]
    set_endpoints(primary, ports[0], ports[1])
    text = primary.toml.read_text("utf-8")
    options = {"heartbeat_s": heartbeat_s, "late_s": 4 * heartbeat_s, "offline_s": 10 * heartbeat_s}
    for key, value in options.items():
        text = re.sub(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}   ", text, count=1)
    text = text.replace("[hub]\n", f'[hub]\nbackup_endpoint = "{ports[2]}"\nbackup_feed = "{ports[3]}"\n', 1)
    primary.toml.write_text(text, "utf-8")
    backup = EventFolder(root / "backup")
    shutil.copytree(primary.root, backup.root, ignore=shutil.ignore_patterns("*.db*", "hub*.json"))
    return primary, backup


def start_hub(folder: EventFolder, *args: str) -> subprocess.Popen:
    """`python -m console.cli hub DIR [args]`, once its hub.json names it."""
    with open(folder.root / "hub.out", "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "hub", str(folder.root), "--lang", "en", *args],
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    wait(lambda: proc.poll() is None and (info := folder.read_runtime()) is not None and info.get("pid") == proc.pid,
         30, f"hub {folder.root.name} to start")
    return proc


def wait(predicate, timeout_s: float, what: str, every_s: float = 0.02) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise wire.BenchError(f"no {what} in {timeout_s:g} s")
        time.sleep(every_s)


def count(folder: EventFolder, where: str = "1") -> int:
    try:
        with closing(sqlite3.connect(folder.db())) as db:
            return db.execute("SELECT COUNT(*) FROM events WHERE " + where).fetchone()[0]
    except sqlite3.OperationalError:   # no log yet
        return 0


# --- (a) takeover ---------------------------------------------------------------------------------

def takeover(tmp: Path, n: int, heartbeat_s: float) -> float:
    """One pair, one station under way, the primary SIGKILLed: seconds to the backup's first ack."""
    primary_dir, backup_dir = pair_folders(tmp / f"takeover-{n}", heartbeat_s)
    primary = backup = client = None
    try:
        primary = start_hub(primary_dir)
        backup = start_hub(backup_dir, "--backup")
        (router, feed), other = primary_dir.load().hub.pairs()[0], primary_dir.load().hub.pairs()[1:]
        client = StationClient("gate-1", primary_dir.outbox("gate-1"), primary_dir.station_key("gate-1"),
                               endpoint=router, feed_endpoint=feed, others=other, heartbeat_ms=int(heartbeat_s * 1000),
                               console_public_key_path=primary_dir.console_public).start()
        for _ in range(20):
            client.submit("car_in", {})
        wait(lambda: client.outbox.counts()[DELIVERED] == 20, 30, "acks from the primary")
        wait(lambda: count(backup_dir, "station = 'gate-1'") == 20, 30, "the backup's copy")
        last = client.submit("car_in", {}).seq
        os.kill(primary.pid, signal.SIGKILL)
        t0 = time.perf_counter()
        deadline = t0 + 60
        while time.perf_counter() < deadline:
            time.sleep(TICK_S)
            client.submit("car_in", {})
            if any(r.seq > last and r.state == DELIVERED for r in client.outbox.recent(50)):
                return time.perf_counter() - t0
        raise wire.BenchError("the backup never acked within 60 s of the primary's death")
    finally:
        if client is not None:
            client.close()
        for proc in (primary, backup):
            stop(proc)


def takeovers(args, tmp: Path, rows: list[tuple[str, ...]]) -> None:
    times = []
    for n in range(args.takeovers):
        times.append(takeover(tmp, n, args.heartbeat))
        say(f"takeover {n + 1:>2}/{args.takeovers}  {times[-1]:.2f} s")
    p50, p99 = pct(times, 0.5), pct(times, 0.99)
    liveness = 3 * args.heartbeat
    say(f"takeover        {len(times)} rounds: p50 {p50:.2f} s  p99 {p99:.2f} s  max {max(times):.2f} s "
        f"(the station's liveness alone: {liveness:.1f} s)")
    rows.append((f"takeover, kill -> first ack (p99 of {len(times)})", f"{p99:.2f} s", f"liveness {liveness:.1f} s",
                 f"{p99 / liveness:.2f}x", f"<= {TAKEOVER_GOAL_S:g} s", "yes" if p99 <= TAKEOVER_GOAL_S else "NO"))
    rows.append((f"takeover p50 (of {len(times)})", f"{p50:.2f} s", "-", "-", "(info)", "-"))


# --- (b) what following costs the primary ----------------------------------------------------------

def lanes_to(ctx: zmq.Context, folder: EventFolder, endpoint: str) -> list[wire.Lane]:
    server = folder.read_runtime()["console_public"].encode()
    lanes = []
    for sid, post in LANES:
        public, secret = keys.load_pair(folder.station_key(sid))
        lanes.append(wire.Lane(ctx, endpoint, sid, post, curve=(public, secret, server)))
        lanes[-1].hello()
    return lanes


def cost(args, ctx: zmq.Context, tmp: Path, rows: list[tuple[str, ...]]) -> None:
    alone = HubProc(ctx, tmp / "alone")
    primary_dir, backup_dir = pair_folders(tmp / "pair", args.heartbeat)
    primary = backup = None
    lanes: list[wire.Lane] = []
    try:
        primary = start_hub(primary_dir)
        backup = start_hub(backup_dir, "--backup")
        wait(lambda: count(primary_dir, "type = 'hub_switch'") == 1, 30, "the primary's activation")
        lanes = lanes_to(ctx, primary_dir, primary_dir.load().hub.pairs()[0][0])
        for group in (alone.lanes, lanes):
            wire.pipelined(group, args.warmup // len(group), 100)
        lat: dict[str, list[float]] = {"alone": [], "pair": []}
        for r in range(args.rounds):
            order = [("alone", alone.lanes), ("pair", lanes)]
            for name, group in order if r % 2 == 0 else order[::-1]:
                got, _ = wire.paced(group, args.rate, args.seconds)
                lat[name] += got
                say(f"round {r + 1}/{args.rounds} {name:<5}  {len(got):,} reports at {args.rate:,.0f}/s: "
                    f"p50 {ms(pct(got, 0.5))}  p99 {ms(pct(got, 0.99))}")
        wait(lambda: count(backup_dir) == count(primary_dir), 30, "the backup's copy to hold the primary's log")
        say(f"backup          its copy holds all {count(backup_dir):,} events of the primary's log")
        (a50, a99), (p50, p99) = ((pct(lat[k], 0.5), pct(lat[k], 0.99)) for k in ("alone", "pair"))
        rows.append((f"report->ack p99 @ {args.rate:,.0f}/s, backup following", ms(p99), f"alone {ms(a99)}",
                     f"{p99 / a99:.2f}x", f"<= {COST_GOAL:g}x", "yes" if p99 / a99 <= COST_GOAL else "NO"))
        rows.append((f"report->ack p50 @ {args.rate:,.0f}/s, backup following", ms(p50), f"alone {ms(a50)}",
                     f"{p50 / a50:.2f}x", "(info)", "-"))
    finally:
        for lane in lanes:
            lane.close()
        say(f"alone           {alone.close()}")
        alone.kill()
        for proc in (primary, backup):
            stop(proc)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="5 takeovers, 2 rounds of 3 s (CI)")
    p.add_argument("--takeovers", type=int, help="failovers to time (default 20; quick 5)")
    p.add_argument("--heartbeat", type=float, default=PAIR_HEARTBEAT_S,
                   help=f"the hubs' heartbeat_s (default {PAIR_HEARTBEAT_S:g}, event.toml's with a backup named)")
    p.add_argument("--rate", type=float, default=500.0, help="reports/s offered in each cost round")
    p.add_argument("--seconds", type=float, help="length of each cost round (default 6; quick 3)")
    p.add_argument("--rounds", type=int, help="cost rounds of each setup (default 4; quick 2)")
    p.add_argument("--skip-takeover", action="store_true")
    p.add_argument("--skip-cost", action="store_true")
    p.add_argument("--dir", type=Path, help="work here (kept) instead of a temporary folder")
    args = p.parse_args(argv)
    args.takeovers = args.takeovers or (5 if args.quick else 20)
    args.seconds = args.seconds or (3.0 if args.quick else 6.0)
    args.rounds = args.rounds or (2 if args.quick else 4)
    args.warmup = 1000 if args.quick else 5000
    return args


def run(args, tmp: Path) -> int:
    rows: list[tuple[str, ...]] = [("figure", "value", "baseline", "ratio", "target", "met?")]
    began = time.perf_counter()
    say(f"eventdesk failover bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
        f"hubs' heartbeat {args.heartbeat:g} s, work folder {tmp}{' [quick]' if args.quick else ''}")
    if not args.skip_takeover:
        takeovers(args, tmp, rows)
    if not args.skip_cost:
        ctx = zmq.Context()
        try:
            cost(args, ctx, tmp, rows)
        finally:
            ctx.destroy(linger=0)
    print_table(rows)
    say(f"\n(total {time.perf_counter() - began:.0f} s; load average now {os.getloadavg()[0]:.2f})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="eventdesk-failover-") as scratch:
        tmp = args.dir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            return run(args, tmp)
        except wire.BenchError as exc:
            say(f"BENCH FAILED: {exc}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
