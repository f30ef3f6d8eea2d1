"""The command palette's provider: every desk action, every station and every open incident, in the desk's language."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.core import plans
from console.core import state as fold
from console.desk.keys import KEYS, OPERATOR_SCOPES
from console.desk.widgets import fmt, plan_text
from protocols.i18n import t


class DeskCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        lang = app.lang
        for key in KEYS:
            if not key.action or (app.wall and key.scope in OPERATOR_SCOPES):
                continue
            if key.action == "command_palette":
                continue
            shown = key.display or key.keys.split(",")[0]
            yield t(key.text, lang), partial(self._run, key.action), shown
        view = app.current_view
        if view is None:
            return
        for sid in view.state.stations:
            name = fmt.station_name(view.state, sid, lang)
            yield t("desk.cmd.station", lang, station=name), partial(app.open_station, sid), sid
        for inc in fold.open_incidents(view.state):
            title = t("desk.cmd.incident", lang, id=inc["id"], kind=t(f"incident.{inc['kind']}", lang),
                      sev=t(f"severity.{inc['severity']}", lang))
            yield title, partial(app.open_incident_screen, inc["id"]), ""
        if not app.wall:
            yield from self._plan_commands(view)

    def _plan_commands(self, view: Any) -> Iterator[tuple[str, Callable[[], Any], str]]:
        """Answer each proposal, stand each running plan down, start any plan of the library by name."""
        state, lang, screen = view.state, view.lang, self.screen
        if not hasattr(screen, "start_plan"):
            return
        for prop in plans.proposals(state):
            name = plan_text.name(prop, lang)
            yield t("plan.cmd.accept", lang, plan=name), partial(screen.accept_proposal, prop["id"]), ""
            yield t("plan.cmd.dismiss", lang, plan=name), partial(screen.dismiss_proposal, prop["id"]), ""
        for run in plans.view(state, view.now_ms, closed=0):
            yield (t("plan.cmd.stand_down", lang, plan=plan_text.name(run, lang), id=run.id),
                   partial(screen.stand_down_run, run.id), "x")
        for plan in plan_text.library(state):
            if not plans.active_run(state, plan["id"]):
                yield (t("plan.cmd.start", lang, plan=plan_text.name(plan, lang)),
                       partial(screen.start_plan, plan["id"]), plan["id"])

    async def _run(self, action: str) -> None:
        # App-level actions (help, language, quit) live on the app; the rest on the screen below the palette.
        target = self.app if hasattr(self.app, f"action_{action}") else self.screen
        await target.run_action(action)

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
