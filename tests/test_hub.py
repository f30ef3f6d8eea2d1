"""The hub on real sockets: raw CURVE DEALER/SUB clients with the event folder's own keys.

Every promise of the dialog is checked at the wire and in the log (read with plain sqlite3):
welcome, ack after commit, duplicates, conflicts, gaps, roles, identity from the key, total
decoding of bad frames, admission (unknown key, plaintext, raw TCP), the late-joiner clone
pattern, instructions, rebuild on restart and the separate rehearsal log.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import socket
import sqlite3
import time

import msgpack
import pytest
import zmq

from console.core import state as fold
from console.hub.server import Hub, run_in_thread
from console.hub.store import StoreError
from protocols.messages import Committed
from tests.wire import (
    SIG,
    Client,
    Feed,
    desk,
    desk_pair,
    frames_of,
    full,
    log_rows,
    now_ms,
    rejection_rows,
    server_key,
    set_hub_options,
    station,
    station_pair,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


def assert_nack(env, code: str, retry: bool = False):
    assert env.header.type == "nack", env
    nack = env.message
    assert nack.code == code, nack
    assert nack.reason.strip() and nack.reason_zh.strip(), f"a nack needs a sentence in both languages: {nack}"
    assert nack.retry is retry, nack
    return nack


def assert_ack(env, epoch: str, seq: int, duplicate: bool = False):
    assert env.header.type == "ack", env
    ack = env.message
    assert (ack.epoch, ack.seq, ack.duplicate) == (epoch, seq, duplicate), ack
    return ack


# --- hello, ack, duplicate, conflict, gap ---------------------------------------------------------

def test_hello_gets_a_welcome_that_names_the_key_holder(hub, folder, ctx):
    before = now_ms()
    gate = station(ctx, hub, folder, "gate-1")
    welcome = gate.hello()
    assert (welcome.station, welcome.post) == ("gate-1", "gate")
    assert welcome.heartbeat_ms == 1000
    assert welcome.last_seq == 0 and welcome.drill is False and welcome.instructions == []
    assert before - 1000 <= welcome.server_ms <= now_ms() + 1000
    event = folder.load()
    assert welcome.event["name"] == event.name
    assert {s["id"] for s in welcome.event["stations"]} == {s.id for s in event.stations}
    assert {a["id"] for a in welcome.event["lots"]} == {"p1", "p2"}
    assert welcome.event["late_ms"] == 5000 and welcome.event["offline_ms"] == 15000

    d = desk(ctx, hub, folder, "desk-2")
    welcome = d.hello(role="desk")
    assert (welcome.station, welcome.post) == ("desk-2", "desk")
    # A heartbeat is answered with a heartbeat.
    d.send("heartbeat", {"outbox": 0})
    assert d.recv(skip_heartbeats=False).header.type == "heartbeat"


def test_report_is_acked_only_after_its_row_is_committed(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-commit")
    gate.hello()
    gseqs = []
    for seq in range(1, 21):
        body = {"plate": f"湘A·{seq:05d}", "vip": seq % 2 == 0, "count": 1}
        ack = assert_ack(gate.request("car_in", body, seq), "e-commit", seq)
        # The moment the ack is in our hands the row is in event.db, for any other reader.
        rows = log_rows(folder.db(), "station = ? AND epoch = ? AND seq = ?", ("gate-1", "e-commit", seq))
        assert len(rows) == 1, f"acked report {seq} is not in the log"
        gseq, _, _, _, type_, stored = rows[0]
        assert gseq == ack.gseq and type_ == "car_in" and json.loads(stored) == full("car_in", body)
        gseqs.append(gseq)
    assert gseqs == sorted(gseqs) and len(set(gseqs)) == 20
    assert station(ctx, hub, folder, "gate-1", epoch="e-commit").hello().last_seq == 20
    assert station(ctx, hub, folder, "gate-1", epoch="another").hello().last_seq == 0


def test_a_resend_is_acked_as_duplicate_with_the_same_gseq_and_stored_once(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-dup")
    body = {"count": 3, "guest_ref": "G-7", "vip_level": "A", "note": "贵宾"}
    first = assert_ack(gate.request("guest_arrival", body, 1), "e-dup", 1)
    again = assert_ack(gate.request("guest_arrival", body, 1), "e-dup", 1, duplicate=True)
    assert again.gseq == first.gseq
    # The same body with defaults spelled out is the same report.
    spelled = assert_ack(gate.request("guest_arrival", {"count": 3, "guest_ref": "G-7", "vip_level": "A",
                                                        "note": "贵宾"}, 1), "e-dup", 1, duplicate=True)
    assert spelled.gseq == first.gseq
    # A burst of the same frames lands in one batch: one stored, the rest re-acked.
    frames = frames_of("guest_arrival", {"count": 1}, "gate-1", "e-dup", 2)
    for _ in range(5):
        gate.raw(frames)
    acks = [gate.recv().message for _ in range(5)]
    assert [a.duplicate for a in acks] == [False, True, True, True, True]
    assert len({a.gseq for a in acks}) == 1
    rows = log_rows(folder.db(), "station = 'gate-1' AND epoch = 'e-dup'")
    assert [r[3] for r in rows] == [1, 2]


def test_same_key_with_another_body_is_a_conflict_kept_out_and_alarmed(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-conf")
    ack = assert_ack(gate.request("car_in", {"plate": "A1"}, 1), "e-conf", 1)
    nack = assert_nack(gate.request("car_in", {"plate": "B2"}, 1), "E_CONFLICT")
    assert (nack.epoch, nack.seq) == ("e-conf", 1)
    assert_nack(gate.request("car_out", {"plate": "A1"}, 1), "E_CONFLICT")   # another type, same key
    rows = log_rows(folder.db(), "station = 'gate-1'")
    assert len(rows) == 1 and rows[0][0] == ack.gseq and json.loads(rows[0][5])["plate"] == "A1"
    # One alarm for the cause; its repeat is counted and logged with the next update (console/hub/guard.py).
    alarms = [json.loads(r[5]) for r in log_rows(folder.db(), "type = 'alarm'")]
    assert [(a["code"], a["station"], a["count"]) for a in alarms] == [("E_CONFLICT", "gate-1", 1)]
    assert hub.hub.ingest.alarms._runs[("gate-1", "E_CONFLICT")].count == 2
    assert [r[4] for r in rejection_rows(folder.db(), "station = 'gate-1'")] == ["E_CONFLICT"] * 2
    # The original stays acknowledgeable.
    assert assert_ack(gate.request("car_in", {"plate": "A1"}, 1), "e-conf", 1, duplicate=True).gseq == ack.gseq


def test_a_gap_is_nacked_with_the_expected_seq_and_nothing_is_stored(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-gap")
    assert_ack(gate.request("car_in", {}, 1), "e-gap", 1)
    nack = assert_nack(gate.request("car_in", {}, 5), "E_GAP", retry=True)
    assert (nack.seq, nack.expected) == (5, 2)
    assert [r[3] for r in log_rows(folder.db(), "epoch = 'e-gap'")] == [1]
    assert_ack(gate.request("car_in", {}, 2), "e-gap", 2)
    assert assert_nack(gate.request("car_in", {}, 9), "E_GAP", retry=True).expected == 3
    # Order comes before validation: a bad report ahead of the cursor is a gap, not yet a verdict ...
    assert assert_nack(gate.request("car_in", {"count": 0}, 4), "E_GAP", retry=True).expected == 3
    assert rejection_rows(folder.db(), "station = 'gate-1'") == []
    # ... and in its turn it is finally rejected, which moves the cursor past it.
    assert_ack(gate.request("car_in", {}, 3), "e-gap", 3)
    assert_nack(gate.request("car_in", {"count": 0}, 4), "E_SCHEMA")
    assert_ack(gate.request("car_in", {}, 5), "e-gap", 5)
    assert_nack(gate.request("car_in", {"count": 0}, 4), "E_SCHEMA")   # and the same verdict again


def test_a_kind_the_post_may_not_send_is_forbidden_and_recorded(hub, folder, ctx):
    lobby = station(ctx, hub, folder, "lobby-1", epoch="e-role")
    assert_nack(lobby.request("car_in", {"plate": "X"}, 1), "E_FORBIDDEN")
    assert_nack(lobby.request("instruction", {"text": "evacuate", "target": "all"}, 2), "E_FORBIDDEN")
    assert_nack(lobby.request("alarm", {"code": "E_FAKE"}, 3), "E_FORBIDDEN")      # a hub kind
    assert_nack(lobby.request("ack", {"epoch": "x", "seq": 1, "gseq": 1}, 4), "E_FORBIDDEN")  # a reply kind
    d = desk(ctx, hub, folder)
    assert_nack(d.request("car_in", {}, 1), "E_FORBIDDEN")                          # desks don't count cars
    assert log_rows(folder.db(), "station IN ('lobby-1', 'desk-1')") == []
    rejected = rejection_rows(folder.db(), "station = 'lobby-1'")
    assert [(r[2], r[3], r[4]) for r in rejected] == [(1, "car_in", "E_FORBIDDEN"), (2, "instruction", "E_FORBIDDEN"),
                                                      (3, "alarm", "E_FORBIDDEN"), (4, "ack", "E_FORBIDDEN")]
    assert all(r[5] and r[6] for r in rejected)
    # A final rejection counts as handled: the next seq is taken, and a resend gets the same nack.
    assert_ack(lobby.request("zone_enter", {"zone": "lobby", "count": 2}, 5), "e-role", 5)
    assert_nack(lobby.request("car_in", {"plate": "X"}, 1), "E_FORBIDDEN")
    assert station(ctx, hub, folder, "lobby-1", epoch="e-role").hello().last_seq == 5


def test_a_resend_of_a_rejected_report_in_the_same_batch_gets_the_same_nack(hub, folder, ctx):
    """Contract: "or if it was finally rejected before, the same nack again" -- also when the first copy
    is still in the batch being committed. 500 copies in one burst land in a few batches at most."""
    lobby = station(ctx, hub, folder, "lobby-1", epoch="e-burst")
    frames = frames_of("car_in", {"plate": "X"}, "lobby-1", "e-burst", 1)
    for _ in range(500):
        lobby.raw(frames)
    answers = [lobby.recv().message for _ in range(500)]
    wrong = [(n.code, n.reason, n.retry) for n in answers if n.code != "E_FORBIDDEN"]
    assert not wrong, f"{len(wrong)} of 500 got another answer, e.g. {wrong[0]}"
    assert all(n.reason and n.reason_zh and not n.retry for n in answers)


def test_impersonation_is_refused_nothing_stored_and_alarmed(hub, folder, ctx):
    gate1 = station(ctx, hub, folder, "gate-1", epoch="e-imp")
    nack = assert_nack(gate1.request("car_in", {"plate": "FAKE"}, 1, station="gate-2"), "E_IDENTITY")
    assert "gate-1" in nack.reason and "gate-2" in nack.reason and (nack.epoch, nack.seq) == ("e-imp", 1)
    d = desk(ctx, hub, folder)
    assert_nack(d.request("incident_open", {"kind": "fire"}, 1, station="desk-2"), "E_IDENTITY")
    assert_nack(d.request("car_in", {}, 2, station="parking-1"), "E_IDENTITY")
    stored = log_rows(folder.db(), "station != 'hub'")
    assert stored == [], f"something was stored under a claimed or a real id: {stored}"
    # One alarm per key and cause (the desk's second forgery is counted into its first).
    alarms = [json.loads(r[5]) for r in log_rows(folder.db(), "type = 'alarm'")]
    assert [(a["code"], a["station"]) for a in alarms] == [("E_IDENTITY", "gate-1"), ("E_IDENTITY", "desk-1")]
    assert [(r[0], r[2], r[4]) for r in rejection_rows(folder.db())] == [
        ("gate-1", 1, "E_IDENTITY"), ("desk-1", 1, "E_IDENTITY"), ("desk-1", 2, "E_IDENTITY")]
    # The claimed station is untouched: its numbering starts at 1 as if nothing happened.
    gate2 = station(ctx, hub, folder, "gate-2", epoch="e-imp")
    assert gate2.hello().last_seq == 0
    assert_ack(gate2.request("car_in", {"plate": "REAL"}, 1), "e-imp", 1)
    # E_IDENTITY is final like every final refusal: it counts as handled, so the key's own next report
    # is taken and a resend of the refused one gets the same answer (a station is never stuck on it).
    assert station(ctx, hub, folder, "gate-1", epoch="e-imp").hello().last_seq == 1
    assert_ack(gate1.request("car_in", {"plate": "MINE"}, 2), "e-imp", 2)
    assert assert_nack(gate1.request("car_in", {"plate": "FAKE"}, 1, station="gate-2"), "E_IDENTITY").seq == 1


def test_identity_never_comes_from_the_routing_id(hub, folder, ctx):
    """A client may pick its ROUTER routing id; it decides nothing, and it cannot take over another's."""
    park = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "parking-1"),
                  station="parking-1", epoch="e-rid", routing_id=b"station:gate-1")
    assert park.hello().station == "parking-1"
    assert_ack(park.request("car_in", {"plate": "RID"}, 1), "e-rid", 1)
    assert_nack(park.request("car_in", {"plate": "RID2"}, 2, station="gate-1"), "E_IDENTITY")
    # A second connection claiming the same routing id (another station's key) is ignored by the
    # ROUTER: it gets nothing, and the first keeps its replies.
    thief = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-1",
                   epoch="e-rid", routing_id=b"station:gate-1")
    thief.send("hello", {})
    assert_ack(park.request("car_in", {"plate": "RID3"}, 3), "e-rid", 3)
    assert thief.silent_for(0.5)
    rows = log_rows(folder.db(), "station != 'hub'")
    assert [(r[1], json.loads(r[5])["plate"]) for r in rows] == [("parking-1", "RID"), ("parking-1", "RID3")]


# --- malformed frames ------------------------------------------------------------------------------

def _hdr(type_="car_in", station="gate-1", epoch="e-bad", seq=1, **extra) -> bytes:
    return msgpack.packb({"type": type_, "station": station, "epoch": epoch, "seq": seq, "sent_ms": 1, **extra})


def _body(**fields) -> bytes:
    return msgpack.packb(fields)


MALFORMED = {
    # name: (frames, code)
    "wrong signature": ([b"EVENTDESK/2", _hdr(), _body()], "E_VERSION"),
    "signature only in lower case": ([b"eventdesk/1", _hdr(), _body()], "E_VERSION"),
    "one empty frame": ([b""], "E_VERSION"),
    "one random frame": ([b"\x00\xff\x13garbage"], "E_VERSION"),
    "signature alone": ([SIG], "E_FRAMES"),
    "two frames": ([SIG, _hdr()], "E_FRAMES"),
    "four frames": ([SIG, _hdr(), _body(), b"more"], "E_FRAMES"),
    "garbage header": ([SIG, b"\xc1\xc1\xc1", _body()], "E_HEADER"),
    "truncated header": ([SIG, _hdr()[:-3], _body()], "E_HEADER"),
    "header not a map": ([SIG, msgpack.packb(["car_in", "gate-1"]), _body()], "E_HEADER"),
    "header without type": ([SIG, msgpack.packb({"station": "gate-1", "seq": 1}), _body()], "E_HEADER"),
    "header with unknown key": ([SIG, _hdr(admin=True), _body()], "E_HEADER"),
    "header seq negative": ([SIG, _hdr(seq=-1), _body()], "E_HEADER"),
    "header seq is text": ([SIG, _hdr(seq="1"), _body()], "E_HEADER"),
    "header int keys": ([SIG, msgpack.packb({1: "car_in"}), _body()], "E_HEADER"),
    "report with seq 0": ([SIG, _hdr(seq=0), _body()], "E_HEADER"),
    "garbage body": ([SIG, _hdr(), b"\xc1\x00\xff"], "E_SCHEMA"),
    "body with trailing bytes": ([SIG, _hdr(), _body() + b"\x01"], "E_SCHEMA"),
    "body not a map": ([SIG, _hdr(), msgpack.packb([1, 2, 3])], "E_SCHEMA"),
    "unknown type": ([SIG, _hdr(type_="launch_rockets"), _body()], "E_TYPE"),
    "empty type": ([SIG, _hdr(type_=""), _body()], "E_TYPE"),
    "count zero": ([SIG, _hdr(), _body(count=0)], "E_SCHEMA"),
    "count too large": ([SIG, _hdr(), _body(count=1001)], "E_SCHEMA"),
    "count as float": ([SIG, _hdr(), _body(count=1.0)], "E_SCHEMA"),
    "bool as int": ([SIG, _hdr(), _body(vip=1)], "E_SCHEMA"),
    "text as bin": ([SIG, _hdr(), msgpack.packb({"plate": b"A1"}, use_bin_type=True)], "E_SCHEMA"),
    "unknown field": ([SIG, _hdr(), _body(plate="A", color="red")], "E_SCHEMA"),
    "missing required field": ([SIG, _hdr(type_="incident_report"), _body(severity=3)], "E_SCHEMA"),
    "choice out of range": ([SIG, _hdr(type_="incident_report"), _body(kind="fire", severity=9)], "E_SCHEMA"),
    "escape sequence in text": ([SIG, _hdr(type_="guest_arrival"), _body(note="\x1b]0;pwned\x07")], "E_SCHEMA"),
    "text too long": ([SIG, _hdr(type_="guest_arrival"), _body(note="长" * 501)], "E_SCHEMA"),
    "nested 500 deep": ([SIG, _hdr(type_="guest_arrival"), b"\x81\xa4note" + b"\x91" * 500 + b"\x01"], "E_SCHEMA"),
    "oversized (100 KB)": ([SIG, _hdr(type_="guest_arrival"), _body(note="x" * 100_000)], "E_SIZE"),
    "oversized (250 KB, under 4x)": ([SIG, _hdr(type_="guest_arrival"), b"\xc6" + (250_000).to_bytes(4, "big")
                                      + b"\0" * 250_000], "E_SIZE"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_each_malformed_message_gets_its_documented_code(hub, folder, ctx, name):
    frames, code = MALFORMED[name]
    gate = station(ctx, hub, folder, "gate-1", epoch="e-bad")
    gate.raw(frames)
    nack = assert_nack(gate.recv(), code)
    recorded = rejection_rows(folder.db(), "station = 'gate-1'")
    assert [r[4] for r in recorded] == [code], "every final rejection is recorded with its reason"
    assert recorded[0][5] == nack.reason and recorded[0][6] == nack.reason_zh
    # A final rejection of a readable report with seq 1 counts as handled; anything else moves nothing.
    last = station(ctx, hub, folder, "gate-1", epoch="e-bad").hello().last_seq
    assert last == recorded[0][2] and nack.seq in (0, 1)
    assert_ack(gate.request("car_in", {"plate": "OK"}, last + 1), "e-bad", last + 1)
    assert [r[4] for r in log_rows(folder.db(), "station = 'gate-1'")] == ["car_in"]
    assert hub.hub.dropped == 0


def _bad_frames(rng: random.Random, i: int) -> tuple[list[bytes], str]:
    """One of many kinds of bad message, with the code it must earn. seq 0 or a throwaway epoch, so a
    bad message never uses up a seq of the valid stream."""
    kind = i % 10
    if kind == 0:
        first = rng.randbytes(rng.randint(0, 30))
        if first == SIG:
            first += b"!"
        return [first, *(rng.randbytes(rng.randint(0, 50)) for _ in range(rng.randint(0, 3)))], "E_VERSION"
    if kind == 1:
        return [SIG, *(rng.randbytes(rng.randint(0, 40)) for _ in range(rng.choice([0, 1, 3, 4, 7])))], "E_FRAMES"
    if kind == 2:
        head = rng.randbytes(rng.randint(1, 60))
        return [SIG, head, _body()], "E_HEADER"
    if kind == 3:
        return [SIG, _hdr(epoch="main", seq=0), rng.randbytes(rng.randint(2, 80))], "E_SCHEMA"
    if kind == 4:
        body = rng.choice([{"count": -rng.randint(0, 99)}, {"plate": "x" * 17}, {"vip": "yes"},
                           {"count": rng.random()}, {rng.choice(["a", "b", "c"]): 1}, {"plate": "\x1b[2J"}])
        return [SIG, _hdr(epoch="main", seq=0), msgpack.packb(body)], "E_SCHEMA"
    if kind == 5:
        return [SIG, _hdr(type_=f"bogus_{rng.randint(0, 9999)}", epoch="main", seq=0), _body()], "E_TYPE"
    if kind == 6:
        return [SIG, _hdr(station=rng.choice(["gate-2", "desk-1", "hub", ""]), epoch="main", seq=0),
                _body(plate="I")], "E_IDENTITY"
    if kind == 7:
        type_, body = rng.choice([("guest_checkin", {}), ("sendoff_notice", {}), ("note", {"text": "x"}),
                                  ("zone_enter", {"zone": "lobby"}), ("lot_occupancy", {"lot": "p1", "delta": 1}),
                                  ("instruction", {"text": "go home"})])
        return [SIG, _hdr(type_=type_, epoch="forbidden", seq=i // 10 + 1), msgpack.packb(body)], "E_FORBIDDEN"
    if kind == 8:
        return [SIG, _hdr(epoch="main", seq=0), _body(plate="0")], "E_HEADER"   # a report needs seq >= 1
    if i % 100 == 9:
        return [SIG, _hdr(type_="guest_arrival", epoch="main", seq=0), _body(note="n" * 70_000)], "E_SIZE"
    return [SIG, _hdr(epoch=f"gap-{i}", seq=rng.randint(2, 10**6)), _body()], "E_GAP"


def test_a_thousand_bad_frames_among_a_thousand_reports(hub, folder, ctx):
    """Every bad frame gets its nack with a sentence; every valid report is stored once; the hub answers."""
    rng = random.Random(20261205)
    gate = station(ctx, hub, folder, "gate-1", epoch="main")
    plan: list[tuple[list[bytes], str]] = [(_bad, code) for i in range(1000) for _bad, code in [_bad_frames(rng, i)]]
    valid = [(frames_of("car_in", {"plate": f"V{seq}", "count": 1}, "gate-1", "main", seq), "ack")
             for seq in range(1, 1001)]
    # Interleave at random, keeping the valid ones in seq order.
    mixed: list[tuple[list[bytes], str]] = []
    bad_i = valid_i = 0
    while bad_i < len(plan) or valid_i < len(valid):
        if valid_i < len(valid) and (bad_i == len(plan) or rng.random() < 0.5):
            mixed.append(valid[valid_i])
            valid_i += 1
        else:
            mixed.append(plan[bad_i])
            bad_i += 1
    seen_codes: dict[str, int] = {}
    acked_seqs = []
    # Pipelined 400 at a time: the hub queues at most ROUTER_SNDHWM unread replies per connection.
    window = 400
    for frames, _ in mixed[:window]:
        gate.raw(frames)
    for i, (frames, want) in enumerate(mixed):    # one ROUTER-DEALER pipe: the replies come back in order
        if i + window < len(mixed):
            gate.raw(mixed[i + window][0])
        env = gate.recv(timeout=20)
        if want == "ack":
            ack = assert_ack(env, "main", msgpack.unpackb(frames[1])["seq"])
            acked_seqs.append(ack.seq)
        else:
            nack = assert_nack(env, want, retry=want == "E_GAP")
            seen_codes[nack.code] = seen_codes.get(nack.code, 0) + 1
    assert acked_seqs == list(range(1, 1001))
    assert set(seen_codes) == {"E_VERSION", "E_FRAMES", "E_HEADER", "E_SCHEMA", "E_TYPE", "E_IDENTITY",
                               "E_FORBIDDEN", "E_SIZE", "E_GAP"}
    rows = log_rows(folder.db(), "station = 'gate-1'")
    assert [r[3] for r in rows] == list(range(1, 1001)), "each valid report exactly once, in order"
    assert {r[2] for r in rows} == {"main"}
    # Still answering, and nothing slipped past admission.
    gate.send("heartbeat", {"outbox": 0})
    assert gate.recv(skip_heartbeats=False).header.type == "heartbeat"
    assert hub.hub.dropped == 0 and hub.thread.is_alive()


# --- admission --------------------------------------------------------------------------------------

def test_unknown_key_plaintext_and_raw_tcp_reach_nothing(hub, folder, ctx):
    real = station(ctx, hub, folder, "gate-1", epoch="e-adm")
    assert real.hello().station == "gate-1"
    stranger = Client(ctx, hub.endpoint, server_key(folder), zmq.curve_keypair(), station="gate-1", epoch="e-adm")
    # ZAP refuses it at the handshake, before it sends a byte. libzmq then drops that connection for
    # good, so what it sends afterwards is not even queued (a blocking send would wait forever).
    wait_for(lambda: hub.hub.denied >= 1, 5, "the hub's ZAP to deny the unknown key")
    stranger.send("hello", {}, block=False)
    stranger.send("car_in", {"plate": "INTRUDER"}, 1, block=False)
    denied_after_stranger = hub.hub.denied
    plain = Client(ctx, hub.endpoint, None, curve=False, station="gate-1", epoch="e-adm")
    plain.send("hello", {}, block=False)
    plain.send("car_in", {"plate": "PLAIN"}, 1, block=False)
    _, port = hub.endpoint.rsplit(":", 1)
    rng = random.Random(7)
    raw_replies = []
    for attempt in range(20):
        with socket.create_connection(("127.0.0.1", int(port)), timeout=2) as s:
            payload = rng.randbytes(rng.randint(1, 4096))
            if attempt % 4 == 0:  # a NULL-mechanism ZMTP 3.0 greeting, then a READY and a message
                payload = (b"\xff" + b"\0" * 8 + b"\x7f\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" + b"\0" * 31
                           + b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER" + b"\x00\x0bEVENTDESK/1")
            try:
                s.sendall(payload)
                s.settimeout(0.2)
                got = s.recv(4096)
                if got[:1] == b"\xff":
                    got = got[64:]   # the hub's own greeting is not an answer; anything after it would be
                raw_replies.append(got)
            except (socket.timeout, ConnectionError):
                pass
    # A real station is unaffected, before and after.
    assert_ack(real.request("car_in", {"plate": "REAL"}, 1), "e-adm", 1)
    assert stranger.silent_for(1.0) and plain.silent_for(0.2)
    assert all(not r or b"EVENTDESK" not in r for r in raw_replies)
    assert hub.hub.dropped == 0, "a frame without a known User-Id reached the loop"
    assert hub.hub.denied >= denied_after_stranger >= 1
    assert hub.hub.ingest.stats["received"] == 2, "only the real station's hello and report got through"
    assert [json.loads(r[5])["plate"] for r in log_rows(folder.db(), "station != 'hub'")] == ["REAL"]
    assert rejection_rows(folder.db()) == []
    # The feed too: an unknown key subscribes and hears nothing while a desk hears presence.
    spy = Feed(ctx, hub.feed, server_key(folder), zmq.curve_keypair(), ["feed"])
    ok = Feed(ctx, hub.feed, server_key(folder), desk_pair(folder, "desk-1"), ["feed"])
    ok.ready()
    assert not spy.sock.poll(1500), "an unknown key received something on the feed"


# --- late joiner: snapshot + feed -------------------------------------------------------------------

def _pipeline(client: Client, type_: str, bodies: list[dict], first_seq: int) -> list[int]:
    for i, body in enumerate(bodies):
        client.send(type_, body, first_seq + i)
    return [assert_ack(client.recv(timeout=20), client.epoch, first_seq + i).gseq for i in range(len(bodies))]


def test_late_joiner_snapshot_plus_feed_equals_the_hub_state(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-late")
    gate.hello()
    _pipeline(gate, "guest_arrival", [{"count": 1 + i % 4, "guest_ref": f"G{i}", "vip_level": "AB"[i % 2]}
                                      for i in range(300)], 1)
    # The late desk: SUB first (and wait until it is live), then the snapshot, then the feed.
    feed = Feed(ctx, hub.feed, server_key(folder), desk_pair(folder, "desk-2"), ["feed"])
    feed.ready()
    d = desk(ctx, hub, folder, "desk-2")
    snap = d.snapshot()
    assert snap.gseq >= 300 and snap.state["gseq"] == snap.gseq
    replica = fold.from_wire(snap.state)
    # More traffic after the snapshot, from several stations and a desk (reports and actions only:
    # a control message would move presence-only fields that the feed does not carry).
    park = station(ctx, hub, folder, "parking-1", epoch="e-late")
    _pipeline(park, "lot_occupancy", [{"lot": "p1", "delta": 1} for _ in range(50)], 1)
    _pipeline(station(ctx, hub, folder, "concierge-1", epoch="e-late"), "guest_departure",
              [{"count": 1} for _ in range(100)], 1)
    inc = _pipeline(gate, "incident_report", [{"kind": "medical", "severity": 3, "location": "东门"}], 301)[0]
    _pipeline(desk(ctx, hub, folder, "desk-1"), "incident_update", [{"incident": inc, "assign": "service"}], 1)
    lobby = station(ctx, hub, folder, "lobby-1", epoch="e-late")
    _pipeline(lobby, "zone_enter", [{"zone": "lobby", "count": 2} for _ in range(30)], 1)

    def caught_up() -> bool:
        while True:
            try:
                topic, env = feed.recv(timeout=0.3)
            except AssertionError:
                break
            assert topic == "feed" and isinstance(env.message, Committed)
            if env.message.gseq > replica.gseq:
                assert env.message.gseq == replica.gseq + 1, "the feed skipped an event"
            fold.apply(replica, env.message)
        try:
            return fold.to_wire(replica) == fold.to_wire(hub.hub.ingest.state)
        except RuntimeError:  # the hub thread changed a dict while we read it: read again
            return False

    wait_for(caught_up, 15, "the replica to equal the hub's state", interval=0.05)
    assert replica.gseq >= snap.gseq + 50 + 100 + 1 + 1 + 30
    assert replica.people["departures"] == 100 and replica.lots["p1"]["occupied"] == 50
    assert replica.zones["lobby"]["count"] == 60 and replica.incidents[inc]["department"] == "service"
    # A second snapshot, built by the hub's own thread, agrees (unless a liveness change came in between).
    again = d.snapshot()
    if again.gseq == replica.gseq:
        assert again.state == fold.to_wire(replica)


# --- instructions -----------------------------------------------------------------------------------

def test_instruction_is_published_on_its_topic_and_feed_and_acks_are_recorded(hub, folder, ctx):
    gate_sub = Feed(ctx, hub.feed, server_key(folder), station_pair(folder, "gate-1"),
                    ["all", "post.gate", "station.gate-1"], presence=False)
    park_sub = Feed(ctx, hub.feed, server_key(folder), station_pair(folder, "parking-1"),
                    ["all", "post.parking", "station.parking-1"], presence=False)
    park_sub.ready(hub=hub.hub, applied=6)
    desk_feed = Feed(ctx, hub.feed, server_key(folder), desk_pair(folder, "desk-2"), ["feed"])
    desk_feed.ready()
    d = desk(ctx, hub, folder, "desk-1")
    assert d.hello(role="desk").post == "desk"
    body = {"target": "post.gate", "text": "东门准备迎接贵宾车队", "ack_required": True}
    gseq = assert_ack(d.request("instruction", body, 1), "desk-ep", 1).gseq

    topic, env = gate_sub.recv()
    assert topic == "post.gate" and env.header.type == "event"
    assert isinstance(env.message, Committed)
    assert (env.message.gseq, env.message.type, env.message.station, env.message.body) == \
        (gseq, "instruction", "desk-1", full("instruction", body))
    env = _next_of_type(desk_feed, "instruction")
    assert env.message.gseq == gseq and env.message.body == full("instruction", body)
    with pytest.raises(AssertionError):
        park_sub.recv(timeout=0.5)        # not for the parking post

    # The welcome lists it for every gate station until that station acknowledges.
    gate1 = station(ctx, hub, folder, "gate-1", epoch="e-ins")
    assert [i["gseq"] for i in gate1.hello().instructions] == [gseq]
    assert station(ctx, hub, folder, "parking-1").hello().instructions == []
    ack = assert_ack(gate1.request("instruction_ack", {"instruction": gseq}, 1), "e-ins", 1)
    rows = log_rows(folder.db(), "gseq = ?", (ack.gseq,))
    assert rows[0][1:5] == ("gate-1", "e-ins", 1, "instruction_ack")
    assert json.loads(rows[0][5]) == full("instruction_ack", {"instruction": gseq})
    assert _next_of_type(desk_feed, "instruction_ack").message.gseq == ack.gseq
    state = d.snapshot().state
    (inst,) = [i for i in state["instructions"] if i["id"] == gseq]
    assert set(inst["acks"]) == {"gate-1"}
    assert station(ctx, hub, folder, "gate-1", epoch="e-ins").hello().instructions == []
    assert [i["gseq"] for i in station(ctx, hub, folder, "gate-2").hello().instructions] == [gseq]
    # An acknowledgement of an instruction that does not exist is refused.
    assert_nack(gate1.request("instruction_ack", {"instruction": 99999}, 2), "E_UNKNOWN")
    # A target that is not a post or a station is refused; nothing is published.
    assert_nack(d.request("instruction", {"target": "post.kitchen", "text": "x"}, 2), "E_SCHEMA")
    assert_nack(d.request("instruction", {"target": "station.gate-9", "text": "x"}, 3), "E_SCHEMA")
    with pytest.raises(AssertionError):
        gate_sub.recv(timeout=0.5)


def _next_of_type(feed: Feed, type_: str):
    """The next `feed` event of that type (liveness changes may come in between)."""
    deadline = time.monotonic() + 5
    while True:
        topic, env = feed.recv(timeout=max(0.01, deadline - time.monotonic()))
        assert topic == "feed"
        if env.message.type == type_:
            return env


# --- restart ---------------------------------------------------------------------------------------

PRESENCE_ONLY = ("last_heard_ms", "outbox")


def _without_presence(wire: dict) -> dict:
    """The state minus what the hub hears but never logs (heartbeats and hellos set a station's
    last_heard_ms and outbox; replay can only know the time of its last logged event and 0)."""
    wire = json.loads(json.dumps(wire))
    for st in wire["stations"].values():
        for key in PRESENCE_ONLY:
            st.pop(key)
    return wire


def _busy_day(ctx, hub, folder) -> None:
    """A bit of everything: every folded type, alarms, conflicts, rejections, an incident half handled."""
    gate = station(ctx, hub, folder, "gate-1", epoch="r")
    gate.hello()
    _pipeline(gate, "guest_arrival", [{"count": 2, "vip_level": "A"}, {"count": 1}], 1)
    _pipeline(gate, "car_in", [{"plate": "湘A·1", "vip": True}, {"plate": "湘A·2"}], 3)
    inc = _pipeline(gate, "incident_report", [{"kind": "crowding", "severity": 3, "note": "门口拥堵"}], 5)[0]
    park = station(ctx, hub, folder, "parking-1", epoch="r")
    _pipeline(park, "lot_occupancy", [{"lot": "p1", "occupied": 40}, {"lot": "p2", "full": True},
                                      {"lot": "p1", "delta": -3}], 1)
    _pipeline(park, "space_assign", [{"lot": "p2", "space": "B-12", "plate": "湘A·1"}], 4)
    con = station(ctx, hub, folder, "concierge-1", epoch="r")
    _pipeline(con, "guest_checkin", [{"guest_ref": "G1", "name": "王先生", "party_size": 3, "vip_level": "A"}], 1)
    _pipeline(con, "guest_departure", [{"count": 1}], 2)
    model = station(ctx, hub, folder, "model-1", epoch="r")
    model.hello()
    _pipeline(model, "zone_count", [{"zone": "model_unit", "count": 12}], 1)
    _pipeline(model, "sendoff_notice", [{"count": 4, "note": "准备送客"}], 2)
    _pipeline(model, "service_request", [{"service": "drinks", "where": "样板间"}], 3)
    _pipeline(model, "damage_report", [{"item": "花瓶", "loss": False}], 4)
    d = desk(ctx, hub, folder)
    _pipeline(d, "incident_update", [{"incident": inc, "status": "in_progress", "assign": "security"}], 1)
    ins = _pipeline(d, "instruction", [{"target": "all", "text": "全体注意", "ack_required": True}], 2)[0]
    _pipeline(d, "note", [{"text": "贵宾已到", "department": "office"}], 3)
    _pipeline(d, "incident_open", [{"kind": "power_outage", "source": "phone"}], 4)
    _pipeline(gate, "instruction_ack", [{"instruction": ins}], 6)
    assert_nack(gate.request("car_in", {"plate": "OTHER"}, 1), "E_CONFLICT")
    assert_nack(gate.request("car_in", {}, 7, station="gate-2"), "E_IDENTITY")
    assert_nack(model.request("car_in", {}, 5), "E_FORBIDDEN")
    gate.send("heartbeat", {"outbox": 7})   # heard after the last logged event, saying 7 reports wait
    assert gate.recv(skip_heartbeats=False).header.type == "heartbeat"


class Stepped:
    """The hub's clock, stepped by the test: its tick comes when the test moves it, not after a sleep."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_restart_rebuilds_the_same_state_from_the_log(folder, ctx):
    set_hub_options(folder, late_s=600.0, offline_s=1200.0)   # no liveness change may sneak in between
    clock = Stepped(int(time.time() * 1000))
    first = run_in_thread(folder, clock=clock)
    try:
        _busy_day(ctx, first, folder)
        clock.ms += 1000   # one tick: the stations heard are logged "online"
        wait_for(lambda: first.hub.ingest.state.stations["gate-1"]["status"] == "online", 5, "the tick")
    finally:
        first.stop()
    assert not first.thread.is_alive()
    before = fold.to_wire(first.hub.ingest.state)
    assert before["gseq"] > 20 and before["totals"]["alarms"] == 3   # conflict, identity, forbidden
    assert before["stations"]["gate-1"]["status"] == "online"

    second = run_in_thread(folder)
    try:
        after = fold.to_wire(second.hub.ingest.state)
        assert after["gseq"] == before["gseq"]
        assert _without_presence(after) == _without_presence(before)
        # What only presence knew is gone: the heartbeat's outbox figure. (last_heard_ms survives only
        # as far as a logged event carries it: a report's recv_ms or a station_status.)
        was, now = before["stations"]["gate-1"], after["stations"]["gate-1"]
        assert (was["outbox"], now["outbox"]) == (7, 0) and was["last_heard_ms"] >= now["last_heard_ms"]
        # The log remembers every station's progress: resends are duplicates, the next seq is new.
        gate = station(ctx, second, folder, "gate-1", epoch="r")
        assert gate.hello().last_seq == 7   # 7 was refused (E_IDENTITY): final, so handled
        assert_ack(gate.request("car_in", {"plate": "湘A·2"}, 4), "r", 4, duplicate=True)
        assert_nack(gate.request("car_in", {"plate": "OTHER"}, 1), "E_CONFLICT")
        assert_nack(gate.request("car_in", {}, 7, station="gate-2"), "E_IDENTITY")
        assert_ack(gate.request("car_out", {"plate": "湘A·2"}, 8), "r", 8)
        conn = sqlite3.connect(str(folder.db()))
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    finally:
        second.stop()


# --- rehearsal log -------------------------------------------------------------------------------------

def test_rehearsal_log_is_separate_and_never_opened_as_the_live_one(folder, ctx):
    live = run_in_thread(folder)
    drill = run_in_thread(folder, drill=True, endpoint="tcp://127.0.0.1:0", feed="tcp://127.0.0.1:0")
    try:
        assert folder.db(drill=True) != folder.db() and folder.db(drill=True).exists()
        assert json.loads(folder.runtime(drill=True).read_text())["drill"] is True
        assert json.loads(folder.runtime().read_text())["drill"] is False
        pair = station_pair(folder, "gate-1")
        gl = Client(ctx, live.endpoint, server_key(folder), pair, station="gate-1", epoch="e")
        gd = Client(ctx, drill.endpoint, server_key(folder), pair, station="gate-1", epoch="e")
        assert gl.hello().drill is False and gd.hello().drill is True
        assert_ack(gl.request("car_in", {"plate": "LIVE"}, 1), "e", 1)
        assert_ack(gd.request("car_in", {"plate": "DRILL"}, 1), "e", 1)
        assert_ack(gd.request("car_in", {"plate": "DRILL2"}, 2), "e", 2)
    finally:
        live.stop()
        drill.stop()
    def plates(db):
        return [json.loads(r[5])["plate"] for r in log_rows(db, "type = 'car_in'")]

    assert plates(folder.db()) == ["LIVE"]
    assert plates(folder.db(drill=True)) == ["DRILL", "DRILL2"]
    # Put each log where the other belongs: both hubs refuse to start.
    live_db, drill_db, tmp = folder.db(), folder.db(drill=True), folder.root / "swap.db"
    for path in (live_db, drill_db):   # closed cleanly: no WAL left behind to be separated from its db
        assert not os.path.exists(str(path) + "-wal")
    shutil.move(live_db, tmp)
    shutil.move(drill_db, live_db)
    shutil.move(tmp, drill_db)
    with pytest.raises(StoreError, match="rehearsal log"):
        Hub(folder, out=None)
    with pytest.raises(StoreError, match="live log"):
        Hub(folder, drill=True, out=None)
    # Nothing was taken over: put them back and both start again with their own rows.
    shutil.move(live_db, tmp)
    shutil.move(drill_db, live_db)
    shutil.move(tmp, drill_db)
    again = run_in_thread(folder, drill=True)
    try:
        assert again.hub.drill and plates(folder.db(drill=True)) == ["DRILL", "DRILL2"]
    finally:
        again.stop()


def test_a_bad_report_ahead_of_the_cursor_is_a_gap_not_a_final_rejection(hub, folder, ctx):
    """Order comes before validation: a bad body at seq 3 while 1 is missing must not be final-rejected."""
    gate = station(ctx, hub, folder, "gate-1", epoch="e-order")
    gate.send("car_in", {"count": -3}, 3)
    assert_nack(gate.recv(), "E_GAP", retry=True).expected == 1
    gate.send("car_in", {"plate": "A1"}, 1)
    assert_ack(gate.recv(), "e-order", 1)
    gate.send("car_in", {"count": -3}, 2)
    first = assert_nack(gate.recv(), "E_SCHEMA")
    gate.send("car_in", {"count": -3}, 2)          # the station resends: the same final answer
    again = assert_nack(gate.recv(), "E_SCHEMA")
    assert (again.reason, again.reason_zh) == (first.reason, first.reason_zh)
    gate.send("car_in", {"plate": "A3"}, 3)         # the cursor moved past the rejected one
    assert_ack(gate.recv(), "e-order", 3)
    rows = log_rows(folder.db(), "station = 'gate-1' AND epoch = 'e-order'")
    assert [r[3] for r in rows] == [1, 3]
