"""Rehearsals end to end through real sockets: each shipped scenario at high speed, scored; the same seed twice gives
the same log; the rehearsal never touches the live log; the CLI runs and compares. No mocks, no blind sleeps."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import scenarios.render
from tests.staff_text import event_ids, leaks, plan_ids

from console.event.folder import EventFolder
from console.hub.store import Store
from scenarios import loader, scorecard
from scenarios.runner import Options, Rehearsal
from tests.conftest import make_event

# Whole drills through a hub subprocess: the slow part of the suite (`-m "not slow"` leaves it out).
pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

# Fast enough for CI, slow enough that a few ms of wire latency stay a few scenario seconds.
SPEEDS = {"opening_day": 1000, "fire_drill": 400, "power_cut": 400, "rainstorm": 800, "post_offline": 300}
SPEEDS["vip_visit"] = 150   # the hub ticks once a wall second (150 s here): the alarm lands before parking is back
SLACK_WALL_MS = 1500    # how late an answer may land on the wire beyond its drawn delay, in wall ms

SHORT = '''\
[scenario]
name = "短演练"
name_en = "Short drill"
duration = "20m"
seed = 31

[desk]
ack_delay = "10s..20s"
resolve_delay = "2m..3m"
step_delay = "20s..40s"

[stations]
ack_delay = "5s..15s"
step_delay = "10s..30s"

[[traffic]]
kind = "arrivals"
guests = 60
doors = "2m"
peak = "5m"
end = "14m"
stations = ["concierge-1", "concierge-2"]

[[traffic]]
kind = "departures"
stay = "4m..8m"
stations = ["concierge-1", "concierge-2"]

[[traffic]]
kind = "cars"
share = 0.5
gates = ["gate-1", "gate-2"]
lots = ["p1"]
count_every = "5m"

[[traffic]]
kind = "zones"
lobby = "lobby"
lobby_station = "lobby-1"
lobby_stay = "2m..4m"

[[script]]
at = "4m"
id = "scrape"
station = "gate-2"
report = "incident_report"
body = { kind = "vehicle", severity = 2, location = "西门", note = "剐蹭" }

[[script]]
at = "5m"
id = "faint"
station = "lobby-1"
report = "incident_report"
body = { kind = "medical", severity = 2, location = "大堂" }

[[script]]
at = "6m"
id = "count"
desk = "instruction"
body = { target = "post.gate", text = "请报排队车辆数", ack_required = true }

[[expect]]
kind = "incident_acknowledged"
within = "1m"

[[expect]]
kind = "instruction_acknowledged"
ref = "count"
within = "1m"

[[expect]]
kind = "plan_steps_on_time"
plan = "medical"

[[expect]]
kind = "all_delivered"
'''


def rehearse(scenario: str | Path, root: Path, speed: float, **kw) -> tuple[dict, Rehearsal, float]:
    reh = Rehearsal(scenario, Options(dir=root, speed=speed, lang="en", **kw))
    started = time.monotonic()
    card = reh.run()
    return card, reh, time.monotonic() - started


def by_kind(card: dict, kind: str, **params) -> dict:
    found = [r for r in card["expectations"] if r["kind"] == kind
             and all(r["params"].get(k) == v for k, v in params.items())]
    assert len(found) == 1, (kind, params)
    return found[0]


def check_common(card: dict, reh: Rehearsal, wall: float) -> None:
    """What every rehearsal must show: drill only, exact figures, everything delivered, files written."""
    folder, sc = reh.folder, reh.run_.scenario
    assert wall < 20, f"took {wall:.1f} s"
    assert card["drill"] and card["run"]["speed"] == reh.speed and card["run"]["seed"] == sc.seed
    assert card["scenario"]["slug"] == sc.slug and card["run"]["first_gseq"] >= 1
    # The rehearsal log only: no live log was made, and the one written says "rehearsal".
    assert not folder.db(drill=False).exists() and folder.db(drill=True).exists()
    store = Store(folder.db(drill=True), drill=True)
    try:
        assert store.get_meta("mode") == "rehearsal" and store.integrity_ok()
    finally:
        store.close()
    # Every expectation judged (the plan engine runs, so none is pending).
    assert card["expectations"] and all(r["status"] in ("met", "missed") for r in card["expectations"])
    assert card["summary"].get("met", 0) + card["summary"].get("missed", 0) == len(sc.expects)
    # Exact where deterministic: what the script made the posts send is what the log holds.
    gen, log = card["generated"], card["log"]
    assert gen["guests_simulated"] == log["guests_from_simulated"] == log["people"]["arrivals"] > 0
    assert gen["departures_simulated"] == log["people"]["departures"]
    assert gen["by_type"] == log["posts_by_type"] and gen["reports"] == log["posts_reports"]
    assert gen["by_type"].get("car_in", 0) == log["cars"]["in"]
    for station, d in card["delivery"].items():
        assert d["saved"] == d["delivered"] == d["logged"] and not d["rejected"] and not d["waiting"], station
    assert log["rejected"] == 0
    assert by_kind(card, "all_delivered")["status"] == "met"
    # The Chinese scorecard names things: no station, desk, lot or plan id, no stray English. The event
    # folder's path and the log's file name are shown as they are.
    zh = scenarios.render.markdown(card, "zh").replace(card["event"]["dir"], " ").replace("rehearsal.db", " ")
    assert leaks(zh, event_ids(folder.load().summary()) | plan_ids()) == [], zh
    # So does the hub's live log of the run (issue 17: "通知类别：service_new"), but for its addresses and the guest
    # list's file name, shown as they are.
    live = (reh.run_.data / "hub.log").read_text("utf-8")
    typed = re.findall(r"tcp://[0-9.:]+|\S+\.json", live) + typed_in_log(folder, card["run"]["first_gseq"])
    assert leaks(live, event_ids(folder.load().summary()) | plan_ids(), typed) == [], live[-2000:]
    # Every scripted incident is in the log, answered no sooner than the operator's drawn delay.
    speed, slack = reh.speed, SLACK_WALL_MS * reh.speed
    for item in sc.script:
        if item.type != "incident_report":
            continue
        inc = next(i for i in card["incidents"] if i["ref"] == item.ref) if item.ref else None
        if inc is None:
            continue
        low, high = item.ack_after or sc.desk.ack_delay
        assert low - 2 * speed <= inc["ack_delay"] <= high + slack, inc
        assert inc["status"] in ("acknowledged", "resolved")
    # The files: Markdown and JSON under DIR/report, the JSON the very scorecard.
    assert reh.paths["md"].parent == folder.report_dir and reh.paths["md"].name.startswith(f"rehearsal-{sc.slug}-")
    assert scorecard.load(reh.paths["json"]) == json.loads(json.dumps(card))
    text = reh.paths["md"].read_text("utf-8")
    assert "DRILL" in text and "What to fix" in text and "Expectations" in text


def check_opening_day(card: dict, reh: Rehearsal) -> None:
    full = reh.run_.timeline.figures["lot_full_ms"]["p1"]
    lot = by_kind(card, "lot_full_reported", lot="p1")
    assert lot["status"] == "met" and full <= lot["measured"] <= full + SLACK_WALL_MS * reh.speed
    assert card["lots"]["p1"]["peak"] == 80 and by_kind(card, "lot_never_over")["status"] == "met"
    zone = by_kind(card, "zone_never_over", zone="model_unit")
    assert zone["status"] == "met" and zone["measured"] == card["zones"]["model_unit"]["peak"] <= 40
    delegation = next(tr for tr in reh.run_.scenario.traffic if tr.kind == "delegation").params
    assert card["log"]["people"]["vip_arrivals"] >= delegation["guests"]
    divert = by_kind(card, "instruction_acknowledged", ref="p1-divert")
    assert {i["station"] for i in divert["items"]} == {"gate-1", "gate-2"} and divert["measured"] is not None
    # "all": every station, the sample's seven department and leader terminals too
    assert len(by_kind(card, "instruction_acknowledged", ref="vip-ready")["items"]) == 15
    assert {r["plan"] for r in card["plans"]["runs"]} >= {"medical", "lost_child"}
    # The delegation is on the guest list: its arrival at the concierge is handed on to the lobby and its host.
    handoff = by_kind(card, "handoff_acked", guest="D-01")
    assert {i["link"] for i in handoff["items"]} == {"lobby", "model_unit", "greeter", "host"} \
        and handoff["measured"] is not None


def check_fire_drill(card: dict, reh: Rehearsal) -> None:
    active = by_kind(card, "plan_active", plan="fire")
    assert active["measured"] is not None and active["measured"] <= SLACK_WALL_MS * reh.speed
    steps = by_kind(card, "plan_steps_on_time", plan="fire")
    fire_run = next(r for r in card["plans"]["runs"] if r["plan"] == "fire")
    assert steps["limit"] == len(fire_run["steps"]) == 8 and fire_run["cause"].startswith("incident:")
    assert all(s["settled_after"] is not None for s in fire_run["steps"])
    hold = by_kind(card, "instruction_acknowledged", plan="fire", step="gate_hold")
    assert {i["station"] for i in hold["items"]} == {"gate-1", "gate-2"}
    resolved = by_kind(card, "incident_resolved", ref="fire")
    assert resolved["status"] == "met" and resolved["measured"] >= 13 * 60_000   # ack, then 13 min to resolve
    assert fire_run["stood_down_scn"] is not None                                # stood down once resolved
    assert card["zones"]["lobby"]["peak"] > 0


def check_power_cut(card: dict, reh: Rehearsal) -> None:
    eng = by_kind(card, "plan_steps_on_time", plan="power_outage", department="engineering")
    svc = by_kind(card, "plan_steps_on_time", plan="power_outage", department="service")
    assert (eng["limit"], svc["limit"]) == (3, 2)
    assert {i["department"] for i in eng["items"]} == {"engineering"}
    inc = next(i for i in card["incidents"] if i["ref"] == "power")
    assert inc["department"] == "engineering" and inc["resolve_delay"] >= 22 * 60_000
    assert card["plans"]["departments"]["engineering"]["on_time"] + card["plans"]["departments"]["engineering"][
        "late"] == 3


def check_rainstorm(card: dict, reh: Rehearsal) -> None:
    assert by_kind(card, "lot_full_reported", lot="p1")["status"] == "met"
    assert by_kind(card, "lot_never_over")["status"] == "met"
    assert by_kind(card, "plan_steps_on_time", plan="flooding")["limit"] == 6
    assert by_kind(card, "plan_steps_on_time", plan="water_leak")["limit"] == 4
    assert {i["kind"] for i in card["incidents"]} >= {"flooding", "water_leak"}
    concurrent = by_kind(card, "plans_concurrent")
    assert concurrent["status"] == "met" and concurrent["measured"] >= 2
    closed_at = reh.run_.scenario.traffic[2].params["close"]["p2"]
    assert card["lots"]["p1"]["full_scn"] > closed_at


def check_post_offline(card: dict, reh: Rehearsal) -> None:
    seen = by_kind(card, "station_offline_seen", station="gate-2")
    assert seen["status"] == "met"   # the hub logged gate-2 offline while it was silent
    statuses = [s for _, s in card["stations"]["gate-2"]["statuses"]]
    # Back online before the drill's end; its simulated terminal then closes on purpose (bye: "closed").
    during = [s for s in statuses if s != "closed"]
    assert "offline" in statuses and during[-1] == "online" and statuses[-1] == "closed", statuses
    back = by_kind(card, "station_back_online", station="gate-2")
    assert back["measured"] is not None and back["measured"] <= 3000 * reh.speed
    # An instruction sent while gate-2 was silent is confirmed only after it returns: missed, as the drill shows.
    late = by_kind(card, "instruction_acknowledged", ref="gate-count")
    assert late["status"] == "missed"
    gate2 = next(i for i in late["items"] if i["station"] == "gate-2")
    assert gate2["delay_ms"] >= (40 - 25) * 60_000 - 2 * reh.speed
    assert any(f["key"] == "score.fix.instruction_acknowledged" for f in card["fixes"])
    # What gate-2 saved while offline was delivered once it was back, in the log exactly once.
    assert card["delivery"]["gate-2"]["logged"] == card["delivery"]["gate-2"]["saved"]


def check_vip_visit(card: dict, reh: Rehearsal) -> None:
    """The VIP's send-off: parking, offline past the deadline, is alarmed and confirms once back; the other is clean."""
    assert by_kind(card, "sendoff_complete", guest="G-01")["status"] == "met"
    vip = by_kind(card, "sendoff_complete", guest="V-01")
    assert vip["status"] == "met" and vip["measured"] >= (28 - 22) * 60_000     # parking answered once back
    # The party's host, the sales consultant at sales-1, is a link of the send-off and of "send-off chain complete".
    assert vip["items"][0]["links"] == ["lobby", "concierge", "parking", "gate", "greeter", "host"]
    alarm = by_kind(card, "sendoff_alarm_raised", guest="V-01")
    assert alarm["status"] == "met" and [i["link"] for i in alarm["items"]] == ["parking"]
    # The plate seen at the gate hands the VIP on to every post ahead, the greeting leaders and the host, each
    # acknowledging (the sample's greeter-1 is simulated like any post).
    handoff = by_kind(card, "handoff_acked", guest="V-01")
    assert sorted(i["link"] for i in handoff["items"]) == ["concierge", "greeter", "host", "lobby", "model_unit",
                                                           "parking"]
    assert all(i["delay_ms"] is not None for i in handoff["items"])
    # The east gate's clock runs 45 s fast: the system measures it, and its reports keep their order.
    assert by_kind(card, "report_order", station="gate-1")["status"] == "met"
    gate = card["clocks"]["gate-1"]
    assert gate["set_ms"] == 45_000 and abs(gate["estimated_ms"] - 45_000) < 5_000


CHECKS = {"opening_day": check_opening_day, "fire_drill": check_fire_drill, "power_cut": check_power_cut,
          "rainstorm": check_rainstorm, "post_offline": check_post_offline,
          "vip_visit": check_vip_visit}


@pytest.mark.pure
def test_every_shipped_scenario_has_an_end_to_end_check():
    assert set(CHECKS) == set(SPEEDS) == set(loader.shipped())


@pytest.mark.parametrize("name", sorted(SPEEDS))
def test_shipped_scenario_end_to_end(name, tmp_path):
    card, reh, wall = rehearse(name, tmp_path / "event", SPEEDS[name])
    check_common(card, reh, wall)
    CHECKS[name](card, reh)


def typed_in_log(folder: EventFolder, first_gseq: int) -> list[str]:
    """What the run's people typed (the simulated operator's notes and names, in the drill's language; the posts'
    notes and places): shown in the live log as typed, whatever its language."""
    store = Store(folder.db(drill=True), drill=True)
    try:
        rows = list(store.since(first_gseq - 1))
    finally:
        store.close()
    return [str(r.body[k]) for r in rows for k in ("note", "text", "by", "reason", "location", "where")
            if r.body.get(k) and r.station != "hub"]


def normalised_log(folder: EventFolder, first_gseq: int) -> Counter:
    """(station, type, body) of this run's events, with references to other events replaced by what they refer to.

    Global sequence numbers depend on how the posts' reports interleave on the wire; what an
    incident_update or a plan step refers to does not.
    """
    store = Store(folder.db(drill=True), drill=True)
    try:
        rows = {r.gseq: r for r in store.since(first_gseq - 1)}
    finally:
        store.close()
    memo: dict[int, str] = {}

    def label(gseq: int) -> str:
        row = rows.get(gseq)
        if row is None:
            return f"outside:{gseq}"
        if gseq not in memo:
            memo[gseq] = json.dumps([row.station, row.type, norm(row.body)], sort_keys=True, ensure_ascii=False)
        return memo[gseq]

    def norm(body: dict) -> dict:
        out = {}
        for k, v in body.items():
            if k in ("incident", "instruction", "run", "request") and isinstance(v, int) and v > 0:
                v = label(v)
            elif k == "cause" and isinstance(v, str) and v.partition(":")[2].isdigit():
                v = v.partition(":")[0] + ":" + label(int(v.partition(":")[2]))
            elif k == "guest" and body.get("notice") == "incident" and str(v).isdigit():
                v = label(int(v))   # what became of an incident names it by its gseq, in the words too
            elif k in ("text", "text_en") and body.get("notice") == "incident":
                v = re.sub(r"#\d+", "#", v)
            out[k] = v
        return out

    # Liveness changes, alarms and measured station clocks follow the wall clock, not the script; so does a
    # plan proposed because a post fell silent (a loaded machine let gate-1 go quiet at x300 in one run only).
    def by_the_clock(r) -> bool:
        return r.type in ("station_status", "alarm", "station_clock") or (
            r.type == "plan_proposed" and str(r.body.get("cause", "")).startswith("silent:"))
    return Counter(label(g) for g, r in rows.items() if not by_the_clock(r))


def test_same_seed_twice_gives_the_same_log(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(SHORT, "utf-8")
    first, reh1, _ = rehearse(path, tmp_path / "one", 300)
    second, reh2, _ = rehearse(path, tmp_path / "two", 300)
    one, two = (normalised_log(r.folder, c["run"]["first_gseq"]) for r, c in ((reh1, first), (reh2, second)))
    assert sum(one.values()) > 100 and one == two
    types = Counter(json.loads(k)[1] for k in one.elements())
    # Two plans start: the medical one for the faint and the car-scrape one for the scrape at the west gate.
    assert types["incident_update"] == 4 and types["plan_started"] == 2 and types["instruction_ack"] >= 2
    # The same expectations judged; a verdict on a time limit can differ, since at x300 a loaded machine's
    # 0.2 s is a minute of the drill (CI once saw met 4 vs met 3 + missed 1 with equal logs).
    assert sum(first["summary"].values()) == sum(second["summary"].values()) == len(first["expectations"])
    other, reh3, _ = rehearse(path, tmp_path / "three", 300, seed=32)
    assert normalised_log(reh3.folder, other["run"]["first_gseq"]) != one


def test_rehearsal_in_a_live_event_folder_leaves_the_live_log_alone(tmp_path):
    folder = make_event(tmp_path / "event")
    live = Store(folder.db(), writer=True)
    live.append_batch([("gate-1", "e1", 1, "car_in", 1, 1, '{"count":1,"plate":"","vip":false}')])
    live.close()
    digest = hashlib.sha256(folder.db().read_bytes()).hexdigest()
    path = tmp_path / "short.toml"
    path.write_text(SHORT, "utf-8")
    card, reh, _ = rehearse(path, folder.root, 300, write=False)
    assert hashlib.sha256(folder.db().read_bytes()).hexdigest() == digest
    assert card["log"]["people"]["arrivals"] == 60 and reh.paths == {}
    # The simulated posts had outboxes of their own, apart from the real terminals' ones.
    assert not (folder.root / "stations").exists()
    assert list((folder.root / "rehearsal").glob("short-*/stations/gate-1.outbox.db"))


def test_people_can_take_stations_over(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(SHORT, "utf-8")
    reh = Rehearsal(path, Options(dir=tmp_path / "event", speed=300, lang="en", write=False))
    reh.leave_to_people({"gate-1", "gate-2"})
    card = reh.run()
    assert card["run"]["people"] == ["gate-1", "gate-2"] and "gate-1" not in card["delivery"]
    assert card["log"]["cars"]["in"] == 0 and card["log"]["people"]["arrivals"] == 60
    # Nobody at the gates confirmed the instruction: the scorecard says so.
    assert by_kind(card, "instruction_acknowledged", ref="count")["status"] == "missed"


def test_cli_rehearse_headless_then_compare(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(SHORT, "utf-8")
    run = [sys.executable, "-m", "console.cli", "rehearse", str(path), "--headless", "--speed", "300",
           "--dir", str(tmp_path / "event"), "--lang", "en"]
    first = subprocess.run(run, capture_output=True, text=True, timeout=90)
    second = subprocess.run(run + ["--seed", "99"], capture_output=True, text=True, timeout=90)
    for done in (first, second):
        assert done.returncode in (0, 1), done.stderr
        assert "Drill scorecard: Short drill" in done.stdout and "Scorecard written" in done.stdout
    cards = sorted((tmp_path / "event" / "report").glob("rehearsal-short-*.json"))
    assert len(cards) == 2 and len(list((tmp_path / "event" / "report").glob("rehearsal-short-*.md"))) == 2
    compared = subprocess.run([sys.executable, "-m", "console.cli", "rehearse", "--compare", *map(str, cards),
                               "--lang", "en"], capture_output=True, text=True, timeout=60)
    assert compared.returncode == 0, compared.stderr
    assert "Two rehearsals compared" in compared.stdout and "Mean time to acknowledge" in compared.stdout
    bad = subprocess.run([sys.executable, "-m", "console.cli", "rehearse", "no_such_drill", "--headless", "--lang", "en"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such scenario" in bad.stdout + bad.stderr
