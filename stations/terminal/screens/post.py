"""The post's main screen: link line, the desk's banner, running figures, big key buttons, the report list.

It renders the View the app hands it and turns keys and clicks into the app's `perform`;
it never touches the client itself.
"""
from __future__ import annotations

from typing import Any, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Button, Static

from protocols import i18n
from stations.terminal.posts import gate
from stations.terminal.posts.base import Action, Area, Post, Site
from stations.terminal.screens.view import View
from stations.terminal.widgets.banner import Banner, sendoff
from stations.terminal.widgets.counts_bar import CountsBar
from stations.terminal.widgets.key_button import KeyButton, key_label
from stations.terminal.widgets.link_bar import LinkBar
from stations.terminal.widgets.plan_banner import PlanBanner
from stations.terminal.widgets.report_list import ReportList


class Terminal(Protocol):
    """What the screen asks of its app (StationApp): the app imports this screen, never the reverse."""

    def perform(self, action: Action) -> None: ...
    def plan_done(self) -> None: ...
    def plan_skip(self) -> None: ...
    def acknowledge(self, instruction: int) -> str | None: ...


class PostScreen(Screen):
    """One screen per terminal; its key bindings come from the post's actions (F-keys, digits as aliases)."""

    app: Terminal  # type: ignore[assignment]

    def __init__(self, post: Post, site: Site, lang: str) -> None:
        super().__init__()
        self.post, self.site, self.lang = post, site, lang
        for action in post.actions:
            # Digits too: a browser may keep some F-keys for itself (F5 reloads, F11 goes full screen).
            keys = action.key + (f",{action.alias}" if action.alias else "")
            self._bindings.bind(keys, f"do('{action.id}')", i18n.t(action.label, "en"), show=False)
        # A running plan's task for this post: D confirms it done, K skips it with a reason.
        self._bindings.bind("d", "plan_done", i18n.t("station.plan.act_done", "en"), show=False)
        self._bindings.bind("k", "plan_skip", i18n.t("station.plan.act_skip", "en"), show=False)
        # A send-off on the banner: A acknowledges it, one key, as the post sees the guests out.
        self._bindings.bind("a", "ack_sendoff", i18n.t("station.sendoff.act_ack", "en"), show=False)
        self.leaving: Any = None

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield Banner(id="banner")
        yield PlanBanner(id="plan")
        yield CountsBar(id="counts")
        with Grid(id="keys"):
            for action in self.post.actions:
                yield KeyButton(action.id, action.key, i18n.t(action.label, self.lang),
                                classes=f"-{action.kind}")
        yield Static("", id="flash")
        reports = ReportList(id="reports")
        reports.first_key = next((key_label(a.key) for a in self.post.actions if a.kind == "report" and a.key),
                                 "F1")
        yield reports
        yield Static("", id="hints")

    def on_mount(self) -> None:
        self.relabel(self.lang)

    def action_do(self, action_id: str) -> None:
        action = next((a for a in self.post.actions if a.id == action_id), None)
        if action is not None:
            self.app.perform(action)

    def action_plan_done(self) -> None:
        self.app.plan_done()

    def action_plan_skip(self) -> None:
        self.app.plan_skip()

    def action_ack_sendoff(self) -> None:
        if self.leaving is None:
            self.flash(i18n.t("station.sendoff.none", self.lang), bad=True)
            return
        self.app.acknowledge(self.leaving.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if isinstance(event.button, KeyButton):
            event.stop()
            self.action_do(event.button.action_id)

    def relabel(self, lang: str) -> None:
        """Every label again in `lang` (the language is switched at run time)."""
        self.lang = lang
        for action in self.post.actions:
            self.query_one(f"#act-{action.id}", KeyButton).relabel(i18n.t(action.label, lang))
        # The station by its name (staff never read its id) and its post.
        self.query_one(LinkBar).title = f"{self.site.label(lang)} · {i18n.t(f'post.{self.site.post}', lang)}"
        for cls in (LinkBar, Banner, PlanBanner, CountsBar, ReportList):
            self.query_one(cls).lang = lang
        self.query_one(ReportList).names = self.site.area_names(lang)
        self.query_one(ReportList).zone = self.site.timezone
        self.query_one("#hints", Static).update(Text(i18n.t("station.hints", lang), style="dim"))

    def show(self, view: View, area: Area | None) -> None:
        self.query_one(LinkBar).status = view.status
        holds = gate.holds(self.site, view.orders) if self.post.hold_banner else ()
        # An open plan task has the plan's own banner (settling it acknowledges it): not said twice.
        tasks = {t.item.id for t in view.tasks}
        pending = tuple(p for p in view.pending if p.id not in tasks)
        newest = next((i for i in view.instructions if i.id not in tasks), None)
        self.query_one(Banner).data = (holds, pending, newest)
        self.leaving = sendoff(pending)
        self.query_one(PlanBanner).data = (view.tasks, view.plans)
        self.query_one(CountsBar).counts = view.counts
        self.query_one(ReportList).reports = view.recent

    def flash(self, message: str, bad: bool = False) -> None:
        flash = self.query_one("#flash", Static)
        flash.set_class(bad, "-bad")
        flash.update(Text(message, style="bold red" if bad else "bold green"))

    def flash_text(self) -> Any:
        return self.query_one("#flash", Static).render()
