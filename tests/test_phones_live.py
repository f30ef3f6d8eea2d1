"""What was left of phones (issue 18), in Debian's chromium at 390x844: pairings that outlive a restart of the
station server (a real subprocess, real signals), the desk's preparation changes reaching an open page, the guest
list and the service calls on the phone -- each through a real hub."""
from __future__ import annotations

import json
import re
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from console import cli
from console.hub.server import run_in_thread as hub_thread
from console.stations_serve import build_server
from stations.link.client import StationClient
from stations.web.running import run_in_thread as web_thread
from tests.conftest import free_port, make_event
from tests.test_phones_browser import CHROMIUM, pair, phone, rows_in_log
from tests.test_phones_browser import browser  # noqa: F401  (the module's chromium, a fixture)
from tests.wire import set_hub_options, wait_for

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"),
              pytest.mark.timeout(120)]
GUESTS = Path(__file__).resolve().parent.parent / "console" / "event" / "sample_guests.csv"


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    """The sample event with its guest list, a hub, and the station server in front of it (in this process)."""
    folder = make_event(tmp_path_factory.mktemp("phones-live") / "event")
    set_hub_options(folder, heartbeat_s=0.2, late_s=1.0, offline_s=2.0)
    assert cli.main(["guests", "import", str(folder.root), str(GUESTS)]) == 0
    hub = hub_thread(folder)
    server = build_server(folder, "zh", endpoints=(hub.endpoint, hub.feed))
    running = web_thread(server)
    desk = StationClient("desk-2", folder.root / "desk-2.outbox.db", folder.desk_key("desk-2"), folder.console_public,
                         hub.endpoint, role="desk", heartbeat_ms=200).start()
    yield folder, server, running, desk
    desk.close()
    running.stop()
    hub.stop()


def paired(browser, venue, station: str):  # noqa: F811
    _folder, server, running, _desk = venue
    ctx = phone(browser)
    page = ctx.new_page()
    pair(page, running.url, server.pairings.code(station))
    page.wait_for_selector(".keys button")
    page.evaluate("window.notReloaded = true")   # gone if anything below reloads the page
    return ctx, page


def saved(page, press) -> int:
    """Press (a click), then wait for a new "saved #n" line: n."""
    old = page.inner_text("#flash")
    press()
    page.wait_for_function("old => { const t = document.getElementById('flash').textContent;"
                           " return t !== old && t.includes('已保存 #'); }", arg=old)
    return int(re.search(r"已保存 #(\d+)", page.inner_text("#flash")).group(1))


def delivered(page, seq: int) -> None:
    page.locator(f"#reports li.delivered[data-seq='{seq}']").wait_for(timeout=10_000)


def desk_does(desk: StationClient, type_: str, body: dict) -> int:
    """A desk action, committed by the hub: its gseq."""
    sent = desk.wait_delivered(desk.submit(type_, body).seq, 10)
    assert sent.gseq, sent
    return sent.gseq


def test_the_desks_task_changes_reach_an_open_page_without_a_reload(venue, browser):  # noqa: F811
    folder, _server, _running, desk = venue
    at = folder.load().at_ms
    ctx, page = paired(browser, venue, "eng-1")
    page.click("details.duty summary")
    gseq = desk_does(desk, "task_add", {"title": "检查备用发电机", "department": "engineering",
                                        "due_ms": at("07:00"), "blocking": False})
    task = page.locator(f"details.duty button[data-action='task-T{gseq}']")
    task.filter(has_text="检查备用发电机 · 07:00 前").wait_for(timeout=10_000)

    desk_does(desk, "task_change", {"task": f"T{gseq}", "due_ms": at("07:45"), "note": "推迟"})
    task.filter(has_text="07:45 前").wait_for(timeout=10_000)
    desk_does(desk, "task_change", {"task": f"T{gseq}", "department": "environment"})
    task.wait_for(state="detached", timeout=10_000)   # given to another department: it leaves this one
    assert page.evaluate("window.notReloaded") is True
    ctx.close()


def test_guest_look_up_and_check_in_on_the_phone(venue, browser):  # noqa: F811
    folder, _server, _running, _desk = venue
    ctx, page = paired(browser, venue, "concierge-1")
    page.get_by_role("button", name="来宾名单", exact=True).click()
    page.fill("#guest-query", "zmy")   # pinyin initials, as on the terminal's F7
    row = page.locator("#guests li[data-ref='V-001'] button.guest")
    # The answer to "zmy": the sheet opened on the whole list, whose rows include this one too.
    page.wait_for_function("() => document.querySelectorAll('#guests li').length === 1", timeout=10_000)
    row.filter(has_text="张明远").wait_for(timeout=10_000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390   # nothing wider than the phone
    height = row.bounding_box()["height"]
    assert height >= 56, height
    row.click()
    assert page.input_value("#field-party_size") == "3"     # the list's party, to confirm
    page.fill("#field-party_size", "2")
    delivered(page, saved(page, lambda: page.get_by_role("button", name="提交").click()))
    with sqlite3.connect(folder.db()) as db:
        bodies = [json.loads(b) for (b,) in db.execute(
            "SELECT body FROM events WHERE station = 'concierge-1' AND type = 'guest_checkin'")]
    assert [(b["guest_ref"], b["party_size"]) for b in bodies] == [("V-001", 2)]

    # The list says so now, in English as well.
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("#link:has-text('connected to the system')")
    page.get_by_role("button", name="Guest list", exact=True).click()
    page.fill("#guest-query", "V-001")
    page.locator("#guests li[data-ref='V-001']").filter(has_text="[checked in]").wait_for(timeout=10_000)
    page.fill("#guest-query", "nobody at all")
    page.wait_for_selector("#guests li:has-text('No guest matches')")
    ctx.close()


def test_a_service_call_raised_on_one_phone_is_taken_and_done_on_anothers(venue, browser):  # noqa: F811
    lobby_ctx, lobby = paired(browser, venue, "lobby-1")
    lobby.get_by_role("button", name="服务需求", exact=True).click()
    lobby.fill("#field-where", "A区")
    saved(lobby, lambda: lobby.get_by_role("button", name="提交").click())
    mine = lobby.locator("#calls li.call").filter(has_text="饮品（A区）")
    mine.filter(has_text="待处理").wait_for(timeout=10_000)   # delivered: the desk has it, nobody took it yet

    # Drinks go to Customer Service (the sample's [services]): its terminal on another phone takes it.
    svc_ctx, svc = paired(browser, venue, "service-1")
    routed = svc.locator("#calls li.call").filter(has_text="饮品")
    routed.locator("button.take").click(timeout=10_000)
    svc.wait_for_selector("#flash:has-text('已接单')")
    routed.filter(has_text="已接单").locator("button.done").click(timeout=10_000)
    svc.wait_for_selector("#flash:has-text('已标记完成')")
    routed.filter(has_text="已完成").wait_for(timeout=10_000)
    mine.filter(has_text="已完成").wait_for(timeout=10_000)   # the lobby's page heard it, without a reload
    # A call done is not taken again: refused in words, whatever a page sends.
    again = svc.evaluate("""async id => { const r = await fetch('/api/call', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id, do: 'take' }) });
        return [r.status, (await r.json()).error]; }""", int(routed.get_attribute("data-call")))
    assert again == [409, "只有派给本岗位、尚未接单的需求可以接单。"], again
    assert lobby.evaluate("window.notReloaded") is True
    heights = svc.eval_on_selector_all("#calls button", "bs => bs.map(b => b.getBoundingClientRect().height)")
    assert all(h >= 56 for h in heights), heights
    assert svc.evaluate("document.scrollingElement.scrollWidth") <= 390
    for ctx in (lobby_ctx, svc_ctx):
        ctx.close()


# --- a restart of the station server (a real subprocess) keeps its pairings ---------------------------------

def start_server(folder, port: int, log: Path) -> subprocess.Popen:
    """`eventdesk stations serve` as a subprocess, once it listens (`log`: a new file for each start)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "stations", "serve", str(folder.root),
                                 "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: b"Ctrl+C" in log.read_bytes() or proc.poll() is not None, 30, "the station server listening")
    assert proc.poll() is None, log.read_text("utf-8", "replace")
    return proc


def test_pairings_outlive_a_restart_of_the_server_and_a_revoke_made_meanwhile_holds(tmp_path, browser):  # noqa: F811
    folder = make_event(tmp_path / "event")
    set_hub_options(folder, heartbeat_s=0.2, late_s=1.0, offline_s=2.0)
    hub = hub_thread(folder)
    port, logs = free_port(), iter(tmp_path / f"server-{n}.log" for n in range(3))
    url = f"http://127.0.0.1:{port}"
    codes = build_server(folder, "zh").pairings.codes()
    proc = start_server(folder, port, next(logs))
    ctxs = []
    try:
        pages = {}
        for station in ("gate-1", "gate-2"):
            ctx = phone(browser)
            ctxs.append(ctx)
            pages[station] = ctx.new_page()
            pair(pages[station], url, codes[station])
            pages[station].wait_for_selector(".keys button")
            pages[station].evaluate("window.notReloaded = true")
        kept = folder.root / "phones-sessions.json"
        wait_for(kept.exists, 5, "the sessions kept")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        cookies = [c["value"] for ctx in ctxs for c in ctx.cookies()]
        assert cookies and not any(c in kept.read_text() for c in cookies)   # a digest of each token, never it

        proc.send_signal(signal.SIGKILL)   # no clean stop: what was kept at pairing is all there is
        proc.wait(10)
        pages["gate-1"].wait_for_selector("#link:has-text('连不上岗位服务器')", timeout=10_000)
        assert cli.main(["stations", "revoke", str(folder.root), "gate-2"]) == 0   # while the server is down
        proc = start_server(folder, port, next(logs))

        gate = pages["gate-1"]   # the same page, no new code: it taps and the report is delivered
        gate.locator("#link").filter(has_text="已连接系统").wait_for(timeout=15_000)
        delivered(gate, saved(gate, lambda: gate.get_by_role("button", name="车辆入场", exact=True).click()))
        assert gate.evaluate("window.notReloaded") is True
        pages["gate-2"].wait_for_selector("#code", timeout=15_000)   # revoked meanwhile: the pairing page
        assert pages["gate-2"].locator(".keys button").count() == 0
        wait_for(lambda: ("phone_unpaired" in [t for _g, t in rows_in_log(folder, "gate-2")]), 10,
                 "the revoke's unpairing logged")

        proc.send_signal(signal.SIGTERM)   # a clean stop too keeps it paired
        assert proc.wait(20) == 0
        proc = start_server(folder, port, next(logs))
        delivered(gate, saved(gate, lambda: gate.get_by_role("button", name="车辆入场", exact=True).click()))
        assert gate.locator("#code").count() == 0
    finally:
        for ctx in ctxs:
            ctx.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        hub.stop()


def test_a_department_phone_confirms_and_skips_its_plan_steps(venue, browser):  # noqa: F811
    """The department terminal's D and K on the phone: each plan task given to the department, its order and two big
    keys at 390x844; done saves a plan_step at once (and acks the order), skip asks why first."""
    folder, _server, _running, desk = venue
    ctx, page = paired(browser, venue, "eng-1")
    started = desk_does(desk, "plan_start", {"plan": "power_outage", "note": ""})
    steps = page.locator("#steps li.step")
    steps.nth(1).wait_for(timeout=10_000)   # standby_power and lift_check are engineering's
    assert "电梯" in steps.nth(1).inner_text() and "停电应急预案" in steps.nth(0).inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    for button in steps.nth(0).locator("button").all():
        box = button.bounding_box()
        assert box["height"] >= 56 and box["width"] >= 140, box

    def said(words: str) -> None:
        page.locator("#flash").filter(has_text=words).wait_for(timeout=10_000)

    steps.nth(0).get_by_role("button", name="确认本岗任务完成").click()
    said("已保存：任务完成")
    steps.filter(has_text="备用电源").wait_for(state="detached", timeout=10_000)   # settled: it leaves the list
    steps.first.get_by_role("button", name="跳过本岗任务").click()
    page.fill("#field-reason", "电梯已停用")
    page.get_by_role("button", name="提交").click()
    said("已保存：任务已跳过")
    steps.filter(has_text="电梯").wait_for(state="detached", timeout=10_000)

    def logged() -> list[dict]:
        with sqlite3.connect(folder.db()) as db:
            return [json.loads(b) for (b,) in db.execute(
                "SELECT body FROM events WHERE station = 'eng-1' AND type = 'plan_step' ORDER BY gseq")]
    wait_for(lambda: len(logged()) == 2, 10, "both steps in the log")
    assert [(b["step"], b["status"], b.get("reason", "")) for b in logged()] == [
        ("standby_power", "done", ""), ("lift_check", "skipped", "电梯已停用")]
    assert len({b["run"] for b in logged()}) == 1 and logged()[0]["run"] > started   # the run the desk started
    ctx.close()
