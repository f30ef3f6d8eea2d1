"""Every scenario-file refusal in the chosen language (issue 17): the file, the line and the table, what to write instead.

Table-driven over every reason scenarios/loader.py has (each `why` at least once): the Chinese
sentence has no English but what the file itself holds (its keys and values) and the ids a person
may write instead; the English one has no Chinese but the file's and the names the event gives.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from protocols.i18n import has
from protocols.messages import DEPARTMENTS, INCIDENT_KINDS, POSTS, REGISTRY, SERVICES
from scenarios import expectations, generators, loader
from scenarios.load_errors import ScenarioError
from scenarios.loader import DESK_TYPES, TOP
from tests.staff_text import leaks
from tests.desk_support import SUMMARY
from tests.test_event_words import foreign
from tests.test_scenarios_loader import GOOD

# What a sentence may quote besides the file: the ids that may be written instead, the keys, the examples.
EVENT_IDS = {a["id"] for part in ("stations", "lots", "zones") for a in SUMMARY[part]}   # the sample event's own
IDS = {*EVENT_IDS, *POSTS, *DEPARTMENTS, *INCIDENT_KINDS, *SERVICES, *REGISTRY, *generators.KINDS,
       *expectations.KINDS, *DESK_TYPES, *TOP, *loader.plan_ids(loader.SAMPLE_EVENT),
       *(k for spec in generators.KINDS.values() for k in spec), *(k for e in expectations.KINDS.values() for k in e.params),
       "name", "name_en", "summary", "summary_en", "event", "duration", "seed", "speed", "start", "prepared",
       "ack_delay", "resolve_delay", "step_delay", "assign", "clock_offset_s", "at", "id", "station", "report",
       "desk", "body", "ack_after", "resolve_after", "until", "label", "label_en", "kind", "all", "post", "true",
       "false", "TOML", "90s", "45m", "1h30m", "1:30:00", "2m..6m", "09:00", "1h"}


def sub(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


SCRIPT = '[[script]]\nat = "12m"\nid = "smoke"\nstation = "lobby-1"\nreport = "incident_report"\n'
TRAFFIC = '[[traffic]]\nkind = "arrivals"\nguests = 40\n'
CARS = '\n[[traffic]]\nkind = "cars"\nshare = 0.5\ngates = ["gate-1"]\nlots = ["p1"]\n'
DELEGATION = '\n[[traffic]]\nkind = "delegation"\nat = "5m"\nguests = 5\nconcierge = "concierge-1"\nstay = "10m"\n'
EXPECT = '\n[[expect]]\nkind = "plan_active"\nwithin = "5m"\n'

# (case, scenario text, the key the sentence names, the reason's catalogue name); a bad event file beside it
# is written as event.toml.
CASES = [
    ("syntax", sub("seed = 5", "seed = = 5"), "(syntax)", "syntax"),
    ("syntax at the end", GOOD + '\n[[silence]]\nstation = "gate-1', "(syntax)", "syntax_end"),
    ("table not a table", 'scenario = 5\n', "scenario", "kind"),
    ("item not a table", 'silence = [1]\n' + GOOD, "silence[0]", "kind"),
    ("unknown table", GOOD + "\n[weather]\nrain = true\n", "weather", "unknown_key"),
    ("unknown key", sub("seed = 5", "seed = 5\ncolour = 3"), "scenario.colour", "unknown_key"),
    ("required", sub('name_en = "Small test"\n', ""), "scenario.name_en", "required"),
    ("kind", sub("seed = 5", 'seed = "five"'), "scenario.seed", "kind"),
    ("time of a kind", sub('duration = "30m"', "duration = true"), "scenario.duration", "kind"),
    ("not a time", sub('at = "12m"', 'at = "noon"'), "script[0].at", "not_time"),
    ("negative time", sub('at = "12m"', "at = -5"), "script[0].at", "negative_time"),
    ("range backwards", GOOD + '\n[desk]\nack_delay = "5m..1m"\n', "desk.ack_delay", "backwards"),
    ("after the end", sub('at = "12m"', 'at = "1h"'), "script[0].at", "after_end"),
    ("not a station", sub('station = "lobby-1"', 'station = "lobby-9"'), "script[0].station", "not_station"),
    ("wrong post", sub('stations = ["concierge-1"]', 'stations = ["gate-1"]'), "traffic[0].stations", "wrong_post"),
    ("not a target", sub('target = "post.lobby"', 'target = "post.kitchen"'), "script[1].body", "not_target"),
    ("count", sub("guests = 40", "guests = 0"), "traffic[0].guests", "want_count"),
    ("share", GOOD + CARS.replace("0.5", "2"), "traffic[1].share", "want_share"),
    ("float", GOOD + '\n[[traffic]]\nkind = "requests"\nper_hour = -1\nstations = ["lobby-1"]\nservices = ["drinks"]\n',
     "traffic[1].per_hour", "want_float"),
    ("int", GOOD + DELEGATION + "cars = -2\n", "traffic[1].cars", "want_int"),
    ("not a plan", GOOD + EXPECT + 'plan = "nothing"\n', "expect[1].plan", "not_plan"),
    ("party sizes", sub("guests = 40", "guests = 40\nparty = [5, 1]"), "traffic[0].party", "sizes"),
    ("station list", sub('stations = ["concierge-1"]', 'stations = "concierge-1"'), "traffic[0].stations",
     "station_list"),
    ("closures", GOOD + CARS + 'close = "p1"\n', "traffic[1].close", "closures"),
    ("not a lot", GOOD + CARS + 'close = { p9 = "20m" }\n', "traffic[1].close", "not_lot"),
    ("choose a zone", GOOD + '\n[[traffic]]\nkind = "zones"\nlobby = "roof"\nlobby_station = "lobby-1"\n',
     "traffic[1].lobby", "choose"),
    ("choose a level", GOOD + DELEGATION + 'level = "Z"\n', "traffic[1].level", "choose"),
    ("unknown traffic kind", sub('kind = "arrivals"', 'kind = "parade"'), "traffic[0].kind", "choose"),
    ("unknown expectation kind", sub('kind = "instruction_acknowledged"', 'kind = "everyone_happy"'),
     "expect[0].kind", "choose"),
    ("unknown desk action", sub('desk = "instruction"', 'desk = "dance"'), "script[1].desk", "choose"),
    ("assign to no department", GOOD + '\n[desk.assign]\nsmoke = "kitchen"\n', "desk.assign.smoke", "choose"),
    ("assign an unknown incident", GOOD + '\n[desk.assign]\nalien = "security"\n', "desk.assign.alien",
     "unknown_key"),
    ("not a clock", sub("seed = 5", 'seed = 5\nstart = "9am"'), "scenario.start", "not_clock"),
    ("duration 0", sub('duration = "30m"', "duration = 0"), "scenario.duration", "not_positive"),
    ("speed 0", sub("seed = 5", "seed = 5\nspeed = 0"), "scenario.speed", "not_positive"),
    ("ids twice", sub('id = "calm"', 'id = "smoke"').replace('ref = "calm"', 'ref = "smoke"'), "script",
     "ids_twice"),
    ("needs arrivals", sub(TRAFFIC, '[[traffic]]\nkind = "cars"\nshare = 0.5\ngates = ["gate-1"]\nlots = ["p1"]\n'
                           + "guests = 40\n").replace("guests = 40\n", "", 1).replace(
                               'doors = "5m"\npeak = "10m"\nend = "25m"\nstations = ["concierge-1"]\n', ""),
     "traffic[0].kind", "needs_arrivals"),
    ("event file missing", sub("seed = 5", 'seed = 5\nevent = "nothing.toml"'), "scenario.event",
     "event_unreadable"),
    ("event file bad", sub("seed = 5", 'seed = 5\nevent = "event.toml"'), "scenario.event", "event_bad"),
    ("clock offset", GOOD + '\n[stations]\nclock_offset_s = { "gate-1" = 100000 }\n', "stations.clock_offset_s",
     "offset"),
    ("arrivals out of order", sub('peak = "10m"', 'peak = "3m"'), "traffic[0].peak", "arrivals_order"),
    ("station and desk", sub('desk = "instruction"', 'desk = "instruction"\nstation = "lobby-1"'),
     "script[1].station", "station_or_desk"),
    ("unknown report", sub('report = "incident_report"', 'report = "incident_reprot"'), "script[0].report",
     "unknown_report"),
    ("may not send", sub('report = "incident_report"', 'report = "car_in"'), "script[0].report", "may_not_send"),
    ("desk with a report", sub('desk = "instruction"', 'desk = "instruction"\nreport = "car_in"'),
     "script[1].report", "desk_not_report"),
    ("body refused", sub("severity = 2", "severity = 9"), "script[0].body", "body"),
    ("zone not in the event", GOOD + '\n[[script]]\nat = "20m"\nstation = "lobby-1"\nreport = "zone_count"\n'
     'body = { zone = "roof", count = 3 }\n', "script[2].body", "not_in_event"),
    ("desk answer of a note", GOOD + '\n[[script]]\nat = "20m"\ndesk = "note"\nbody = { text = "好" }\n'
     'ack_after = "1m"\n', "script[2].ack_after", "incident_only"),
    ("silence ends first", GOOD + '\n[[silence]]\nstation = "gate-1"\nat = "10m"\nuntil = "5m"\n',
     "silence[0].until", "until_after_at"),
    ("no such ref", sub('ref = "calm"', 'ref = "nothing"'), "expect[0].ref", "no_ref"),
    ("guest", GOOD + '\n[[guest]]\nname = "张先生"\nlevel = "Z"\n', "guest[0].level", "guest"),
]
BAD_EVENT = '[event]\nname = "测试"\nlang = "fr"\n'


def refusal(tmp_path: Path, text: str) -> ScenarioError:
    (tmp_path / "event.toml").write_text(BAD_EVENT, "utf-8")
    path = tmp_path / "drill.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ScenarioError) as caught:
        loader.load(path)
    return caught.value


def written(text: str, path: Path) -> list[str]:
    """What the sentence may quote: the path, the file's words and values, and what may be written instead."""
    return [str(path), str(path.parent / "event.toml"), str(path.parent / "nothing.toml"), *IDS,
            *re.findall(r"[A-Za-z0-9_.:/\-]+", text), *re.findall(r'"([^"\n]+)"', text)]


def test_the_cases_cover_every_reason_the_loader_gives() -> None:
    source = Path(loader.__file__).read_text("utf-8")
    whys = set(re.findall(r'err\([^,]+, "([a-z_]+)"', source)) | set(re.findall(r'"\(\w+\)", "([a-z_]+)"', source))
    whys |= {"not_time", "negative_time", "backwards", "syntax", "syntax_end"}   # named by timefmt, tomllib
    assert whys - {c[3] for c in CASES} <= {"no_scenario", "unreadable"}, whys - {c[3] for c in CASES}
    for why in whys:
        assert has(f"scenario.why.{why}") or has(f"eventfile.why.{why}"), why


@pytest.mark.parametrize("name,text,key,why", CASES, ids=[c[0] for c in CASES])
def test_every_scenario_file_error_is_a_sentence_in_either_language(tmp_path: Path, name: str, text: str, key: str,
                                                                  why: str) -> None:
    err = refusal(tmp_path, text)
    path = tmp_path / "drill.toml"
    assert (err.key, err.why) == (key, why), (err.key, err.why, err.reason)
    zh, en = err.sentence("zh"), err.sentence("en")
    data = written(text, path)
    assert zh.startswith(str(path)) and en.startswith(str(path))
    assert leaks(zh, (), data, {"TOML"}) == [], zh
    assert foreign(en, data + ["测试"], r"[\u3000-\u9fff\uff00-\uffef]+") == [], en
    assert re.search(r"[\u4e00-\u9fff]", err.because("zh")) and err.because("zh") != err.because("en")
    assert err.line and f"第 {err.line} 行" in zh and f"line {err.line}" in en, zh
    if not key.startswith("(") and why not in ("needs_arrivals", "ids_twice", "kind", "required"):   # these: the table's line
        last = re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", key)[-1]
        assert last in text.splitlines()[err.line - 1], (text.splitlines()[err.line - 1], key)
    assert "Error" not in zh + en and "Traceback" not in zh + en and "'" not in zh, (zh, en)


def test_the_place_is_named_as_a_person_finds_it(tmp_path: Path) -> None:
    err = refusal(tmp_path, sub('report = "incident_report"', 'report = "car_in"'))
    path = tmp_path / "drill.toml"
    assert err.sentence("zh").startswith(f"{path} 第 {err.line} 行（第 1 个 [[script]] 中的 report）：大堂的终端不能发送 "
                                         "\"car_in\"（车辆入场）；它能发送：damage_report（损坏/丢失）、")
    assert err.sentence("en").startswith(f"{path}, line {err.line} (report in [[script]] number 1): a Lobby station "
                                         "may not send \"car_in\" (Car in); it may send: damage_report (Damage or loss), ")
    plan = refusal(tmp_path, GOOD + EXPECT + 'plan = "nothing"\n').sentence("zh")
    assert "fire（" in plan and "预案）" in plan, plan          # plans by id with their names
    kinds = refusal(tmp_path, sub('kind = "instruction_acknowledged"', 'kind = "everyone_happy"')).sentence("zh")
    assert "incident_acknowledged（事件在 … 内确认）" in kinds, kinds   # expectation kinds with their words
    syntax = refusal(tmp_path, sub("seed = 5", "seed = = 5"))
    assert GOOD.splitlines()[syntax.line - 1] == "seed = 5" and "不符合 TOML 写法" in syntax.sentence("zh")


def test_no_such_scenario_and_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        loader.find("nothing_at_all")
    zh = caught.value.sentence("zh")
    assert "没有这个演练场景" in zh and "opening_day" in zh and leaks(zh, (), ["nothing_at_all", ".toml",
                                                                           *loader.shipped()]) == [], zh
    with pytest.raises(ScenarioError) as caught:
        loader.load(tmp_path / "missing.toml")
    zh = caught.value.sentence("zh")
    assert "无法读取场景文件" in zh and leaks(zh, (), [str(tmp_path / "missing.toml")]) == [], zh


def _words(sentence: str) -> list[str]:
    """Each choice a sentence offers as written: its id, and what follows it in brackets (its name)."""
    return re.findall(r"([a-z_]+) ?[（(]([^）)]+)[）)]", sentence)


def test_report_kinds_and_desk_actions_are_named_not_only_ids(tmp_path: Path) -> None:
    """Every report kind and desk action a sentence offers comes with the name staff know it by, in that language."""
    from protocols.i18n import t

    for text in (sub('report = "incident_report"', 'report = "incident_reprot"'),
                 sub('report = "incident_report"', 'report = "car_in"')):
        err = refusal(tmp_path, text)
        for lang in ("zh", "en"):
            named = _words(err.because(lang))
            assert len(named) > 10 and all(name == t(f"type.{kind}", lang) for kind, name in named), (lang, named)
    desk = refusal(tmp_path, sub('desk = "instruction"', 'desk = "dance"'))
    assert "instruction（发送指令）、incident_open（新建事件）、note（值班记录）" in desk.sentence("zh")
    assert "note (duty log entry)" in desk.sentence("en")


def test_a_refusal_of_the_wire_is_quoted_in_the_language_of_the_sentence(tmp_path: Path) -> None:
    """The body the hub would refuse: the sentence quotes the refusal's own Chinese in zh, its English in en."""
    from protocols import codec

    err = refusal(tmp_path, sub("severity = 2", "severity = 9"))
    wire = err.params["cause"]
    assert isinstance(wire, codec.ProtocolError)
    assert wire.zh in err.sentence("zh") and wire.en not in err.sentence("zh")
    assert wire.en in err.sentence("en") and wire.zh not in err.sentence("en")
    assert leaks(err.sentence("zh"), (), written(sub("severity = 2", "severity = 9"), tmp_path / "drill.toml"),
                 {"TOML"}) == []
