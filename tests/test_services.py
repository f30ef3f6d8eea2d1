"""Service calls with an owner and an end: routing from event.toml, the fold, the late alarm and the notices
stepping a clock, the hub's refusals in both languages, and the summary's figures against hand counts."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.core import services
from console.core import state as S
from console.core.event import EventFileError
from console.event.folder import EventFolder, parse
from console.hub.ingest import Peer
from console.report.summary import summarise
from protocols import messages as M
from tests.test_plans_hub import Wire
from tests.test_state import SAMPLE, Log, log  # noqa: F401  (log: the fixture)

T0 = 1_796_437_800_000
MIN = 60_000
DESK = Peer("desk", "desk-1", "desk")
LOBBY = Peer("station", "lobby-1", "lobby")
GATE = Peer("station", "gate-1", "gate")
MODEL = Peer("station", "model-1", "model_unit")


def _event(text: str) -> dict:
    return parse(Path("/x/event.toml"), text).summary()


def _with_routes(text: str, **routes: str) -> str:
    for kind, owner in routes.items():
        text = text.replace(f'\n{kind} = "', f'\n{kind} = "{owner}"  # was "', 1)
    return text


def test_calls_go_to_their_department_by_default_and_where_the_event_says() -> None:
    sample = SAMPLE.read_text("utf-8")
    default = _event(sample.split("\n[services]")[0])["services"]
    assert default == {"route": {"drinks": "service", "tea_break": "service", "cleaning": "environment",
                                 "restock": "logistics", "other": "office"}, "late_ms": 10 * MIN}
    changed = _event(_with_routes(sample, drinks="lobby", cleaning="logistics").replace("late_min = 10", "late_min = 4"))
    assert changed["services"]["route"]["drinks"] == "lobby"
    assert changed["services"]["route"]["cleaning"] == "logistics"
    assert changed["services"]["late_ms"] == 4 * MIN
    with pytest.raises(EventFileError, match=r'services.route.drinks: "kitchen" is neither'):
        _event(_with_routes(sample, drinks="kitchen"))
    with pytest.raises(EventFileError, match=r"services.route.beer: unknown key"):
        _event(sample.replace("[services.route]\n", "[services.route]\nbeer = \"service\"\n"))
    with pytest.raises(EventFileError, match=r"services.late_min: minutes between 1 and 240"):
        _event(sample.replace("late_min = 10", "late_min = 0"))


def test_a_call_is_taken_then_done_and_stays_done(log: Log) -> None:
    call = log(M.ServiceRequest(service="cleaning", where="洽谈区"), "lobby-1", T0)
    r = log.state.requests[call]
    assert (r["owner"], r["status"], r["ms"]) == ("environment", "open", T0)
    log(M.ServiceUpdate(call=call, status="taken", by="王芳"), "desk-1", T0 + 2 * MIN)
    assert (r["status"], r["taken_by"], r["taken_ms"]) == ("taken", "王芳", T0 + 2 * MIN)
    log(M.ServiceUpdate(call=call, status="done", by="李四"), "lobby-1", T0 + 5 * MIN)
    assert (r["status"], r["closed_by"], r["closed_ms"], r["taken_by"]) == ("done", "李四", T0 + 5 * MIN, "王芳")
    log(M.ServiceUpdate(call=call, status="cancelled", note="too late"), "desk-1", T0 + 6 * MIN)
    assert r["status"] == "done" and r["reason"] == ""       # the hub refuses this; an old log's copy changes nothing
    # Done without being taken first: taken and done at that moment.
    other = log(M.ServiceRequest(service="drinks"), "lobby-1", T0)
    log(M.ServiceUpdate(call=other, status="done"), "desk-1", T0 + MIN)
    assert (log.state.requests[other]["taken_ms"], log.state.requests[other]["closed_ms"]) == (T0 + MIN, T0 + MIN)
    # The snapshot carries the calls.
    assert S.from_wire(S.to_wire(log.state)).requests == log.state.requests


def test_one_late_alarm_per_call_stepping_the_clock(log: Log) -> None:
    call = log(M.ServiceRequest(service="restock", where="茶水间"), "lobby-1", T0)
    (notice,) = services.evaluate(log.state, T0)     # the sample's logistics terminal is told to take it
    assert (notice.target, notice.notice, notice.guest, notice.ack_required) == (
        "post.logistics", "service_new", str(call), True)
    log(notice, "hub", T0)
    assert services.evaluate(log.state, T0 + 10 * MIN - 1) == []
    (alarm,) = services.evaluate(log.state, T0 + 10 * MIN)
    assert alarm == M.Overdue(what="service", ref=str(call), target="logistics", due_ms=T0 + 10 * MIN)
    log(alarm, "hub", T0 + 10 * MIN)
    assert log.state.alarms[-1]["code"] == "service_late"
    assert services.evaluate(log.state, T0 + 30 * MIN) == []        # once per call, however long it stays open
    (view,) = services.calls(log.state, T0 + 12 * MIN)
    assert (view.late, view.age_ms, view.status) == (True, 12 * MIN, "open")
    assert services.open_count(log.state) == (1, 1)
    # A call done in time never alarms.
    quick = log(M.ServiceRequest(service="drinks"), "lobby-1", T0 + 20 * MIN)
    log(M.ServiceUpdate(call=quick, status="done"), "desk-1", T0 + 25 * MIN)
    assert [m for m in services.evaluate(log.state, T0 + 90 * MIN) if isinstance(m, M.Overdue)] == []


def test_the_post_it_is_routed_to_is_told_and_acknowledging_takes_it() -> None:
    summary = _event(_with_routes(SAMPLE.read_text("utf-8"), drinks="lobby"))
    log = Log()
    log.state = S.new_state(summary)
    call = log(M.ServiceRequest(service="drinks", where="A区3号桌"), "model-1", T0)
    (notice,) = services.evaluate(log.state, T0)
    assert (notice.target, notice.ack_required, notice.notice, notice.guest) == ("post.lobby", True, "service_new", str(call))
    assert notice.text == "【服务需求】饮品（A区3号桌），请接单（确认即接单）"
    assert notice.text_en == "[Service request] Drinks (A区3号桌): please take it (acknowledging takes it)"
    inst = log(notice, "hub", T0)
    assert services.evaluate(log.state, T0) == []
    log(M.InstructionAck(instruction=inst), "lobby-1", T0 + MIN)
    r = log.state.requests[call]
    assert (r["status"], r["taken_station"], r["taken_ms"]) == ("taken", "lobby-1", T0 + MIN)
    # The model unit raised it: it hears it was taken, then done, once each.
    (told,) = services.evaluate(log.state, T0 + MIN)
    assert (told.target, told.ack_required) == ("station.model-1", False)
    assert told.text == "您的服务需求 饮品（A区3号桌） 已接单（大堂）"
    log(told, "hub", T0 + MIN)
    log(M.ServiceUpdate(call=call, status="done", by="赵敏"), "lobby-1", T0 + 4 * MIN)
    (told,) = services.evaluate(log.state, T0 + 4 * MIN)
    assert told.text_en == "Your service request Drinks (A区3号桌) is done (赵敏 (Lobby))"
    log(told, "hub", T0 + 4 * MIN)
    assert services.evaluate(log.state, T0 + 60 * MIN) == []


def test_the_raiser_is_not_told_what_it_did_itself(log: Log) -> None:
    call = log(M.ServiceRequest(service="other", where="门口"), "gate-1", T0)
    log(M.ServiceUpdate(call=call, status="cancelled", note="已自行处理"), "gate-1", T0 + MIN)
    assert services.evaluate(log.state, T0 + MIN) == []
    call = log(M.ServiceRequest(service="other"), "gate-1", T0)
    log(M.ServiceUpdate(call=call, status="cancelled", note="重复"), "desk-1", T0 + MIN)
    (told,) = services.evaluate(log.state, T0 + MIN)
    assert told.text == "您的服务需求 其他 已取消：重复"


@pytest.fixture
def wire(event_dir: EventFolder):
    text = event_dir.toml.read_text("utf-8")
    event_dir.toml.write_text(_with_routes(text, drinks="lobby"), "utf-8")
    w = Wire(event_dir)
    yield w
    w.close()


def test_the_hub_refuses_what_cannot_be_done_in_both_languages(wire: Wire) -> None:
    nack, _ = wire.send(DESK, M.ServiceUpdate(call=99, status="taken"))
    assert (nack.code, nack.reason, nack.reason_zh) == ("E_UNKNOWN", "The desk cannot find service request #99.",
                                                      "指挥台找不到服务需求（#99）。")
    ack, _ = wire.send(GATE, M.ServiceRequest(service="cleaning", where="东门"))
    cleaning = ack.gseq
    nack, _ = wire.send(MODEL, M.ServiceUpdate(call=cleaning, status="taken"))
    assert nack.code == "E_SCHEMA" and "neither routed to this post nor raised by it" in nack.reason
    assert "不是分派给本岗位的" in nack.reason_zh
    nack, _ = wire.send(DESK, M.ServiceUpdate(call=cleaning, status="cancelled"))
    assert nack.code == "E_SCHEMA" and "needs a reason" in nack.reason and "须写明原因" in nack.reason_zh
    ack, _ = wire.send(DESK, M.ServiceUpdate(call=cleaning, status="taken", by="环境 王五"))
    assert isinstance(ack, M.Ack)
    nack, _ = wire.send(LOBBY, M.ServiceUpdate(call=cleaning, status="cancelled", note="x"))
    assert "only the post that raised it or a desk" in nack.reason
    ack, _ = wire.send(GATE, M.ServiceUpdate(call=cleaning, status="done"))     # the raiser may close its own
    assert isinstance(ack, M.Ack)
    nack, _ = wire.send(DESK, M.ServiceUpdate(call=cleaning, status="done"))
    assert "this service request is already done and cannot change" in nack.reason
    assert "该服务需求的状态已是“已完成”，不能再更改" in nack.reason_zh
    # Drinks go to the lobby here: the hub tells the lobby in the same round, and the lobby may take it.
    ack, out = wire.send(MODEL, M.ServiceRequest(service="drinks", where="样板间"))
    notices = [r for r in out.stored if r.type == "instruction"]
    assert [(r.station, r.body["target"], r.body["notice"]) for r in notices] == [("hub", "post.lobby", "service_new")]
    ok, _ = wire.send(LOBBY, M.ServiceUpdate(call=ack.gseq, status="done", by="赵敏"))
    assert isinstance(ok, M.Ack)
    assert wire.ingest.state.requests[ack.gseq]["status"] == "done"


def test_the_summary_counts_each_department_by_hand(log: Log) -> None:
    """Hand-counted: environment 3 calls (taken after 2, 4 min; done after 5, 9 min; one left open), logistics one
    cancelled untaken, service one done after 12 min (late), office none."""
    c1 = log(M.ServiceRequest(service="cleaning"), "lobby-1", T0)
    c2 = log(M.ServiceRequest(service="cleaning"), "model-1", T0 + MIN)
    c3 = log(M.ServiceRequest(service="cleaning"), "gate-1", T0 + 2 * MIN)
    c4 = log(M.ServiceRequest(service="restock"), "lobby-1", T0 + 3 * MIN)
    c5 = log(M.ServiceRequest(service="tea_break"), "lobby-1", T0 + 4 * MIN)
    log(M.ServiceUpdate(call=c1, status="taken"), "desk-1", T0 + 2 * MIN)
    log(M.ServiceUpdate(call=c2, status="taken"), "desk-1", T0 + 5 * MIN)
    log(M.ServiceUpdate(call=c1, status="done"), "desk-1", T0 + 5 * MIN)
    log(M.ServiceUpdate(call=c2, status="done"), "desk-1", T0 + 10 * MIN)
    log(M.ServiceUpdate(call=c4, status="cancelled", note="有库存"), "lobby-1", T0 + 6 * MIN)
    log(M.ServiceUpdate(call=c5, status="done"), "desk-1", T0 + 16 * MIN)
    assert c3
    figures = summarise(log.rows, log.state.event).services
    assert figures["environment"] == {"requests": 3, "done": 2, "cancelled": 0, "late": 0, "open_end": 1,
                                      "take_median_ms": 3 * MIN, "take_worst_ms": 4 * MIN,
                                      "done_median_ms": 7 * MIN, "done_worst_ms": 9 * MIN}
    assert figures["logistics"] == {"requests": 1, "done": 0, "cancelled": 1, "late": 0, "open_end": 0,
                                    "take_median_ms": None, "take_worst_ms": None,
                                    "done_median_ms": None, "done_worst_ms": None}
    assert figures["service"]["done"] == 1 and figures["service"]["late"] == 1
    assert figures["service"]["done_worst_ms"] == 12 * MIN
    assert "office" not in figures


def test_the_summary_says_it_in_both_languages_and_no_department_that_worked_reads_nothing_found(log: Log) -> None:
    from console.report import doc as report_doc
    from console.report.render import markdown

    c1 = log(M.ServiceRequest(service="cleaning", where="洽谈区"), "lobby-1", T0)
    log(M.ServiceUpdate(call=c1, status="taken"), "desk-1", T0 + 2 * MIN)
    log(M.ServiceUpdate(call=c1, status="done"), "desk-1", T0 + 6 * MIN)
    c2 = log(M.ServiceRequest(service="restock"), "lobby-1", T0 + MIN)
    log(M.Overdue(what="service", ref=str(c2), target="logistics", due_ms=T0 + 11 * MIN), "hub", T0 + 11 * MIN)
    s = summarise(log.rows, log.state.event)
    env, logi = s.departments["environment"], s.departments["logistics"]
    assert [f["key"] for f in env["highlights"]] == ["services_done"] and env["shortcomings"] == []
    assert [f["key"] for f in logi["shortcomings"]] == ["services_late", "services_open"]
    zh, en = (markdown(report_doc.build(s, lang), {}) for lang in ("zh", "en"))
    assert "超过 10 分 00 秒 未完成为延迟" in zh
    assert "## 服务需求" in zh and "| 环境 | 1 | 1 | 0 | 0 | 0 | 2 分 00 秒 | 2 分 00 秒 | 6 分 00 秒 | 6 分 00 秒 |" in zh
    assert "环境完成服务需求 1 项（共 1 项），接单用时中位数 2 分 00 秒，完成用时中位数 6 分 00 秒。" in zh
    assert "## Service requests" in en and "| Logistics | 1 | 0 | 0 | 1 | 1 | — | — | — | — |" in en
    assert "Logistics left 1 service request(s) unfinished when the log ended." in en


def test_the_rehearsal_judges_calls_done_in_time() -> None:
    from scenarios import expectations as X
    from scenarios.model import Expect

    def facts(*calls):
        return type("Facts", (), {"services": [dict(zip(("id", "service", "owner", "status", "raised_scn", "done_delay"),
                                                         c)) for c in calls], "complete": True})()

    within = Expect(kind="services_done", params={"within": 10 * MIN, "services": [], "department": ""})
    r = X.judge(within, facts((1, "drinks", "service", "done", 0, 4 * MIN), (2, "cleaning", "environment", "done",
                                                                                 MIN, 9 * MIN)))
    assert (r.status, r.measured, r.limit) == (X.MET, 9 * MIN, 10 * MIN)
    late = facts((1, "drinks", "service", "done", 0, 12 * MIN), (2, "restock", "logistics", "cancelled", 0, None))
    assert X.judge(within, late).status == X.MISSED
    only = Expect(kind="services_done", params={"within": 10 * MIN, "services": ["restock"], "department": ""})
    assert X.judge(only, late).status == X.NOT_REACHED      # its only call was cancelled: nothing to judge
    open_ = facts((3, "cleaning", "environment", "open", 0, None))
    assert (X.judge(within, open_).status, X.judge(within, open_).detail) == (X.MISSED, "never")


def test_the_desk_names_a_call_by_what_and_where_never_by_its_number(log: Log) -> None:
    from console.desk.widgets import fmt
    from console.desk.widgets.fmt import duty_subject

    call = log(M.ServiceRequest(service="tea_break", where="洽谈区"), "lobby-1", T0)
    log(M.ServiceUpdate(call=call, status="taken", by="王芳"), "desk-1", T0 + MIN)
    log(M.Overdue(what="service", ref=str(call), target="service", due_ms=T0 + 10 * MIN), "hub", T0 + 10 * MIN)
    update, late = list(log.state.recent)[-2:]
    assert fmt.describe(update, log.state, "zh").plain == "服务需求更新 已接单 茶歇补充（洽谈区） · 客服部"
    assert fmt.describe(late, log.state, "en").plain == "Overdue Service request late Tea break refill (洽谈区) · Customer Service"
    assert duty_subject(log.state, log.state.alarms[-1], "zh") == "茶歇补充（洽谈区） · 客服部"


def test_the_post_a_call_is_routed_to_hears_when_the_desk_closes_it() -> None:
    log = Log()
    log.state = S.new_state(_event(_with_routes(SAMPLE.read_text("utf-8"), drinks="lobby")))
    call = log(M.ServiceRequest(service="drinks", where="贵宾室"), "lobby-1", T0)   # the lobby asks, for itself
    (new,) = services.evaluate(log.state, T0)
    log(new, "hub", T0)
    log(M.ServiceUpdate(call=call, status="done", by="王芳"), "desk-1", T0 + 3 * MIN)
    to_post, to_raiser = services.evaluate(log.state, T0 + 3 * MIN)
    assert (to_post.target, to_post.notice, to_post.ack_required) == ("post.lobby", "service_done", False)
    assert to_post.text == "服务需求 饮品（贵宾室） 已由王芳（指挥台）完成，无需再处理"
    assert (to_raiser.target, to_raiser.notice) == ("station.lobby-1", "service_done")
    log(to_post, "hub", T0 + 3 * MIN)
    log(to_raiser, "hub", T0 + 3 * MIN)
    assert services.evaluate(log.state, T0 + 60 * MIN) == []
