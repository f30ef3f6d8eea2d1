"""What the operator can do, shared by the board and the detail screens: each action asks in a modal, then hands the app one call on the link."""
from __future__ import annotations

from typing import Any

from console.core import readiness
from console.desk.keys import OPERATOR_ACTIONS
from console.desk.screens.modals import ChoiceModal, IncidentModal, InstructionModal, TextModal, departments
from console.desk.screens.plan_actions import PlanActions
from console.desk.screens.prep_actions import PrepActions
from console.desk.screens.sendoff_actions import SendoffActions
from console.desk.screens.service_actions import ServiceActions
from console.desk.screens.vip_actions import VipActions
from console.desk.widgets import fmt
from protocols.i18n import t


class DeskActions(PlanActions, SendoffActions, ServiceActions, VipActions, PrepActions):
    """Mixed into a Screen. `selected_incident()` says which incident a/d/n/r act on; the plan, send-off and service actions come with it."""

    app: Any

    def selected_incident(self) -> int | None:
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in OPERATOR_ACTIONS and self.app.wall:
            return False   # a wall display shows, it never acts
        return True

    def _lang(self) -> str:
        return self.app.lang

    def _incident(self) -> dict[str, Any] | None:
        iid = self.selected_incident()
        view = self.app.current_view
        inc = view.state.incidents.get(iid) if (view and iid) else None
        if inc is None:
            self.app.notify(t("desk.msg.no_incident", self._lang()), severity="warning")
        return inc

    def action_acknowledge(self) -> None:
        inc = self._incident()
        if inc is None:
            return
        if inc["status"] != "new":
            self.app.notify(t("desk.msg.already", self._lang(), id=inc["id"],
                              status=t(f"status.{inc['status']}", self._lang())))
            return
        self.app.send(lambda link: link.update_incident(inc["id"], status="acknowledged"),
                      "desk.sent.acknowledge", id=inc["id"])

    def action_assign(self) -> None:
        inc = self._incident()
        if inc is None:
            return
        lang = self._lang()

        def chosen(dept: str | None) -> None:
            if dept:
                self.app.send(lambda link: link.update_incident(inc["id"], assign=dept), "desk.sent.assign",
                              id=inc["id"], dept=t(f"dept.{dept}", lang))

        state = self.app.current_view.state
        self.app.push_screen(ChoiceModal(t("desk.modal.assign", lang, id=inc["id"]), lang, departments(lang, state)),
                             chosen)

    def action_annotate(self) -> None:
        inc = self._incident()
        if inc is None:
            return

        def written(value: dict | None) -> None:
            if value:
                self.app.send(lambda link: link.update_incident(inc["id"], note=value["text"]),
                              "desk.sent.annotate", id=inc["id"])

        self.app.push_screen(TextModal(t("desk.modal.annotate", self._lang(), id=inc["id"]), self._lang()), written)

    def action_resolve(self) -> None:
        inc = self._incident()
        if inc is None:
            return

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.update_incident(inc["id"], status="resolved", note=value["text"]),
                              "desk.sent.resolve", id=inc["id"])

        self.app.push_screen(TextModal(t("desk.modal.resolve", self._lang(), id=inc["id"]), self._lang(),
                                       required=False), written)

    def action_open_incident(self) -> None:
        def filled(value: dict | None) -> None:
            if value:
                self.app.send(lambda link: link.open_incident(**value), "desk.sent.open_incident",
                              kind=t(f"incident.{value['kind']}", self._lang()))

        self.app.push_screen(IncidentModal(t("desk.modal.open_incident", self._lang()), self._lang()), filled)

    def action_send_instruction(self) -> None:
        view = self.app.current_view
        if view is None:
            return

        def filled(value: dict | None) -> None:
            if value:
                self.app.send(lambda link: link.instruct(**value), "desk.sent.instruction")

        self.app.push_screen(InstructionModal(t("desk.modal.instruction", self._lang()), self._lang(), view.state),
                             filled)

    def action_log_note(self) -> None:
        def written(value: dict | None) -> None:
            if value:
                self.app.send(lambda link: link.note(value["text"], value.get("department", "")), "desk.sent.note")

        view = self.app.current_view
        self.app.push_screen(TextModal(t("desk.modal.log_note", self._lang()), self._lang(), department=True,
                                       state=view.state if view else None), written)

    def action_instructions(self) -> None:
        # The app opens the screen: this mixin is a base of every screen and imports none of them.
        self.app.open_instructions()

    def selected_task(self) -> str | None:
        return None

    def action_sign_off(self) -> None:
        """Sign a preparation task off: the one under the cursor on the readiness board, else pick one."""
        view = self.app.current_view
        if view is None:
            return
        lang = self._lang()
        chosen = self.selected_task()
        if chosen:
            self.sign_off(chosen)
            return
        still = [v for v in readiness.tasks(view.state, view.now_ms) if v.status != "done"]
        if not still:
            self.app.notify(t("desk.msg.all_signed", lang))
            return
        options = [(f"{t(f'dept.{v.department}', lang)} · {v.title_in(lang)}", v.id) for v in still]
        self.app.push_screen(ChoiceModal(t("desk.modal.sign_off", lang), lang, options),
                             lambda task: self.sign_off(task) if task else None)

    def sign_off(self, task_id: str) -> None:
        view = self.app.current_view
        if view is None or self.app.wall:
            return
        lang = self._lang()
        task = next((v for v in readiness.tasks(view.state, view.now_ms) if v.id == task_id), None)
        if task is None:
            return
        if task.status == "done":
            self.app.notify(t("desk.msg.signed_already", lang, task=task.title_in(lang), at=fmt.clock(task.at_ms, view.tz)[:5],
                              by=fmt.station_name(view.state, task.by, lang)), markup=False)
            return

        def written(value: dict | None) -> None:
            if value is not None:
                self.app.send(lambda link: link.signoff_task(task_id, value["text"]), "desk.sent.sign_off",
                              task=task.title_in(lang))

        title = t("desk.modal.sign_off_task", lang, dept=t(f"dept.{task.department}", lang), task=task.title_in(lang))
        self.app.push_screen(TextModal(title, lang, required=False), written)
