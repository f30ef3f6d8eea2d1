"""The send-off (恭送): the chain to the posts on the way out as hub decisions on a manual clock, the alarm for a
link not acknowledged in time, the guest's departure closing it, the refusals; and the whole flow through a real
hub and real stations."""
from __future__ import annotations

import pytest

from console.core import sendoff
from console.core import state as fold
from console.event import guests as guest_file
from console.event.folder import EventFolder
from console.hub.ingest import Ingest, Peer
from console.hub.server import run_in_thread
from protocols import messages as M
from tests.test_guests_handoff import CONC, DESK, GATE, GREET, LIST, LOBBY, PARK, Clock, Wire, guest, station
from tests.wire import wait_for

MODEL = Peer("station", "model-1", "model_unit")
SALES = Peer("station", "sales-1", "sales")
ACK_MS = 120_000
# Parties the sample's sales consultant 郑凯 (S307, rostered at sales-1) hosts: by name, and by staff number.
HOSTED = [guest("V-09", "孙八", "B", 2, host="郑凯", org="市住建局"), guest("G-09", "周九", "C", 3, host="S307")]


@pytest.fixture
def wire(event_dir: EventFolder):
    w = Wire(event_dir, event_dir.load().doors_open_ms - 6 * 3600_000)
    w.ingest.load_guests(LIST, "guests.xlsx", w.now)
    yield w
    w.store.close()


@pytest.fixture
def hosted(event_dir: EventFolder):
    w = Wire(event_dir, event_dir.load().doors_open_ms - 6 * 3600_000)
    w.ingest.load_guests([*LIST, *HOSTED], "guests.xlsx", w.now)
    yield w
    w.store.close()


def links(out) -> list:
    return [r for r in out.stored if r.type == "instruction" and r.body.get("notice") == "sendoff"]


def alarms(out) -> list:
    """The send-off's alarms (a VIP's arrival may raise hand-off ones, which are not ours to test here)."""
    return [(r.body["what"], r.body["target"]) for r in out.stored if r.type == "overdue" and r.body["what"] == "sendoff"]


def test_a_vip_leaving_the_model_unit_reaches_every_post_on_the_way_out(wire: Wire) -> None:
    wire.send(CONC, M.GuestCheckin(guest_ref="V-01", party_size=3, vip_level="A"))
    ack, out = wire.send(MODEL, M.SendoffNotice(guest_ref="V-01"))
    assert isinstance(ack, M.Ack)
    sent = links(out)
    assert [r.body["target"] for r in sent] == ["post.lobby", "post.concierge", "post.parking", "post.gate",
                                                "post.greeter"]   # a VIP: the sample's greeting leaders too
    assert all(r.body["ack_required"] and r.body["sendoff"] == ack.gseq and r.body["guest"] == "V-01" for r in sent)
    park = sent[2].body
    assert park["text"] == ("【恭送】A级 张三（省发改委）一组3人即将离开（样板间）；贵宾车辆请提前10分钟开到门口；"
                            "请备好车辆离场并确认")
    assert park["text_en"] == ("[Send-off] Level A 张三 (省发改委), party of 3 leaving (from Show flat); bring the VIP's "
                               "car to the door 10 minutes ahead; get their car ready to leave and acknowledge")
    assert "提醒客人带好随身物品" in sent[0].body["text"] and "分钟" not in sent[3].body["text"]
    # A post that reconnects gets its link again, the send-off named.
    (again,) = [i for i in fold.instructions_for(wire.ingest.state, "gate-1", "gate") if i["body"].get("sendoff")]
    assert (again["body"]["notice"], again["body"]["sendoff"]) == ("sendoff", ack.gseq)
    assert links(wire.tick(1000)) == []                                   # sent once
    # Four acknowledge; at the deadline the silent gate, and only it, raises one alarm.
    ids = {r.body["target"]: r.gseq for r in sent}
    for peer, post in ((LOBBY, "lobby"), (CONC, "concierge"), (PARK, "parking"), (GREET, "greeter")):
        wire.send(peer, M.InstructionAck(instruction=ids[f"post.{post}"]))
    assert alarms(wire.tick(ACK_MS - 2000)) == []
    assert alarms(wire.tick(2000)) == [("sendoff", "gate")]
    assert alarms(wire.tick(60_000)) == []                                # once only
    (alarm,) = [a for a in wire.ingest.state.alarms if a.get("what") == "sendoff"]
    assert (alarm["code"], alarm["ref"], alarm["target"]) == ("sendoff_no_ack", str(ack.gseq), "gate")
    (chain,) = sendoff.chains(wire.ingest.state, wire.now)
    assert (chain.name, chain.party, chain.vip, chain.status) == ("张三", 3, True, "overdue")
    assert [(link.link, link.status) for link in chain.links] == [
        ("lobby", "acked"), ("concierge", "acked"), ("parking", "acked"), ("gate", "overdue"), ("greeter", "acked")]
    # The gate acknowledges late: the chain is complete; the guest leaves: 离开, and the chain is closed.
    wire.send(GATE, M.InstructionAck(instruction=ids["post.gate"]))
    assert sendoff.chains(wire.ingest.state, wire.now)[0].status == "complete"
    wire.send(CONC, M.GuestDeparture(count=3, guest_ref="V-01"))
    (chain,) = sendoff.chains(wire.ingest.state, wire.now)
    assert (chain.status, chain.departed_ms) == ("departed", wire.now)
    assert sendoff.departed(wire.ingest.state, "V-01") == wire.now
    assert wire.ingest.state.guests["sendoffs_open"] == []


def test_a_guest_who_leaves_closes_the_chain_and_no_alarm_follows(wire: Wire) -> None:
    _, out = wire.send(LOBBY, M.SendoffNotice(guest_ref="G-01"))        # raised by the lobby: it is not told
    sent = links(out)
    assert [r.body["target"] for r in sent] == ["post.concierge", "post.parking", "post.gate"]
    assert sent[1].body["text"] == "【恭送】王五一组4人即将离开（大堂）；请备好车辆离场并确认"   # no car lead: not a VIP
    wire.send(CONC, M.GuestDeparture(count=4, guest_ref="G-01"))
    assert alarms(wire.tick(ACK_MS * 2)) == []
    assert sendoff.chains(wire.ingest.state, wire.now)[0].status == "departed"


def test_a_walk_in_party_from_the_desk_completes_when_every_link_acknowledges(wire: Wire) -> None:
    ack, out = wire.send(DESK, M.SendoffNotice(count=2, note="刘总", vip=True))
    sent = links(out)
    assert sent[0].body["text"].startswith("【恭送】刘总一组2人即将离开（指挥台）")
    assert sent[0].body["text_en"].startswith("[Send-off] 刘总, party of 2 leaving (from the command desk)")
    assert "提前10分钟" in sent[2].body["text"] and sent[0].body["guest"] == ""
    assert len(sent) == 5                                   # a VIP party: the greeting leaders see it off too
    for peer, r in zip((LOBBY, CONC, PARK, GATE, GREET), sent):
        wire.send(peer, M.InstructionAck(instruction=r.gseq))
    (chain,) = sendoff.chains(wire.ingest.state, wire.now)
    assert (chain.status, chain.ref, chain.name) == ("complete", "", "刘总")
    assert alarms(wire.tick(ACK_MS * 2)) == []
    assert (wire.ingest.state.totals["sendoffs"], wire.ingest.state.totals["sendoff_guests"]) == (1, 2)


def test_refusals_name_the_guest_and_why_in_both_languages(wire: Wire) -> None:
    nack, _ = wire.send(MODEL, M.SendoffNotice(guest_ref="NOBODY"))
    assert isinstance(nack, M.Nack) and nack.code == "E_UNKNOWN"
    assert (nack.reason_zh, nack.reason) == ("指挥台找不到来宾（NOBODY）。", "The desk cannot find guest NOBODY.")
    wire.send(MODEL, M.SendoffNotice(guest_ref="V-02"))
    nack, _ = wire.send(CONC, M.SendoffNotice(guest_ref="V-02"))
    assert nack.code == "E_SCHEMA" and "恭送已在进行中" in nack.reason_zh and "already under way" in nack.reason
    wire.send(LOBBY, M.GuestDeparture(count=2, guest_ref="V-02"))
    nack, _ = wire.send(MODEL, M.SendoffNotice(guest_ref="V-02"))
    assert "已离开" in nack.reason_zh and "already left" in nack.reason
    nack, _ = wire.send(GATE, M.SendoffNotice(count=1))                  # the gate does not raise it
    assert nack.code == "E_FORBIDDEN"


def test_a_replay_of_the_log_gives_the_same_send_offs(wire: Wire, event_dir: EventFolder) -> None:
    wire.send(MODEL, M.SendoffNotice(guest_ref="V-01"))
    wire.send(MODEL, M.SendoffNotice(count=3))
    wire.tick(ACK_MS + 1)
    wire.send(CONC, M.GuestDeparture(count=3, guest_ref="V-01"))
    again = Ingest(wire.store, event_dir.load())
    assert fold.to_wire(again.state)["guests"] == fold.to_wire(wire.ingest.state)["guests"]
    assert fold.from_wire(fold.to_wire(wire.ingest.state)) == wire.ingest.state
    assert len(again.state.guests["sendoffs"]) == 2


def test_the_party_s_host_is_a_link_of_their_own_at_their_station(hosted: Wire, event_dir: EventFolder) -> None:
    ack, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="V-09"))
    sent = links(out)
    assert [r.body["target"] for r in sent] == ["post.lobby", "post.concierge", "post.parking", "post.gate",
                                                "post.greeter", "station.sales-1"]   # 郑凯 is rostered there
    host = sent[-1].body
    assert (host["notice"], host["sendoff"], host["guest"], host["ack_required"]) == ("sendoff", ack.gseq, "V-09", True)
    assert host["text"] == "【恭送】B级 孙八（市住建局）一组2人即将离开（样板间）；请陪同客人到门口送行并确认"
    assert host["text_en"] == ("[Send-off] Level B 孙八 (市住建局), party of 2 leaving (from Show flat); as their host, "
                               "see them to the door and acknowledge")
    assert sendoff.shown_links(hosted.ingest.state)[-1] == "host"          # the desk gains the host's column
    # Every post acknowledges; the host does not: one alarm, for the host, named as the host.
    for peer, r in zip((LOBBY, CONC, PARK, GATE, GREET), sent):
        hosted.send(peer, M.InstructionAck(instruction=r.gseq))
    assert alarms(hosted.tick(ACK_MS + 1)) == [("sendoff", "host")]
    (chain,) = sendoff.chains(hosted.ingest.state, hosted.now)
    assert (chain.status, chain.links[-1].link, chain.links[-1].status) == ("overdue", "host", "overdue")
    from console.desk.widgets.fmt import duty_subject
    (alarm,) = [a for a in hosted.ingest.state.alarms if a.get("what") == "sendoff"]
    assert (duty_subject(hosted.ingest.state, alarm, "zh"), duty_subject(hosted.ingest.state, alarm, "en")) == (
        "孙八 · 陪同", "孙八 · Host")
    # The host acknowledges late from the sales terminal: the chain is complete, and a replay says the same.
    hosted.send(SALES, M.InstructionAck(instruction=sent[-1].gseq))
    assert sendoff.chains(hosted.ingest.state, hosted.now)[0].status == "complete"
    again = Ingest(hosted.store, event_dir.load())
    assert fold.to_wire(again.state)["guests"] == fold.to_wire(hosted.ingest.state)["guests"]
    assert again.state.guests["sendoffs"][str(ack.gseq)]["links"]["host"] == sent[-1].gseq


def test_a_host_signed_in_elsewhere_is_told_there_and_no_terminal_is_told_twice(hosted: Wire) -> None:
    hosted.send(Peer("station", "eng-1", "engineering"), M.StaffSignin(staff_no="S307"))   # 郑凯 on another terminal
    _, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="G-09"))
    assert [r.body["target"] for r in links(out)] == ["post.lobby", "post.concierge", "post.parking", "post.gate",
                                                      "station.eng-1"]   # where he is signed in, not where rostered
    hosted.send(PARK, M.StaffSignin(staff_no="S307"))                    # now helping out at parking
    _, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="V-09"))       # parking's link already reaches him
    assert [r.body["target"] for r in links(out)] == ["post.lobby", "post.concierge", "post.parking", "post.gate",
                                                      "post.greeter"]
    # 张三's host (S203) is rostered at lobby-1, which the lobby's link reaches.
    _, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="V-01"))
    assert "station.lobby-1" not in [r.body["target"] for r in links(out)]
    _, out = hosted.send(DESK, M.SendoffNotice(count=2, note="散客"))     # a walk-in party has no host
    assert all(r.body["target"].startswith("post.") for r in links(out))


# --- the summary: send-offs against hand-counted values ------------------------------------------------

def test_the_summary_counts_send_offs_and_times_each_link(wire: Wire) -> None:
    from console.report import doc as report_doc
    from console.report import text as rt
    from console.report.render import markdown
    from console.report.summary import summarise

    # 1. 张三 (VIP) from the model unit: lobby at +30 s, concierge at +90 s, parking at +150 s (late), gate never.
    _, out = wire.send(MODEL, M.SendoffNotice(guest_ref="V-01"))
    first = {r.body["target"]: r.gseq for r in links(out)}
    for peer, post, after in ((LOBBY, "lobby", 30), (CONC, "concierge", 60), (PARK, "parking", 60)):
        wire.tick(after * 1000)
        wire.send(peer, M.InstructionAck(instruction=first[f"post.{post}"]))
    wire.tick(60_000)                                                    # the gate's alarm
    # 2. A walk-in party of 2 from the lobby: concierge at +10 s, parking at +20 s, gate at +40 s; all in time.
    _, out = wire.send(LOBBY, M.SendoffNotice(count=2, note="散客两位"))
    second = {r.body["target"]: r.gseq for r in links(out)}
    for peer, post, after in ((CONC, "concierge", 10), (PARK, "parking", 10), (GATE, "gate", 20)):
        wire.tick(after * 1000)
        wire.send(peer, M.InstructionAck(instruction=second[f"post.{post}"]))
    wire.send(CONC, M.GuestDeparture(count=3, guest_ref="V-01"))
    s = summarise(wire.store.since(0), wire.event.summary())
    f = s.extra["sendoffs"]
    assert (f["count"], f["listed"], f["vip"], f["complete"], f["departed"]) == (2, 1, 1, 1, 1)
    assert [(r["link"], r["sent"], r["acked"], r["median_ms"], r["max_ms"], r["late"], r["missed"]) for r in f["links"]] == [
        ("lobby", 1, 1, 30_000, 30_000, 0, 0),
        ("concierge", 2, 2, 50_000, 90_000, 0, 0),             # 90 s and 10 s
        ("parking", 2, 2, 85_000, 150_000, 1, 0),             # 150 s (late) and 20 s
        ("gate", 2, 1, 40_000, 40_000, 0, 1),                 # never, and 40 s
        ("greeter", 1, 0, None, None, 0, 1)]                  # the VIP's only: its leaders never acknowledged
    assert [(m["name"], m["link"]) for m in f["missed"]] == [("张三", "gate"), ("张三", "greeter")]
    found = {d: [x["key"] for side in ("highlights", "shortcomings") for x in box[side]]
             for d, box in s.departments.items()}
    assert "sendoff.raised" in found["service"] and "sendoff.all_acked" in found["service"]   # lobby, concierge
    assert {"sendoff.late", "sendoff.missed"} <= set(found["security"])                     # parking, gate
    for lang, words in (("zh", ("恭送（客人即将离开）", f"| 门岗 | 2 | 1 | {rt.dur(40_000, 'zh')} |", "张三 · 门岗",
                                "门岗交接未确认")),
                        ("en", ("Send-offs (guests leaving)", f"| Gate | 2 | 1 | {rt.dur(40_000, 'en')} |",
                                "张三 · Gate", "Gate never acknowledged"))):
        text = markdown(report_doc.build(s, lang), {})
        for w in words:
            assert w in text, (lang, w)


def test_the_summary_times_the_host_link_and_names_the_host_who_never_acknowledged(hosted: Wire) -> None:
    from console.report import doc as report_doc
    from console.report import text as rt
    from console.report.render import markdown
    from console.report.summary import summarise

    # 孙八 (VIP, host 郑凯 at sales-1): every post at once, the host at +45 s. 周九: the host never acknowledges.
    _, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="V-09"))
    first = links(out)
    for peer, r in zip((LOBBY, CONC, PARK, GATE, GREET), first):
        hosted.send(peer, M.InstructionAck(instruction=r.gseq))
    hosted.tick(45_000)
    hosted.send(SALES, M.InstructionAck(instruction=first[-1].gseq))
    _, out = hosted.send(MODEL, M.SendoffNotice(guest_ref="G-09"))
    for peer, r in zip((LOBBY, CONC, PARK, GATE), links(out)):
        hosted.send(peer, M.InstructionAck(instruction=r.gseq))
    hosted.tick(ACK_MS + 1)                                              # the host's alarm
    s = summarise(hosted.store.since(0), hosted.event.summary())
    f = s.extra["sendoffs"]
    assert (f["count"], f["complete"], f["host_post"]) == (2, 1, ["sales"])
    assert [(r["link"], r["sent"], r["acked"], r["median_ms"], r["max_ms"], r["late"], r["missed"])
            for r in f["links"]][-1] == ("host", 2, 1, 45_000, 45_000, 0, 1)
    assert [(m["name"], m["link"], m["post"]) for m in f["missed"]] == [("周九", "host", "sales")]
    (chain,) = [c for c in f["chains"] if c["ref"] == "G-09"]
    assert [(x["link"], x["ack_ms"], x["alarm_ms"] is not None) for x in chain["links"]][-1] == ("host", None, True)
    # The sales staff answer to the General Office: the missed host link is its shortcoming.
    assert [x["params"]["post"] for x in s.departments["office"]["shortcomings"] if x["key"] == "sendoff.missed"] == [
        "host"]
    for lang, words in (("zh", (f"| 陪同 | 2 | 1 | {rt.dur(45_000, 'zh')} |", "周九 · 陪同", "陪同交接未确认")),
                        ("en", (f"| Host | 2 | 1 | {rt.dur(45_000, 'en')} |", "周九 · Host", "Host never acknowledged"))):
        text = markdown(report_doc.build(s, lang), {})
        for w in words:
            assert w in text, (lang, w)


# --- rehearsal: a scenario's own guest list, and the send-off's expectation kinds --------------------------

GUESTS = '''\
[scenario]
name = "小测试"
name_en = "Small test"
duration = "30m"

[[guest]]
ref = "V-01"
name = "张明远"
level = "A"
party = 3
needs = "素食"

[[guest]]
ref = "G-01"
name = "王建国"
level = "{level}"

[[script]]
at = "10m"
station = "model-1"
report = "sendoff_notice"
body = {{ guest_ref = "V-01" }}

[[expect]]
kind = "sendoff_complete"
guest = "V-01"
within = "2m"
'''


def test_a_scenario_carries_its_guest_list_checked_as_a_file_is(tmp_path) -> None:
    from scenarios import loader
    from scenarios.loader import ScenarioError
    path = tmp_path / "drill.toml"
    path.write_text(GUESTS.format(level="C"), "utf-8")
    sc = loader.load(path)
    assert [(g["ref"], g["level"], g["party"], g["needs"]) for g in sc.guests] == [
        ("V-01", "A", 3, ["vegetarian"]), ("G-01", "C", 1, [])]
    assert sc.guests[0]["initials"] == ["zmy"]                 # as `eventdesk guests import` makes them
    path.write_text(GUESTS.format(level="Z"), "utf-8")
    with pytest.raises(ScenarioError) as info:
        loader.load(path)
    assert (info.value.key, info.value.line) == ("guest[1].level", 16)         # the second guest's level
    assert "reception level must be A" in info.value.reason
    path.write_text(GUESTS.format(level="C").replace('party = 3', 'party = 3\nseat = "A1"'), "utf-8")
    with pytest.raises(ScenarioError) as info:
        loader.load(path)
    assert info.value.key == "guest[0].seat" and "unknown key" in info.value.reason


def facts(*chains: dict):
    from scenarios.scorecard import Facts
    return Facts(60.0, {}, {}, sendoffs=list(chains))


def chain(ref: str, raised: int, complete_after: int | None, *links: tuple) -> dict:
    """links: (post, due, ack or None, alarm or None), scenario ms."""
    return {"id": raised, "ref": ref, "raised_scn": raised, "complete_after": complete_after,
            "links": [{"link": p, "sent_scn": raised, "due_scn": due, "ack_scn": ack, "alarm_scn": alarm}
                      for p, due, ack, alarm in links]}


def test_the_send_off_expectations_judge_each_chain_and_each_late_link() -> None:
    from scenarios import expectations as X
    from scenarios.model import Expect

    def judge(kind: str, **params):
        spec = X.KINDS[kind]
        full = {k: params.get(k, d if d is not ... else None) for k, (_, d) in spec.params.items()}
        return lambda f: X.judge(Expect(kind, full, "", "", 0), f)

    clean = chain("G-01", 600_000, 40_000, ("gate", 720_000, 630_000, None))
    late = chain("V-01", 60_000, 300_000, ("lobby", 180_000, 90_000, None), ("parking", 180_000, 360_000, 200_000))
    silent = chain("", 0, None, ("gate", 120_000, None, None))
    complete = judge("sendoff_complete", within=120_000)
    assert complete(facts(clean)).status == "met" and complete(facts(clean)).measured == 40_000
    assert complete(facts(clean, late)).status == "missed"                       # 5 min for the VIP
    assert judge("sendoff_complete", guest="G-01", within=120_000)(facts(clean, late)).status == "met"
    assert complete(facts(clean, silent)).detail == "never"
    assert complete(facts()).status == "not_reached"                             # no send-off at all
    alarm = judge("sendoff_alarm_raised", within=30_000)
    r = alarm(facts(clean, late))
    assert (r.status, r.measured, [i["link"] for i in r.items]) == ("met", 20_000, ["parking"])
    assert alarm(facts(clean, late, silent)).detail == "never"                  # the silent gate raised none
    assert alarm(facts(clean)).status == "not_reached"                           # every link in time: nothing to alarm
    assert judge("sendoff_alarm_raised", within=10_000)(facts(late)).status == "missed"


# --- end to end: a real hub, real stations -----------------------------------------------------------

def sendoff_items(client) -> list:
    return [i for i in client.outbox.instructions() if i.notice == "sendoff"]


@pytest.mark.timeout(120)
@pytest.mark.wire
def test_send_off_through_a_real_hub_and_real_stations(event_dir: EventFolder) -> None:
    guest_file.write_json(event_dir.root / "guests.json", LIST, "guests.xlsx")
    clock = Clock(event_dir.load().doors_open_ms - 6 * 3600_000)
    hub = run_in_thread(event_dir, clock=clock)
    sids = ("model-1", "lobby-1", "concierge-1", "parking-1", "gate-1")
    clients = {sid: station(event_dir, hub, sid) for sid in sids}
    try:
        model, lobby, conc, park, gate = clients.values()
        wait_for(lambda: len(conc.guests()) == len(LIST), 20, "the concierge's copy of the guest list")
        report = model.submit("sendoff_notice", {"guest_ref": "V-01", "count": 0, "note": ""})
        assert model.wait_delivered(report.seq, 10).state == "delivered"
        for client in (lobby, conc, park, gate):
            wait_for(lambda: len(sendoff_items(client)) == 1, 10, f"the send-off at {client.station}")
        assert "提前10分钟" in sendoff_items(park)[0].text and "10 minutes ahead" in sendoff_items(park)[0].text_for("en")
        for client in (lobby, conc, park):
            ack = client.acknowledge_instruction(sendoff_items(client)[0].id)
            assert client.wait_delivered(ack.seq, 10).state == "delivered"
        clock.ms += ACK_MS + 1000
        overdue = wait_for(lambda: [r for r in hub.hub.store.since(0) if r.type == "overdue"
                                    and r.body["what"] == "sendoff"], 10, "the alarm")
        # The gate is silent, and the greeting leaders' terminal is not running here.
        assert [(r.body["what"], r.body["target"]) for r in overdue] == [("sendoff", "gate"), ("sendoff", "greeter")]
        ack = gate.acknowledge_instruction(sendoff_items(gate)[0].id)
        assert gate.wait_delivered(ack.seq, 10).state == "delivered"
        left = conc.submit("guest_departure", {"count": 3, "guest_ref": "V-01"})
        assert conc.wait_delivered(left.seq, 10).state == "delivered"
        state = hub.hub.ingest.state
        wait_for(lambda: sendoff.departed(state, "V-01"), 5, "the departure folded")
        (chain,) = sendoff.chains(state, clock.ms)
        assert chain.status == "departed" and [link.status for link in chain.links] == ["acked"] * 4 + ["overdue"]
    finally:
        for client in clients.values():
            client.close()
        hub.stop()
