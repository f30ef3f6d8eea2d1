"""The desk's instructions to this station, newest first; Enter confirms one that asks for it.

Instruction text came over the wire: every line is plain Text, never markup.
"""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from protocols import i18n
from stations.records import InboxItem
from stations.terminal.widgets.report_list import state_words


class InboxScreen(ModalScreen[None]):
    """The list is rebuilt by `show` from each View the app reads, keeping the highlight."""

    BINDINGS = [Binding("escape,f10,i", "close", show=False), Binding("a", "confirm", show=False)]

    def __init__(self, lang: str, acknowledge: Callable[[int], str | None]) -> None:
        super().__init__()
        self.lang, self.acknowledge = lang, acknowledge
        self.items: tuple[InboxItem, ...] = ()
        self.acks: dict[int, Any] = {}
        self._shown: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="inbox"):
            yield Static(Text(i18n.t("station.inbox.title", self.lang), style="bold"), id="inbox-title")
            yield OptionList(id="inbox-list")
            yield Static("", id="inbox-error")
            yield Static(i18n.t("station.inbox.hint", self.lang), id="inbox-hint")

    def line(self, item: InboxItem) -> Text:
        lang = self.lang
        text = Text()
        if item.ack_required and item.acked_ms is None:
            text.append(i18n.t("station.inbox.needs_ack", lang) + " ", style="bold black on yellow")
        elif item.acked_ms is not None:
            ack = self.acks.get(item.id)
            words = state_words(ack, lang) if ack is not None else ""
            text.append(f"{i18n.t('station.inbox.acked', lang)} {words} ".replace("  ", " "), style="green")
        text.append(f"#{item.id} ", style="dim")
        if item.notice == "vip":
            text.append("VIP ", style="bold magenta")
        elif item.notice == "sendoff":
            text.append(i18n.t("station.inbox.sendoff", lang) + " ", style="bold")
        text.append(item.text_for(lang))   # plans and hand-offs send both languages; a desk's own words as written
        return text

    def show(self, items: tuple[InboxItem, ...], acks: dict[int, Any]) -> None:
        key = (items, tuple(sorted((k, v.state) for k, v in acks.items() if k is not None)))
        if key == self._shown:
            return
        self._shown, self.items, self.acks = key, items, acks
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        if not items:
            options.add_option(Option(Text(i18n.t("station.inbox.empty", self.lang), style="dim"), disabled=True))
            return
        options.add_options([Option(self.line(item), id=str(item.id)) for item in items])
        if keep is None:
            # Start on the oldest instruction still waiting for a confirmation: Enter confirms it.
            waiting = [i for i, item in enumerate(items) if item.ack_required and item.acked_ms is None]
            keep = waiting[-1] if waiting else 0
        options.highlighted = min(keep, len(items) - 1)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.items:
            return
        item = self.items[options.highlighted]
        problem = None
        if item.ack_required and item.acked_ms is None:
            problem = self.acknowledge(item.id)
        elif not item.ack_required:
            problem = i18n.t("station.inbox.no_ack_needed", self.lang)
        self.refused(problem or "")

    def refused(self, problem: str) -> None:
        """Say why a confirmation was not saved ("" clears it)."""
        self.query_one("#inbox-error", Static).update(Text(problem, style="bold red"))

    def action_close(self) -> None:
        self.dismiss(None)
