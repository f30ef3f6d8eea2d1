"""Times are read on the event's own clock: the machine's time zone changes nothing a person sees or a rule decides.

The event names its zone (`[event] timezone`, Asia/Shanghai by default); doors-open, due times,
roster starts, guest arrivals, the desk's and terminals' clock faces and the summary are all in
it. These tests change the process zone under the code (in process with tzset, and in real
subprocesses with TZ set) and expect the very same instants and words.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.event.folder import parse, sample_text
from protocols import eventtime
from tests.report_fixture import make_folder

SAMPLE = Path(__file__).parents[1] / "console" / "event" / "sample_event.toml"
FAR_ZONES = ("UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Kolkata")
SHANGHAI = eventtime.zone("Asia/Shanghai")
DOORS = 1_796_434_200_000        # 2026-12-05 09:30 +08:00


@pytest.fixture(params=FAR_ZONES)
def machine_zone(request, monkeypatch):
    """The process's own zone set far from the event's, as on a laptop left on another zone."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_event_times_ignore_the_machine_zone(machine_zone):
    assert eventtime.at_ms("2026-12-05", "09:30", SHANGHAI) == DOORS
    assert eventtime.clock(DOORS, SHANGHAI) == "09:30:00"
    assert eventtime.stamp(DOORS + 59_000, SHANGHAI) == "2026-12-05 09:30:59"
    assert eventtime.compact(DOORS, SHANGHAI) == "20261205-093000"
    assert eventtime.offset(DOORS, SHANGHAI) == "+0800"
    assert eventtime.day_of(DOORS - 10 * 3_600_000, SHANGHAI) == dt.date(2026, 12, 4)   # 23:30 the day before


def test_the_sample_event_says_the_same_on_every_machine(machine_zone):
    event = parse(SAMPLE, sample_text("2026-12-05"))
    summary = event.summary()
    assert summary["timezone"] == "Asia/Shanghai" and summary["doors_open_ms"] == DOORS
    roster = {r["station"]: r["from_ms"] for r in summary["roster"]}
    assert roster["gate-1"] == DOORS - 3_600_000 and roster["lobby-1"] == DOORS - 1_800_000
    tasks = {t["id"]: t["due_ms"] for t in summary["tasks"]}
    assert tasks["office-meeting"] == DOORS - 3 * 86_400_000


def test_an_event_elsewhere_keeps_its_own_daylight_saving():
    london = eventtime.zone("Europe/London")
    winter = eventtime.at_ms("2027-01-15", "09:30", london)
    summer = eventtime.at_ms("2027-07-15", "09:30", london)
    assert eventtime.offset(winter, london) == "+0000" and eventtime.offset(summer, london) == "+0100"
    assert eventtime.clock(winter, london) == eventtime.clock(summer, london) == "09:30:00"
    # 01:30 on the spring-forward morning does not exist there: it resolves to a real instant, never an error.
    gap = eventtime.at_ms("2027-03-28", "01:30", london)
    assert eventtime.clock(gap, london) in ("00:30:00", "02:30:00")


def test_a_zone_nobody_has_heard_of_is_refused_in_words():
    with pytest.raises(eventtime.ZoneError, match="'Beijing' is not a time zone name like Asia/Shanghai"):
        eventtime.zone("Beijing")
    # What a peer sent is shown on the default clock rather than crashing a screen.
    assert eventtime.zone_or_default("Nowhere/Atlantis") is eventtime.zone() is SHANGHAI
    assert eventtime.zone_or_default(None) is SHANGHAI and eventtime.zone_or_default(8) is SHANGHAI


def _report(folder: Path, zone: str) -> str:
    env = {**os.environ, "TZ": zone}
    done = subprocess.run([sys.executable, "-m", "console.cli", "report", str(folder), "--lang", "both"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = folder / "report"
    return "\n".join((report / name).read_text("utf-8") for name in
                     ("summary.zh.md", "summary.en.md", "summary-csv/incidents.csv", "summary-csv/minutes.csv"))


@pytest.mark.wire
def test_the_summary_is_the_same_written_in_any_zone(tmp_path):
    folder = make_folder(tmp_path / "event")
    written = {zone: _report(folder.root, zone) for zone in ("America/Los_Angeles", "Asia/Tokyo")}
    la, tokyo = written.values()
    assert la == tokyo
    # The fixture's first event is at 10:00 UTC: 18:00 on the event's clock, never 02:00 (Los Angeles).
    assert "18:00" in la and "Asia/Shanghai (+0800)" in la
