"""The command line speaks the chosen language: its help and argparse's own words, --lang else LANG else Chinese."""
from __future__ import annotations

import argparse

import pytest

from console import cli
from console.cli_words import cli_lang


@pytest.fixture(autouse=True)
def _argparse_restored(monkeypatch):
    monkeypatch.setattr(argparse, "_", argparse._)   # put back whatever speak() installs


def help_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        cli.parse_args([*argv, "--help"])
    return capsys.readouterr().out


def test_help_is_chinese_unless_english_is_asked_for(monkeypatch, capsys) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    zh = help_of(capsys, "demo")
    assert zh.startswith("用法：eventdesk demo") and "显示本帮助并退出" in zh and "默认 18" in zh
    assert "show this help" not in zh and "default 18" not in zh
    en = help_of(capsys, "demo", "--lang", "en")
    assert en.startswith("usage: eventdesk demo") and "default 18: the 3-hour opening day" in en
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert help_of(capsys, "report").startswith("usage: ")
    assert help_of(capsys, "report", "--lang=zh").startswith("用法：")


def test_a_wrong_command_line_is_told_in_the_same_language(monkeypatch, capsys) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    with pytest.raises(SystemExit) as done:
        cli.parse_args(["demo", "--bogus"])
    assert done.value.code == 2 and capsys.readouterr().err.strip().endswith("eventdesk：错误：无法识别的参数：--bogus")
    with pytest.raises(SystemExit):
        cli.parse_args(["report"])
    assert "缺少以下参数：dir" in capsys.readouterr().err


def test_the_language_is_read_from_the_command_line_first() -> None:
    assert cli_lang(["desk", "x", "--lang", "en"]) == "en" and cli_lang(["--lang=zh"]) == "zh"
    assert cli_lang(["--lang", "fr"]) in ("zh", "en")


def test_init_and_keys_say_what_they_did_in_the_chosen_language(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert cli.main(["init", str(tmp_path / "ev"), "--date", "2027-03-01"]) == 0
    said = capsys.readouterr().out
    assert "示例活动日期为 2027-03-01，09:30 开门" in said and "下一步：eventdesk hub" in said
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert cli.main(["keys", str(tmp_path / "ev")]) == 0
    assert "keypairs in" in capsys.readouterr().out
