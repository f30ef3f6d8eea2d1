"""Find a guest on the list by name, pinyin initials (zs for 张三) or reference, and check them in.

Typing narrows the list at once; Enter (or a click) on a guest opens the check-in form with
the party size from the list. The list is the terminal's own copy, so this works while the
desk is out of reach. Guest details are shown as plain Text, never markup.
"""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from protocols import i18n
from stations.terminal.posts import duty
from stations.terminal.posts.base import Action

SHOWN = 50


class GuestScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f7", "close", show=False), Binding("down", "down", show=False),
                Binding("up", "up", show=False)]

    def __init__(self, lang: str, guests: list[dict[str, Any]], arrived: set[str],
                 perform: Callable[[Action], Any]) -> None:
        super().__init__()
        self.lang, self.guests, self.arrived, self.perform = lang, guests, arrived, perform
        self.found: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="guests"):
            yield Static(Text(i18n.t("station.guests.title", self.lang, n=len(self.guests)), style="bold"),
                         id="guests-title")
            yield Input(placeholder=i18n.t("station.guests.placeholder", self.lang), id="guests-query")
            yield OptionList(id="guests-list")
            yield Static(i18n.t("station.guests.hint", self.lang), id="guests-hint")

    def on_mount(self) -> None:
        self.refill("")
        self.query_one(Input).focus()

    def line(self, guest: dict[str, Any]) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if str(guest.get("ref")) in self.arrived:
            text.append(i18n.t("station.guests.checked_in", self.lang) + " ", style="green")
        if guest.get("level") in duty.VIP:
            text.append("VIP ", style="bold magenta")
        text.append(duty.guest_line(guest, self.lang))
        return text

    def refill(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if not self.guests:
            options.add_option(Option(Text(i18n.t("station.guests.no_list", self.lang), style="dim"), disabled=True))
            self.found = []
            return
        self.found = duty.search(self.guests, query, SHOWN)
        if not self.found:
            options.add_option(Option(Text(i18n.t("station.guests.none", self.lang), style="dim"), disabled=True))
            return
        options.add_options([Option(self.line(g), id=str(g.get("ref"))) for g in self.found])
        options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index)

    def choose(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.found):
            return
        guest = self.found[index]
        self.dismiss(None)
        self.perform(duty.checkin_action(guest, self.lang))

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
