"""Ingest benchmark (not a test): the real hub against plain pyzmq + msgpack, measured in one run.

    .venv/bin/python bench/ingest.py            # default sizes (a few minutes)
    .venv/bin/python bench/ingest.py --quick    # CI sizes, under a minute
    .venv/bin/python bench/ingest.py --reports 1000000   # the full memory run

Baselines A (pipelined, 100 in flight) and B (one at a time) run against a bare ROUTER in a
subprocess. The hub runs as `python -m console.cli hub DIR` in a subprocess with CURVE and
ZAP, each report validated, committed (synchronous=FULL), acked and folded; five raw DEALER
lanes with station keys load it. Throughput rounds of baseline and hub alternate, so a busy
machine slows both alike. Then latency at a paced 1,000 reports/s, hub RSS over a long run,
and the time to rebuild state from a log of N events. Prints figures and a table.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmq

from bench import replay, wire
from bench.procs import CpuMeter, EchoProc, HubProc, make_folder, print_table, rss_kb, settle_machine

WINDOW = 100


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def ms(x: float) -> str:
    return f"{x * 1000:.3f} ms"


def median_rate(n: int, secs: list[float]) -> float:
    return n / sorted(secs)[len(secs) // 2]


def spread(n: int, secs: list[float]) -> str:
    return f"median {median_rate(n, secs):,.0f} (range {n / max(secs):,.0f} - {n / min(secs):,.0f})"


def lat3(xs: list[float]) -> tuple[float, float, float]:
    return pct(xs, 0.5), pct(xs, 0.99), max(xs)


def say(text: str = "") -> None:
    print(text, flush=True)


# --- phases ---------------------------------------------------------------------------------

def throughput(args, echo: EchoProc | None, hubs: dict[str, HubProc], res: dict) -> None:
    """Rounds of A (1 lane), A (5 lanes) and each hub, alternating; the median round of each."""
    me = os.getpid()
    runs = []
    if echo:
        runs += [("A", [echo.one], args.base_msgs, echo.pid), ("A5", echo.five, args.base_msgs, echo.pid)]
    runs += [(name, h.lanes, args.tp_reports - args.tp_reports % 5, h.pid) for name, h in hubs.items()]
    secs = {name: [] for name, *_ in runs}
    meters = {name: CpuMeter({"server": pid, "client": me}) for name, _, _, pid in runs}
    for _ in range(args.rounds):
        for name, lanes, n, _ in runs:
            with meters[name]:
                secs[name].append(wire.pipelined(lanes, n // len(lanes), WINDOW))
    for name, lanes, n, _ in runs:
        rate, m = median_rate(n, secs[name]), meters[name]
        res[f"tp_{name}"] = rate
        what = {"A": f"baseline A  plain ROUTER, 1 DEALER x {WINDOW} in flight",
                "A5": f"(info)      plain ROUTER, 5 DEALERs x {WINDOW} in flight (the hub runs' shape)"}.get(
            name, f"{name:<11} durable, CURVE, 5 stations x {WINDOW} in flight")
        cpu = sum(m.used["server"].values()) / (n * args.rounds) * 1e6
        res[f"cpu_{name}"] = cpu
        say(f"{what}: {args.rounds} x {n:,}: {spread(n, secs[name])} /s")
        say(f"            server CPU {cpu:.1f} us per message; share of one core: server {m.line('server')};"
            f" bench client {m.line('client')}; other processes {max(0.0, m.others) / m.secs:.0%}")


def latency(args, echo: EchoProc | None, hubs: dict[str, HubProc], res: dict) -> None:
    if echo:
        wire.one_at_a_time(echo.one, 200)
        with CpuMeter({}) as m:
            res["B"] = lat3(wire.one_at_a_time(echo.one, args.base_rtt))
        say(f"baseline B  plain ROUTER, one at a time, {args.base_rtt:,} round trips: "
            + "  ".join(f"{k} {ms(v)}" for k, v in zip(("p50", "p99", "max"), res["B"]))
            + f"  (all processes busy {m.others / m.secs:.0%} of one core)")
    for name, h in hubs.items():
        one = lat3(wire.one_at_a_time(h.lanes[0], args.unloaded))
        say(f"{name:<11} (info) one at a time, {args.unloaded:,} reports: "
            + "  ".join(f"{k} {ms(v)}" for k, v in zip(("p50", "p99", "max"), one)))
    lats: dict[str, list[float]] = {name: [] for name in hubs}
    lags: dict[str, list[float]] = {name: [] for name in hubs}
    meters = {name: CpuMeter({"server": h.pid, "client": os.getpid()}) for name, h in hubs.items()}
    for _ in range(args.rounds):  # in slices, alternating, when two hubs are compared
        for name, h in hubs.items():
            with meters[name]:
                lat, lag = wire.paced(h.lanes, args.rate, args.paced_s / args.rounds)
            lats[name] += lat
            lags[name] += lag
    for name, m in meters.items():
        res[f"lat_{name}"] = r = lat3(lats[name])
        say(f"{name:<11} paced {args.rate:,.0f} reports/s over 5 stations, {args.paced_s:g} s "
            f"({len(lats[name]):,} reports): report->ack p50 {ms(r[0])}  p99 {ms(r[1])}  max {ms(r[2])}")
        say(f"            hub {m.line('server')}; bench client late against its schedule p99"
            f" {ms(pct(lags[name], .99))}, max {ms(max(lags[name]))}; other processes busy"
            f" {max(0.0, m.others) / m.secs:.0%} of one core")


def memory(args, hub: HubProc, res: dict) -> None:
    total = args.reports - args.reports % 5
    marks = [total * q // 4 for q in (1, 2, 3, 4)]
    samples: list[tuple[int, int, float]] = []
    start, t0 = rss_kb(hub.pid), time.perf_counter()

    def progress(done: int) -> None:
        while marks and done >= marks[0]:
            samples.append((marks.pop(0), rss_kb(hub.pid), time.perf_counter() - t0))

    wire.pipelined(hub.lanes, total // 5, WINDOW, progress)
    res["rss"] = [start] + [kb for _, kb, _ in samples]
    say(f"hub         memory over {total:,} more reports (VmRSS): fresh hub {res['rss_fresh'] / 1024:.1f} MiB;"
        f" start of this run {start / 1024:.1f} MiB, "
        + ", ".join(f"{i * 25}% {kb / 1024:.1f} MiB" for i, (_, kb, _) in enumerate(samples, 1)))
    rates, prev = [], (0, 0.0)
    for done, _, at in samples:
        rates.append(f"{(done - prev[0]) / (at - prev[1]):,.0f}")
        prev = (done, at)
    say(f"            growth {(samples[-1][1] - start) / 1024:+.1f} MiB over the run, "
        f"{(samples[-1][1] - samples[0][1]) / 1024:+.1f} MiB from 25% to 100%; reports/s by quarter: "
        + " / ".join(rates))


def clients(args, hub: HubProc, tmp: Path, res: dict) -> None:
    """The same hub fed through five StationClients (outbox + link): prefilled, timed until drained."""
    try:
        from stations.link.client import StationClient
        made = [StationClient(sid, tmp / "outboxes" / f"{sid}.db", hub.folder.station_key(sid),
                              hub.folder.console_public, hub.endpoint, post=lane_post)
                for sid, lane_post in (("gate-2", "gate"), ("parking-2", "parking"), ("concierge-2", "concierge"),
                                       ("lobby-1", "lobby"), ("model-1", "model_unit"))]
    except Exception as exc:  # the client is still being written: say so, keep the run
        say(f"client      StationClient could not start: {exc!r}")
        return
    try:
        n = args.client_reports * len(made)
        t0 = time.perf_counter()
        for c in made:
            pool = wire.report_pool(c.post)
            for i in range(args.client_reports):
                c.submit(*pool[i % len(pool)])
        saved, t0 = time.perf_counter() - t0, time.perf_counter()
        for c in made:
            c.start()
        ok = all(c.wait_drained(120) for c in made)
        secs = time.perf_counter() - t0
        res["client"] = n / secs if ok else None
        say(f"client      StationClient x5: {n:,} reports saved in {saved:.2f} s ({n / saved:,.0f}/s into outboxes),"
            + (f" drained in {secs:.2f} s = {n / secs:,.0f} reports/s" if ok else " NOT drained within 120 s"))
    except Exception as exc:
        say(f"client      StationClient run failed: {exc!r}")
    finally:
        for c in made:
            c.close()


def commit_db(path: Path) -> sqlite3.Connection:
    """A table for one-row commits as the hub makes them (WAL, synchronous=FULL), autocommitting."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER PRIMARY KEY, body TEXT)")
    return conn


def one_commit(conn: sqlite3.Connection) -> float:
    """Seconds for one durable one-row commit on a `commit_db` connection."""
    t0 = time.perf_counter()
    conn.execute("INSERT INTO t (body) VALUES (?)", ("x" * 120,))
    return time.perf_counter() - t0


def fsync_floor(tmp: Path, n: int = 200) -> tuple[float, float]:
    """One-row commits, WAL + synchronous=FULL, in the work folder: what durability costs here."""
    with closing(commit_db(tmp / "fsync.db")) as conn:
        lat = [one_commit(conn) for _ in range(n)]
    return pct(lat, 0.5), pct(lat, 0.99)


def rebuild(args, hub_folder, tmp: Path, res: dict) -> None:
    event = hub_folder.load()
    path = tmp / "rebuild" / "event.db"
    path.parent.mkdir()
    built = replay.build_log(path, event, args.rebuild)
    say(f"rebuild     wrote a log of {args.rebuild:,} events in {built:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)")
    replay.time_rebuild(path, event, args.rebuild)   # once to warm the page cache
    runs = sorted((replay.time_rebuild(path, event, args.rebuild) for _ in range(args.rounds)),
                  key=lambda r: r["ingest_s"])
    r = runs[len(runs) // 2]
    res["rebuild"] = r["ingest_s"]
    say(f"rebuild     Ingest(store, event), median of {args.rounds}: {r['ingest_s']:.2f} s = "
        f"{args.rebuild / r['ingest_s']:,.0f} events/s (range {runs[0]['ingest_s']:.2f} - {runs[-1]['ingest_s']:.2f} s;"
        f" CPU {r['cpu_s']:.2f} s; Store open {r['open_s'] * 1000:.0f} ms)")
    say(f"            its CPU by part, timed apart: Store.since (SQLite + JSON + Row) {r['read_cpu']:.2f} s,"
        f" fold (the rest) {r['fold_cpu']:.2f} s, last_seqs {r['last_seqs_cpu']:.2f} s")
    if args.profile:
        say("\n--- rebuild profile (cProfile, top by own time) ---")
        say(replay.profile_rebuild(path, event, args.profile_top))


def table(args, res: dict, names: list[str]) -> None:
    rows = [("figure", "value", "baseline", "ratio", "target", "met?")]
    a, b = res.get("tp_A"), res.get("B")

    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("yes" if ok else "NO")

    for name in names:
        tag = "" if len(names) == 1 else f" [{name}]"
        if f"tp_{name}" in res:
            v = res[f"tp_{name}"]
            r = v / a if a else None
            rows.append((f"durable throughput, reports/s{tag}", f"{v:,.0f}", f"A {a:,.0f} msgs/s" if a else "-",
                         f"{r:.3f}x" if r else "-", ">= 0.5x", verdict(r >= 0.5 if r else None)))
        if f"lat_{name}" in res:
            p50, p99, mx = res[f"lat_{name}"]
            r = p99 / b[1] if b else None
            rows.append((f"report->ack p99 @ {args.rate:,.0f}/s{tag}", ms(p99), f"B p99 {ms(b[1])}" if b else "-",
                         f"{r:.1f}x" if r else "-", "<= 5x", verdict(r <= 5 if r else None)))
            rows.append((f"report->ack p50 @ {args.rate:,.0f}/s{tag}", ms(p50), f"B p50 {ms(b[0])}" if b else "-",
                         f"{p50 / b[0]:.1f}x" if b else "-", "(info)", "-"))
            rows.append((f"report->ack max @ {args.rate:,.0f}/s{tag}", ms(mx), f"B max {ms(b[2])}" if b else "-",
                         "-", "(info)", "-"))
    if "cpu_hub" in res and "cpu_A" in res:
        for name in names:
            tag = "" if len(names) == 1 else f" [{name}]"
            v, base = res[f"cpu_{name}"], res["cpu_A"]
            rows.append((f"hub CPU per report, us{tag}", f"{v:.1f}", f"A server {base:.1f} us/msg",
                         f"{v / base:.1f}x", "(info)", "-"))
    if "rss" in res:
        s = res["rss"]
        rows.append((f"hub RSS growth over {args.reports:,}", f"{(s[-1] - s[0]) / 1024:+.1f} MiB",
                     f"start {s[0] / 1024:.1f} MiB", "-", "flat (info)", "-"))
        rows.append(("hub RSS growth 25% -> 100%", f"{(s[-1] - s[1]) / 1024:+.1f} MiB", "-", "-", "flat (info)", "-"))
    if res.get("client"):
        rows.append(("StationClient x5, reports/s", f"{res['client']:,.0f}", f"A {a:,.0f}" if a else "-",
                     f"{res['client'] / a:.2f}x" if a else "-", "(info)", "-"))
    if "rebuild" in res:
        s, limit = res["rebuild"], 5.0 * args.rebuild / 1_000_000
        rows.append((f"rebuild from {args.rebuild:,} events", f"{s:.2f} s ({args.rebuild / s:,.0f} ev/s)", "-", "-",
                     f"< {limit:g} s" + ("" if args.rebuild == 1_000_000 else " (5 s per 1M)"), verdict(s < limit)))
    print_table(rows)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="small sizes for CI (under a minute)")
    p.add_argument("--reports", type=int, help="reports in the memory run (default 200,000; quick 20,000)")
    p.add_argument("--rebuild", type=int, help="events in the rebuilt log (default 1,000,000; quick 100,000)")
    p.add_argument("--throughput-reports", dest="tp_reports", type=int, help="hub reports per throughput round")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per throughput figure (median kept)")
    p.add_argument("--rate", type=float, default=1000.0, help="offered reports/s in the latency run")
    p.add_argument("--paced-seconds", dest="paced_s", type=float, help="length of the latency run")
    for name in ("baseline", "throughput", "latency", "memory", "rebuild"):
        p.add_argument(f"--skip-{name}", action="store_true")
    p.add_argument("--with-client", action="store_true", help="also feed the hub through 5 StationClients")
    p.add_argument("--client-reports", type=int, default=2000, help="reports per StationClient")
    p.add_argument("--compare-src", type=Path, help="also run a hub from this source tree, rounds interleaved")
    p.add_argument("--profile", action="store_true", help="hub under cProfile (its figures are then not comparable)")
    p.add_argument("--profile-top", type=int, default=30)
    p.add_argument("--dir", type=Path, help="make the work folder here (default: system temp), and keep it")
    p.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    q = args.quick
    args.reports = args.reports or (20_000 if q else 200_000)
    args.rebuild = args.rebuild or (100_000 if q else 1_000_000)
    args.tp_reports = args.tp_reports or (10_000 if q else 50_000)
    args.paced_s = args.paced_s or (3.0 if q else 10.0)
    args.base_msgs = 20_000 if q else 100_000
    args.base_rtt = 1000 if q else 5000
    args.unloaded = 200 if q else 1000
    args.warmup = 2500 if q else 10_000
    return args


def run_live(args, ctx: zmq.Context, tmp: Path, res: dict) -> dict[str, HubProc]:
    """Everything that needs running servers; every subprocess is stopped before this returns."""
    echo, hubs = None, {}
    want_hub = not (args.skip_throughput and args.skip_latency and args.skip_memory and not args.with_client)
    try:
        if not args.skip_baseline:
            echo = EchoProc(ctx)
        if want_hub:
            hubs["hub"] = HubProc(ctx, tmp / "hub", profile=tmp / "hub.prof" if args.profile else None)
            if args.compare_src:
                hubs["compare"] = HubProc(ctx, tmp / "compare", src=args.compare_src.resolve())
        for name, h in hubs.items():
            res.setdefault("rss_fresh", rss_kb(h.pid))
            say(f"{name:<11} pid {h.pid}, {h.endpoint}, CURVE + ZAP; RSS after 5 hellos"
                f" {rss_kb(h.pid) / 1024:.1f} MiB" + (f"; source {h.src}" if name != "hub" else "")
                + ("  [under cProfile: its figures are NOT comparable]" if h.profile else ""))
        for lanes in ([echo.one], echo.five) if echo else ():
            wire.pipelined(lanes, args.warmup // len(lanes), WINDOW)
        for h in hubs.values():
            wire.pipelined(h.lanes, args.warmup // 5, WINDOW)
        if not args.skip_throughput:
            throughput(args, echo, hubs, res)
        if not args.skip_latency:
            latency(args, echo, hubs, res)
        if not args.skip_memory and hubs:
            memory(args, hubs["hub"], res)
        if args.with_client and hubs:
            clients(args, hubs["hub"], tmp, res)
    finally:
        if echo:
            echo.kill()
        for name, h in hubs.items():
            try:
                say(f"{name:<11} {h.close()}")
                with closing(sqlite3.connect(h.folder.db())) as db:
                    stored = db.execute("SELECT COUNT(*) FROM events WHERE station != 'hub'").fetchone()[0]
                say(f"            its log holds {stored:,} station events; the raw lanes sent {h.lanes_sent:,}"
                    + (" (+ the StationClients')" if name == "hub" and args.with_client else ""))
            finally:
                h.kill()
    return hubs


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.serve_baseline:
        wire.serve_echo()
        return 0
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="eventdesk-bench-", dir=args.dir))
    t_all = time.perf_counter()
    ctx = zmq.Context()
    res: dict = {}
    try:
        say(f"eventdesk ingest bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
            f"Python {sys.version.split()[0]}, pyzmq {zmq.__version__} / libzmq {zmq.zmq_version()}, "
            f"work folder {tmp}{' [quick]' if args.quick else ''}")
        say(settle_machine())
        f50, f99 = fsync_floor(tmp)
        say(f"disk        one-row SQLite commit, WAL + synchronous=FULL: p50 {ms(f50)}  p99 {ms(f99)}")
        hubs = run_live(args, ctx, tmp, res)
        if args.profile and (tmp / "hub.prof").exists():
            import pstats
            say("\n--- hub profile (cProfile), top by own time ---")
            pstats.Stats(str(tmp / "hub.prof")).sort_stats("tottime").print_stats(args.profile_top)
        if not args.skip_rebuild:
            rebuild(args, hubs["hub"].folder if hubs else make_folder(tmp / "event-only"), tmp, res)
        table(args, res, list(hubs) or ["hub"])
        say(f"\n(total {time.perf_counter() - t_all:.0f} s; load average now {os.getloadavg()[0]:.2f})")
        return 0
    except wire.BenchError as exc:
        say(f"BENCH FAILED: {exc}")
        return 1
    finally:
        ctx.destroy(linger=0)
        if args.dir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
