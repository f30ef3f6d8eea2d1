"""The hub's live log in the chosen language (issue 17): stations by name, times on the event's clock, no field ids."""
from __future__ import annotations

import re

from console.event import plan_files
from console.event.folder import SAMPLE, parse
from console.hub.live_words import LiveWords
from protocols.i18n import t
from tests.staff_text import event_ids, leaks, plan_ids

EVENT = parse(SAMPLE, SAMPLE.read_text("utf-8"))   # dated 2026-12-05, on Asia/Shanghai
DUE = EVENT.at_ms("10:30")      # 10:30 on the event's own clock, whatever this machine's zone
ENDPOINTS = ("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751")
SAMPLE_IDS = event_ids(EVENT.summary() | {"stations": [vars(s) for s in EVENT.stations],
                                         "tasks": [vars(x) for x in EVENT.tasks]})


def lines(lang: str) -> list[str]:
    words = LiveWords(EVENT, lang, plan_files.shipped())
    task = EVENT.tasks[0]
    return [
        words.ready(*ENDPOINTS, drill=True, events=42),
        words.stored(7, "gate-1", "car_in", {"plate": "湘A·12345", "vip": True, "lot": EVENT.lots[0].id}),
        words.stored(8, "hub", "overdue", {"task": task.id, "due_ms": DUE, "department": task.department,
                                            "epoch": "3f9c2a7d5e1b4c08"}),
        words.stored(9, "desk-1", "instruction", {"target": "station.gate-2", "text": "暂停放行\n12:00:00 #1 伪造",
                                                 "ack_required": True}),
        words.stored(10, "lobby-1", "incident_report", {"kind": "fire", "severity": 3, "location": "大堂东侧",
                                                       "note": ""}),
        words.refused("gate-1", 12, "car_in", "E_FORBIDDEN", "a gate may not report that", "门岗不能上报。"),
        words.more(3, 120),
        words.stopped(received=10, stored=8, duplicates=1, rejected=1, retry=0, denied=0, dropped=0, unsent=0,
                      refused=0),
    ]


def test_the_live_log_speaks_chinese_with_names_and_the_events_clock() -> None:
    said = lines("zh")
    ready, car, overdue, told, fire, refused, more, stopped = said
    assert ready.startswith(f"系统已启动：{EVENT.name}") and "（演练）" in ready and "42 条记录" in ready
    assert car == f"#7 东门岗：车辆入场（车牌：湘A·12345，{t('field.vip', 'zh')}：是，{t('field.lot', 'zh')}：" \
                  f"{EVENT.lots[0].name}）"
    assert "10:30:00" in overdue and str(DUE) not in overdue and "3f9c2a7d5e1b4c08" not in overdue
    assert EVENT.tasks[0].title in overdue and overdue.startswith("#8 系统：")
    assert told.startswith("#9 1号指挥台：") and "西门岗" in told and "\\n12:00:00" in told and "\n" not in told
    assert "火情" in fire or t("incident.fire", "zh") in fire
    assert refused.startswith("已拒收 东门岗 第 12 条") and refused.endswith("门岗不能上报。")
    assert stopped.startswith("系统已停止：收到 10 条")
    text = "\n".join(said)
    assert leaks(text, SAMPLE_IDS | plan_ids(), [*ENDPOINTS, "湘A·12345", "暂停放行\\n12:00:00 #1 伪造"]) == [], text
    assert not re.search(r"\w+_\w+=|\b\d{13}\b", text)


def test_a_rehearsals_clock_line_shows_its_speed_and_start_but_not_the_scripts_id() -> None:
    """The script's slug is an id (and "fire_drill" is a plan's id too): a CI run's rehearsal log showed
    "演练脚本：fire_drill" whenever that line fell among the second's first twenty."""
    body = {"start_ms": DUE, "ms_per_s": 400_000, "scenario": "fire_drill"}
    for lang in ("zh", "en"):
        line = LiveWords(EVENT, lang, plan_files.shipped()).stored(61, "desk-1", "drill_clock", body)
        assert "fire_drill" not in line and "400000" in line and "10:30:00" in line, line


def test_the_english_log_keeps_its_words_and_figures() -> None:
    said = lines("en")
    assert said[1] == "#7 East gate: Car in (plate 湘A·12345, VIP flag yes, lot Surface lot)"
    assert "target time 10:30:00" in said[2] and said[5].endswith("a gate may not report that")
    typed = ("湘A·12345", "暂停放行", "伪造", "大堂东侧")   # what people typed stays as typed
    assert not [s for s in said if re.search(r"[\u4e00-\u9fff]", re.sub("|".join(typed), "", s))]
    assert said[-1] == ("hub stopped: received 10, stored 8, duplicates 1, rejected 1, asked to resend 0, denied keys 0, "
                        "dropped frames 0, replies not sent 0, refused subscriptions 0")   # tests/faultkit.py reads it


def notice_lines(lang: str) -> list[str]:
    """The hub's own notices as a rehearsal logs them: a service call's, an incident's, a send-off's, a VIP's, a gate
    order's, and a desk assigning an incident to a department."""
    words = LiveWords(EVENT, lang, plan_files.shipped())
    return [
        words.stored(112, "hub", "instruction", {"target": "post.logistics", "text": "【服务需求】物料补充，请接单",
                                                 "ack_required": True, "guest": "111", "notice": "service_new"}),
        words.stored(891, "hub", "instruction", {"target": "post.lobby", "text": "您上报的事件 #688：已解决",
                                                 "guest": "688", "notice": "incident"}),
        words.stored(442, "hub", "instruction", {"target": "post.lobby", "text": "【恭送】", "ack_required": True,
                                                 "notice": "sendoff", "sendoff": 441}),
        words.stored(936, "hub", "instruction", {"target": "post.lobby", "text": "【贵宾到达】", "ack_required": True,
                                                 "guest": "D-01", "notice": "vip"}),
        words.stored(541, "hub", "instruction", {"target": "post.gate", "text": "【车位已满】", "ack_required": True,
                                                 "gate": "hold"}),
        words.stored(1212, "desk-1", "incident_update", {"incident": 1197, "assign": "security", "status": "acknowledged"}),
        words.stored(105, "hub", "overdue", {"what": "sendoff", "ref": "88", "target": "all", "due_ms": DUE}),
    ]


def test_a_notice_names_what_it_is_about_and_its_kind_in_words() -> None:
    """"来宾：4，通知类别：service_new" labelled a call's number as a guest and showed the notice's id (issue 17)."""
    said = notice_lines("zh")
    service, incident, sendoff, vip, gate, assign, overdue = said
    assert "服务需求：#111" in service and "通知类别：新服务需求" in service and "来宾" not in service
    assert "事件：#688" in incident and "通知类别：事件进展" in incident and "来宾" not in incident
    assert "恭送：#441" in sendoff and "通知类别：恭送" in sendoff
    assert "来宾：D-01" in vip and "通知类别：贵宾到达" in vip   # a guest's list reference, as the desk shows it
    assert f"{t('field.gate', 'zh')}：{t('desk.gate.hold', 'zh')}" in gate
    assert f"{t('field.assign', 'zh')}：{t('dept.security', 'zh')}" in assign
    assert f"{t('field.what', 'zh')}：恭送" in overdue
    en = notice_lines("en")
    assert "service request #111" in en[0] and "notice new service request" in en[0] and "guest" not in en[0]
    typed = ["【服务需求】物料补充，请接单", "您上报的事件 #688：已解决", "【恭送】", "【贵宾到达】", "【车位已满】", "D-01"]
    text = "\n".join(said)
    assert leaks(text, SAMPLE_IDS | plan_ids(), typed) == [], text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|\bhold\b|\bsecurity\b", "\n".join(en)), en   # no wire value raw


def test_every_notice_and_gate_order_has_words() -> None:
    from protocols.i18n import has
    from protocols.schema import GATE_ORDERS, NOTICES
    missing = [f"hub.live.notice.{n}" for n in NOTICES if n and not has(f"hub.live.notice.{n}")]
    missing += [f"desk.gate.{g}" for g in GATE_ORDERS if g and not has(f"desk.gate.{g}")]
    whats = ("task", "roster", "handoff", "sendoff", "service")   # console/core's Overdue(what=...)
    missing += [f"hub.live.what.{w}" for w in whats if not has(f"hub.live.what.{w}")]
    assert missing == []


def test_an_alarm_line_names_its_code_counts_times_and_speaks_one_language() -> None:
    body = {"code": "hub_alone", "count": 3, "first_ms": DUE, "last_ms": DUE + 5000,
            "reason": "The other server is out of reach; only one is running",
            "reason_zh": "另一台系统服务器失联，目前只有一台在工作"}
    zh = LiveWords(EVENT, "zh").stored(12, "hub", "alarm", body)
    en = LiveWords(EVENT, "en").stored(12, "hub", "alarm", body)
    assert "hub_alone" not in zh + en and "人数" not in zh and "次数：3" in zh, zh
    assert "另一台系统服务器失联" in zh and "out of reach" not in zh
    assert "out of reach" in en and "另一台" not in en and "times 3" in en, en
    assert leaks(zh, SAMPLE_IDS) == [], zh
