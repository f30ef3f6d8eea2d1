"""The desk's pairing screen (h): codes as text and QR, the phones paired now, revoke (logged) — Pilot on a real hub and station server, and snapshots."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import asynccontextmanager

import pytest
from textual.widgets import DataTable, Input, Static

from console.core.state import apply, new_state
from console.desk.app import DeskApp
from console.desk.link import DeskLink
from console.desk.screens.phones import PhonesScreen, PhonesSource
from console.event import phones
from console.event.phones import PhoneRow
from console.hub.server import run_in_thread
from console.hub.store import Row
from console.stations_serve import build_server
from protocols.pairing import code_for, read_generations
from stations.web.running import run_in_thread as web_thread
from tests.duty_fixture import duty_state
from tests.desk_support import T0, aio, settled, wait_for
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
async def desk_on(folder, hub, lang: str, attach: bool = False):
    """A desk on the hub: with the event folder here (codes, the generations file), or `--attach` (neither)."""
    link = DeskLink("desk-1", hub.endpoint, hub.feed, folder.desk_key("desk-1"), folder.console_public,
                    folder.root / "desks" / "desk-1.outbox.db")
    app = DeskApp(link=link, state=new_state(folder.load().summary()), lang=lang, desk="desk-1")
    if not attach:
        app.phones_source = PhonesSource(lambda: phones.rows(folder), lambda s, gen: phones.revoke(folder, s, gen))
    link.on_action = app.action_finished
    link.start()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.current_view and app.current_view.version > 0, what="the first picture")
            yield app, pilot
    finally:
        link.close()


@asynccontextmanager
async def venue(folder):
    """A hub and the station server in front of it, its addresses set as the CLI sets them."""
    hub = run_in_thread(folder)
    server = build_server(folder, "zh", endpoints=(hub.endpoint, hub.feed))
    server.urls = ["http://127.0.0.1:8800/"]
    running = web_thread(server)
    try:
        yield hub, server, running
    finally:
        running.stop()
        hub.stop()


def logged(folder, type_: str, station: str) -> list[dict]:
    return [json.loads(r[5]) for r in log_rows(folder.db(), "type = ? AND station = ?", (type_, station))]


async def revoke(app, pilot, reason: str) -> None:
    await pilot.press("r")
    await wait_for(pilot, lambda: app.screen.query(Input), what="the reason dialog")
    app.screen.query_one("#text", Input).value = reason
    await pilot.press("enter")


@aio
async def test_codes_phones_and_a_logged_revoke(event_dir):
    folder = event_dir
    async with venue(folder) as (hub, server, running):
        code = server.pairings.code("gate-1")
        status, cookie = call(running.url, "/api/pair", {"code": code})
        assert status == 200
        async with desk_on(folder, hub, "zh") as (app, pilot):
            await pilot.press("h")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, PhonesScreen) and app.screen.shown
                                    and app.screen, what="the pairing screen with its rows")
            table = screen.query_one("#phones-list", DataTable)
            first = [str(c) for c in table.get_row_at(0)]
            assert first[:2] == ["东门岗", code]
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][2] == "1", what="one phone paired")
            qr = str(screen.query_one("#phones-qr", Static).render())
            assert f"东门岗  {code}" in qr and "█" in qr
            assert "http://127.0.0.1:8800/" in str(screen.query_one("#phones-line", Static).render())

            await revoke(app, pilot, "手机丢失")
            await wait_for(pilot, lambda: read_generations(phones.generations_file(folder)).get("gate-1") == 1,
                           what="the generation moved on")
            new = code_for(phones.secrets(folder)["gate-1"], "gate-1", 1)
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][1] == new, what="the new code")
            await wait_for(pilot, lambda: call(running.url, "/api/page", None, cookie)[0] == 401, timeout=5,
                           what="the phone refused")
            revokes = await wait_for(pilot, lambda: logged(folder, "phone_revoke", "desk-1"), what="the revoke logged")
            assert revokes == [{"station": "gate-1", "generation": 1, "reason": "手机丢失"}]
            assert logged(folder, "note", "desk-1") == []   # an action of its own now, not a note
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(0)][2] == "0", what="no phone left")
            # The station server logged the pairing and its end; the log never holds the code.
            (paired,) = await wait_for(pilot, lambda: logged(folder, "phone_paired", "gate-1"), what="the pairing")
            ended = await wait_for(pilot, lambda: logged(folder, "phone_unpaired", "gate-1"), what="its end")
            assert ended == [{"phone": paired["phone"], "why": "revoked"}] and paired["at_ms"] > 0
            assert code not in json.dumps(log_rows(folder.db())) and new not in json.dumps(log_rows(folder.db()))


@aio
async def test_a_desk_without_the_folder_lists_phones_from_the_log_and_revokes_through_the_hub(event_dir):
    folder = event_dir
    async with venue(folder) as (hub, server, running):
        status, cookie = call(running.url, "/api/pair", {"code": server.pairings.code("gate-2")})
        assert status == 200
        async with desk_on(folder, hub, "en", attach=True) as (app, pilot):
            await pilot.press("h")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, PhonesScreen) and app.screen.shown
                                    and app.screen, what="the pairing screen with its rows")
            table = screen.query_one("#phones-list", DataTable)
            assert [str(c) for c in table.get_row_at(0)][:3] == ["East gate", "—", "0"]   # no code without the keys
            assert "listed from the log" in str(screen.query_one("#phones-line", Static).render())
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(1)][2] == "1", what="the phone listed")
            await pilot.press("down")
            await revoke(app, pilot, "lost")
            # Only the hub carries it: the server refuses the phone, and moves the folder's file on itself.
            await wait_for(pilot, lambda: call(running.url, "/api/page", None, cookie)[0] == 401, timeout=5,
                           what="the phone refused")
            assert server.pairings.generations["gate-2"] == 1
            await wait_for(pilot, lambda: read_generations(phones.generations_file(folder)).get("gate-2") == 1,
                           what="the server's file moved on")
            assert logged(folder, "phone_revoke", "desk-1") == [{"station": "gate-2", "generation": 1, "reason": "lost"}]
            await wait_for(pilot, lambda: [str(c) for c in table.get_row_at(1)][2] == "0", what="no phone left")


# --- snapshots: a fixed list, in both languages, at 80x24 and 160x48 ----------------------------------------

ROWS = [PhoneRow("gate-1", "东门岗", "East gate", "306025", 0, 2, T0 - 600_000),
        PhoneRow("gate-2", "西门岗", "West gate", "440456", 1, 0, 0),
        PhoneRow("parking-1", "地面停车场岗", "Surface lot", "115022", 0, 1, T0 - 60_000),
        PhoneRow("lobby-1", "大堂", "Lobby", "020695", 0, 0, 0)]


def phones_state():
    """The duty morning with the phones the station server logged: two at the east gate, one at the surface lot."""
    state = duty_state()
    for station, phone, at in (("gate-1", "a1", T0 - 900_000), ("gate-1", "b2", T0 - 600_000),
                               ("parking-1", "c3", T0 - 60_000)):
        gseq = state.gseq + 1
        apply(state, Row(gseq, station, "ep", gseq, "phone_paired", at, at, {"phone": phone, "at_ms": at}))
    return state


def fixed_desk(lang: str) -> DeskApp:
    app = DeskApp(state=phones_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    app.phones_source = PhonesSource(lambda: (ROWS, ["http://127.0.0.1:8800/"]), lambda station, gen: "")
    return app


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pairing_screen(snap_compare, lang, size):
    assert snap_compare(fixed_desk(lang), run_before=settled("h"), terminal_size=size)
