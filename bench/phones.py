"""30 phones on one station server: each taps a report every 2 s for 60 s; tap -> "delivered" on its page, and the server's memory.

    .venv/bin/python bench/phones.py --quick    # 30 phones for 20 s, ~1 min in all
    .venv/bin/python bench/phones.py            # 30 phones for 60 s, ~2 min in all

A hub subprocess on the sample event (ports 0, rate limit lifted) and `eventdesk stations serve` as a
subprocess on 127.0.0.1; Debian's chromium under Playwright holds `--phones` browser contexts at
390x844, each paired in turn with one of the stations that have a key with no form (so 3-4 phones share a post, as on a
busy day). Each phone taps its post's first key every `--every` s, its first tap at a random offset;
the time is taken in the page itself: from the tap to the moment its list shows that report
"delivered" (the hub's ack, through the server's outbox and the page's long poll). Server memory
(VmRSS) with no phone, with every phone paired, and at the end. Prints figures; never a timed test.
Target: tap -> delivered p99 <= 300 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.desk_load import pct, say, start_hub
from bench.procs import REPO, cpu_by_kind, cpu_s, machine_busy_s, make_folder, print_table, rss_kb, stop
from console.stations_serve import _pairings

# In the page: tap the button, resolve with the ms until a new row of the list is "delivered".
TAP_JS = """async (label) => {
  const seen = new Set([...document.querySelectorAll('#reports li')].map(li => li.dataset.seq));
  const t0 = performance.now();
  const done = new Promise(ok => {
    const look = () => {
      const row = [...document.querySelectorAll('#reports li.delivered')].find(li => !seen.has(li.dataset.seq));
      if (row) { observer.disconnect(); ok(performance.now() - t0); }
    };
    const observer = new MutationObserver(look);
    // The page patches itself: a row turning delivered is a class and a text changed, not a new node.
    observer.observe(document.getElementById('app'), { childList: true, subtree: true, attributes: true, characterData: true });
  });
  [...document.querySelectorAll('.keys button')].find(b => b.textContent === label).click();
  return await Promise.race([done, new Promise(ok => setTimeout(() => ok(-1), 10000))]);
}"""


def ratio(value: float, baseline: float) -> str:
    return f"x{value / baseline:.2f}" if baseline and value == value else ""


def first_keys(folder) -> dict:
    """Each station that has a key needing no form (the department terminals' keys open lists), with its first one."""
    from stations.terminal.posts import for_site
    from stations.terminal.posts.base import Site
    import console.stations_serve  # noqa: F401  (loads the words)

    summary = folder.load().summary()
    out = {}
    for st in folder.load().stations:
        key = next((a for a in for_site(Site.from_summary(st.id, summary)).actions
                    if a.kind == "report" and not a.fields), None)
        if key is not None:
            out[st.id] = key
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder, port: int, log: Path, source: Path = REPO, profile: str = "") -> subprocess.Popen:
    """`eventdesk stations serve` from `source` (this checkout or another tree), once it listens on `port`;
    `profile`: under cProfile, written there when it stops."""
    cmd = [sys.executable] + (["-m", "cProfile", "-o", profile] if profile else [])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd + ["-m", "console.cli", "stations", "serve", str(folder.root), "--host", "127.0.0.1",
                                       "--port", str(port), "--lang", "zh"], stdout=out, stderr=subprocess.STDOUT,
                                cwd=source, env={**os.environ, "PYTHONPATH": str(source)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"station server exited: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    raise RuntimeError("station server did not listen in 30 s")


def arguments(doc: str, quick_s: float, full_s: float) -> argparse.ArgumentParser:
    """The options both phone benches take: how many phones, how long, how often each taps."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"{quick_s:g} s instead of {full_s:g}")
    p.add_argument("--phones", type=int, default=30)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--every", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--browser-flags", default="", help="more chromium switches, e.g. --disable-gpu")
    return p


async def phone(browser, url: str, code: str) -> tuple:
    """A phone paired with the station of `code`: (its context, its page)."""
    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#code", code)
    await page.click("button.go")
    await page.wait_for_selector(".keys button")
    return ctx, page


async def taps(page, label: str, start: float, args, rng: random.Random, out: list[float], lost: list[int]) -> None:
    """Tap `label` on `page` every `args.every` s for `args.seconds` s from `start`; each tap's ms into `out`."""
    # Each phone taps on its own fixed beat (a random phase, then every `every` s), a beat missed is skipped: a
    # schedule counted from when this loop got round to it would let a late turn of the bench's own loop (or
    # one slow tap) line many phones up on the same beat for the rest of the run, a crowd tapping in step.
    beat = start + rng.uniform(0, args.every)
    end = beat + args.seconds
    while beat < end:
        await asyncio.sleep(max(0.0, beat - time.monotonic()))
        ms = await page.evaluate(TAP_JS, label)
        (out.append(ms) if ms >= 0 else lost.append(1))
        beat += args.every * max(1, math.ceil((time.monotonic() - beat) / args.every))


KINDS = {"station server": "stations serve", "hub": "console.cli hub", "Playwright's driver": "run-driver",
         "this bench": "bench/phones.py"}


async def phase(phones: list, args, rng: random.Random, server: subprocess.Popen) -> dict:
    """`phones` (page, label) tapping for `args.seconds`: the taps' ms, and the CPU the machine spent meanwhile."""
    out: list[float] = []
    lost: list[int] = []
    by0 = cpu_by_kind(KINDS)
    cpu0, busy0, wall0 = sum(cpu_s(server.pid).values()), machine_busy_s(), time.monotonic()
    await asyncio.gather(*(taps(page, label, wall0, args, rng, out, lost) for page, label in phones))
    took = time.monotonic() - wall0
    by1 = cpu_by_kind(KINDS)
    return {"ms": out, "lost": len(lost), "server_cpu": sum(cpu_s(server.pid).values()) - cpu0,
            "machine_busy": (machine_busy_s() - busy0) / took,
            "by_kind": {k: (v - by0.get(k, 0.0)) / took for k, v in by1.items() if v - by0.get(k, 0.0) > 0.005 * took}}


async def settle(quiet: float = 0.5, least: float = 2.0, most: float = 20.0) -> tuple[float, float]:
    """Wait, once every phone is paired, for the machine to be quiet: the 30 pages were opened together, and
    for some seconds after the browser is still busy with them (without this wait the first round of taps took
    up to 1.4 s while taps after it took 30-250 ms). Quiet: one second with under `quiet` of the 2 cores busy,
    after at least `least` s, at most `most`. Returns (seconds waited, cores busy in the last second)."""
    t0 = time.monotonic()
    while True:
        busy0 = machine_busy_s()
        await asyncio.sleep(1.0)
        busy, waited = machine_busy_s() - busy0, time.monotonic() - t0
        if (busy < quiet and waited >= least) or waited >= most:
            return waited, busy


async def run(args, folder, url: str, server: subprocess.Popen) -> dict:
    from playwright.async_api import async_playwright
    from protocols import i18n

    codes = _pairings(folder, "zh").codes()
    first_key = {s: i18n.t(a.label, "zh") for s, a in first_keys(folder).items()}
    stations = list(first_key)
    rng = random.Random(args.seed)
    res: dict = {"rss_idle": rss_kb(server.pid)}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium"),
                                           args=["--no-sandbox", *args.browser_flags.split()])
        paired = await asyncio.wait_for(asyncio.gather(*(
            phone(browser, url, codes[stations[i % len(stations)]]) for i in range(args.phones))), 120)
        res["rss_paired"] = rss_kb(server.pid)
        phones = [(page, first_key[stations[i % len(stations)]]) for i, (_ctx, page) in enumerate(paired)]
        res["settled"] = await settle()
        # The same-run baseline: the first few phones alone (each of another post), the machine far from busy.
        few = argparse.Namespace(**{**vars(args), "seconds": args.base_seconds})
        res["base"] = await phase(phones[:args.base_phones], few, rng, server)
        await settle()
        res.update(await phase(phones, args, rng, server))
        res["rss_end"] = rss_kb(server.pid)
        for ctx, _page in paired:   # closed once the CPU is read: a closed context's renderer is gone from /proc
            await ctx.close()
        await browser.close()
    return res


def main() -> int:
    parser = arguments(__doc__, 20.0, 60.0)
    parser.add_argument("--source", type=Path, default=REPO,
                        help="the station server and its page from another tree (a before/after), e.g. "
                             "`git archive REV | tar -x -C /tmp/before`")
    parser.add_argument("--base-phones", type=int, default=4, help="the same-run baseline: this many phones alone")
    parser.add_argument("--base-seconds", type=float, default=None, help="... for this long (10 s; --quick 6 s)")
    args = parser.parse_args()
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.base_seconds = args.base_seconds or (6.0 if args.quick else 10.0)
    if shutil.which("chromium") is None:
        say("no chromium on this machine (apt-get install chromium): nothing measured")
        return 0
    with tempfile.TemporaryDirectory(prefix="eventdesk-phones-") as tmp:
        root = Path(tmp)
        folder = make_folder(root / "event")
        hub, server = None, None
        try:
            hub, _info = start_hub(folder, root / "hub.log")
            port = free_port()
            server = start_server(folder, port, root / "server.log", args.source.resolve())
            say(f"{args.phones} phones, a tap every {args.every:g} s for {args.seconds:g} s, on one station server")
            res = asyncio.run(run(args, folder, f"http://127.0.0.1:{port}/", server))
        finally:
            stop(server)
            stop(hub)
    ms, n, base = res["ms"], args.phones, res["base"]
    per_phone = (res["rss_paired"] - res["rss_idle"]) / n

    def cpu_ms(r: dict) -> float:
        return r["server_cpu"] / max(len(r["ms"]), 1) * 1000

    say(f"Measured: tap -> delivered as the page sees it, {n} browser contexts on this machine. Baseline: the same "
        f"run's first {args.base_phones} phones alone for {args.base_seconds:g} s (each of another post); "
        "ratio = all phones / the baseline.")
    print_table([
        ("figure", f"{n} phones", f"{args.base_phones} phones", "ratio", "target"),
        ("taps delivered", f"{len(ms)} (+{res['lost']} not within 10 s)",
         f"{len(base['ms'])} (+{base['lost']})", "", "all"),
        ("tap -> delivered p50", f"{pct(ms, 0.50):.0f} ms", f"{pct(base['ms'], 0.50):.0f} ms",
         ratio(pct(ms, 0.50), pct(base["ms"], 0.50)), ""),
        ("tap -> delivered p99", f"{pct(ms, 0.99):.0f} ms", f"{pct(base['ms'], 0.99):.0f} ms",
         ratio(pct(ms, 0.99), pct(base["ms"], 0.99)), f"<= 300 ms ({ratio(pct(ms, 0.99), 300.0)} of it)"),
        ("tap -> delivered max", f"{max(ms, default=float('nan')):.0f} ms",
         f"{max(base['ms'], default=float('nan')):.0f} ms", "", ""),
        ("server CPU per tap (idle included)", f"{cpu_ms(res):.1f} ms", f"{cpu_ms(base):.1f} ms",
         ratio(cpu_ms(res), cpu_ms(base)), "bench/phones_cpu.py: the taps' own"),
        ("machine busy (all processes)", f"{res['machine_busy']:.2f} of 2 cores",
         f"{base['machine_busy']:.2f} of 2 cores", "", ""),
        ("waited after pairing (busy at the end)", f"{res['settled'][0]:.0f} s ({res['settled'][1]:.2f} of 2 cores)",
         "", "", "quiet: < 0.5"),
        ("server RSS, no phone", f"{res['rss_idle'] / 1024:.1f} MB", "", "", ""),
        (f"server RSS, {n} phones paired", f"{res['rss_paired'] / 1024:.1f} MB", "", "", ""),
        ("server RSS per phone", f"{per_phone:.0f} kB", "", "", ""),
        ("server RSS at the end", f"{res['rss_end'] / 1024:.1f} MB", "", "", "flat"),
    ])
    say("CPU while tapping, share of one core: " + ", ".join(
        f"{k} {v:.0%}" for k, v in sorted(res["by_kind"].items(), key=lambda kv: -kv[1])))
    if res["machine_busy"] > 1.8:
        say("The machine was saturated: the latency is the browsers' wait for a core as much as the server's "
            "(bench/README.md); bench/phones_cpu.py measures the server's own CPU per tap.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
