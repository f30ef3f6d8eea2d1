"""Dialogs for the desk's plan actions: pick a plan from the library to start, and write a reason or a note.

Each dismisses with a plain value (or None when cancelled); the caller turns it into an action.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.core import plans
from console.core.state import State
from console.desk.screens.modals import DeskModal
from console.desk.widgets import fmt, plan_text
from protocols.messages import MAX_TEXT


class PlanStartModal(DeskModal):
    """Every plan the hub loaded; one already running is listed but cannot be chosen. Enter starts the highlighted one."""

    def __init__(self, title: str, lang: str, state: State) -> None:
        super().__init__(title, lang)
        self.state = state

    def fields(self) -> ComposeResult:
        options = []
        for p in plan_text.library(self.state):
            running = bool(plans.active_run(self.state, p["id"]))
            label = fmt.safe(plan_text.name(p, self.lang), "bold")
            if p.get("owner"):
                label.append(" · " + fmt.label(f"dept.{p['owner']}", self.lang), style="dim")
            if running:
                label.append(self.t("plan.modal.running"), style="italic")
            options.append(Option(label, id=p["id"], disabled=running))
        yield OptionList(*options, id="plan-choice")
        yield self.label("plan.modal.note")
        yield Input(id="note", max_length=MAX_TEXT, compact=True)

    AUTO_FOCUS = "#plan-choice"   # Enter starts the highlighted plan

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_send()

    def value(self) -> Any:
        ol = self.query_one(OptionList)
        option = ol.get_option_at_index(ol.highlighted) if ol.highlighted is not None else None
        if option is None or option.disabled:
            self.error("plan.modal.need_plan")
            return None
        return {"plan": option.id, "note": self.query_one("#note", Input).value.strip()}


class NoteModal(DeskModal):
    """One line of text (a skip's reason, a stand-down note), with a sentence saying why it is asked."""

    def __init__(self, title: str, lang: str, label: str, required: bool, explain: str = "") -> None:
        super().__init__(title, lang)
        self.label_key, self.required, self.explain = label, required, explain

    def fields(self) -> ComposeResult:
        if self.explain:
            yield Static(Text(self.explain, style="bold yellow"), id="note-explain")
        yield self.label(self.label_key)
        yield Input(id="text", max_length=MAX_TEXT, compact=True)

    def value(self) -> Any:
        text = self.query_one("#text", Input).value.strip()
        if self.required and not text:
            self.error("plan.modal.need_reason", "text")
            return None
        return {"text": text}
