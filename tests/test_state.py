"""The pure fold: every report moves the right figure, presence follows a manual clock, snapshots round-trip."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

import console
from console.core import state as S
from console.event.folder import parse
from console.hub.store import Row
from protocols import messages as M

SAMPLE = Path(console.__file__).parent / "event" / "sample_event.toml"
SUMMARY = parse(SAMPLE, SAMPLE.read_text("utf-8")).summary()  # late 5 s, offline 15 s
T0 = 1_780_000_020_000  # an exact minute on the wire clock


class Log:
    """Appends events with consecutive gseq and folds them into one state, like the hub."""

    def __init__(self) -> None:
        self.state = S.new_state(SUMMARY)
        self.rows: list[Row] = []

    def row(self, msg: M.Message | tuple[str, dict], station: str = "gate-1", at: int = T0) -> Row:
        type_, body = (msg.TYPE, msg.as_body()) if isinstance(msg, M.Message) else msg
        gseq = len(self.rows) + 1
        r = Row(gseq, station, "ep-" + station, gseq, type_, at - 7, at, body)
        self.rows.append(r)
        return r

    def __call__(self, msg: M.Message | tuple[str, dict], station: str = "gate-1", at: int = T0) -> int:
        r = self.row(msg, station, at)
        S.apply(self.state, r)
        return r.gseq


@pytest.fixture
def log() -> Log:
    return Log()


def test_new_state_is_the_event_with_nothing_happened() -> None:
    s = S.new_state(SUMMARY)
    assert len(s.stations) == 15                     # 8 posts and 7 department and leader terminals
    assert s.stations["parking-1"] == {"post": "parking", "last_heard_ms": 0, "outbox": 0, "reports": 0,
                                       "rejected": 0, "status": "unknown", "since_ms": 0}
    assert s.lots == {"p1": {"capacity": 80, "occupied": 0, "assigned": 0, "updated_ms": 0},
                      "p2": {"capacity": 200, "occupied": 0, "assigned": 0, "updated_ms": 0}}
    assert s.zones["model_unit"] == {"capacity": 40, "count": 0, "updated_ms": 0}
    assert s.people["headcount"] == 0 and s.cars == {"in": 0, "out": 0, "vip": 0, "on_site": 0}
    assert s.event["name_en"] == "Riverside No.1 Sales Centre Opening Day"


def test_guests_arrive_check_in_and_leave(log: Log) -> None:
    log(M.GuestArrival(count=3), "concierge-1")
    log(M.GuestArrival(count=2, vip_level="C"), "gate-1", T0 + 61_000)     # level C: a guest, not a VIP
    log(M.GuestCheckin(party_size=4, vip_level="A"), "lobby-1")            # inside: the door counted them
    log(M.GuestCheckin(party_size=5, vip_level="C"), "lobby-1")
    log(M.GuestDeparture(count=1), "concierge-2", T0 + 61_500)
    p = log.state.people
    assert (p["arrivals"], p["departures"], p["headcount"]) == (5, 1, 4)
    assert p["checked_in"] == 9
    assert p["vip_arrivals"] == 4
    m = T0 // 60000
    assert p["arrivals_by_min"] == {m: 3, m + 1: 2}
    assert p["departures_by_min"] == {m + 1: 1}


def test_the_people_ledger_counts_each_party_once(log: Log) -> None:
    """docs/PEOPLE.md's examples: the door counts, a check-in at the door counts an uncounted party, once."""
    p = log.state.people
    log(M.GuestList(source="guests.xlsx", digest="d", guests=[
        {"ref": ref, "name": ref, "level": level, "party": n}
        for ref, level, n in (("V-01", "A", 8), ("G-02", "C", 2), ("G-03", "C", 2), ("V-02", "B", 3))]), "hub")
    # An 8-person level-A delegation greeted with F6, then checked in from the list at the concierge.
    log(M.GuestArrival(count=8, vip_level="A", guest_ref="V-01"), "concierge-1")
    log(M.GuestCheckin(guest_ref="V-01", party_size=8, vip_level="A"), "concierge-2")
    assert (p["arrivals"], p["headcount"], p["checked_in"], p["vip_arrivals"]) == (8, 8, 8, 8)
    # A listed party of 2 checked in at the concierge and never counted with F1: the check-in counts them.
    log(M.GuestCheckin(guest_ref="G-02", party_size=2, vip_level="C"), "concierge-1")
    assert (p["arrivals"], p["headcount"], p["checked_in"], p["vip_arrivals"]) == (10, 10, 10, 8)
    # Checked in again (a second terminal, a double tap): nothing moves.
    log(M.GuestCheckin(guest_ref="G-02", party_size=2, vip_level="C"), "lobby-1")
    assert (p["arrivals"], p["checked_in"]) == (10, 10)
    # Counted with F2 at the door, then signed in at the lobby's desk: counted once, signed in once.
    log(M.GuestArrival(count=2), "concierge-1")
    log(M.GuestCheckin(guest_ref="G-03", party_size=2), "lobby-1")
    assert (p["arrivals"], p["headcount"], p["checked_in"]) == (12, 12, 12)
    # A level-B party the door counted anonymously is a VIP party once the lobby signs it in, once.
    log(M.GuestArrival(count=3), "concierge-1")
    log(M.GuestCheckin(guest_ref="V-02", party_size=3, vip_level="B"), "lobby-1")
    log(M.GuestCheckin(guest_ref="V-02", party_size=3, vip_level="B"), "lobby-1")
    assert (p["arrivals"], p["checked_in"], p["vip_arrivals"]) == (15, 15, 11)
    # A reference not on the list is not tracked: the picture stays as small as the list.
    log(M.GuestArrival(count=1, guest_ref="walk-in-7"), "concierge-1")
    assert set(p["parties"]) == {"V-01", "G-02", "G-03", "V-02"}


def test_headcount_never_goes_below_zero(log: Log) -> None:
    log(M.GuestArrival(count=2))
    log(M.GuestDeparture(count=5))
    assert log.state.people["headcount"] == 0
    assert log.state.people["departures"] == 5
    log(M.GuestArrival(count=3))
    assert log.state.people["headcount"] == 3


def test_cars_count_without_touching_lots(log: Log) -> None:
    log(M.CarIn(count=3))
    log(M.CarIn(vip=True), "parking-1")
    log(M.CarOut(count=2))
    log(M.CarOut(count=9))
    assert log.state.cars == {"in": 4, "out": 11, "vip": 1, "on_site": 0}
    assert log.state.lots["p1"]["occupied"] == 0 and log.state.lots["p2"]["occupied"] == 0


def test_lot_modes_exact_delta_full_and_clamped(log: Log) -> None:
    lot = log.state.lots["p1"]  # capacity 80
    log(M.LotOccupancy(lot="p1", occupied=30), "parking-1", T0 + 5)
    assert (lot["occupied"], lot["updated_ms"]) == (30, T0 + 5)
    log(M.LotOccupancy(lot="p1", delta=7), "parking-1")
    log(M.LotOccupancy(lot="p1", delta=-2), "parking-1")
    assert lot["occupied"] == 35
    log(M.LotOccupancy(lot="p1", full=True), "parking-1")
    assert lot["occupied"] == 80
    log(M.LotOccupancy(lot="p1", delta=1000), "parking-1")
    assert lot["occupied"] == 160
    log(M.LotOccupancy(lot="p1", delta=-1000), "parking-1")
    assert lot["occupied"] == 0
    log(M.LotOccupancy(lot="p1", occupied=999), "parking-1")
    assert lot["occupied"] == 160
    log(M.LotOccupancy(lot="p1", occupied=0), "parking-1")
    assert lot["occupied"] == 0
    log(M.SpaceAssign(lot="p2", space="B-12", plate="沪A12345"), "parking-2")
    log(M.SpaceAssign(lot="p2"), "parking-2")
    assert log.state.lots["p2"] == {"capacity": 200, "occupied": 0, "assigned": 2, "updated_ms": 0}
    log(M.LotOccupancy(lot="nowhere", occupied=5), "parking-1")
    assert set(log.state.lots) == {"p1", "p2"} and log.state.totals["faults"] == 0


def test_zone_counts(log: Log) -> None:
    z = log.state.zones["lobby"]
    log(M.ZoneEnter(zone="lobby", count=12), "lobby-1")
    log(M.ZoneExit(zone="lobby", count=5), "lobby-1")
    assert z["count"] == 7
    log(M.ZoneExit(zone="lobby", count=50), "lobby-1")
    assert z["count"] == 0
    log(M.ZoneCount(zone="lobby", count=42), "lobby-1", T0 + 9)
    assert (z["count"], z["updated_ms"]) == (42, T0 + 9)
    log(M.ZoneEnter(zone="model_unit", count=3), "model-1")
    log(M.ZoneEnter(zone="garden", count=3), "model-1")
    assert log.state.zones["model_unit"]["count"] == 3 and "garden" not in log.state.zones


def test_service_damage_and_sendoff(log: Log) -> None:
    for i in range(60):
        log(M.ServiceRequest(service="tea_break", where=f"table {i}"), "lobby-1")
    assert log.state.totals["services"] == 60
    assert len(log.state.services) == 50
    assert log.state.services[0]["where"] == "table 10" and log.state.services[-1]["id"] == 60
    log(M.DamageReport(item="vase", where="show flat", loss=True, note="broken"), "model-1")
    log(M.DamageReport(item="rug"), "model-1")
    assert (log.state.totals["damages"], log.state.totals["losses"]) == (2, 1)
    assert log.state.damages[0] == {"id": 61, "station": "model-1", "ms": T0, "item": "vase",
                                    "where": "show flat", "loss": True, "note": "broken"}
    log(M.SendoffNotice(count=6), "model-1")
    log(M.SendoffNotice(), "model-1")
    assert (log.state.totals["sendoffs"], log.state.totals["sendoff_guests"]) == (2, 6)


def test_incident_lifecycle(log: Log) -> None:
    inc_id = log(M.IncidentReport(kind="water_leak", severity=3, location="B1", note="pipe"), "parking-2", T0)
    inc = log.state.incidents[inc_id]
    assert (inc["status"], inc["station"], inc["source"], inc["opened_ms"]) == ("new", "parking-2", "station", T0)
    log(M.IncidentUpdate(incident=inc_id, note="getting worse"), "parking-2", T0 + 1000)
    assert inc["ack_ms"] == 0 and inc["status"] == "new"  # a note is not a response
    log(M.IncidentUpdate(incident=inc_id, status="acknowledged"), "desk-1", T0 + 20_000)
    assert (inc["status"], inc["ack_ms"]) == ("acknowledged", T0 + 20_000)
    log(M.IncidentUpdate(incident=inc_id, status="in_progress", assign="engineering", note="on it"), "desk-1", T0 + 30_000)
    assert (inc["status"], inc["department"], inc["ack_ms"]) == ("in_progress", "engineering", T0 + 20_000)
    log(M.IncidentUpdate(incident=inc_id, status="resolved", note="valve shut"), "desk-1", T0 + 90_000)
    assert (inc["status"], inc["resolved_ms"]) == ("resolved", T0 + 90_000)
    log(M.IncidentUpdate(incident=inc_id, status="resolved"), "desk-1", T0 + 95_000)
    assert inc["resolved_ms"] == T0 + 90_000  # resolving twice keeps the first time
    assert inc["history"] == [
        [T0, "parking-2", "opened", "pipe"],
        [T0 + 1000, "parking-2", "note", "getting worse"],
        [T0 + 20_000, "desk-1", "acknowledged", ""],
        [T0 + 30_000, "desk-1", "in_progress", "on it"],
        [T0 + 30_000, "desk-1", "assign:engineering", ""],
        [T0 + 90_000, "desk-1", "resolved", "valve shut"],
        [T0 + 95_000, "desk-1", "resolved", ""],
    ]
    log(M.IncidentUpdate(incident=inc_id, status="in_progress"), "desk-1", T0 + 99_000)
    assert (inc["status"], inc["resolved_ms"]) == ("in_progress", 0)  # reopened


def test_assigning_a_new_incident_acknowledges_it_and_unknown_ones_are_ignored(log: Log) -> None:
    inc_id = log(M.IncidentOpen(kind="medical", severity=4, source="phone"), "desk-1", T0)
    log(M.IncidentUpdate(incident=inc_id, assign="service"), "desk-1", T0 + 4000)
    inc = log.state.incidents[inc_id]
    assert (inc["status"], inc["department"], inc["ack_ms"], inc["source"]) == ("acknowledged", "service", T0 + 4000, "phone")
    before = S.to_wire(log.state)["incidents"]
    log(M.IncidentUpdate(incident=999, status="resolved"), "desk-1")
    assert S.to_wire(log.state)["incidents"] == before and log.state.totals["faults"] == 0


def test_incident_history_stays_bounded(log: Log) -> None:
    inc_id = log(M.IncidentReport(kind="other", note="first"))
    for i in range(500):
        log(M.IncidentUpdate(incident=inc_id, note=str(i)))
    h = log.state.incidents[inc_id]["history"]
    assert len(h) == 50 and h[0][2:] == ["opened", "first"] and h[-1][3] == "499" and h[1][3] == "451"


def test_open_incidents_most_severe_then_newest(log: Log) -> None:
    ids = [log(M.IncidentReport(kind="other", severity=sev)) for sev in (2, 4, 2, 3, 4, 1)]
    log(M.IncidentUpdate(incident=ids[3], status="resolved"), "desk-1")
    log(M.IncidentUpdate(incident=ids[0], status="in_progress"), "desk-1")
    assert [i["id"] for i in S.open_incidents(log.state)] == [ids[4], ids[1], ids[2], ids[0], ids[5]]


def test_instruction_acks_and_instructions_for(log: Log) -> None:
    everyone = log(M.Instruction(target="all", text="疏散东门", ack_required=True), "desk-1", T0)
    parking = log(M.Instruction(target="post.parking", text="close B1", ack_required=True), "desk-2", T0 + 1)
    gate1 = log(M.Instruction(target="station.gate-1", text="hold cars", ack_required=True), "desk-1", T0 + 2)
    fyi = log(M.Instruction(target="all", text="FYI only"), "desk-1", T0 + 3)

    def open_for(station: str, post: str) -> list[int]:
        return [c["gseq"] for c in S.instructions_for(log.state, station, post)]

    assert open_for("gate-1", "gate") == [everyone, gate1, fyi]
    assert open_for("gate-2", "gate") == [everyone, fyi]
    assert open_for("parking-1", "parking") == [everyone, parking, fyi]
    log(M.InstructionAck(instruction=everyone), "gate-1", T0 + 10)
    log(M.InstructionAck(instruction=everyone), "gate-1", T0 + 20)
    log(M.InstructionAck(instruction=12345), "gate-1", T0 + 20)
    assert log.state.instructions[everyone]["acks"] == {"gate-1": T0 + 10}
    assert open_for("gate-1", "gate") == [gate1, fyi]
    assert open_for("gate-2", "gate") == [everyone, fyi]
    first = S.instructions_for(log.state, "parking-1", "parking")[1]
    assert first == {"gseq": parking, "station": "desk-2", "epoch": "ep-desk-2", "seq": parking,
                     "type": "instruction", "station_ms": T0 + 1 - 7, "recv_ms": T0 + 1,
                     "body": {"target": "post.parking", "text": "close B1", "ack_required": True}}
    assert dataclasses.asdict(M.Committed(**first)) == {**first, "cut": False}  # exactly the shape a welcome carries


def test_a_welcome_repeats_the_newest_instructions_that_ask_no_ack(log: Log) -> None:
    """A station away when an FYI went out still gets it at its next welcome: the 20 newest, with the open ones."""
    fyis = [log(M.Instruction(target="post.gate", text=f"FYI {n}"), "desk-1", T0 + n) for n in range(25)]
    other = log(M.Instruction(target="post.lobby", text="not for the gate"), "desk-1", T0 + 30)
    hold = log(M.Instruction(target="station.gate-1", text="停止放行", gate="hold"), "desk-1", T0 + 31)
    asked = log(M.Instruction(target="all", text="confirm", ack_required=True), "desk-1", T0 + 32)
    log(M.InstructionAck(instruction=asked), "gate-1", T0 + 33)
    sent = S.instructions_for(log.state, "gate-1", "gate")
    ids = [c["gseq"] for c in sent]
    assert ids == fyis[-19:] + [hold]        # the 20 newest without an ack; the older six are left out
    assert other not in ids and asked not in ids   # not addressed to it; acknowledged already
    assert sent[-1]["body"] == {"target": "station.gate-1", "text": "停止放行", "ack_required": False, "gate": "hold"}
    assert [c["gseq"] for c in S.instructions_for(log.state, "gate-2", "gate")] == fyis[-20:] + [asked]


def test_notes_alarms_and_station_status(log: Log) -> None:
    text = "[bold red]{0}%s</script> 消防通道"
    log(M.DeskNote(text=text, department="security"), "desk-1")
    assert log.state.notes[-1]["text"] == text  # untrusted text kept byte for byte
    for _ in range(105):
        log(M.Alarm(code="E_CONFLICT", station="gate-2", reason="seq 4 reused"), "hub")
    log(M.Alarm(code="E_IDENTITY", reason="unknown key"), "hub")
    assert log.state.totals["alarms"] == 106 and len(log.state.alarms) == 100
    assert log.state.stations["gate-2"]["rejected"] == 105
    assert log.state.alarms[-1]["code"] == "E_IDENTITY"
    log(M.StationStatus(station="lobby-1", status="late", last_heard_ms=T0 - 6000), "hub", T0)
    log(M.StationStatus(station="lobby-1", status="late", last_heard_ms=T0 - 6000), "hub", T0 + 500)
    st = log.state.stations["lobby-1"]
    assert (st["status"], st["since_ms"], st["last_heard_ms"]) == ("late", T0, T0 - 6000)
    log(M.StationStatus(station="lobby-1", status="offline", last_heard_ms=T0 - 6000), "hub", T0 + 9000)
    assert (st["status"], st["since_ms"]) == ("offline", T0 + 9000)


def test_station_bookkeeping_from_events(log: Log) -> None:
    log(M.CarIn(), "gate-1", T0 + 100)
    log(M.CarIn(), "gate-1", T0 + 50)  # an earlier receive time never moves last heard back
    log(M.DeskNote(text="x"), "desk-1", T0)
    st = log.state.stations["gate-1"]
    assert (st["reports"], st["last_heard_ms"]) == (2, T0 + 100)
    assert "desk-1" not in log.state.stations and "hub" not in log.state.stations
    assert log.state.counts == {"car_in": 2, "note": 1} and log.state.last_ms == T0 + 100
    assert [r["gseq"] for r in log.state.recent] == [3, 2, 1]   # in time order, whatever order they came in
    assert log.state.recent[-1] == {"gseq": 1, "station": "gate-1", "type": "car_in", "recv_ms": T0 + 100,
                                   "body": {"plate": "", "vip": False, "count": 1, "release": False}}


def test_liveness_follows_the_manual_clock() -> None:
    s = S.new_state(SUMMARY)
    assert S.liveness(s, "gate-1", T0) == "unknown"
    assert S.liveness(s, "no-such-station", T0) == "unknown"
    S.touch(s, "gate-1", T0, outbox=3)
    assert s.stations["gate-1"]["outbox"] == 3
    assert [S.liveness(s, "gate-1", T0 + d) for d in (0, 4999, 5000, 14_999, 15_000, 600_000)] == \
        ["online", "online", "late", "late", "offline", "offline"]
    S.touch(s, "gate-1", T0 - 1000)  # a stale frame does not rewind the clock
    assert s.stations["gate-1"]["last_heard_ms"] == T0 and s.stations["gate-1"]["outbox"] == 0
    S.touch(s, "gate-1", T0 + 20_000)
    assert S.liveness(s, "gate-1", T0 + 20_001) == "online"
    S.touch(s, "desk-1", T0)
    assert "desk-1" not in s.stations


def test_buckets_keep_memory_flat_over_a_million_events() -> None:
    s = S.new_state(SUMMARY)
    arrival = ("guest_arrival", {"count": 1, "guest_ref": "", "vip_level": "", "note": ""})
    departure = ("guest_departure", {"count": 1, "guest_ref": ""})
    most = 0
    n = 1_000_000
    for i in range(n):
        type_, body = departure if i % 4 == 3 else arrival
        S.apply(s, Row(i + 1, "concierge-1", "e", i + 1, type_, 0, T0 + i * 7_000, body))  # one every 7 s
        if i % 997 == 0:
            most = max(most, len(s.people["arrivals_by_min"]), len(s.people["departures_by_min"]))
    p = s.people
    last = (T0 + (n - 1) * 7_000) // 60000
    assert most <= S.WINDOW_MIN
    assert sorted(p["arrivals_by_min"]) == list(range(last - 119, last + 1))
    assert sorted(p["departures_by_min"]) == list(range(last - 119, last + 1))
    assert (p["arrivals"], p["departures"]) == (750_000, 250_000)
    assert len(s.recent) == 200 and s.gseq == n


def test_buckets_with_a_clock_step_back() -> None:
    s = S.new_state(SUMMARY)
    m = T0 // 60000
    rows = [(T0, 1), (T0 + 5 * 60000, 2), (T0 + 60000, 4), (T0 + 300 * 60000, 8), (T0 + 5 * 60000, 16)]
    for g, (ms, n) in enumerate(rows, 1):
        S.apply(s, Row(g, "gate-1", "e", g, "guest_arrival", 0, ms, {"count": n}))
    assert s.people["arrivals_by_min"] == {m + 300: 8}  # the last one fell behind the window
    assert s.people["arrivals"] == 31 and s.people["headcount"] == 31


def rich_log() -> Log:
    log = Log()
    for i in range(250):
        log(M.GuestArrival(count=1 + i % 3), "concierge-1", T0 + i * 20_000)
    log(M.GuestDeparture(count=4), "concierge-2", T0 + 99_000)
    log(M.GuestCheckin(party_size=2, vip_level="B", name="王总"), "lobby-1")
    log(M.CarIn(vip=True, plate="沪A1"), "gate-1")
    log(M.CarOut(count=1), "gate-2")
    log(M.LotOccupancy(lot="p2", occupied=150), "parking-2")
    log(M.SpaceAssign(lot="p2", space="B-1"), "parking-2")
    log(M.ZoneEnter(zone="lobby", count=9), "lobby-1")
    log(M.ZoneExit(zone="lobby", count=2), "lobby-1")
    log(M.ZoneCount(zone="model_unit", count=11), "model-1")
    log(M.ServiceRequest(service="cleaning", note="spill"), "lobby-1")
    log(M.ServiceUpdate(call=log.state.gseq, status="done", by="李四"), "lobby-1")
    log(M.DamageReport(item="model", loss=True), "model-1")
    log(M.SendoffNotice(count=3), "model-1")
    inc = log(M.IncidentReport(kind="fire", severity=4, location="kitchen"), "lobby-1")
    log(M.IncidentUpdate(incident=inc, status="acknowledged", assign="security"), "desk-1")
    log(M.IncidentOpen(kind="power_outage", severity=3, note="phoned in", source="phone"), "desk-2")
    ins = log(M.Instruction(target="all", text="stand by", ack_required=True), "desk-1")
    log(M.InstructionAck(instruction=ins), "gate-2")
    log(M.PlanProposed(plan="parking_full", name="车位已满应急预案", cause="lot:p2"), "hub")
    ask = log(M.PlanStart(plan="fire", note="confirmed"), "desk-1")
    run = log(M.PlanStarted(plan="fire", name="火情应急预案", cause=f"incident:{inc}", request=ask, steps=[
        {"id": "gate_hold", "department": "security", "due_s": 60, "posts": ["gate"], "do": "停车", "do_en": "hold",
         "say": "停止放行", "say_en": "stop cars"}]), "hub")
    log(M.PlanStep(run=run, step="gate_hold", status="skipped", reason="gate closed already"), "gate-1")
    log(M.PlanEscalated(run=run, step="gate_hold", due_ms=T0), "hub")
    log(M.PlanStandDown(run=run, note="false alarm"), "desk-1")
    log(M.DeskNote(text="all calm"), "desk-1")
    log(M.Alarm(code="E_CONFLICT", station="gate-1"), "hub")
    log(M.StationStatus(station="model-1", status="offline", last_heard_ms=T0), "hub")
    log(M.StationClock(station="model-1", offset_ms=600_000, delay_ms=4), "hub")
    log(M.GuestList(source="guests.xlsx", digest="d1", guests=[
        {"ref": "V-01", "name": "张三", "level": "A", "party": 3, "plate": "湘A·12345", "needs": ["vegetarian"]}]), "hub")
    log(M.GuestExpect(guest_ref="V-01", arrive_ms=T0, note="航班延误"), "desk-1")
    log(M.GuestAdd(name="周总", party=4, plate="湘A·88888"), "desk-1")
    log(M.TaskAdd(title="补充指示牌", department="logistics", due_ms=T0), "desk-1")   # preparation (issue 16 item 6)
    log(M.TaskChange(task="engineering-power", department="logistics", due_ms=T0), "desk-1")
    log(M.RosterAdd(station="lobby-1", name="赵敏", start_ms=T0, end_ms=T0 + 3_600_000), "desk-1")
    log(M.RosterChange(slot="lobby-1/赵敏", end_now=True), "desk-1")
    log(M.PrepStage(stage="submitted", department="office"), "desk-1")
    log(M.CarIn(plate="湘A12345"), "gate-1")
    log(M.GuestCheckin(guest_ref="V-01", party_size=3, vip_level="A"), "concierge-1")
    log(M.TaskSignoff(task="engineering-power", note="ok"), "desk-1")
    log(M.StaffSignin(staff_no="S101"), "gate-1")
    log(M.StaffSignout(name="王强"), "gate-1")
    log(M.Overdue(what="roster", ref="gate-2/S102", target="gate-2", due_ms=T0), "hub")
    log(M.PhonePaired(phone="a1b2c3", at_ms=T0), "gate-1")   # phones (issue 18)
    log(M.PhoneUnpaired(phone="a1b2c3", why="unpaired"), "gate-1")
    log(M.PhoneRevoke(station="gate-1", generation=1, reason="手机丢失"), "desk-1")
    log(M.DrillClock(start_ms=T0 - 3_600_000, ms_per_s=60_000, scenario="fire_drill"), "desk-1", T0 + 1_000)
    log(M.HubStopped(), "hub", T0 + 1_500)
    log(M.HubStarted(previous="crash", down_from_ms=T0 + 1_400), "hub", T0 + 1_800)
    log(M.HubSwitch(era=2, hub="backup", after_gseq=3, reason="peer_lost"), "hub", T0 + 1_900)   # two hubs (issue 19)
    log(("some_future_type", {"x": 1}), "gate-1", T0 + 2_000)
    S.touch(log.state, "gate-2", T0 + 999, outbox=2)
    return log


def test_every_stored_type_folds_without_fault() -> None:
    log = rich_log()
    assert set(log.state.counts) - {"some_future_type"} == M.STORED
    assert log.state.totals["faults"] == 0 and log.state.totals["unknown"] == 1


def test_apply_never_raises_and_counts_what_it_cannot_use(log: Log) -> None:
    log(("guest_arrival", {"count": "many"}))
    log(("incident_update", {}))
    log(("lot_occupancy", None))
    log(("heartbeat", {"outbox": 1}))
    assert log.state.totals["faults"] == 3 and log.state.totals["unknown"] == 1
    assert log.state.people["arrivals"] == 0 and log.state.gseq == 4


def test_an_event_already_folded_is_not_counted_twice(log: Log) -> None:
    log(M.GuestArrival(count=5))
    S.apply(log.state, log.rows[-1])
    S.apply(log.state, log.rows[-1])
    assert log.state.people["arrivals"] == 5 and log.state.counts == {"guest_arrival": 1}


def test_committed_messages_fold_like_rows(log: Log) -> None:
    r = log.row(M.GuestArrival(count=2), "concierge-1")
    other = S.new_state(SUMMARY)
    S.apply(log.state, r)
    S.apply(other, M.Committed(gseq=r.gseq, station=r.station, epoch=r.epoch, seq=r.seq, type=r.type,
                               station_ms=r.station_ms, recv_ms=r.recv_ms, body=r.body))
    assert S.to_wire(other) == S.to_wire(log.state)


def test_snapshot_round_trips_and_continues_identically() -> None:
    log = rich_log()
    wire = S.to_wire(log.state)
    assert S.to_wire(S.from_wire(wire)) == wire
    packed = msgpack.unpackb(msgpack.packb(wire))
    assert packed == wire
    copy = S.from_wire(packed)
    assert copy == log.state
    more = [log.row(M.IncidentUpdate(incident=next(iter(log.state.incidents)), status="resolved"), "desk-1"),
            log.row(M.GuestArrival(count=7), "concierge-1", T0 + 10 * 3600_000)]
    for r in more:
        S.apply(log.state, r)
        S.apply(copy, r)
    assert S.to_wire(copy) == S.to_wire(log.state)
    assert S.to_wire(copy) != wire  # and the snapshot taken earlier did not change with them
    assert wire == msgpack.unpackb(msgpack.packb(wire)) and wire["gseq"] == len(log.rows) - 2


def test_replaying_the_same_log_gives_the_same_state() -> None:
    log = rich_log()
    a, b = S.new_state(SUMMARY), S.new_state(SUMMARY)
    for r in log.rows:
        S.apply(a, r)
    for r in log.rows:
        S.apply(b, r)
    assert S.to_wire(a) == S.to_wire(b)
    # 499 counted at the door, and V-01's party of 3 checked in at the concierge (the door) without a count.
    assert S.to_wire(a)["people"]["arrivals"] == log.state.people["arrivals"] == 499 + 3


def test_from_wire_refuses_another_version() -> None:
    wire = S.to_wire(S.new_state(SUMMARY))
    wire["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        S.from_wire(wire)


@pytest.mark.wire
def test_state_imports_no_sockets_database_or_screen() -> None:
    code = ("import sys, console.core.state; bad = {'zmq', 'sqlite3', 'sqlite_utils', 'textual', 'console.hub.store',"
            " 'console.hub.server'} & set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_drill_clock_puts_the_log_on_scenario_time_and_leaves_the_links_real(log: Log) -> None:
    nine = T0 - 3_600_000                                     # the scenario starts at 09:00 on its day
    log(M.GuestArrival(count=1), "concierge-1", T0 - 5_000)   # before the drill: the real clock
    log(M.DrillClock(start_ms=nine, ms_per_s=60_000, scenario="opening_day"), "desk-1", T0)
    log(M.IncidentReport(kind="fire", severity=3, location="厨房"), "model-1", T0 + 2_000)   # 2 real s = 2 min
    s = log.state
    assert s.clock == {"at": T0, "start": nine, "ms_per_s": 60_000, "scenario": "opening_day"}
    (fire,) = s.incidents.values()
    assert fire["opened_ms"] == nine + 120_000 and s.last_ms == nine + 120_000
    assert [r["recv_ms"] for r in list(s.recent)[-2:]] == [nine, nine + 120_000]   # the clock's own instant first
    # Instants before the clock run at the real pace up to its start: no jump back, no jump ahead.
    assert S.event_ms(s, T0 - 5_000) == nine - 5_000 and S.event_ms(s, T0 + 1_500) == nine + 90_000
    # The link is measured on the real clock: heard 2 real seconds ago is online, not two minutes silent.
    assert s.stations["model-1"]["last_heard_ms"] == T0 + 2_000
    assert S.liveness(s, "model-1", T0 + 4_000) == "online"
    replayed = S.new_state(SUMMARY)
    for r in log.rows:
        S.apply(replayed, r)
    assert S.to_wire(replayed) == S.to_wire(s)


def test_a_snapshot_shares_the_guest_list_yet_never_moves_with_the_state(log: Log) -> None:
    """to_wire shares the guest list rather than copying thousands of guests: safe only while nothing
    changes it in place. Sightings, check-ins, plates at the gate and a new list must leave it as it was."""
    import copy
    log(M.GuestList(source="guests.xlsx", digest="d1", guests=[
        {"ref": "V-01", "name": "张三", "level": "A", "party": 3, "plate": "湘A·12345", "needs": ["vegetarian"]},
        {"ref": "G-01", "name": "李四", "level": "C", "party": 2}]), "hub")
    snap = S.to_wire(log.state)
    frozen = copy.deepcopy(snap)
    log(M.CarIn(plate="湘A·12345"), "gate-1")
    log(M.GuestArrival(count=3, guest_ref="V-01", vip_level="A"), "gate-1")
    log(M.GuestCheckin(guest_ref="G-01", party_size=2), "concierge-1")
    log(M.GuestList(source="guests2.xlsx", digest="d2", guests=[{"ref": "X-01", "name": "王五", "level": "B", "party": 1}]),
        "hub")
    assert snap == frozen
    assert list(S.to_wire(log.state)["guests"]["list"]) == ["X-01"]
