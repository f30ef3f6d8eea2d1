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


def test_the_english_log_keeps_its_words_and_figures() -> None:
    said = lines("en")
    assert said[1] == "#7 East gate: Car in (plate 湘A·12345, VIP flag yes, lot Surface lot)"
    assert "target time 10:30:00" in said[2] and said[5].endswith("a gate may not report that")
    typed = ("湘A·12345", "暂停放行", "伪造", "大堂东侧")   # what people typed stays as typed
    assert not [s for s in said if re.search(r"[\u4e00-\u9fff]", re.sub("|".join(typed), "", s))]
    assert said[-1] == ("hub stopped: received 10, stored 8, duplicates 1, rejected 1, asked to resend 0, denied keys 0, "
                        "dropped frames 0, replies not sent 0, refused subscriptions 0")   # tests/faultkit.py reads it
