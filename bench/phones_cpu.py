"""The station server's CPU per tap: phones as plain HTTP clients (no browser), the server's threads read from /proc.

    .venv/bin/python bench/phones_cpu.py --quick                 # 30 phones, 10 s idle then 10 s tapping
    .venv/bin/python bench/phones_cpu.py --source /other/tree    # ... and the same for another checkout (before/after)
    .venv/bin/python bench/phones_cpu.py --profile out.prof      # cProfile of the server's event loop thread

CPU seconds are what the server's threads spent, whatever else the machine runs: unlike a latency, this
figure hardly moves with the load of a shared machine, so a change to the server can be judged with it.
A hub subprocess on the sample event, `eventdesk stations serve` as a subprocess on 127.0.0.1, and
`--phones` clients in this process, each paired with a station in turn, each holding the page's long poll
as the browser does and tapping its post's first key every `--every` s: first an idle window (paired,
polling, no taps), then a tapping window as long. CPU per tap = (tapping CPU - idle CPU) / taps, by thread.
Tap -> delivered is also printed, as these clients see it (no browser drawing the page). Figures only.
"""
from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.desk_load import pct, say, start_hub
from bench.phones import arguments, free_port, start_server
from bench.procs import _TICK, REPO, make_folder, print_table, stop

# The server before its per-tap work was cut (commit 8a79932, measured with `--source` on a copy of that tree):
# CPU per tap with 30 HTTP phones, the mean of four `--quick` runs (11.9, 12.4, 14.3 and 16.5 ms) on this
# 2-core machine under the other engineers' load. A run prints its own figure against it.
BASELINE_MS = 13.8


def cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds of `pid`: its main thread (the event loop: HTTP, the page as JSON) and all its other threads
    together (outbox workers, station links, ZeroMQ's I/O): Python 3.11 gives its threads no names to tell apart."""
    out = {"event loop": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out["event loop" if int(task.name) == pid else "other threads"] += (int(fields[11]) + int(fields[12])) / _TICK
    return out


class Phone:
    """One paired phone: its long poll keeps `page` as the server last said it; `tap` times one report to delivered."""

    def __init__(self, http, url: str, code: str, key: str, n: int) -> None:
        self.http, self.url, self.code, self.key = http, url, code, key
        self.v, self.page, self.changed = 0, None, asyncio.Event()
        self.id = f"benchphone{n:04d}"   # the page's own word: its tap's answer brings it the page, as in app.js

    def take(self, data: dict) -> None:
        if data["v"] > self.v:
            self.v, self.page = data["v"], data["page"]
            self.changed.set()

    async def pair(self) -> None:
        async with self.http.post(self.url + "api/pair", json={"code": self.code}) as r:
            assert (await r.json())["paired"], "pairing refused"

    async def follow(self) -> None:
        while True:
            async with self.http.get(self.url + "api/page", params={"v": str(self.v), "p": self.id}) as r:
                self.take(await r.json())

    def delivered(self, seq: int) -> bool:
        return any(r["seq"] == seq and r["state"] == "delivered" for r in (self.page or {}).get("reports", ()))

    async def tap(self) -> float:
        t0 = time.perf_counter()
        async with self.http.post(self.url + "api/tap", json={"action": self.key, "p": self.id}) as r:
            answer = await r.json()
        seq = answer["seq"]
        if answer.get("now"):   # the page as it was when the report settled (a server before it had none)
            self.take(answer["now"])
        while not self.delivered(seq):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)
        return (time.perf_counter() - t0) * 1000


async def drive(args, folder, url: str, pid: int) -> dict:
    import aiohttp

    from bench.phones import first_keys
    from console.stations_serve import _pairings

    codes = _pairings(folder, "zh").codes()
    first_key = {s: a.id for s, a in first_keys(folder).items()}
    stations = list(first_key)
    rng = random.Random(args.seed)
    out: dict = {"ms": [], "lost": 0}
    phones = []
    for i in range(args.phones):   # each phone its own cookie jar: a session of its own
        jar = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True))
        st = stations[i % len(stations)]
        phones.append(Phone(jar, url, codes[st], first_key[st], i))
    for p in phones:
        await p.pair()
    polls = [asyncio.create_task(p.follow()) for p in phones]
    await asyncio.sleep(2)   # every page drawn once, the links settled
    before = cpu_s(pid)
    await asyncio.sleep(args.seconds)
    idle = cpu_s(pid)

    async def tapping(p: Phone) -> None:
        await asyncio.sleep(rng.uniform(0, args.every))
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            due = time.monotonic() + args.every
            try:
                out["ms"].append(await p.tap())
            except asyncio.TimeoutError:
                out["lost"] += 1
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    t0 = time.monotonic()
    await asyncio.gather(*(tapping(p) for p in phones))
    busy = cpu_s(pid)
    out["tap_s"] = time.monotonic() - t0
    for t in polls:
        t.cancel()
    for p in phones:
        await p.http.close()
    # Idle CPU scaled to the tapping window's length, taken off by thread: what is left is the taps' own.
    scale = out["tap_s"] / args.seconds
    names = set(before) | set(idle) | set(busy)
    out["idle"] = {n: idle.get(n, 0) - before.get(n, 0) for n in names}
    out["taps"] = {n: busy.get(n, 0) - idle.get(n, 0) - scale * out["idle"][n] for n in names}
    return out


def measure(args, source: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="eventdesk-phones-cpu-") as tmp:
        root = Path(tmp)
        folder = make_folder(root / "event")
        hub = server = None
        try:
            hub, _info = start_hub(folder, root / "hub.log")
            port = free_port()
            server = start_server(folder, port, root / "server.log", source, args.profile)
            return asyncio.run(drive(args, folder, f"http://127.0.0.1:{port}/", server.pid))
        finally:
            stop(server)
            stop(hub)


def main() -> int:
    p = arguments(__doc__, 10.0, 30.0)
    p.add_argument("--source", type=Path, default=None, help="also measure the server of another checkout")
    p.add_argument("--profile", default="", help="write a cProfile of the server's main thread here")
    args = p.parse_args()
    args.seconds = args.seconds or (10.0 if args.quick else 30.0)
    runs = [("this checkout", REPO)] + ([(str(args.source), args.source.resolve())] if args.source else [])
    rows = [("server", "taps", "CPU per tap", "of it: event loop / other threads", "idle, phones paired",
             "tap -> delivered p50 / p99")]
    figures = []
    for label, source in runs:
        say(f"{label}: {args.phones} HTTP phones, {args.seconds:g} s idle then {args.seconds:g} s tapping every "
            f"{args.every:g} s")
        res = measure(args, source)
        n = max(len(res["ms"]), 1)
        g = res["taps"]
        per_tap = sum(g.values()) / n * 1000
        figures.append(per_tap)
        rows.append((label, f"{len(res['ms'])} (+{res['lost']} lost)", f"{per_tap:.2f} ms",
                     " / ".join(f"{g[k] / n * 1000:.2f}" for k in ("event loop", "other threads")) + " ms",
                     f"{sum(res['idle'].values()) / args.seconds * 100:.1f} % of a core",
                     f"{pct(res['ms'], 0.5):.0f} / {pct(res['ms'], 0.99):.0f} ms"))
    print_table(rows)
    say(f"Measured: the server's CPU per tap (its threads, from /proc), {args.phones} HTTP phones. This checkout "
        f"{figures[0]:.2f} ms; baseline (before the cut, commit 8a79932) {BASELINE_MS:.2f} ms; "
        f"ratio x{figures[0] / BASELINE_MS:.2f}.")
    if len(figures) == 2 and figures[1]:
        say(f"this checkout / {runs[1][0]}: x{figures[0] / figures[1]:.2f} CPU per tap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
