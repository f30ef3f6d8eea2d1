"""The desk's contingency plans on screen: the one-line indicator and the checklist of proposals, running plans and their steps.

Both render the View handed down by their screen (data down); the checklist says which row the
operator chose with a past-tense message and leaves the acting to the screen (intent up).
"""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from console.core import plans
from console.desk.keys import KEYS, bindings
from console.desk.widgets import fmt, plan_text
from console.desk.widgets.chrome import show_text
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View

INDICATOR_CLASSES = ("-overdue", "-proposed", "-running")
PLAN_ACTIONS = frozenset(k.action for k in KEYS if k.scope == "plan")


class PlanIndicator(Static):
    """"⚑ 2 plans running · 1 step overdue — p opens the plans": red when a step is overdue, amber for a proposal."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        text, cls = plan_text.indicator(view.state, view.now_ms, view.lang, hint=not view.wall)
        self.display = bool(cls)
        for name in INDICATOR_CLASSES:
            self.set_class(name == cls, name)
        if cls:
            show_text(self, text)   # one nowrap line (height 1): words never resize it


class PlanChecklist(ViewTable):
    """Proposals first (amber), then each running plan (a title row, then its steps), then, on the
    plans screen, the plans stood down lately. Row keys: "p<gseq>", "r<run>", "r<run>.<step>"."""

    BINDINGS = bindings("plan")
    FLEX = (("plan.col.step", "plan.col.by", "plan.col.department"),)
    WIDE_AT = 140    # the elapsed column and whole clock faces; under it (80 columns, the main screen's panel) less

    class Chosen(Message):
        """Enter on a row: `kind` is "proposal", "run" or "step"."""

        def __init__(self, kind: str, ident: int, step: str) -> None:
            super().__init__()
            self.kind, self.ident, self.step = kind, ident, step

    def __init__(self, closed: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.closed = closed   # how many stood-down runs to list under the running ones

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        cols = ["plan.col.status", "plan.col.step", "plan.col.department", "plan.col.due"]
        cols += ["plan.col.by"] if self.compact else ["plan.col.elapsed", "plan.col.by"]
        return [(c, None) for c in cols]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        state, lang, now, short = view.state, view.lang, view.now_ms, self.compact
        hhmm = 5 if short else 8   # a narrow table gives clock faces to the minute
        for prop in plans.proposals(state):
            owner = plan_text.owner_of(state, prop["plan"])
            title = fmt.safe(plan_text.name(prop, lang), "bold")
            title.append(" · " + plan_text.cause(state, prop.get("cause", ""), lang), style="dim")
            when = fmt.clock(prop["ms"], view.tz)[:hhmm]
            row = [Text(view.t("plan.state.proposed"), style=plan_text.PROPOSED_STYLE), title,
                   self._dept(owner, lang),
                   when if short else view.t("plan.desk.proposed_at", at=when)]
            if not short:
                row.append(fmt.duration(now - prop["ms"], lang, short=True))
            # A wall display cannot start or dismiss a plan: no keys named there.
            hint = Text("" if view.wall else view.t("plan.desk.proposal_hint"), style="bold")
            yield f"p{prop['id']}", row + [hint]
        for run in plans.view(state, now, closed=self.closed):
            when = fmt.clock(run.started_ms, view.tz)[:hhmm]
            row = [plan_text.run_state(run, lang), plan_text.run_title(state, run, lang),
                   self._dept(run.owner, lang),
                   when if short else view.t("plan.desk.started_at", at=when)]
            if not short:
                end = run.stood_down["ms"] if run.stood_down else now
                row.append(fmt.duration(end - run.started_ms, lang, short=True))
            yield f"r{run.id}", row + [plan_text.progress(run, lang)]
            if not run.active:
                continue
            for step in run.steps:
                row = [plan_text.status_cell(step, now, lang, short), plan_text.step_text(step, lang),
                       self._dept(step.department, lang), Text(fmt.clock(step.due_ms, view.tz)[:hhmm], style="dim")]
                if not short:
                    row.append(fmt.duration((step.at_ms or now) - run.started_ms, lang, short=True))
                by = plan_text.by_cell(state, step, lang, short)
                yield f"r{run.id}.{step.id}", row + [by]

    def _dept(self, dept: str, lang: str) -> Text:
        return Text(fmt.label(f"dept.{dept}", lang) if dept else "")

    @property
    def current_row(self) -> tuple[str, int, str] | None:
        """("proposal", gseq, "") | ("run", run, "") | ("step", run, step id) under the cursor."""
        return parse_key(self.current_key)

    def on_data_table_row_selected(self, event: ViewTable.RowSelected) -> None:
        event.stop()
        row = parse_key(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Chosen(*row))

    # The keys act on the row under the cursor; the screen does the acting (and asks in modals).
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PLAN_ACTIONS and self.app.wall:
            return False   # a wall display shows, it never acts
        return super().check_action(action, parameters)

    def action_confirm_step(self) -> None:
        self.screen.action_confirm_step()

    def action_skip_step(self) -> None:
        self.screen.action_skip_step()

    def action_stand_down(self) -> None:
        self.screen.action_stand_down()


def parse_key(key: str | None) -> tuple[str, int, str] | None:
    if not key:
        return None
    if key.startswith("p"):
        return "proposal", int(key[1:]), ""
    run, _, step = key[1:].partition(".")
    return ("step" if step else "run"), int(run), step
