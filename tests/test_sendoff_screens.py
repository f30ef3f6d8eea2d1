"""The send-off on screen: the model unit's terminal raises it (and reminds staff of the guests' belongings), a way-out
post's terminal shows it and acknowledges it with one key, through a real hub, in both languages; and snapshots."""
from __future__ import annotations

import pytest

from tests.test_station_app_snapshots import FIXED
from tests.station_support import aio, hub_client, logged, make_app, make_client, screen_text, type_text, until

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


# --- the desk: the send-off panel on the guest screen --------------------------------------------------

def sendoff_state(hosted: bool = False):
    """The duty morning (tests/duty_fixture.py) and three send-offs on top, the hub's rules run as the hub runs them:
    王建国 seen off from the lobby and gone; 李慧 from the model unit, parking silent past its deadline; a walk-in
    VIP party raised by the desk a minute ago. `hosted`: the list re-imported naming the sales consultant 郑凯 as
    陈志强's host, and 陈志强 seen off from the model unit 90 s ago, his host and the gate not yet acknowledging."""
    from console.core import sendoff
    from console.core import state as S
    from console.hub.store import Row
    from tests.duty_fixture import MIN, T0, duty_state

    state = duty_state()
    gseq = state.gseq
    sent: dict[tuple[str, str], int] = {}

    def log(station: str, type_: str, body: dict, at: int) -> int:
        nonlocal gseq
        gseq += 1
        S.apply(state, Row(gseq, station, "ep-" + station, gseq, type_, at - 50, at, body))
        return gseq

    def decide(at: int) -> None:
        for msg in sendoff.evaluate(state, at):
            g = log("hub", msg.TYPE, msg.as_body(), at)
            if msg.TYPE == "instruction":
                sent[(str(msg.sendoff), msg.target.split(".")[1])] = g

    def ack(so: int, link: str, station: str, at: int) -> None:
        log(station, "instruction_ack", {"instruction": sent[(str(so), link)]}, at)

    first = log("lobby-1", "sendoff_notice", {"guest_ref": "G-101", "count": 0, "note": ""}, T0 - 30 * MIN)
    decide(T0 - 30 * MIN)
    for link, station, m in (("concierge", "concierge-1", 29), ("parking", "parking-2", 28), ("gate", "gate-2", 27)):
        ack(first, link, station, T0 - m * MIN)
    log("concierge-2", "guest_departure", {"count": 5, "guest_ref": "G-101"}, T0 - 20 * MIN)
    second = log("model-1", "sendoff_notice", {"guest_ref": "V-002", "count": 0, "note": ""}, T0 - 12 * MIN)
    decide(T0 - 12 * MIN)
    for link, station, m in (("lobby", "lobby-1", 11), ("concierge", "concierge-1", 10), ("gate", "gate-1", 9),
                             ("greeter", "greeter-1", 9)):   # the sample's greeting leaders see a VIP off too
        ack(second, link, station, T0 - m * MIN)
    decide(T0 - 5 * MIN)
    log("desk-1", "sendoff_notice", {"guest_ref": "", "count": 2, "note": "刘总一行", "vip": True}, T0 - MIN)
    decide(T0 - MIN)
    if hosted:
        log("hub", "guest_list", {"source": "来宾名单.xlsx", "digest": "3f2a9c1d0b7e4a56", "guests": [
            {**g, "host": "郑凯" if g["ref"] == "V-003" else g["host"]} for g in state.guests["list"].values()]},
            T0 - 2 * MIN)
        third = log("model-1", "sendoff_notice", {"guest_ref": "V-003", "count": 0, "note": ""}, T0 - 90_000)
        decide(T0 - 90_000)
        for link, station in (("lobby", "lobby-1"), ("concierge", "concierge-2"), ("parking", "parking-1"),
                              ("greeter", "greeter-1")):
            ack(third, link, station, T0 - 60_000)
    decide(T0)
    return state


@pytest.mark.pure
def test_the_panel_shows_each_link_and_the_chain_in_the_order_a_desk_reads_them() -> None:
    from console.core import sendoff
    from tests.duty_fixture import T0
    state = sendoff_state()
    chains = sendoff.chains(state, T0)
    assert [(c.name, c.status) for c in chains] == [("李慧", "overdue"), ("刘总一行", "waiting"), ("王建国", "departed")]
    assert [(link.link, link.status) for link in chains[0].links] == [
        ("lobby", "acked"), ("concierge", "acked"), ("parking", "overdue"), ("gate", "acked"), ("greeter", "acked")]
    assert [a["code"] for a in state.alarms if a.get("what") == "sendoff"] == ["sendoff_no_ack"]
    assert [link.link for link in chains[2].links] == ["concierge", "parking", "gate"]   # the lobby raised it
    # The alarm and its timeline line name the party and the post, never the send-off's number or `parking`.
    from console.desk.widgets import fmt
    from console.desk.widgets.fmt import duty_subject
    (alarm,) = [a for a in state.alarms if a.get("what") == "sendoff"]
    assert duty_subject(state, alarm, "zh") == "李慧 · 停车场" and duty_subject(state, alarm, "en") == "李慧 · Parking"
    (row,) = [r for r in state.recent if r["type"] == "overdue" and r["body"]["what"] == "sendoff"]
    assert fmt.describe(row, state, "zh").plain.endswith("恭送 李慧 · 停车场")
    assert fmt.describe(row, state, "en").plain.endswith("send-off 李慧 · Parking")
    raised = next(r for r in state.recent if r["type"] == "sendoff_notice" and r["body"]["guest_ref"] == "V-002")
    assert "李慧" in fmt.describe(raised, state, "zh").plain and "V-002" not in fmt.describe(raised, state, "zh").plain


def guest_desk(lang: str):
    from console.desk.app import DeskApp
    from tests.duty_fixture import T0
    return DeskApp(state=sendoff_state(), clock=lambda: T0, lang=lang, desk="desk-1")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_guest_screen_with_send_offs_snapshot(snap_compare, lang, size):
    from tests.desk_support import settled
    assert snap_compare(guest_desk(lang), run_before=settled("g"), terminal_size=size)


@pytest.mark.pure
def test_the_host_s_link_gets_a_column_once_a_send_off_goes_to_a_host() -> None:
    from console.core import sendoff
    from tests.duty_fixture import T0
    assert "host" not in sendoff.shown_links(sendoff_state())                  # nobody hosted: the table as it was
    state = sendoff_state(hosted=True)
    assert sendoff.shown_links(state)[-1] == "host"
    chain = next(c for c in sendoff.chains(state, T0) if c.ref == "V-003")
    assert [(link.link, link.status) for link in chain.links][-2:] == [("greeter", "acked"), ("host", "waiting")]
    assert chain.links[-1].target == "station.sales-1"


def hosted_desk(lang: str):
    from console.desk.app import DeskApp
    from tests.duty_fixture import T0
    return DeskApp(state=sendoff_state(hosted=True), clock=lambda: T0, lang=lang, desk="desk-1")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_guest_screen_with_a_host_s_send_off_snapshot(snap_compare, lang, size):
    from tests.desk_support import settled
    assert snap_compare(hosted_desk(lang), run_before=settled("g"), terminal_size=size)


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_desk_raises_a_send_off_and_sees_the_chain(event_dir, lang):
    from console.desk.screens.modals import ChoiceModal, TextModal
    from console.desk.screens.readiness import GuestsScreen
    from console.hub.server import run_in_thread
    from tests.test_desk_app import desk, logged
    from tests.desk_support import wait_for

    handle = run_in_thread(event_dir)
    try:
        async with desk(event_dir, handle, lang=lang) as (app, pilot):
            await pilot.press("b")                                  # nobody on the list is here: a walk-in party
            assert isinstance(app.screen, ChoiceModal)
            await pilot.press("enter")
            assert isinstance(app.screen, TextModal)
            await pilot.press(*"VIP x2")
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "sendoff_notice"), what="the send-off logged")
            assert logged(event_dir, "sendoff_notice") == [{"count": 0, "note": "VIP x2", "guest_ref": "", "vip": False}]
            await pilot.press("g")
            assert isinstance(app.screen, GuestsScreen)
            table = app.screen.query_one("#guests-sendoffs")
            await wait_for(pilot, lambda: table.display and table.row_count == 1, what="the chain on the guest screen")
            row = " ".join(c.plain for c in table._cells[table._keys[0]])
            assert "VIP x2" in row and {"zh": "待确认", "en": "waiting"}[lang] in row
    finally:
        handle.stop()
