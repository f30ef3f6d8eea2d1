"""One hostile key and a crowd (not a test): what other stations feel while one admitted key floods the hub,
and the hub at 300 stations and 5 desks.

    .venv/bin/python bench/hostile.py --quick     # 4 s per flood, 8 s at scale (~1.5 min)
    .venv/bin/python bench/hostile.py             # 10 s per flood, 20 s at scale (~3 min)
    .venv/bin/python bench/hostile.py --shared    # every process on every CPU (no pinning)

Layout: the hub has the first CPU to itself and every client (the victims, the flooder, the load,
the desks and this process) runs on the others, as they would on machines of their own: a figure
then says what one key costs the others through the hub, not what the flooder's own CPU takes from
processes that share a 2-core machine with it. `--shared` leaves the scheduler to place them all.

Flood: the sample event with its own rate limits (what `eventdesk init` writes), the hub as a
subprocess (`python -m console.cli hub DIR`), five stations paced at `--victim-rate` reports/s from
this process (raw CURVE lanes, report->ack timed), and gate-2's key flooding from another process
for `--seconds`, never reading a reply: valid reports, junk (garbage, fresh epochs, extra frames,
oversized), forgeries (reports and hellos claiming gate-1) or snapshot requests. The quiet
baseline is the same five stations with no flood, in the same run: a window as long as a flood just
before each flood, all pooled. Per flood: the victims' p99 against the baseline's, the hub's RSS
(before, peak, 5 s after), and what the log gained in alarm events and rejection rows (bytes of
their text columns, and rows).

Scale: an event of `--stations` stations and 5 desks; one process paces `--rate` reports/s over all
stations, another runs 5 desks that each fetch a snapshot page by page and then follow the feed and
presence. The raw one-at-a-time round trip is a report through the hub and back, one at a time with
nothing else running (the hub's own floor: CURVE, checks, a durable commit), measured in the same
run just before the load; the plain pyzmq echo (bench/ingest.py's B) and the disk's one-row commit
are printed beside it, for what no hub can go under. Prints what it measures, met or not.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmq

from bench import wire
from bench.desk_load import start_hub
from bench.ingest import commit_db, fsync_floor, one_commit
from bench.procs import REPO, CpuMeter, EchoProc, print_table, rss_kb, settle_machine, stop
from console.event.folder import EventFolder, init_folder, make_keys, set_endpoints
from protocols import keys

VICTIMS = (("gate-1", "gate"), ("parking-1", "parking"), ("concierge-1", "concierge"), ("lobby-1", "lobby"),
           ("model-1", "model_unit"))
ATTACKER, CLAIMED = "gate-2", "gate-1"
KINDS = ("valid", "junk", "forge", "snapshot")
POSTS = ("gate", "parking", "concierge", "lobby", "model_unit")
MIB = 1024 * 1024


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def say(text: str = "") -> None:
    print(text, flush=True)


def pin(pid: int, cpus: set[int] | None) -> None:
    """Every thread of `pid` on `cpus` (sched_setaffinity binds one thread; the hub's are already running)."""
    if cpus is None:
        return
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except OSError:   # a thread that ended meanwhile
            pass


def make_event(root: Path, stations: int = 0, desks: int = 2) -> EventFolder:
    """The sample event on free loopback ports with keys, stations silent for a minute still online;
    with `stations`, that many in all (posts in turn after the sample's eight) and `desks` desks.
    Rate limits stay as `eventdesk init` writes them."""
    folder = init_folder(root)
    set_endpoints(folder, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
    text = folder.toml.read_text("utf-8")
    text = text.replace("late_s = 5.0 ", "late_s = 60.0").replace("offline_s = 15.0 ", "offline_s = 120.0")
    text = text.replace('desks = ["desk-1", "desk-2"]', "desks = [" + ", ".join(f'"desk-{i}"' for i in range(1, desks + 1)) + "]")
    text += "".join(f'\n[[stations]]\nid = "s{i:03d}"\npost = "{POSTS[i % 5]}"\n' for i in range(8, max(8, stations)))
    folder.toml.write_text(text, "utf-8")
    make_keys(folder)
    return folder


class Peer:
    """A bench/hostile_peers.py subprocess: started, ready, told to go, its figures read at the end."""

    def __init__(self, role: str, spec: dict, out: Path) -> None:
        self.out = out
        spec = {**spec, "out": str(out)}
        self.proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "hostile_peers.py"), role, json.dumps(spec)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        if self.proc.stdout.readline().strip() != "ready":
            raise wire.BenchError(f"{role} did not start: exit {self.proc.wait(10)}")

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float = 120.0) -> dict:
        self.proc.wait(timeout)
        return json.loads(self.out.read_text())


class Rss:
    """The hub's VmRSS every 200 ms on a thread of this process, while `with` lasts."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self._stop = pid, [], threading.Event()

    def __enter__(self) -> Rss:
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.samples.append(rss_kb(self.pid) / 1024)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


class DiskProbe:
    """A one-row durable commit (WAL, synchronous=FULL) every 50 ms on the hub's disk, on a thread of this
    process, while `with` lasts: the slowest says whether the disk itself stalled in a window. This machine's
    disk sometimes takes 30-50 ms for one commit (a trace of the hub's writer thread), and a victim whose ack
    waits for it is slow whatever the hub does; a 4-s window's p99 is its 4th slowest report."""

    def __init__(self, folder: Path) -> None:
        self.path, self.lat, self._stop = folder / "probe.db", [], threading.Event()

    def __enter__(self) -> DiskProbe:
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        with closing(commit_db(self.path)) as conn:
            while not self._stop.wait(0.05):
                self.lat.append(one_commit(conn))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    def line(self) -> str:
        return f"disk probe: one-row commit max {max(self.lat, default=0) * 1000:.1f} ms of {len(self.lat)}"


def log_size(db: Path) -> tuple[int, int, int, int]:
    """(alarm events, their bytes, rejection rows, their bytes): the text the log keeps for each."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        a = c.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(body) + LENGTH(type) + LENGTH(station) + LENGTH(epoch)"
                      " + 24), 0) FROM events WHERE type = 'alarm'").fetchone()
        r = c.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(reason AS BLOB)) + LENGTH(CAST(reason_zh AS BLOB))"
                      " + LENGTH(detail) + LENGTH(type) + LENGTH(station) + LENGTH(epoch) + LENGTH(code) + 24), 0)"
                      " FROM rejections").fetchone()
    return a[0], a[1], r[0], r[1]


def victims(ctx: zmq.Context, folder: EventFolder, info: dict) -> list[wire.Lane]:
    server = info["console_public"].encode()
    lanes = []
    for sid, post in VICTIMS:
        public, secret = keys.load_pair(folder.station_key(sid))
        lane = wire.Lane(ctx, info["endpoint"], sid, post, curve=(public, secret, server))
        lane.hello()
        lanes.append(lane)
    return lanes


def floods(args, tmp: Path, rows: list) -> None:
    folder = make_event(tmp / "flood")
    hub, info = start_hub(folder, tmp / "flood-hub.log")
    ctx = zmq.Context()
    try:
        lanes = victims(ctx, folder, info)
        pin(hub.pid, args.hub_cpus)
        pin(os.getpid(), args.peer_cpus)
        wire.paced(lanes, args.victim_rate, 1.0)                      # warm up
        rss0 = rss_kb(hub.pid) / 1024
        # The quiet baseline: a window as long as a flood just before each flood, all pooled. One window alone
        # moved with whatever else the machine did in its few seconds (its p99 was 1.7-12.5 ms from run to run).
        quiet: list[float] = []
        done = []
        for kind in args.kinds:
            with DiskProbe(tmp) as probe:
                calm, _ = wire.paced(lanes, args.victim_rate, args.seconds)
            quiet += calm
            say(f"quiet window    {len(calm)} reports from 5 stations at {args.victim_rate:.0f}/s: report->ack "
                f"p50 {pct(calm, .5) * 1000:.2f} ms, p99 {pct(calm, .99) * 1000:.2f} ms; {probe.line()}")
            before = log_size(folder.db())
            rss_before = rss_kb(hub.pid) / 1024
            spec = {"root": str(folder.root), "endpoint": info["endpoint"], "station": ATTACKER, "other": CLAIMED,
                    "kind": kind, "seconds": args.seconds, "cap": args.flood_cap}
            attacker = Peer("flood", spec, tmp / f"flood-{kind}.json")
            pin(attacker.proc.pid, args.peer_cpus)
            cpu = CpuMeter({"hub": hub.pid, "flood": attacker.proc.pid, "bench": os.getpid()})
            with Rss(hub.pid) as rss, DiskProbe(tmp) as probe:
                with cpu:
                    attacker.go()
                    lat, _ = wire.paced(lanes, args.victim_rate, args.seconds)
                attacker.go()
                sent = attacker.result()
            time.sleep(args.settle)
            after_rss = rss_kb(hub.pid) / 1024
            after = log_size(folder.db())
            grew = (after[1] - before[1]) + (after[3] - before[3])
            p99 = pct(lat, .99)
            peak = max(rss.samples or [rss_before])
            say(f"flood {kind:<8} {sent['sent']:,} messages in {args.seconds:.0f} s from {ATTACKER}: victims p99 "
                f"{p99 * 1000:.2f} ms, p50 {pct(lat, .5) * 1000:.2f} ms; "
                f"hub RSS {rss_before:.1f} -> peak {peak:.1f} -> {after_rss:.1f} MiB {args.settle:.0f} s later "
                f"(+{peak - rss_before:.1f}; target < 50); log +{after[0] - before[0]} alarms, "
                f"+{after[2] - before[2]} rejections, {grew / 1024:.1f} KiB (target < 1024)")
            say(f"      CPU (share of one core): hub {cpu.line('hub')}; flooder {cpu.line('flood')}; "
                f"victims {cpu.line('bench')}; everyone else {cpu.others / cpu.secs:.0%}; {probe.line()}")
            done.append((kind, p99, (f"{rss_before:.1f}", f"{peak:.1f}", f"{after_rss:.1f}",
                                     f"{after[0] - before[0]}/{after[2] - before[2]}", f"{grew / 1024:.1f}")))
        base_p99 = pct(quiet, .99)
        say(f"quiet baseline  the {len(args.kinds)} quiet windows pooled, {len(quiet)} reports: report->ack p50 "
            f"{pct(quiet, .5) * 1000:.2f} ms, p99 {base_p99 * 1000:.2f} ms; hub RSS {rss0:.1f} MiB before the first")
        rows.append(("quiet", f"{base_p99 * 1000:.2f}", "1.00x", f"{rss0:.1f}", "-", "-", "-", "-"))
        for kind, p99, rest in done:
            say(f"flood {kind:<8} victims p99 {p99 * 1000:.2f} ms = {p99 / base_p99:.2f}x the quiet baseline "
                f"(target <= 2x)")
            rows.append((kind, f"{p99 * 1000:.2f}", f"{p99 / base_p99:.2f}x", *rest))
        for lane in lanes:
            lane.close()
    finally:
        ctx.destroy(linger=0)
        stop(hub)


def scale(args, tmp: Path, rows: list) -> None:
    ctx = zmq.Context()
    echo = EchoProc(ctx)
    try:
        wire.one_at_a_time(echo.one, 200)
        raw = wire.one_at_a_time(echo.one, args.rtt)
    finally:
        echo.kill()
    raw_p99 = pct(raw, .99)
    say(f"plain echo      pyzmq ROUTER, no CURVE, no disk, one at a time, {args.rtt} reports: p50 {pct(raw, .5) * 1000:.3f} ms, "
        f"p99 {raw_p99 * 1000:.3f} ms")
    disk = fsync_floor(tmp)
    say(f"disk            one-row SQLite commit, WAL + synchronous=FULL (the floor under a durable ack): "
        f"p50 {disk[0] * 1000:.3f} ms, p99 {disk[1] * 1000:.3f} ms")
    folder = make_event(tmp / "scale", stations=args.stations, desks=5)
    hub, info = start_hub(folder, tmp / "scale-hub.log")
    try:
        stations = [(s.id, s.post) for s in folder.load().stations]
        common = {"root": str(folder.root), "endpoint": info["endpoint"], "feed": info["feed"]}
        t0 = time.monotonic()
        load = Peer("load", {**common, "stations": stations, "rate": args.rate, "seconds": args.scale_seconds},
                    tmp / "load.json")
        say(f"{len(stations)} stations said hello in {time.monotonic() - t0:.1f} s")
        followers = Peer("desks", {**common, "desks": [f"desk-{i}" for i in range(1, 6)]}, tmp / "desks.json")
        lane = victims(ctx, folder, info)[0]
        pin(hub.pid, args.hub_cpus)
        pin(os.getpid(), args.peer_cpus)
        for peer in (load, followers):
            pin(peer.proc.pid, args.peer_cpus)
        hub_rtt = wire.one_at_a_time(lane, args.rtt)
        rss0 = rss_kb(hub.pid) / 1024
        cpu = CpuMeter({"hub": hub.pid, "load": load.proc.pid, "desks": followers.proc.pid})
        with Rss(hub.pid) as rss:
            with cpu:
                load.go()
                load.proc.stdout.readline()      # "paced": its figures are in, the process waits to be told
                loaded = len(rss.samples)        # the samples taken while the load ran
            load.go()
            got = load.result(args.scale_seconds + 60)
        followers.go()
        desks = followers.result()["desks"]
        lat = got["lat"]
        p99 = pct(lat, .99)
        s = rss.samples or [rss0]
        third = max(1, len(s) // 3)
        hub_p99 = pct(hub_rtt, .99)
        say(f"raw round trip  through the hub, one at a time, nothing else sending, {args.rtt} reports: "
            f"p50 {pct(hub_rtt, .5) * 1000:.3f} ms, p99 {hub_p99 * 1000:.3f} ms")
        say(f"at scale        {len(lat):,} reports at {args.rate:.0f}/s over {len(stations)} stations, 5 desks following: "
            f"report->ack p50 {pct(lat, .5) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms = {p99 / hub_p99:.1f}x the raw "
            f"one-at-a-time round trip through the hub (target <= 5x); {p99 / raw_p99:.1f}x the plain echo's; "
            f"sends late p99 {got['late_p99'] * 1000:.1f} ms")
        say(f"CPU (share of one core): hub {cpu.line('hub')}; load {cpu.line('load')}; desks {cpu.line('desks')}; "
            f"everyone else {cpu.others / cpu.secs:.0%}")
        say(f"hub RSS         {rss0:.1f} MiB before; first third {max(s[:third]):.1f}, last third {max(s[-third:]):.1f}, "
            f"peak {max(s):.1f} MiB; every 5 s: " + " ".join(f"{x:.1f}" for x in s[::25]))
        # The hub fills its caches over its first ~25 s at this rate (then it is flat: a 60-s run, bench/README.md).
        half = s[loaded // 2:loaded] or s
        say(f"hub RSS, last half of the load: {min(half):.1f} to {max(half):.1f} MiB, {half[-1] - half[0]:+.1f} from its "
            f"start to its end (target: flat; runs under ~50 s are still filling caches: `--scale-seconds 60`)")
        for d in desks:
            say(f"  {d['desk']}: snapshot in {d['snapshot_pages']} page(s), {d['events']:,} events, "
                f"{d['presence']} presence messages, {d['gaps']} gaps, {d['cut']} cut")
        rows.append(("scale", f"{p99 * 1000:.2f}", f"{p99 / hub_p99:.1f}x one-at-a-time", f"{rss0:.1f}", f"{max(s):.1f}",
                     f"{s[-1]:.1f}", "-", "-"))
        lane.close()
    finally:
        ctx.destroy(linger=0)
        stop(hub)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="shorter phases (CI)")
    p.add_argument("--seconds", type=float, help="length of each flood (default 10; quick 4)")
    p.add_argument("--victim-rate", type=float, default=100.0, help="reports/s the five other stations send")
    p.add_argument("--flood-cap", type=float, default=0.0,
                   help="messages/s the flooder may send at most (0: as fast as the hub takes them)")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after a flood before RSS is read again")
    p.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    p.add_argument("--stations", type=int, default=300)
    p.add_argument("--rate", type=float, default=2000.0, help="reports/s at scale, over all stations")
    p.add_argument("--scale-seconds", type=float, help="length of the scale run (default 20; quick 8)")
    p.add_argument("--rtt", type=int, default=1000, help="one-at-a-time round trips for the raw figure")
    p.add_argument("--skip-flood", action="store_true")
    p.add_argument("--skip-scale", action="store_true")
    p.add_argument("--shared", action="store_true",
                   help="no pinning: the hub and every client on every CPU (default: the hub alone on the first "
                        "CPU, the clients on the others, as if they ran on machines of their own)")
    p.add_argument("--dir", type=Path, help="work here (kept) instead of a temporary folder")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (4.0 if args.quick else 10.0)
    args.scale_seconds = args.scale_seconds or (8.0 if args.quick else 20.0)
    cpus = sorted(os.sched_getaffinity(0))
    split = not args.shared and len(cpus) > 1
    args.hub_cpus, args.peer_cpus = ({cpus[0]}, set(cpus[1:])) if split else (None, None)
    say(f"layout          " + (f"the hub on CPU {cpus[0]}, every client on CPU " + ",".join(map(str, cpus[1:]))
                               if split else "every process on every CPU (not pinned)"))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        tmp = args.dir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[str, ...]] = [("phase", "victims p99 ms", "vs baseline", "RSS before", "peak", "after",
                                        "alarms/rejections", "log KiB")]
        say(settle_machine())
        if not args.skip_flood:
            floods(args, tmp, rows)
        if not args.skip_scale:
            scale(args, tmp, rows)
        print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
