"""What the operator does with contingency plans: start one, answer a proposal, confirm or skip a step, stand a plan down.

Mixed into every desk screen (through DeskActions). The row under the checklist's cursor says
what c / k / x and Enter act on; the palette names its target directly. Each action asks in a
modal when it needs words, then hands the app one call on the link; the board shows the result
once the hub has logged it.
"""
from __future__ import annotations

from typing import Any

from console.core import plans
from console.desk.screens.plan_modals import NoteModal, PlanStartModal
from console.desk.widgets import plan_text
from console.desk.widgets.plans import PlanChecklist
from protocols.i18n import t


class PlanActions:
    app: Any

    def _t(self, key: str, **kw: Any) -> str:
        return t(key, self.app.lang, **kw)

    def _state(self) -> Any:
        view = self.app.current_view
        return view.state if view is not None else None

    def _plan_row(self) -> tuple[str, int, str] | None:
        """The checklist row under the cursor, on a checklist this screen shows (not the main screen's
        panel at 80 columns, hidden there: its cursor is nobody's choice)."""
        for table in self.query(PlanChecklist):   # type: ignore[attr-defined]
            if table.is_on_screen and table.current_row is not None:
                return table.current_row
        return None

    def _run(self, run_id: int) -> dict[str, Any] | None:
        state = self._state()
        return state.plans["runs"].get(run_id) if state is not None else None

    # --- keys ---------------------------------------------------------------------------------------
    def action_plans(self) -> None:
        # The app opens the screen: this mixin is a base of every screen and imports none of them.
        self.app.open_plans()

    def action_start_plan(self) -> None:
        state = self._state()
        if state is None or not plan_text.library(state):
            self.app.notify(self._t("plan.msg.library_empty"), severity="warning")
            return

        def chosen(value: dict | None) -> None:
            if value:
                self.start_plan(value["plan"], value["note"])

        self.app.push_screen(PlanStartModal(self._t("plan.modal.start"), self.app.lang, state), chosen)

    def action_confirm_step(self) -> None:
        """Confirm the step under the cursor done; on a proposal, start its plan."""
        row = self._plan_row()
        if row is not None and row[0] == "proposal":
            self.accept_proposal(row[1])
            return
        step = self._step(row)
        if step is None:
            return
        run, st = step
        self.app.send(lambda link: link.settle_step(run["id"], st["id"], "done"), "plan.sent.confirm",
                      step=plan_text.name(run, self.app.lang) + " · " + self._do(st))

    def action_skip_step(self) -> None:
        step = self._step(self._plan_row())
        if step is None:
            return
        run, st = step

        def written(value: dict | None) -> None:
            if value:
                self.app.send(lambda link: link.settle_step(run["id"], st["id"], "skipped", value["text"]),
                              "plan.sent.skip", step=self._do(st))

        self.app.push_screen(NoteModal(self._t("plan.modal.skip", step=self._do(st)), self.app.lang,
                                       "plan.modal.reason", required=True), written)

    def action_stand_down(self) -> None:
        """Stand down the plan under the cursor (any of its rows); on a proposal, dismiss it."""
        row = self._plan_row()
        if row is None:
            self.app.notify(self._t("plan.msg.no_run"), severity="warning")
        elif row[0] == "proposal":
            self.dismiss_proposal(row[1])
        else:
            self.stand_down_run(row[1])

    # --- by name (the palette) ---------------------------------------------------------------------
    def start_plan(self, plan_id: str, note: str = "") -> None:
        state = self._state()
        named = next((p for p in plan_text.library(state) if p["id"] == plan_id), None) if state is not None else None
        self.app.send(lambda link: link.start_plan(plan_id, note), "plan.sent.start",
                      plan=plan_text.name(named, self.app.lang) if named else plan_id)

    def accept_proposal(self, proposal_id: int) -> None:
        state = self._state()
        prop = state.plans["proposals"].get(proposal_id) if state is not None else None
        if prop is not None:
            self.start_plan(prop["plan"])

    def dismiss_proposal(self, proposal_id: int) -> None:
        state = self._state()
        prop = state.plans["proposals"].get(proposal_id) if state is not None else None
        if prop is None or prop["status"] != "open":
            return
        name = plan_text.name(prop, self.app.lang)

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.stand_down(proposal_id, value["text"]), "plan.sent.dismiss", plan=name)

        self.app.push_screen(NoteModal(self._t("plan.modal.dismiss", plan=name), self.app.lang, "plan.modal.note",
                                       required=False), written)

    def stand_down_run(self, run_id: int) -> None:
        run = self._run(run_id)
        if run is None or run["stood_down"] is not None:
            self.app.notify(self._t("plan.msg.no_run"), severity="warning")
            return
        name = f"{plan_text.name(run, self.app.lang)} #{run_id}"
        ready = plans.may_stand_down(run)
        still_open = sum(s["status"] not in plans.SETTLED for s in run["steps"].values())
        explain = self._t("plan.may_stand_down") if ready else self._t("plan.modal.steps_open", n=still_open)

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.stand_down(run_id, value["text"]), "plan.sent.stand_down", plan=name)

        self.app.push_screen(NoteModal(self._t("plan.modal.stand_down", plan=name), self.app.lang,
                                       "plan.modal.note" if ready else "plan.modal.reason", required=not ready,
                                       explain=explain), written)

    # --- helpers ------------------------------------------------------------------------------------
    def _do(self, step: dict[str, Any]) -> str:
        return (step.get("do_en") or step["do"]) if self.app.lang == "en" else (step["do"] or step.get("do_en", ""))

    def _step(self, row: tuple[str, int, str] | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The running plan's step under the cursor, still open; otherwise say what to do and None."""
        run = self._run(row[1]) if row is not None and row[0] == "step" else None
        step = run["steps"].get(row[2]) if run is not None else None
        if run is None or step is None or run["stood_down"] is not None:
            self.app.notify(self._t("plan.msg.no_step"), severity="warning")
            return None
        if step["status"] in plans.SETTLED:
            self.app.notify(self._t("plan.msg.settled", status=self._t(f"plan.step.{step['status']}")))
            return None
        return run, step
