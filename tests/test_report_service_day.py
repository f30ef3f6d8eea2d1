"""The summary's service half (console/report/service_day.py) from a hand-written log, against hand counts, in both languages."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.event.folder import parse
from console.hub.store import Store
from console.report import doc as report_doc
from console.report import text as rt
from console.report.render import markdown
from console.report.summary import summarise
from tests.report_fixture import EVENT_TOML, T0, S, write_log
from tests.staff_text import event_ids, leaks, plan_ids

# T0 is 18:00 on the event day (Asia/Shanghai); doors open at 18:05, i.e. 300 s after T0.
SERVICE_TOML = EVENT_TOML.replace('lang = "zh"', 'lang = "zh"\ndoors_open = "18:05"') + """
[[tasks]]
id = "t1"
department = "security"
title = "检查消防通道"
title_en = "Check the fire lanes"
blocking = true

[[tasks]]
id = "t2"
department = "security"
title = "对讲机分发"
title_en = "Hand out radios"

[[tasks]]
id = "t3"
department = "engineering"
title = "空调预冷"
title_en = "Cool the halls"
due = -2

[[tasks]]
id = "t4"
department = "environment"
title = "大堂保洁"
title_en = "Clean the lobby"

[[roster]]
station = "gate-1"
name = "张三"
staff_no = "S1"
from = "18:00"

[[roster]]
station = "lobby-1"
name = "李四"
from = "18:01"

[[roster]]
station = "conc-1"
name = "王五"
staff_no = "S3"
from = "18:01"

[[roster]]
station = "park-1"
name = "赵六"
staff_no = "S4"
from = "18:02"
"""

GUESTS = [{"ref": "G1", "name": "省考察团", "level": "A", "party": 3},
          {"ref": "G2", "name": "李先生", "level": "C", "party": 2},
          {"ref": "G3", "name": "市接待组", "level": "B", "party": 4}]


def _vip(target: str) -> dict:
    return {"target": target, "text": "贵宾到达", "ack_required": True, "guest": "G1", "notice": "vip"}


# (seconds after T0, station, seq, type, body, delay); gseq is the line's number.
EVENTS = [
    (0, "hub", 1, "guest_list", {"guests": GUESTS, "digest": "x", "source": "guests.json"}, 0),     # 1
    (0, "gate-1", 1, "staff_signin", {"name": "张三", "staff_no": "S1"}, 100),                      # 2 on time
    (60, "gate-1", 2, "task_signoff", {"task": "t1"}, 100),                                          # 3 on time
    (90, "lobby-1", 1, "staff_signin", {"name": "李四"}, 100),                                       # 4 30 s late
    (100, "park-1", 1, "staff_signin", {"staff_no": "S4"}, 100),                                     # 5 on time
    (130, "gate-1", 3, "guest_arrival", {"count": 3, "guest_ref": "G1", "vip_level": "A"}, 100),    # 6
    (131, "hub", 2, "instruction", _vip("post.parking"), 0),                                         # 7
    (131, "hub", 3, "instruction", _vip("post.concierge"), 0),                                       # 8
    (131, "hub", 4, "instruction", _vip("post.lobby"), 0),                                           # 9
    (151, "park-1", 2, "instruction_ack", {"instruction": 7}, 100),                                  # 10 20 s
    (200, "desk-1", 1, "task_signoff", {"task": "t4"}, 100),                                         # 11 on time
    (200, "lobby-1", 2, "guest_checkin", {"guest_ref": "G2", "name": "李先生", "party_size": 2}, 100),  # 12
    (210, "lobby-1", 3, "guest_checkin", {"party_size": 5}, 100),                                    # 13 walk-in
    (250, "lobby-1", 4, "damage_report", {"item": "花瓶", "where": "大堂"}, 100),                     # 14
    (252, "hub", 5, "overdue", {"what": "handoff", "ref": "G1", "target": "lobby", "due_ms": T0 + 251 * S}, 0),
    (260, "mu-1", 1, "damage_report", {"item": "宣传册架", "where": "样板间"}, 100),                  # 16
    (270, "conc-1", 1, "damage_report", {"item": "雨伞", "where": "大堂", "loss": True}, 100),       # 17
    (281, "conc-1", 2, "instruction_ack", {"instruction": 8}, 100),                                  # 18 150 s: late
    (400, "gate-1", 4, "task_signoff", {"task": "t2"}, 100),                                         # 19 100 s late
]


def at(s: int) -> int:
    return T0 + s * S


@pytest.fixture(scope="module")
def event() -> dict:
    return parse(Path("event.toml"), SERVICE_TOML).summary()


@pytest.fixture(scope="module")
def summary(tmp_path_factory, event):
    path = write_log(tmp_path_factory.mktemp("log") / "event.db", events=EVENTS, rejections=[])
    store = Store(path)
    try:
        return summarise(store.since(0), event, store.rejections())
    finally:
        store.close()


def _found(summary, dept: str, side: str) -> list[str]:
    return [f["key"] for f in summary.departments[dept][side]]


def test_preparation_on_time_late_and_never_per_department(summary) -> None:
    prep = summary.extra["service_day"]["preparation"]
    assert [(x["id"], x["result"], x["at_ms"]) for x in prep["tasks"]] == [
        ("t1", "on_time", at(60)), ("t2", "late", at(400)), ("t3", "never", 0), ("t4", "on_time", at(200))]
    assert prep["departments"] == [
        {"department": "security", "on_time": 1, "late": 1, "never": 0, "total": 2},
        {"department": "engineering", "on_time": 0, "late": 0, "never": 1, "total": 1},
        {"department": "environment", "on_time": 1, "late": 0, "never": 0, "total": 1}]
    late = next(f for f in summary.departments["security"]["shortcomings"] if f["key"] == "prep.late")
    assert late["params"]["late_for"] == 100 * S          # due at doors-open (300 s), signed at 400 s
    never = next(f for f in summary.departments["engineering"]["shortcomings"] if f["key"] == "prep.never")
    assert never["params"]["due_at"] == at(180)           # two minutes before doors-open


def test_roster_attendance_per_slot(summary) -> None:
    slots = summary.extra["service_day"]["roster"]["slots"]
    assert [(x["station"], x["name"], x["result"], x["at_ms"]) for x in slots] == [
        ("gate-1", "张三", "on_time", at(0)), ("lobby-1", "李四", "late", at(90)),
        ("conc-1", "王五", "never", 0), ("park-1", "赵六", "on_time", at(100))]   # 赵六 signed in by number only
    on_time = next(f for f in summary.departments["security"]["highlights"] if f["key"] == "roster.on_time")
    assert on_time["params"] == {"n": 2, "of": 2}
    late = next(f for f in summary.departments["service"]["shortcomings"] if f["key"] == "roster.late")
    assert late["params"]["late_for"] == 30 * S


def test_vip_hand_off_per_link(summary) -> None:
    h = summary.extra["service_day"]["handoff"]
    assert (h["parties"], h["alarms"], h["ack_target_ms"]) == (1, 1, 120 * S)
    assert h["links"] == [
        {"link": "parking", "sent": 1, "acked": 1, "late": 0, "missed": 0, "median_ms": 20 * S, "max_ms": 20 * S},
        {"link": "concierge", "sent": 1, "acked": 1, "late": 1, "missed": 0, "median_ms": 150 * S, "max_ms": 150 * S},
        {"link": "lobby", "sent": 1, "acked": 0, "late": 0, "missed": 1, "median_ms": None, "max_ms": None}]
    assert h["missed"] == [{"ref": "G1", "name": "省考察团", "link": "lobby", "ms": at(131)}]
    # Every notice for the rehearsal's scorecard, the lobby's with the alarm the hub raised for it.
    assert [(x["link"], x["ack_ms"], x["alarm_ms"]) for x in h["items"]] == [
        ("parking", at(151), None), ("concierge", at(281), None), ("lobby", None, at(252))]
    assert "handoff.all_acked" in _found(summary, "security", "highlights")
    assert {"handoff.late", "handoff.missed"} <= set(_found(summary, "service", "shortcomings"))


def test_invited_against_arrived_by_level(summary) -> None:
    g = summary.extra["service_day"]["guests"]
    assert (g["listed"], g["listed_people"], g["arrived"], g["arrived_people"]) == (3, 9, 2, 5)
    assert (g["walkin_parties"], g["walkin_people"]) == (1, 5)
    assert [(r["level"], r["listed"], r["listed_people"], r["arrived"], r["arrived_people"]) for r in g["levels"]] == [
        ("A", 1, 3, 1, 3), ("B", 1, 4, 0, 0), ("C", 1, 2, 1, 2)]


def test_damage_and_loss_by_post_and_place(summary) -> None:
    d = summary.extra["service_day"]["damages"]
    assert (d["count"], d["losses"]) == (3, 1)
    assert d["posts"] == [{"post": "lobby", "damage": 1, "loss": 0}, {"post": "model_unit", "damage": 1, "loss": 0},
                          {"post": "concierge", "damage": 0, "loss": 1}]
    assert d["places"] == [("大堂", 2), ("样板间", 1)]
    assert _found(summary, "service", "highlights").count("damage.reported") == 3


def test_every_department_that_did_work_has_a_highlight(summary) -> None:
    for dept in ("security", "service", "environment"):
        assert summary.departments[dept]["highlights"], dept
    # Engineering never signed its task off: no highlight to give, and its shortcoming says so.
    assert _found(summary, "engineering", "highlights") == [] and _found(summary, "engineering", "shortcomings") == ["prep.never"]


def test_the_findings_read_in_both_languages(summary) -> None:
    tz = summary.tz
    late = next(f for f in summary.departments["security"]["shortcomings"] if f["key"] == "prep.late")
    assert rt.finding(late, "zh", tz) == "准备任务“对讲机分发”签收延迟 1 分 40 秒。"
    assert rt.finding(late, "en", tz) == "The preparation task \"Hand out radios\" was signed off 1 min 40 s late."
    missed = next(f for f in summary.departments["service"]["shortcomings"] if f["key"] == "handoff.missed")
    assert rt.finding(missed, "zh", tz) == "18:02:11 省考察团的贵宾交接：大堂交接未确认。"
    assert rt.finding(missed, "en", tz) == "The VIP hand-off of 省考察团 at 18:02:11: Lobby never acknowledged it."


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_has_each_section_with_its_figures(summary, lang) -> None:
    text = markdown(report_doc.build(summary, lang), {})
    heads = {"zh": ("## 前期准备", "## 排班到岗", "## 贵宾交接", "## 邀约与到访", "## 损坏与遗失"),
             "en": ("## Preparation", "## Roster attendance", "## VIP hand-off", "## Invited and arrived",
                    "## Damage and loss")}[lang]
    for head in heads:
        assert head in text
    lead = {"zh": "名单上 3 组 9 人，已到 2 组 5 人；名单外来访 1 组 5 人。",
            "en": "3 parties (9 people) on the list, 2 arrived (5 people); 1 walk-in parties (5 people)."}[lang]
    assert lead in text


def test_the_chinese_sections_show_no_id_and_no_english(summary, event) -> None:
    text = markdown(report_doc.build(summary, "zh"), {})
    typed = ("省考察团", "李先生", "市接待组", "花瓶", "宣传册架", "雨伞", "Asia/Shanghai")
    assert leaks(text.replace("\\", ""), event_ids(event) | plan_ids(), data=typed) == []


def test_a_log_without_sign_offs_or_sign_ins_judges_nobody_on_them(tmp_path, event) -> None:
    """Readiness and the roster not kept on the system: the tables stand, with no "never" findings from them."""
    events = [e for e in EVENTS if e[3] not in ("task_signoff", "staff_signin")]
    path = write_log(tmp_path / "event.db", events=events, rejections=[])
    store = Store(path)
    try:
        s = summarise(store.since(0), event, store.rejections())
    finally:
        store.close()
    keys = {f["key"] for box in s.departments.values() for side in ("highlights", "shortcomings") for f in box[side]}
    assert not keys & {"prep.on_time", "prep.late", "prep.never", "roster.on_time", "roster.late", "roster.never"}
    assert not (s.extra["service_day"]["preparation"]["tracked"] or s.extra["service_day"]["roster"]["tracked"])
    text = markdown(report_doc.build(s, "zh"), {})
    assert "本次开场准备检查没有在系统上进行" in text and "本次排班没有在系统上签到" in text


def test_the_guest_list_logged_before_the_span_still_stands(tmp_path, event) -> None:
    """A rehearsal's hub logs the guest list on start, before the run's span: the summary folds it first (and counts
    it nowhere), or every listed party would read as a walk-in."""
    from console.report.summary import setup_rows
    path = write_log(tmp_path / "event.db", events=EVENTS, rejections=[])
    store = Store(path)
    try:
        alone = summarise(store.since(1), event)
        s = summarise(store.since(1), event, setup=setup_rows(store, 2))
    finally:
        store.close()
    assert (alone.extra["service_day"]["guests"]["listed"], alone.extra["service_day"]["guests"]["walkin_parties"]) == (0, 2)
    g = s.extra["service_day"]["guests"]
    assert (g["listed"], g["arrived"], g["walkin_parties"]) == (3, 2, 1)
    assert "guest_list" not in s.by_type and (s.first_gseq, s.events) == (2, len(EVENTS) - 1)
