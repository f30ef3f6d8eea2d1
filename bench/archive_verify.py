"""Benchmark of `eventdesk archive --verify`: its time per member size against `gzip -dc | sha256sum` on the same file.

For each size an archive is packed exactly as `eventdesk archive` packs one (console.report.archive.write),
with a log member of that size: "log" data (rows of JSON-like text, compressing about 4:1, like a
real event.db) and "zeros" (a freed-page run, compressing 1000:1, where a step's output is largest).
Each verify runs in a fresh child process (its own time and peak memory); the baseline is
`gzip -dc FILE | sha256sum` on the same archive, in the same round, so a busy machine slows both
alike. Linear means seconds per MiB stay flat as the size doubles, and the ratio to the baseline
too. A benchmark, not a test: it prints figures and exits 0 unless a verify failed.

    .venv/bin/python bench/archive_verify.py                 # 16, 32, 64, 128 MiB, both kinds
    .venv/bin/python bench/archive_verify.py --quick         # 16, 32, 64 MiB, log data only
    .venv/bin/python bench/archive_verify.py --sizes 256 --kinds zeros
    .venv/bin/python bench/archive_verify.py --compare-src /tmp/before   # + another checkout's verify
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.report import archive  # noqa: E402

MIB = 1 << 20
# Peak memory from VmHWM: getrusage's ru_maxrss of a child starts at its parent's size at fork.
CHILD = r"""
import json, re, sys, time
from pathlib import Path
from console.report.archive import verify
t0 = time.perf_counter()
verdict = verify(sys.argv[1])
seconds = time.perf_counter() - t0
hwm = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"ok": verdict.ok, "problems": [p.key for p in verdict.problems], "seconds": seconds,
                  "maxrss_mb": hwm / 1024}))
"""


def log_like(size: int, seed: int) -> bytes:
    """`size` bytes of rows like a log's: keys, plates, times and counts, about 4:1 under gzip."""
    rng = random.Random(seed)
    rows, n = [], 0
    while n < size:
        row = (f'{{"gseq":{rng.randint(1, 10**7)},"station":"gate-{rng.randint(1, 9)}","seq":{rng.randint(1, 10**5)},'
               f'"plate":"湘A·{rng.randint(10000, 99999)}","recv_ms":{1_796_400_000_000 + rng.randint(0, 10**8)},'
               f'"count":{rng.randint(1, 9)}}}\n').encode()
        rows.append(row)
        n += len(row)
    return b"".join(rows)[:size]


def build(work: Path, kind: str, mib: int) -> Path:
    """An archive like `eventdesk archive` writes, whose event.db member is `mib` MiB of `kind` data."""
    staging = work / f"eventdesk-bench-{kind}-{mib}"
    staging.mkdir()
    (staging / "event.toml").write_text('[event]\nname = "bench"\n', "utf-8")
    data = log_like(mib * MIB, mib) if kind == "log" else bytes(mib * MIB)
    (staging / "event.db").write_bytes(data)
    out = work / f"{staging.name}.tar.gz"
    archive.write(staging, out, 1_796_400_000)
    shutil.rmtree(staging)
    return out


def run_verify(path: Path, src: Path | None = None, timeout: float | None = None) -> dict | None:
    """The child's figures; None if it ran past `timeout` seconds (an older, slower verify)."""
    code = (f"import sys; sys.path.insert(0, {str(src)!r})\n" if src else "") + CHILD
    try:
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout)


def run_baseline(path: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(f"gzip -dc '{path}' | sha256sum > /dev/null", shell=True, check=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", help="log member sizes in MiB (default 16 32 64 128)")
    ap.add_argument("--kinds", nargs="+", choices=("log", "zeros"), help="default: both (--quick: log)")
    ap.add_argument("--rounds", type=int, default=3, help="verify and baseline runs per archive (median kept)")
    ap.add_argument("--quick", action="store_true", help="16, 32, 64 MiB of log data, 2 rounds")
    ap.add_argument("--compare-src", type=Path, metavar="TREE",
                    help="also time the verify of another checkout (e.g. `git archive HEAD | tar -x -C TREE`), once")
    ap.add_argument("--compare-timeout", type=float, default=300, help="seconds before that one is given up")
    args = ap.parse_args()
    sizes = args.sizes or ([16, 32, 64] if args.quick else [16, 32, 64, 128])
    kinds = args.kinds or (["log"] if args.quick else ["log", "zeros"])
    rounds = 2 if args.quick else args.rounds
    failed = False
    print(f"archive --verify vs `gzip -dc | sha256sum` (same archive, same round; median of {rounds})")
    print(f"{'kind':6} {'member':>8} {'archive':>9} {'verify':>8} {'s/MiB':>7} {'baseline':>9} {'ratio':>6} "
          f"{'peak RSS':>9}" + (f" {'compared':>9} {'ratio':>6} {'its RSS':>8}" if args.compare_src else ""))
    with tempfile.TemporaryDirectory(prefix="eventdesk-bench-archive-") as tmp:
        for kind in kinds:
            for mib in sizes:
                path = build(Path(tmp), kind, mib)
                verifies, baselines, rss = [], [], 0.0
                for _ in range(rounds):
                    got = run_verify(path)
                    failed |= not got["ok"]
                    verifies.append(got["seconds"])
                    rss = max(rss, got["maxrss_mb"])
                    baselines.append(run_baseline(path))
                v, b = statistics.median(verifies), statistics.median(baselines)
                line = (f"{kind:6} {mib:>5} MiB {path.stat().st_size / MIB:>7.1f} M {v:>7.2f}s {v / mib:>7.4f} "
                        f"{b:>8.2f}s {v / b:>6.2f} {rss:>6.0f} MiB")
                if args.compare_src:
                    old = run_verify(path, args.compare_src, args.compare_timeout)
                    line += (f" {old['seconds']:>8.2f}s {old['seconds'] / b:>6.1f} {old['maxrss_mb']:>4.0f} MiB" if old
                             else f"  > {args.compare_timeout:.0f} s")
                print(line + ("" if got["ok"] else f"  FAILED {got['problems']}"), flush=True)
                path.unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
