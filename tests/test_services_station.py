"""Service calls at the post (Textual Pilot) against a real hub, in both languages: the lobby sees the call it raised
taken and done by the desk; with drinks routed to the lobby, the lobby takes a call from its list (Enter) and
marks it done (d), and the post that raised it hears so."""
from __future__ import annotations

import pytest
from textual.widgets import OptionList

from console.hub.server import run_in_thread
from stations.link.client import StationClient
from stations.outbox.store import DELIVERED
from stations.terminal.screens.services import ServiceCallsScreen
from tests.station_support import aio, hub_client, logged, make_app, until
from tests.wire import wait_for

SIZE = (80, 24)
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def hub(event_dir):
    event_dir.toml.write_text(event_dir.toml.read_text("utf-8").replace('\ndrinks = "service"', '\ndrinks = "lobby"', 1),
                              "utf-8")
    handle = run_in_thread(event_dir)
    yield handle
    handle.stop()


def _lines(app) -> list[str]:
    options = app.screen.query_one("#calls-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def _deliver(client, type_: str, body: dict) -> int:
    r = client.submit(type_, body)
    done = client.wait_delivered(r.seq, 10)
    assert done.state == DELIVERED, done.reason
    return done.gseq


async def told_taken_and_done(pilot, key: str, desk_client, call: int, words: tuple[str, ...]) -> None:
    """The post's call list (`key`) shows its call waiting; a desk takes it, then finishes it; the list follows."""
    app = pilot.app
    waiting, ours, what, taken, done = words
    await pilot.press(key)
    assert isinstance(app.screen, ServiceCallsScreen)
    await until(pilot, lambda: any(waiting in line and what in line and ours in line for line in _lines(app)),
                what="the call, waiting")
    _deliver(desk_client, "service_update", {"call": call, "status": "taken", "by": "王芳", "note": ""})
    await until(pilot, lambda: _lines(app)[0].startswith(taken), what="taken, as the hub told the post")
    _deliver(desk_client, "service_update", {"call": call, "status": "done", "by": "", "note": ""})
    await until(pilot, lambda: _lines(app)[0].startswith(done), what="done")


WORDS = {"zh": ("待处理", "本岗提出：", "保洁（洽谈区）", "已接单", "已完成"),
         "en": ("waiting", "ours:", "Cleaning (洽谈区)", "taken", "done")}


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_lobby_sees_its_call_taken_and_done(event_dir, hub, lang):
    lobby = hub_client(event_dir, hub, "lobby-1")
    desk_client = StationClient("desk-1", event_dir.root / "desks" / "desk-1.outbox.db", event_dir.desk_key("desk-1"),
                                event_dir.console_public, hub.endpoint, role="desk").start()
    app = make_app(event_dir, lobby, lang)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: lobby.status().state == "online", what="online")
            await pilot.press("f5")                        # the lobby's service call form, on its place field
            await pilot.press("shift+tab", "enter", "down", "down", "enter")   # the list: drinks → tea break → cleaning
            await pilot.press("tab")
            await pilot.press(*"洽谈区")
            await pilot.press("enter")
            call = await until(pilot, lambda: next((r.gseq for r in lobby.outbox.recent(5)
                                                    if r.type == "service_request" and r.gseq), 0), what="delivered")
            await told_taken_and_done(pilot, "f6", desk_client, call, WORDS[lang])
            await pilot.press("d")                         # closed: nothing more to do here
            assert logged(event_dir, "lobby-1")[-1][2] != "service_update"
    finally:
        lobby.close()
        desk_client.close()


@aio
async def test_a_call_routed_to_the_lobby_is_taken_and_done_from_its_list(event_dir, hub):
    lobby, model = hub_client(event_dir, hub, "lobby-1"), hub_client(event_dir, hub, "model-1").start()
    app = make_app(event_dir, lobby, "zh")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: lobby.status().state == "online" and lobby.status().feed_connected,
                        what="online, on the feed")
            call = _deliver(model, "service_request", {"service": "drinks", "where": "样板间 3 号", "note": ""})
            await pilot.press("f6")
            await until(pilot, lambda: any("派给本岗" in line for line in _lines(app)), what="the routed call")
            line = _lines(app)[0]
            assert line.startswith("待处理") and "【服务需求】饮品（样板间 3 号）" in line
            await pilot.press("enter")                     # take it: acknowledges the notice
            await until(pilot, lambda: _lines(app)[0].startswith("已接单"), what="taken")
            await pilot.press("d")
            await until(pilot, lambda: _lines(app)[-1].startswith("已完成"), what="done")
            await until(pilot, lambda: lobby.outbox.depth() == 0, what="delivered")
            types = [(t, b.get("status")) for _, _, t, b in logged(event_dir, "lobby-1")]
            assert types[-2:] == [("instruction_ack", None), ("service_update", "done")]
        told = wait_for(lambda: [i for i in model.outbox.instructions() if i.notice == "service_done"], 10,
                        "the model unit told")
        assert told[0].text == "您的服务需求 饮品（样板间 3 号） 已完成（大堂）"
    finally:
        lobby.close()
        model.close()
