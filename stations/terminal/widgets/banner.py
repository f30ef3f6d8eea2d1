"""The desk's word on screen: the gate's red HOLDs, a VIP or a send-off to acknowledge, the oldest instruction awaiting confirmation, or the latest one.

Instruction text comes from the desk over the wire: it is shown as plain Text, never as markup.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from protocols import i18n


class Banner(Static):
    """Hidden when the desk has said nothing; otherwise one or two lines, styled by urgency."""

    # (the items holding the gate, oldest first; pending items; newest item or None)
    data: reactive[tuple[tuple[Any, ...], tuple[Any, ...], Any] | None] = reactive(None, always_update=False)
    lang: reactive[str] = reactive("zh")

    def render(self) -> Text:
        holds, pending, newest = self.data or ((), (), None)
        lang = self.lang
        text = Text(overflow="fold")
        if holds:
            # Every hold that stands, each with who set it: the gate opens only when all are lifted.
            text.append(i18n.t("station.banner.hold", lang) + " ", style="bold")
            for n, hold in enumerate(holds):
                if n:
                    text.append("\n")
                if not hold.run:   # a plan's order names its plan in its own words; the desk's does not
                    text.append(i18n.t("station.banner.hold_desk", lang) + " ", style="bold")
                text.append(hold.text_for(lang))
            others = [p for p in pending if p.id not in {h.id for h in holds}]
            if others:
                text.append("  " + i18n.t("station.banner.more", lang, n=len(others)))
        elif pending:
            vip = _vip(pending)
            if vip is not None:   # a VIP on the way outranks everything but a hold: say so first
                text.append(i18n.t("station.banner.vip", lang, id=vip.id, n=len(pending)) + " ", style="bold")
                text.append(vip.text_for(lang))
                return text
            leaving = sendoff(pending)
            if leaving is not None:   # guests on their way out: the next thing this post must do
                text.append(i18n.t("station.banner.sendoff", lang, id=leaving.id, n=len(pending)) + " ", style="bold")
                text.append(leaving.text_for(lang))
                return text
            first = pending[0]
            text.append(i18n.t("station.banner.pending", lang, id=first.id, n=len(pending)) + " ", style="bold")
            text.append(first.text_for(lang))
        elif newest is not None:
            text.append(i18n.t("station.banner.latest", lang, id=newest.id) + " ", style="bold")
            text.append(newest.text_for(lang))
        return text

    def watch_data(self, data: Any) -> None:
        holds, pending, newest = data or ((), (), None)
        self.display = bool(holds) or bool(pending) or newest is not None
        self.set_class(bool(holds), "-hold")
        vip = not holds and _vip(pending) is not None
        leaving = not holds and not vip and sendoff(pending) is not None
        self.set_class(not holds and bool(pending) and not vip and not leaving, "-pending")
        self.set_class(vip, "-vip")
        self.set_class(leaving, "-sendoff")


def _vip(pending: tuple[Any, ...]) -> Any | None:
    """The oldest "VIP arriving" notice still to acknowledge, if any."""
    return next((p for p in pending if getattr(p, "notice", "") == "vip"), None)


def sendoff(pending: tuple[Any, ...]) -> Any | None:
    """The oldest send-off link (客人即将离开) still to acknowledge, if any: the A key acknowledges it."""
    return next((p for p in pending if getattr(p, "notice", "") == "sendoff"), None)
