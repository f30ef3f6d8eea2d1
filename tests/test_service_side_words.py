"""The service side's screens in Chinese name things, never ids (issue 17's scan, carried to issue 16's screens): the
desk's guest screen with a VIP hand-off and a send-off under way, its service calls, and every department and leader
terminal's screens (calls, duty, instructions; the sales staff's call form). No station, desk, lot, task, roster,
step or plan id and no stray English, checked by tests/staff_text.py's scanner; what people typed shows as typed."""
from __future__ import annotations

import pytest

from console.desk.app import DeskApp
from console.hub.ingest import Peer
from protocols import messages as M
from tests.roles_fixture import STATIONS, add_terminals
from tests.staff_text import event_ids, leaks, plan_ids
from tests.test_desk_app import screen_text as shown   # whatever screen is on top, as a person reads it
from tests.desk_support import aio, settled
from tests.test_guests_handoff import LIST, Wire
from tests.test_roles_station import engineering
from tests.station_support import make_app, make_client, until

MIN = 60_000
P = {sid: Peer("station", sid, post) for sid, post in (
    ("gate-1", "gate"), ("parking-1", "parking"), ("concierge-1", "concierge"), ("lobby-1", "lobby"),
    ("model-1", "model_unit"), ("env-1", "environment"), ("greeter-1", "greeter"))}
DESK = Peer("desk", "desk-1", "desk")
# What people typed or the guest list holds: shown as typed.
TYPED = ("洽谈区", "样板间 3 号", "刘总一行", "湘A·12345", "湘A 12345", "S203", "省发改委", "guests.xlsx")


def _ok(sent) -> int:
    reply = sent[0] if isinstance(sent, tuple) else sent
    assert isinstance(reply, M.Ack), reply
    return reply.gseq


@pytest.fixture
def day(event_dir):
    """A VIP's visit and its send-off, and service calls taken, done and left open, logged by the hub's ingest."""
    add_terminals(event_dir)
    w = Wire(event_dir, event_dir.load().doors_open_ms)
    w.ingest.load_guests(LIST, "guests.xlsx", w.now)
    _ok(w.send(P["lobby-1"], M.StaffSignin(staff_no="S203")))
    _ok(w.send(P["env-1"], M.StaffSignin(name="王洁")))
    _, out = w.send(P["gate-1"], M.CarIn(plate="湘A 12345", vip=True))       # 张三, level A: the hand-off
    vip = [r for r in out.stored + w.tick(MIN).stored if r.type == "instruction" and r.body.get("notice") == "vip"]
    for r in vip:
        if r.body["target"] in ("post.parking", "post.concierge"):
            sid = {"post.parking": "parking-1", "post.concierge": "concierge-1"}[r.body["target"]]
            _ok(w.send(P[sid], M.InstructionAck(instruction=r.gseq)))
    w.tick(3 * MIN)                                                          # the others: late, alarmed
    reply, out = w.send(P["lobby-1"], M.ServiceRequest(service="cleaning", where="洽谈区"))
    call = _ok(reply)
    (new,) = [r for r in out.stored + w.tick().stored if r.type == "instruction" and r.body.get("notice") == "service_new"]
    _ok(w.send(P["env-1"], M.InstructionAck(instruction=new.gseq)))          # environment takes it, then finishes
    _ok(w.send(P["env-1"], M.ServiceUpdate(call=call, status="done")))
    _ok(w.send(P["model-1"], M.ServiceRequest(service="drinks", where="样板间 3 号")))
    _ok(w.send(P["model-1"], M.SendoffNotice(guest_ref="V-01")))
    _ok(w.send(P["model-1"], M.SendoffNotice(count=3, note="刘总一行")))
    w.tick(20 * MIN)                                                         # nobody acknowledged: alarms
    yield w
    w.store.close()


@aio
@pytest.mark.parametrize("keys", [("g",), ("f",), ("g", "b"), (), ("t",)],
                         ids=["guests", "services", "sendoff", "main", "instructions"])
async def test_the_desks_service_screens_in_chinese_show_no_id_and_no_english(day, keys) -> None:
    state = day.ingest.state
    assert state.guests["sendoffs"] and state.requests and state.alarms      # there is something to show
    app = DeskApp(state=state, clock=lambda: day.now, lang="zh", desk="desk-1")
    ids = event_ids(state.event) | plan_ids()
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(*keys)(pilot)
        text = shown(app)
        if keys[:1] == ("g",):
            assert "张三" in text and ("恭送" in text)
        if keys == ("f",):
            assert "洽谈区" in text and "样板间 3 号" in text
        if keys == ("t",):                                   # the hub's own notices, in its words
            assert "【贵宾到达】" in text and "【恭送】" in text
        assert leaks(text, ids, TYPED) == [], text


def _ids(folder) -> set[str]:
    return event_ids(folder.load().summary()) | plan_ids()


# The keys that open a screen of their own at a department or leader terminal: its calls, duty, instructions.
KEYS = ("f1", "f8", "f10")


@aio
@pytest.mark.parametrize("station", [s[0] for s in STATIONS])
async def test_every_department_and_leader_terminal_in_chinese_shows_no_id_and_no_english(event_dir, station) -> None:
    add_terminals(event_dir)
    client = make_client(event_dir, station)
    app = make_app(event_dir, client, "zh")
    ids = _ids(event_dir)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.view is not None, what="the post screen")
            assert leaks(shown(app), ids) == [], shown(app)
            # Its F1 opens a list: the empty report list names a key that does report (an incident, a call).
            assert f"例如 {'F2' if station == 'sales-1' else 'F9'}。" in shown(app)
            for key in KEYS + (("f2",) if station == "sales-1" else ()):
                await pilot.press(key)
                await until(pilot, lambda: app.screen is not app.main, what=f"{key} opens a screen")
                await settled()(pilot)                      # drawn whole, however loaded the machine
                assert leaks(shown(app), ids) == [], (key, shown(app))
                if key == "f8" and station == "sales-1":     # who is rostered, in full-width brackets
                    assert "郑凯（S307）" in shown(app), shown(app)
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is app.main, what="back")
    finally:
        client.close()


@aio
async def test_the_engineering_terminal_with_its_orders_and_a_call_shows_no_id(fixed_event_dir) -> None:
    """With a power cut's two steps to confirm and a call to take (the snapshots' terminal): banner, lists, forms."""
    client = engineering(fixed_event_dir)
    app = make_app(fixed_event_dir, client, "zh")
    ids = _ids(fixed_event_dir)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.view is not None and len(app.view.tasks) == 2, what="the steps")
            assert leaks(shown(app), ids, ("配电房",)) == [], shown(app)
            for key in ("f1", "f10", "k"):               # its calls, its orders, skipping a step asks why
                await pilot.press(key)
                await until(pilot, lambda: app.screen is not app.main, what=f"{key} opens a screen")
                await settled()(pilot)                      # drawn whole, however loaded the machine
                assert leaks(shown(app), ids, ("配电房",)) == [], (key, shown(app))
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is app.main, what="back")
    finally:
        client.close()
