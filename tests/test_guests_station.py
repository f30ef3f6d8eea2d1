"""The terminal's side of guests and duty (Textual Pilot, no desk needed): look a guest up by pinyin initials and
check them in with the party size, sign in and sign a task off from F8, and a VIP notice shown before anything else."""
from __future__ import annotations

import pytest

from stations.terminal.posts import duty
from stations.terminal.posts.base import Site
from stations.terminal.screens.duty import DutyScreen
from stations.terminal.screens.form import ReportForm
from stations.terminal.screens.guests import GuestScreen
from tests.test_guests_handoff import LIST, guest
from tests.station_support import aio, make_app, make_client, type_text, until

pytestmark = pytest.mark.timeout(60)


def reports(client) -> list[tuple[str, dict]]:
    return [(r.type, r.body) for r in reversed(client.outbox.recent(50))]


@aio
async def test_look_a_guest_up_by_initials_and_check_them_in(event_dir):
    client = make_client(event_dir, "concierge-1")
    client.outbox.replace_guests("d1", LIST)
    app = make_app(event_dir, client, "zh", start_client=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f7")
            assert isinstance(app.screen, GuestScreen)
            await type_text(pilot, "zs")
            await until(pilot, lambda: [g["ref"] for g in app.screen.found] == ["V-01"], what="the match")
            await pilot.press("enter")
            assert isinstance(app.screen, ReportForm)
            assert "张三" in app.screen.title_text and "A 级" in app.screen.title_text
            await pilot.press("enter")                              # the list's party size, 3
            await until(pilot, lambda: reports(client), what="the check-in saved")
            assert reports(client) == [("guest_checkin", {"guest_ref": "V-01", "name": "张三", "party_size": 3,
                                                          "vip_level": "A"})]
            await pilot.press("f7")
            lines = {g["ref"]: app.screen.line(g).plain for g in app.screen.guests}
            assert "[已签到]" in lines["V-01"] and "[已签到]" not in lines["V-02"]   # this terminal checked V-01 in
    finally:
        client.close()


@pytest.mark.pure
def test_search_matches_reference_name_initials_pinyin_and_organisation() -> None:
    guests = LIST + [guest("G-09", "曾国藩", org="湖南省政府")]
    assert [g["ref"] for g in duty.search(guests, "v-02")] == ["V-02"]
    assert [g["ref"] for g in duty.search(guests, "zgf")] == ["G-09"]       # 曾 as a surname
    assert [g["ref"] for g in duty.search(guests, "cgf")] == ["G-09"]
    assert [g["ref"] for g in duty.search(guests, "lisi")] == ["V-02"]
    assert [g["ref"] for g in duty.search(guests, "发改")] == ["V-01"]
    assert [g["ref"] for g in duty.search(guests, "王")] == ["G-01"]
    assert len(duty.search(guests, "")) == len(guests)
    assert duty.search(guests, "nobody") == []


@aio
async def test_sign_in_and_sign_a_task_off_from_the_duty_screen(event_dir):
    client = make_client(event_dir, "gate-1")
    app = make_app(event_dir, client, "en", start_client=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f8")
            assert isinstance(app.screen, DutyScreen)
            assert "nobody signed in" in app.screen.facts().plain and "王强 (S101) from 08:30" in app.screen.facts().plain
            await pilot.press("enter")                              # "Sign in…": the roster's staff number first
            assert isinstance(app.screen, ReportForm)
            await pilot.press("enter")
            await until(pilot, lambda: reports(client), what="the sign-in saved")
            assert reports(client) == [("staff_signin", {"name": "王强", "staff_no": "S101"})]
            app.redraw()
            await pilot.press("f8")
            assert "王强 (S101)" in app.screen.facts().plain
            tasks = [i for i, opt in enumerate(app.screen.query_one("#duty-list")._options) if opt.id == "task-engineering-power"]
            app.screen.query_one("#duty-list").highlighted = tasks[0]
            await pilot.press("enter")
            assert isinstance(app.screen, ReportForm) and "Inspect power distribution" in app.screen.title_text
            await type_text(pilot, "配电房正常")
            await pilot.press("enter")
            await until(pilot, lambda: len(reports(client)) == 2, what="the sign-off saved")
            assert reports(client)[-1] == ("task_signoff", {"task": "engineering-power", "note": "配电房正常", "person": "王强"})   # who signed in
            app.redraw()
            await pilot.press("f8")
            line = next(o for o in app.screen.query_one("#duty-list")._options if o.id == "task-engineering-power")
            assert line.prompt.plain.startswith("✓")
            signout = next(o for o in app.screen.query_one("#duty-list")._options if str(o.id).startswith("signout"))
            app.screen.query_one("#duty-list").highlighted = app.screen.query_one("#duty-list")._options.index(signout)
            await pilot.press("enter")
            await until(pilot, lambda: len(reports(client)) == 3, what="the sign-out saved")
            assert reports(client)[-1] == ("staff_signout", {"name": "王强", "staff_no": "S101"})
    finally:
        client.close()


@pytest.mark.pure
def test_a_stand_in_is_signed_in_by_what_they_type() -> None:
    site = Site("gate-1", "gate", roster=({"name": "王强", "staff_no": "S101", "from": "08:30"},))
    build = duty.signin_action(site).build
    assert build(site, {"who": "s101"}, None) == ("staff_signin", {"name": "王强", "staff_no": "S101"})
    assert build(site, {"who": "王强"}, None) == ("staff_signin", {"name": "王强", "staff_no": "S101"})
    assert build(site, {"who": "T900"}, None) == ("staff_signin", {"name": "", "staff_no": "T900"})
    assert build(site, {"who": "小刘"}, None) == ("staff_signin", {"name": "小刘", "staff_no": ""})
    assert duty.on_duty([("staff_signin", {"name": "a", "staff_no": "1"}), ("staff_signin", {"name": "b", "staff_no": ""}),
                         ("staff_signout", {"name": "", "staff_no": "1"})]) == [{"name": "b", "staff_no": ""}]


@aio
async def test_a_vip_notice_takes_the_banner(event_dir):
    client = make_client(event_dir, "parking-1")
    client.outbox.store_instruction(90, "all", "10:00 开始茶歇", True)
    client.outbox.store_instruction(91, "post.parking", "【贵宾到达】A级 张三一行3人", True, text_en="[VIP arriving] Level A",
                                    guest="V-01", notice="vip")
    app = make_app(event_dir, client, "en", start_client=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            app.redraw()
            await pilot.pause(0.1)
            banner = app.main.query_one("#banner")
            assert banner.has_class("-vip") and not banner.has_class("-pending")
            text = banner.render().plain
            assert text.startswith("★ VIP ARRIVING #91") and "[VIP arriving] Level A" in text
    finally:
        client.close()
