"""Guests on the day: the VIP hand-off and special-needs notices as hub decisions on a manual clock, the guest
list paged to stations under the size limit, and the whole hand-off through a real hub and real stations."""
from __future__ import annotations

import time

import pytest

from console.core import guests_rules
from console.core import state as fold
from console.event import guests as guest_file
from console.event.folder import EventFolder
from console.hub.ingest import Ingest, Peer
from console.hub.server import run_in_thread
from console.hub.store import Store
from protocols import codec
from protocols import messages as M
from stations.link.client import StationClient
from tests.wire import wait_for

GATE = Peer("station", "gate-1", "gate")
PARK = Peer("station", "parking-1", "parking")
CONC = Peer("station", "concierge-1", "concierge")
LOBBY = Peer("station", "lobby-1", "lobby")
MODEL = Peer("station", "model-1", "model_unit")
GREET = Peer("station", "greeter-1", "greeter")   # the sample's greeting leaders: a link of the VIP hand-off
DESK = Peer("desk", "desk-1", "desk")
ACK_MS = 120_000


def guest(ref: str, name: str, level: str = "C", party: int = 1, host: str = "", plate: str = "",
          needs: tuple[str, ...] = (), notes: str = "", org: str = "") -> dict:
    initials, pinyin = guest_file.initials(name)
    return {"ref": ref, "name": name, "org": org, "level": level, "party": party, "arrive": "", "arrive_ms": 0,
            "via": "", "host": host, "plate": plate, "needs": list(needs), "needs_note": "", "notes": notes,
            "initials": initials, "pinyin": pinyin, "row": 2}


LIST = [guest("V-01", "张三", "A", 3, host="S203", plate="湘A·12345", needs=("vegetarian",), org="省发改委"),
        guest("V-02", "李四", "B", 2, host="王强"), guest("V-03", "赵六", "A", 1, host="nobody-on-duty"),
        guest("G-01", "王五", "C", 4, plate="湘C·11111", needs=("dairy_free",)), guest("G-02", "钱七", "C", 2)]


class Wire:
    """An Ingest over a real log file, fed frames as the hub feeds it, on a clock the test moves."""

    def __init__(self, folder: EventFolder, now: int) -> None:
        self.store = Store(folder.db(), writer=True)
        self.event = folder.load()
        self.ingest = Ingest(self.store, self.event)
        self.now = now
        self.seqs: dict[str, int] = {}

    def send(self, peer: Peer, msg: M.Message):
        seq = self.seqs[peer.id] = self.seqs.get(peer.id, 0) + 1
        out = self.ingest.handle([(b"a", peer, codec.encode(msg, peer.id, "ep", seq, self.now))], self.now)
        (reply,) = [codec.decode(frames).message for _, frames in out.replies]
        return reply, out

    def tick(self, ms: int = 0):
        self.now += ms
        return self.ingest.hub_events([], self.now)

    def duty(self, out) -> list:
        """What the guest rules logged (a silent post may also raise a plan, which is not ours to test here)."""
        return [r for r in out.stored if r.type == "overdue" or (r.type == "instruction" and r.body.get("guest"))]

    def notices(self, out, guest_ref: str = "") -> list[dict]:
        return [r.body for r in out.stored if r.type == "instruction" and r.body.get("guest")
                and (not guest_ref or r.body["guest"] == guest_ref)]


@pytest.fixture
def wire(event_dir: EventFolder):
    event = event_dir.load()
    w = Wire(event_dir, event.doors_open_ms - 6 * 3600_000)   # 03:30: before any task or roster time
    assert [r.type for r in w.ingest.load_guests(LIST, "guests.xlsx", w.now).stored] == ["guest_list"]
    assert w.ingest.load_guests(LIST, "guests.xlsx", w.now).stored == []      # the same list again: nothing
    yield w
    w.store.close()


def test_a_vip_plate_at_the_gate_alerts_the_posts_ahead_and_the_host(wire: Wire) -> None:
    ack, _ = wire.send(LOBBY, M.StaffSignin(staff_no="S203"))           # the host is on duty in the lobby
    assert isinstance(ack, M.Ack)
    ack, out = wire.send(GATE, M.CarIn(plate="湘A 12345", vip=True))
    sent = wire.notices(out, "V-01")
    assert [n["target"] for n in sent] == ["post.parking", "post.concierge", "post.lobby", "post.model_unit",
                                           "post.greeter", "station.lobby-1"]   # the sample has greeting leaders
    for n in sent:
        assert n["ack_required"] and n["notice"] == "vip"
        assert n["text"].startswith("【贵宾到达】A级 张三（省发改委）一行3人，经东门岗") and "素食" in n["text"]
        assert n["text_en"].startswith("[VIP arriving] Level A 张三 (省发改委), party of 3, via East gate")
        assert "vegetarian" in n["text_en"] and "host: S203" in n["text_en"]
    # A post that reconnects gets the notice again in its welcome, guest and kind included.
    (again,) = fold.instructions_for(wire.ingest.state, "parking-1", "parking")
    assert (again["body"]["guest"], again["body"]["notice"], again["body"]["text_en"]) == (
        "V-01", "vip", sent[0]["text_en"])
    # The needs went with the VIP notice to the lobby: no separate notice; and nothing new on the next look.
    assert not [n for n in sent if n["notice"] == "needs"]
    assert wire.duty(wire.tick(1000)) == []
    # Five of six acknowledge (the model unit and the greeting leaders too, issue 16 items 3 and 4); at the
    # deadline the silent link, and only it, raises one alarm.
    ids = {n["target"]: r.gseq for n, r in zip(sent, [r for r in out.stored if r.type == "instruction"])}
    for peer, target in ((PARK, "post.parking"), (CONC, "post.concierge"), (MODEL, "post.model_unit"),
                         (GREET, "post.greeter"), (LOBBY, "station.lobby-1")):
        assert isinstance(wire.send(peer, M.InstructionAck(instruction=ids[target]))[0], M.Ack)
    assert wire.duty(wire.tick(ACK_MS - 2000)) == []
    late = wire.tick(2000)
    assert [(r.type, r.body["what"], r.body["ref"], r.body["target"]) for r in wire.duty(late)] == [
        ("overdue", "handoff", "V-01", "lobby")]
    assert wire.duty(wire.tick(60_000)) == []                             # once only
    (alarm,) = [a for a in wire.ingest.state.alarms if a.get("what")]
    assert (alarm["code"], alarm["what"], alarm["target"]) == ("vip_no_ack", "handoff", "lobby")
    # The summary counts the model unit's link like the others (hand-counted: one sent, one acknowledged).
    from console.report import service_day
    links = {r["link"]: r for r in service_day.figures(wire.ingest.state, {})["handoff"]["links"]}
    assert [(links[k]["sent"], links[k]["acked"]) for k in ("lobby", "model_unit")] == [(1, 0), (1, 1)]
    (chain,) = guests_rules.chains(wire.ingest.state, wire.now)
    assert [(link.link, link.status) for link in chain.links] == [
        ("parking", "acked"), ("concierge", "acked"), ("lobby", "overdue"), ("model_unit", "acked"),
        ("greeter", "acked"), ("host", "acked")]


def test_a_vip_checked_in_at_the_concierge_alerts_the_lobby_and_the_rostered_host(wire: Wire) -> None:
    # The host 王强 is rostered at gate-1 but not signed in anywhere: the notice goes to his rostered station.
    _, out = wire.send(CONC, M.GuestCheckin(guest_ref="V-02", name="李四", party_size=2, vip_level="B"))
    assert [(n["target"], n["notice"]) for n in wire.notices(out)] == [
        ("post.lobby", "vip"), ("post.model_unit", "vip"), ("post.greeter", "vip"), ("station.gate-1", "vip")]
    assert "B级 李四一行2人，经礼宾左岗" in wire.notices(out)[0]["text"]


def test_a_host_on_duty_nowhere_is_an_alarm_after_the_deadline(wire: Wire) -> None:
    _, out = wire.send(CONC, M.GuestCheckin(guest_ref="V-03", party_size=1, vip_level="A"))
    assert [n["target"] for n in wire.notices(out)] == ["post.lobby", "post.model_unit", "post.greeter"]
    assert wire.duty(wire.tick(ACK_MS - 1000)) == []
    late = wire.tick(2000)
    assert [(r.body["target"], r.body["ref"]) for r in wire.duty(late)] == [
        ("lobby", "V-03"), ("model_unit", "V-03"), ("greeter", "V-03"), ("host", "V-03")]
    assert [a["code"] for a in wire.ingest.state.alarms if a.get("what")] == [
        "vip_no_ack", "vip_no_ack", "vip_no_ack", "host_unreachable"]


def test_special_needs_reach_the_lobby_when_the_guest_arrives(wire: Wire) -> None:
    _, out = wire.send(CONC, M.GuestCheckin(guest_ref="G-01", party_size=5))
    (needs,) = wire.notices(out)
    assert (needs["target"], needs["notice"], needs["ack_required"]) == ("post.lobby", "needs", True)
    assert needs["text"] == "【特殊需求】王五一行5人已到达（礼宾左岗）；特殊需求：无乳制品；请告知餐饮并确认"
    assert wire.notices(wire.send(CONC, M.GuestCheckin(guest_ref="G-02"))[1]) == []   # no needs, a C guest: nothing
    assert wire.notices(wire.send(LOBBY, M.GuestCheckin(guest_ref="G-01", party_size=5))[1]) == []   # once
    assert wire.duty(wire.tick(ACK_MS * 2)) == []                        # a needs notice has no deadline alarm


def test_arrivals_expected_late_and_walk_ins(wire: Wire) -> None:
    g = wire.ingest.state.guests
    g["list"]["G-02"]["arrive_ms"] = wire.now - 20 * 60_000             # expected 20 minutes ago: late
    wire.send(CONC, M.GuestCheckin(guest_ref="G-01", party_size=5))
    wire.send(CONC, M.GuestCheckin(name="散客", party_size=3))           # not on the list
    wire.send(GATE, M.CarIn(plate="粤B00000"))                           # a plate nobody listed
    totals, views = guests_rules.view(wire.ingest.state, wire.now)
    assert (totals.listed, totals.arrived, totals.arrived_people, totals.late, totals.expected) == (5, 1, 5, 1, 3)
    assert (totals.walkin_parties, totals.walkin_people) == (1, 3)
    assert [v.ref for v in views][:1] == ["G-02"] and views[-1].ref == "G-01"   # late first, arrived last
    assert views[-1].checked_in and views[-1].arrived_party == 5


def test_a_replay_of_the_log_gives_the_same_guests(wire: Wire, event_dir: EventFolder) -> None:
    wire.send(LOBBY, M.StaffSignin(staff_no="S203"))
    wire.send(GATE, M.CarIn(plate="湘A·12345"))
    wire.tick(ACK_MS + 1)
    again = Ingest(wire.store, event_dir.load())
    assert fold.to_wire(again.state)["guests"] == fold.to_wire(wire.ingest.state)["guests"]
    assert again.state == wire.ingest.state
    assert fold.from_wire(fold.to_wire(wire.ingest.state)) == wire.ingest.state


def test_pages_of_a_big_list_each_fit_a_station_message(event_dir: EventFolder) -> None:
    big = [guest(f"G-{i:04d}", f"来宾{i}号", notes="备注" * 240, org="单位" * 30) for i in range(1500)]
    w = Wire(event_dir, event_dir.load().doors_open_ms - 6 * 3600_000)
    try:
        w.ingest.load_guests(big, "big.xlsx", w.now)
        first = w.ingest.guest_page("", 0)
        assert first.pages > 10 and first.count == 1500
        got = []
        for n in range(first.pages):
            page = w.ingest.guest_page("", n)
            frames = codec.encode(page)
            assert sum(len(f) for f in frames) <= codec.MAX_BYTES
            got += codec.decode(frames).message.guests          # decodes with a station's own limit
        assert [g["ref"] for g in got] == [g["ref"] for g in big]
        assert "plate" not in got[0] and "arrive_ms" not in got[0]
        current = w.ingest.guest_page(first.digest, 0)
        assert (current.pages, current.guests) == (0, [])        # a station whose copy is current gets nothing
    finally:
        w.store.close()


# --- end to end: a real hub, real stations -----------------------------------------------------------

class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def station(folder: EventFolder, hub, sid: str) -> StationClient:
    post = folder.load().station(sid).post
    return StationClient(sid, folder.outbox(sid), folder.station_key(sid), folder.console_public, hub.endpoint,
                         hub.feed, post=post, heartbeat_ms=100).start()


def vip_notices(client: StationClient) -> list:
    return [i for i in client.outbox.instructions() if i.notice == "vip" and i.guest == "V-01"]


@pytest.mark.timeout(120)
@pytest.mark.wire
def test_vip_hand_off_through_a_real_hub_and_real_stations(event_dir: EventFolder) -> None:
    filler = [guest(f"G-{i:04d}", f"来宾{i}", notes="备注" * 200) for i in range(400)]   # several pages
    guest_file.write_json(event_dir.root / "guests.json", LIST + filler, "guests.xlsx")
    clock = Clock(event_dir.load().doors_open_ms - 6 * 3600_000)
    hub = run_in_thread(event_dir, clock=clock)
    clients = {sid: station(event_dir, hub, sid) for sid in ("gate-1", "parking-1", "concierge-1", "lobby-1", "model-1")}
    try:
        gate, park, conc, lobby, model = clients.values()
        # The concierge and the lobby fetch the guest list, page by page, and keep it.
        wait_for(lambda: len(conc.guests()) == len(LIST) + 400, 20, "the concierge's copy of the guest list")
        wait_for(lambda: len(lobby.guests()) == len(LIST) + 400, 20, "the lobby's copy of the guest list")
        assert gate.guests() == []                                        # the gate keeps none
        assert {g["ref"]: g["initials"] for g in conc.guests()}["V-01"] == ["zs"]
        signin = lobby.submit("staff_signin", {"name": "", "staff_no": "S203"})
        assert lobby.wait_delivered(signin.seq, 10).state == "delivered"
        car = gate.submit("car_in", {"plate": "湘A 12345", "vip": True, "count": 1})
        assert gate.wait_delivered(car.seq, 10).state == "delivered"
        # The lobby gets its post's notice and the host's; the model unit (样板间) is a link like the others.
        for client, n in ((park, 1), (conc, 1), (lobby, 2), (model, 1)):
            wait_for(lambda: len(vip_notices(client)) == n, 10, f"the VIP notice at {client.station}")
        (p,), (c,), (m,) = vip_notices(park), vip_notices(conc), vip_notices(model)
        assert p.ack_required and "张三" in p.text and "party of 3" in p.text_for("en")
        host = next(i for i in vip_notices(lobby) if i.target == "station.lobby-1")
        for client, item in ((park, p), (conc, c), (lobby, host), (model, m)):
            report = client.acknowledge_instruction(item.id)
            assert client.wait_delivered(report.seq, 10).state == "delivered"
        # The lobby's own post notice stays unacknowledged, and the greeting leaders' terminal is not running
        # here: past the deadline the hub raises an alarm for each.
        clock.ms += ACK_MS + 1000
        overdue = wait_for(lambda: [r for r in hub.hub.store.since(0) if r.type == "overdue"], 10, "the alarm")
        assert [(r.body["ref"], r.body["target"]) for r in overdue] == [("V-01", "lobby"), ("V-01", "greeter")]
        state = hub.hub.ingest.state
        (chain,) = guests_rules.chains(state, clock.ms)
        assert [(link.link, link.status) for link in chain.links] == [
            ("parking", "acked"), ("concierge", "acked"), ("lobby", "overdue"), ("model_unit", "acked"),
            ("greeter", "overdue"), ("host", "acked")]
        # A check-in at the concierge by the list's reference counts the party in.
        checkin = conc.submit("guest_checkin", {"guest_ref": "V-01", "name": "张三", "party_size": 3, "vip_level": "A"})
        assert conc.wait_delivered(checkin.seq, 10).state == "delivered"
        wait_for(lambda: state.guests["arrived"]["V-01"]["checked_in"], 5, "the check-in folded")
    finally:
        for client in clients.values():
            client.close()
        hub.stop()
    assert time.time()   # the hub and stations stopped cleanly
