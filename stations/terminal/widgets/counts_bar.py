"""The post's running figures on one line: cars in and out, each lot against its capacity, head counts.

The figures are this terminal's own tally (its reports, rejected ones left out).
"""
from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from protocols import i18n
from stations.terminal.posts.base import Count


def _style(count: Count) -> str:
    if count.capacity:
        if count.value >= count.capacity:
            return "bold red"
        if count.value >= 0.9 * count.capacity:
            return "bold yellow"
    return "bold"


class CountsBar(Static):
    counts: reactive[tuple[Count, ...]] = reactive((), always_update=False)
    lang: reactive[str] = reactive("zh")

    def render(self) -> Text:
        text = Text(overflow="fold")
        for i, count in enumerate(self.counts):
            if i:
                text.append("  │ ", style="dim")
            if count.area is not None:
                text.append("▶ " if count.selected else "  ", style="bold")
                text.append(count.area.label(self.lang) + " ")
            else:
                text.append(i18n.t(count.label, self.lang) + " ")
            figure = f"{count.value}/{count.capacity}" if count.capacity is not None else str(count.value)
            text.append(figure, style=_style(count))
            if count.detail:
                text.append(f" {count.detail}", style="dim")
        return text
