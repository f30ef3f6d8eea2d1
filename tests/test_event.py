"""The event folder: the sample loads, keys are made safely and only once, and every mistake in
event.toml is refused with the file and the exact key path named."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
import zmq.auth

from console.cli import main
from console.event.folder import EventFileError, EventFolder, init_folder, make_keys, parse, sample_date, set_endpoints
from protocols import keys
from protocols.messages import DEPARTMENTS

# --- the sample --------------------------------------------------------------------------------


def test_init_folder_writes_a_sample_that_parses(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev", date="2027-03-18")
    assert folder.toml.is_file()
    event = folder.load()
    assert event.name and event.name_en and event.date == "2027-03-18" and event.timezone == "Asia/Shanghai"
    assert [s.id for s in event.stations] == ["gate-1", "gate-2", "parking-1", "parking-2",
                                               "concierge-1", "concierge-2", "lobby-1", "model-1",
                                               # the department and leader terminals (issue 16 item 3)
                                               "eng-1", "env-1", "logistics-1", "service-1", "security-1",
                                               "greeter-1", "sales-1"]
    assert event.station("greeter-1").post == "greeter"
    make_keys(folder)                                  # as `eventdesk init` does: `eventdesk station DIR eng-1` works
    assert all(folder.station_key(s.id).is_file() for s in event.stations)
    assert event.station("parking-2").post == "parking"
    assert event.station("nobody") is None
    assert event.desks == ("desk-1", "desk-2")
    assert [(a.id, a.capacity) for a in event.lots] == [("p1", 80), ("p2", 200)]
    assert [(a.id, a.post) for a in event.zones] == [("lobby", "lobby"), ("model_unit", "model_unit")]
    assert event.departments == DEPARTMENTS
    assert event.hub.heartbeat_s < event.hub.late_s < event.hub.offline_s
    summary = event.summary()
    json.dumps(summary)   # goes on the wire inside welcome: plain data only
    assert summary["late_ms"] == int(event.hub.late_s * 1000)
    assert {s["id"] for s in summary["stations"]} == {s.id for s in event.stations}


# 2026-12-05 15:59:59 UTC is 23:59:59 in Shanghai; one second later it is the 6th there.
LATE_ON_THE_5TH = 1_796_486_399_000


@pytest.mark.parametrize(("now_ms", "day"), [
    (LATE_ON_THE_5TH, "2026-12-12"),
    (LATE_ON_THE_5TH + 1000, "2026-12-13"),
    (1_830_211_200_000, "2028-01-07"),          # 2027-12-31 08:00 +08:00: over the year's end
])
def test_the_sample_is_dated_a_week_ahead_on_its_own_clock(now_ms: int, day: str) -> None:
    assert sample_date(now_ms) == day


def test_init_folder_dates_the_sample_a_week_after_today(tmp_path: Path) -> None:
    before = int(time.time() * 1000)
    event = init_folder(tmp_path / "ev").load()
    after = int(time.time() * 1000)
    assert event.date in {sample_date(before), sample_date(after)}
    doors = event.doors_open_ms
    assert doors - after > 6 * 86_400_000 and all(doors + t.due * 60_000 > after for t in event.tasks), \
        "on the day it is written every preparation task of the sample still lies ahead"


def test_init_on_the_command_line_takes_a_date(tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "ev"), "--date", "2027-03-18"]) == 0
    assert EventFolder(tmp_path / "ev").load().date == "2027-03-18"
    assert "2027-03-18" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["init", str(tmp_path / "ev2"), "--date", "18/03/2027"])
    assert "18/03/2027" in capsys.readouterr().err and not (tmp_path / "ev2").exists()


def test_init_folder_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    folder.toml.write_text(folder.toml.read_text("utf-8").replace("滨江", "江滨"), "utf-8")
    with pytest.raises(EventFileError) as err:
        init_folder(tmp_path / "ev")
    assert err.value.key == "(file)" and err.value.path == str(folder.toml)
    assert "江滨" in folder.toml.read_text("utf-8")
    init_folder(tmp_path / "ev", force=True)
    assert "滨江" in folder.toml.read_text("utf-8")


def test_load_without_event_toml(tmp_path: Path) -> None:
    with pytest.raises(EventFileError) as err:
        EventFolder(tmp_path).load()
    assert err.value.key == "(file)" and "eventdesk init" in err.value.reason


def test_set_endpoints_rewrites_only_the_hub_endpoints(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    set_endpoints(folder, "tcp://127.0.0.1:40001", "tcp://127.0.0.1:40002")
    event = folder.load()
    assert (event.hub.endpoint, event.hub.feed) == ("tcp://127.0.0.1:40001", "tcp://127.0.0.1:40002")


def test_runtime_file_is_read_only_while_its_process_lives(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    assert folder.read_runtime() is None
    folder.write_runtime({"pid": os.getpid(), "endpoint": "tcp://127.0.0.1:1"})
    assert folder.read_runtime()["endpoint"] == "tcp://127.0.0.1:1"
    assert folder.read_runtime(drill=True) is None
    folder.write_runtime({"pid": 2**22 + 12345, "endpoint": "x"})   # above any pid_max: not alive
    assert folder.read_runtime() is None
    folder.runtime().write_text("{not json", "utf-8")
    assert folder.read_runtime() is None


def test_paths_of_the_folder(tmp_path: Path) -> None:
    folder = EventFolder(tmp_path)
    assert folder.db() == tmp_path / "event.db" and folder.db(drill=True) == tmp_path / "rehearsal.db"
    assert folder.station_key("gate-1") == tmp_path / "keys" / "stations" / "gate-1.key_secret"
    assert folder.desk_key("desk-1") == tmp_path / "keys" / "desks" / "desk-1.key_secret"
    assert folder.console_public == tmp_path / "keys" / "console.key"


# --- keys --------------------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_make_keys_modes_and_layout(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    event = folder.load()
    made = make_keys(folder)
    expected = ([folder.console_secret] + [folder.station_key(s.id) for s in event.stations]
                + [folder.desk_key(d) for d in event.desks])
    assert made == expected
    for secret in made:
        public = secret.with_suffix(".key")
        assert _mode(secret) == 0o600, secret
        assert _mode(public) == 0o644, public
        pub, sec = keys.load_pair(secret)
        assert len(pub) == 40 and len(sec) == 40
        assert keys.load_public(public) == pub
        assert zmq.auth.load_certificate(str(public))[1] is None   # the public file holds no secret
    stations = keys.public_keys(folder.keys / "stations")
    assert sorted(stations.values()) == sorted(s.id for s in event.stations)
    assert keys.load_public(folder.console_public) not in stations


def test_make_keys_is_idempotent(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    first = make_keys(folder)
    before = {p: p.read_bytes() for p in folder.keys.rglob("*") if p.is_file()}
    second = make_keys(folder)
    after = {p: p.read_bytes() for p in folder.keys.rglob("*") if p.is_file()}
    assert first == second
    assert before == after


def test_make_keys_adds_only_the_new_station(tmp_path: Path) -> None:
    folder = init_folder(tmp_path / "ev")
    make_keys(folder)
    before = {p: p.read_bytes() for p in folder.keys.rglob("*") if p.is_file()}
    text = folder.toml.read_text("utf-8") + '\n[[stations]]\nid = "gate-3"\npost = "gate"\n'
    folder.toml.write_text(text, "utf-8")
    make_keys(folder)
    after = {p: p.read_bytes() for p in folder.keys.rglob("*") if p.is_file()}
    assert set(after) - set(before) == {folder.station_key("gate-3"), folder.station_key("gate-3").with_suffix(".key")}
    assert all(after[p] == before[p] for p in before)


def test_loading_a_missing_key_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(keys.KeyError_) as err:
        keys.load_pair(tmp_path / "nope.key_secret")
    assert "nope.key_secret" in str(err.value)
    public, _ = keys.create(tmp_path, "x")
    with pytest.raises(keys.KeyError_, match="no secret"):
        keys.load_pair(public)


# --- a table of bad event.toml files -----------------------------------------------------------

BASE = '''desks = ["desk-1"]
departments = ["security", "engineering"]

[event]
name = "测试活动"
date = "2026-12-05"
doors_open = "09:30"
lang = "zh"

[hub]
heartbeat_s = 1.0
late_s = 5.0
offline_s = 15.0

[[stations]]
id = "gate-1"
post = "gate"

[[stations]]
id = "parking-1"
post = "parking"

[[lots]]
id = "p1"
capacity = 80

[[zones]]
id = "lobby"
post = "lobby"
capacity = 150
'''

MINIMAL = '[event]\nname = "x"\ndate = "2026-12-05"\n'
TASK = '\n[[tasks]]\nid = "power"\ndepartment = "engineering"\ntitle = "配电系统检查"\ndue = -120\nblocking = true\n'
SHIFT = '\n[[roster]]\nstation = "gate-1"\nname = "王强"\nstaff_no = "S101"\nfrom = "08:30"\n'


def _sub(old: str, new: str, base: str = BASE) -> str:
    assert base.count(old) == 1, old
    return base.replace(old, new)


BAD = [
    ("syntax error", _sub('name = "测试活动"', 'name = "测试活动'), "(syntax)"),
    ("duplicate table", BASE + "\n[event]\n", "(syntax)"),
    ("no [event]", 'desks = ["desk-1"]\n', "event"),
    ("event not a table", 'event = "party"\n', "event"),
    ("missing name", _sub('name = "测试活动"\n', ""), "event.name"),
    ("name not text", _sub('name = "测试活动"', "name = 7"), "event.name"),
    ("missing date", _sub('date = "2026-12-05"\n', ""), "event.date"),
    ("bad date", _sub('date = "2026-12-05"', 'date = "2026-13-05"'), "event.date"),
    ("date in words", _sub('date = "2026-12-05"', 'date = "next friday"'), "event.date"),
    ("date as a TOML date", _sub('date = "2026-12-05"', "date = 2026-12-05"), "event.date"),
    ("bad doors_open", _sub('doors_open = "09:30"', 'doors_open = "half past nine"'), "event.doors_open"),
    ("bad lang", _sub('lang = "zh"', 'lang = "fr"'), "event.lang"),
    ("unknown time zone", _sub('lang = "zh"\n', 'lang = "zh"\ntimezone = "Beijing"\n'), "event.timezone"),
    ("time zone as an offset", _sub('lang = "zh"\n', 'lang = "zh"\ntimezone = "+08:00"\n'), "event.timezone"),
    ("empty time zone", _sub('lang = "zh"\n', 'lang = "zh"\ntimezone = ""\n'), "event.timezone"),
    ("time zone not text", _sub('lang = "zh"\n', 'lang = "zh"\ntimezone = 8\n'), "event.timezone"),
    ("unknown key at top", "colour = 'red'\n" + BASE, "colour"),
    ("unknown key in event", _sub('lang = "zh"\n', 'lang = "zh"\nvenue = "x"\n'), "event.venue"),
    ("unknown key in hub", _sub("offline_s = 15.0\n", "offline_s = 15.0\nport = 7750\n"), "hub.port"),
    ("unknown key in a station", _sub('post = "parking"\n', 'post = "parking"\ncolour = "red"\n'),
     "stations[1].colour"),
    ("bad post", _sub('post = "parking"', 'post = "kitchen"'), "stations[1].post"),
    ("missing post", _sub('post = "parking"\n', ""), "stations[1].post"),
    ("post not text", _sub('post = "parking"', "post = 3"), "stations[1].post"),
    ("bad station id", _sub('id = "gate-1"', 'id = "Gate 1"'), "stations[0].id"),
    ("missing station id", _sub('id = "gate-1"\n', ""), "stations[0].id"),
    ("duplicate station id", _sub('id = "parking-1"', 'id = "gate-1"'), "stations[1].id"),
    ("stations not tables", "stations = [1]\n" + MINIMAL, "stations[0]"),
    ("stations not a list", 'stations = "gate-1"\n' + MINIMAL, "stations"),
    ("capacity 0", _sub("capacity = 80", "capacity = 0"), "lots[0].capacity"),
    ("negative zone capacity", _sub("capacity = 150", "capacity = -1"), "zones[0].capacity"),
    ("capacity as text", _sub("capacity = 80", 'capacity = "80"'), "lots[0].capacity"),
    ("missing capacity", _sub("capacity = 80\n", ""), "lots[0].capacity"),
    ("duplicate lot", BASE + '\n[[lots]]\nid = "p1"\ncapacity = 5\n', "lots[1].id"),
    ("unknown key in a lot", _sub("capacity = 80\n", "capacity = 80\nlevel = 2\n"), "lots[0].level"),
    ("zone with a bad post", _sub('post = "lobby"', 'post = "roof"'), "zones[0].post"),
    ("lots not a list", 'lots = "p1"\n' + MINIMAL, "lots"),
    ("lots not tables", "lots = [1]\n" + MINIMAL, "lots[0]"),
    ("zones not tables", 'zones = ["lobby"]\n' + MINIMAL, "zones[0]"),
    ("late_s below heartbeat", _sub("late_s = 5.0", "late_s = 0.5"), "hub.late_s"),
    ("late_s above offline", _sub("late_s = 5.0", "late_s = 20.0"), "hub.late_s"),
    ("late_s equal to offline", _sub("late_s = 5.0", "late_s = 15.0"), "hub.late_s"),
    ("heartbeat 0", _sub("heartbeat_s = 1.0", "heartbeat_s = 0"), "hub.heartbeat_s"),
    ("heartbeat as text", _sub("heartbeat_s = 1.0", 'heartbeat_s = "1s"'), "hub.heartbeat_s"),
    ("rate_burst 0", _sub("offline_s = 15.0\n", "offline_s = 15.0\nrate_burst = 0\n"), "hub.rate_burst"),
    ("max_message_bytes 0", _sub("offline_s = 15.0\n", "offline_s = 15.0\nmax_message_bytes = 0\n"),
     "hub.max_message_bytes"),
    ("bad department", _sub('departments = ["security", "engineering"]', 'departments = ["security", "kitchen"]'),
     "departments[1]"),
    ("desk id equal to a station id", _sub('desks = ["desk-1"]', 'desks = ["desk-1", "gate-1"]'), "desks[1]"),
    ("bad desk id", _sub('desks = ["desk-1"]', 'desks = ["Desk 1"]'), "desks[0]"),
    ("desk id not text", _sub('desks = ["desk-1"]', "desks = [1]"), "desks[0]"),
    ("duplicate desk id", _sub('desks = ["desk-1"]', 'desks = ["desk-1", "desk-1"]'), "desks[1]"),
    # preparation tasks, the duty roster and the guest list file
    ("tasks not tables", "tasks = [1]\n" + MINIMAL, "tasks[0]"),
    ("tasks not a list", 'tasks = "power"\n' + MINIMAL, "tasks"),
    ("task of a department the event lacks", BASE + TASK.replace('"engineering"', '"logistics"'), "tasks[0].department"),
    ("task without a title", BASE + TASK.replace('title = "配电系统检查"\n', ""), "tasks[0].title"),
    ("task title too long", BASE + TASK.replace("配电系统检查", "检" * 65), "tasks[0].title"),
    ("task due as text", BASE + TASK.replace("due = -120", 'due = "-2h"'), "tasks[0].due"),
    ("task due a month before", BASE + TASK.replace("due = -120", "due = -50000"), "tasks[0].due"),
    ("blocking task due after the doors open", BASE + TASK.replace("due = -120", "due = 30"), "tasks[0].due"),
    ("blocking not a boolean", BASE + TASK.replace("blocking = true", 'blocking = "yes"'), "tasks[0].blocking"),
    ("unknown key in a task", BASE + TASK.replace("blocking = true", "blocking = true\nlevel = 1"), "tasks[0].level"),
    ("bad task id", BASE + TASK.replace('id = "power"', 'id = "Power Check"'), "tasks[0].id"),
    ("duplicate task", BASE + TASK + TASK, "tasks[1].id"),
    ("roster for an unknown station", BASE + SHIFT.replace('"gate-1"', '"gate-9"'), "roster[0].station"),
    ("roster without a name", BASE + SHIFT.replace('name = "王强"\n', ""), "roster[0].name"),
    ("roster start not a time", BASE + SHIFT.replace('"08:30"', '"8.30am"'), "roster[0].from"),
    ("roster start missing", BASE + SHIFT.replace('from = "08:30"\n', ""), "roster[0].from"),
    ("unknown key in the roster", BASE + SHIFT.replace('from = "08:30"', 'from = "08:30"\nuntil = "17:00"'),
     "roster[0].until"),
    ("same person rostered twice", BASE + SHIFT + SHIFT, "roster[1].staff_no"),
    ("roster not tables", "roster = [1]\n" + MINIMAL, "roster[0]"),
    ("guest list of an unknown kind", 'guests = "guests.xls"\n' + BASE, "guests"),
    ("guest list outside the folder", 'guests = "../guests.csv"\n' + BASE, "guests"),
    ("guest list not text", "guests = 3\n" + BASE, "guests"),
    ("vip_ack_s 0", _sub("offline_s = 15.0\n", "offline_s = 15.0\nvip_ack_s = 0\n"), "hub.vip_ack_s"),
]


def test_base_is_valid() -> None:
    event = parse(Path("/x/event.toml"), BASE)
    assert [s.id for s in event.stations] == ["gate-1", "parking-1"]
    assert event.departments == ("security", "engineering")
    assert parse(Path("/x/event.toml"), MINIMAL).stations == ()
    assert (event.tasks, event.roster, event.guests) == ((), (), "")
    full = parse(Path("/x/event.toml"), 'guests = "来宾.xlsx"\n' + BASE + TASK + SHIFT)
    (task,), (shift,) = full.tasks, full.roster
    assert (task.id, task.department, task.due, task.blocking, task.owner) == ("power", "engineering", -120, True, "")
    assert (shift.station, shift.name, shift.staff_no, shift.start, shift.key) == ("gate-1", "王强", "S101", "08:30",
                                                                                 "gate-1/S101")
    assert full.guests == "来宾.xlsx" and EventFolder("/x").guest_file(full) == Path("/x/来宾.xlsx")
    assert EventFolder("/x").guest_file(event) == Path("/x/guests.json")


@pytest.mark.parametrize("text,key", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_event_file_is_refused_naming_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "event.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(EventFileError) as caught:
        EventFolder(tmp_path).load()
    err = caught.value
    assert err.path == str(path)
    assert err.key == key, f"{err.key!r} != {key!r}: {err}"
    assert str(err).startswith(f"{path}: {key}: ")
    assert err.reason.strip()
