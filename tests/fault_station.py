"""A station as a subprocess for the fault tests: N reports through stations.link.client.StationClient.

    python tests/fault_station.py DIR STATION --count N [--rate R] [--endpoint EP] [--journal PATH]
                                  [--crash-on-ack K]

Its outbox (DIR/stations/<id>.outbox.db) is the oracle: a report exists once `submit` has
committed it there. Restarted after a SIGKILL it goes on from its outbox: report i always has
seq i + 1 and a body that names i, so the test can see that no seq was ever reused for
another body. After each save it appends "seq<TAB>body" to the journal (the record at
outbox-commit time, minus at most the line a kill cut off). When all N are saved it keeps
running, heartbeating and draining, until SIGTERM, then closes cleanly and exits 0.

--crash-on-ack K: SIGKILL itself on the K-th burst of acks, after the acks arrived and
before the outbox records them (the crash point "station after ack before outbox update").
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from console.event.folder import EventFolder
from stations.link.client import StationClient
from stations.outbox import store as outbox_mod


def body_for(post: str, station: str, i: int) -> tuple[str, dict]:
    """Report i of a station: a kind its post may send, with a field that names i."""
    ref = f"{station}-{i}"
    if post == "gate":
        return "guest_arrival", {"count": 1 + i % 3, "guest_ref": ref, "note": f"r{i}"}
    if post == "parking":
        return "car_in", {"plate": f"P{i:07d}", "count": 1, "vip": i % 10 == 0}
    if post in ("concierge", "lobby"):
        return "guest_checkin", {"guest_ref": ref, "name": f"客人{i}", "party_size": 1 + i % 4}
    return "sendoff_notice", {"count": i % 7, "note": ref}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("dir", type=Path)
    p.add_argument("station")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="reports per second; 0: as fast as they save")
    p.add_argument("--endpoint", default=None, help="connect here instead of [hub].endpoint (a proxy)")
    p.add_argument("--journal", type=Path, default=None)
    p.add_argument("--crash-on-ack", type=int, default=0)
    args = p.parse_args(argv)

    folder = EventFolder(args.dir)
    event = folder.load()
    post = event.station(args.station).post
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    if args.crash_on_ack:
        original = outbox_mod.Outbox.mark_delivered_many
        seen = [0]

        def mark_delivered_many(self, pairs):
            pairs = list(pairs)
            if pairs:
                seen[0] += 1
                if seen[0] >= args.crash_on_ack:
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(self, pairs)

        outbox_mod.Outbox.mark_delivered_many = mark_delivered_many

    client = StationClient(args.station, folder.outbox(args.station), folder.station_key(args.station),
                           folder.console_public, args.endpoint or event.hub.endpoint, post=post,
                           heartbeat_ms=int(event.hub.heartbeat_s * 1000))
    journal = _open_journal(args.journal) if args.journal else None
    client.start()
    try:
        done = client.outbox.next_seq - 1      # a restart goes on where the outbox stands
        print(f"{args.station}: epoch {client.outbox.epoch}, {done} saved before, {args.count} wanted", flush=True)
        started = time.monotonic()
        for i in range(done, args.count):
            if stop.is_set():
                break
            if args.rate:
                due = started + (i - done) / args.rate
                while not stop.is_set() and (left := due - time.monotonic()) > 0:
                    time.sleep(min(0.05, left))
            type_, body = body_for(post, args.station, i)
            report = client.submit(type_, body)
            if report.seq % 200 == 0:
                _say_status(client)
            if report.seq != i + 1:
                print(f"{args.station}: report {i} got seq {report.seq}", file=sys.stderr, flush=True)
                return 3
            if journal is not None:    # one write(2) on an O_APPEND fd: a kill can still cut it short
                os.write(journal, f"{report.seq}\t{type_}\t"
                                  f"{json.dumps(report.body, sort_keys=True, ensure_ascii=False)}\n".encode())
        print(f"{args.station}: all {args.count} saved", flush=True)
        while not stop.is_set():
            stop.wait(1.0)
            _say_status(client)
        return 0
    finally:
        client.close()
        if journal is not None:
            os.close(journal)


def _open_journal(path: Path) -> int:
    """Open the journal for appending; a line cut off by the last run's SIGKILL is ended first,
    so this run's first record starts a line of its own (the reader knows a cut-off line)."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")
    return fd


def _say_status(client: StationClient) -> None:
    """One line of the link's state on stdout, for the post-mortem of a failed run."""
    st = client.status()
    print(f"{time.strftime('%H:%M:%S')} {st.station}: {st.state} connected={st.connected} "
          f"reachable={st.console_reachable} waiting={st.waiting} attempts={st.attempts} "
          f"error={st.last_error!r}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
