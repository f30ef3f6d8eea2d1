"""The command desk's one screen: posts, figures, incidents, timeline (and instructions when wide), under the alert banners."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from console.core import plans
from console.core import state as fold
from console.desk.keys import bindings
from console.desk.screens.details import IncidentScreen, StationScreen, ViewScreen
from console.desk.widgets.chrome import DeskFooter, titled, top
from console.desk.widgets.figures import AreasPanel, PeoplePanel, WallFigures
from console.desk.widgets.incidents import HighAlertBanner, IncidentBoard
from console.desk.widgets.instructions import InstructionsTable
from console.desk.widgets.plans import PlanChecklist, PlanIndicator
from console.desk.widgets.posts import PostsTable
from console.desk.widgets.timeline import Timeline
from console.desk.widgets.view import View

PANELS = {"posts-panel": "desk.panel.posts", "figures-panel": "desk.panel.figures",
          "instructions-panel": "desk.panel.instructions", "incidents-panel": "desk.panel.incidents",
          "timeline-panel": "desk.panel.timeline"}


class MainScreen(ViewScreen):
    BINDINGS = bindings("incident", "desk", "board")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    AUTO_FOCUS = "#incidents"

    def compose(self) -> ComposeResult:
        yield from top("header")
        yield HighAlertBanner(id="alert")
        yield PlanIndicator(id="plans-line")
        if self.app.wall:
            yield WallFigures(id="wall")
        with Horizontal(id="top"):
            with Vertical(id="posts-panel", classes="panel"):
                yield PostsTable(id="posts")
            with Vertical(id="figures-panel", classes="panel"):
                yield PeoplePanel(id="people")
                yield AreasPanel(id="areas")
            with Vertical(id="instructions-panel", classes="panel"):
                yield InstructionsTable(id="instructions")
        with Horizontal(id="bottom"):
            with Vertical(id="left"):
                with Vertical(id="incidents-panel", classes="panel"):
                    yield IncidentBoard(id="incidents")
                # Wide screens only; at 80 columns the indicator line and `p` (the plans screen) do.
                with Vertical(id="plans-panel", classes="panel"):
                    yield PlanChecklist(id="plans")
            with Vertical(id="timeline-panel", classes="panel"):
                yield Timeline(id="timeline")
        yield DeskFooter()

    def show(self, view: View) -> None:
        for panel_id, key in PANELS.items():
            panel = self.query_one(f"#{panel_id}")
            titled(panel, view.t(key))
        n = len(fold.open_incidents(view.state))
        titled(self.query_one("#incidents-panel"), view.t("desk.panel.incidents_n", n=n))
        self._plans_panel(view)
        # The posts table shows every station when it can: a big event grows the top row,
        # up to under half the screen.
        rows = max(11, len(view.state.stations) + 3)
        self.query_one("#top").styles.height = min(rows, max(11, self.size.height * 45 // 100))
        super().show(view)

    def _plans_panel(self, view: View) -> None:
        """Proposals and running plans share the left column with the incidents; a line when there are none."""
        panel = self.query_one("#plans-panel")
        waiting = bool(plans.proposals(view.state))
        running = len([r for r in view.state.plans["runs"].values() if r["stood_down"] is None])
        titled(panel, view.t("plan.desk.panel", n=running),
               "" if running or waiting or view.wall else view.t("plan.desk.none"))
        panel.styles.height = "1fr" if running or waiting else 2   # nothing: the titled border alone
        panel.query_one(PlanChecklist).display = bool(running or waiting)

    def on_plan_checklist_chosen(self, message: PlanChecklist.Chosen) -> None:
        if message.kind == "run":
            self.action_plans()
        else:
            self.action_confirm_step()

    def selected_incident(self) -> int | None:
        return self.query_one(IncidentBoard).current

    def show_incident(self, incident: int) -> None:
        """Move the board to an incident (a new serious one) so a/d/n/r act on it at once."""
        self.query_one(IncidentBoard).select_key(str(incident))

    def action_filter(self) -> None:
        self.query_one("#filter-post").focus()

    def on_posts_table_selected(self, message: PostsTable.Selected) -> None:
        self.app.push_screen(StationScreen(message.station))

    def on_incident_board_selected(self, message: IncidentBoard.Selected) -> None:
        self.app.push_screen(IncidentScreen(message.incident))

    def on_instructions_table_selected(self, message: InstructionsTable.Selected) -> None:
        self.action_instructions()
