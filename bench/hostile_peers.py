"""The other processes of bench/hostile.py: one hostile key flooding the hub, many stations paced, desks following.

Each runs as `python bench/hostile_peers.py ROLE SPEC_JSON`, prints "ready" once its sockets are up,
waits for a line on stdin ("go"), does its part, writes its figures as JSON to SPEC["out"] and exits.
They speak the wire themselves (bench.wire lanes, raw SUB/DEALER sockets) so no station or desk
library is measured. Knows zmq, msgpack and the codec; knows nothing of the hub's code.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgpack
import zmq

from bench import wire
from protocols import codec, curve
from protocols.bounds import topic_name

SIG = codec.SIGNATURE


def _socket(ctx: zmq.Context, kind: int, folder: Path, role: str, ident: str, **options) -> zmq.Socket:
    """A CURVE client socket with `ident`'s real keys: the hostility is in the frames, never the handshake."""
    keys_dir = folder / "keys"
    return curve.client_socket(ctx, kind, curve.ClientKeys.load(keys_dir / role / f"{ident}.key_secret",
                                                                keys_dir / "console.key"), **options)


def _header(type_: str, station: str, epoch: str, seq: int) -> bytes:
    return msgpack.packb({"type": type_, "station": station, "epoch": epoch, "seq": seq,
                          "sent_ms": int(time.time() * 1000)})


def attack(kind: str, station: str, other: str, i: int, rng: random.Random) -> list[bytes]:
    """Message `i` of a flood of `kind` from `station`'s key."""
    if kind == "valid":
        return [SIG, _header("car_in", station, "flood", i + 1), msgpack.packb({"plate": f"F{i}", "count": 1})]
    if kind == "forge":
        if i % 10 == 0:
            return [SIG, _header("hello", other, "forge", 0), msgpack.packb({"role": "desk"})]
        return [SIG, _header("car_in", other, "forge", i + 1), msgpack.packb({"plate": "FAKE"})]
    if kind == "snapshot":
        return [SIG, _header("snapshot_request", station, "snap", 0), msgpack.packb({"gseq": 0, "page": 0})]
    # junk: a mix of everything the decoder refuses, many on fresh epochs
    pick = i % 6
    if pick == 0:
        return [SIG, _header("car_in", station, f"junk-{i}", 1), b"\xc1\xc1"]
    if pick == 1:
        return [rng.randbytes(12), rng.randbytes(30)]
    if pick == 2:
        return [SIG, rng.randbytes(40), b"\x80"]
    if pick == 3:
        return [SIG, _header("car_in", station, "junk", 0), b"\x80", b"x" * 1000, b"y" * 1000]
    if pick == 4 and i % 60 == 4:
        return [SIG, _header("guest_arrival", station, "junk", 1), msgpack.packb({"note": "x" * 70_000})]
    return [SIG, _header(f"bogus_{i % 97}", station, f"junk-{i}", 1), b"\x80"]


def flood(spec: dict) -> dict:
    """Send `kind` as fast as the hub takes it for `seconds`, never reading a reply. At the lowest priority:
    it shares a CPU with the victims (bench/hostile.py's layout), and on a machine of its own its threads
    would never delay theirs; at normal priority they did, by up to 5 ms an ack."""
    os.nice(19)
    ctx = zmq.Context()
    sock = _socket(ctx, zmq.DEALER, Path(spec["root"]), "stations", spec["station"], connect=spec["endpoint"])
    rng = random.Random(14)
    print("ready", flush=True)
    sys.stdin.readline()
    sent = full = 0
    start = time.monotonic()
    end = start + spec["seconds"]
    cap = spec.get("cap", 0)
    while time.monotonic() < end:
        if cap and sent > cap * (time.monotonic() - start):
            time.sleep(0.001)
            continue
        frames = attack(spec["kind"], spec["station"], spec["other"], sent, rng)
        try:
            sock.send_multipart(frames, zmq.NOBLOCK)
            sent += 1
        except zmq.Again:   # the hub reads this connection no faster than it can take it
            full += 1
            sock.poll(10, zmq.POLLOUT)
    sys.stdin.readline()   # stay until told, so that the driver can read this process's CPU time
    sock.close(0)
    ctx.term()
    return {"sent": sent, "blocked": full}


def load(spec: dict) -> dict:
    """Hello on every lane, then `rate` reports a second across them for `seconds`, open loop."""
    ctx = zmq.Context()
    root = Path(spec["root"])
    lanes = []
    for sid, post in spec["stations"]:
        client_keys = curve.ClientKeys.load(root / "keys" / "stations" / f"{sid}.key_secret",
                                            root / "keys" / "console.key")
        lane = wire.Lane(ctx, spec["endpoint"], sid, post, curve=client_keys)
        lanes.append(lane)
    for lane in lanes:
        lane.hello(30)
    print("ready", flush=True)
    sys.stdin.readline()
    lat, late = wire.paced(lanes, spec["rate"], spec["seconds"])
    print("paced", flush=True)
    sys.stdin.readline()   # stay until told, so that the driver can read this process's CPU time
    for lane in lanes:
        lane.close()
    ctx.term()
    return {"lat": lat, "late_p99": sorted(late)[int(0.99 * len(late))] if late else 0.0}


def desks(spec: dict) -> dict:
    """Desks following the hub: each fetches a snapshot page by page, then reads the feed and presence until told to stop."""
    ctx = zmq.Context()
    root = Path(spec["root"])
    subs, figures = [], []
    for did in spec["desks"]:
        sub = _socket(ctx, zmq.SUB, root, "desks", did, rcvhwm=0, subscribe=("feed", "presence"), connect=spec["feed"])
        subs.append(sub)
        figures.append({"desk": did, "events": 0, "presence": 0, "gaps": 0, "cut": 0, "last": 0,
                        "snapshot_pages": _snapshot(ctx, root, did, spec["endpoint"])})
    print("ready", flush=True)
    poller = zmq.Poller()
    for sub in subs:
        poller.register(sub, zmq.POLLIN)
    poller.register(sys.stdin.fileno(), zmq.POLLIN)
    while True:
        ready = dict(poller.poll(200))
        if sys.stdin.fileno() in ready:
            sys.stdin.readline()
            break
        for sub, fig in zip(subs, figures):
            while sub in ready:
                try:
                    frames = sub.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                msg = codec.decode(frames[1:]).message
                if topic_name(frames[0]) == "presence":
                    fig["presence"] += 1
                    continue
                fig["events"] += 1
                fig["cut"] += msg.cut
                if fig["last"] and msg.gseq != fig["last"] + 1:
                    fig["gaps"] += 1
                fig["last"] = msg.gseq
    for sub in subs:
        sub.close(0)
    ctx.term()
    return {"desks": figures}


def _snapshot(ctx: zmq.Context, root: Path, did: str, endpoint: str) -> int:
    dealer = _socket(ctx, zmq.DEALER, root, "desks", did, connect=endpoint)
    gseq, page, pages = 0, 0, 1
    while page < pages:
        dealer.send_multipart([SIG, _header("snapshot_request", did, "bench", 0),
                               msgpack.packb({"gseq": gseq, "page": page})])
        if not dealer.poll(30_000):
            raise wire.BenchError(f"{did}: no snapshot page {page}")
        snap = codec.decode(dealer.recv_multipart()).message
        gseq, pages, page = snap.gseq, snap.pages, snap.page + 1
    dealer.close(0)
    return pages


def main() -> int:
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    result = {"flood": flood, "load": load, "desks": desks}[role](spec)
    Path(spec["out"]).write_text(json.dumps(result))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
