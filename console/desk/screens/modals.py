"""Modal dialogs for operator actions: pick a department, write a note, open an incident, send an instruction.

Each dismisses with a plain value (or None when cancelled); the caller turns it into an action.
Enter in the last field or Ctrl+S sends, Esc cancels.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from console.core.state import State
from console.desk.widgets import fmt
from protocols.i18n import t
from protocols.messages import DEPARTMENTS, GATE_ORDERS, INCIDENT_KINDS, INCIDENT_SOURCES, MAX_TEXT, POSTS, SEVERITIES


class DeskModal(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "cancel", "desk.key.cancel"), Binding("ctrl+s", "send", "desk.key.send")]
    # The first text field, so Enter sends; on a dropdown Enter would open its list instead.
    AUTO_FOCUS = "#dialog Input"   # any depth: a form may lay its fields out in rows

    def __init__(self, title: str, lang: str) -> None:
        super().__init__()
        self.title_text, self.lang = title, lang

    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    def label(self, key: str) -> Label:
        """A field's label: the catalogue's field name, capitalised where the language has capitals."""
        text = self.t(key)
        return Label(text[:1].upper() + text[1:], markup=False)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self.title_text
            yield from self.fields()
            yield Static(id="dialog-error", markup=False)
            yield Static(Text(self.t("desk.modal.hint"), style="dim"), id="dialog-hint")

    def fields(self) -> ComposeResult:
        yield from ()

    def value(self) -> Any:
        return None

    def error(self, key: str, field: str = "") -> None:
        """Say what is missing; with `field`, the words go as soon as that field has something in it."""
        self.query_one("#dialog-error", Static).update(Text(self.t(key), style="bold red"))
        self._missing = field

    def _filled(self, field: str | None) -> None:
        if field and field == getattr(self, "_missing", ""):
            self.query_one("#dialog-error", Static).update("")   # "please fill in" is answered: it goes
            self._missing = ""

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._filled(event.input.id)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self._filled(event.select.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_send(self) -> None:
        value = self.value()
        if value is not None:
            self.dismiss(value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()


class ChoiceModal(DeskModal):
    """One choice from a list (departments): arrows and Enter."""

    AUTO_FOCUS = "#choice"

    def __init__(self, title: str, lang: str, options: list[tuple[str, str]]) -> None:
        super().__init__(title, lang)
        self.options = options

    def fields(self) -> ComposeResult:
        yield OptionList(*[Option(label, id=value) for label, value in self.options], id="choice")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def value(self) -> Any:
        ol = self.query_one(OptionList)
        return self.options[ol.highlighted][1] if ol.highlighted is not None else None


def departments(lang: str, state: State | None = None) -> list[tuple[str, str]]:
    """The event's departments (event.toml may list fewer than the six), in the desk's language."""
    ids = (state.event.get("departments") if state is not None else None) or DEPARTMENTS
    return [(t(f"dept.{d}", lang), d) for d in ids]


class TextModal(DeskModal):
    """A line of text (an annotation, a resolution note, a log note), optionally with a department."""

    def __init__(self, title: str, lang: str, required: bool = True, department: bool = False,
                 state: State | None = None) -> None:
        super().__init__(title, lang)
        self.required, self.department, self.state = required, department, state

    def fields(self) -> ComposeResult:
        yield self.label("desk.modal.text" if self.required else "desk.modal.text_optional")
        yield Input(id="text", max_length=MAX_TEXT, compact=True)
        if self.department:
            yield self.label("desk.modal.department")
            yield Select(departments(self.lang, self.state), id="department", prompt=self.t("desk.modal.none"), compact=True)

    def value(self) -> Any:
        text = self.query_one("#text", Input).value.strip()
        if self.required and not text:
            self.error("desk.modal.need_text", "text")
            return None
        out = {"text": text}
        if self.department:
            dept = self.query_one("#department", Select).value
            out["department"] = "" if dept is Select.NULL else dept
        return out


class IncidentModal(DeskModal):
    """Open an incident from the desk: kind, severity, where, what, and whether it came by phone."""

    def fields(self) -> ComposeResult:
        yield self.label("field.kind")
        yield Select([(self.t(f"incident.{k}"), k) for k in INCIDENT_KINDS], id="kind",
                     prompt=self.t("desk.modal.choose"), compact=True)
        yield self.label("field.severity")
        yield Select([(self.t(f"severity.{n}"), n) for n in SEVERITIES], id="severity", value=2, allow_blank=False,
                     compact=True)
        yield self.label("field.location")
        yield Input(id="location", max_length=64, compact=True)
        yield self.label("field.source")
        yield Select([(self.t(f"desk.source.{s}"), s) for s in INCIDENT_SOURCES], id="source", value="desk",
                     allow_blank=False, compact=True)
        yield self.label("field.note")
        yield Input(id="note", max_length=MAX_TEXT, compact=True)

    def value(self) -> Any:
        kind = self.query_one("#kind", Select).value
        if kind is Select.NULL:
            self.error("desk.modal.need_kind", "kind")
            return None
        return {"kind": kind, "severity": int(self.query_one("#severity", Select).value),
                "location": self.query_one("#location", Input).value.strip(),
                "source": self.query_one("#source", Select).value,
                "note": self.query_one("#note", Input).value.strip()}


def target_options(state: State, lang: str) -> list[tuple[Any, str]]:
    """All posts at once, one post, or one station: the three kinds of target the hub accepts."""
    opts = [(t("desk.target.all", lang), "all")]
    opts += [(t("desk.target.post", lang, post=t(f"post.{p}", lang)), f"post.{p}") for p in POSTS]
    # Station names come from the event file, not the wire, but are still kept literal.
    opts += [(fmt.safe(t("desk.target.station", lang, station=fmt.station_name(state, sid, lang))), f"station.{sid}")
             for sid in state.stations]
    return opts


class InstructionModal(DeskModal):
    def __init__(self, title: str, lang: str, state: State) -> None:
        super().__init__(title, lang)
        self.state = state

    def fields(self) -> ComposeResult:
        yield self.label("field.target")
        yield Select(target_options(self.state, self.lang), id="target", value="all", allow_blank=False,
                     compact=True)
        yield Checkbox(self.t("field.ack_required").capitalize(), True, id="ack", compact=True)
        yield self.label("field.gate")
        yield Select([(self.t(f"desk.gate.{g or 'none'}"), g or "none") for g in GATE_ORDERS], id="gate",
                     value="none", allow_blank=False, compact=True)
        yield self.label("field.text")
        yield Input(id="text", max_length=MAX_TEXT, compact=True)

    def _reaches_gate(self, target: str) -> bool:
        kind, _, name = target.partition(".")
        return target in ("all", "post.gate") or (kind == "station" and self.state.stations.get(name, {}).get("post") == "gate")

    def on_select_changed(self, event: Select.Changed) -> None:
        """Holding or resuming the gate: aim it at the gate and offer the words, unless already given.
        (DeskModal's handler runs too -- Textual calls each class's -- and clears a stale error.)"""
        if event.select.id != "gate" or event.value == "none":
            return
        target = self.query_one("#target", Select)
        if target.value == "all" or not self._reaches_gate(str(target.value)):
            target.value = "post.gate"
        text = self.query_one("#text", Input)
        if not text.value.strip() or text.value in {self.t(f"desk.gate.{g}") for g in GATE_ORDERS[1:]}:
            text.value = self.t(f"desk.gate.{event.value}")

    def value(self) -> Any:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.error("desk.modal.need_text", "text")
            return None
        target, gate = str(self.query_one("#target", Select).value), str(self.query_one("#gate", Select).value)
        gate = "" if gate == "none" else gate
        if gate and not self._reaches_gate(target):
            self.query_one("#dialog-error", Static).update(Text(self.t("problem.gate_target", got=target), style="bold red"))
            return None
        return {"target": target, "text": text, "ack_required": self.query_one("#ack", Checkbox).value, "gate": gate}
