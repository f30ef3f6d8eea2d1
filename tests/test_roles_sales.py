"""The sales staff's terminal (销售, seed 1.1.3.5) through a real hub, with Textual Pilot, in both languages: it gets
only what is addressed to it -- the VIP party its consultant hosts (not another host's party, not a department's
plan orders) -- acknowledges it by name, raises a service call for its guests (F2) and hears it taken and done; and
when the party it hosts is about to leave, it gets the send-off (陪同人员也要到门口送行) and acknowledges it with A."""
from __future__ import annotations

import pytest

from console.event import guests as guest_file
from console.hub.server import run_in_thread
from stations.link.client import StationClient
from tests.roles_fixture import add_terminals
from tests.test_guests_handoff import LIST, guest
from tests.test_roles_station import _signed_in
from tests.test_services_station import _deliver, told_taken_and_done
from tests.station_support import aio, hub_client, logged, make_app, screen_text, until

pytestmark = pytest.mark.timeout(120)
# 郑凯 is the sample's sales consultant (rostered at sales-1); 张三's host (S203) is the lobby's 周婷.
HOSTED = guest("V-09", "孙八", "B", 2, host="郑凯", plate="湘A·99999", org="市住建局")
WORDS = {"zh": ("孙八", "待处理", "本岗提出：", "饮品（洽谈区）", "已接单", "已完成"),
         "en": ("孙八", "waiting", "ours:", "Drinks (洽谈区)", "taken", "done")}


@pytest.fixture
def hub(event_dir):
    add_terminals(event_dir)
    guest_file.write_json(event_dir.root / "guests.json", [*LIST, HOSTED], "guests.xlsx")
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def _to_sales(hub) -> list[dict]:
    """Every instruction the hub addressed so that sales-1 hears it (its station, its post, everyone)."""
    return [i for i in hub.hub.ingest.state.instructions.values()
            if i["target"] in ("station.sales-1", "post.sales", "all")]


def test_the_sales_terminal_lists_no_preparation_task_of_a_department(event_dir) -> None:
    """Sign-in at F8, but no department's task to sign off there: none is addressed to the sales staff."""
    from stations.terminal.posts import duty
    from stations.terminal.posts.base import Site

    add_terminals(event_dir)
    summary = event_dir.load().summary()
    assert summary["tasks"] and duty.tasks_here(Site.from_summary("sales-1", summary)) == ()
    assert {t["department"] for t in duty.tasks_here(Site.from_summary("eng-1", summary))} == {"engineering"}


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_sales_hear_their_own_party_and_calls_and_nothing_else(event_dir, hub, lang):
    name = WORDS[lang][0]
    sales = hub_client(event_dir, hub, "sales-1")
    gate, lobby = hub_client(event_dir, hub, "gate-1").start(), hub_client(event_dir, hub, "lobby-1").start()
    desk = StationClient("desk-1", event_dir.root / "desks" / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk").start()
    app = make_app(event_dir, sales, lang)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _signed_in(pilot, {"name": "郑凯", "staff_no": "S307"})
            # Not theirs: another host's VIP party and a power cut's orders to engineering.
            _deliver(gate, "car_in", {"plate": "湘A 12345", "vip": True, "count": 1})          # 张三: the lobby hosts
            _deliver(lobby, "incident_report", {"kind": "power_outage", "severity": 2, "location": "大堂", "note": ""})
            # Theirs: the party 郑凯 hosts arrives at the gate.
            _deliver(gate, "car_in", {"plate": "湘A99999", "vip": True, "count": 1})
            await until(pilot, lambda: app.view is not None and any(i.notice == "vip" for i in app.view.pending),
                        what="the VIP notice of the party it hosts")
            assert name in screen_text(app)
            assert [(i.notice, i.guest) for i in app.view.pending] == [("vip", "V-09")]
            assert [(i["notice"], i["guest"]) for i in _to_sales(hub)] == [("vip", "V-09")]
            await pilot.press("f10")
            await pilot.press("enter")                               # acknowledged by the consultant signed in
            await until(pilot, lambda: sales.outbox.depth() == 0 and any(
                t == "instruction_ack" for _, _, t, _ in logged(event_dir, "sales-1")), what="acknowledged")
            await pilot.press("escape")
            # A call for their guests at the negotiation table: drinks, to Customer Service.
            await pilot.press("f2")                                  # the form opens on where; the list says drinks
            await pilot.press(*"洽谈区")
            await pilot.press("enter")
            call = await until(pilot, lambda: next((r.gseq for r in sales.outbox.recent(5)
                                                    if r.type == "service_request" and r.gseq), 0), what="delivered")
            assert hub.hub.ingest.state.requests[call]["owner"] == "service"
            await told_taken_and_done(pilot, "f1", desk, call, WORDS[lang][1:])
        (ack,) = [b for _, _, t, b in logged(event_dir, "sales-1") if t == "instruction_ack"]
        inst = hub.hub.ingest.state.instructions[ack["instruction"]]
        assert (inst["notice"], inst["target"], inst["ack_by"]) == ("vip", "station.sales-1", {"sales-1": "郑凯"})
        # Since then: only what its own call brought back (taken, done), on its own station's topic.
        assert {(i["target"], i.get("notice")) for i in _to_sales(hub)} == {
            ("station.sales-1", "vip"), ("station.sales-1", "service_taken"), ("station.sales-1", "service_done")}
    finally:
        for client in (sales, gate, lobby, desk):
            client.close()


SENDOFF = {"zh": ("★ 恭送", "【恭送】B级 孙八（市住建局）一组2人即将离开（样板间）", "请陪同客人到门口送行并确认"),
           "en": ("★ SEND-OFF", "[Send-off] Level B 孙八 (市住建局), party of 2 leaving (from Show flat)",
                  "as their host, see them to the door")}


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_sales_see_off_the_party_they_host_with_one_key(event_dir, hub, lang):
    from console.core import sendoff

    sales, model = hub_client(event_dir, hub, "sales-1"), hub_client(event_dir, hub, "model-1").start()
    app = make_app(event_dir, sales, lang)
    banner, head, ask = SENDOFF[lang]
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _signed_in(pilot, {"name": "郑凯", "staff_no": "S307"})
            raised = _deliver(model, "sendoff_notice", {"guest_ref": "V-09", "count": 0, "note": ""})
            await until(pilot, lambda: banner in screen_text(app), what="the send-off on the banner")
            assert head in screen_text(app) and ask in screen_text(app)
            await pilot.press("a")
            await until(pilot, lambda: sales.outbox.depth() == 0 and any(
                t == "instruction_ack" for _, _, t, _ in logged(event_dir, "sales-1")), what="acknowledged")
            await until(pilot, lambda: banner not in screen_text(app), what="the banner cleared")
        (ack,) = [b for _, _, t, b in logged(event_dir, "sales-1") if t == "instruction_ack"]
        inst = hub.hub.ingest.state.instructions[ack["instruction"]]
        assert (inst["notice"], inst["sendoff"], inst["target"], inst["ack_by"]) == (
            "sendoff", raised, "station.sales-1", {"sales-1": "郑凯"})
        (chain,) = sendoff.chains(hub.hub.ingest.state, hub.hub.ingest.state.last_ms)
        assert [(link.link, link.status) for link in chain.links][-1] == ("host", "acked")
        assert [(i["target"], i.get("notice")) for i in _to_sales(hub)] == [("station.sales-1", "sendoff")]
    finally:
        for client in (sales, model):
            client.close()
