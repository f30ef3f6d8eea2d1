"""The service screen (f): every open service call with its department, where, age and who took it, late ones marked; j / y / q act on the one under the cursor."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from console.desk.keys import bindings
from console.desk.screens.details import ViewScreen
from console.desk.widgets.chrome import DeskFooter, DeskHeader, titled
from console.desk.widgets.services import ServicesTable, indicator
from console.desk.widgets.view import View


class ServicesScreen(ViewScreen):
    DEFAULT_CSS = """
    #services-line { height: 1; padding: 0 1; }
    """
    BINDINGS = bindings("detail", "desk", "service")
    AUTO_FOCUS = "#services-list"

    def compose(self) -> ComposeResult:
        yield DeskHeader(id="header")
        yield Static(id="services-line")
        yield ServicesTable(id="services-list")
        yield DeskFooter()

    def action_services(self) -> None:
        pass   # already here

    def selected_call(self) -> int | None:
        key = self.query_one(ServicesTable).current_key
        return int(key) if key else None

    def show(self, view: View) -> None:
        titled(self.query_one(ServicesTable), view.t("desk.svc.panel", late=view.state.event.get("services", {})
                                                   .get("late_ms", 600_000) // 60_000))
        self.query_one("#services-line", Static).update(indicator(view))
        super().show(view)
