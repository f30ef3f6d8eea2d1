"""The processes a benchmark run drives: the real hub and the echo baseline as subprocesses, plus /proc readings.

A hub runs as `python -m console.cli hub DIR` on its own event folder (ephemeral loopback
ports, rate limit lifted), from this checkout or another source tree (to compare two
versions of the hub in one run). Knows subprocess, /proc and the event folder; no figures.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import zmq

from bench import wire
from console.event.folder import EventFolder, init_folder, make_keys, set_endpoints
from protocols import keys

REPO = Path(__file__).resolve().parent.parent
LANES = (("gate-1", "gate"), ("parking-1", "parking"), ("concierge-1", "concierge"),
         ("lobby-1", "lobby"), ("model-1", "model_unit"))
_TICK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of `pid`, summed by thread name."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICK
    return out


def cpu_by_kind(kinds: dict[str, str]) -> dict[str, float]:
    """CPU seconds of every process on the machine, summed by kind: the first of `kinds` (a name -> a
    piece of the command line) that its command line holds, a chromium process by its --type, else "other"."""
    out: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        kind = next((name for name, part in kinds.items() if part in cmd), None)
        if kind is None and "chromium" in cmd:
            kind = "chromium " + next((a[7:] for a in cmd.split() if a.startswith("--type=")), "browser")
            kind += next((" " + a.split("=", 1)[1].split(".")[0] for a in cmd.split()
                          if a.startswith("--utility-sub-type=")), "")
        out[kind or "other"] = out.get(kind or "other", 0.0) + (int(fields[11]) + int(fields[12])) / _TICK
    return out


def machine_busy_s() -> float:
    """CPU seconds every core of the machine has spent busy since boot (steal included)."""
    f = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def settle_machine(quiet: float = 0.3, most: float = 20.0) -> str:
    """Before measuring: write out what other programs left unwritten, then wait for a quiet second.

    A test run leaves tens of MB of dirty pages (80-135 MB after the pure tier) that the kernel writes back
    30 s later, in the middle of whatever runs then, where every durable commit shares the disk with it.
    `os.sync` writes them now (0.1 s here). Quiet: one second with under `quiet` core-seconds busy a second,
    at most `most` seconds. Returns a line saying what it did."""
    dirty = _meminfo_kb("Dirty") + _meminfo_kb("Writeback")
    t0 = time.monotonic()
    os.sync()
    synced = time.monotonic() - t0
    while True:
        busy0 = machine_busy_s()
        time.sleep(1.0)
        busy = machine_busy_s() - busy0
        if busy < quiet or time.monotonic() - t0 >= most:
            break
    return (f"settle      wrote out {dirty / 1024:.0f} MiB other programs left dirty ({synced:.1f} s), then waited "
            f"{time.monotonic() - t0:.1f} s in all for a quiet second ({busy:.2f} of one core busy)")


def _meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class CpuMeter:
    """CPU used per thread by a set of processes across several timed rounds, and by everyone else."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.used: dict[str, dict[str, float]] = {k: {} for k in pids}
        self.others = 0.0
        self.secs = 0.0

    def __enter__(self) -> CpuMeter:
        self._t = time.perf_counter()
        self._m = machine_busy_s()
        self._b = {k: cpu_s(p) for k, p in self.pids.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        self.secs += time.perf_counter() - self._t
        ours = 0.0
        for k, pid in self.pids.items():
            after = cpu_s(pid)
            for name, v in after.items():
                d = v - self._b[k].get(name, 0.0)
                self.used[k][name] = self.used[k].get(name, 0.0) + d
                ours += d
        self.others += machine_busy_s() - self._m - ours

    def line(self, key: str) -> str:
        u = self.used[key]
        return ", ".join(f"{n} {v / self.secs:.0%}" for n, v in sorted(u.items(), key=lambda kv: -kv[1])
                         if v > 0.01 * self.secs)


def make_folder(root: Path) -> EventFolder:
    """The sample event on ephemeral loopback ports with keys, rate limit out of the way."""
    folder = init_folder(root)
    set_endpoints(folder, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
    text = folder.toml.read_text("utf-8")
    text = re.sub(r"(?m)^rate_per_s = .*$", "rate_per_s = 1e6", text)
    text = re.sub(r"(?m)^rate_burst = .*$", "rate_burst = 1000000", text)
    folder.toml.write_text(text, "utf-8")
    make_keys(folder)
    return folder


def stop(proc: subprocess.Popen | None, timeout: float = 20.0) -> None:
    """SIGTERM (the hub's clean stop), then SIGKILL if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class HubProc:
    """A hub subprocess on its own event folder, with one CURVE lane per station in LANES."""

    def __init__(self, ctx: zmq.Context, root: Path, src: Path = REPO, profile: Path | None = None) -> None:
        self.folder = make_folder(root / "event")
        self.log, self.profile, self.src = root / "hub.log", profile, src
        self.lanes: list[wire.Lane] = []
        self.proc: subprocess.Popen | None = None
        cmd = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        cmd += ["-m", "console.cli", "hub", str(self.folder.root), "--lang", "en"]   # its closing line is read back
        env = dict(os.environ)
        if src != REPO:
            env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=src, env=env)
        self.pid = self.proc.pid
        try:
            self._connect(ctx)
        except BaseException:
            self.close()
            raise

    def _connect(self, ctx: zmq.Context) -> None:
        deadline = time.monotonic() + 30
        while (info := self.folder.read_runtime()) is None or info.get("pid") != self.pid:
            if self.proc.poll() is not None:
                raise wire.BenchError(f"hub exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise wire.BenchError("hub did not write hub.json in 30 s")
            time.sleep(0.05)
        self.endpoint = info["endpoint"]
        server = info["console_public"].encode()
        for sid, post in LANES:
            public, secret = keys.load_pair(self.folder.station_key(sid))
            lane = wire.Lane(ctx, self.endpoint, sid, post, curve=(public, secret, server))
            self.lanes.append(lane)
            lane.hello()

    def close(self) -> str:
        """Stop the hub (SIGTERM, then SIGKILL); its closing line ("hub stopped: received ...")."""
        for lane in self.lanes:
            lane.close()
        self.lanes_sent = sum(lane.seq for lane in self.lanes)
        self.lanes = []
        stop(self.proc)
        lines = [ln for ln in self.log.read_text("utf-8", "replace").splitlines() if ln.startswith("hub stopped")]
        return lines[-1] if lines else "no closing line; log tail: " + self.log.read_text("utf-8", "replace")[-300:]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class EchoProc:
    """The baseline: a bare ROUTER in a subprocess (wire.serve_echo), one plain lane and five."""

    def __init__(self, ctx: zmq.Context) -> None:
        self.proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "ingest.py"), "--serve-baseline"],
                                     stdout=subprocess.PIPE, cwd=REPO)
        self.pid = self.proc.pid
        self.one, self.five = None, []
        try:
            self.endpoint = self.proc.stdout.readline().decode().strip()
            if not self.endpoint:
                raise wire.BenchError("the baseline server did not start")
            self.one = wire.Lane(ctx, self.endpoint, "gate-1", "gate")
            self.five = [wire.Lane(ctx, self.endpoint, sid, post) for sid, post in LANES]
        except BaseException:
            self.kill()
            raise

    def kill(self) -> None:
        for lane in [self.one, *self.five]:
            if lane is not None:
                lane.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def print_table(rows: list[tuple[str, ...]]) -> None:
    """The final figures table: the first row is the header, columns padded to their widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(flush=True)
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), flush=True)
        if i == 0:
            print("  ".join("-" * w for w in widths), flush=True)
