"""The running plan, unmissable: amber with this post's open task and the keys that settle it, dimmer once its tasks are done.

The order's words came from the hub over the wire: rendered as plain Text, never as markup.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from protocols import i18n
from stations.terminal.posts.plan_tasks import split


class PlanBanner(Static):
    """Hidden while no plan runs for this post. `data` is (open tasks, one item per running plan)."""

    data: reactive[tuple[tuple[Any, ...], tuple[Any, ...]]] = reactive(((), ()), always_update=False)
    lang: reactive[str] = reactive("zh")

    def render(self) -> Text:
        tasks, plans = self.data
        lang = self.lang
        text = Text(overflow="fold")
        if tasks:
            # The plan and the keys on the first line, the order itself below: a long order in Chinese
            # has no spaces to wrap at, and must not push the keys out of sight.
            first = tasks[0]
            text.append(i18n.t("station.plan.banner", lang, plan=first.plan_name(lang)).rstrip(), style="bold")
            if len(tasks) > 1:
                text.append(" " + i18n.t("station.plan.more", lang, n=len(tasks) - 1))
            text.append("  ")
            text.append(i18n.t("station.plan.keys", lang), style="bold reverse")
            text.append("\n")
            text.append(first.order(lang))
        elif plans:
            names = ("、" if lang == "zh" else ", ").join(split(p.text_for(lang), p.plan)[0] for p in plans)
            text.append(i18n.t("station.plan.all_done", lang, plan=names), style="bold")
        return text

    def watch_data(self, data: tuple[tuple[Any, ...], tuple[Any, ...]]) -> None:
        tasks, plans = data
        self.display = bool(tasks or plans)
        self.set_class(bool(tasks), "-task")
        self.set_class(not tasks and bool(plans), "-running")
