"""This post's service calls (服务需求): those it raised with their state, and those routed to it; Enter takes one, d marks it done.

Built from the View (stations.terminal.posts.service_calls); what a call's notice says came over
the wire, so every line is plain Text, never markup.
"""
from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from protocols import i18n
from stations.terminal.posts.service_calls import Call

STYLE = {"saved": "dim", "open": "bold yellow", "taken": "cyan", "done": "green", "cancelled": "dim"}


class ServiceCallsScreen(ModalScreen[None]):
    """`take(call)` acknowledges a routed call's notice; `finish(call)` sends it done; each returns a refusal or None."""

    BINDINGS = [Binding("escape,f6", "close", show=False), Binding("d,y", "finish", show=False),
                Binding("j", "take", show=False)]

    def __init__(self, lang: str, take: Callable[[Call], str | None], finish: Callable[[Call], str | None]) -> None:
        super().__init__()
        self.lang, self.take, self.finish = lang, take, finish
        self.calls: tuple[Call, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="inbox"):
            yield Static(Text(i18n.t("station.calls.title", self.lang), style="bold"), id="inbox-title")
            yield OptionList(id="calls-list")
            yield Static("", id="calls-error")
            yield Static(i18n.t("station.calls.hint", self.lang), id="inbox-hint")

    def line(self, call: Call) -> Text:
        lang = self.lang
        text = Text()
        text.append(i18n.t(f"svc_status.{'open' if call.status == 'saved' else call.status}", lang) + " ",
                    style=STYLE.get(call.status, ""))
        if call.mine:
            text.append(i18n.t("station.calls.mine", lang) + " ", style="dim")
            text.append(i18n.t(f"service.{call.service}", lang))
            if call.where:
                text.append(i18n.t("svcrule.where", lang, where=call.where))
        elif call.notice is not None:
            text.append(i18n.t("station.calls.routed", lang) + " ", style="bold")
            text.append(call.notice.text_for(lang))
        return text

    def show(self, calls: tuple[Call, ...]) -> None:
        if calls == self.calls and self.query_one(OptionList).option_count:
            return
        self.calls = calls
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        if not calls:
            options.add_option(Option(Text(i18n.t("station.calls.empty", self.lang), style="dim"), disabled=True))
            return
        options.add_options([Option(self.line(c)) for c in calls])
        options.highlighted = min(keep or 0, len(calls) - 1)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_take()

    def _current(self) -> Call | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.calls:
            return None
        return self.calls[options.highlighted]

    def action_take(self) -> None:
        call = self._current()
        if call is None:
            return
        if call.mine or call.status != "open":
            self.refused(i18n.t("station.calls.cannot_take", self.lang))
            return
        self.refused(self.take(call) or "")

    def action_finish(self) -> None:
        call = self._current()
        if call is None:
            return
        if call.closed or not call.id:
            self.refused(i18n.t("station.calls.cannot_finish", self.lang))
            return
        self.refused(self.finish(call) or "")

    def refused(self, problem: str) -> None:
        self.query_one("#calls-error", Static).update(Text(problem, style="bold red"))

    def action_close(self) -> None:
        self.dismiss(None)
