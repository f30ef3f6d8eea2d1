"""Every event.toml error in the chosen language (issue 17): the file, the line and the table, what to write instead.

Table-driven over every refusal the parser has (tests/test_event.py's BAD and the ones below): the
Chinese sentence has no English but what the file itself holds (its keys and values) and the command
to type; the English one no Chinese but the file's; both name the line the mistake is on.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from console.cli_errors import explain
from console.core.event import HubSettings
from console.core.plan_library import PlanFileError
from console.event import plan_files
from console.event.folder import EventFileError, EventFolder, init_folder
from protocols.i18n import t
from protocols.messages import DEPARTMENTS, INCIDENT_KINDS, POSTS
from tests.staff_text import leaks
from tests.test_event import BAD, BASE, MINIMAL, SHIFT, TASK, _sub
from tests.test_plans_library import BAD as PLAN_BAD
from tests.test_plans_library import EVENT as PLAN_EVENT

# The keys a person may write (and meet in a sentence that lists what may be written instead).
KEYS = {"event", "hub", "stations", "desks", "lots", "zones", "departments", "tasks", "roster", "guests", "services",
        "name", "name_en", "date", "doors_open", "lang", "timezone", "id", "post", "capacity", "department",
        "title", "title_en", "due", "blocking", "owner", "station", "staff_no", "from", "to", "vip_spaces", "late_min", "route",
        *(f.name for f in dataclasses.fields(HubSettings)), *POSTS, *DEPARTMENTS,
        "drinks", "tea_break", "cleaning", "restock", "other", "zh", "en", "true", "false", "TOML",
        # examples of what to write instead
        "Asia/Shanghai", "guests.xlsx", ".csv", ".xlsx", ".json"}
ROUTE = '\n[services]\nlate_min = 10\n\n[services.route]\ndrinks = "service"\n'

MORE = [
    ("syntax at the end", BASE + '\n[[lots]]\nid = "p9', "(syntax)"),
    ("station called hub", _sub('id = "gate-1"', 'id = "hub"'), "stations[0].id"),
    ("task title_en too long", BASE + TASK.replace("blocking = true", 'blocking = true\ntitle_en = "' + "x" * 65 + '"'),
     "tasks[0].title_en"),
    ("task owner too long", BASE + TASK.replace("blocking = true", 'blocking = true\nowner = "' + "王" * 65 + '"'),
     "tasks[0].owner"),
    ("too many tasks", BASE + "".join(TASK.replace('id = "power"', f'id = "t{i}"') for i in range(201)), "tasks"),
    ("roster name too long", BASE + SHIFT.replace('name = "王强"', 'name = "' + "王" * 65 + '"'), "roster[0].name"),
    ("staff_no too long", BASE + SHIFT.replace('"S101"', '"' + "9" * 33 + '"'), "roster[0].staff_no"),
    ("rostered twice by name", BASE + (SHIFT.replace('staff_no = "S101"\n', "")) * 2, "roster[1].name"),
    ("roster not a list", 'roster = "gate-1"\n' + MINIMAL, "roster"),
    ("services not a table", 'services = "yes"\n' + MINIMAL, "services"),
    ("service late_min 0", MINIMAL + ROUTE.replace("late_min = 10", "late_min = 0"), "services.late_min"),
    ("service routed nowhere", MINIMAL + ROUTE.replace('"service"', '"kitchen"'), "services.route.drinks"),
    ("unknown service", MINIMAL + ROUTE + 'beer = "service"\n', "services.route.beer"),
    ("unknown key in services", MINIMAL + ROUTE.replace("late_min = 10", "late_min = 10\nlimit = 3"),
     "services.limit"),
]
CASES = BAD + MORE
NO_LINE = {"no [event]"}   # the key is nowhere in the file: the sentence names the table alone


def refusal(tmp_path: Path, text: str) -> EventFileError:
    (tmp_path / "event.toml").write_text(text, "utf-8")
    with pytest.raises(EventFileError) as caught:
        EventFolder(tmp_path).load()
    return caught.value


def written(text: str, path: Path) -> list[str]:
    """What the sentence may quote from the file: its path, its words and values."""
    return [str(path), *KEYS, *re.findall(r"[A-Za-z0-9_.:/\-]+", text), *re.findall(r'"([^"\n]+)"', text)]


def foreign(sentence: str, data: list[str], script: str) -> list[str]:
    for d in sorted(data, key=len, reverse=True):
        sentence = sentence.replace(d, " ")
    return re.findall(script, sentence)


@pytest.mark.parametrize("name,text,key", CASES, ids=[c[0] for c in CASES])
def test_every_event_file_error_is_a_sentence_in_either_language(tmp_path: Path, name: str, text: str,
                                                               key: str) -> None:
    err = refusal(tmp_path, text)
    path = tmp_path / "event.toml"
    assert err.key == key and has_sentence(err), (err.key, err.why)
    zh, en = err.sentence("zh"), err.sentence("en")
    data = written(text, path)
    assert zh.startswith(str(path)) and en.startswith(str(path))
    assert leaks(zh, (), data, {"TOML"}) == [], zh
    assert foreign(en, data, r"[\u3000-\u9fff\uff00-\uffef]+") == [], en
    assert re.search(r"[\u4e00-\u9fff]", err.because("zh")) and err.because("zh") != err.because("en")
    if name not in NO_LINE:
        assert err.line and f"第 {err.line} 行" in zh and f"line {err.line}" in en, zh
        line = text.splitlines()[err.line - 1]
        last = re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", key)[-1] if key != "(syntax)" else ""
        assert last in line or key == "(syntax)" or line.startswith(("[", last)), (line, key)
    assert "Error" not in zh + en and "Traceback" not in zh + en and "'" not in zh


def has_sentence(err: EventFileError) -> bool:
    return t(f"eventfile.why.{err.why}", "zh") != f"eventfile.why.{err.why}"


def test_the_line_and_the_table_are_named_as_a_person_finds_them(tmp_path: Path) -> None:
    err = refusal(tmp_path, _sub('post = "parking"', 'post = "kitchen"'))
    assert err.sentence("zh") == (f"{tmp_path / 'event.toml'} 第 {err.line} 行（第 2 个 [[stations]] 中的 post）："
                                  "\"kitchen\" 不是岗位；可写：gate（门岗）、parking（停车场）、concierge（礼宾）、"
                                  "lobby（大堂）、model_unit（样板间）、engineering（工程部）、environment（环境）、"
                                  "logistics（后勤）、service（客服部）、security（秩序部）、greeter（陪同领导）、sales（销售）")
    assert BASE.splitlines()[err.line - 1] == 'post = "parking"'
    assert "post in [[stations]] number 2" in err.sentence("en")
    syntax = refusal(tmp_path, _sub('name = "测试活动"', 'name = "测试活动'))
    assert BASE.splitlines()[syntax.line - 1] == 'name = "测试活动"' and "不符合 TOML 写法" in syntax.sentence("zh")


def test_the_command_line_says_it_in_the_chosen_language(tmp_path: Path) -> None:
    err = refusal(tmp_path, _sub('lang = "zh"', 'lang = "fr"'))
    assert explain(err, "zh") == (err.sentence("zh"), 2) and "只能填 \"zh\"（中文）或 \"en\"（英文）" in err.sentence("zh")
    assert explain(err, "en")[0] == err.sentence("en") and 'must be zh or en, got "fr"' in err.sentence("en")


def test_no_event_file_and_one_already_there_are_said_too(tmp_path: Path) -> None:
    for err in (refusal_of(lambda: EventFolder(tmp_path).load()),
                refusal_of(lambda: (init_folder(tmp_path), init_folder(tmp_path)))):
        zh = err.sentence("zh")
        assert leaks(zh, (), [str(tmp_path / "event.toml"), "eventdesk init", "--force"]) == [], zh


def refusal_of(do) -> EventFileError:
    with pytest.raises(EventFileError) as caught:
        do()
    return caught.value


# --- plan files: the same sentences, the same checks (tests/test_plans_library.py's BAD) --------------------------

PLAN_KEYS = {"enabled", "owner", "auto_start", "rearm_s", "summary", "summary_en", "all_clear", "all_clear_en",
             "triggers", "steps", "incident", "min_severity", "lot", "zone", "post_silent", "at_percent", "after_s",
             "due_s", "do", "do_en", "posts", "say", "say_en", "gate", "hold", "resume", "fire.toml"}


@pytest.mark.parametrize("name,text,key,_", PLAN_BAD, ids=[c[0] for c in PLAN_BAD])
def test_every_plan_file_error_is_a_sentence_in_either_language(tmp_path: Path, name: str, text: str, key: str,
                                                              _: str) -> None:
    path = tmp_path / "test_plan.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(PlanFileError) as caught:
        plan_files.load_file(path, PLAN_EVENT)
    err = caught.value
    assert has_sentence(err), err.why
    zh, en = err.sentence("zh"), err.sentence("en")
    areas = [a.id for a in (*PLAN_EVENT.lots, *PLAN_EVENT.zones)]
    data = [*written(text, path), *PLAN_KEYS, *INCIDENT_KINDS, *areas]
    assert leaks(zh, (), data, {"TOML"}) == [], zh
    assert foreign(en, data, r"[\u3000-\u9fff\uff00-\uffef]+") == [], en
    last = re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", key)[-1] if not key.startswith("(") else ""
    if key == "(syntax)" or re.search(rf"^\s*(\[\[)?{last}\b", text, re.M):   # written somewhere: its line
        assert err.line and f"第 {err.line} 行" in zh, zh
