"""Two boards beside the main one: readiness before the doors open (o) and the guests of the day (g)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal

from console.desk.keys import KEYS, bindings
from console.desk.screens.details import ViewScreen
from console.desk.widgets.chrome import DeskFooter, top
from console.desk.widgets.guests import ChainsTable, GuestsTable, GuestSummary
from console.desk.widgets.readiness import DepartmentsTable, DutyTable, TasksTable, Verdict
from console.desk.widgets.sendoffs import SendoffTable
from console.desk.widgets.view import View

# The board's own keys show in its footer: sign a task off, and run preparation (console/desk/screens/prep_actions.py);
# moving and ending a slot (⇧M, ⇧E) work too, listed in help and the palette, so the footer fits 120 columns.
SHOWN = ("sign_off", "add_task", "change_task", "add_slot", "prep_stage")


class ReadinessScreen(ViewScreen):
    """GO / NO-GO, progress per department, who is on which post, and every task (Enter signs one off)."""

    # Its own keys show in this screen's footer (elsewhere they are in help and the palette only).
    BINDINGS = [b for b in bindings("detail", "desk", quiet=("desk",)) if b.action not in SHOWN] + [
        Binding(k.keys, k.action, k.text, key_display=k.display or None) for k in KEYS if k.action in SHOWN]
    AUTO_FOCUS = "#readiness-tasks"

    def compose(self) -> ComposeResult:
        yield from top("header")
        yield Verdict(id="verdict")
        with Horizontal(id="readiness-top"):
            yield DepartmentsTable(id="readiness-departments")
            yield DutyTable(id="readiness-duty")
        yield TasksTable(id="readiness-tasks")
        yield DeskFooter()

    def show(self, view: View) -> None:
        self.query_one("#readiness-departments").border_title = view.t("readiness.panel.departments")
        self.query_one("#readiness-duty").border_title = view.t("readiness.panel.duty")
        self.query_one("#readiness-tasks").border_title = view.t("readiness.panel.tasks")
        super().show(view)

    def selected_task(self) -> str | None:
        return self.query_one(TasksTable).current_key

    def on_tasks_table_selected(self, message: TasksTable.Selected) -> None:
        self.sign_off(message.task)


class GuestsScreen(ViewScreen):
    """Expected against arrived, the VIP hand-off chains, the send-offs, and every guest on the list."""

    BINDINGS = bindings("detail", "desk", quiet=("desk",))
    AUTO_FOCUS = "#guests-list"

    def compose(self) -> ComposeResult:
        yield from top("header")
        yield GuestSummary(id="guests-summary")
        yield ChainsTable(id="guests-chains")
        yield SendoffTable(id="guests-sendoffs")
        yield GuestsTable(id="guests-list")
        yield DeskFooter()

    def show(self, view: View) -> None:
        self.query_one("#guests-chains").border_title = ChainsTable.title(view)
        self.query_one("#guests-list").border_title = view.t("guestdesk.panel.list")
        self.query_one("#guests-sendoffs").border_title = view.t("guestdesk.sendoff.panel")
        super().show(view)

    def selected_guest(self) -> str | None:
        return self.query_one(GuestsTable).current_key
