"""The send-off on screen: the model unit's terminal raises it (and reminds staff of the guests' belongings), a way-out
post's terminal shows it and acknowledges it with one key, through a real hub, in both languages; and snapshots."""
from __future__ import annotations

import pytest

from tests.test_station_app_snapshots import FIXED
from tests.test_station_app_support import aio, hub_client, logged, make_app, make_client, screen_text, type_text, until

pytestmark = pytest.mark.timeout(90)

REMIND = {"zh": "请提醒客人带好随身物品。", "en": "Remind the guests to take their belongings."}
BANNER = {"zh": "★ 恭送", "en": "★ SEND-OFF"}


async def raise_sendoff(pilot, app, count: str, note: str, ref: str = "") -> None:
    """F6 on the model unit: the form (its title carries the reminder), then count, note and reference."""
    await pilot.press("f6")
    await until(pilot, lambda: getattr(app.screen, "title_text", ""), what="the send-off form")
    assert REMIND[app.lang] in app.screen.title_text
    await type_text(pilot, count)
    await pilot.press("tab")
    await type_text(pilot, note)
    if ref:
        await pilot.press("tab")
        await type_text(pilot, ref)
    await pilot.press("enter")


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_model_unit_raises_it_and_the_gate_acknowledges_it_with_one_key(event_dir, hub, lang):
    model = hub_client(event_dir, hub, "model-1")
    app = make_app(event_dir, model, lang)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: model.status().state == "online", what="online")
            await raise_sendoff(pilot, app, "2", "刘总一行")
            await until(pilot, lambda: REMIND[lang] in screen_text(app), what="the reminder after saving")
            await until(pilot, lambda: model.outbox.depth() == 0 and not app.saving, what="delivered")
    finally:
        model.close()
    (report,) = [b for _, _, t, b in logged(event_dir, "model-1") if t == "sendoff_notice"]
    assert (report["count"], report["note"], report["guest_ref"]) == (2, "刘总一行", "")
    gate = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, gate, lang)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: BANNER[lang] in screen_text(app), what="the send-off on the banner")
            said = {"zh": "【恭送】刘总一行一组2人即将离开（样板间）", "en": "[Send-off] 刘总一行, party of 2 leaving (from Show flat)"}
            assert said[lang] in screen_text(app)
            await pilot.press("a")
            await until(pilot, lambda: [b for _, _, t, b in logged(event_dir, "gate-1") if t == "instruction_ack"],
                        what="the acknowledgement in the log")
            await until(pilot, lambda: BANNER[lang] not in screen_text(app), what="the banner cleared")
            await pilot.press("a")                                          # nothing left: said, nothing sent
            await until(pilot, lambda: {"zh": "没有待确认的恭送", "en": "No send-off"}[lang] in screen_text(app),
                        what="nothing to acknowledge")
    finally:
        gate.close()
    state = hub.hub.ingest.state
    (so,) = state.guests["sendoffs"].values()
    gate_link = so["links"]["gate"]
    assert list(state.instructions[gate_link]["acks"]) == ["gate-1"]


# --- snapshots: the model unit's send-off form, and a way-out post with a send-off to acknowledge ----------

SIZES = [(80, 24), (160, 48)]


def snapshot(folder, snap_compare, station: str, lang: str, size: tuple[int, int], keys: tuple[str, ...] = (),
             seed=None) -> bool:
    """The terminal on a fixed clock and a dead desk, after `keys`, with `seed(client)` run first."""
    client = make_client(folder, station, heartbeat_ms=50, clock=lambda: FIXED)
    if seed is not None:
        seed(client)
    app = make_app(folder, client, lang)

    async def settle(pilot):
        await until(pilot, lambda: client.status().state == "unreachable", what="link settles")
        app.redraw()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.1)

    try:
        return snap_compare(app, terminal_size=size, run_before=settle)
    finally:
        client.close()


def parking_link(client) -> None:
    client.outbox.store_instruction(
        1201, "post.parking", "【恭送】A级 张三（省发改委）一组3人即将离开（样板间）；贵宾车辆请提前10分钟开到门口；请备好车辆离场并确认",
        True, received_ms=int(FIXED * 1000), guest="V-01", notice="sendoff",
        text_en="[Send-off] Level A 张三 (省发改委), party of 3 leaving (from Show flat); bring the VIP's car to the door "
                "10 minutes ahead; get their car ready to leave and acknowledge")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_send_off_form_snapshot(fixed_event_dir, snap_compare, lang, size):
    assert snapshot(fixed_event_dir, snap_compare, "model-1", lang, size, keys=("f6",))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_send_off_banner_snapshot(fixed_event_dir, snap_compare, lang, size):
    assert snapshot(fixed_event_dir, snap_compare, "parking-1", lang, size, seed=parking_link)
