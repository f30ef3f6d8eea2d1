"""The terminal's recent reports, newest first, each with its state: saved here, sent, delivered, or rejected and why.

Everything shown is plain Text: plates, names and notes were typed by people, and a
rejection reason came over the wire.
"""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from protocols import eventtime, i18n
from stations.records import DELIVERED, REJECTED, SAVED, SENT, Report
from stations.terminal.posts.common import describe

STATE_CELLS = 16
MARK = {SAVED: ("●", "yellow"), SENT: ("↑", "cyan"), DELIVERED: ("✓", "green"), REJECTED: ("✗", "bold red")}


def state_words(report: Report, lang: str) -> str:
    if report.state == DELIVERED:
        return i18n.t("station.state.delivered", lang, gseq=report.gseq)
    return i18n.t(f"station.state.{report.state}", lang)


def reason(report: Report, lang: str) -> str:
    """The desk's reason in the reader's language (reason_zh in Chinese, when the desk gave one)."""
    if lang == "zh" and report.reason_zh:
        return report.reason_zh
    return report.reason or report.code


class ReportList(Static):
    reports: reactive[tuple[Report, ...]] = reactive((), always_update=False)
    lang: reactive[str] = reactive("zh")
    names: reactive[dict[str, str]] = reactive(dict, always_update=False)
    zone: reactive[str] = reactive("")        # the event's time zone name: times are shown on its clock
    first_key: reactive[str] = reactive("F1")   # the post's first key that reports (a department's F1 opens a list)

    def render(self) -> Text:
        lang = self.lang
        if not self.reports:
            return Text(i18n.t("station.list.empty", lang, first=self.first_key), style="dim")
        width = max(self.content_size.width, 20)
        tz = eventtime.zone_or_default(self.zone)
        out = Text()
        for i, report in enumerate(self.reports):
            if i:
                out.append("\n")
            line = Text()
            mark, style = MARK.get(report.state, ("?", ""))
            stamp = eventtime.clock(report.created_ms, tz)
            line.append(f"{mark} ", style=style)
            line.append(f"{stamp} #{report.seq:<4} ", style="dim")
            words = state_words(report, lang)
            # Pad by cells, not characters: Chinese takes two columns, and the kinds should line up.
            line.append(words + " " * max(1, STATE_CELLS - cell_len(words)), style=style)
            line.append(describe(report.type, report.body, lang, self.names))
            # One report, one line: a long note is cut, the list keeps its shape.
            line.truncate(width, overflow="ellipsis")
            out.append_text(line)
            if report.state == REJECTED:
                out.append("\n   → ", style="bold red")
                out.append(reason(report, lang), style="red")
        return out
