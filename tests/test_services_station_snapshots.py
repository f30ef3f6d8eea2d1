"""Snapshots of the lobby's service calls (F6) at 80×24 and 160×48, zh and en, from a fixed clock and a dead desk:
its own calls waiting, taken and done as the hub told it, and a call routed to it still to take."""
from __future__ import annotations

import pytest

from tests.test_station_app_snapshots import FIXED
from tests.station_support import make_app, make_client, until

NOW = int(FIXED * 1000)


def lobby_with_calls(folder):
    client = make_client(folder, "lobby-1", heartbeat_ms=50, clock=lambda: FIXED)
    asked = [client.submit("service_request", {"service": s, "where": w})
             for s, w in (("tea_break", "洽谈区"), ("cleaning", "洗手间"), ("restock", "茶水间"))]
    for n, r in enumerate(asked):
        client.outbox.mark_delivered(r.seq, 2001 + n)
    box = client.outbox
    box.store_instruction(2010, "station.lobby-1", "您的服务需求 保洁（洗手间） 已接单（王芳（指挥台））", False,
                          received_ms=NOW, text_en="Your service request Cleaning (洗手间) is taken (王芳 (Command desk))",
                          guest="2002", notice="service_taken")
    box.store_instruction(2011, "station.lobby-1", "您的服务需求 物料补充（茶水间） 已完成（后勤）", False,
                          received_ms=NOW, text_en="Your service request Restock (茶水间) is done (Logistics)",
                          guest="2003", notice="service_done")
    box.store_instruction(2012, "post.lobby", "【服务需求】饮品（样板间 3 号），请接单（确认即接单）", True, received_ms=NOW,
                          text_en="[Service request] Drinks (样板间 3 号): please take it (acknowledging takes it)",
                          guest="2005", notice="service_new")
    return client


@pytest.mark.parametrize("lang,size", [(lang, size) for lang in ("zh", "en") for size in ((80, 24), (160, 48))],
                         ids=lambda v: v if isinstance(v, str) else f"{v[0]}x{v[1]}")
def test_service_calls_screen(fixed_event_dir, snap_compare, lang, size):
    client = lobby_with_calls(fixed_event_dir)
    try:
        assert snap_compare(make_app(fixed_event_dir, client, lang), terminal_size=size, run_before=open_calls)
    finally:
        client.close()


async def open_calls(pilot) -> None:
    """F6 once the link has settled on "unreachable", then wait for the four calls to be on screen."""
    app = pilot.app
    await until(pilot, lambda: app.client.status().state == "unreachable", what="link settles")
    await pilot.press("f6")
    await until(pilot, lambda: app.view is not None and len(app.view.calls) == 4, what="the calls")
    app.redraw()
    await pilot.pause(0.2)
