"""The phone page as data: every post's keys as buttons from the same Post definitions, every word in one language; pure."""
from __future__ import annotations

import re

import pytest

from console.event.folder import init_folder
from stations.records import DELIVERED, REJECTED, SAVED, InboxItem, Report, Status
from stations.terminal.posts import for_site
from stations.terminal.posts.base import Site
from stations.terminal.screens.view import View
from stations.web import page
from tests.conftest import FIXED_DAY

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
MS = 1_796_000_000_000


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    return init_folder(tmp_path_factory.mktemp("ev") / "event", date=FIXED_DAY).load().summary()


def site_of(summary, station: str) -> Site:
    return Site.from_summary(station, summary)


def words_of(model: dict) -> list[str]:
    """Every string the page would show (the language switch names the other language, on purpose)."""
    out: list[str] = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in ("switch", "id", "state", "lang", "other", "area", "name", "kind", "value", "default"):
                    walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and node:
            out.append(node)
    walk(model)
    return out


def view(status: Status | None = None, **kw) -> View:
    return View(status=status or Status("gate-1", "e1", state="online", connected=True, console_reachable=True), **kw)


def test_every_post_gets_its_report_keys_as_buttons(summary):
    for st in summary["stations"]:
        site = site_of(summary, st["id"])
        post = for_site(site)
        model = page.model(post, site, view(), "zh")
        shown = {a["id"] for a in model["actions"]}
        wanted = {a.id for a in post.actions if a.kind == "report"}
        assert wanted <= shown, (st["id"], wanted - shown)
        assert "signin" in shown                  # the duty key opens into sign in on a phone
        for action in model["actions"]:
            assert action["label"] and not action["label"].startswith("station."), action


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_word_is_in_the_chosen_language(summary, lang):
    site = site_of(summary, "parking-1")
    reports = (Report(2, "lot_occupancy", {"lot": site.lots[0].id, "delta": 1}, DELIVERED, MS, gseq=41),
               Report(1, "lot_occupancy", {"lot": site.lots[0].id, "delta": 9999}, REJECTED, MS, code="E_SCHEMA",
                      reason="too many", reason_zh="太多"))
    inst = (InboxItem(7, "all", "请注意", True, MS, text_en="Attention please"),)
    model = page.model(for_site(site), site, view(recent=reports, instructions=inst), lang)
    words = words_of(model)
    assert words and all(not w.startswith(("station.", "field.", "type.")) for w in words), words
    if lang == "en":
        assert not [w for w in words if CJK.search(w)]
        assert model["switch"] == "中文"
    else:
        assert model["switch"] == "English"
        assert CJK.search(model["link"]["text"]) and CJK.search(model["words"]["reports"])
    assert model["reports"][0]["state_text"] == ("已送达 #41" if lang == "zh" else "delivered #41")
    assert model["reports"][1]["reason"] == ("太多" if lang == "zh" else "too many")
    assert model["instructions"][0]["text"] == ("请注意" if lang == "zh" else "Attention please")


def test_the_status_line_follows_the_link(summary):
    site = site_of(summary, "gate-1")
    post = for_site(site)
    off = page.model(post, site, view(Status("gate-1", "e1", state="unreachable", waiting=3)), "zh")
    assert off["link"] == {"text": "系统联系不上 — 3 条待发", "kind": "bad"}
    assert page.model(post, site, None, "en")["link"]["kind"] == "busy"   # nothing read yet: connecting


def test_the_gate_hold_refuses_ordinary_cars_and_shows_in_red(summary):
    site = site_of(summary, "gate-1")
    post = for_site(site)
    hold = InboxItem(9, "station.gate-1", "停止放行", False, MS, gate="hold")
    model = page.model(post, site, view(orders=(hold,)), "zh")
    keys = {a["id"]: a for a in model["actions"]}
    assert keys["car_in"]["refused"] and not keys["car_out"]["refused"] and not keys["vip_release"]["refused"]
    assert model["holds"] == ["暂停放行：停止放行"]
    free = {a["id"]: a for a in page.model(post, site, view(), "zh")["actions"]}
    assert not free["car_in"]["refused"] and free["vip_release"]["refused"]
    # A phone has no F-keys: its sentences name the buttons.
    for lang in ("zh", "en"):
        for orders in ((hold,), ()):
            refusals = [a["refused"] for a in page.model(post, site, view(orders=orders), lang)["actions"] if a["refused"]]
            assert refusals and not [r for r in refusals if re.search(r"\bF\d", r)], refusals


def test_a_tap_builds_the_report_of_the_post_definition(summary):
    site = site_of(summary, "parking-1")
    post = for_site(site)
    second = site.lots[1]
    action = page.find_action(post, site, view(), "zh", "lot_exact")
    values = page.values_for(action, {"occupied": "12", "unknown": "x"})
    assert values == {"occupied": "12"}
    assert action.build(site, values, page.area_of(post, site, second.id)) == \
        ("lot_occupancy", {"lot": second.id, "occupied": 12})
    assert page.area_of(post, site, "no-such-lot") == site.lots[0]   # an unknown pick: the first lot
    assert page.values_for(page.find_action(post, site, view(), "zh", "space"), "junk") == {"space": "", "plate": ""}
    assert page.find_action(post, site, view(), "zh", "next_lot") is None   # lots are picked above the keys
    model = page.model(post, site, view(), "zh", second.id)
    assert model["area"] == second.id and [a["id"] for a in model["areas"]] == [lot.id for lot in site.lots]


def test_who_is_on_duty_gets_a_sign_out_key(summary):
    site = site_of(summary, "gate-1")
    post = for_site(site)
    on = ({"name": "张三", "staff_no": "S101"},)
    model = page.model(post, site, view(on_duty=on), "zh")
    assert "signout:S101" in {a["id"] for a in model["actions"]}
    action = page.find_action(post, site, view(on_duty=on), "zh", "signout:S101")
    assert action.build(site, {}, None) == ("staff_signout", {"name": "张三", "staff_no": "S101"})


def test_saved_reports_show_as_saved_here(summary):
    site = site_of(summary, "gate-1")
    model = page.model(for_site(site), site, view(recent=(Report(1, "car_in", {"count": 1}, SAVED, MS),)), "zh")
    assert model["reports"][0]["state_text"] == "已保存（本机）" and model["reports"][0]["what"] == "车辆入场"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plan_task_is_two_big_keys_done_and_skip(summary, lang):
    """The department terminal's D and K on the phone: each open plan task with its order, a done key that saves at
    once and a skip key that asks why; both build the terminal's plan_step, and the order's ack is owed."""
    from stations.terminal.posts import plan_tasks

    site = site_of(summary, "eng-1")
    post = for_site(site)
    order = InboxItem(30, "post.engineering", "【停电应急预案】启动备用电源", True, MS, text_en="[Power outage plan] Start "
                      "standby power", plan="power_outage", run=29, step="standby_power")
    tasks, _ = plan_tasks.read((order,), ())
    model = page.model(post, site, view(tasks=tasks), lang)
    (step,) = model["steps"]
    assert (step["plan"], step["order"]) == {"zh": ("停电应急预案", "启动备用电源"),
                                             "en": ("Power outage plan", "Start standby power")}[lang]
    keys = {a["id"]: a for a in model["actions"] if a["group"] == "steps"}
    assert set(keys) == {step["done"], step["skip"]} == {"step-done:29:standby_power", "step-skip:29:standby_power"}
    assert not keys[step["done"]]["fields"] and [f["name"] for f in keys[step["skip"]]["fields"]] == ["reason"]
    assert keys[step["done"]]["label"] == {"zh": "确认本岗任务完成", "en": "Confirm the task done"}[lang]
    done = page.find_action(post, site, view(tasks=tasks), lang, step["done"])
    skip = page.find_action(post, site, view(tasks=tasks), lang, step["skip"])
    assert done.build(site, {}, None) == ("plan_step", {"run": 29, "step": "standby_power", "status": "done"})
    assert skip.build(site, {"reason": " 已有电 "}, None) == \
        ("plan_step", {"run": 29, "step": "standby_power", "status": "skipped", "reason": "已有电"})
    assert page.step_owed(view(tasks=tasks), step["done"]) == 30
    assert page.step_owed(view(tasks=tasks), "car_in") == 0
    assert page.model(post, site, view(), lang)["steps"] == []   # no plan running: no list at all
