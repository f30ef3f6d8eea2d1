"""The summary a manager reads in Chinese names things, never ids: no station, desk, lot, step or plan id, no wire
code, no stray English (docs/GLOSSARY.md); what people typed is shown as typed."""
from __future__ import annotations

import re

import pytest

import html as htmllib

from console.report.files import write_report
from console.report.render import md as md_escape
from tests.report_fixture import LOCATION_EVIL, NOTE_DESK, NOTE_EVIL, make_folder, summary_dict
from tests.staff_text import event_ids, leaks, plan_ids

TYPED = (NOTE_EVIL, LOCATION_EVIL, NOTE_DESK, "general remark", "Asia/Shanghai")   # station words and the event's zone


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = make_folder(tmp_path_factory.mktemp("ev") / "event")
    write_report(folder, langs=("zh",))
    return folder.report_dir


def _html_text(page: str) -> str:
    page = re.sub(r"<(style|script|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"&[a-z]+;", " ", page)


def _md_text(md: str) -> str:
    return re.sub(r"\]\([^)]*\)", "]", md).replace("\\", "")   # image links and markdown escapes


def test_the_chinese_summary_shows_no_id_and_no_english(report) -> None:
    ids = event_ids(summary_dict()) | plan_ids()
    md = (report / "summary.zh.md").read_text("utf-8")
    for typed in sorted(TYPED, key=len, reverse=True):   # shown as typed, escaped for each medium
        md = md.replace(md_escape(typed), " ")
    page = (report / "summary.zh.html").read_text("utf-8")
    for typed in sorted(TYPED, key=len, reverse=True):
        page = page.replace(htmllib.escape(typed, quote=True), " ")
    assert leaks(_md_text(md), ids) == []
    assert leaks(_html_text(page), ids) == []


def test_the_scanner_finds_what_it_looks_for() -> None:
    ids = event_ids(summary_dict()) | plan_ids()
    assert leaks("签到 指挥台 desk-1 · 步骤 s1 · E_SCHEMA · 东门岗 (gate-1) · done", ids) == \
        ["E_SCHEMA", "desk-1", "done", "gate-1", "s1"]
    assert leaks("贵宾 VIP · 湘A·12345 · F5 · meter_entry", ids) == ["meter_entry"]
    assert leaks("note: hello", ids, data=("note: hello",)) == []
