"""Plans in the hub: Ingest runs the engine after every commit and every tick and refuses plan
actions that name nothing real; then the whole dialog over real sockets -- a station reports a
fire, the plan starts, the posts get, acknowledge and confirm their steps, the desk stands it
down, and a replay of the log gives the same history."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from console.core import plans
from console.core import state as fold
from console.event import plan_files
from console.event.folder import EventFolder
from console.hub.ingest import Ingest, Peer
from console.hub.server import run_in_thread
from console.hub.store import Store
from protocols import codec
from protocols import messages as M
from protocols.bounds import topic_name
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED, REJECTED
from stations.terminal.posts.base import Site
from stations.terminal.posts.gate import holds
from tests.wire import wait_for

T0 = 1_796_437_800_000
DESK = Peer("desk", "desk-1", "desk")
GATE = Peer("station", "gate-1", "gate")
PARK = Peer("station", "parking-1", "parking")
MODEL = Peer("station", "model-1", "model_unit")


class Wire:
    """An Ingest over a real log file, fed frames the way the hub feeds it (no sockets)."""

    def __init__(self, folder: EventFolder) -> None:
        self.store = Store(folder.db(), writer=True)
        self.ingest = Ingest(self.store, folder.load())
        self.seqs: dict[str, int] = {}

    def send(self, peer: Peer, msg: M.Message, now: int = T0):
        seq = self.seqs[peer.id] = self.seqs.get(peer.id, 0) + 1
        out = self.ingest.handle([(b"addr", peer, codec.encode(msg, peer.id, "ep", seq, now))], now)
        (reply,) = [codec.decode(frames).message for _, frames in out.replies]
        return reply, out

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def wire(event_dir):
    w = Wire(event_dir)
    yield w
    w.close()


def _published(out) -> list[tuple[str, M.Committed]]:
    return [(topic_name(f[0]), codec.decode(f[1:]).message) for f in out.publish]


def test_the_hub_logs_and_publishes_what_the_engine_decides(wire: Wire) -> None:
    ack, out = wire.send(MODEL, M.IncidentReport(kind="fire", severity=3, location="样板间"))
    assert isinstance(ack, M.Ack) and ack.gseq == 1
    assert [r.type for r in out.stored] == ["incident_report", "plan_started"] + ["instruction"] * 9
    assert all(r.station == "hub" for r in out.stored[1:])
    pub = _published(out)
    # The steps naming no post go to the sample's department terminals (security, engineering, service).
    assert [t for t, _ in pub if t != "feed"] == ["post.security", "post.gate", "post.parking", "post.concierge",
                                                 "post.lobby", "post.model_unit", "post.engineering", "post.gate",
                                                 "post.service"]
    assert len([t for t, _ in pub if t == "feed"]) == 11
    run = out.stored[1].gseq
    orders = [m for t, m in pub if t == "post.gate"]
    assert [(m.gseq, m.body["run"], m.body["step"]) for m in orders] == [
        (out.stored[3].gseq, run, "gate_hold"), (out.stored[9].gseq, run, "meet_fire_service")]
    # Each second the hub asks again: nothing, until a step's time has passed.
    assert wire.ingest.hub_events([], T0 + 60_000).stored == []
    late = wire.ingest.hub_events([], T0 + 60_001)
    assert [(r.type, r.body["step"]) for r in late.stored] == [("plan_escalated", "alarm"), ("plan_escalated", "gate_hold")]
    assert [t for t, _ in _published(late)] == ["feed", "feed"]


def test_plan_actions_that_name_nothing_real_are_refused(wire: Wire) -> None:
    _, out = wire.send(MODEL, M.IncidentReport(kind="water_leak", severity=2))
    run = next(r.gseq for r in out.stored if r.type == "plan_started")

    def nack(peer: Peer, msg: M.Message) -> tuple[str, str]:
        reply, _ = wire.send(peer, msg)
        assert isinstance(reply, M.Nack) and not reply.retry, reply
        return reply.code, reply.reason

    assert nack(DESK, M.PlanStart(plan="earthquake")) == ("E_UNKNOWN", "The desk cannot find plan earthquake.")
    assert nack(DESK, M.PlanStart(plan="water_leak")) == (
        "E_SCHEMA", f"The plan is wrong: this plan is already running (#{run}); stand it down before starting it again.")
    assert nack(DESK, M.PlanStep(run=9999, step="x")) == ("E_UNKNOWN", "The desk cannot find plan run #9999.")
    assert nack(DESK, M.PlanStep(run=run, step="nap")) == ("E_UNKNOWN", f"The desk cannot find plan step #{run} nap.")
    assert nack(DESK, M.PlanStandDown(run=1)) == ("E_UNKNOWN", "The desk cannot find plan run #1.")
    assert nack(DESK, M.Instruction(target="post.gate", text="x", run=9999, step="x"))[0] == "E_UNKNOWN"
    assert nack(GATE, M.PlanStep(run=run, step="protect_area")) == (
        "E_SCHEMA", "The plan step is wrong: this step is not assigned to this post.")
    assert nack(GATE, M.PlanStart(plan="fire"))[0] == "E_FORBIDDEN"
    assert nack(GATE, M.PlanStandDown(run=run))[0] == "E_FORBIDDEN"
    zh = wire.send(PARK, M.PlanStep(run=run, step="shut_valve"))[0].reason_zh
    assert zh == "“预案步骤”填写有误：该步骤不是分配给本岗位的"
    # What may be done: a post its own step, the desk any step, the desk the stand-down.
    assert isinstance(wire.send(MODEL, M.PlanStep(run=run, step="protect_area"))[0], M.Ack)
    assert isinstance(wire.send(DESK, M.PlanStep(run=run, step="repair", status="skipped", reason="明天修"))[0], M.Ack)
    reply, out = wire.send(DESK, M.PlanStandDown(run=run, note="已处理"))
    assert isinstance(reply, M.Ack) and [(r.type, r.body.get("target")) for r in out.stored] == [
        ("plan_stand_down", None), ("instruction", "post.engineering"), ("instruction", "post.environment"),
        ("instruction", "post.lobby"), ("instruction", "post.model_unit")]   # every post told, terminals too
    assert isinstance(wire.send(DESK, M.PlanStart(plan="water_leak"))[0], M.Ack)   # over: may start again


def test_a_gate_order_must_reach_a_gate(wire: Wire) -> None:
    def answer(target: str, gate: str = "hold") -> M.Message:
        return wire.send(DESK, M.Instruction(target=target, text="停止放行", gate=gate))[0]

    refused = answer("post.lobby")
    assert isinstance(refused, M.Nack) and refused.code == "E_SCHEMA" and "post.lobby" in refused.reason
    assert "门岗" in refused.reason_zh and isinstance(answer("station.lobby-1", "resume"), M.Nack)
    for target in ("all", "post.gate", "station.gate-2"):
        assert isinstance(answer(target), M.Ack), target
    assert isinstance(answer("post.lobby", ""), M.Ack)          # no gate order: any target
    held = [i for i in wire.ingest.state.instructions.values() if i.get("gate")]
    assert [(i["target"], i["gate"]) for i in held] == [("all", "hold"), ("post.gate", "hold"), ("station.gate-2", "hold")]


def test_a_proposal_is_started_or_dismissed_by_the_desk(wire: Wire) -> None:
    _, out = wire.send(PARK, M.LotOccupancy(lot="p1", full=True))
    (proposal,) = [r for r in out.stored if r.type == "plan_proposed"]
    reply, out = wire.send(DESK, M.PlanStandDown(run=proposal.gseq, note="有临停位"))
    assert isinstance(reply, M.Ack) and [r.type for r in out.stored] == ["plan_stand_down"]
    assert wire.ingest.state.plans["proposals"][proposal.gseq]["status"] == "dismissed"
    reply, out = wire.send(DESK, M.PlanStart(plan="parking_full", note="还是满"))
    assert [r.type for r in out.stored][:2] == ["plan_start", "plan_started"]
    assert out.stored[1].body["request"] == reply.gseq and out.stored[1].body["auto"] is False


def test_the_library_and_the_plans_are_in_the_snapshot(wire: Wire) -> None:
    wire.send(MODEL, M.IncidentReport(kind="medical", severity=2))
    parts, gseq = [], 0
    while True:   # every page of one snapshot
        ask = M.SnapshotRequest(gseq=gseq, page=len(parts))
        snap = codec.decode(wire.ingest.handle([(b"a", DESK, codec.encode(ask, "desk-1"))], T0).all_replies()[0][1]).message
        parts.append(snap.data)
        gseq = snap.gseq
        if len(parts) == snap.pages:
            break
    state = codec.unpack(b"".join(parts))
    assert [p["id"] for p in state["event"]["plans"]] == plan_files.shipped().ids()
    assert [r["plan"] for r in state["plans"]["runs"]] == ["medical"]
    assert fold.from_wire(state).plans == wire.ingest.state.plans


# --- the whole dialog over the wire --------------------------------------------------------------

HEARTBEAT_MS = 200


def _station(folder: EventFolder, sid: str, post: str, hub) -> StationClient:
    return StationClient(sid, folder.outbox(sid), folder.station_key(sid), folder.console_public, hub.endpoint,
                         feed_endpoint=hub.feed, post=post, heartbeat_ms=HEARTBEAT_MS).start()


def _orders(client: StationClient, run: int, all_clear: bool = False):
    return [i for i in client.outbox.instructions(100) if i.run == run and (i.step == "") == all_clear]


def _log(folder: EventFolder) -> list[tuple[int, str, str, dict]]:
    conn = sqlite3.connect(folder.db())
    try:
        return [(g, st, t, json.loads(b)) for g, st, t, b in
                conn.execute("SELECT gseq, station, type, body FROM events ORDER BY gseq")]
    finally:
        conn.close()


@pytest.mark.timeout(120)
@pytest.mark.wire
def test_fire_reported_plan_runs_posts_confirm_desk_stands_down_replay_agrees(event_dir, tmp_path: Path) -> None:
    hub = run_in_thread(event_dir)
    posts = {"gate-1": "gate", "parking-1": "parking", "concierge-1": "concierge", "model-1": "model_unit"}
    clients = {sid: _station(event_dir, sid, post, hub) for sid, post in posts.items()}
    desk = StationClient("desk-1", tmp_path / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk", heartbeat_ms=HEARTBEAT_MS).start()
    lobby = None
    try:
        for sid, c in clients.items():
            wait_for(lambda: (s := c.status()).console_reachable and s.feed_connected, 10, f"{sid} online")

        # 1. The model unit reports a fire: the hub starts the fire plan at once.
        fire = clients["model-1"].wait_delivered(clients["model-1"].submit(
            "incident_report", {"kind": "fire", "severity": 3, "location": "样板间3号房", "note": "窗帘冒烟"}).seq, 10)
        assert fire.state == DELIVERED

        # 2. Every post hears its orders on its own topic, with the run and step to confirm.
        expect = {"gate-1": {"gate_hold", "meet_fire_service"}, "parking-1": {"parking_halt"},
                  "concierge-1": {"guide_guests"}, "model-1": {"model_unit_clear"}}
        run = wait_for(lambda: next((i.run for i in clients["gate-1"].outbox.instructions() if i.plan == "fire"), 0),
                       10, "the fire plan's order at the gate")
        assert run == fire.gseq + 1
        for sid, steps in expect.items():
            got = wait_for(lambda: (o := _orders(clients[sid], run)) and len(o) == len(steps) and o, 10,
                           f"{sid}'s orders")
            assert {o.step for o in got} == steps and all(o.ack_required and o.plan == "fire" for o in got)
            assert all(o.text.startswith("【火情应急预案】") and o.text_en.startswith("[Fire emergency plan]")
                       for o in got)

        # 3. They acknowledge and confirm their own steps; confirming another post's step is refused.
        for sid, c in clients.items():
            for order in _orders(c, run):
                assert c.wait_delivered(c.acknowledge_instruction(order.id).seq, 10).state == DELIVERED
            for step in sorted(expect[sid]):
                done = c.wait_delivered(c.submit("plan_step", {"run": run, "step": step}).seq, 10)
                assert done.state == DELIVERED, (sid, step, done.reason)
        wrong = clients["parking-1"].wait_delivered(clients["parking-1"].submit(
            "plan_step", {"run": run, "step": "headcount"}).seq, 10)
        assert (wrong.state, wrong.code) == (REJECTED, "E_SCHEMA") and "not assigned to this post" in wrong.reason

        # 4. The lobby terminal was off; when it comes back its welcome carries the plan's open order.
        lobby = _station(event_dir, "lobby-1", "lobby", hub)
        (late,) = wait_for(lambda: _orders(lobby, run), 10, "the lobby's order in its welcome")
        assert late.step == "guide_guests" and "集合点" in late.text
        assert lobby.wait_delivered(lobby.acknowledge_instruction(late.id).seq, 10).state == DELIVERED
        # Guiding guests names the concierge and the lobby: done only once the lobby has confirmed too.
        state = hub.hub.ingest.state
        assert state.plans["runs"][run]["steps"]["guide_guests"]["status"] == "pending"
        assert lobby.wait_delivered(lobby.submit("plan_step", {"run": run, "step": "guide_guests"}).seq,
                                    10).state == DELIVERED
        wait_for(lambda: state.plans["runs"][run]["steps"]["guide_guests"]["status"] == "done", 10, "guided")

        # 5. The desk settles its own steps, one skipped with a reason, and stands the plan down.
        for body in ({"step": "alarm"}, {"step": "isolate_power"},
                     {"step": "headcount", "status": "skipped", "reason": "消防队已清点"}):
            assert desk.wait_delivered(desk.submit("plan_step", {"run": run, **body}).seq, 10).state == DELIVERED
        (view,) = plans.view(hub.hub.ingest.state, int(time.time() * 1000))
        assert view.may_stand_down and {s.status for s in view.steps} == {"done", "skipped"}
        assert {s.id: s.by for s in view.steps}["gate_hold"] == "gate-1"
        down = desk.wait_delivered(desk.submit("plan_stand_down", {"run": run, "note": "明火已扑灭，烟已散"}).seq, 10)
        assert down.state == DELIVERED

        # 6. The all-clear reaches every post that was told to act, the returned lobby included.
        for sid, c in {**clients, "lobby-1": lobby}.items():
            (clear,) = wait_for(lambda: _orders(c, run, all_clear=True), 10, f"the all-clear at {sid}")
            assert clear.text.startswith("【火情应急预案】火情预案解除")
    finally:
        for c in [*clients.values(), desk] + ([lobby] if lobby else []):
            c.close()
        hub.stop()
    live = hub.hub.ingest.state

    # 7. The log tells the whole story, and a replay of it gives the same plan history.
    log = _log(event_dir)
    plan_rows = [(st, t, b.get("step", "")) for _, st, t, b in log if t.startswith("plan_") or
                 (t == "instruction" and b.get("plan"))]
    assert plan_rows[:3] == [("hub", "plan_started", ""), ("hub", "instruction", "alarm"),   # to security's terminal
                             ("hub", "instruction", "gate_hold")]
    # Five posts and the three department terminals told to act (not running here) get the all-clear.
    assert sum(t == "plan_step" for _, t, _ in plan_rows) == 9 and plan_rows.count(("hub", "instruction", "")) == 8
    assert ("desk-1", "plan_stand_down", "") in plan_rows
    store = Store(event_dir.db(), writer=True)
    try:
        again = Ingest(store, event_dir.load())
    finally:
        store.close()
    assert fold.to_wire(again.state)["plans"] == fold.to_wire(live)["plans"]
    assert fold.to_wire(again.state)["instructions"] == fold.to_wire(live)["instructions"]
    assert plans.evaluate(again.state, again.library, int(time.time() * 1000)) == []   # nothing left undone
    (done,) = fold.to_wire(again.state)["plans"]["runs"]
    assert done["stood_down"]["note"] == "明火已扑灭，烟已散" and done["cause"] == f"incident:{fire.gseq}"
    assert {s["id"]: s["status"] for s in done["steps"].values()} == {
        "alarm": "done", "gate_hold": "done", "parking_halt": "done", "guide_guests": "done",
        "model_unit_clear": "done", "isolate_power": "done", "meet_fire_service": "done", "headcount": "skipped"}


@pytest.mark.timeout(120)
@pytest.mark.wire
def test_a_typhoon_reported_at_a_post_holds_the_gate_until_the_desk_stands_it_down(event_dir, tmp_path: Path) -> None:
    hub = run_in_thread(event_dir)
    gate = _station(event_dir, "gate-1", "gate", hub)
    concierge = _station(event_dir, "concierge-1", "concierge", hub)
    desk = StationClient("desk-1", tmp_path / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk", heartbeat_ms=HEARTBEAT_MS).start()
    site = Site("gate-1", "gate")
    try:
        for sid, c in (("gate-1", gate), ("concierge-1", concierge)):
            wait_for(lambda: (s := c.status()).console_reachable and s.feed_connected, 10, f"{sid} online")
        assert holds(site, gate.outbox.instructions(100)) == ()

        # 1. The concierge reports the typhoon warning: the plan starts at once and the gate is held.
        report = concierge.wait_delivered(concierge.submit(
            "incident_report", {"kind": "typhoon", "severity": 3, "location": "售楼中心", "note": "台风橙色预警"}).seq, 10)
        assert report.state == DELIVERED
        run = report.gseq + 1
        (hold,) = wait_for(lambda: _orders(gate, run), 10, "the typhoon's order at the gate")
        assert (hold.plan, hold.step, hold.gate) == ("typhoon", "gate_hold", "hold")
        assert hold.text.startswith("【大风/台风预案】") and "暂停放行入场车辆" in hold.text
        assert [i.id for i in holds(site, gate.outbox.instructions(100))] == [hold.id]
        (mine,) = wait_for(lambda: _orders(concierge, run), 10, "the concierge's order")
        assert mine.step == "guests_inside" and mine.gate == ""

        # 2. The gate acknowledges and confirms its step: confirming it does not lift the hold.
        assert gate.wait_delivered(gate.acknowledge_instruction(hold.id).seq, 10).state == DELIVERED
        assert gate.wait_delivered(gate.submit("plan_step", {"run": run, "step": "gate_hold"}).seq, 10).state == DELIVERED
        state = hub.hub.ingest.state
        wait_for(lambda: state.plans["runs"][run]["steps"]["gate_hold"]["status"] == "done", 10, "the hold confirmed")
        assert [i.id for i in holds(site, gate.outbox.instructions(100))] == [hold.id]

        # 3. The wind drops; the desk stands the plan down: the all-clear resumes the gate.
        down = desk.wait_delivered(desk.submit("plan_stand_down", {"run": run, "note": "台风已过境"}).seq, 10)
        assert down.state == DELIVERED
        (clear,) = wait_for(lambda: _orders(gate, run, all_clear=True), 10, "the all-clear at the gate")
        assert clear.gate == "resume" and clear.text.startswith("【大风/台风预案】大风/台风预案解除")
        assert holds(site, gate.outbox.instructions(100)) == ()
        (told,) = wait_for(lambda: _orders(concierge, run, all_clear=True), 10, "the all-clear at the concierge")
        assert told.gate == ""
    finally:
        for c in (gate, concierge, desk):
            c.close()
        hub.stop()
    log = _log(event_dir)
    steps = {b["step"]: b.get("gate", "") for _, st, t, b in log if t == "instruction" and b.get("plan") == "typhoon"
             and b["target"] == "post.gate"}
    assert steps == {"gate_hold": "hold", "": "resume"}
    run_row = next(b for g, _, t, b in log if g == run)
    assert run_row["plan"] == "typhoon" and run_row["cause"] == f"incident:{report.gseq}"
