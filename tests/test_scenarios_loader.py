"""The scenario loader: the shipped scenarios load; every mistake is refused naming the file, the line and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import loader
from scenarios.loader import ScenarioError
from scenarios.timefmt import TimeFormatError, clock, parse_ms, parse_range

GOOD = '''\
[scenario]
name = "小测试"
name_en = "Small test"
duration = "30m"
seed = 5

[[traffic]]
kind = "arrivals"
guests = 40
doors = "5m"
peak = "10m"
end = "25m"
stations = ["concierge-1"]

[[script]]
at = "12m"
id = "smoke"
station = "lobby-1"
report = "incident_report"
body = { kind = "smoke", severity = 2, location = "茶歇区" }

[[script]]
at = "13m"
id = "calm"
desk = "instruction"
body = { target = "post.lobby", text = "请安抚来宾", ack_required = true }

[[expect]]
kind = "instruction_acknowledged"
ref = "calm"
within = "1m"
'''


def write(tmp_path: Path, text: str, name: str = "drill.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def refused(tmp_path: Path, text: str) -> ScenarioError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        loader.load(path)
    err = info.value
    assert err.path == str(path) and str(path) in str(err)
    return err


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth line containing `needle`: what the loader should point at."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_a_good_scenario_loads(tmp_path):
    sc = loader.load(write(tmp_path, GOOD))
    assert (sc.name, sc.name_en, sc.duration_ms, sc.seed) == ("小测试", "Small test", 30 * 60_000, 5)
    assert sc.event.name_en == "Riverside No.1 Sales Centre Opening Day"   # "sample" by default
    smoke, calm = sc.script
    assert (smoke.at_ms, smoke.station, smoke.type, smoke.ref) == (12 * 60_000, "lobby-1", "incident_report", "smoke")
    assert smoke.body == {"kind": "smoke", "severity": 2, "location": "茶歇区", "note": ""}   # defaults filled
    assert calm.desk and calm.body["target"] == "post.lobby" and calm.body["ack_required"] is True
    assert sc.traffic[0].params["party"] == (1, 4) and sc.traffic[0].params["doors"] == 5 * 60_000
    assert sc.expects[0].params["within"] == 60_000 and sc.expects[0].line == line_of(GOOD, "[[expect]]")


@pytest.mark.parametrize("name", sorted(loader.shipped()))
def test_every_shipped_scenario_loads(name):
    sc = loader.load(loader.shipped()[name])
    assert sc.name and sc.name_en and sc.duration_ms > 0 and sc.expects
    assert loader.find(name) == loader.shipped()[name]
    assert loader.find(name.replace("_", "-")) == loader.shipped()[name]


def test_the_required_scenarios_ship():
    assert {"opening_day", "fire_drill", "power_cut", "rainstorm", "post_offline"} <= set(loader.shipped())


def test_unknown_top_level_table_names_its_line(tmp_path):
    text = GOOD + '\n[weather]\nrain = true\n'
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "[weather]"), "weather")
    assert "unknown key" in err.reason


def test_unknown_key_in_the_second_script_item_names_that_line(tmp_path):
    text = GOOD.replace('body = { target = "post.lobby"', 'colour = "red"\nbody = { target = "post.lobby"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "colour ="), "script[1].colour")
    assert "expected one of" in err.reason


def test_unknown_key_in_scenario_table(tmp_path):
    text = GOOD.replace('seed = 5', 'seed = 5\nweather = "rain"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "weather ="), "scenario.weather")


def test_unknown_report_kind_names_file_line_and_key(tmp_path):
    text = GOOD.replace('report = "incident_report"', 'report = "incident_reprot"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "incident_reprot"), "script[0].report")
    assert 'unknown report kind "incident_reprot"' in err.reason and "incident_report" in err.reason
    assert f"{tmp_path / 'drill.toml'}:{err.line}: script[0].report:" in str(err)


def test_a_desk_only_or_answer_kind_is_not_a_scriptable_report(tmp_path):
    for kind in ("instruction", "instruction_ack", "ack"):
        text = GOOD.replace('report = "incident_report"', f'report = "{kind}"')
        assert refused(tmp_path, text).key == "script[0].report"


def test_a_report_the_post_may_not_send(tmp_path):
    text = GOOD.replace('report = "incident_report"\nbody = { kind = "smoke", severity = 2, location = "茶歇区" }',
                        'report = "car_in"\nbody = {}')
    err = refused(tmp_path, text)
    assert err.line == line_of(text, 'report = "car_in"') and "a Lobby station may not send \"car_in\"" in err.reason


def test_bad_time_names_its_line(tmp_path):
    text = GOOD.replace('at = "12m"', 'at = "noon"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'at = "noon"'), "script[0].at")
    assert '"noon" is not a time' in err.reason and "1h30m" in err.reason


def test_time_after_the_end_is_refused(tmp_path):
    text = GOOD.replace('at = "13m"', 'at = "1h"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'at = "1h"'), "script[1].at")
    assert "after the end of the scenario" in err.reason


def test_unknown_traffic_kind(tmp_path):
    text = GOOD.replace('kind = "arrivals"', 'kind = "parade"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'kind = "parade"'), "traffic[0].kind")
    assert "arrivals" in err.reason


def test_unknown_expectation_kind(tmp_path):
    text = GOOD.replace('kind = "instruction_acknowledged"', 'kind = "everyone_happy"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "everyone_happy"), "expect[0].kind")
    assert "incident_acknowledged" in err.reason


def test_unknown_station_and_wrong_post(tmp_path):
    err = refused(tmp_path, GOOD.replace('station = "lobby-1"', 'station = "lobby-9"'))
    assert err.key == "script[0].station" and "lobby-9" in err.reason
    err = refused(tmp_path, GOOD.replace('stations = ["concierge-1"]', 'stations = ["gate-1"]'))
    assert err.key == "traffic[0].stations" and "is a Gate station; this needs a Concierge station" in err.reason


def test_body_checked_by_the_wire_codec(tmp_path):
    text = GOOD.replace("severity = 2", "severity = 9")
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "severity = 9"), "script[0].body")
    assert "severity" in err.reason


def test_expectation_ref_must_name_a_script_item(tmp_path):
    text = GOOD.replace('ref = "calm"', 'ref = "nothing"')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, 'ref = "nothing"'), "expect[0].ref")


def test_toml_syntax_error_gives_the_parser_line(tmp_path):
    text = GOOD.replace('seed = 5', 'seed = = 5')
    err = refused(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, "seed = = 5"), "(syntax)")


def test_missing_required_key(tmp_path):
    err = refused(tmp_path, GOOD.replace('name_en = "Small test"\n', ""))
    assert err.key == "scenario.name_en" and err.reason == "is required"
    assert err.line == line_of(GOOD, "[scenario]")   # a missing key points at its table


def test_times_and_ranges():
    assert parse_ms("90s") == 90_000 and parse_ms("1h05m") == 3_900_000 and parse_ms("1:05:00") == 3_900_000
    assert parse_ms(12) == 12_000 and parse_ms("2m30s") == 150_000 and parse_range("2m..6m") == (120_000, 360_000)
    assert parse_range("20s") == (20_000, 20_000) and clock(3_900_000) == "1:05:00"
    for bad in ("", "soon", "5 minutes", "25:99:00", -3, True, "6m..2m"):
        with pytest.raises(TimeFormatError):
            parse_range(bad)
