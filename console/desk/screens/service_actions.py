"""What the operator does with service calls: take one (已接单), mark it done (已完成), cancel it with a reason (已取消).

Mixed into every desk screen (through DeskActions). On the service screen the row under the cursor
says which call j / y / q act on; elsewhere (the palette) the operator picks one from the open calls.
Each action asks in a modal (who, or why), then hands the app one call on the link; the list shows
the result once the hub has logged it.
"""
from __future__ import annotations

from typing import Any, Callable

from console.core import services
from console.desk.screens.modals import ChoiceModal, TextModal
from console.desk.widgets.services import owner_cell
from protocols.i18n import t

# What each action needs the call to be, and the status it sends.
STEPS = {"take": (("open",), "taken"), "finish": (("open", "taken"), "done"), "cancel": (("open", "taken"), "cancelled")}


class ServiceActions:
    app: Any

    def selected_call(self) -> int | None:
        """The call under the cursor, on a screen that lists them; None elsewhere."""
        return None

    def action_take_call(self) -> None:
        self._pick("take")

    def action_finish_call(self) -> None:
        self._pick("finish")

    def action_cancel_call(self) -> None:
        self._pick("cancel")

    def _pick(self, step: str) -> None:
        view = self.app.current_view
        if view is None:
            return
        lang, (allowed, _) = self.app.lang, STEPS[step]
        chosen = self.selected_call()
        if chosen is not None:
            self.settle_call(step, chosen)
            return
        options = [(self._call_name(c.record, lang), str(c.id)) for c in services.calls(view.state, view.now_ms)
                   if c.status in allowed]
        if not options:
            self.app.notify(t("desk.svc.msg.none", lang))
            return
        self.app.push_screen(ChoiceModal(t(f"desk.svc.modal.pick_{step}", lang), lang, options),
                             lambda call: self.settle_call(step, int(call)) if call else None)

    @staticmethod
    def _call_name(r: dict[str, Any], lang: str) -> str:
        where = t("svcrule.where", lang, where=r["where"]) if r["where"] else ""
        return f"{t('service.' + r['service'], lang)}{where} · {owner_cell(r['owner'], lang)}"

    def settle_call(self, step: str, call: int) -> None:
        """Ask who (take, finish) or why (cancel), then send the update."""
        view = self.app.current_view
        if view is None or self.app.wall:
            return
        lang, (allowed, status) = self.app.lang, STEPS[step]
        r = view.state.requests.get(call)
        if r is None:
            return
        name = self._call_name(r, lang)
        if r["status"] not in allowed:
            self.app.notify(t("desk.svc.msg.already", lang, call=name, status=t(f"svc_status.{r['status']}", lang)),
                            markup=False)
            return

        def written(value: dict | None) -> None:
            if value is None:
                return
            text = value["text"].strip()
            by, note = ("", text) if step == "cancel" else (text, "")
            send: Callable[[Any], Any] = lambda link: link.update_service(call, status, by=by, note=note)  # noqa: E731
            self.app.send(send, f"desk.svc.sent.{step}", call=name)

        self.app.push_screen(TextModal(t(f"desk.svc.modal.{step}", lang, call=name), lang,
                                       required=step == "cancel"), written)
