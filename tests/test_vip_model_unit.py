"""The model unit (样板间) in the VIP hand-off (issue 16 item 4), through a real hub and a real model-unit terminal
(Pilot), in both languages: the gate reports a listed VIP's car, the notice reaches the model unit's screen, staff
confirm it from the instruction list, and the desk's chain shows the link acknowledged."""
from __future__ import annotations

import pytest

from console.core import guests_rules
from console.event import guests as guest_file
from console.hub.server import run_in_thread
from stations.outbox.store import DELIVERED
from tests.test_guests_handoff import LIST, station
from tests.station_support import (
    aio,
    hub_client,
    logged,
    make_app,
    screen_text,
    until,
)

HEAD = {"zh": "【贵宾到达】A级 张三", "en": "[VIP arriving] Level A 张三"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_model_unit_terminal_gets_the_vip_notice_and_confirms_it(event_dir, lang: str) -> None:
    guest_file.write_json(event_dir.root / "guests.json", LIST, "guests.xlsx")
    hub = run_in_thread(event_dir)
    gate = station(event_dir, hub, "gate-1")         # a started client: the gate needs no screen here
    client = hub_client(event_dir, hub, "model-1")
    app = make_app(event_dir, client, lang)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: client.status().state == "online" and client.status().feed_connected)
            car = gate.submit("car_in", {"plate": "湘A 12345", "vip": True, "count": 1})
            assert gate.wait_delivered(car.seq, 10).state == DELIVERED
            await until(pilot, lambda: HEAD[lang] in screen_text(app), what="the VIP notice on the model unit")
            await pilot.press("f10")
            await pilot.pause()
            await pilot.press("enter")                       # the oldest notice waiting: confirmed
            await until(pilot, lambda: any(t == "instruction_ack" for _, _, t, _ in logged(event_dir, "model-1")),
                        what="the confirmation logged")
            state = hub.hub.ingest.state
            await until(pilot, lambda: guests_rules.chains(state, state.last_ms), what="the chain")
            (chain,) = guests_rules.chains(state, state.last_ms)
            assert ("model_unit", "acked") in [(link.link, link.status) for link in chain.links]
    finally:
        client.close()
        gate.close()
        hub.stop()
