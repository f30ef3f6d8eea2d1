"""One true picture, end to end through a real hub and real terminals: standing holds, stand-downs that
close their steps everywhere, steps that need every post they name, and one people ledger."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from console.hub.server import run_in_thread
from protocols import orders
from stations.link.client import StationClient
from stations.terminal.posts import gate
from stations.terminal.posts.base import Site
from tests.wire import wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def hub(event_dir):
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def client(folder, hub, sid: str, outbox: Path | None = None, clock=None) -> StationClient:
    """A terminal on the real clock, or on the test's stepped `clock` (the hub's: their clocks agree)."""
    role = "desk" if sid.startswith("desk") else "station"
    key = folder.desk_key(sid) if role == "desk" else folder.station_key(sid)
    timed = {} if clock is None else {"clock": lambda: clock() / 1000}
    return StationClient(sid, outbox or folder.root / "outboxes" / f"{sid}.db", key, folder.console_public,
                         hub.endpoint, hub.feed, role=role, **timed).start()


def send(c: StationClient, type_: str, body: dict) -> int:
    done = c.wait_delivered(c.submit(type_, body).seq, 10)
    assert done.state == "delivered", (type_, body, done.reason)
    return done.gseq


def hub_holds(hub) -> list[str]:
    return sorted(h["holder"] for h in hub.hub.ingest.state.holds.values())


def terminal_holds(c: StationClient) -> list[int]:
    return [i.id for i in gate.holds(Site(station=c.station, post="gate"), c.outbox.standing_orders())]


def active_run(hub, plan: str) -> int:
    runs = hub.hub.ingest.state.plans["runs"].values()
    return max((r["id"] for r in runs if r["plan"] == plan and r["stood_down"] is None), default=0)


def test_the_gate_stays_held_while_any_hold_stands(event_dir, hub, tmp_path):
    with terminals(event_dir, hub, "gate-1", "model-1", "desk-1") as (gate1, model, desk):
        send(model, "incident_report", {"kind": "fire", "severity": 3, "location": "样板间厨房"})
        fire = wait_for(lambda: active_run(hub, "fire"), 10, "the fire plan started")
        wait_for(lambda: terminal_holds(gate1), 10, "the gate held by the fire plan")
        assert hub_holds(hub) == [f"run:{fire}"]

        # Another plan holds the gate too, and stands down: the fire plan's hold stays, here and at the gate.
        send(desk, "plan_start", {"plan": "parking_full"})
        parking = wait_for(lambda: active_run(hub, "parking_full"), 10, "the parking plan started")
        wait_for(lambda: len(terminal_holds(gate1)) == 2, 10, "two holds at the gate")
        send(desk, "plan_stand_down", {"run": parking, "note": "车位已腾出"})
        wait_for(lambda: hub_holds(hub) == [f"run:{fire}"], 10, "only the fire plan holds")
        wait_for(lambda: len(terminal_holds(gate1)) == 1, 10, "the gate terminal keeps the fire hold")

        # The desk holds by hand; standing the fire plan down leaves the desk's hold.
        hold = send(desk, "instruction", {"target": "post.gate", "text": "暂停放行，等候通知", "gate": "hold",
                                          "ack_required": True})
        send(desk, "plan_stand_down", {"run": fire, "note": "火已扑灭"})
        wait_for(lambda: hub_holds(hub) == [orders.DESK], 10, "only the desk holds")
        wait_for(lambda: terminal_holds(gate1) == [hold], 10, "the gate terminal keeps the desk's hold")
        gate1.acknowledge_instruction(hold)

        # A gate terminal installed afresh (new outbox, new epoch) learns the hold from its welcome.
        fresh = client(event_dir, hub, "gate-1", tmp_path / "reinstalled.db")
        try:
            wait_for(lambda: terminal_holds(fresh) == [hold], 10, "the fresh terminal held")
            send(desk, "instruction", {"target": "post.gate", "text": "恢复放行", "gate": "resume"})
            wait_for(lambda: not terminal_holds(fresh) and not terminal_holds(gate1), 10, "both gates free")
            assert hub_holds(hub) == []
        finally:
            fresh.close()


class Clock:
    """The hub's clock, stepped by the test (real sockets, no waiting for minutes to pass)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def summary_of(folder):
    from console.report import files as report_io
    return report_io.read_summary(folder)[0]


@pytest.fixture
def clocked(event_dir):
    """A hub on a clock the test steps, and that clock."""
    clock = Clock(1_800_000_000_000)
    handle = run_in_thread(event_dir, clock=clock)
    yield handle, clock
    handle.stop()


@contextmanager
def terminals(folder, hub, *ids: str, clock=None):
    started = [client(folder, hub, s, clock=clock) for s in ids]
    try:
        yield started
    finally:
        for c in started:
            c.close()


def test_a_step_for_two_posts_is_done_when_both_have_confirmed(event_dir, clocked):
    hub, clock = clocked
    with terminals(event_dir, hub, "gate-1", "parking-1", "model-1", clock=clock) as (gate1, parking, model):
        send(model, "incident_report", {"kind": "power_outage", "severity": 3, "location": "样板间"})
        run = wait_for(lambda: active_run(hub, "power_outage"), 10, "the power plan started")
        step = hub.hub.ingest.state.plans["runs"][run]["steps"]["barriers_by_hand"]
        clock.ms += 60_000
        send(gate1, "plan_step", {"run": run, "step": "barriers_by_hand"})
        assert step["status"] == "pending" and list(step["confirmed"]) == ["gate"]   # parking has not
        clock.ms += 10 * 60_000                                   # parking confirms ten minutes later
        send(parking, "plan_step", {"run": run, "step": "barriers_by_hand"})
        assert (step["status"], step["by"], step["at_ms"]) == ("done", "parking-1", clock.ms)
    (run_summary,) = [r for r in summary_of(event_dir).plans if r["plan"] == "power_outage"]
    barriers = next(s for s in run_summary["steps"] if s["id"] == "barriers_by_hand")
    assert barriers["result"] == "late" and barriers["took_ms"] == 11 * 60_000      # the target was 3 minutes
    assert [(c["post"], c["by"]) for c in barriers["confirmed"]] == [("gate", "gate-1"), ("parking", "parking-1")]


def test_a_stand_down_calls_off_its_open_steps_everywhere(event_dir, clocked):
    hub, clock = clocked
    with terminals(event_dir, hub, "gate-1", "model-1", "desk-1", clock=clock) as (gate1, model, desk):
        send(model, "incident_report", {"kind": "fire", "severity": 3, "location": "样板间厨房"})
        run = wait_for(lambda: active_run(hub, "fire"), 10, "the fire plan started")
        wait_for(lambda: {i.step for i in gate1.outbox.pending_instructions() if i.run == run}
                 == {"gate_hold", "meet_fire_service"}, 10, "the gate's two orders to confirm")
        clock.ms += 20 * 60_000                                     # long past every target time
        send(desk, "plan_stand_down", {"run": run, "note": "误报"})
        # The gate's to-do no longer asks for the called-off orders; it asks only for the all-clear.
        def to_do() -> list[tuple[int, str]]:
            return [(i.run, i.step) for i in gate1.outbox.pending_instructions() if i.run == run]
        wait_for(lambda: to_do() == [(run, "")], 10, "only the all-clear left for the gate to confirm")
        gate1.close()
        again = client(event_dir, hub, "gate-1", clock=clock)      # the terminal restarted on the same outbox
        try:
            assert [(i.run, i.step) for i in again.outbox.pending_instructions() if i.run == run] == [(run, "")]
        finally:
            again.close()
        steps = hub.hub.ingest.state.plans["runs"][run]["steps"]
        assert {s["status"] for s in steps.values()} == {"cancelled"}
    (fire,) = [r for r in summary_of(event_dir).plans if r["plan"] == "fire"]
    assert {s["result"] for s in fire["steps"]} == {"cancelled"}
    blamed = {d: box["shortcomings"] for d, box in summary_of(event_dir).departments.items() if box["shortcomings"]}
    assert not any(f["key"].startswith("step_") for fs in blamed.values() for f in fs), blamed


def test_people_are_counted_once_and_every_surface_says_the_same(event_dir):
    """docs/PEOPLE.md through a real hub: the delegation counted once, a check-in at the door counted, the
    lobby's sign-in not counted twice; the desk's picture, the guests screen and the summary agree."""
    from console.core import guests_rules
    from console.event import guests as guest_file
    from tests.test_guests_handoff import guest

    guest_file.write_json(event_dir.root / "guests.json", [
        guest("V-01", "省住建厅考察团", "A", 8), guest("G-02", "王五", "C", 2), guest("G-03", "钱七", "C", 2)],
        "guests.xlsx")
    clock = Clock(1_800_000_000_000)
    hub = run_in_thread(event_dir, clock=clock)   # it loads the guest list as it starts
    try:
        with terminals(event_dir, hub, "concierge-1", "lobby-1") as (concierge, lobby):
            wait_for(lambda: hub.hub.ingest.state.guests["list"], 10, "the guest list loaded")
            send(concierge, "guest_arrival", {"count": 8, "vip_level": "A", "guest_ref": "V-01"})        # F6
            send(concierge, "guest_checkin", {"guest_ref": "V-01", "party_size": 8, "vip_level": "A"})   # F7
            send(concierge, "guest_checkin", {"guest_ref": "G-02", "party_size": 2, "vip_level": "C"})   # F7, no F1
            send(concierge, "guest_arrival", {"count": 2})                                                # F2
            send(lobby, "guest_checkin", {"guest_ref": "G-03", "party_size": 2, "vip_level": "C"})       # lobby desk
            people = hub.hub.ingest.state.people
            picture = (people["arrivals"], people["headcount"], people["checked_in"], people["vip_arrivals"])
            assert picture == (12, 12, 12, 8)
            totals, _ = guests_rules.view(hub.hub.ingest.state, clock.ms)
            assert (totals.arrived, totals.arrived_people, totals.vip_arrived) == (3, 12, 1)
    finally:
        hub.stop()
    g = summary_of(event_dir).guests
    assert (g["arrivals"], g["on_site_end"], g["checked_in"], g["vip"]) == picture


def test_the_hub_logs_its_own_outages_and_they_are_nobodys_downtime(event_dir, tmp_path):
    """A real hub process killed and started again, then stopped cleanly and started again: the log says
    which, the posts are not charged with the hub's outage, and no post was marked offline for it."""
    import json
    import signal

    from tests import hubproc
    from tests.wire import log_rows

    logs = tmp_path / "logs"
    logs.mkdir()
    gate1 = None
    try:
        with hubproc.hub(event_dir, logs) as (proc, info):
            gate1 = StationClient("gate-1", tmp_path / "gate-1.db", event_dir.station_key("gate-1"),
                                  event_dir.console_public, info["endpoint"], info["feed"]).start()
            send(gate1, "car_in", {"plate": "湘A·1"})
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with hubproc.hub(event_dir, logs) as (proc, info):
            send(gate1, "car_in", {"plate": "湘A·2"})         # its outbox carried it across the outage
            hubproc.stop(proc)
        with hubproc.hub(event_dir, logs) as (proc, info):
            send(gate1, "car_in", {"plate": "湘A·3"})
            hubproc.stop(proc)
    finally:
        if gate1 is not None:
            gate1.close()
    rows = log_rows(event_dir.db(), "station = 'hub' AND type IN ('hub_started', 'hub_stopped', 'station_status')")
    told = [(r[4], json.loads(r[5]).get("previous", json.loads(r[5]).get("status"))) for r in rows]
    assert [t for t in told if t[0] != "station_status"] == [
        ("hub_started", "first"), ("hub_started", "crash"), ("hub_stopped", None), ("hub_started", "stop"),
        ("hub_stopped", None)]
    assert ("station_status", "offline") not in told
    summary = summary_of(event_dir)
    outages = summary.extra["hub_outages"]
    assert [o["crash"] for o in outages] == [True, False] and all(o["to_ms"] > o["from_ms"] for o in outages)
    (gate,) = [s for s in summary.stations if s["id"] == "gate-1"]
    assert gate["uptime"] == 1.0 and gate["offline"] == []
