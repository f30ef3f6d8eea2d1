"""Stations on phones in a real browser: Debian's chromium under Playwright at 390x844, one station server, one hub.

One browser and one hub for the module (it must stay well under a minute): pair the gate, tap 车辆入场,
see 已送达 #n and find the row in event.db; close the page and the desk still sees the gate online; a
second page shows the same list; a wrong code gets nothing; the language switch switches every word.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request

import pytest

from console.core.state import liveness
from console.desk.link import DeskLink
from console.hub.server import run_in_thread as hub_thread
from console.stations_serve import build_server
from stations.web.running import run_in_thread as web_thread
from tests.conftest import make_event
from tests.wire import set_hub_options, wait_for

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    """A hub on quick heartbeats (offline after 2 s of silence) and the station server in front of it."""
    folder = make_event(tmp_path_factory.mktemp("phones") / "event")
    set_hub_options(folder, heartbeat_s=0.2, late_s=1.0, offline_s=2.0)
    hub = hub_thread(folder)
    server = build_server(folder, "zh", endpoints=(hub.endpoint, hub.feed))
    running = web_thread(server)
    yield folder, hub, server, running
    running.stop()
    hub.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def phone(browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                               locale="zh-CN")


def pair(page, url: str, code: str) -> None:
    page.goto(url)
    page.fill("#code", code)
    page.click("button.go")


def paired(browser, venue, station: str):
    """A new phone paired with `station`: (its context, its page)."""
    _folder, _hub, server, running = venue
    ctx = phone(browser)
    page = ctx.new_page()
    pair(page, running.url, server.pairings.code(station))
    return ctx, page


def rows_in_log(folder, station: str) -> list[tuple[int, str]]:
    with sqlite3.connect(folder.db()) as db:
        return db.execute("SELECT gseq, type FROM events WHERE station = ? AND type NOT IN ('hello', 'heartbeat')",
                          (station,)).fetchall()


def call(url: str, path: str, body: dict | None = None, cookie: str = "") -> tuple[int, dict, str]:
    """(status, JSON answer, the cookie it set) of one request, as a phone's page makes it."""
    request = urllib.request.Request(url + path, json.dumps(body).encode() if body is not None else None,
                                     {"Content-Type": "application/json", "Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), ""


def api(url: str, path: str, body: dict | None = None, cookie: str = "") -> int:
    return call(url, path, body, cookie)[0]


def test_pair_the_gate_tap_car_in_and_find_it_in_the_log(venue, browser):
    folder, hub, server, running = venue
    ctx, page = paired(browser, venue, "gate-1")
    page.get_by_role("button", name="车辆入场", exact=True).click()
    page.wait_for_selector("#flash:has-text('已保存 #')")
    seq = int(re.search(r"#(\d+)", page.inner_text("#flash")).group(1))
    state = page.locator(f"#reports li[data-seq='{seq}'] .state")
    state.filter(has_text="已送达").wait_for(timeout=10_000)
    gseq = int(re.search(r"已送达 #(\d+)", state.inner_text()).group(1))
    assert (gseq, "car_in") in rows_in_log(folder, "gate-1")

    # Made for a phone: nothing wider than the screen, every key a big button.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    # Every key on screen is big; the duty keys folded under their own key are measured once it is opened
    # (a closed <details> lays out nothing: Chromium may give a patched key in it no height at all).
    shown = "bs => bs.filter(b => !b.closest('details:not([open])')).map(b => b.getBoundingClientRect().height)"
    heights = page.eval_on_selector_all(".keys button", shown)
    assert heights and min(heights) >= 56, heights
    page.click("details.duty summary")
    page.wait_for_selector("details.duty[open]")
    every = page.eval_on_selector_all(".keys button", shown)
    assert len(every) > len(heights) and min(every) >= 56, every
    page.click("details.duty summary")
    assert "已连接系统" in page.inner_text("#link")

    # A second page of the same phone shows the same list.
    second = ctx.new_page()
    second.goto(running.url)
    second.wait_for_selector(f"#reports li[data-seq='{seq}']:has-text('已送达 #{gseq}')")
    assert second.inner_text("#reports") == page.inner_text("#reports")

    # Every tab closed: the post stays online on the desk, its link lives in the server.
    ctx.close()
    desk = DeskLink("desk-1", hub.endpoint, hub.feed, folder.desk_key("desk-1"), folder.console_public,
                    folder.root / "desks" / "desk-1.outbox.db").start()
    try:
        assert desk.wait_ready(10)
        closed = desk.hub_now_ms()

        def heard() -> int:
            return desk.picture().state.stations["gate-1"]["last_heard_ms"]
        # Heard from more than offline_s (2 s) after every tab closed: a link that died with its tab
        # would be offline by then; this one is still talking, and the desk sees it online.
        wait_for(lambda: heard() > closed + 2500, 6, "the gate heard past offline_s with every tab closed")
        wait_for(lambda: liveness(desk.picture().state, "gate-1", desk.hub_now_ms()) == "online", 5,
                 "the gate online with every tab closed")
        # ...and the check can fail: with the gate's link stopped, the desk sees it go.
        server.terminals["gate-1"].client.stop()
        wait_for(lambda: liveness(desk.picture().state, "gate-1", desk.hub_now_ms()) == "offline", 6,
                 "the gate offline once its link stopped")
    finally:
        desk.close()


def test_a_wrong_code_gets_nothing(venue, browser):
    folder, _hub, server, running = venue
    wrong = next(c for c in ("000000", "111111", "222222") if c not in server.pairings.codes().values())
    before = rows_in_log(folder, "gate-2")
    ctx = phone(browser)
    page = ctx.new_page()
    pair(page, running.url, wrong)
    page.wait_for_selector("[role=alert]:has-text('配对码不对')")
    assert page.locator(".keys button").count() == 0 and page.locator("#reports").count() == 0
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
    assert api(running.url, "/api/tap", {"action": "car_in"}, cookie) == 401
    assert api(running.url, "/api/page", None, cookie) == 401
    ctx.close()
    assert rows_in_log(folder, "gate-2") == before


def test_the_language_switch_switches_every_word(venue, browser):
    ctx, page = paired(browser, venue, "parking-1")
    page.get_by_role("button", name="停入 +1", exact=True).click()
    page.wait_for_selector("#reports li .state:has-text('已送达')")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("#link:has-text('connected to the system')")
    page.wait_for_selector("#reports li .state:has-text('delivered')")
    shown = page.evaluate("""() => { const b = document.body.cloneNode(true);
        b.querySelectorAll('.switch').forEach(s => s.remove()); return b.innerText; }""")
    assert "Car in +1" in shown and not CJK.search(shown), shown
    assert page.get_by_role("button", name="中文").is_visible()
    # A reload keeps the language: it belongs to the pairing, not to the tab.
    page.reload()
    page.wait_for_selector("#link:has-text('connected to the system')")
    ctx.close()


def test_a_tap_is_saved_by_the_server_before_the_phone_hears_saved(tmp_path):
    """No hub at all: the phone is still told "saved" — because the server's outbox has the report."""
    folder = make_event(tmp_path / "event")
    server = build_server(folder, "zh")   # event.toml's endpoints: nobody listens there
    running = web_thread(server)
    try:
        status, _body, set_cookie = call(running.url, "/api/pair", {"code": server.pairings.code("lobby-1")})
        assert status == 200 and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        cookie = set_cookie.split(";", 1)[0]
        status, answer, _ = call(running.url, "/api/tap", {"action": "enter"}, cookie)
        assert status == 200 and answer["said"].startswith("已保存 #2")   # #1: the pairing, the station's own report
        with sqlite3.connect(folder.outbox("lobby-1")) as db:
            assert db.execute("SELECT seq, type, state FROM reports").fetchall() == [
                (1, "phone_paired", "saved"), (2, "zone_enter", "saved")]
        _status, shown, _ = call(running.url, "/api/page?v=0", None, cookie)
        assert shown["page"]["reports"][0]["state_text"] == "已保存（本机）"
        assert "待发" in shown["page"]["link"]["text"]
    finally:
        running.stop()


def test_a_form_sends_its_fields_and_a_refusal_keeps_what_was_typed(venue, browser):
    ctx, page = paired(browser, venue, "parking-2")
    page.get_by_role("button", name="校正已停车辆数", exact=True).click()
    page.fill("#field-occupied", "三十")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("form.sheet .problem:not(:empty)")
    assert page.input_value("#field-occupied") == "三十"       # nothing typed is lost
    assert page.locator("#reports li").count() == 1             # and nothing was saved: the pairing only
    page.fill("#field-occupied", "30")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#flash:has-text('已保存 #2')")   # after the pairing's own report
    assert "= 30" in page.inner_text("#flash") and page.locator("form.sheet").count() == 0
    ctx.close()


def test_a_form_being_typed_keeps_its_text_and_focus_while_another_phone_of_the_post_taps(venue, browser):
    # The page patches what changed (a new row) instead of rebuilding itself: the field being typed in
    # is never taken out of the page, so the keyboard stays up and the caret where it was.
    ctx_a, typing = paired(browser, venue, "concierge-2")
    ctx_b, other = paired(browser, venue, "concierge-2")
    typing.click("details.duty summary")
    typing.get_by_role("button", name="上岗签到…", exact=True).click()
    field = typing.locator("form.sheet input[type=text]").first
    field.fill("王")
    rows = typing.locator("#reports li").count()
    first_row = typing.eval_on_selector("#reports li", "li => (window.firstRow = li, li.dataset.seq)")
    other.get_by_role("button", name="来宾 +1", exact=True).click()
    other.wait_for_selector("#flash:has-text('已保存 #')")
    typing.wait_for_function(f"document.querySelectorAll('#reports li').length > {rows}")
    typing.wait_for_selector("#reports li.delivered >> nth=0")
    assert typing.evaluate("document.activeElement === document.querySelector('form.sheet input[type=text]')")
    field.type("芳")
    assert field.input_value() == "王芳"
    # The row that was there is the same node, moved down: patched, not drawn anew.
    assert typing.evaluate(f"window.firstRow.isConnected && window.firstRow.dataset.seq === '{first_row}'")
    ctx_a.close()
    ctx_b.close()


# The page as the server says it now (fetched afresh), beside the page as drawn: keys and report rows.
# A draw reuses the rows and keys whose data did not change (stand-ins in the new draw, swapped for the
# nodes on the page); nothing of that may show: every row and key as the server says, no stand-in left.
SHOWN_VS_SAID = """async () => {
  const r = await fetch('/api/page?' + new URLSearchParams({ v: 0, area: S.area, lang: S.lang }));
  const p = (await r.json()).page;
  const keys = ['keys', 'duty'].flatMap(g => p.actions.filter(a => a.group === g))
    .map(a => [a.id, a.label, a.refused ? 'refused' : '']);
  const rows = p.reports.map(r => [String(r.seq), r.state, r.state_text, r.time + ' #' + r.seq, r.what]);
  const shownKeys = [...document.querySelectorAll('.keys button')]
    .map(b => [b.dataset.action, b.textContent, b.className]);
  const shownRows = [...document.querySelectorAll('#reports li')].map(li => [li.dataset.seq, li.className,
    li.querySelector('.state').textContent, li.querySelector('.meta').textContent, li.children[2].textContent]);
  const walker = document.createTreeWalker(document.getElementById('app'), NodeFilter.SHOW_COMMENT);
  let standIns = 0;
  while (walker.nextNode()) standIns++;
  return { keys, shownKeys, rows, shownRows, standIns };
}"""


def test_a_page_redrawn_from_its_last_draw_shows_just_what_the_server_says(venue, browser):
    ctx_a, viewer = paired(browser, venue, "concierge-1")
    ctx_b, tapper = paired(browser, venue, "concierge-1")
    viewer.wait_for_selector(".keys button")

    def same_as_said(lang: str) -> None:
        got = viewer.evaluate(SHOWN_VS_SAID)
        assert got["standIns"] == 0
        assert got["shownKeys"] == got["keys"] and len(got["keys"]) > 3, got
        assert got["shownRows"] == got["rows"] and got["rows"], got
        assert all(CJK.search(row[2]) for row in got["shownRows"]) == (lang == "zh"), got["shownRows"]

    key = "来宾 +1"
    for lang in ("zh", "en"):
        for _ in range(3):
            rows = viewer.locator("#reports li").count()
            tapper.get_by_role("button", name=key, exact=True).click()
            viewer.wait_for_function(f"document.querySelectorAll('#reports li').length > {rows}")
            viewer.wait_for_selector("#reports li.delivered >> nth=0")
            viewer.wait_for_function("![...document.querySelectorAll('#reports li')].some(li => !li.matches('.delivered'))")
            same_as_said(lang)
        # A form over the keys and closed again: the keys come back whole.
        if not viewer.locator("details.duty[open]").count():
            viewer.click("details.duty summary")
        viewer.locator("details.duty .keys button").first.click()
        viewer.wait_for_selector("form.sheet")
        viewer.locator("form.sheet button.cancel").click()
        viewer.wait_for_selector("form.sheet", state="detached")
        same_as_said(lang)
        if lang == "zh":   # every word changes: every kept row and key is drawn anew
            viewer.get_by_role("button", name="English").click()
            viewer.wait_for_selector("#link:has-text('connected to the system')")
            tapper.get_by_role("button", name="English").click()
            tapper.wait_for_selector("#link:has-text('connected to the system')")
            key = tapper.locator(".keys button").first.inner_text()
            same_as_said("en")
    ctx_a.close()
    ctx_b.close()


def test_a_revoke_sends_a_paired_phone_back_to_the_pairing_page(venue, browser):
    from console import cli
    folder, _hub, server, running = venue
    ctx, page = paired(browser, venue, "gate-2")
    page.wait_for_selector(".keys button")
    old = server.pairings.code("gate-2")
    assert cli.main(["stations", "revoke", str(folder.root), "gate-2"]) == 0
    page.wait_for_selector("#code", timeout=5000)               # the waiting page was answered: pair again
    assert page.locator(".keys button").count() == 0
    assert server.pairings.code("gate-2") != old
    ctx.close()


def test_a_taken_port_is_one_sentence_and_exit_4(venue):
    import subprocess
    import sys
    folder, _hub, _server, running = venue
    done = subprocess.run([sys.executable, "-m", "console.cli", "stations", "serve", str(folder.root),
                           "--host", "127.0.0.1", "--port", str(running.port), "--lang", "en"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip() == f"eventdesk: 127.0.0.1:{running.port} is already in use (another station " \
                                  "server?); pick another with --port"


def test_the_command_prints_where_and_the_codes_and_stops_cleanly_on_sigterm(venue):
    import signal
    import subprocess
    import sys
    from tests.conftest import free_port
    folder, _hub, server, _running = venue
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "stations", "serve", str(folder.root),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl+C"):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        shown = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in shown
        assert f"东门岗  配对码 {server.pairings.code('gate-1')}" in shown
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_revokes_still_reach_the_server_when_the_desk_list_cannot_be_written(tmp_path):
    folder = make_event(tmp_path / "event")
    server = build_server(folder, "zh")
    server.paired_file = tmp_path / "no-such-folder" / "phones-paired.json"   # every write fails
    running = web_thread(server)
    try:
        status, _body, set_cookie = call(running.url, "/api/pair", {"code": server.pairings.code("gate-1")})
        cookie = set_cookie.split(";", 1)[0]
        assert status == 200 and api(running.url, "/api/page?v=0", None, cookie) == 200
        from console.event import phones
        phones.revoke(folder, "gate-1")
        wait_for(lambda: api(running.url, "/api/page?v=0", None, cookie) == 401, 5, "the revoke reaching the server")
    finally:
        running.stop()
