"""A small form for an action that needs more than one key: Enter sends, Esc cancels, a refusal stays on screen.

The form does not validate: it hands its values to `send`, which builds the report and lets
the client check it. A refusal comes back as the codec's sentence in the staff member's
language and the form stays open with nothing saved; a save the outbox then refused reopens
the form with the values as typed and the reason (`values`, `problem`).
"""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static

from protocols import i18n
from stations.terminal.posts.base import Action, Field


def _label(text: str) -> str:
    # The catalogue's field names are written to sit inside sentences ("The count is wrong");
    # on their own, as a label, they start with a capital.
    return text[:1].upper() + text[1:]


class EnterCheckbox(Checkbox, inherit_bindings=False):
    """Space toggles; Enter is left to the form, so Enter sends from any field but a list."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False)]


class ReportForm(ModalScreen[bool]):
    """The fields of one action. Dismissed with True once `send` accepted the values."""

    BINDINGS = [Binding("escape", "cancel", show=False), Binding("enter", "send", show=False),
                Binding("ctrl+s", "send", show=False)]

    def __init__(self, action: Action, lang: str, send: Callable[[Action, dict[str, Any]], str | None],
                 title: str = "", *, values: dict[str, Any] | None = None, problem: str = "") -> None:
        super().__init__()
        self.action_spec, self.lang, self.send_values, self.title_text = action, lang, send, title
        self.typed, self.problem = values or {}, problem

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="form"):
            yield Static(Text(self.title_text or i18n.t(self.action_spec.label, lang), style="bold"), id="form-title")
            with Grid(id="form-grid"):
                for f in self.action_spec.fields:
                    yield Label(_label(i18n.t(f.label, lang)), classes="form-label")
                    yield self._widget(f)
            yield Static("", id="form-error")
            yield Static(i18n.t("station.form.hint", lang), id="form-hint")

    def _widget(self, f: Field):
        wid = f"field-{f.name}"
        start = self.typed.get(f.name, f.default)
        if f.kind == "bool":
            return EnterCheckbox(i18n.t("station.word.yes", self.lang), bool(start), id=wid)
        if f.kind == "choice":
            options = [(i18n.t(label, self.lang), value) for value, label in f.choices]
            return Select(options, value=start, allow_blank=False, id=wid)
        # Plates, names and notes may be Chinese: no restriction on what can be typed here.
        return Input(str(start) if start not in ("", None) else "", id=wid,
                     placeholder=i18n.t(f.label, self.lang))

    def on_mount(self) -> None:
        # The first text field, as on the desk: Enter then sends, where on a dropdown it would open the
        # list. A form of lists and boxes only starts on its first one.
        fields = self.action_spec.fields
        first = next((f for f in fields if f.kind not in ("choice", "bool")), fields[0] if fields else None)
        if first is not None:
            self.query_one(f"#field-{first.name}").focus()
        if self.problem:
            self.query_one("#form-error", Static).update(Text(self.problem, style="bold red"))

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.action_spec.fields:
            widget = self.query_one(f"#field-{f.name}")
            out[f.name] = widget.value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def action_send(self) -> None:
        problem = self.send_values(self.action_spec, self.values())
        if problem is None:
            self.dismiss(True)
        else:
            self.query_one("#form-error", Static).update(Text(problem, style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(False)
