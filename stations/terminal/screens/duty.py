"""Duty at this terminal: who is signed in here, sign in or out, and sign a preparation task off.

Each choice hands the app an Action (see stations.terminal.posts.duty); the app opens the usual form
or sends at once, so a refusal shows the same way as any report's. Names and task titles come
from the event file and the staff: every line is plain Text.
"""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from protocols import i18n
from stations.terminal.posts import duty
from stations.terminal.posts.base import Action, Site


class DutyScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f8", "close", show=False)]

    def __init__(self, site: Site, lang: str, on_duty: list[dict[str, str]], done: set[str],
                 perform: Callable[[Action], Any]) -> None:
        super().__init__()
        self.site, self.lang, self.on_duty, self.done, self.perform = site, lang, on_duty, done, perform
        self.actions: dict[str, Action] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="duty"):
            yield Static(Text(i18n.t("station.duty.title", self.lang), style="bold"), id="duty-title")
            yield Static(self.facts(), id="duty-facts")
            yield OptionList(*self.options(), id="duty-list")
            yield Static(i18n.t("station.duty.hint", self.lang), id="duty-hint")

    def facts(self) -> Text:
        lang = self.lang
        text = Text()
        text.append(i18n.t("station.duty.on", lang) + " ", style="dim")
        if self.on_duty:
            text.append(("、" if lang == "zh" else ", ").join(duty.person_label(p, lang) for p in self.on_duty),
                        style="bold green")
        else:
            text.append(i18n.t("station.duty.nobody", lang), style="bold yellow")
        if self.site.roster:
            text.append("\n" + i18n.t("station.duty.rostered", lang) + " ", style="dim")
            text.append(("、" if lang == "zh" else ", ").join(
                f"{duty.person_label(r, lang)} {i18n.t('station.duty.from', lang, time=r.get('from', ''))}"
                for r in self.site.roster))
        return text

    def options(self) -> list[Option]:
        lang = self.lang
        out: list[Option] = []

        def add(action: Action, text: Text) -> None:
            self.actions[action.id] = action
            out.append(Option(text, id=action.id))

        add(duty.signin_action(self.site), Text("▶ " + i18n.t("station.duty.signin", lang), style="bold"))
        for person in self.on_duty:
            action = duty.signout_action(person)
            action = Action(f"signout-{person.get('staff_no') or person.get('name')}", "", action.label, action.build)
            add(action, Text("◀ " + i18n.t("station.duty.signout_who", lang, who=duty.person_label(person, lang))))
        tasks = duty.tasks_here(self.site)
        if tasks:
            out.append(Option(Text(i18n.t("station.duty.tasks", lang), style="bold underline"), disabled=True))
        for task in tasks:
            line = Text()
            mine = str(task.get("id")) in self.done
            line.append("✓ " if mine else "☐ ", style="green" if mine else "")
            line.append(i18n.t(f"dept.{task.get('department', '')}", lang) + " · ", style="dim")
            line.append(duty.task_title(task, lang))
            due = duty.due_words(task, self.site, lang)
            if due:
                line.append(" · " + due, style="dim")
            if task.get("blocking"):
                line.append(" " + i18n.t("station.duty.blocking", lang), style="bold red")
            add(duty.task_action(task, lang), line)
        return out

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def show(self, site: Site, on_duty: list[dict[str, str]], done: set[str]) -> None:
        """The plan as it stands now (a task the desk added, moved or gave away; who signed in), drawn only when it changed."""
        if (site, on_duty, done) == (self.site, self.on_duty, self.done):
            return
        self.site, self.on_duty, self.done = site, on_duty, done
        self.actions = {}
        listed = self.query_one(OptionList)
        picked = listed.highlighted_option.id if listed.highlighted_option is not None else None
        self.query_one("#duty-facts", Static).update(self.facts())
        listed.clear_options()
        listed.add_options(self.options())
        ids = [o.id for o in listed.options]
        if picked in ids:   # the line the supervisor was on stays under the cursor
            listed.highlighted = ids.index(picked)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        action = self.actions.get(event.option.id or "")
        if action is not None:
            self.dismiss(None)
            self.perform(action)

    def action_close(self) -> None:
        self.dismiss(None)
