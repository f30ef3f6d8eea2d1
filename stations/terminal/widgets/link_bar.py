"""The top line: which station this is, the DRILL flag, and the link — online, or unreachable with N reports waiting.

Renders a client Status handed down by the screen; all text is built as plain Text (no markup).
"""
from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from protocols import i18n
from stations.records import Status


def link_line(status: Status, lang: str) -> tuple[str, str]:
    """(sentence, css class) for the link: what the staff member must know about the desk right now."""
    n = status.waiting
    if status.key_refused:
        return i18n.t("station.link.key_refused", lang, waiting=n), "bad"
    if status.key_mismatch_suspected:
        return i18n.t("station.link.key_mismatch", lang, waiting=n), "bad"
    if status.state == "online":
        key = "station.link.online_waiting" if n else "station.link.online"
        return i18n.t(key, lang, waiting=n), "ok" if not n else "busy"
    if status.state == "unreachable":
        return i18n.t("station.link.unreachable", lang, waiting=n), "bad"
    if status.state == "stopped":
        return i18n.t("station.link.stopped", lang, waiting=n), "bad"
    return i18n.t("station.link.connecting", lang, waiting=n), "busy"


class LinkBar(Static):
    """One line: the DRILL flag, the station's name and post, and the link sentence."""

    status: reactive[Status | None] = reactive(None, always_update=False)
    lang: reactive[str] = reactive("zh")
    title: reactive[str] = reactive("")

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        status = self.status
        if status is not None and status.drill:
            text.append(f" {i18n.t('station.drill', self.lang)} ", style="bold black on yellow")
            text.append(" ")
        text.append(self.title, style="bold")
        if status is not None:
            sentence, kind = link_line(status, self.lang)
            mark = {"ok": "● ", "busy": "◌ ", "bad": "✗ "}[kind]
            text.append("  │ ")
            text.append(mark + sentence, style="bold")
        return text

    def watch_status(self, status: Status | None) -> None:
        # The bar's colour says the same as its words, for a glance from across the gate.
        kind = link_line(status, self.lang)[1] if status is not None else "busy"
        for name in ("ok", "busy", "bad"):
            self.set_class(name == kind, f"-{name}")
