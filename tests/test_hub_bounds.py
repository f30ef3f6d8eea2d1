"""Issue 14, items 3, 6 (gate holds), 10 and 11: every hub message within the size clients enforce, paged when
it must be; unread replies and slow subscribers dropped past a stated bound; a station hears and sees only its part.

Real sockets on 127.0.0.1 with the event folder's CURVE keys, a hub in a thread, guest lists as real files.
"""
from __future__ import annotations

import json
import time

import pytest
import zmq

from console.core import state as fold
from console.event import guests as guest_file
from console.event.folder import make_keys
from console.hub.server import run_in_thread
from protocols import bounds, codec
from protocols.bounds import topic_frame, topic_name
from tests.test_guests_handoff import guest
from tests.wire import (
    Client,
    Feed,
    desk,
    desk_pair,
    quiet_endpoints,
    server_key,
    set_hub_options,
    station,
    station_pair,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)

LIMIT = 16 * 1024   # a hub configured below the default: every reply must fit it


@pytest.fixture
def folder(folder):
    set_hub_options(folder, max_message_bytes=LIMIT)
    return folder


def started(folder):
    return run_in_thread(folder)


def client(ctx, hub, folder, sid: str, epoch: str = "ep", role: str = "station") -> Client:
    return (desk if role == "desk" else station)(ctx, hub, folder, sid, epoch)


def strict(c: Client, limit: int = LIMIT, timeout: float = 10.0):
    """The next reply, refused like a strict client refuses anything over `limit` bytes."""
    frames = c.recv_frames(timeout)
    assert frames is not None, "no reply"
    size = sum(map(len, frames))
    assert size <= limit, f"a {size}-byte reply: over the {limit} bytes the client enforces"
    env = codec.decode(frames, limit)
    return env if env.header.type != "heartbeat" else strict(c, limit, timeout)


def _instructions(ctx, hub, folder, n: int, **extra) -> list[int]:
    d = client(ctx, hub, folder, "desk-1", epoch="d", role="desk")
    gseqs = []
    for seq in range(1, n + 1):
        body = {"target": "post.gate", "text": f"第{seq}条：" + "请" * 480, "ack_required": True,
                "text_en": "x" * 400, **extra}
        d.send("instruction", body, seq)
        ack = d.recv(timeout=20).message
        assert ack.gseq, ack
        gseqs.append(ack.gseq)
    return gseqs


# --- item 3: welcomes and pages fit; the limits are in the welcome --------------------------------

def test_a_welcome_with_many_open_instructions_fits_and_the_rest_come_in_pages(hub, folder, ctx):
    sent = _instructions(ctx, hub, folder, 41)
    gate = client(ctx, hub, folder, "gate-1")
    gate.send("hello", {"role": "station"})
    welcome = strict(gate).message
    assert welcome.instructions_more is True and 0 < len(welcome.instructions) < 41
    assert welcome.limits["max_message_bytes"] == LIMIT and welcome.limits["reply_max_bytes"] == LIMIT
    assert welcome.limits["page_max_bytes"] <= LIMIT and welcome.limits["feed_max_bytes"] == bounds.FEED_MAX
    assert welcome.limits["ack_timeout_ms"] == bounds.ACK_TIMEOUT_MS
    got = [i["gseq"] for i in welcome.instructions]
    more = True
    while more:
        gate.send("instructions_request", {"after": got[-1]})
        page = strict(gate, welcome.limits["page_max_bytes"]).message
        assert page.instructions, "a page that says more must move on"
        got += [i["gseq"] for i in page.instructions]
        more = page.more
    assert got == sent
    assert all(codec.build("event", raw).type == "instruction" for raw in welcome.instructions)


def test_a_station_client_collects_every_page_of_its_open_instructions(hub, folder, tmp_path, ctx):
    from stations.link.client import StationClient
    sent = _instructions(ctx, hub, folder, 30)
    gate = StationClient("gate-1", tmp_path / "g.outbox.db", folder.station_key("gate-1"), folder.console_public,
                         hub.endpoint, post="gate", max_bytes=LIMIT)
    with gate:
        wait_for(lambda: all(gate.outbox.get_instruction(g) for g in sent), 15, "every open instruction")
        assert gate.status().bad_frames == 0


def test_snapshots_come_in_pages_that_fit_and_join_into_the_picture(folder, ctx):
    big = [guest(f"G-{i:04d}", f"来宾{i}号", plate=f"湘A·{i:05d}", notes="备注" * 40) for i in range(1500)]
    guest_file.write_json(folder.root / "guests.json", big, "big.xlsx")
    hub = started(folder)
    try:
        wait_for(lambda: hub.hub.ingest.state.guests["digest"], 10, "the hub to load the list")
        desk = client(ctx, hub, folder, "desk-1", role="desk")
        desk.send("snapshot_request", {"gseq": 0, "page": 0})
        first = strict(desk).message
        assert first.pages > 10
        parts = [first.data]
        for page in range(1, first.pages):
            desk.send("snapshot_request", {"gseq": first.gseq, "page": page})
            got = strict(desk, bounds.page_max(LIMIT)).message
            assert (got.gseq, got.page, got.pages) == (first.gseq, page, first.pages)
            parts.append(got.data)
        picture = codec.unpack(b"".join(parts))
        assert len(picture["guests"]["list"]) == 1500 and fold.from_wire(picture).gseq == first.gseq
        # A page of a snapshot no longer kept starts the fetch again: page 0 of the picture now.
        desk.send("snapshot_request", {"gseq": first.gseq + 1000, "page": 3})
        again = strict(desk).message
        assert again.page == 0 and again.gseq == hub.hub.ingest.state.gseq
    finally:
        hub.stop()


def test_a_big_event_on_the_feed_is_published_without_its_body_and_a_desk_fetches_the_picture(folder, tmp_path):
    from console.desk.link import DeskLink
    hub = started(folder)
    link = DeskLink("desk-1", hub.endpoint, hub.feed, folder.desk_key("desk-1"), folder.console_public,
                    tmp_path / "desk.outbox.db")
    ctx = zmq.Context()
    try:
        link.start()
        assert link.wait_ready(15)
        feed = Feed(ctx, hub.feed, server_key(folder), desk_pair(folder, "desk-2"), ["feed"])
        feed.ready()
        big = [guest(f"G-{i:04d}", f"来宾{i}号", plate=f"湘A·{i:05d}") for i in range(800)]
        guest_file.write_json(folder.root / "guests.json", big, "big.xlsx")
        while True:
            topic, env = feed.recv(timeout=10)
            if env.message.type == "guest_list":
                break
        assert env.message.cut is True and env.message.body == {}
        assert sum(len(f) for f in codec.encode_topic("feed", env.message)) <= bounds.FEED_MAX
        wait_for(lambda: len((link.picture().state.guests or {}).get("list", {})) == 800, 15,
                 "the desk to fetch the list with a snapshot")
    finally:
        link.close()
        ctx.destroy(linger=0)
        hub.stop()


@pytest.mark.pure
def test_a_hub_whose_welcome_cannot_fit_refuses_to_start(event_dir):
    from console.event.folder import EventFileError
    from console.hub.server import Hub
    quiet_endpoints(event_dir)
    set_hub_options(event_dir, max_message_bytes=2048)
    with pytest.raises(EventFileError, match="max_message_bytes"):
        Hub(event_dir, out=None)
    set_hub_options(event_dir, max_message_bytes=65536)   # the log was left free: a fixed event starts
    Hub(event_dir, out=None).close()


# --- item 6: a fresh gate learns the hold in force from its welcome ---------------------------------

def test_a_gate_starting_fresh_learns_the_hold_from_its_welcome(hub, folder, ctx):
    d = client(ctx, hub, folder, "desk-1", epoch="d", role="desk")
    hold = d.request("instruction", {"target": "post.gate", "text": "暂停放行", "gate": "hold"}, 1).message.gseq
    for seq in range(2, 30):   # newer notices that ask no acknowledgement push it out of the 20 newest
        d.request("instruction", {"target": "all", "text": f"通知 {seq}"}, seq)
    welcome = client(ctx, hub, folder, "gate-2", epoch="fresh").hello()
    held = [i for i in welcome.instructions if i["body"].get("gate")]
    assert [i["gseq"] for i in held] == [hold] and held[0]["body"]["gate"] == "hold"
    assert len(welcome.instructions) == 21
    # Lifted: the welcome carries the newest gate order, the resume.
    resume = d.request("instruction", {"target": "all", "text": "恢复放行", "gate": "resume"}, 30).message.gseq
    again = client(ctx, hub, folder, "gate-1", epoch="fresh").hello()
    assert [i["gseq"] for i in again.instructions if i["body"].get("gate")] == [resume]
    # A station that is not a gate hears no gate order addressed to the gate post.
    lobby = client(ctx, hub, folder, "lobby-1", epoch="fresh").hello()
    assert hold not in [i["gseq"] for i in lobby.instructions]


# --- item 11: what a station key hears and sees -------------------------------------------------------

def _with_gate_10(folder) -> None:
    """A station whose id extends gate-1's: station.gate-1 must not hear station.gate-10."""
    text = folder.toml.read_text("utf-8")
    text = text.replace('[[stations]]\nid = "gate-2"', '[[stations]]\nid = "gate-10"\npost = "gate"\n\n[[stations]]\nid = "gate-2"', 1)
    folder.toml.write_text(text, "utf-8")
    make_keys(folder)


def test_a_station_hears_only_its_own_topics(folder, ctx):
    _with_gate_10(folder)
    hub = started(folder)
    try:
        spy = Feed(ctx, hub.feed, server_key(folder), station_pair(folder, "gate-1"),
                   ["all", "post.gate", "station.gate-1"], presence=False)
        for sneaky in ("feed", "presence", "post.lobby", "station.gate-2"):
            spy.sock.setsockopt(zmq.SUBSCRIBE, topic_frame(sneaky))
        spy.sock.setsockopt(zmq.SUBSCRIBE, b"")          # everything
        spy.sock.setsockopt(zmq.SUBSCRIBE, b"station.gate-1")   # a prefix of station.gate-10.
        wait_for(lambda: hub.hub.subscribed >= 3 and hub.hub.refused_topics >= 6, 10, "the hub to judge them")
        d = client(ctx, hub, folder, "desk-1", epoch="d", role="desk")
        for seq, target in enumerate(("station.gate-10", "post.lobby", "station.gate-2", "station.gate-1"), 1):
            d.request("instruction", {"target": target, "text": f"给 {target}"}, seq)
        heard = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and spy.sock.poll(200):
            heard.append(spy.sock.recv_multipart()[0])
        assert heard == [topic_frame("station.gate-1")], heard
    finally:
        hub.stop()


def test_a_station_snapshot_holds_no_other_posts_plates_and_no_guest_plates(folder, ctx):
    guest_file.write_json(folder.root / "guests.json", [guest("V-01", "张三", "A", plate="湘A·99999")], "g.xlsx")
    hub = started(folder)
    try:
        wait_for(lambda: hub.hub.ingest.state.guests["digest"], 10, "the hub to load the list")
        park = client(ctx, hub, folder, "parking-1", epoch="p")
        assert park.request("car_in", {"plate": "湘A·11111"}, 1).header.type == "ack"
        d = client(ctx, hub, folder, "desk-1", epoch="d", role="desk")
        d.request("note", {"text": "内部备注"}, 1)
        d.request("instruction", {"target": "post.parking", "text": "车位满"}, 2)
        gate = client(ctx, hub, folder, "gate-1", epoch="g")
        assert gate.request("car_in", {"plate": "湘A·22222"}, 1).header.type == "ack"
        mine = gate.snapshot().state
        text = json.dumps(mine, ensure_ascii=False)
        assert "11111" not in text and "99999" not in text and "内部备注" not in text and "车位满" not in text
        assert "22222" in text                     # its own reports are its own
        assert mine["guests"]["digest"] and mine["guests"]["list"] == {} and mine["guests"]["plates"] == {}
        assert [r["station"] for r in mine["recent"]] == ["gate-1"]
        assert fold.from_wire(mine).gseq == mine["gseq"]
        full = d.snapshot().state                  # the desk keeps the whole picture
        whole = json.dumps(full, ensure_ascii=False)
        assert "11111" in whole and "99999" in whole and "内部备注" in whole
    finally:
        hub.stop()


# --- item 10: unread replies and slow subscribers are dropped past their bound --------------------

def test_replies_a_client_never_reads_are_dropped_past_the_bound(hub, folder, ctx):
    lazy = client(ctx, hub, folder, "gate-2", epoch="lazy")
    lazy.sock.rcvhwm = 1
    lazy.sock.setsockopt(zmq.RCVBUF, 4096)
    n = 5 * bounds.ROUTER_SNDHWM
    for _ in range(n):   # each answered with a welcome of a few KiB
        lazy.send("hello", {"role": "station"})
    wait_for(lambda: hub.hub.ingest.stats["received"] >= n, 20, "the hub to read them all")
    wait_for(lambda: hub.hub.unsent > 0, 10, "replies to be dropped")
    # Meanwhile everybody else is served at once.
    gate = client(ctx, hub, folder, "gate-1", epoch="busy")
    t0 = time.monotonic()
    assert gate.request("car_in", {}, 1).header.type == "ack" and time.monotonic() - t0 < 2
    got = 0
    while lazy.sock.poll(300):
        lazy.sock.recv_multipart()
        got += 1
    assert got < n - bounds.ROUTER_SNDHWM, f"{got} of {n} replies were kept for a client that did not read"


def test_a_subscriber_that_never_reads_loses_events_past_the_bound(hub, folder, ctx):
    slow = Feed(ctx, hub.feed, server_key(folder), desk_pair(folder, "desk-2"), ["feed"])
    slow.sock.rcvhwm = 1
    slow.sock.setsockopt(zmq.RCVBUF, 4096)
    slow.ready()
    gate = client(ctx, hub, folder, "gate-1", epoch="pub")
    n = 3 * bounds.PUB_SNDHWM
    window = 400
    for seq in range(1, n + 1):
        gate.send("guest_arrival", {"note": f"{seq} " + "到" * 200}, seq)
        if seq > window:
            assert gate.recv(timeout=20).header.type == "ack"
    for _ in range(window):
        assert gate.recv(timeout=20).header.type == "ack"
    got = 0
    while slow.sock.poll(300):
        frames = slow.sock.recv_multipart()
        got += topic_name(frames[0]) == "feed"
    assert 0 < got < n - bounds.PUB_SNDHWM, f"{got} of {n} events were kept for a subscriber that did not read"


def test_snapshot_requests_cost_tokens(folder, ctx):
    set_hub_options(folder, rate_per_s=5.0, rate_burst=60)
    hub = started(folder)
    try:
        desk = client(ctx, hub, folder, "desk-1", role="desk")
        gate = client(ctx, hub, folder, "gate-1", epoch="s")
        answers = []
        for seq in range(1, 11):
            gate.send("car_in", {}, seq)        # the picture changes between requests: each must be built
            gate.recv()
            desk.send("snapshot_request", {"gseq": 0, "page": 0})
            answers.append(desk.recv().message)
        kinds = [type(a).__name__ for a in answers]
        assert kinds.count("Snapshot") <= 60 // 11 + 1 and "Nack" in kinds, kinds
        assert all(a.code == "E_RATE" and a.retry for a in answers if type(a).__name__ == "Nack")
    finally:
        hub.stop()


def test_instructions_committed_before_a_station_subscribed_reach_it_on_its_own_topic(hub, folder, ctx):
    """The window between a station's welcome and its subscriptions taking effect: what was published
    then never reached it. When the hub applies the subscription it sends the station's open
    instructions again, on the station's own topic only."""
    d = client(ctx, hub, folder, "desk-1", epoch="d", role="desk")
    early = d.request("instruction", {"target": "post.gate", "text": "早到的指令", "ack_required": True}, 1).message.gseq
    told = d.request("instruction", {"target": "all", "text": "通知各岗"}, 2).message.gseq
    d.request("instruction", {"target": "post.lobby", "text": "给大堂"}, 3)
    before = hub.hub.subscribed
    gate = Feed(ctx, hub.feed, server_key(folder), station_pair(folder, "gate-1"),
                ["all", "post.gate", "station.gate-1"], presence=False)
    lobby = Feed(ctx, hub.feed, server_key(folder), station_pair(folder, "lobby-1"), ["all"], presence=False)
    gate.ready(hub=hub.hub, applied=before + 4)
    heard: list[tuple[str, int]] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and gate.sock.poll(300):
        frames = gate.sock.recv_multipart()
        heard.append((topic_name(frames[0]), codec.decode(frames[1:]).message.gseq))
    assert sorted(heard) == [("station.gate-1", early), ("station.gate-1", told)], heard
    # The lobby's own topic was never subscribed: nothing is sent where it could not arrive.
    assert not lobby.sock.poll(300)
