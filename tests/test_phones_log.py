"""Phones in the log (issue 18): pairings folded into the picture, a desk's revoke logged and published on the
station's topic, refused twice or for a station the event lacks; the server's table names phones by label only."""
from __future__ import annotations

from console.core import state as fold
from console.desk.widgets import fmt
from console.core.state.fold_phones import generation_of, phones_of
from console.hub.ingest import Ingest
from console.report import doc, render
from console.report.summary import summarise
from protocols import messages as M
from protocols.bounds import topic_frame
from stations.web.pairing import Pairings
from tests.test_guests_handoff import DESK, GATE, LOBBY, Wire, wire  # noqa: F401  (the fixture)

KEYS = {"gate-1": b"\x01" * 32, "gate-2": b"\x02" * 32}


def test_pairings_fold_into_the_picture_and_a_revoke_ends_them(wire: Wire, event_dir) -> None:  # noqa: F811
    state = wire.ingest.state
    assert phones_of(state, "gate-1") == (0, 0) and "phones" not in state.stations["gate-1"]   # as an older log
    for phone, at in (("a1", wire.now - 60_000), ("b2", wire.now)):
        ack, _ = wire.send(GATE, M.PhonePaired(phone=phone, at_ms=at))
        assert isinstance(ack, M.Ack)
    assert phones_of(state, "gate-1") == (2, wire.now)
    wire.send(GATE, M.PhoneUnpaired(phone="a1", why="unpaired"))
    assert phones_of(state, "gate-1") == (1, wire.now)

    ack, out = wire.send(DESK, M.PhoneRevoke(station="gate-1", generation=1, reason="手机丢失"))
    assert isinstance(ack, M.Ack) and [r.type for r in out.stored] == ["phone_revoke"]
    topics = [frames[0] for frames in out.publish]
    assert topic_frame("station.gate-1") in topics and topic_frame("feed") in topics
    st = state.stations["gate-1"]
    assert phones_of(state, "gate-1") == (0, 0) and generation_of(state, "gate-1") == 1
    assert (st["phones_paired"], st["phones_revoked"]) == (2, 1)
    wire.send(GATE, M.PhoneUnpaired(phone="b2", why="revoked"))   # the server's word after the fact: not twice
    assert st["phones_revoked"] == 1
    # The log replays to the same picture, and a snapshot carries it.
    again = Ingest(wire.store, event_dir.load())
    assert again.state == state and fold.from_wire(fold.to_wire(state)) == state


def test_a_revoke_is_refused_twice_or_for_no_such_station(wire: Wire) -> None:  # noqa: F811
    assert isinstance(wire.send(DESK, M.PhoneRevoke(station="gate-1", generation=1))[0], M.Ack)
    again, out = wire.send(DESK, M.PhoneRevoke(station="gate-1", generation=1))   # another desk, at the same time
    assert isinstance(again, M.Nack) and again.code == "E_SCHEMA" and out.stored == []
    assert "另一个指挥台刚撤销过" in again.reason_zh and "another desk has just revoked" in again.reason
    nobody, _ = wire.send(DESK, M.PhoneRevoke(station="gate-9", generation=1))
    assert isinstance(nobody, M.Nack) and "gate-9" in nobody.reason_zh
    assert generation_of(wire.ingest.state, "gate-1") == 1


def test_only_a_desk_revokes_and_only_a_station_pairs(wire: Wire) -> None:  # noqa: F811
    nack, _ = wire.send(LOBBY, M.PhoneRevoke(station="gate-1", generation=1))
    assert isinstance(nack, M.Nack) and nack.code == "E_FORBIDDEN"
    nack, _ = wire.send(DESK, M.PhonePaired(phone="a1"))
    assert isinstance(nack, M.Nack) and nack.code == "E_FORBIDDEN"
    assert phones_of(wire.ingest.state, "gate-1") == (0, 0)


def test_the_server_table_names_phones_by_label_and_says_why_each_ended() -> None:
    labels = iter(["p1", "p2", "p3"])
    p = Pairings(KEYS, token=iter(["t1", "t2", "t3"]).__next__, label=lambda: next(labels))
    t1, _ = p.pair(p.code("gate-1"), "127.0.0.5", 0.0, "zh", at_ms=5)
    t2, _ = p.pair(p.code("gate-1"), "127.0.0.6", 0.0, "zh")
    t3, _ = p.pair(p.code("gate-2"), "127.0.0.7", 0.0, "zh")
    assert (p.session(t1).phone, p.session(t1).since_ms) == ("p1", 5) and p.drain_ended() == []
    p.unpair(t2)
    assert p.set_generations({"gate-1": 1, "gate-2": 0}) == ["gate-1"]
    assert p.session(t1) is None and p.session(t3) is not None
    assert p.set_generations({"gate-1": 0}) == [] and p.generations["gate-1"] == 1   # an older file never undoes it
    p.end_all("stopped")
    assert p.drain_ended() == [("gate-1", "p2", "unpaired"), ("gate-1", "p1", "revoked"), ("gate-2", "p3", "stopped")]
    assert p.drain_ended() == [] and p.sessions == {}


def test_the_timeline_and_the_summary_say_it_in_words(wire: Wire, event_dir) -> None:  # noqa: F811
    for phone in ("a1", "b2", "c3"):
        wire.send(GATE, M.PhonePaired(phone=phone, at_ms=wire.now))
    wire.send(GATE, M.PhoneUnpaired(phone="c3", why="unpaired"))
    wire.send(DESK, M.PhoneRevoke(station="gate-1", generation=1, reason="手机丢失"))
    wire.send(GATE, M.PhoneUnpaired(phone="a1", why="revoked"))
    state = wire.ingest.state
    lines = {lang: [fmt.describe(r, state, lang).plain for r in state.recent if r["type"].startswith("phone_")]
             for lang in ("zh", "en")}
    assert lines["zh"] == ["手机已配对"] * 3 + ["手机已解除配对 手机自行解除", "撤销手机配对 东门岗 “手机丢失”",
                                                 "手机已解除配对 配对已撤销"]
    assert lines["en"][3:5] == ["Phone unpaired the phone unpaired itself", "Phone pairings revoked East gate “手机丢失”"]
    assert not any(p in " ".join(lines["zh"] + lines["en"]) for p in ("a1", "b2", "c3", "gate-1"))   # no ids

    summary = summarise(wire.store.since(0), event_dir.load().summary())
    assert summary.extra["phones"] == {"gate-1": {"paired": 3, "revoked": 2}}
    text = {lang: render.markdown(doc.build(summary, lang), {}) for lang in ("zh", "en")}
    assert "东门岗：手机配对 3 次，撤销 2 部" in text["zh"] and "East gate: 3 phone pairings, 2 phones revoked" in text["en"]
