"""The desk's pure half: literal station text, durations, staleness, alerts, filters, delivery; and no Textual in the link."""
from __future__ import annotations

import subprocess
import sys

import pytest
from rich.text import Text

from console.core import state as S
from console.desk.widgets import fmt
from console.desk.widgets.view import (
    View,
    alerts,
    delivery,
    filter_recent,
    per_minute,
    quiet,
    seen,
    staleness,
    unacknowledged_high,
)
from tests.desk_support import INJECTED_NOTE, MIN, SUMMARY, T0, fixture_state


def view(state: S.State, now: int = T0, lang: str = "en", **kw) -> View:
    return View(state, now, lang, **kw)


def test_station_text_is_shown_literally_never_as_markup_or_escapes():
    shown = fmt.safe(INJECTED_NOTE)
    assert isinstance(shown, Text) and not shown.spans          # no markup was parsed into styles
    assert "[@click=app.quit]" in shown.plain
    assert "\x1b" not in shown.plain and "␛[31mRED" in shown.plain
    assert fmt.safe("two\nlines\x07").plain == "two⏎lines␇"
    assert fmt.safe("\x9b31m").plain == "<9b>31m"            # C1 CSI, the one-byte escape


def test_describe_keeps_station_words_literal():
    rec = {"type": "incident_report", "station": "lobby-1", "recv_ms": T0,
           "body": {"kind": "fire", "severity": 4, "location": "[b]大堂[/b]", "note": INJECTED_NOTE}}
    line = fmt.describe(rec, fixture_state(), "zh")
    assert "[b]大堂[/b]" in line.plain and "[@click=app.quit]" in line.plain and "␛" in line.plain
    assert line.plain.startswith("事件上报 火情 紧急")


def test_durations_in_both_languages():
    assert fmt.duration(42_000, "en") == "42s" and fmt.duration(42_000, "zh") == "42秒"
    assert fmt.duration(5 * MIN, "en") == "5 min" and fmt.duration(5 * MIN, "zh") == "5分钟"
    assert fmt.duration(127 * MIN, "en") == "2 h 7 min" and fmt.duration(127 * MIN, "zh") == "2小时7分"
    assert fmt.duration(5 * MIN, "en", short=True) == "5m" and fmt.duration(5 * MIN, "zh", short=True) == "5分"
    assert fmt.ago(3 * MIN, "en") == "3 min ago" and fmt.ago(3 * MIN, "zh") == "3分钟前"


def test_gauge_turns_amber_at_90_percent_and_red_when_full():
    assert fmt.gauge_style(71, 80) == "" and fmt.gauge_style(72, 80) == "bold yellow"
    assert fmt.gauge_style(80, 80) == "bold red" and fmt.gauge_style(95, 80) == "bold red"
    bar = fmt.gauge(40, 80, 10)
    assert bar.plain == "█" * 5 + "░" * 5 and bar.cell_len == 10


def test_a_figure_shows_its_age_only_when_its_source_is_quiet():
    state = fixture_state()
    v = view(state)
    assert quiet(v, ("lobby",)) is None and staleness(v, ("lobby",)) == ""
    # parking-1 offline for 5 min: the lots may be 5 minutes old.
    assert quiet(v, ("parking",)) == 300_000 and staleness(v, ("parking",)) == "· 5 min ago"
    # Nobody at a post ever reported: say so rather than show a zero as if it were live.
    fresh = S.new_state(SUMMARY)
    assert quiet(view(fresh), ("gate",)) == -1 and staleness(view(fresh), ("gate",)) == "· no reports yet"
    # A lost hub makes everything stale, measured from the last time it was heard.
    lost = view(state, hub="lost", hub_heard_ms=T0 - 20_000)
    assert quiet(lost, ("lobby",)) == 20_000


def test_banner_holds_new_serious_incidents_until_someone_acknowledges():
    state = fixture_state()
    high = unacknowledged_high(state)
    assert [i["kind"] for i in high] == ["fire"]
    S.apply(state, S_row(state, "desk-1", "incident_update", {"incident": high[0]["id"], "status": "acknowledged",
                                                              "assign": "", "note": ""}))
    assert unacknowledged_high(state) == []


def S_row(state: S.State, station: str, type_: str, body: dict, at: int = T0):
    from console.hub.store import Row
    g = state.gseq + 1
    return Row(g, station, "ep", g, type_, at, at, body)


def test_alerts_for_posts_going_quiet_serious_incidents_and_alarms():
    before = fixture_state()
    after = fixture_state()
    after.stations["gate-1"]["last_heard_ms"] = T0 - 6_000 + 10_000   # heard at T0+4 s, now T0+10 s: late
    S.apply(after, S_row(after, "lobby-1", "incident_report",
                         {"kind": "smoke", "severity": 3, "location": "[red]B1[/red]", "note": ""}))
    S.apply(after, S_row(after, "hub", "alarm", {"code": "E_CONFLICT", "station": "gate-1", "reason": "x"}))
    got = alerts(seen(view(before)), view(after, T0 + 10_000))
    texts = [a.text for a in got]
    assert any(t.startswith("East gate is late") for t in texts)
    assert any("New High incident" in t and "[red]B1[/red]" in t for t in texts)
    assert any(t.startswith("Alarm Conflicting resend") for t in texts)   # the cause in words, never the code
    serious = [a for a in got if a.incident]
    assert serious and serious[0].bell and serious[0].severity == "error"
    assert alerts(None, view(after)) == []                       # the first frame is a baseline
    # Already late before: no second alert; never seen: no alert at all.
    assert not [a for a in alerts(seen(view(after, T0 + 10_000)), view(after, T0 + 11_000)) if "East gate" in a.text]


def test_timeline_filters_by_post_type_and_severity():
    state = fixture_state()
    lobby = filter_recent(state, post="lobby")
    assert lobby and all(r["station"] == "lobby-1" for r in lobby)
    assert [r["gseq"] for r in lobby] == sorted((r["gseq"] for r in lobby), reverse=True)   # newest first
    serious = filter_recent(state, min_severity=3)
    assert {r["type"] for r in serious} <= {"incident_report", "incident_update"} and len(serious) == 3
    desks = filter_recent(state, post="desk")
    assert desks and all(r["station"].startswith("desk") for r in desks)
    assert all(r["type"] == "car_in" for r in filter_recent(state, kind="car_in"))


def test_instruction_delivery_per_station():
    state = fixture_state()
    v = view(state)
    inst = next(iter(state.instructions.values()))
    assert delivery(v, inst, "gate-1")[0] == "acked"
    assert delivery(v, inst, "model-1")[0] == "reached"        # heard after it went out, no ack yet
    assert delivery(v, inst, "concierge-2") == ("waiting", 0)  # never heard


def test_sparkline_minutes_end_with_the_current_one():
    by_min = {T0 // MIN: 3, T0 // MIN - 59: 1, T0 // MIN - 60: 9}
    series = per_minute(by_min, T0)
    assert len(series) == 60 and series[-1] == 3 and series[0] == 1


@pytest.mark.wire
def test_desk_link_imports_no_textual():
    code = ("import sys, console.desk.link, console.desk.widgets.view, console.desk.widgets.fmt\n"
            "print(','.join(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_every_desk_string_is_in_the_catalogue_in_both_languages():
    import re
    from pathlib import Path

    import console
    from protocols.i18n import catalogue
    root = Path(console.__file__).parent / "desk"
    sources = [root / "app.py", *sorted((root / "screens").glob("*.py")), *sorted((root / "widgets").glob("*.py"))]
    used = set()
    for path in sources:
        used |= set(re.findall(r'"(desk\.[a-z_]+(?:\.[a-z_]+)+)"', path.read_text("utf-8")))
    # Keys built at run time from a fixed set of endings.
    used |= {f"desk.alert.{s}" for s in ("late", "offline")} | {f"desk.history.{s}" for s in ("opened", "note")}
    used |= {f"desk.source.{s}" for s in ("desk", "phone")} | {f"desk.people.{s}" for s in ("arrivals", "departures")}
    used |= {f"desk.inst.{s}" for s in ("acked", "reached", "waiting")}
    used |= {f"desk.dur{t}.{s}" for t in ("", "_short") for s in "smh"}
    used |= {f"desk.status_short.{s}" for s in ("new", "acknowledged", "in_progress", "resolved")}
    cat = catalogue()
    missing = sorted(k for k in used if k not in cat)
    assert not missing, missing
    assert all(cat[k]["zh"].strip() and cat[k]["en"].strip() for k in used)


def test_a_lost_hub_is_not_shown_as_lost_posts():
    """While the desk cannot hear the hub it cannot know the posts: they read "unknown", never offline,
    and no alert is raised for them, then or when the hub comes back."""
    from console.desk.widgets.view import liveness

    state = fixture_state()
    lost = view(state, T0 + 60_000, hub="lost", hub_heard_ms=T0)     # a minute without the hub
    assert {liveness(lost, sid) for sid in state.stations} == {"hub_lost"}
    assert not alerts(seen(view(state, T0)), lost)
    back = view(state, T0 + 61_000, hub="ok")                         # back, and the posts a minute quiet
    assert liveness(back, "gate-1") == "offline"
    assert not [a for a in alerts(seen(lost), back) if "East gate" in a.text]
