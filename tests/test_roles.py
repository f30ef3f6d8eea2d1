"""Department and leader terminals (issue 16 item 3) as hub decisions on a stepped clock: a plan step of a department
with a terminal goes there and is confirmed from there, by the person signed in; service calls reach the department's
terminal; the VIP hand-off reaches the greeting leaders; the desk names "工程部值班（张工）"; the summary's new section
against hand counts, in both languages."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.core import guests_rules, plans, sendoff, services
from console.desk.widgets import plan_text
from console.event.folder import EventFolder, parse
from console.hub.ingest import Peer
from console.report import doc as report_doc
from console.report.render import markdown
from console.report.summary import summarise
from protocols import messages as M
from stations.terminal.posts import for_site
from stations.terminal.posts.base import Site
from tests.roles_fixture import add_terminals, remove_terminals, summary, with_terminals, without_terminals
from tests.test_guests_handoff import LIST, Wire
from tests.test_services import DESK, GATE, LOBBY, MIN
from tests.test_state import SAMPLE, Row

S_ = 1000
ENG = Peer("station", "eng-1", "engineering")
ENV = Peer("station", "env-1", "environment")
SVC = Peer("station", "service-1", "service")
GREET = Peer("station", "greeter-1", "greeter")


@pytest.fixture
def wire(event_dir: EventFolder):
    add_terminals(event_dir)
    w = Wire(event_dir, event_dir.load().doors_open_ms)
    w.ingest.load_guests(LIST, "guests.xlsx", w.now)
    yield w
    w.store.close()


def _ok(reply) -> int:
    assert isinstance(reply, M.Ack), reply
    return reply.gseq


def _power_cut(wire: Wire) -> tuple[int, dict]:
    _, out = wire.send(LOBBY, M.IncidentReport(kind="power_outage", severity=2, location="大堂"))
    (started,) = [r for r in out.stored if r.type == "plan_started"]
    return started.gseq, {r.body["step"]: r for r in out.stored if r.type == "instruction" and r.body.get("step")
                          and r.body["target"] != "post.concierge"}   # reassure_guests: its lobby order


def test_every_department_and_role_is_a_post_with_the_same_app() -> None:
    ev = summary()
    posts = {s["id"]: s["post"] for s in ev["stations"]}
    assert posts["eng-1"] == "engineering" and posts["greeter-1"] == "greeter" and posts["sales-1"] == "sales"
    for sid in ("eng-1", "env-1", "logistics-1", "service-1", "security-1", "greeter-1", "sales-1"):
        post = for_site(Site.from_summary(sid, ev))
        assert post.id == posts[sid]
        # The sales staff also raise service calls for their guests (F2); every terminal's other keys are the same.
        assert [a.kind for a in post.actions] == ["calls", *(["report"] if sid == "sales-1" else []), "duty", "report",
                                                  "inbox"]
        assert M.ALLOWED[post.id] == frozenset(M.COMMON) | {"service_update", "phone_paired", "phone_unpaired"}
    # The shipped sample declares one terminal of each, so `eventdesk init` makes their keys; an event file
    # without them has none (only what the event declares).
    shipped = SAMPLE.read_text("utf-8")
    assert {s["post"] for s in parse(Path("/x/e.toml"), shipped).summary()["stations"]} \
        >= set(M.DEPARTMENT_POSTS + M.ROLE_POSTS)
    assert with_terminals(shipped) == shipped
    assert not {s["post"] for s in parse(Path("/x/e.toml"), without_terminals(shipped)).summary()["stations"]} \
        & set(M.DEPARTMENT_POSTS + M.ROLE_POSTS)


def test_a_step_of_a_department_with_a_terminal_goes_there_and_is_confirmed_by_the_person_signed_in(wire: Wire) -> None:
    run, sent = _power_cut(wire)
    standby = sent["standby_power"].body
    # Engineering has a terminal: its steps are its orders (the step's `do`), to confirm there.
    assert (standby["target"], standby["ack_required"]) == ("post.engineering", True)
    assert "备用电源" in standby["text"] and "standby power" in standby["text_en"]
    assert sent["reassure_guests"].body["target"] == "post.lobby"            # a step naming posts keeps them
    steps = wire.ingest.state.plans["runs"][run]["steps"]
    assert steps["standby_power"]["posts"] == ["engineering"]
    # Another post may not confirm it; the engineering terminal may.
    reply, _ = wire.send(LOBBY, M.PlanStep(run=run, step="standby_power"))
    assert isinstance(reply, M.Nack) and reply.code == "E_SCHEMA"
    _ok(wire.send(ENG, M.StaffSignin(name="张工", staff_no="E01"))[0])
    wire.now += 90 * S_
    _ok(wire.send(ENG, M.PlanStep(run=run, step="standby_power"))[0])        # an older terminal: no person sent
    assert steps["standby_power"]["confirmed"] == {
        "engineering": {"by": "eng-1", "ms": wire.now, "desk": False, "person": "张工"}}
    assert (steps["standby_power"]["status"], steps["standby_power"]["person"]) == ("done", "张工")
    # A person on the wire is who did it, whoever signed in there first.
    _ok(wire.send(ENG, M.PlanStep(run=run, step="lift_check", person="李工"))[0])
    assert steps["lift_check"]["confirmed"]["engineering"]["person"] == "李工"
    # The acknowledgement carries the person too.
    _ok(wire.send(ENG, M.InstructionAck(instruction=sent["standby_power"].gseq))[0])
    assert wire.ingest.state.instructions[sent["standby_power"].gseq]["ack_by"] == {"eng-1": "张工"}
    # The desk still confirms for a department, and is marked so.
    wire.send(DESK, M.PlanStep(run=run, step="restore_check", post="engineering"))
    rv = next(r for r in plans.view(wire.ingest.state, wire.now) if r.id == run)
    detail = {s.id: plan_text.detail(wire.ingest.state, rv, s, "zh").plain for s in rv.steps}
    assert "工程部值班（张工） ✓" in detail["standby_power"]
    assert "工程部值班（李工） ✓" in detail["lift_check"]
    assert "（指挥台代确认）" in detail["restore_check"]
    en = {s.id: plan_text.detail(wire.ingest.state, rv, s, "en").plain for s in rv.steps}
    assert "Engineering on duty (张工) ✓" in en["standby_power"]


def test_nobody_signed_in_is_said_in_words(wire: Wire) -> None:
    run, _ = _power_cut(wire)
    _ok(wire.send(ENG, M.PlanStep(run=run, step="standby_power"))[0])
    rv = next(r for r in plans.view(wire.ingest.state, wire.now) if r.id == run)
    step = next(s for s in rv.steps if s.id == "standby_power")
    assert "工程部值班（无人签到）" in plan_text.detail(wire.ingest.state, rv, step, "zh").plain
    assert "Engineering on duty (nobody signed in)" in plan_text.detail(wire.ingest.state, rv, step, "en").plain


def test_a_call_reaches_its_departments_terminal_which_takes_and_finishes_it(wire: Wire) -> None:
    reply, out = wire.send(LOBBY, M.ServiceRequest(service="cleaning", where="洽谈区"))
    call = _ok(reply)
    (notice,) = [r for r in out.stored + wire.tick().stored
                 if r.type == "instruction" and r.body.get("notice") == "service_new"]
    assert (notice.body["target"], notice.body["ack_required"]) == ("post.environment", True)
    _ok(wire.send(ENV, M.StaffSignin(name="王洁"))[0])
    wire.now += 2 * MIN
    _ok(wire.send(ENV, M.InstructionAck(instruction=notice.gseq))[0])      # acknowledging takes it
    r = wire.ingest.state.requests[call]
    assert (r["status"], r["taken_station"], r["taken_by"]) == ("taken", "env-1", "王洁")
    assert services.done_by(wire.ingest.state, r, "zh") == "环境部值班（王洁）"
    wire.now += 3 * MIN
    _ok(wire.send(ENV, M.ServiceUpdate(call=call, status="done"))[0])       # no `by`: the hub names 王洁
    assert (r["status"], r["closed_by"]) == ("done", "王洁")
    assert services.done_by(wire.ingest.state, r, "en") == "Environment on duty (王洁)"
    # Another department's terminal may not touch it.
    other = _ok(wire.send(LOBBY, M.ServiceRequest(service="drinks"))[0])
    reply, _ = wire.send(ENV, M.ServiceUpdate(call=other, status="taken"))
    assert isinstance(reply, M.Nack)
    _ok(wire.send(SVC, M.ServiceUpdate(call=other, status="taken"))[0])
    assert services.done_by(wire.ingest.state, wire.ingest.state.requests[other], "zh") == "客服部值班（无人签到）"


def test_a_call_for_a_department_without_a_terminal_tells_no_post(event_dir: EventFolder) -> None:
    remove_terminals(event_dir)
    w = Wire(event_dir, event_dir.load().doors_open_ms)
    try:
        reply, out = w.send(LOBBY, M.ServiceRequest(service="cleaning"))
        _ok(reply)
        assert [r for r in out.stored + w.tick().stored if r.type == "instruction"] == []
    finally:
        w.store.close()


def test_the_vip_hand_off_reaches_the_greeting_leaders(wire: Wire) -> None:
    reply, out = wire.send(GATE, M.CarIn(plate="湘A·12345", vip=True))
    _ok(reply)
    notices = [r for r in out.stored + wire.tick().stored if r.type == "instruction" and r.body.get("notice") == "vip"]
    assert "post.greeter" in [r.body["target"] for r in notices]
    leaders = next(r for r in notices if r.body["target"] == "post.greeter")
    _ok(wire.send(GREET, M.StaffSignin(name="刘总"))[0])
    _ok(wire.send(GREET, M.InstructionAck(instruction=leaders.gseq))[0])
    assert wire.ingest.state.instructions[leaders.gseq]["ack_by"] == {"greeter-1": "刘总"}
    state = wire.ingest.state
    assert guests_rules.shown_links(state) == ("parking", "concierge", "lobby", "model_unit", "greeter", "host")
    (chain,) = [c for c in guests_rules.chains(state, wire.now) if c.ref == "V-01"]
    assert ("greeter", "acked") in [(link.link, link.status) for link in chain.links]
    # The send-off of a VIP reaches the leaders too (a walk-in party of no VIP does not).
    reply, out = wire.send(DESK, M.SendoffNotice(guest_ref="V-01", vip=True))
    _ok(reply)
    sent = [r.body for r in out.stored + wire.tick().stored if r.type == "instruction" and r.body.get("notice") == "sendoff"]
    leaving = next(b for b in sent if b["target"] == "post.greeter")
    assert "请领导到大堂恭送并确认" in leaving["text"] and "leaders, please see them off" in leaving["text_en"]
    reply, out = wire.send(DESK, M.SendoffNotice(count=2, note="散客"))
    _ok(reply)
    assert "post.greeter" not in [r.body["target"] for r in out.stored + wire.tick().stored if r.type == "instruction"]
    assert sendoff.shown_links(state) == ("lobby", "concierge", "parking", "gate", "greeter")


def test_task_signoff_names_the_person(wire: Wire) -> None:
    task = wire.ingest.state.event["tasks"][0]["id"]
    _ok(wire.send(SVC, M.StaffSignin(name="赵敏"))[0])
    _ok(wire.send(SVC, M.TaskSignoff(task=task))[0])
    assert wire.ingest.state.readiness["done"][task]["person"] == "赵敏"


# --- the summary: a hand-written log, hand counts -------------------------------------------------------------

T0 = 1_796_437_800_000


class _Log:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def __call__(self, type_: str, body: dict, station: str, at_s: int) -> int:
        gseq = len(self.rows) + 1
        self.rows.append(Row(gseq, station, "ep-" + station, gseq, type_, T0 + at_s * S_, T0 + at_s * S_, body))
        return gseq


STEPS = [{"id": "a", "department": "engineering", "due_s": 120, "posts": ["engineering"], "do": "甲", "do_en": "A"},
         {"id": "b", "department": "engineering", "due_s": 60, "posts": ["engineering"], "do": "乙", "do_en": "B"},
         {"id": "c", "department": "engineering", "due_s": 60, "posts": ["engineering"], "do": "丙", "do_en": "C"}]


def test_the_summary_counts_what_each_terminal_confirmed_against_hand_counts() -> None:
    log = _Log()
    log("staff_signin", {"name": "张工"}, "eng-1", 0)
    run = log("plan_started", {"plan": "power_outage", "name": "停电应急预案", "name_en": "Power outage plan",
                               "owner": "engineering", "cause": "desk:1", "steps": STEPS}, "hub", 10)
    inst = log("instruction", {"target": "post.engineering", "text": "甲", "ack_required": True, "plan": "power_outage",
                               "run": run, "step": "a"}, "hub", 10)
    log("instruction_ack", {"instruction": inst}, "eng-1", 40)                       # 30 s, by 张工
    log("plan_step", {"run": run, "step": "a", "status": "done"}, "eng-1", 70)      # 60 s of 120: on time, 张工
    log("plan_step", {"run": run, "step": "b", "status": "done", "person": "李工"}, "eng-1", 100)   # 90 s of 60: late
    log("plan_step", {"run": run, "step": "a", "status": "done"}, "eng-1", 110)     # again: counted once
    log("plan_step", {"run": run, "step": "c", "post": "engineering"}, "desk-1", 120)   # the desk for it
    call = log("service_request", {"service": "cleaning", "where": "洽谈区"}, "lobby-1", 200)
    new = log("instruction", {"target": "post.environment", "text": "保洁", "ack_required": True,
                              "guest": str(call), "notice": "service_new"}, "hub", 200)
    log("instruction_ack", {"instruction": new}, "env-1", 260)                      # taken after 60 s; nobody
    log("service_update", {"call": call, "status": "done", "by": "王洁"}, "env-1", 500)   # done after 300 s
    call2 = log("service_request", {"service": "restock"}, "lobby-1", 300)
    log("service_update", {"call": call2, "status": "done"}, "logistics-1", 420)   # taken and done at 120 s
    s = summarise(log.rows, summary())
    rows = {r["post"]: r for r in s.extra["terminals"]}
    assert list(rows) == ["engineering", "environment", "logistics", "service", "security", "greeter", "sales"]
    eng = rows["engineering"]
    assert (eng["steps"], eng["steps_median_ms"], eng["steps_worst_ms"], eng["steps_late"], eng["by_desk"]) == \
        (2, 75 * S_, 90 * S_, 1, 1)                                                  # median of 60 s and 90 s
    assert (eng["acks"], eng["ack_median_ms"]) == (1, 30 * S_)
    assert eng["people"] == {"张工": 2, "李工": 1} and eng["nobody"] == 0
    env = rows["environment"]
    assert (env["taken"], env["take_median_ms"], env["done"], env["done_median_ms"]) == (1, 60 * S_, 1, 300 * S_)
    assert (env["acks"], env["people"], env["nobody"]) == (1, {"王洁": 1}, 2)       # the ack and the take: nobody
    log_ = rows["logistics"]
    assert (log_["taken"], log_["take_median_ms"], log_["done"], log_["done_median_ms"]) == (1, 120 * S_, 1, 120 * S_)
    assert rows["sales"]["steps"] == rows["sales"]["acks"] == 0
    for lang, words in (("zh", ("部门与领导终端", "工程部 · 工程部值班", "张工 ×2、李工 ×1", "无人签到 ×2")),
                        ("en", ("Department and leader terminals", "Engineering · Engineering on duty",
                                "张工 ×2, 李工 ×1", "nobody signed in ×2"))):
        text = markdown(report_doc.build(s, lang), {})
        for word in words:
            assert word in text, (lang, word)


def test_an_event_without_terminals_has_no_such_section() -> None:
    s = summarise([], parse(Path("/x/e.toml"), without_terminals(SAMPLE.read_text("utf-8"))).summary())
    assert s.extra["terminals"] == []
    assert "部门与领导终端" not in markdown(report_doc.build(s, "zh"), {})

