"""The plans screen: every proposal, running plan and step as a checklist, the plans stood down lately, and the whole of the row under the cursor."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from console.core import plans
from console.desk.keys import bindings
from console.desk.screens.details import ViewScreen
from console.desk.widgets import plan_text
from console.desk.widgets.chrome import DeskFooter, titled, top
from console.desk.widgets.plans import PlanChecklist
from console.desk.widgets.view import View

CLOSED = 5   # stood-down plans listed under the running ones


class PlansScreen(ViewScreen):
    BINDINGS = bindings("detail", "desk", quiet=("desk",))
    AUTO_FOCUS = "#plans-list"

    def compose(self) -> ComposeResult:
        yield from top("header")
        yield PlanChecklist(closed=CLOSED, id="plans-list")
        yield Static(id="plan-detail", classes="facts")
        yield DeskFooter()

    def action_plans(self) -> None:
        pass  # already here

    def on_plan_checklist_chosen(self, message: PlanChecklist.Chosen) -> None:
        if message.kind in ("proposal", "step"):
            self.action_confirm_step()

    def on_data_table_row_highlighted(self) -> None:
        if self.view is not None:
            self._detail(self.view)

    def show(self, view: View) -> None:
        table = self.query_one(PlanChecklist)
        running = len(plans.view(view.state, view.now_ms, closed=0))
        titled(table, view.t("plan.desk.panel", n=running), view.t("plan.desk.none") if not running else "")
        super().show(view)
        self._detail(view)

    def _detail(self, view: View) -> None:
        """The row under the cursor in full: a step's posts, acknowledgements and reason, or a plan's story."""
        box = self.query_one("#plan-detail", Static)
        row = self.query_one(PlanChecklist).current_row
        titled(box, view.t("plan.title"))
        if row is None:
            box.update(view.t("plan.desk.none"))
            return
        if row[0] == "proposal":
            prop = view.state.plans["proposals"].get(row[1])
            box.update(plan_text.proposal_detail(view.state, prop, view.lang) if prop else "")
            return
        run = view.state.plans["runs"].get(row[1])
        if run is None:
            box.update("")
            return
        rv = plans.run_view(view.state, run, view.now_ms)
        step = next((s for s in rv.steps if s.id == row[2]), None) if row[0] == "step" else None
        box.update(plan_text.detail(view.state, rv, step, view.lang))
