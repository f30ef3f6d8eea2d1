"""A tap's own answer brings the tapping page its report settled: the page draws once per tap, and its own long poll
is not answered for what the answer brought, while the other phones of the post are.

A real hub and the station server in this process, phones as plain HTTP (the page's own requests) and one in
Debian's chromium at 390x844."""
from __future__ import annotations

import re
import threading
import time

import pytest

from console.stations_serve import build_server
from stations.web.running import run_in_thread as web_thread
from stations.web.station import TAP_WAIT_S
from tests.conftest import make_event
from tests.test_phones_browser import CHROMIUM, CJK, call, pair, phone
from tests.test_phones_browser import browser, venue  # noqa: F401  (its chromium, hub and server: fixtures)

pytestmark = pytest.mark.timeout(120)


def paired_cookie(running, server, station: str) -> str:
    status, _answer, set_cookie = call(running.url, "/api/pair", {"code": server.pairings.code(station)})
    assert status == 200, status
    return set_cookie.split(";", 1)[0]


class Poll(threading.Thread):
    """A page's long poll, as its page makes it, asked again (from the version each answer brings) until `until`
    holds for an answer or `rounds` answers came: the last answer."""

    def __init__(self, url: str, cookie: str, page: str, seen: int, until=lambda answer: True, rounds: int = 1) -> None:
        super().__init__(daemon=True)
        self.url, self.cookie, self.page, self.seen, self.until, self.rounds = url, cookie, page, seen, until, rounds
        self.answer = None
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + 10
        for _ in range(self.rounds):
            self.answer = call(self.url, f"/api/page?v={self.seen}&p={self.page}", None, self.cookie)[1]
            self.seen = self.answer["v"]
            if self.until(self.answer) or time.monotonic() > deadline:
                return


def settled_version(running, cookie: str, page: str, seq: int) -> int:
    """The page's version once report `seq` shows delivered (the pairing's own report, say): what a page has."""
    seen, deadline = 0, time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = call(running.url, f"/api/page?v={seen}&p={page}", None, cookie)[1]
        seen = shown["v"]
        if all(r["state"] == "delivered" for r in shown["page"]["reports"] if r["seq"] <= seq):
            return seen
    raise AssertionError("the pairing's report was not delivered in 10 s")


def test_the_tap_answer_brings_the_delivered_row_and_the_tappers_own_poll_waits_for_the_next_change(venue):  # noqa: F811
    _folder, _hub, server, running = venue
    tapper, teammate = paired_cookie(running, server, "parking-1"), paired_cookie(running, server, "parking-1")
    settled_version(running, tapper, "tappera1", 2)   # #1, #2: the two phones' pairings, logged
    # The link's own changes (its status) may wake the tapper's poll before the tap: then it proves nothing, and
    # the round is taken again.
    for _ in range(5):
        seen = call(running.url, "/api/page?v=0&p=tappera1", None, tapper)[1]["v"]   # v=0: at once, as it is
        mine = Poll(running.url, tapper, "tappera1", seen)
        theirs = Poll(running.url, teammate, "mateb123", seen, rounds=50,
                      until=lambda a: any(r["state"] == "delivered" and r["seq"] > 2 for r in a["page"]["reports"]))
        status, answer, _ = call(running.url, "/api/tap", {"action": "lot_up", "p": "tappera1"}, tapper)
        assert status == 200 and answer["said"].startswith(f"已保存 #{answer['seq']}")
        now = answer["now"]
        assert now["paired"] and now["v"] == answer["v"] > seen
        row = now["page"]["reports"][0]
        assert (row["seq"], row["state"]) == (answer["seq"], "delivered"), row   # settled before the answer

        theirs.join(10)   # the teammate's page is woken for it
        assert theirs.answer is not None and theirs.answer["v"] >= now["v"]
        assert next(r for r in theirs.answer["page"]["reports"] if r["seq"] == row["seq"]) == row
        if mine.answer is None or mine.answer["v"] > now["v"]:
            break
        assert mine.answer["v"] < now["v"], "the tapper's own poll was answered for what its tap's answer brought"
    else:
        raise AssertionError("the link kept changing: no round without another change before the tap")

    status, _other, _ = call(running.url, "/api/tap", {"action": "lot_up", "p": "mateb123"}, teammate)
    assert status == 200
    mine.join(10)   # the tapper's own poll was not answered for what its tap's answer brought, but for a later change
    assert mine.answer is not None and mine.answer["v"] > now["v"]


def test_a_page_without_its_own_word_is_still_woken_as_before(venue):  # noqa: F811
    """An older page (no id), or one whose tap's answer was lost: its long poll is answered for the tap's change."""
    _folder, _hub, server, running = venue
    cookie = paired_cookie(running, server, "lobby-1")
    seen = settled_version(running, cookie, "lobbypg1", 1)
    poll = Poll(running.url, cookie, "", seen, rounds=50,
                until=lambda a: any(r["state"] == "delivered" and r["seq"] > 1 for r in a["page"]["reports"]))
    status, answer, _ = call(running.url, "/api/tap", {"action": "enter"}, cookie)
    assert status == 200
    poll.join(10)
    assert poll.answer is not None and poll.answer["v"] >= answer["v"]
    assert poll.answer["page"]["reports"][0]["seq"] == answer["seq"]


def test_with_no_hub_the_tap_answer_still_comes_within_its_wait_and_shows_the_report_saved(tmp_path):
    folder = make_event(tmp_path / "event")
    server = build_server(folder, "zh")   # event.toml's endpoints: nobody listens there
    running = web_thread(server)
    try:
        cookie = paired_cookie(running, server, "gate-1")
        started = time.monotonic()
        status, answer, _ = call(running.url, "/api/tap", {"action": "car_in", "p": "nohubpg1"}, cookie)
        took = time.monotonic() - started
        assert status == 200 and answer["said"].startswith("已保存 #2")
        assert took < TAP_WAIT_S + 5   # the wait is bounded: the hub's silence costs the answer at most that
        row = answer["now"]["page"]["reports"][0]
        assert row["seq"] == 2 and row["state"] != "delivered"
    finally:
        running.stop()


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
def test_in_the_browser_saved_and_delivered_come_in_one_draw(venue, browser):  # noqa: F811
    _folder, _hub, server, running = venue
    ctx = phone(browser)
    page = ctx.new_page()
    pair(page, running.url, server.pairings.code("gate-1"))
    page.wait_for_selector(".keys button")
    # Every change to the page, as it happens: the flash line's text, and which rows show delivered.
    page.evaluate("""() => { window.draws = []; new MutationObserver(() => window.draws.push({
        flash: document.getElementById('flash').textContent,
        delivered: [...document.querySelectorAll('#reports li.delivered')].map(li => li.dataset.seq) }))
      .observe(document.getElementById('app'), { childList: true, subtree: true, attributes: true,
                                                 characterData: true }); }""")
    page.locator(".keys button", has_text="车辆入场").click()
    page.wait_for_function("() => document.getElementById('flash').textContent.includes('已保存 #')")
    seq = re.search(r"已保存 #(\d+)", page.inner_text("#flash")).group(1)
    page.locator(f"#reports li.delivered[data-seq='{seq}']").wait_for(timeout=10_000)
    draws = page.evaluate("window.draws")
    first = next(d for d in draws if f"已保存 #{seq}" in d["flash"])
    assert seq in first["delivered"], draws   # the line "saved" never shows before the row is delivered
    ctx.close()


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
def test_a_tap_answered_after_the_language_was_switched_leaves_the_page_in_the_new_language(venue, browser):  # noqa: F811
    """The tap's answer (its line and its page, made in Chinese) reaches the page only after 英文 was chosen: the page
    stays all English. (Its answer waits for the hub's ack, so a switch can come first.)"""
    _folder, _hub, server, running = venue
    ctx = phone(browser)
    page = ctx.new_page()
    pair(page, running.url, server.pairings.code("parking-1"))
    page.wait_for_selector(".keys button")
    held = []
    page.route("**/api/tap", lambda route: held.append((route, route.fetch())))   # answered now, heard later
    # Count the taps the page has finished with (its answer read, the page drawn).
    page.evaluate("() => { const was = tap; window.tapped = 0;"
                  " window.tap = async (...a) => { const r = await was(...a); window.tapped += 1; return r; }; }")
    with page.expect_request("**/api/tap"):
        page.get_by_role("button", name="停入 +1", exact=True).click()
    page.get_by_role("button", name="English").click()
    # At once: its long poll asks for everything, though the server has sent this page a newer version (in the
    # held answer) -- not after the long poll's 20 s.
    page.wait_for_selector("#link:has-text('connected to the system')", timeout=5000)
    route, answer = held[0]
    assert "已保存" in answer.json()["said"]                   # made before the switch, in Chinese
    route.fulfill(response=answer)
    page.wait_for_function("() => window.tapped === 1")
    shown = page.evaluate("""() => { const b = document.body.cloneNode(true);
        b.querySelectorAll('.switch').forEach(s => s.remove()); return b.innerText; }""")
    assert "Car in +1" in shown and not CJK.search(shown), shown
    ctx.close()
