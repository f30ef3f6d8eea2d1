"""The desk's notices, pure: one line per cause with its repeats counted, errors first, each gone after its time."""
from __future__ import annotations

from console.desk.notices import Notices
from console.desk.widgets.notices import lines, rows_for


def test_the_same_cause_again_counts_on_its_line_and_stands_longer() -> None:
    n = Notices()
    n.add("西门岗离线", "warning", 10, now_ms=0)
    n.add("西门岗离线", "error", 10, now_ms=4_000)
    (only,) = n.live(5_000)
    assert (only.count, only.severity, only.until_ms) == (2, "error", 14_000)
    assert n.live(13_999) and not n.live(14_000)


def test_a_cause_groups_different_words_and_the_latest_words_show() -> None:
    n = Notices()
    n.add("告警：身份不符 1", "warning", 10, now_ms=0, cause="identity:gate-2")
    n.add("告警：身份不符 2", "warning", 10, now_ms=1, cause="identity:gate-2")
    n.add("已提交：值班记录", "information", 4, now_ms=2)
    live = n.live(3)
    assert [x.text for x in live] == ["告警：身份不符 2", "已提交：值班记录"]
    assert live[0].count == 2


def test_errors_come_first_then_the_newest() -> None:
    n = Notices()
    n.add("a", "information", 10, now_ms=0)
    n.add("b", "error", 10, now_ms=1)
    n.add("c", "information", 10, now_ms=2)
    assert [x.text for x in n.live(3)] == ["b", "c", "a"]


def test_a_cause_told_after_its_notice_went_starts_again_at_one() -> None:
    n = Notices()
    n.add("x", "information", 1, now_ms=0)
    n.add("x", "information", 1, now_ms=5_000)
    assert n.live(5_001)[0].count == 1


def test_the_bar_shows_two_at_80x24_and_says_how_many_more() -> None:
    n = Notices()
    for i in range(5):
        n.add(f"提示 {i}", "information", 10, now_ms=i)
    text = lines(n.live(10), rows_for(24), "zh").plain.splitlines()
    assert text == ["● 提示 4", "● 提示 3", "另有 3 条提示"]
    assert rows_for(48) == 4
    n.add("提示 4", "information", 10, now_ms=11)
    assert lines(n.live(12), 4, "en").plain.splitlines()[0] == "● 提示 4 (×2)"
