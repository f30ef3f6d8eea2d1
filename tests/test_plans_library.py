"""The plan library: the shipped plans load and read like a property manager's, and every bad plan
is refused at load time naming the file and the key."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import console
from console.cli import main
from console.core import plan_library as L
from console.event import plan_files
from console.event.folder import EventFileError, parse
from protocols import codec
from protocols.messages import DEPARTMENTS, FIELD_POSTS, INCIDENT_KINDS, MAX_NAME, MAX_TEXT, POSTS

SAMPLE = Path(console.__file__).parent / "event" / "sample_event.toml"
EVENT = parse(SAMPLE, SAMPLE.read_text("utf-8"))
SHIPPED = plan_files.shipped(EVENT)
CJK = re.compile(r"[\u4e00-\u9fff]")

REQUIRED = {
    # plan id: the department the procedure gives it to (DOMAIN.md)
    "fire": "security", "power_outage": "engineering", "water_outage": "engineering",
    "water_leak": "engineering", "flooding": "engineering", "medical": "service",
    "crowding": "service", "parking_full": "security", "lost_child": "service", "lost_property": "service",
    # issue 16: what the security department and the weather ask for
    "public_order": "security", "gathering": "security", "suspicious_person": "security", "car_scrape": "security",
    "heat": "service", "thunderstorm": "security", "typhoon": "engineering",
}


# --- the shipped library -------------------------------------------------------------------------

def test_the_product_ships_the_plans_the_procedure_asks_for() -> None:
    assert set(REQUIRED) <= set(SHIPPED.ids())
    for plan_id, owner in REQUIRED.items():
        assert SHIPPED.get(plan_id).owner == owner, plan_id
    assert SHIPPED.ids() == sorted(SHIPPED.ids())
    assert plan_files.shipped() is plan_files.shipped()         # cached when not checked against an event
    assert plan_files.shipped().ids() == SHIPPED.ids()


@pytest.mark.parametrize("plan", SHIPPED.plans, ids=SHIPPED.ids())
def test_every_shipped_plan_speaks_both_languages_and_fits_the_wire(plan: L.Plan) -> None:
    assert CJK.search(plan.name) and not CJK.search(plan.name_en) and len(plan.name) <= MAX_NAME
    assert plan.summary and plan.summary_en and not CJK.search(plan.summary_en)
    assert plan.owner in DEPARTMENTS and plan.steps
    for step in plan.steps:
        assert CJK.search(step.do) and step.do_en and not CJK.search(step.do_en), step.id
        assert step.department in DEPARTMENTS and 0 < step.due_s <= 3600
        assert set(step.posts) <= set(POSTS)
        if step.posts:
            assert CJK.search(step.say) and step.say_en and not CJK.search(step.say_en), step.id
            for text in (f"【{plan.name}】{step.say}", f"[{plan.name_en}] {step.say_en}"):
                assert len(text) <= MAX_TEXT
                assert not codec._CONTROL.search(text)
    for trig in plan.triggers:
        assert trig.kind in ("incident", "lot", "zone", "post_silent")
        if trig.kind == "incident":
            assert trig.subject in INCIDENT_KINDS
    assert bool(plan.all_clear) == bool(plan.all_clear_en)


def test_the_fire_plan_reads_like_the_procedure() -> None:
    fire = SHIPPED.get("fire")
    by_post = {p: [s.id for s in fire.steps if p in s.posts] for p in FIELD_POSTS}
    assert by_post == {"gate": ["gate_hold", "meet_fire_service"], "parking": ["parking_halt"],
                       "concierge": ["guide_guests"], "lobby": ["guide_guests"], "model_unit": ["model_unit_clear"]}
    assert "消防通道" in fire.step("gate_hold").say and "fire lane" in fire.step("gate_hold").say_en
    assert "集合点" in fire.step("guide_guests").say and "assembly point" in fire.step("guide_guests").say_en
    assert fire.step("isolate_power").department == "engineering" and not fire.step("isolate_power").posts
    assert fire.step("meet_fire_service").department == "security"
    assert [(t.subject, t.min_severity, t.auto_start) for t in fire.triggers] == [
        ("fire", 1, True), ("smoke", 3, True), ("smoke", 1, False)]


def test_the_shipped_triggers_cover_the_named_contingencies() -> None:
    incident_plans = {t.subject: p.id for p in SHIPPED for t in p.triggers if t.kind == "incident"}
    assert incident_plans == {
        "fire": "fire", "smoke": "fire", "power_outage": "power_outage", "water_outage": "water_outage",
        "water_leak": "water_leak", "flooding": "flooding", "medical": "medical", "crowding": "crowding",
        "lost_child": "lost_child", "lost_property": "lost_property", "security": "public_order",
        "gathering": "gathering", "suspicious_person": "suspicious_person", "vehicle": "car_scrape",
        "heat": "heat", "thunderstorm": "thunderstorm", "typhoon": "typhoon"}
    assert set(INCIDENT_KINDS) - set(incident_plans) == {"other"}   # every named kind has its plan
    thresholds = {(t.kind, t.subject, p.id) for p in SHIPPED for t in p.triggers if t.kind != "incident"}
    assert thresholds == {("zone", "*", "crowding"), ("lot", "*", "parking_full"), ("post_silent", "*", "comms_loss")}


def test_the_weather_plans_start_with_their_preparation_and_only_the_typhoon_holds_the_gate() -> None:
    # Plans have no separate preparation tasks: the weather plans' first steps are the preparation,
    # owned by whoever brings the kit (Logistics) or checks the building (Engineering).
    for plan_id, firsts in {"heat": ["prep_water", "prep_shade"], "thunderstorm": ["prep_rain_kit"],
                            "typhoon": ["prep_secure", "prep_building"]}.items():
        plan = SHIPPED.get(plan_id)
        assert [s.id for s in plan.steps[:len(firsts)]] == firsts, plan_id
        assert all(s.do.startswith("准备：") and s.do_en.startswith("Preparation: ") and not s.posts
                   and s.department in ("logistics", "engineering") for s in plan.steps[:len(firsts)]), plan_id
    assert "雨伞" in SHIPPED.get("thunderstorm").step("prep_rain_kit").do
    assert "遮阳" in SHIPPED.get("heat").step("prep_shade").do and "饮用水" in SHIPPED.get("heat").step("prep_water").do
    holders = {p.id: [s.id for s in p.steps if s.gate] for p in SHIPPED if any(s.gate for s in p.steps)}
    assert holders == {"fire": ["gate_hold"], "parking_full": ["gate_hold"], "typhoon": ["gate_hold"]}


def test_what_posts_hear_names_no_internal_ids() -> None:
    ids = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, (*POSTS, *DEPARTMENTS, *INCIDENT_KINDS))))
    for plan in SHIPPED:
        for step in plan.steps:
            assert not ids.search(step.say) and not re.search(r"[a-z]+_[a-z]+", step.say_en), (plan.id, step.id)
        assert not ids.search(plan.all_clear) and not re.search(r"[a-z]+_[a-z]+", plan.all_clear_en), plan.id


def test_the_summary_a_desk_lists() -> None:
    (fire,) = [p for p in SHIPPED.summary() if p["id"] == "fire"]
    assert fire["name_en"] == "Fire emergency plan" and fire["steps"] == 8 and fire["auto_start"] is True
    assert fire["triggers"][0] == {"kind": "incident", "subject": "fire", "min_severity": 1, "at_percent": 100,
                                   "after_s": 180, "auto_start": True}
    assert "fire" in SHIPPED and "nothing" not in SHIPPED and len(SHIPPED) == len(SHIPPED.ids())


# --- bad plans ---------------------------------------------------------------------------------

GOOD = """
name = "测试预案"
name_en = "Test plan"
owner = "security"

[[triggers]]
incident = "fire"

[[steps]]
id = "hold"
department = "security"
due_s = 60
posts = ["gate"]
do = "门岗停止放行"
do_en = "The gate holds cars"
say = "停止放行"
say_en = "Hold the cars"
"""


def _write(folder: Path, text: str, name: str = "test_plan.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_the_good_example_loads(tmp_path: Path) -> None:
    plan = plan_files.load_file(_write(tmp_path, GOOD), EVENT)
    assert plan.id == "test_plan" and plan.steps[0].posts == ("gate",) and plan.triggers[0].subject == "fire"
    assert plan.source.endswith("test_plan.toml") and plan.rearm_s == 900 and not plan.auto_start


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


BAD = [
    ("unknown top key", 'colour = "red"\n' + GOOD, "colour", "unknown key"),
    ("unknown step key", _edit('due_s = 60', 'due_s = 60\nwho = "me"'), "steps[0].who", "unknown key"),
    ("unknown trigger key", _edit('incident = "fire"', 'incident = "fire"\nseverity = 3'), "triggers[0].severity",
     "unknown key"),
    ("unknown incident kind", _edit('incident = "fire"', 'incident = "earthquake"'), "triggers[0].incident",
     "not an incident kind"),
    ("two subjects", _edit('incident = "fire"', 'incident = "fire"\nlot = "p1"'), "triggers[0]", "exactly one of"),
    ("no subject", _edit('incident = "fire"', 'min_severity = 2'), "triggers[0]", "exactly one of"),
    ("severity out of range", _edit('incident = "fire"', 'incident = "fire"\nmin_severity = 7'),
     "triggers[0].min_severity", "not a severity"),
    ("percent with an incident", _edit('incident = "fire"', 'incident = "fire"\nat_percent = 90'),
     "triggers[0].at_percent", "unknown key"),
    ("lot the event lacks", _edit('incident = "fire"', 'lot = "p9"'), "triggers[0].lot", "p1, p2"),
    ("zone the event lacks", _edit('incident = "fire"', 'zone = "roof"'), "triggers[0].zone", "lobby, model_unit"),
    ("unknown post to watch", _edit('incident = "fire"', 'post_silent = "kitchen"'), "triggers[0].post_silent",
     "not a post"),
    ("silence too short", _edit('incident = "fire"', 'post_silent = "gate"\nafter_s = 1'), "triggers[0].after_s",
     "between 10"),
    ("percent zero", _edit('incident = "fire"', 'zone = "*"\nat_percent = 0'), "triggers[0].at_percent", "between 1"),
    ("trigger auto_start not a bool", _edit('incident = "fire"', 'incident = "fire"\nauto_start = "yes"'),
     "triggers[0].auto_start", "true or false"),
    ("unknown owner", _edit('owner = "security"', 'owner = "kitchen"'), "owner", "not a department"),
    ("unknown step department", _edit('department = "security"', 'department = "it"'), "steps[0].department",
     "not a department"),
    ("unknown post", _edit('posts = ["gate"]', 'posts = ["gate", "roof"]'), "steps[0].posts[1]", "not a post"),
    ("post twice", _edit('posts = ["gate"]', 'posts = ["gate", "gate"]'), "steps[0].posts[1]", "twice"),
    ("posts without an instruction", _edit('say = "停止放行"\nsay_en = "Hold the cars"\n', ''), "steps[0].say",
     "is required"),
    ("an instruction without posts", _edit('posts = ["gate"]\n', ''), "steps[0].say", "names no posts"),
    ("English instruction missing", _edit('say_en = "Hold the cars"\n', ''), "steps[0].say_en", "is required"),
    ("English summary missing", 'summary = "概要"\n' + GOOD, "summary_en", "both languages"),
    ("Chinese action missing", _edit('do = "门岗停止放行"\n', ''), "steps[0].do", "is required"),
    ("English name missing", _edit('name_en = "Test plan"\n', ''), "name_en", "is required"),
    ("empty name", _edit('name = "测试预案"', 'name = "  "'), "name", "must not be empty"),
    ("due_s as text", _edit('due_s = 60', 'due_s = "60"'), "steps[0].due_s", "whole number"),
    ("due_s zero", _edit('due_s = 60', 'due_s = 0'), "steps[0].due_s", "between 1"),
    ("due_s missing", _edit('due_s = 60\n', ''), "steps[0].due_s", "is required"),
    ("bad step id", _edit('id = "hold"', 'id = "Hold It"'), "steps[0].id", "not a valid id"),
    ("duplicate step id", GOOD + '\n[[steps]]\nid = "hold"\ndepartment = "office"\ndue_s = 5\ndo = "再来"\n'
     'do_en = "again"\n', "steps[1].id", "earlier step"),
    ("no steps", GOOD.split("[[steps]]")[0], "steps", "at least one step"),
    ("steps not tables", 'steps = ["hold"]\n' + GOOD.split("[[steps]]")[0], "steps[0]", "must be a table"),
    ("instruction too long", _edit('say = "停止放行"', 'say = "' + "停" * 401 + '"'), "steps[0].say",
     "at most 400"),
    ("control character", _edit('say_en = "Hold the cars"', 'say_en = "Hold\\u001b[31m the cars"'),
     "steps[0].say_en", "control"),
    ("invisible character", _edit('do_en = "The gate holds cars"', 'do_en = "The gate\\u200b holds cars"'),
     "steps[0].do_en", "invisible"),
    ("all-clear in one language", 'all_clear = "解除"\n' + GOOD, "all_clear_en", "both languages"),
    ("auto_start not a bool", "auto_start = 1\n" + GOOD, "auto_start", "true or false"),
    ("switched off with more", "enabled = false\n" + GOOD, "enabled", "nothing else"),
    ("syntax", GOOD + "name = \n", "(syntax)", ""),
    ("unknown gate order", _edit('due_s = 60', 'due_s = 60\ngate = "close"'), "steps[0].gate", "order to the gate"),
    ("gate order to another post", _edit('posts = ["gate"]', 'posts = ["parking"]\ngate = "hold"'), "steps[0].gate",
     "do not include"),
]


def test_a_step_may_hold_or_resume_the_gate(tmp_path: Path) -> None:
    plan = plan_files.load_file(_write(tmp_path, _edit('due_s = 60', 'due_s = 60\ngate = "hold"')), EVENT)
    assert plan.steps[0].gate == "hold" and plan.steps[0].wire()["gate"] == "hold"
    assert "gate" not in plan_files.load_file(_write(tmp_path, GOOD), EVENT).steps[0].wire()   # unchanged when not given
    held = {(p.id, s.id) for p in SHIPPED for s in p.steps if s.gate}
    assert held == {("fire", "gate_hold"), ("parking_full", "gate_hold"), ("typhoon", "gate_hold")}
    assert all(s.gate == "hold" for p in SHIPPED for s in p.steps if s.gate)


@pytest.mark.parametrize("text,key,reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_plan_is_refused_naming_the_file_and_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(L.PlanFileError) as err:
        plan_files.load_file(path, EVENT)
    assert (err.value.path, err.value.key) == (str(path), key)
    assert reason in err.value.reason
    assert str(err.value).startswith(f"{path}: {key}: ")
    assert isinstance(err.value, EventFileError)   # so the CLI prints it as one sentence


def test_a_bad_file_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, "Fire Plan.toml")
    with pytest.raises(L.PlanFileError) as err:
        plan_files.load_file(path)
    assert err.value.key == "(file name)"


def test_lots_and_zones_are_checked_only_against_an_event(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit('incident = "fire"', 'lot = "p9"'))
    assert plan_files.load_file(path).triggers[0].subject == "p9"         # no event: any well-formed id
    with pytest.raises(L.PlanFileError):
        plan_files.load_file(path, EVENT)


# --- the event's own plans -----------------------------------------------------------------------

def test_an_event_adds_replaces_and_switches_off_plans(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    _write(plans, _edit('name = "测试预案"', 'name = "本场火情预案"'), "fire.toml")
    _write(plans, GOOD, "vip_convoy.toml")
    _write(plans, "enabled = false\n", "lost_property.toml")
    lib = plan_files.load(tmp_path, EVENT)
    assert lib.get("fire").name == "本场火情预案" and lib.get("fire").source == str(plans / "fire.toml")
    assert "vip_convoy" in lib and "lost_property" not in lib
    assert set(lib.ids()) == set(SHIPPED.ids()) - {"lost_property"} | {"vip_convoy"}
    assert plan_files.load(tmp_path / "no-such-folder", EVENT).ids() == SHIPPED.ids()
    assert plan_files.load(None).ids() == SHIPPED.ids()


def test_a_bad_event_plan_stops_the_hub_with_one_sentence(event_dir, capsys: pytest.CaptureFixture[str]) -> None:
    _write(event_dir.root / "plans", _edit('department = "security"', 'department = "it"'), "fire.toml")
    assert main(["hub", str(event_dir.root)]) == 2
    err = capsys.readouterr().err
    assert 'plans/fire.toml 第 11 行（第 1 个 [[steps]] 中的 department）："it" 不是部门' in err   # the event's language
    assert not event_dir.db().exists() or event_dir.read_runtime() is None
