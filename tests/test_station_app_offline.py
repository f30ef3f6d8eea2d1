"""The terminal without its desk, and when things go wrong: waiting reports, restart, refusals, key mismatch, drill, instructions."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.hub.server import run_in_thread
from protocols import keys
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED, REJECTED, SAVED
from tests.station_support import (
    aio,
    hub_client,
    link_text,
    logged,
    make_app,
    make_client,
    screen_text,
    type_text,
    until,
)

SIZE = (80, 24)


def event_endpoints(folder):
    hub = folder.load().hub
    return hub.endpoint, hub.feed


@aio
async def test_offline_story_end_to_end_with_a_restart(event_dir):
    """Hub down: reports wait and the screen says so; the terminal restarts; hub up: all delivered in order."""
    endpoint, feed = event_endpoints(event_dir)
    first = make_client(event_dir, "gate-1", endpoint, feed)
    app = make_app(event_dir, first, "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "系统联系不上" in link_text(app), what="unreachable shown")
            for key in ("f1", "f1", "f2"):
                await pilot.press(key)
            await until(pilot, lambda: "系统联系不上 — 3 条待发" in link_text(app), what="3 waiting")
            assert screen_text(app).count("已保存（本机）") == 3
            await pilot.press("f12")                        # the same in English, switched at run time
            await until(pilot, lambda: "system unreachable — 3 reports waiting" in link_text(app))
    finally:
        first.close()

    # The terminal itself restarts: a new client and app on the same outbox file.
    second = make_client(event_dir, "gate-1", endpoint, feed)
    app = make_app(event_dir, second, "zh")
    hub = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "3 条待发" in link_text(app), what="waiting survives the restart")
            await pilot.press("f3")
            await type_text(pilot, "湘A·12345")
            await pilot.press("enter")
            await until(pilot, lambda: "4 条待发" in link_text(app), what="4 waiting")
            assert not event_dir.db().exists(), "no hub has run yet"
            hub = run_in_thread(event_dir)
            await until(pilot, lambda: second.outbox.depth() == 0, what="delivered after the link returns")
            await until(pilot, lambda: "已连接系统" in link_text(app) and "待发" not in link_text(app))
            await until(pilot, lambda: screen_text(app).count("已送达") == 4)
    finally:
        second.close()
        if hub is not None:
            hub.stop()
    rows = logged(event_dir, "gate-1")
    assert [(seq, t) for _, seq, t, _ in rows] == [(1, "car_in"), (2, "car_in"), (3, "car_out"), (4, "car_in")]
    assert [g for g, *_ in rows] == sorted(g for g, *_ in rows), "delivered in order"
    assert rows[-1][3]["plate"] == "湘A·12345"


@pytest.mark.parametrize("lang, station, keys_, text, sentence", [
    ("zh", "parking-1", ["f3"], "abc", "“已占车位”填写有误：应为整数"),
    ("en", "parking-1", ["f3"], "-5", "The occupied spaces is wrong: it must be at least -1"),
    ("zh", "gate-1", ["f3"], "湘A·12345678901234567", "“车牌”填写有误：最多 16 个字"),
    ("en", "concierge-1", ["f2"], "lots", "The count is wrong: it must be a whole number"),
    ("zh", "concierge-1", ["f2"], "5000", "“人数/数量”填写有误：不能大于 1000"),
])
@aio
async def test_bad_input_shows_the_sentence_and_saves_nothing(event_dir, lang, station, keys_, text, sentence):
    client = make_client(event_dir, station)
    app = make_app(event_dir, client, lang)
    try:
        async with app.run_test(size=SIZE) as pilot:
            for key in keys_:
                await pilot.press(key)
            await type_text(pilot, text)
            await pilot.press("enter")
            await pilot.pause(0.1)
            form = app.screen
            assert type(form).__name__ == "ReportForm", "the form stays open"
            shown = form.query_one("#form-error").render().plain
            assert sentence in shown
            assert sentence in app.main.query_one("#flash").render().plain
            assert client.outbox.next_seq == 1 and client.outbox.recent() == []
            await pilot.press("escape")                      # and the terminal carries on
            await pilot.press("f1")
            await until(pilot, lambda: client.outbox.next_seq == 2)
    finally:
        client.close()


@aio
async def test_a_rejection_shows_the_desks_reason_in_plain_words(event_dir):
    """A lot the hub does not know (the terminal's config is stale): rejected, reason_zh on screen, not resent."""
    summary = event_dir.load().summary()
    summary["lots"] = summary["lots"] + [{"id": "p9", "capacity": 10, "name": "临时停车场", "name_en": "Overflow"}]
    hub = run_in_thread(event_dir)
    client = hub_client(event_dir, hub, "parking-1")
    app = make_app(event_dir, client, "zh", summary=summary)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6", "f6", "f1")              # p1 -> p2 -> p9, then +1 there
            await until(pilot, lambda: client.outbox.get(1) and client.outbox.get(1).state == REJECTED)
            report = client.outbox.get(1)
            assert report.code == "E_SCHEMA" and report.reason_zh
            await until(pilot, lambda: report.reason_zh in screen_text(app))
            assert "被拒收" in screen_text(app)
            await pilot.press("f12")
            await until(pilot, lambda: report.reason in screen_text(app) and "rejected" in screen_text(app))
            await pilot.press("f6", "f1")                    # back to p1: that one is delivered
            await until(pilot, lambda: client.outbox.get(2) and client.outbox.get(2).state == DELIVERED)
    finally:
        client.close()
        hub.stop()
    assert [(seq, b["lot"]) for _, seq, _, b in logged(event_dir, "parking-1")] == [(2, "p1")]


@aio
async def test_key_mismatch_is_shown_as_such(event_dir, tmp_path: Path):
    hub = run_in_thread(event_dir)
    wrong = keys.create(tmp_path / "other", "console")[0]
    client = hub_client(event_dir, hub, "gate-1", console_key=wrong)
    app = make_app(event_dir, client, "en")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            await until(pilot, lambda: "system key mismatch" in link_text(app), what="mismatch shown")
            assert "1 reports waiting" in link_text(app)
            await pilot.press("f12")
            await until(pilot, lambda: "系统密钥不符" in link_text(app))
    finally:
        client.close()
        hub.stop()


@aio
async def test_drill_banner_when_the_welcome_says_drill(event_dir):
    hub = run_in_thread(event_dir, drill=True)
    client = hub_client(event_dir, hub, "lobby-1")
    app = make_app(event_dir, client, "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "演练" in link_text(app), what="drill banner")
            await pilot.press("f1")
            await until(pilot, lambda: client.outbox.depth() == 0)
    finally:
        client.close()
        hub.stop()
    assert [t for _, _, t, _ in logged(event_dir, "lobby-1", drill=True)] == ["zone_enter"]
    assert not event_dir.db().exists(), "a drill never touches the live log"


@aio
async def test_instructions_hold_the_gate_and_are_acknowledged(event_dir):
    """The desk holds the gate (gate: hold): red banner, text shown literally (markup off), F10 Enter confirms."""
    hub = run_in_thread(event_dir)
    desk = StationClient("desk-1", event_dir.root / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                         event_dir.console_public, hub.endpoint, role="desk", heartbeat_ms=200).start()
    client = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, client, "zh")
    nasty = "暂停车辆入场 [@click=app.quit]点我[/] [b]x[/b]"
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: client.status().state == "online" and client.status().feed_connected)
            sent = desk.submit("instruction", {"target": "station.gate-1", "text": nasty, "ack_required": True,
                                                "gate": "hold"})
            assert desk.wait_delivered(sent.seq, 10).state == DELIVERED
            banner = app.main.query_one("Banner")
            await until(pilot, lambda: nasty in banner.render().plain, what="hold banner")
            assert banner.has_class("-hold") and "暂停车辆入场：" in banner.render().plain
            await pilot.press("f10")
            await until(pilot, lambda: "需确认" in str(app.screen.query_one("OptionList").get_option_at_index(0).prompt))
            await pilot.press("enter")
            await until(pilot, lambda: client.outbox.depth() == 0 and client.outbox.pending_instructions() == [])
            await until(pilot, lambda: "已确认" in str(app.screen.query_one("OptionList").get_option_at_index(0).prompt))
            await pilot.press("escape")
            release = desk.submit("instruction", {"target": "post.gate", "text": "恢复放行", "ack_required": False,
                                                   "gate": "resume"})
            desk.wait_delivered(release.seq, 10)
            await until(pilot, lambda: not banner.has_class("-hold") and "恢复放行" in banner.render().plain)
            assert app.is_running, "the markup in the instruction did not quit the app"
    finally:
        client.close()
        desk.close()
        hub.stop()
    hold_gseq = logged(event_dir, "desk-1")[0][0]
    assert [(t, b) for _, _, t, b in logged(event_dir, "gate-1")] == [("instruction_ack", {"instruction": hold_gseq, "person": ""})]


@aio
async def test_saved_reports_survive_a_dead_port_and_the_list_shows_saved(event_dir):
    client = make_client(event_dir, "model-1")
    app = make_app(event_dir, client, "en")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1", "f1", "f1", "f2")
            await until(pilot, lambda: "4 reports waiting" in link_text(app))
            assert [r.state for r in client.outbox.recent()] == [SAVED] * 4
            assert "Show flat 2/40" in screen_text(app)
    finally:
        client.close()


@aio
async def test_typing_in_a_form_never_triggers_a_key_of_the_screen(event_dir):
    """Digits and letters are aliases on the main screen (1 = F1, l = language); in a form they are text."""
    client = make_client(event_dir, "concierge-1")
    app = make_app(event_dir, client, "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f5", "l", "1", "i", "x")
            assert app.focused.value == "l1ix" and app.lang == "zh"
            assert client.outbox.next_seq == 1
            await pilot.press("escape", "l")
            assert app.lang == "en"
            commands = [c.title for c in app.get_system_commands(app.screen)]
            assert "F5 Check in" in commands and "F9 Incident" in commands
    finally:
        client.close()


@aio
async def test_quitting_with_reports_waiting_warns_first_and_quits_on_a_second_ctrl_q(event_dir):
    """Reports not yet at the desk: Ctrl+Q says they stay saved here and go later; a second Ctrl+Q within
    QUIT_AGAIN_S quits. Past that time the warning comes again. Nothing waiting: Ctrl+Q quits at once."""
    from stations.terminal.app import QUIT_AGAIN_S

    endpoint, feed = event_endpoints(event_dir)
    client = make_client(event_dir, "gate-1", endpoint, feed)
    app = make_app(event_dir, client, "zh")
    now = [1000.0]
    app.monotonic = lambda: now[0]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "系统联系不上" in link_text(app), what="unreachable shown")
            await pilot.press("f1")
            await until(pilot, lambda: "1 条待发" in link_text(app), what="1 waiting")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.is_running and "还有 1 条报告未送达指挥台" in screen_text(app)
            now[0] += QUIT_AGAIN_S + 1                      # too late for the second press: warned again
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.is_running
            now[0] += 1
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert not app.is_running
        assert client.outbox.depth() == 1   # still saved here, for the next run
    finally:
        client.close()


@aio
async def test_quitting_with_nothing_waiting_quits_at_once(event_dir):
    hub = run_in_thread(event_dir)
    client = hub_client(event_dir, hub, "gate-1")
    app = make_app(event_dir, client, "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: client.status().state == "online", what="online")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert not app.is_running
    finally:
        client.close()
        hub.stop()
