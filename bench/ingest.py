"""Ingest benchmark (not a test): the real hub against plain pyzmq + msgpack, measured in one run.

    .venv/bin/python bench/ingest.py            # default sizes
    .venv/bin/python bench/ingest.py --quick    # CI sizes, well under a minute
    .venv/bin/python bench/ingest.py --reports 1000000 --rebuild 1000000   # the full run

Baselines A (pipelined, 100 in flight) and B (one at a time) run against a bare ROUTER in a
subprocess. The hub runs as `python -m console.cli hub DIR` in a subprocess with CURVE and
ZAP, each report validated, committed (synchronous=FULL), acked and folded; five raw DEALER
lanes with station keys load it. Then latency at a paced 1,000 reports/s, hub RSS over a
long run, and the time to rebuild state from a log of N events. Prints figures and a table.
Everything runs on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmq

from bench import replay, wire
from console.event import EventFolder, init_folder, make_keys, set_endpoints
from protocols import keys

REPO = Path(__file__).resolve().parent.parent
LANES = (("gate-1", "gate"), ("parking-1", "parking"), ("concierge-1", "concierge"),
         ("lobby-1", "lobby"), ("model-1", "model_unit"))
WINDOW = 100


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def median_rate(n: int, secs: list[float]) -> float:
    return n / sorted(secs)[len(secs) // 2]


def spread(n: int, secs: list[float]) -> str:
    """Median rate of the rounds, with the slowest and fastest."""
    return f"median {median_rate(n, secs):,.0f} (range {n / max(secs):,.0f} - {n / min(secs):,.0f})"


def ms(x: float) -> str:
    return f"{x * 1000:.3f} ms"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of `pid`, by thread name."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_line(before: dict[str, float], after: dict[str, float], secs: float) -> str:
    used = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return ", ".join(f"{k} {v / secs:.0%}" for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v > 0.01 * secs)


def say(text: str = "") -> None:
    print(text, flush=True)


# --- processes ------------------------------------------------------------------------------

def make_folder(root: Path) -> EventFolder:
    """The sample event on ephemeral loopback ports, rate limit out of the way."""
    folder = init_folder(root)
    set_endpoints(folder, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
    text = folder.toml.read_text("utf-8")
    text = re.sub(r"(?m)^rate_per_s = .*$", "rate_per_s = 1e6", text)
    text = re.sub(r"(?m)^rate_burst = .*$", "rate_burst = 1000000", text)
    folder.toml.write_text(text, "utf-8")
    make_keys(folder)
    return folder


def start_hub(folder: EventFolder, log: Path, profile: Path | None) -> tuple[subprocess.Popen, dict]:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "console.cli", "hub", str(folder.root)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = folder.read_runtime()
        if info and info.get("pid") == proc.pid:
            return proc, info
        if proc.poll() is not None:
            raise wire.BenchError(f"hub exited with {proc.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    raise wire.BenchError("hub did not write hub.json in 30 s")


def stop(proc: subprocess.Popen | None, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --- phases ---------------------------------------------------------------------------------

def run_baseline(args, ctx: zmq.Context, res: dict) -> None:
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve-baseline"],
                            stdout=subprocess.PIPE, cwd=REPO)
    lanes: list[wire.Lane] = []
    try:
        endpoint = proc.stdout.readline().decode().strip()
        lane = wire.Lane(ctx, endpoint, "gate-1", "gate")
        lanes.append(lane)
        wire.pipelined([lane], args.warmup, WINDOW)
        srv0, me0 = cpu_s(proc.pid), cpu_s(os.getpid())
        secs = [wire.pipelined([lane], args.base_msgs, WINDOW) for _ in range(args.rounds)]
        res["base_a"] = median_rate(args.base_msgs, secs)
        say(f"baseline A  pipelined, 1 DEALER x {WINDOW} in flight, {args.rounds} x {args.base_msgs:,} msgs:"
            f" {spread(args.base_msgs, secs)} msgs/s")
        say(f"            CPU per thread (of one core): server {cpu_line(srv0, cpu_s(proc.pid), sum(secs))};"
            f" bench client {cpu_line(me0, cpu_s(os.getpid()), sum(secs))}")
        five = [wire.Lane(ctx, endpoint, sid, post) for sid, post in LANES]
        lanes += five
        wire.pipelined(five, args.warmup // 5, WINDOW)
        secs = [wire.pipelined(five, args.base_msgs // 5, WINDOW) for _ in range(args.rounds)]
        res["base_a5"] = median_rate(args.base_msgs, secs)
        say(f"            (info) 5 DEALERs x {WINDOW} in flight, the hub run's shape: {spread(args.base_msgs, secs)} msgs/s")
        wire.one_at_a_time(lane, 200)
        lat = wire.one_at_a_time(lane, args.base_rtt)
        res["base_b"] = (pct(lat, 0.5), pct(lat, 0.99), max(lat))
        say(f"baseline B  one at a time, {args.base_rtt:,} round trips: p50 {ms(pct(lat, .5))}"
            f"  p99 {ms(pct(lat, .99))}  max {ms(max(lat))}")
    finally:
        for lane in lanes:
            lane.close()
        proc.kill()
        proc.wait()


def run_hub(args, ctx: zmq.Context, folder: EventFolder, tmp: Path, res: dict) -> None:
    profile = tmp / "hub.prof" if args.profile else None
    log = tmp / "hub.log"
    proc, info = start_hub(folder, log, profile)
    lanes: list[wire.Lane] = []
    sent = 0
    try:
        pid, server = proc.pid, info["console_public"].encode()
        say(f"hub         pid {pid} on {info['endpoint']}, CURVE; RSS at start {rss_kb(pid) / 1024:.1f} MiB"
            + ("  [under cProfile: figures are NOT comparable]" if profile else ""))
        for sid, post in LANES:
            public, secret = keys.load_pair(folder.station_key(sid))
            lane = wire.Lane(ctx, info["endpoint"], sid, post, curve=(public, secret, server))
            lanes.append(lane)
            lane.hello()
        res["rss_start"] = rss_kb(pid)
        wire.pipelined(lanes, args.warmup // 5, WINDOW)

        if not args.skip_throughput:
            per = args.tp_reports // 5
            hub0, me0 = cpu_s(pid), cpu_s(os.getpid())
            secs = [wire.pipelined(lanes, per, WINDOW) for _ in range(args.rounds)]
            res["tp"] = median_rate(per * 5, secs)
            say(f"hub         durable throughput, 5 stations x {WINDOW} in flight, {args.rounds} x {per * 5:,} reports:"
                f" {spread(per * 5, secs)} reports/s")
            say(f"            CPU per thread (of one core): hub {cpu_line(hub0, cpu_s(pid), sum(secs))};"
                f" bench client {cpu_line(me0, cpu_s(os.getpid()), sum(secs))}")

        if not args.skip_latency:
            lat = wire.one_at_a_time(lanes[0], args.unloaded)
            say(f"hub         (info) one at a time, {args.unloaded:,} reports: p50 {ms(pct(lat, .5))}"
                f"  p99 {ms(pct(lat, .99))}  max {ms(max(lat))}")
            lat, lags = wire.paced(lanes, args.rate, args.paced_s)
            res["lat"] = (pct(lat, 0.5), pct(lat, 0.99), max(lat))
            say(f"hub         paced {args.rate:,.0f} reports/s for {args.paced_s:g} s ({len(lat):,} reports):"
                f" report->ack p50 {ms(res['lat'][0])}  p99 {ms(res['lat'][1])}  max {ms(res['lat'][2])}")
            say(f"            (client send lateness p99 {ms(pct(lags, .99))}, max {ms(max(lags))})")

        if not args.skip_memory:
            total, marks, samples = args.reports - args.reports % 5, [], []
            marks = [total * q // 4 for q in (1, 2, 3, 4)]
            start_rss, t0 = rss_kb(pid), time.perf_counter()

            def progress(done: int) -> None:
                while marks and done >= marks[0]:
                    samples.append((marks.pop(0), rss_kb(pid), time.perf_counter() - t0))

            wire.pipelined(lanes, total // 5, WINDOW, progress)
            res["rss"] = [start_rss] + [s[1] for s in samples]
            say(f"hub         memory over {total:,} reports (VmRSS): start {start_rss / 1024:.1f} MiB, "
                + ", ".join(f"{i * 25}% {kb / 1024:.1f} MiB" for i, (_, kb, _) in enumerate(samples, 1)))
            prev = (0, 0.0)
            rates = []
            for done, _, at in samples:
                rates.append(f"{(done - prev[0]) / (at - prev[1]):,.0f}")
                prev = (done, at)
            say(f"            growth {(samples[-1][1] - start_rss) / 1024:+.1f} MiB over the run, "
                f"{(samples[-1][1] - samples[0][1]) / 1024:+.1f} MiB from 25% to 100%;"
                f" reports/s per quarter: {' / '.join(rates)}")

        if args.with_client:
            run_clients(args, folder, info, tmp, res)
        sent = sum(lane.seq for lane in lanes)
    finally:
        for lane in lanes:
            lane.close()
        stop(proc)
    tail = [ln for ln in log.read_text("utf-8", "replace").splitlines() if ln.startswith("hub stopped")]
    say(f"            {tail[-1] if tail else 'hub log: ' + log.read_text()[-500:]}")
    with sqlite3.connect(folder.db()) as db:
        stored = db.execute("SELECT COUNT(*) FROM events WHERE station != 'hub'").fetchone()[0]
    say(f"            log holds {stored:,} station events; raw lanes sent {sent:,}"
        f" (+ StationClient reports, if run)")
    if profile is not None and profile.exists():
        import pstats
        say("\n--- hub profile (cProfile, top by own time) ---")
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(args.profile_top)
        say("--- hub profile (cumulative) ---")
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(args.profile_top)


def run_clients(args, folder: EventFolder, info: dict, tmp: Path, res: dict) -> None:
    """The same hub fed through StationClient (outbox + link), prefilled, timed to drained."""
    try:
        from stations.client import StationClient
        clients = [StationClient(sid, tmp / "outboxes" / f"{sid}.db", folder.station_key(sid),
                                 folder.console_public, info["endpoint"], post=post)
                   for sid, post in LANES]
    except Exception as exc:  # the client is still being written: report, don't stop the run
        say(f"StationClient could not start: {exc!r}")
        return
    try:
        t0 = time.perf_counter()
        for c in clients:
            pool = wire.report_pool(c.post)
            for i in range(args.client_reports):
                c.submit(*pool[i % len(pool)])
        saved = time.perf_counter() - t0
        t0 = time.perf_counter()
        for c in clients:
            c.start()
        ok = all(c.wait_drained(120) for c in clients)
        secs = time.perf_counter() - t0
        n = args.client_reports * len(clients)
        res["client_tp"] = n / secs if ok else None
        say(f"client      StationClient x5: saved {n:,} reports in {saved:.2f} s ({n / saved:,.0f}/s into outboxes);"
            f" drained {'in %.2f s = %s reports/s' % (secs, f'{n / secs:,.0f}') if ok else 'NOT within 120 s'}")
    except Exception as exc:
        say(f"StationClient run failed: {exc!r}")
    finally:
        for c in clients:
            c.close()


def fsync_floor(tmp: Path, n: int = 200) -> tuple[float, float]:
    """One-row commits with WAL + synchronous=FULL in the bench folder: the durability floor."""
    conn = sqlite3.connect(str(tmp / "fsync.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, body TEXT)")
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t (body) VALUES (?)", ("x" * 120,))
        conn.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
    conn.close()
    return pct(lat, 0.5), pct(lat, 0.99)


def run_rebuild(args, folder: EventFolder, tmp: Path, res: dict) -> None:
    event = folder.load()
    path = tmp / "rebuild" / "event.db"
    path.parent.mkdir()
    built = replay.build_log(path, event, args.rebuild)
    say(f"rebuild     wrote a log of {args.rebuild:,} events in {built:.1f} s "
        f"({path.stat().st_size / 2**20:.0f} MiB)")
    replay.time_rebuild(path, event, args.rebuild)   # warm: the OS page cache, imports
    r = replay.time_rebuild(path, event, args.rebuild)
    res["rebuild"] = r["ingest_s"]
    say(f"rebuild     Ingest(store, event): {r['ingest_s']:.2f} s = {args.rebuild / r['ingest_s']:,.0f} events/s"
        f"  (Store open {r['open_s'] * 1000:.0f} ms)")
    say(f"            parts: read+JSON {r['read_s']:.2f} s, fold+Row {r['fold_s']:.2f} s,"
        f" last_seqs {r['last_seqs_s']:.2f} s")
    if args.profile:
        say("\n--- rebuild profile (cProfile, top by own time) ---")
        say(replay.profile_rebuild(path, event, args.profile_top))


def table(res: dict, args) -> None:
    rows = [("figure", "value", "baseline", "ratio", "target", "met?")]

    def add(fig, value, base, ratio, target, met):
        rows.append((fig, value, base, ratio, target, met))

    a, b = res.get("base_a"), res.get("base_b")
    if "tp" in res:
        r = res["tp"] / a if a else None
        add("durable throughput (reports/s)", f"{res['tp']:,.0f}", f"A {a:,.0f}" if a else "-",
            f"{r:.2f}x" if r else "-", ">= 0.5x", ("yes" if r >= 0.5 else "NO") if r else "-")
    if "lat" in res:
        p50, p99, mx = res["lat"]
        r = p99 / b[1] if b else None
        add(f"report->ack p99 @ {args.rate:,.0f}/s", ms(p99), f"B p99 {ms(b[1])}" if b else "-",
            f"{r:.1f}x" if r else "-", "<= 5x", ("yes" if r <= 5 else "NO") if r else "-")
        add(f"report->ack p50 @ {args.rate:,.0f}/s", ms(p50), f"B p50 {ms(b[0])}" if b else "-",
            f"{p50 / b[0]:.1f}x" if b else "-", "-", "-")
        add(f"report->ack max @ {args.rate:,.0f}/s", ms(mx), f"B max {ms(b[2])}" if b else "-", "-", "-", "-")
    if "rss" in res:
        s = res["rss"]
        add(f"hub RSS growth over {args.reports:,}", f"{(s[-1] - s[0]) / 1024:+.1f} MiB",
            f"start {s[0] / 1024:.1f} MiB", "-", "flat (info)", "-")
        add("hub RSS growth 25%->100%", f"{(s[-1] - s[1]) / 1024:+.1f} MiB", "-", "-", "flat (info)", "-")
    if res.get("client_tp"):
        r = res["client_tp"] / a if a else None
        add("StationClient x5 (reports/s)", f"{res['client_tp']:,.0f}", f"A {a:,.0f}" if a else "-",
            f"{r:.2f}x" if r else "-", "(info)", "-")
    if "rebuild" in res:
        s = res["rebuild"]
        add(f"rebuild {args.rebuild:,} events", f"{s:.2f} s ({args.rebuild / s:,.0f} ev/s)", "-", "-",
            f"< {5 * args.rebuild / 1_000_000:g} s" if args.rebuild != 1_000_000 else "< 5 s",
            "yes" if s < 5 * args.rebuild / 1_000_000 else "NO")
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    say()
    for i, r in enumerate(rows):
        say("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            say("  ".join("-" * w for w in widths))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="small sizes for CI (under a minute)")
    p.add_argument("--reports", type=int, help="reports in the memory run (default 200,000)")
    p.add_argument("--rebuild", type=int, help="events in the rebuilt log (default 1,000,000)")
    p.add_argument("--throughput-reports", dest="tp_reports", type=int, help="reports in the throughput run")
    p.add_argument("--rounds", type=int, default=3, help="rounds of each throughput figure (median is kept)")
    p.add_argument("--rate", type=float, default=1000.0, help="offered reports/s for the latency run")
    p.add_argument("--paced-seconds", dest="paced_s", type=float, help="length of the latency run")
    for name in ("baseline", "throughput", "latency", "memory", "rebuild", "hub"):
        p.add_argument(f"--skip-{name}", action="store_true")
    p.add_argument("--with-client", action="store_true", help="also feed the hub through 5 StationClients")
    p.add_argument("--client-reports", type=int, default=2000, help="per StationClient")
    p.add_argument("--profile", action="store_true", help="run the hub under cProfile and profile the rebuild")
    p.add_argument("--profile-top", type=int, default=30)
    p.add_argument("--dir", type=Path, help="work folder (default: a new temp folder, removed after)")
    p.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    q = args.quick
    args.reports = args.reports or (20_000 if q else 200_000)
    args.rebuild = args.rebuild or (100_000 if q else 1_000_000)
    args.tp_reports = args.tp_reports or (10_000 if q else 100_000)
    args.paced_s = args.paced_s or (3.0 if q else 10.0)
    args.base_msgs = 20_000 if q else 100_000
    args.base_rtt = 1000 if q else 5000
    args.unloaded = 200 if q else 1000
    args.warmup = 2500 if q else 10_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.serve_baseline:
        wire.serve_echo()
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="eventdesk-bench-", dir=args.dir))
    say(f"eventdesk ingest bench: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"pyzmq {zmq.__version__} / libzmq {zmq.zmq_version()}, work folder {tmp}"
        f"{' [quick]' if args.quick else ''}")
    f50, f99 = fsync_floor(tmp)
    say(f"disk        one-row SQLite commit, WAL + synchronous=FULL: p50 {ms(f50)}  p99 {ms(f99)}")
    res: dict = {}
    ctx = zmq.Context()
    t_all = time.perf_counter()
    try:
        folder = make_folder(tmp / "event")
        if not args.skip_baseline:
            run_baseline(args, ctx, res)
        if not args.skip_hub and not (args.skip_throughput and args.skip_latency and args.skip_memory
                                      and not args.with_client):
            run_hub(args, ctx, folder, tmp, res)
        if not args.skip_rebuild:
            run_rebuild(args, folder, tmp, res)
        table(res, args)
        say(f"\n(total {time.perf_counter() - t_all:.0f} s)")
    except wire.BenchError as exc:
        say(f"BENCH FAILED: {exc}")
        return 1
    finally:
        ctx.destroy(linger=0)
        if args.dir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
