"""Department and leader terminals (issue 16 item 3) through a real hub, with Textual Pilot, in both languages: the
engineering terminal confirms its power-cut step (D) and takes and finishes a service call routed to it (F1, Enter,
d); the greeting leaders acknowledge a VIP hand-off (F10, Enter); the log names who was signed in (张工, 刘总).
Snapshots of the department post at 80×24 and 160×48."""
from __future__ import annotations

import pytest

from console.event import guests as guest_file
from console.event import plan_files
from console.hub.server import run_in_thread
from stations.terminal.screens.services import ServiceCallsScreen
from tests.roles_fixture import add_terminals
from tests.test_guests_handoff import LIST
from tests.test_services_station import _deliver, _lines
from tests.test_station_app_snapshots import FIXED
from tests.desk_support import settled
from tests.station_support import aio, hub_client, logged, make_app, make_client, screen_text, until

pytestmark = pytest.mark.timeout(120)
POWER = plan_files.shipped().get("power_outage")
WORDS = {"zh": ("工程部值班 · 工程部", "停电应急预案", "已确认步骤"), "en": ("Engineering on duty · Engineering",
                                                                  "Power outage plan", "Steps confirmed")}


@pytest.fixture
def hub(event_dir):
    add_terminals(event_dir)
    # "other" calls go to engineering here, so the engineering terminal has a call to take.
    text = event_dir.toml.read_text("utf-8").replace('\nother = "office"', '\nother = "engineering"', 1)
    assert 'other = "engineering"' in text
    event_dir.toml.write_text(text, "utf-8")
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


async def _signed_in(pilot, who: dict) -> None:
    """Once the terminal is online and on the feed, `who` signs in there (F8 does the same) and the View has them."""
    app = pilot.app
    await until(pilot, lambda: app.client.status().state == "online" and app.client.status().feed_connected,
                what="online, on the feed")
    _deliver(app.client, "staff_signin", who)
    await until(pilot, lambda: app.view is not None and app.view.on_duty, what="signed in")


def _by_type(folder, station: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for _, _, type_, body in logged(folder, station):
        out.setdefault(type_, []).append(body)
    return out


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_engineering_terminal_confirms_its_step_and_a_call_by_the_person_signed_in(event_dir, hub, lang):
    header, plan_name, figure = WORDS[lang]
    eng, lobby = hub_client(event_dir, hub, "eng-1"), hub_client(event_dir, hub, "lobby-1").start()
    app = make_app(event_dir, eng, lang)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _signed_in(pilot, {"name": "张工", "staff_no": "E01"})
            assert header in screen_text(app) and figure in screen_text(app)
            # The lobby reports a power cut: the plan starts, engineering's steps come to this terminal.
            _deliver(lobby, "incident_report", {"kind": "power_outage", "severity": 2, "location": "大堂", "note": ""})
            await until(pilot, lambda: app.view is not None and len(app.view.tasks) == 3, what="engineering's 3 steps")
            assert app.view.tasks[0].plan_name(lang) == (POWER.name if lang == "zh" else POWER.name_en)
            assert plan_name in app.main.query_one("#plan").render().plain
            await pilot.press("d")                                  # the first step done, by 张工
            await until(pilot, lambda: len(app.view.tasks) == 2, what="one step settled")
            # A call routed to engineering: F1 lists it, Enter takes it, d finishes it.
            call = _deliver(lobby, "service_request", {"service": "other", "where": "配电房", "note": ""})
            await pilot.press("f1")
            assert isinstance(app.screen, ServiceCallsScreen)
            await until(pilot, lambda: any("配电房" in line for line in _lines(app)), what="the routed call")
            await pilot.press("enter")
            await until(pilot, lambda: _lines(app)[0].startswith("已接单" if lang == "zh" else "taken"), what="taken")
            await pilot.press("d")
            await until(pilot, lambda: eng.outbox.depth() == 0 and any(
                b.get("status") == "done" for b in _by_type(event_dir, "eng-1").get("service_update", [])),
                what="done, delivered")
        log = _by_type(event_dir, "eng-1")
        (step,) = log["plan_step"]
        assert (step["step"], step["person"]) == (POWER.steps[0].id, "张工")
        assert {a.get("person") for a in log["instruction_ack"]} == {"张工"}   # the step's order and the call's notice
        assert log["service_update"][-1] == {"call": call, "status": "done", "by": "张工", "note": ""}
        r = hub.hub.ingest.state.requests[call]          # read once the hub has logged all of it
        assert (r["taken_station"], r["taken_by"], r["closed_by"]) == ("eng-1", "张工", "张工")
    finally:
        eng.close()
        lobby.close()


@pytest.fixture
def leaders_hub(event_dir):
    add_terminals(event_dir)
    guest_file.write_json(event_dir.root / "guests.json", LIST, "guests.xlsx")
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_greeting_leaders_acknowledge_the_vip_hand_off_by_name(event_dir, leaders_hub, lang):
    leaders, gate = hub_client(event_dir, leaders_hub, "greeter-1"), hub_client(event_dir, leaders_hub, "gate-1").start()
    app = make_app(event_dir, leaders, lang)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _signed_in(pilot, {"name": "刘总"})
            _deliver(gate, "car_in", {"plate": "湘A 12345", "vip": True, "count": 1})     # 张三's car: level A
            await until(pilot, lambda: app.view is not None and any(i.notice == "vip" for i in app.view.pending),
                        what="the VIP notice")
            assert "张三" in screen_text(app)
            await pilot.press("f10")
            await pilot.press("enter")                              # acknowledge the newest, the VIP notice
            await until(pilot, lambda: leaders.outbox.depth() == 0 and any(
                t == "instruction_ack" for _, _, t, _ in logged(event_dir, "greeter-1")), what="acknowledged")
        (ack,) = [b for _, _, t, b in logged(event_dir, "greeter-1") if t == "instruction_ack"]
        assert ack["person"] == "刘总"
        inst = leaders_hub.hub.ingest.state.instructions[ack["instruction"]]
        assert (inst["notice"], inst["target"], inst["ack_by"]) == ("vip", "post.greeter", {"greeter-1": "刘总"})
    finally:
        leaders.close()
        gate.close()


# --- snapshots: the department post with a plan step, a call routed to it and 张工 signed in --------------------

NOW = int(FIXED * 1000)


@pytest.fixture
def eng_client(fixed_event_dir):
    client = engineering(fixed_event_dir)
    yield client
    client.close()


def engineering(folder):
    add_terminals(folder)
    client = make_client(folder, "eng-1", heartbeat_ms=50, clock=lambda: FIXED)
    client.submit("staff_signin", {"name": "张工", "staff_no": "E01"})
    for gseq, step in ((2001, POWER.steps[0]), (2002, POWER.steps[1])):
        client.outbox.store_instruction(gseq, "post.engineering", f"【{POWER.name}】{step.do}", True, received_ms=NOW,
                                        text_en=f"[{POWER.name_en}] {step.do_en}", plan="power_outage", run=2000,
                                        step=step.id)
    client.outbox.store_instruction(2005, "post.engineering", "【服务需求】其他（配电房），请接单（确认即接单）", True,
                                    received_ms=NOW, guest="2004", notice="service_new",
                                    text_en="[Service request] Other (配电房): please take it (acknowledging takes it)")
    return client


async def _settled(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.client.status().state == "unreachable", what="link settles")
    await until(pilot, lambda: app.view is not None and app.view.on_duty and len(app.view.tasks) == 2,
                what="the tasks and 张工")
    app.redraw()
    await settled()(pilot)   # until the screen stops changing


@pytest.mark.parametrize("lang,size", [(lang, size) for lang in ("zh", "en") for size in ((80, 24), (160, 48))],
                         ids=lambda v: v if isinstance(v, str) else f"{v[0]}x{v[1]}")
def test_department_post(fixed_event_dir, eng_client, snap_compare, lang, size):
    assert snap_compare(make_app(fixed_event_dir, eng_client, lang), terminal_size=size, run_before=_settled)
