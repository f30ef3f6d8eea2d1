"""The report's charts count from 0 in whole numbers, also with nothing to count (issue 17): never "-0.04 … 0.04 人"."""
from __future__ import annotations

import pytest

from console.hub.store import Store
from console.report import charts
from console.report.summary import summarise
from tests.report_fixture import EVENTS, T0, S, summary_dict, write_log

QUIET = [(0, "hub", 1, "station_status", {"station": "lobby-1", "status": "offline", "last_heard_ms": T0}, 0),
         (600, "hub", 2, "station_status", {"station": "lobby-1", "status": "online", "last_heard_ms": T0 + 600 * S}, 0)]


def summary_of(tmp_path, events):
    store = Store(write_log(tmp_path / "event.db", events=events, rejections=[]))
    try:
        return summarise(store.since(0), summary_dict(), store.rejections())
    finally:
        store.close()


def figures(monkeypatch, s, lang="en"):
    """Each count chart's matplotlib figure (kept instead of written out as SVG, whose text is paths)."""
    drawn = []
    monkeypatch.setattr(charts, "_svg", lambda fig: drawn.append(fig) or "")
    for draw in (charts.people, charts.cars, charts.zones):
        draw(s, lang)
    return drawn


def count_axes(fig):
    return [ax for ax in fig.axes if ax.get_yticks().size and ax.get_ylabel()]


@pytest.mark.parametrize("events", [QUIET, EVENTS], ids=["nothing-counted", "a-busy-hour"])
def test_count_axes_start_at_zero_with_whole_ticks(tmp_path, monkeypatch, events):
    s = summary_of(tmp_path, events)
    axes = [ax for fig in figures(monkeypatch, s) for ax in count_axes(fig)]
    assert len(axes) == 5   # people on site, per minute; lots, per minute; zones
    for ax in axes:
        fig = ax.figure
        fig.canvas.draw()
        low, high = ax.get_ylim()
        ticks = [v for v in ax.get_yticks() if low <= v <= high]
        labels = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
        assert high >= 1 and all(v == int(v) for v in ticks), (ax.get_ylabel(), ticks)
        assert all(lab.isdigit() for lab in labels), (ax.get_ylabel(), labels)   # no "-", no "0.04"
        if ax.get_ylabel() != charts.t("report.chart.per_min", "en"):
            assert low == 0   # a level (people, cars, a zone) never below 0; per minute mirrors departures
