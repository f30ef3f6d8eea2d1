"""贵宾放行 end to end through a real hub and a real gate terminal (Pilot), in both languages: the desk holds
the gate, ordinary cars stay held, a car not on the VIP list is refused with the hub's sentence, the listed
VIP car goes in with its plate logged, and after the resume the release key is refused and cars go in again."""
from __future__ import annotations

import pytest

from console.event import guests as guest_file
from console.hub.server import run_in_thread
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED, REJECTED
from stations.terminal.screens.form import ReportForm
from tests.test_guests_handoff import LIST
from tests.station_support import aio, hub_client, logged, make_app, screen_text, type_text, until

pytestmark = pytest.mark.timeout(120)

WORDS = {
    "zh": {"held": "门岗暂停放行中：普通车辆请等候；名单上的贵宾车请按 F6 贵宾放行",
           "not_held": "现在没有暂停放行：贵宾车请按 F5 贵宾车入场",
           "refused": "车牌 湘B·99999 不在贵宾名单上（A、B 级），不能在暂停放行时放行", "release": "贵宾放行"},
    "en": {"held": "The gate is on hold: ordinary cars wait; for a listed VIP car press F6 VIP release",
           "not_held": "The gate is not on hold: for a VIP car press F5 VIP car in",
           "refused": "plate 湘B·99999 is not a listed VIP car (level A or B)", "release": "VIP release"},
}


async def release(pilot, app, plate: str) -> None:
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(app.screen, ReportForm), what="the release form")
    await type_text(pilot, plate)
    await pilot.press("enter")


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_listed_vip_car_goes_through_a_hold_and_ordinary_cars_stay_held(event_dir, lang: str) -> None:
    guest_file.write_json(event_dir.root / "guests.json", LIST, "guests.xlsx")
    words = WORDS[lang]
    hub = run_in_thread(event_dir)
    desk = StationClient("desk-1", event_dir.root / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk", heartbeat_ms=200).start()
    client = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, client, lang)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: client.status().state == "online" and client.status().feed_connected)
            hold = desk.submit("instruction", {"target": "post.gate", "text": "暂停车辆入场", "ack_required": True,
                                                "gate": "hold"})
            assert desk.wait_delivered(hold.seq, 10).state == DELIVERED
            banner = app.main.query_one("Banner")
            await until(pilot, lambda: banner.has_class("-hold") and app.view and app.view.orders, what="the hold")
            for key in ("f1", "f3", "f5"):                      # every way a car goes in: held, nothing saved
                await pilot.press(key)
                assert not isinstance(app.screen, ReportForm)
                await until(pilot, lambda: words["held"] in screen_text(app), what="the held sentence")
            assert client.outbox.recent(10) == []
            await release(pilot, app, "湘B·99999")               # not on the list: the hub refuses it
            await until(pilot, lambda: client.outbox.get(1) and client.outbox.get(1).state == REJECTED)
            await until(pilot, lambda: words["refused"] in screen_text(app), what="the hub's sentence")
            await release(pilot, app, "湘A 12345")               # 张三, level A: in, with its plate
            await until(pilot, lambda: client.outbox.get(2) and client.outbox.get(2).state == DELIVERED)
            assert words["release"] in screen_text(app)
            state = hub.hub.ingest.state
            await until(pilot, lambda: state.cars.get("released") == 1 and "V-01" in state.guests["arrived"])
            assert state.holds                                   # the hold stands for every other car
            resume = desk.submit("instruction", {"target": "post.gate", "text": "恢复放行", "gate": "resume"})
            desk.wait_delivered(resume.seq, 10)
            await until(pilot, lambda: not banner.has_class("-hold"), what="the resume")
            await pilot.press("f6")
            assert not isinstance(app.screen, ReportForm)
            await until(pilot, lambda: words["not_held"] in screen_text(app), what="no hold: no release")
            await pilot.press("f1")
            await until(pilot, lambda: client.outbox.get(3) and client.outbox.get(3).state == DELIVERED)
    finally:
        client.close()
        desk.close()
        hub.stop()
    assert [(seq, t, b) for _, seq, t, b in logged(event_dir, "gate-1")] == [
        (2, "car_in", {"plate": "湘A 12345", "vip": True, "count": 1, "release": True}),
        (3, "car_in", {"plate": "", "vip": False, "count": 1, "release": False})]
