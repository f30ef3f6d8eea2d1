"""`eventdesk report DIR`: the Markdown, HTML, CSV and JSON files, escaping, the rehearsal part, and the page in Chromium."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from console.cli import main
from console.report import charts as report_charts
from console.report import files as report_io
from tests.report_fixture import EVENTS, LOCATION_EVIL, T0, make_folder, scorecard, write_scorecard
from tests.staff_text import leaks, plan_ids

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = make_folder(tmp_path_factory.mktemp("ev") / "event")
    assert main(["report", str(folder.root), "--lang", "both"]) == 0
    return folder


def read(folder, name: str) -> str:
    return (folder.report_dir / name).read_text("utf-8")


def test_the_command_writes_every_file(written, capsys):
    r = written.report_dir
    for name in ("summary.zh.md", "summary.en.md", "summary.zh.html", "summary.en.html", "summary.json"):
        assert (r / name).stat().st_size > 0, name
    charts = sorted(p.name for p in (r / "summary-charts").iterdir())
    assert charts == sorted(f"{c}.{lang}.svg" for c in ("people", "cars", "zones", "incidents") for lang in ("zh", "en"))
    tables = sorted(p.stem for p in (r / "summary-csv").iterdir())
    assert tables == sorted(["minutes", "incidents", "incident_history", "plan_steps", "findings", "notes",
                             "stations", "delivery", "rejections", "continuity", "areas"])
    assert not list(r.rglob("*.tmp"))


def test_markdown_carries_the_figures_in_each_language(written):
    zh, en = read(written, "summary.zh.md"), read(written, "summary.en.md")
    assert zh.startswith("# 后期总结：滨江壹号开放日") and en.startswith("# Post-event summary: Riverside Open Day")
    assert "| 现场人数峰值 | 5 | 18:00:30 |" in zh        # T0 + 30 s on the event's clock (+08:00)
    assert "| Peak guests on site | 5 | 18:00:30 |" in en
    assert "| Surface lot peak / spaces | 10 / 10 |" in en
    assert "| Show flat peak / capacity | 5 / 4 |" in en
    assert "| Fire | 0 | 0 | 0 | 1 | 1 |" in en and "| 急救 | 0 | 0 | 1 | 0 | 1 |" in zh
    assert r"| 1 | Order \& Security | Close the car entrance | 1 min 00 s | 15 s | East gate | early |" in en
    assert "| 3 | 工程部 | 切断非消防电源 | 1 分 00 秒 | — | — | 逾期未完成 |" in zh
    assert "yet the gate let 2 car(s) in meanwhile." in en
    assert "![Lot occupancy (dashed: spaces) and cars in and out per minute](summary-charts/cars.en.svg)" in en
    assert "| 0 s – 1 s | 20 |" in en and "| Lobby post | 2 | 1 | 1 min 40 s | 3 min 20 s | 0 |" in en
    assert "The log cannot count duplicates absorbed" in en and "1 gap(s), 0 conflict(s)." in en


def test_station_text_is_shown_literally_never_as_markup(written):
    for lang in ("zh", "en"):
        md, page = read(written, f"summary.{lang}.md"), read(written, f"summary.{lang}.html")
        # No "<" and no "]" that Markdown could act on: each is escaped with a backslash.
        text = "\n".join(line for line in md.splitlines() if not line.startswith("!["))   # our chart links
        assert not re.search(r"(?<!\\)[<\]]", text)
        assert r"\<script\>alert(1)\</script\>" in md and r"\*\*bold\*\*" in md and r"\|" in md
        # The page has no script at all, and the note is there as text.
        assert "<script" not in page.lower() and "<img" not in page.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "B1 &lt;img src=x onerror=alert(1)&gt;" in page


def test_the_page_is_self_contained(written):
    page = read(written, "summary.zh.html")
    assert page.count("<svg") == 4 and 'lang="zh-CN"' in page
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)    # nothing fetched from anywhere
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def table(folder, name: str) -> list[dict[str, str]]:
    """A CSV of the summary as Excel reads it (a byte-order mark first), keyed by its Chinese headers."""
    raw = (folder.report_dir / "summary-csv" / f"{name}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_tables_hold_the_raw_figures_and_defuse_formulas(written):
    rows = table(written, "minutes")
    assert len(rows) == 11 and [int(r["现场人数"]) for r in rows] == [5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1]
    assert "停车场：地面停车场" in rows[0] and not [h for h in rows[0] if "." in h]    # lots by name, never lot.p1
    incidents = table(written, "incidents")
    assert [(r["编号"], r["确认用时（秒）"], r["解决用时（秒）"]) for r in incidents] == [("10", "20.0", "470.0"),
                                                                               ("17", "180.0", "")]
    assert incidents[0]["地点"] == LOCATION_EVIL
    notes = table(written, "notes")
    assert notes[0]["内容"].startswith("'=HYPERLINK")     # a spreadsheet shows it, never runs it


def test_csv_headers_are_in_the_chosen_language(written, tmp_path):
    summary, _, _ = report_io.read_summary(written)
    zh, en = (report_io.csv_tables(summary, lang) for lang in ("zh", "en"))
    assert zh["areas"][0][:3] == ["类别", "编号", "容量"] and en["areas"][0][:3] == ["kind", "id", "capacity"]
    assert [row[0] for row in zh["areas"][1]] == ["停车场", "停车场", "区域", "区域"]
    for name, (head, _) in zh.items():
        assert leaks(" ".join(head), plan_ids()) == [], name
        assert not [h for h in head if h.startswith("report.csv")], name


def test_json_is_the_summary(written):
    data = json.loads(read(written, "summary.json"))
    assert data["events"] == len(EVENTS) and data["guests"]["peak"] == 5 and data["drill"] is False


def test_charts_never_fall_back_to_english(written, monkeypatch, tmp_path):
    # Without a CJK font of this machine's, the bundled one draws (tests/test_report_charts_font.py proves its glyphs).
    summary, _, _ = report_io.read_summary(written)
    monkeypatch.setattr(report_charts, "cjk_font", lambda: None)
    done = report_io.write_files(summary, tmp_path, ("zh",))
    md = (tmp_path / "summary.zh.md").read_text("utf-8")
    assert "英文标注" not in md and "到达" in (tmp_path / "summary.zh.html").read_text("utf-8")
    assert len(done.files) > 4


@pytest.mark.wire
def test_a_cjk_font_is_found_here_or_the_reason_is_known():
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        pytest.skip("no CJK font on this machine (fonts-noto-cjk): charts fall back to English")
    assert report_charts.cjk_font()


def test_no_log_is_one_sentence_and_exit_2(tmp_path, capsys):
    folder = make_folder(tmp_path / "ev")
    folder.db().unlink()
    assert main(["report", str(folder.root), "--lang", "en"]) == 2
    assert "there is no log to summarise yet" in capsys.readouterr().err


def test_a_rehearsal_report_has_the_scorecard_and_earlier_runs(tmp_path, capsys):
    folder = make_folder(tmp_path / "ev", drill=True)
    write_scorecard(folder, scorecard(1, 26, T0 - 86_400_000, ack=90_000, met=1, missed=2),
                    "rehearsal-fire_drill-20261204-100000.json")
    write_scorecard(folder, scorecard(1, 26, T0, ack=20_000), "rehearsal-fire_drill-20261205-100000.json")
    (folder.report_dir / "rehearsal-broken.json").write_text("{not json", "utf-8")
    assert main(["report", str(folder.root), "--drill", "--lang", "en"]) == 0
    md = (folder.report_dir / "drill-summary.en.md").read_text("utf-8")
    assert md.startswith("# Rehearsal summary: Riverside Open Day")
    assert "This summarises the rehearsal log (rehearsal.db), not the live event." in md
    assert "## Drill scorecard and earlier rehearsals" in md
    assert "| fire acknowledged within 60 s | ✔ met | 20 s | 1 min 00 s |  |" in md
    # Both runs listed, this one marked; and the expectation compared with the previous run.
    assert md.count("| Fire drill | 7 | ×10 |") == 2 and " ◀ |" in md
    assert "| fire acknowledged within 60 s | ✘ missed 1 min 30 s | ✔ met 20 s | -1 min 10 s |" in md
    assert not (folder.report_dir / "summary.en.md").exists()       # live and rehearsal files never mix


def test_a_rehearsal_report_covers_only_the_newest_runs_span(tmp_path):
    folder = make_folder(tmp_path / "ev", drill=True)
    write_scorecard(folder, scorecard(11, 20, T0), "rehearsal-fire_drill-20261205-100000.json")
    summary, cards, latest = report_io.read_summary(folder, drill=True)
    assert (summary.first_gseq, summary.last_gseq, summary.events) == (11, 20, 10)
    assert latest is cards[-1]
    # Rejections outside the span's receive times are left out: only mu-1's at 210 s is inside (130..400 s).
    assert summary.rejections["total"] == 1
    whole, _, _ = report_io.read_summary(folder, drill=True, whole_log=True)
    assert whole.events == len(EVENTS)


def test_a_live_log_is_not_read_as_a_rehearsal(tmp_path, capsys):
    folder = make_folder(tmp_path / "ev")
    folder.db().rename(folder.db(drill=True))
    assert main(["report", str(folder.root), "--drill", "--lang", "en"]) == 2
    assert "cannot be opened as a rehearsal log" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium): no screenshot")
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.wire
def test_the_page_renders_in_headless_chromium(written, lang, tmp_path):
    shot = tmp_path / f"summary-{lang}.png"
    page = written.report_dir / f"summary.{lang}.html"
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000    # a page with text and charts, not blank
    keep = Path("/tmp/eventdesk-report-shots")      # kept for a person to look at
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / shot.name)


def test_an_empty_log_still_makes_every_file(tmp_path, capsys):
    folder = make_folder(tmp_path / "ev")
    folder.db().unlink()
    from console.hub.store import Store
    Store(folder.db(), writer=True).close()                      # a hub started, nothing reported yet
    assert main(["report", str(folder.root), "--lang", "en"]) == 0
    md = (folder.report_dir / "summary.en.md").read_text("utf-8")
    assert "The log holds no events: there is nothing to summarise." in md
    assert "No incident was reported." in md and "No plan ran." in md
    assert len(list((folder.report_dir / "summary-charts").glob("*.en.svg"))) == 4
