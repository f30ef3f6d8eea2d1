"""The desk's notices: one line per cause with its repeats counted, each gone after its time; no Textual.

Textual's toasts float over the panels, and where a toast crosses a panel's edge the compositor cuts
the line there and a double-width character on the cut is lost (Textualize/textual#6357): "已提交：立案"
showed as "已提交：立  ". They also covered dialogs and, at 80×24, most of the timeline. So the desk
keeps its own list and draws it in a bar of its own (`console.desk.widgets.notices`), in the layout,
never over anything.
"""
from __future__ import annotations

from dataclasses import dataclass

RANK = {"error": 2, "warning": 1, "information": 0}


@dataclass
class Notice:
    text: str
    severity: str
    count: int       # how many times this cause was told while the notice stood
    last_ms: int
    until_ms: int
    order: int = 0   # when it was last told, among notices told on the same clock reading


class Notices:
    """The notices standing now, on the desk's clock (injected: tests step it)."""

    def __init__(self) -> None:
        self._by_cause: dict[str, Notice] = {}
        self._told = 0

    def add(self, text: str, severity: str, timeout_s: float, now_ms: int, cause: str = "") -> Notice:
        """Tell something; the same cause again (by default the same words) counts on the line that stands."""
        until = now_ms + int(timeout_s * 1000)
        self._told += 1
        key = cause or text
        notice = self._by_cause.get(key)
        if notice is None or notice.until_ms <= now_ms:
            notice = self._by_cause[key] = Notice(text, severity, 1, now_ms, until, self._told)
            return notice
        notice.text, notice.count, notice.last_ms, notice.order = text, notice.count + 1, now_ms, self._told
        notice.until_ms = max(notice.until_ms, until)
        if RANK.get(severity, 0) > RANK.get(notice.severity, 0):
            notice.severity = severity
        return notice

    def live(self, now_ms: int) -> list[Notice]:
        """What stands at `now_ms`, errors first, then the newest."""
        for key in [k for k, n in self._by_cause.items() if n.until_ms <= now_ms]:
            del self._by_cause[key]
        return sorted(self._by_cause.values(), key=lambda n: (-RANK.get(n.severity, 0), -n.last_ms, -n.order))

    def clear(self) -> None:
        self._by_cause.clear()
