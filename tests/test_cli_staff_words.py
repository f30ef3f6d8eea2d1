"""What the command line says in Chinese has no ids and no English (issue 17): output, failures, `archive --verify`.

In-process (cli.main, nothing started): init, keys, report and archive as they succeed, and the
failures a person meets first — no event, a bad event.toml, no log, a missing or damaged archive.
Everything printed is scanned with the staff-text scanner; paths and commands to type are data.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.cli import main
from console.event.folder import EventFolder
from tests.report_fixture import make_folder
from tests.staff_text import event_ids, leaks, plan_ids
from tests.test_event_words import KEYS

COMMANDS = ["eventdesk init", "eventdesk keys", "eventdesk hub", "--force", "SHA-256", "MANIFEST.sha256"]


@pytest.fixture(autouse=True)
def _chinese_machine(monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")     # no --lang and no English LANG: Chinese


def said(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def scan(text: str, root: Path, ids: set[str], data: tuple[str, ...] = ()) -> list[str]:
    """Leaks in `text`; paths, commands and the keys and values an event.toml error tells to write are data."""
    paths = re.findall(rf"{re.escape(str(root))}[^\s，。：（）]*", text)
    return leaks(text, ids | plan_ids(), [*paths, *COMMANDS, "eventdesk", *KEYS, *data])


def test_what_the_command_line_says_in_chinese(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ev"
    assert said(capsys, "init", str(root), "--date", "2027-03-01")[0] == 0
    ids = event_ids(EventFolder(root).load().summary() | {"tasks": []})
    texts = [said(capsys, "init", str(root))[1],                           # already there
             said(capsys, "keys", str(root))[1]]
    toml = EventFolder(root).toml
    good = toml.read_text("utf-8")
    toml.write_text(good.replace('post = "gate"', 'post = "gat"', 1), "utf-8")
    texts.append(said(capsys, "report", str(root))[1])                    # a bad event.toml
    toml.write_text(good.replace("[hub]", "[hub]\nport = 7750", 1), "utf-8")
    texts.append(said(capsys, "archive", str(root))[1])
    toml.write_text(good, "utf-8")
    texts.append(said(capsys, "report", str(root))[1])                    # no log yet
    texts.append(said(capsys, "hub", str(tmp_path / "nothing"))[1])       # no event here
    texts.append(said(capsys, "archive", "--verify", str(tmp_path / "none.tar.gz"))[1])
    text = "\n".join(texts)
    assert "第" in text and "行" in text and "[hub] 中的 port" in text and "Error" not in text
    assert scan(text, tmp_path, ids, ("gat", "port")) == [], text


def test_a_report_and_a_damaged_archive_are_told_in_chinese(tmp_path: Path, capsys) -> None:
    folder = make_folder(tmp_path / "event")
    code, wrote = said(capsys, "report", str(folder.root))
    assert code == 0 and "已写入" in wrote
    code, made = said(capsys, "archive", str(folder.root))
    assert code == 0
    archive = next((folder.root / "archive").glob("*.tar.gz"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 3] ^= 0x10
    archive.write_bytes(data)
    code, verdict = said(capsys, "archive", "--verify", str(archive))
    assert code == 1 and "文件内容与清单不符：report/" in verdict
    ids = event_ids(folder.load().summary() | {"tasks": []})
    members = re.findall(r"report/[\w./-]+", verdict)      # the files that changed, by their names in the archive
    digests = re.findall(r"[0-9a-f]{64}", made)            # the archive's SHA-256, to keep elsewhere
    assert scan("\n".join([wrote, made, verdict]), tmp_path, ids, (*members, *digests)) == [], verdict


# --- `eventdesk rehearse` that cannot start: a bad scenario file, no such scenario, a bad speed or station ----------

def test_a_rehearsal_that_cannot_start_is_told_in_chinese(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")     # one sentence a line: a path is not cut by the terminal's width
    from scenarios import expectations, generators, loader
    from tests.test_scenario_words import IDS
    from tests.test_scenarios_loader import GOOD
    bad = tmp_path / "drill.toml"
    bad.write_text(GOOD.replace('report = "incident_report"', 'report = "car_in"'), "utf-8")
    good = tmp_path / "good.toml"
    good.write_text(GOOD, "utf-8")
    ev = tmp_path / "ev"
    runs = [("rehearse", str(bad), "--headless", "--dir", str(ev)),                   # a report the post may not send
            ("rehearse", "nothing_at_all", "--headless"),                              # no such scenario
            ("rehearse", str(good), "--headless", "--dir", str(ev), "--speed", "0"),    # speed out of range
            ("rehearse", str(good), "--headless", "--dir", str(ev), "--leave", "nobody"),   # no such station
            ("demo", "--headless", "--dir", str(ev), "--speed", "-1"),
            ("rehearse",)]                                                                  # no scenario named
    texts = []
    for argv in runs:
        code, text = said(capsys, *argv)
        assert code == 2 and text.strip(), (argv, text)
        texts.append(text)
    text = "\n".join(texts)
    assert "大堂的终端不能发送" in text and "没有这个演练场景" in text and "速度须大于 0" in text, text
    assert "本活动没有这些终端或岗位：nobody" in text and "可用场景：fire_drill、" in text, text
    # What may be written instead (report kinds, shipped scenarios) is the file's own words, not a leak.
    may_write = IDS | set(loader.shipped()) | set(generators.KINDS) | set(expectations.KINDS)
    assert scan(text, tmp_path, set(), (*may_write, ".toml", "--compare A.json B.json", "nothing_at_all", "nobody")) == [], text


# --- a newcomer's first mistakes on the one-shot report, and what --help says of the plain arguments ----------------

def test_an_unknown_report_kind_lists_what_the_post_can_send(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ev"
    assert said(capsys, "init", str(root), "--date", "2027-03-01")[0] == 0
    code, text = said(capsys, "station", "report", str(root), "gate-1", "car_inn")
    assert code == 2 and "“car_inn”" in text and "门岗" in text and "car_in（车辆入场）" in text
    # Only what a gate may send: a zone count is the lobby's, a phone pairing the station server's.
    assert "zone_enter" not in text and "phone_" not in text
    code, text = said(capsys, "station", "report", str(root), "gate-1", "zone_enter", "--lang", "en")
    assert code == 2 and '"zone_enter"' in text and "car_in (Car in)" in text
    # The refusal came before any link: nothing waits in the gate's outbox.
    assert not EventFolder(root).outbox("gate-1").exists()


@pytest.mark.parametrize("argv", [["station", "report"], ["hub"], ["init"], ["stations", "serve"], ["report"]])
def test_every_plain_argument_has_a_line_in_help(capsys, argv) -> None:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    text = capsys.readouterr().out
    assert "活动目录" in text
    if "station" in argv and "report" in argv:
        assert "终端编号" in text and "演练" in text
    # Every argument and option line says what it is: a name alone on its line is a bare argument.
    names = [line.strip() for line in text.splitlines() if re.fullmatch(r"  [-a-zA-Z][-a-zA-Z0-9_, {}.]*", line)]
    assert names == [], text


def test_a_wrong_date_is_told_in_chinese(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["init", str(tmp_path / "ev"), "--date", "2027-13-01"])
    err = capsys.readouterr().err
    assert "“2027-13-01”不是日期" in err and "is not a date" not in err
