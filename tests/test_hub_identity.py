"""Issue 14, items 1, 2, 6 and 7 at the wire: identity and role for every message, final refusals that never
jam an outbox, the header's rules (control seq 0, printable epochs), and nack sentences staff can act on.

Raw CURVE DEALERs with the event folder's own keys against a hub in a thread; the log read with sqlite3.
"""
from __future__ import annotations

import json
import re

import msgpack
import pytest
import zmq

from stations.link.client import StationClient
from stations.outbox.store import DELIVERED
from tests.wire import (
    SIG,
    Client,
    desk_pair,
    frames_of,
    log_rows,
    rejection_rows,
    server_key,
    station,
    station_pair,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


def alarms(folder) -> list[dict]:
    return [json.loads(r[5]) for r in log_rows(folder.db(), "type = 'alarm'")]


# --- item 1: E_IDENTITY is final and handled; a spec-following station is never stuck -------------

def test_a_refused_impersonation_moves_the_cursor_like_any_final_refusal(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="e-1")
    nack = gate.request("car_in", {"plate": "X"}, 1, station="gate-2").message
    assert (nack.code, nack.retry, nack.seq) == ("E_IDENTITY", False, 1)
    # The next report is taken (no E_GAP expected=1 for ever) and a new hello says 1 was handled.
    assert gate.request("car_in", {"plate": "Y"}, 2).message.gseq >= 1
    assert station(ctx, hub, folder, "gate-1", epoch="e-1").hello().last_seq == 2
    # A report ahead of the cursor that also lies about its station is a gap first: nothing final yet.
    gap = gate.request("car_in", {}, 9, station="gate-2").message
    assert (gap.code, gap.retry, gap.expected) == ("E_GAP", True, 3)
    # The rejection is recorded under the key's own id with the seq it used up.
    assert [(r[0], r[2], r[4]) for r in rejection_rows(folder.db())] == [("gate-1", 1, "E_IDENTITY")]


def test_a_terminal_set_up_with_another_stations_key_is_told_why_and_refused_in_order(hub, folder, tmp_path):
    """A StationClient set up with gate-1's key under the name gate-2 is told why it is not welcomed; a
    terminal that sends its reports all the same has each refused E_IDENTITY, finally, one after the
    other, never an E_GAP that would stick it."""
    client = StationClient("gate-2", tmp_path / "mixed-up.outbox.db", folder.station_key("gate-1"),
                           folder.console_public, hub.endpoint, post="gate")
    try:
        seqs = [client.outbox.save("car_in", {"plate": f"M{i}"}).seq for i in range(5)]
        client.start()
        # The client holds reports while the welcome names another station; it never gets one here
        # (the hello itself is refused), so it sends nothing and the status says why.
        wait_for(lambda: "E_IDENTITY" in client.status().last_error, 10, "the refused hello to be shown")
        assert [client.outbox.get(s).state for s in seqs] != [DELIVERED] * 5
    finally:
        client.close()
    # The same reports sent by a terminal that does not check its hello: refused one by one, in order.
    ctx = zmq.Context()
    try:
        raw = Client(ctx, hub.endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-2",
                     epoch="raw")
        codes = [raw.request("car_in", {"plate": f"M{i}"}, i).message for i in range(1, 6)]
        assert [(n.code, n.seq, n.retry) for n in codes] == [("E_IDENTITY", i, False) for i in range(1, 6)]
    finally:
        ctx.destroy(linger=0)


def test_a_station_carries_on_at_once_after_identity_refusals(hub, folder):
    """With the right name, a station whose earlier reports were refused E_IDENTITY carries on at once."""
    ctx = zmq.Context()
    try:
        gate = station(ctx, hub, folder, "gate-1", epoch="mix")
        for seq in (1, 2):
            assert gate.request("car_in", {}, seq, station="gate-9").message.code == "E_IDENTITY"
        assert gate.request("car_in", {"plate": "OK"}, 3).header.type == "ack"
    finally:
        ctx.destroy(linger=0)
    assert [r[3] for r in log_rows(folder.db(), "station = 'gate-1'")] == [3]


# --- item 2: control messages get the same identity and role checks -----------------------------

def test_a_hello_claiming_another_station_is_refused_and_alarmed(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="h-1")
    env = gate.request("hello", {"role": "station"}, station="gate-2")
    nack = env.message
    assert env.header.type == "nack" and nack.code == "E_IDENTITY" and not nack.retry
    assert (nack.epoch, nack.seq) == ("h-1", 0), "a nack of a control message names seq 0: it settles no report"
    assert "gate-1" in nack.reason and "gate-2" in nack.reason and "gate-1" in nack.reason_zh
    for type_, body in (("heartbeat", {"outbox": 0}), ("snapshot_request", {}), ("guest_list_request", {}),
                        ("instructions_request", {})):
        assert gate.request(type_, body, station="desk-1").message.code == "E_IDENTITY", type_
    assert [(a["code"], a["station"]) for a in alarms(folder)] == [("E_IDENTITY", "gate-1")]
    assert [(r[0], r[2], r[4]) for r in rejection_rows(folder.db())] == [("gate-1", 0, "E_IDENTITY")] * 5
    assert gate.hello().station == "gate-1"   # the true name is welcomed as before


def test_a_station_key_may_not_say_hello_as_a_desk_nor_a_desk_as_a_station(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1")
    nack = gate.request("hello", {"role": "desk"}).message
    assert nack.code == "E_IDENTITY" and "command desk" in nack.reason and "指挥台" in nack.reason_zh
    d = Client(ctx, hub.endpoint, server_key(folder), desk_pair(folder, "desk-1"), station="desk-1", epoch="d")
    assert d.request("hello", {"role": "station"}).message.code == "E_IDENTITY"
    assert d.hello(role="desk").post == "desk"
    assert {(a["code"], a["station"]) for a in alarms(folder)} == {("E_IDENTITY", "gate-1"), ("E_IDENTITY", "desk-1")}


def test_a_station_asking_a_desk_snapshot_gets_its_own(hub, folder, ctx):
    """The key decides what a snapshot holds, not the message: a station gets its station-shaped one."""
    gate = station(ctx, hub, folder, "gate-1")
    picture = gate.snapshot().state
    assert picture["guests"]["list"] == {} and picture["alarms"] == [] and picture["notes"] == []


# --- item 6: the header's rules -----------------------------------------------------------------

def test_control_messages_need_seq_zero(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="c-0")
    nack = gate.request("heartbeat", {"outbox": 0}, seq=7).message
    assert (nack.code, nack.seq, nack.retry) == ("E_HEADER", 0, False)
    assert "0" in nack.reason and "7" in nack.reason
    nack = gate.request("hello", {}, seq=1).message
    assert (nack.code, nack.seq) == ("E_HEADER", 0)
    # Neither touched the report numbering of that epoch.
    assert gate.hello().last_seq == 0
    assert gate.request("car_in", {}, 1).header.type == "ack"


@pytest.mark.parametrize("epoch", ["a b", "批次", "tab\there", "e\u00e9", "x" * 65])
def test_an_epoch_must_be_printable_ascii(hub, folder, ctx, epoch):
    gate = station(ctx, hub, folder, "gate-1")
    nack = gate.request("car_in", {}, 1, epoch=epoch).message
    assert nack.code == "E_HEADER" and nack.seq == 0
    assert rejection_rows(folder.db())[0][4] == "E_HEADER"


def test_invalid_resends_of_a_stored_seq_leave_a_rejection_row(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="r-1")
    assert gate.request("car_in", {"plate": "A"}, 1).header.type == "ack"
    assert gate.request("car_in", {"count": 0}, 1).message.code == "E_SCHEMA"
    gate.raw([SIG, msgpack.packb({"type": "bogus", "station": "gate-1", "epoch": "r-1", "seq": 1, "sent_ms": 1}),
              msgpack.packb({})])
    assert gate.recv().message.code == "E_TYPE"
    rows = rejection_rows(folder.db(), "station = 'gate-1'")
    assert [(r[2], r[4], r[7]) for r in rows] == [(0, "E_SCHEMA", "seq 1"), (0, "E_TYPE", "seq 1")]
    # The stored report stands and is still acknowledged as before.
    assert gate.request("car_in", {"plate": "A"}, 1).message.duplicate is True


@pytest.mark.pure
def test_rate_defaults_are_what_init_writes_and_what_the_spec_says(tmp_path):
    from console.event.folder import HubSettings, init_folder
    from protocols.spec_tables import SPEC_PATH
    written = init_folder(tmp_path / "fresh").load().hub
    assert (written.rate_per_s, written.rate_burst) == (HubSettings().rate_per_s, HubSettings().rate_burst)
    spec = SPEC_PATH.read_text("utf-8")
    said = re.search(r"rate_per_s` messages a second on\s+average \((\d+) by\s+default\)[^`]*`rate_burst` \((\d+)", spec)
    assert said and (int(said.group(1)), int(said.group(2))) == (written.rate_per_s, written.rate_burst)


# --- item 7: sentences a post's staff can act on, over the wire ---------------------------------

PYTHON = re.compile(r"b'|b\"|\bNone\b|got (list|dict|bytes|str|tuple|int|float|bool)\b|Error\b|Exception|"
                    r"ExtraData|FormatError|Traceback|\\x[0-9a-f]{2}")

TALES = {
    "other version": [b"EVENTDESK/2", b"\x80", b"\x80"],
    "random first frame": [b"\x00\xff\x13", b"\x80", b"\x80"],
    "two frames": [SIG, msgpack.packb({"type": "car_in"})],
    "five frames": [SIG, msgpack.packb({"type": "car_in"}), b"\x80", b"x", b"y"],
    "plate nil": frames_of("car_in", {"plate": None}, "gate-1", "t", 1),
    "plate a list": frames_of("car_in", {"plate": [1]}, "gate-1", "t", 1),
    "bin key": [SIG, msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": "t", "seq": 1, "sent_ms": 1}),
                msgpack.packb({b"colour": 1}, use_bin_type=True)],
    "duplicate key": [SIG, msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": "t", "seq": 1,
                                          "sent_ms": 1}), b"\x82\xa5plate\xa1A\xa5plate\xa1B"],
    "garbage body": [SIG, msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": "t", "seq": 1,
                                         "sent_ms": 1}), b"\xc1\xc1"],
    "bad utf-8": [SIG, msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": "t", "seq": 1,
                                      "sent_ms": 1}), b"\x81\xa5plate\xa2\xc3\x28"],
    "trailing bytes": [SIG, msgpack.packb({"type": "car_in", "station": "gate-1", "epoch": "t", "seq": 1,
                                           "sent_ms": 1}), b"\x80\x01"],
    "car_in too large": frames_of("car_in", {"plate": "x" * 70_000}, "gate-1", "t", 1),
}


@pytest.mark.parametrize("name", list(TALES))
def test_no_nack_speaks_python(hub, folder, ctx, name):
    gate = station(ctx, hub, folder, "gate-1", epoch="t")
    gate.raw(TALES[name])
    nack = gate.recv().message
    for text in (nack.reason, nack.reason_zh):
        assert not PYTHON.search(text), f"{name}: {text}"
        assert text.strip()
    if name == "five frames":
        assert "incomplete" not in nack.reason and "不完整" not in nack.reason_zh
    if name == "two frames":
        assert "incomplete" in nack.reason
    if name == "car_in too large":
        assert nack.code == "E_SIZE" and "note" not in nack.reason and "checked" in nack.reason
    if name == "duplicate key":
        assert nack.code == "E_SCHEMA" and "twice" in nack.reason and "两次" in nack.reason_zh
    # No English words inside the Chinese sentence, but for what was sent (quoted) and the code names.
    latin = re.sub(r"“[^”]*”|EVENTDESK/\d+|E_[A-Z]+", "", nack.reason_zh)
    assert not re.search(r"[A-Za-z]{3,}", latin), nack.reason_zh


def test_every_refusal_the_hub_makes_is_in_both_languages(hub, folder, ctx):
    gate = station(ctx, hub, folder, "gate-1", epoch="z")
    gate.request("car_in", {}, 1)
    for frames in TALES.values():
        gate.raw(frames)
        gate.recv()
    for row in rejection_rows(folder.db()):
        assert row[5].strip() and row[6].strip() and not PYTHON.search(row[5] + row[6]), row
