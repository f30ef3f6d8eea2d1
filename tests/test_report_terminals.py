"""Each department's findings count what its own terminal did (issue 16 item 7): a day played through the hub's
ingest into a real log, read back as `eventdesk report` reads it, checked against hand counts in both languages."""
from __future__ import annotations

import pytest

from console.hub.ingest import Peer
from console.report import doc as report_doc
from console.report import text as rt
from console.report.files import read_summary
from console.report.render import markdown
from protocols import messages as M
from protocols.i18n import t
from tests.conftest import FIXED_DAY, make_event
from tests.roles_fixture import add_terminals
from tests.test_guests_handoff import LIST, Wire, guest
from tests.test_services import DESK, LOBBY

S_, MIN = 1000, 60_000
ENG = Peer("station", "eng-1", "engineering")
ENV = Peer("station", "env-1", "environment")
LOGI = Peer("station", "logistics-1", "logistics")
SALES = Peer("station", "sales-1", "sales")
GATE = Peer("station", "gate-1", "gate")
# The sample's sales consultant on its roster (sales-1 from 09:00) hosts this party.
HOSTED = guest("V-09", "孙八", "B", 2, host="郑凯", plate="湘A·99999")


def _ok(reply) -> int:
    assert isinstance(reply, M.Ack), reply
    return reply.gseq


def _notice(out, target: str, kind: str) -> int:
    (r,) = [r for r in out.stored if r.type == "instruction" and r.body.get("notice") == kind
            and r.body["target"] == target]
    return r.gseq


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """The day, hand-counted in the comments: what each department's terminal did, and when."""
    folder = make_event(tmp_path_factory.mktemp("ev") / "event", date=FIXED_DAY)
    add_terminals(folder)
    w = Wire(folder, folder.load().doors_open_ms - 2 * 3600_000)     # 07:30, before every roster start
    w.ingest.load_guests([*LIST, HOSTED], "guests.xlsx", w.now)
    _ok(w.send(ENG, M.StaffSignin(name="张建华", staff_no="S301"))[0])    # on time (08:00)
    _ok(w.send(ENV, M.StaffSignin(name="王洁", staff_no="S302"))[0])      # on time (08:00)
    _ok(w.send(SALES, M.StaffSignin(name="郑凯", staff_no="S307"))[0])    # on time (09:00)
    w.now += 60 * MIN                                                      # 08:30
    _, out = w.send(LOBBY, M.IncidentReport(kind="power_outage", severity=2, location="大堂"))
    (started,) = [r for r in out.stored if r.type == "plan_started"]
    run = started.gseq
    standby = next(r.gseq for r in out.stored if r.type == "instruction" and r.body.get("step") == "standby_power")
    w.now += 30 * S_
    _ok(w.send(ENG, M.InstructionAck(instruction=standby))[0])            # engineering: 1 ack after 30 s, 张建华
    w.now += 60 * S_
    _ok(w.send(ENG, M.PlanStep(run=run, step="standby_power"))[0])        # 1 step, 90 s from the start, 张建华
    _ok(w.send(DESK, M.PlanStep(run=run, step="restore_check", post="engineering"))[0])   # the desk for it: 1
    reply, out = w.send(LOBBY, M.ServiceRequest(service="cleaning", where="洽谈区"))
    cleaning = _ok(reply)
    new = _notice(out, "post.environment", "service_new")
    w.now += 2 * MIN
    _ok(w.send(ENV, M.InstructionAck(instruction=new))[0])                # environment: taken after 2 min, 1 ack
    w.now += 3 * MIN
    _ok(w.send(ENV, M.ServiceUpdate(call=cleaning, status="done"))[0])    # done 5 min after the call, 王洁
    restock = _ok(w.send(LOBBY, M.ServiceRequest(service="restock"))[0])
    w.now += 4 * MIN
    _ok(w.send(LOGI, M.ServiceUpdate(call=restock, status="done"))[0])    # logistics: taken and done at 4 min, nobody
    reply, out = w.send(GATE, M.CarIn(plate="湘A·99999", vip=True))       # the sales consultant's party
    _ok(reply)
    host = _notice(out, "station.sales-1", "vip")
    w.now += 45 * S_
    _ok(w.send(SALES, M.InstructionAck(instruction=host))[0])             # sales: 1 ack after 45 s, 郑凯
    _ok(w.send(SALES, M.ServiceRequest(service="drinks", where="洽谈区"))[0])   # and 1 call raised for the party
    w.store.close()
    return read_summary(folder)[0]


def _found(s, dept: str, side: str, key: str) -> list[dict]:
    return [f for f in s.departments[dept][side] if f["key"] == key]


def test_each_departments_highlights_count_its_own_terminals_work(day) -> None:
    (eng,) = _found(day, "engineering", "highlights", "terminal.work")
    assert rt.finding(eng, "zh", day.tz) == ("工程部值班在自己的终端上：确认预案步骤 1 项（中位用时 1 分 30 秒）、确认通知和指令 1 条"
                                            "（中位用时 30 秒）；经手人：张建华 ×2。")
    assert rt.finding(eng, "en", day.tz) == ("Engineering on duty (own terminal): 1 plan step(s) confirmed (median "
                                            "1 min 30 s), 1 notice(s) and order(s) acknowledged (median 30 s); by 张建华 ×2.")
    (env,) = _found(day, "environment", "highlights", "terminal.work")
    assert rt.finding(env, "zh", day.tz) == ("环境部值班在自己的终端上：接单 1 项（中位用时 2 分 00 秒）、完成服务需求 1 项（中位用时"
                                            " 5 分 00 秒）、确认通知和指令 1 条（中位用时 2 分 00 秒）；经手人：王洁 ×3。")
    (logi,) = _found(day, "logistics", "highlights", "terminal.work")
    assert "接单 1 项（中位用时 4 分 00 秒）、完成服务需求 1 项（中位用时 4 分 00 秒）" in rt.finding(logi, "zh", day.tz)
    (sales,) = [f for f in _found(day, "office", "highlights", "terminal.work") if f["params"]["place"]["zh"] == "销售顾问"]
    assert rt.finding(sales, "zh", day.tz) == ("销售顾问在自己的终端上：确认通知和指令 1 条（中位用时 45 秒）、"
                                              "为来宾提出服务需求 1 项；经手人：郑凯 ×1。")


def test_what_a_terminal_left_to_the_desk_or_did_unsigned_is_a_shortcoming(day) -> None:
    (by_desk,) = _found(day, "engineering", "shortcomings", "terminal.by_desk")
    assert rt.finding(by_desk, "zh", day.tz) == "工程部值班有 1 个预案步骤没有在终端上确认，由指挥台代确认。"
    (nobody,) = _found(day, "logistics", "shortcomings", "terminal.nobody")
    assert nobody["params"]["n"] == 2                       # the take and the done of one call, nobody signed in
    # Signed in before they confirmed: the hub names the person for every confirmation, nothing to say.
    assert not _found(day, "environment", "shortcomings", "terminal.nobody")
    assert not _found(day, "engineering", "shortcomings", "terminal.nobody")


def test_sign_ins_against_the_roster_count_for_the_terminals_departments(day) -> None:
    slots = {x["station"]: x["result"] for x in day.extra["service_day"]["roster"]["slots"]}
    assert (slots["eng-1"], slots["env-1"], slots["sales-1"], slots["logistics-1"]) == ("on_time", "on_time", "on_time",
                                                                                        "never")
    assert [f["params"] for f in _found(day, "engineering", "highlights", "roster.on_time")] == [{"n": 1, "of": 1}]
    (never,) = _found(day, "logistics", "shortcomings", "roster.never")
    assert never["params"]["who"]["zh"] == "李勇"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_department_that_worked_on_its_terminal_reads_nothing_recorded(day, lang) -> None:
    text = markdown(report_doc.build(day, lang), {})
    part = text.split(t("report.section.departments", lang), 1)[1]
    none = t("report.none.found", lang)
    for dept in ("engineering", "environment", "logistics", "office"):
        section = part.split(f"### {rt.dept(dept, lang)}", 1)[1].split("### ", 1)[0]
        highlights = section.split(t("report.sub.shortcomings", lang), 1)[0]
        assert none not in highlights, (dept, highlights)


def test_the_chinese_summary_of_that_day_shows_no_id_and_no_english(day) -> None:
    """The scan of issue 17 over this day's whole summary: the terminals' table, findings and the service half."""
    from tests.staff_text import event_ids, leaks, plan_ids

    text = markdown(report_doc.build(day, "zh"), {})
    text = text.split("](", 1)[0] + "".join(p.split(")", 1)[-1] for p in text.split("](")[1:])   # image links
    ids = event_ids(day.extra.get("event", {}) or {}) | {s["id"] for s in day.stations} | plan_ids()
    assert leaks(text.replace("\\", ""), ids, ("洽谈区", "湘A·99999", "Asia/Shanghai")) == [], text
