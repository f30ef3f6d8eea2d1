"""Words and cells of the desk's plan checklist: names, causes, step status, who settled it, the one-line summary; no Textual.

Every word comes from the catalogue in the desk's language. Plan names and step texts came
over the wire (plan_started carries them) and reasons and notes were typed by people: all
are wrapped by `fmt.safe`, never parsed as markup.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text

from console.core import plans
from console.core.plans import RunView, StepView
from console.core.state import State
from console.desk.widgets import fmt
from protocols import names
from protocols.i18n import t

STATUS_STYLE = {"pending": "", "overdue": "bold white on red", "done": "green", "skipped": "dim", "late": "yellow",
                "cancelled": "dim"}
STATUS_MARK = {"pending": "○", "overdue": "⚠", "done": "✓", "skipped": "–", "late": "✓", "cancelled": "×"}
PROPOSED_STYLE = "bold black on yellow"


def name(record: Any, lang: str) -> str:
    """A run's, a proposal's or a library plan's name in `lang` (RunView or dict)."""
    get = record.get if isinstance(record, dict) else (lambda k, d="": getattr(record, k, d))
    return (get("name_en") if lang == "en" else get("name")) or get("name") or get("name_en") or get("plan") or get("id")


def library(state: State) -> list[dict[str, Any]]:
    """The plans the hub loaded (the event summary carries them), in file-name order."""
    return [p for p in state.event.get("plans", ()) if isinstance(p, dict) and p.get("id")]


def owner_of(state: State, plan_id: str) -> str:
    return next((p.get("owner", "") for p in library(state) if p["id"] == plan_id), "")


def cause(state: State, cause_ref: str, lang: str) -> str:
    """Why it started or is proposed: an incident, a full lot, a crowded zone, a silent station, the desk."""
    ev = state.event
    return names.cause(cause_ref, lang, ev.get("stations", ()), ev.get("lots", ()), ev.get("zones", ()))


def step_state(step: StepView) -> str:
    """pending | overdue | done | skipped | cancelled | late (done after its target time)."""
    return "late" if step.late and step.status == "done" else step.status


def status_cell(step: StepView, now_ms: int, lang: str, short: bool = False) -> Text:
    """"○ To do · 40s left", "⚠ Overdue · 2m over", "✓ Done": the word, and the clock while it is open.
    `short` (a narrow table): only the clock of an open step, "○ 40s left", "⚠ 2m over"."""
    state = step_state(step)
    mark, style = STATUS_MARK[state], STATUS_STYLE[state]
    if state == "pending":
        left = t("plan.desk.due_in", lang, d=fmt.duration(step.due_ms - now_ms, lang, short=True))
        if short:
            return Text(f"{mark} {left}")
        return Text.assemble((f"{mark} {t('plan.step.pending', lang)}", style), (" · " + left, "dim"))
    if state == "overdue":
        over = t("plan.desk.overdue_by", lang, d=fmt.duration(now_ms - step.due_ms, lang, short=True))
        return Text(f"{mark} {over}" if short else f"{mark} {t('plan.step.overdue', lang)} · {over}", style=style)
    return Text(f"{mark} {t(f'plan.step.{state}', lang)}", style=style)


def by_cell(state: State, step: StepView, lang: str, short: bool = False) -> Text:
    """Who settled the step and when, with the reason of a skip; while open, which of its posts have confirmed."""
    if step.status in ("pending", "overdue") and step.confirmed:
        words = ", " if lang == "en" else "、"
        out = Text(f"{len(step.confirmed)}/{len(step.posts)} ", style="bold")
        out.append_text(fmt.safe(words.join(fmt.station_name(state, by, lang) for _, by, _, _ in step.confirmed)))
        return out
    if not step.at_ms or step.status not in plans.SETTLED:
        return Text("")
    who = fmt.safe(fmt.station_name(state, step.by, lang))
    if short:   # when first: a narrow cell cuts the name, not the time
        return Text(fmt.clock(step.at_ms, fmt.zone_of(state))[:5] + " ", style="dim") + who
    out = who
    out.append(" " + fmt.clock(step.at_ms, fmt.zone_of(state)), style="dim")
    if step.reason:
        out.append(" · ")
        out.append_text(fmt.safe(step.reason, "italic"))
    return out


def run_title(state: State, run: RunView, lang: str) -> Text:
    out = fmt.safe(f"{name(run, lang)} #{run.id}", "bold")
    out.append(" · " + cause(state, run.cause, lang), style="dim")
    return out


def run_state(run: RunView, lang: str) -> Text:
    if not run.active:
        return Text(t("plan.state.stood_down", lang), style="dim")
    return Text(f"● {t('plan.state.active', lang)}", style="bold white on red" if run.overdue else "bold")


def progress(run: RunView, lang: str) -> Text:
    done = sum(s.status in plans.SETTLED for s in run.steps)
    out = Text(t("plan.desk.steps_done", lang, done=done, total=len(run.steps)))
    if run.may_stand_down and run.active:
        out.append(" · x", style="bold green")
    return out


def step_text(step: StepView, lang: str) -> Text:
    return fmt.safe((step.do_en or step.do) if lang == "en" else (step.do or step.do_en))


def proposal_detail(state: State, prop: dict[str, Any], lang: str) -> Text:
    out = fmt.safe(name(prop, lang), "bold")
    out.append(" · " + cause(state, prop.get("cause", ""), lang))
    out.append("  " + t("plan.desk.proposed_at", lang, at=fmt.clock(prop["ms"], fmt.zone_of(state))), style="dim")
    out.append("  " + t("plan.desk.proposal_hint", lang), style="bold")
    return out


def detail(state: State, run: RunView, step: StepView | None, lang: str) -> Text:
    """The line under the checklist: the whole step (posts, acknowledgements, reason) or the run's story."""
    if step is None:
        out = run_title(state, run, lang)
        out.append("  " + t("plan.desk.started_at", lang, at=fmt.clock(run.started_ms, fmt.zone_of(state))))
        out.append("  " + t("plan.started_auto" if run.auto else "plan.started_by_desk", lang), style="dim")
        if run.note:
            out.append("  ")
            out.append_text(fmt.safe(t("plan.desk.note", lang, note=run.note)))
        if run.stood_down:
            out.append("  " + t("plan.desk.stood_down_at", lang, at=fmt.clock(run.stood_down.get("ms", 0), fmt.zone_of(state))))
            if run.stood_down.get("note"):
                out.append("  ")
                out.append_text(fmt.safe(t("plan.desk.note", lang, note=run.stood_down["note"])))
        elif run.may_stand_down:
            out.append("  " + t("plan.may_stand_down", lang), style="bold green")
        return out
    out = step_text(step, lang)
    out.stylize("bold")
    words = ", " if lang == "en" else "、"
    if step.posts:
        # Each post the step names, with when it confirmed: the step is done only when all have.
        confirmed = {post: (ms, desk) for post, _, ms, desk in step.confirmed}
        people = {post: names.with_person(fmt.station_name(state, by, lang), dict(step.people).get(post, ""), lang)
                  for post, by, _, desk in step.confirmed if not desk}   # 东门岗（张三）: issue 16 item 3
        tz = fmt.zone_of(state)

        def post_line(p: str) -> str:
            label = fmt.label(f"post.{p}", lang)
            if p not in confirmed:   # a skipped or called-off step asks nobody any more
                return t("plan.desk.post_open", lang, post=label) if step.status in ("pending", "overdue") else label
            ms, desk = confirmed[p]
            return t("plan.desk.post_done_desk" if desk else "plan.desk.post_done", lang, post=people.get(p, label),
                     at=fmt.clock(ms, tz)[:5])
        out.append("  " + t("plan.desk.posts", lang, posts=words.join(post_line(p) for p in step.posts)))
        acked = sum(len(stations) for _, _, stations in step.sent)
        expected = sum(len([s for s in state.stations.values() if s.get("post") == p]) for p in step.posts)
        out.append("  " + t("plan.acks", lang, acked=acked, expected=expected), style="dim")
    else:
        out.append("  " + t("plan.desk.no_posts", lang), style="dim")
    if step.reason:
        out.append("  ")
        out.append_text(fmt.safe(t("plan.desk.reason", lang, reason=step.reason)))
    return out


def _counted(key: str, n: int, lang: str) -> str:
    return t(f"{key}_1" if n == 1 else key, lang, n=n)


def indicator(state: State, now_ms: int, lang: str, hint: bool = True) -> tuple[Text, str]:
    """The main screen's one line ("2 plans running · 1 step overdue · 1 plan proposed — p opens the plans")
    and its class: "-overdue", "-proposed", "-running", or "" when there is nothing to say.
    `hint=False` (a wall display, where `p` does nothing) leaves out the key to press."""
    runs = [r for r in plans.view(state, now_ms, closed=0)]
    waiting = plans.proposals(state)
    overdue = sum(r.overdue for r in runs)
    if not runs and not waiting:
        return Text(""), ""
    parts = []
    if runs:
        parts.append(_counted("plan.desk.running", len(runs), lang))
    if overdue:
        parts.append(_counted("plan.desk.overdue", overdue, lang))
    if waiting:
        parts.append(_counted("plan.desk.proposed", len(waiting), lang))
    out = Text("⚑ " + " · ".join(parts), style="bold")
    if hint:
        out.append(" — " + t("plan.desk.open_hint", lang))
    names = [name(r, lang) for r in runs] + [name(p, lang) for p in waiting]
    out.append_text(fmt.safe("  " + ("、" if lang == "zh" else ", ").join(names)))
    return out, "-overdue" if overdue else "-proposed" if waiting else "-running"
