"""Service calls end to end through a real hub, real station clients and the desk (Textual Pilot), in both languages:
a post raises a call, the desk sees it with its department and age, takes it and marks it done, the raising
post hears both; a call routed to a post is taken there by acknowledging the notice and done from that post."""
from __future__ import annotations

import pytest

from console.desk.screens.modals import ChoiceModal, TextModal
from console.desk.screens.services import ServicesScreen
from console.desk.widgets.services import ServicesTable
from stations.link.client import StationClient
from tests.test_desk_app import desk, hub, logged, notes_of, screen_text  # noqa: F401 (hub is a fixture)
from tests.desk_support import aio, wait_for
from tests.wire import wait_for as wait_until

pytestmark = pytest.mark.timeout(120)


def _station(event_dir, hub, sid: str) -> StationClient:
    return StationClient(sid, event_dir.root / "stations" / f"{sid}.outbox.db", event_dir.station_key(sid),
                         event_dir.console_public, hub.endpoint, hub.feed).start()


@pytest.fixture
def lobby(event_dir, hub):
    client = _station(event_dir, hub, "lobby-1")
    yield client
    client.close()


def _raise(client: StationClient, service: str, where: str) -> int:
    r = client.submit("service_request", {"service": service, "where": where, "note": ""})
    return client.wait_delivered(r.seq, 10).gseq


def _service_notices(client: StationClient) -> list:
    return [i for i in client.outbox.instructions() if i.notice.startswith("service_")]


WORDS = {"zh": ("保洁", "环境", "待处理", "已接单", "已完成", "王芳", "您的服务需求 保洁（洽谈区） 已完成（王芳（指挥台））"),
         "en": ("Cleaning", "Environment", "waiting", "taken", "done", "Wang Fang",
                "Your service request Cleaning (洽谈区) is done (Wang Fang (Command desk))")}


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_desk_takes_a_call_and_marks_it_done_and_the_post_hears(event_dir, hub, lobby, lang):
    service, dept, waiting, taken, done, who, told = WORDS[lang]
    async with desk(event_dir, hub, lang=lang) as (app, pilot):
        call = _raise(lobby, "cleaning", "洽谈区")
        await pilot.press("f")
        assert isinstance(app.screen, ServicesScreen)
        await wait_for(pilot, lambda: service in screen_text(app) and waiting in screen_text(app), what="the call listed")
        text = screen_text(app)
        assert dept in text and "洽谈区" in text and f"#{call}" not in text   # staff never see the number
        assert app.screen.query_one(ServicesTable).current_key == str(call)
        await pilot.press("j")
        assert isinstance(app.screen, TextModal)
        await pilot.press(*who)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view.state.requests[call]["status"] == "taken", what="taken")
        await wait_for(pilot, lambda: taken in screen_text(app) and who in screen_text(app), what="who took it")
        await pilot.press("y")
        assert isinstance(app.screen, TextModal)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view.state.requests[call]["status"] == "done", what="done")
        await wait_for(pilot, lambda: done in screen_text(app), what="done on the list")
        assert logged(event_dir, "service_update") == [{"call": call, "status": "taken", "by": who, "note": ""},
                                                       {"call": call, "status": "done", "by": "", "note": ""}]
        # The lobby raised it: it hears it was taken and that it is done, in its inbox.
        wait_until(lambda: len(_service_notices(lobby)) == 2, 10, "both notices at the lobby")
        last = _service_notices(lobby)[0]
        assert (last.text if lang == "zh" else last.text_en) == told
        assert not last.ack_required


@aio
async def test_cancelling_asks_why_and_a_wall_display_cannot_act(event_dir, hub, lobby):
    async with desk(event_dir, hub, lang="zh") as (app, pilot):
        call = _raise(lobby, "restock", "茶水间")
        await wait_for(pilot, lambda: call in app.current_view.state.requests, what="the call")
        await app.screen.run_action("cancel_call")  # as the palette runs it on the main board: pick the call first
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("enter")
        assert isinstance(app.screen, TextModal)
        await pilot.press("enter")                  # no reason: the modal stays
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"有库存")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view.state.requests[call]["status"] == "cancelled", what="cancelled")
        assert app.current_view.state.requests[call]["reason"] == "有库存"
        seen = notes_of(app)
        await pilot.press("f", "y")                 # the cursor's call is closed: the desk says so, sends nothing
        await wait_for(pilot, lambda: seen, what="the notice")
        assert "已取消" in seen[-1] and len(logged(event_dir, "service_update")) == 1
    async with desk(event_dir, hub, lang="en", wall=True) as (app, pilot):
        await pilot.press("f")
        assert isinstance(app.screen, ServicesScreen)
        await pilot.press("j", "y", "q")
        assert isinstance(app.screen, ServicesScreen) and len(logged(event_dir, "service_update")) == 1


@pytest.fixture
def routed(event_dir):
    """Drinks go to the lobby post at this event."""
    text = event_dir.toml.read_text("utf-8").replace('\ndrinks = "service"', '\ndrinks = "lobby"', 1)
    event_dir.toml.write_text(text, "utf-8")
    return event_dir


def test_a_call_routed_to_a_post_is_taken_and_done_there(routed, hub):
    model = _station(routed, hub, "model-1")
    lobby = _station(routed, hub, "lobby-1")
    try:
        # Both posts are on the feed before the call: the notice is published once, as any instruction is.
        wait_until(lambda: all(c.status().state == "online" and c.status().feed_connected for c in (model, lobby)),
                   20, "both posts online")
        call = _raise(model, "drinks", "样板间 3 号")
        notice = wait_until(lambda: next(iter(_service_notices(lobby)), None), 20, "the notice at the lobby")
        assert notice.ack_required and notice.guest == str(call) and notice.text_en.startswith("[Service request] Drinks")
        ack = lobby.acknowledge_instruction(notice.id)
        lobby.wait_delivered(ack.seq, 10)
        done = lobby.submit("service_update", {"call": call, "status": "done", "by": "赵敏", "note": ""})
        assert lobby.wait_delivered(done.seq, 10).state == "delivered"
        told = wait_until(lambda: [i for i in _service_notices(model) if i.notice == "service_done"], 10, "the done notice")
        assert told[0].text == "您的服务需求 饮品（样板间 3 号） 已完成（赵敏（大堂））"
        # The model unit may not finish the lobby's call twice, nor another post touch it.
        again = model.submit("service_update", {"call": call, "status": "done", "by": "", "note": ""})
        refused = model.wait_delivered(again.seq, 10)
        assert refused.state == "rejected" and refused.code == "E_SCHEMA" and "已完成" in refused.reason_zh
    finally:
        model.close()
        lobby.close()


@aio
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_desks_summary_screen_shows_the_service_table(lang):
    """z: the report's service section on screen, with the department's highlight, in both languages."""
    import io

    from rich.console import Console

    from console.core.state import new_state
    from console.desk.app import DeskApp
    from console.desk.screens.summary import SummaryScreen
    from console.report.summary import summarise
    from protocols import messages as M
    from tests.test_state import SUMMARY, T0, Log

    log = Log()
    call = log(M.ServiceRequest(service="cleaning", where="洽谈区"), "lobby-1", T0)
    log(M.ServiceUpdate(call=call, status="taken"), "desk-1", T0 + 60_000)
    log(M.ServiceUpdate(call=call, status="done"), "desk-1", T0 + 300_000)
    app = DeskApp(state=new_state(SUMMARY), clock=lambda: T0, lang=lang, desk="desk-1")
    app.summary_source = lambda: summarise(log.rows, SUMMARY)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("z")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.summary, what="the summary")
        await pilot.pause(0.2)
        con = Console(width=200, file=io.StringIO(), record=True, color_system=None)
        for static in app.screen.query("Static"):
            con.print(static.content)
        shown = con.export_text()
    if lang == "zh":
        assert "服务需求" in shown and "环境" in shown and "1 分 00 秒" in shown and "5 分 00 秒" in shown
        assert "环境完成服务需求 1 项（共 1 项）" in shown
    else:
        assert "Service requests" in shown and "Median to take" in shown and "Environment" in shown
        assert "Environment finished 1 of 1 service request(s)" in shown
