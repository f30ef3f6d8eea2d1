"""The desk's pairing screen (h): codes as text and QR, the phones paired now, revoke (logged) — Pilot on a real hub and station server, and snapshots."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import asynccontextmanager

import pytest
from textual.widgets import DataTable, Input, Static

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import DeskLink
from console.desk.screens.phones import PhonesScreen, PhonesSource
from console.event import phones
from console.event.phones import PhoneRow
from console.hub.server import run_in_thread
from console.stations_serve import build_server
from protocols.pairing import code_for, read_generations
from stations.web.server import run_in_thread as web_thread
from tests.duty_fixture import duty_state
from tests.test_desk_support import T0, aio, settled, wait_for
from tests.wire import log_rows

pytestmark = pytest.mark.timeout(120)


def call(url: str, path: str, body: dict | None = None, cookie: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url + path, json.dumps(body).encode() if body is not None else None,
                                     {"Content-Type": "application/json", "Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, (answer.headers.get("Set-Cookie") or "").split(";", 1)[0]
    except urllib.error.HTTPError as err:
        return err.code, ""


@asynccontextmanager
async def desk_on(folder, hub, lang: str):
    link = DeskLink("desk-1", hub.endpoint, hub.feed, folder.desk_key("desk-1"), folder.console_public,
                    folder.root / "desks" / "desk-1.outbox.db")
    app = DeskApp(link=link, state=new_state(folder.load().summary()), lang=lang, desk="desk-1")
    app.phones_source = PhonesSource(lambda: phones.rows(folder), lambda s: phones.revoke(folder, s))
    link.on_action = app.action_finished
    link.start()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            yield app, pilot
    finally:
        link.close()


@aio
async def test_codes_phones_and_a_logged_revoke(event_dir):
    folder = event_dir
    hub = run_in_thread(folder)
    server = build_server(folder, "zh", endpoints=(hub.endpoint, hub.feed))
    server.urls = ["http://127.0.0.1:8800/"]
    running = web_thread(server)
    try:
        code = server.pairings.code("gate-1")
        status, cookie = call(running.url, "/api/pair", {"code": code})
        assert status == 200
        async with desk_on(folder, hub, "zh") as (app, pilot):
            await pilot.press("h")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, PhonesScreen) and app.screen.rows
                                    and app.screen, what="the pairing screen with its rows")
            table = screen.query_one("#phones-list", DataTable)
            first = [str(c) for c in table.get_row_at(0)]
            assert first[:2] == ["东门岗", code]
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][2] == "1", what="one phone paired")
            qr = str(screen.query_one("#phones-qr", Static).render())
            assert f"东门岗  {code}" in qr and "█" in qr
            assert "http://127.0.0.1:8800/" in str(screen.query_one("#phones-line", Static).render())

            await pilot.press("r")
            await wait_for(pilot, lambda: app.screen.query(Input), what="the reason dialog")
            app.screen.query_one("#text", Input).value = "手机丢失"
            await pilot.press("enter")
            await wait_for(pilot, lambda: read_generations(phones.generations_file(folder)).get("gate-1") == 1,
                           what="the generation moved on")
            new = code_for(phones.secrets(folder)["gate-1"], "gate-1", 1)
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][1] == new, what="the new code")
            await wait_for(pilot, lambda: call(running.url, "/api/page", None, cookie)[0] == 401, timeout=5,
                           what="the phone refused")
            notes = await wait_for(pilot, lambda: [json.loads(r[5])["text"] for r in
                                                   log_rows(folder.db(), "type = ? AND station = ?", ("note", "desk-1"))],
                                   what="the revoke in the log")
            assert notes == ["已撤销东门岗的手机配对（换新配对码）：手机丢失"] and new not in notes[0]
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][2] == "0", what="no phone left")
    finally:
        running.stop()
        hub.stop()


# --- snapshots: a fixed list, in both languages, at 80x24 and 160x48 ----------------------------------------

ROWS = [PhoneRow("gate-1", "东门岗", "East gate", "306025", 0, 2, T0 - 600_000),
        PhoneRow("gate-2", "西门岗", "West gate", "440456", 1, 0, 0),
        PhoneRow("parking-1", "地面停车场岗", "Surface lot", "115022", 0, 1, T0 - 60_000),
        PhoneRow("lobby-1", "大堂", "Lobby", "020695", 0, 0, 0)]


def fixed_desk(lang: str) -> DeskApp:
    app = DeskApp(state=duty_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    app.phones_source = PhonesSource(lambda: (ROWS, ["http://127.0.0.1:8800/"]), lambda station: "")
    return app


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pairing_screen(snap_compare, lang, size):
    assert snap_compare(fixed_desk(lang), run_before=settled("h"), terminal_size=size)
