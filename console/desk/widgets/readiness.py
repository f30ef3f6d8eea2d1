"""The readiness board's parts: the GO / NO-GO line, progress per department, who is on which post, and every task.

Each widget reads console.core.readiness from the View it is handed; task titles and names come from
the event file, sign-off notes from people: all shown as plain Text.
"""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from console.core import prep, readiness
from console.desk.widgets import fmt
from console.desk.widgets.chrome import show_text
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View
from protocols import eventtime

TASK_STYLE = {"done": "green", "overdue": "bold red", "open": "yellow"}
STAGE_STYLE = {"none": "dim", "submitted": "yellow", "merged": "green"}
TASK_MARK = {"done": "✓", "overdue": "✖", "open": "○"}
DUTY_STYLE = {"on": "green", "waiting": "dim", "missing": "bold red", "free": "dim", "over": "dim"}


def when(view: View, ms: int) -> str:
    """HH:MM on the event day, MM-DD HH:MM on another (a task due days before the doors open)."""
    doors = int(view.state.event.get("doors_open_ms", 0))
    at = eventtime.local(ms, view.tz)
    shown = at.strftime("%H:%M")
    if doors and at.date() != eventtime.day_of(doors, view.tz):
        shown = at.strftime("%m-%d ") + shown
    return shown


def until(view: View, ms: int) -> str:
    """"in 1 h 5 min" / "1 h 5 min ago" for a time relative to the desk's clock."""
    delta = ms - view.now_ms
    return view.t("readiness.in", d=fmt.duration(delta, view.lang)) if delta >= 0 \
        else view.t("desk.ago", d=fmt.duration(-delta, view.lang))


def slot_hours(entry: dict[str, Any]) -> str:
    """08:30 for a slot that lasts the day, 08:30–12:00 for one with an end."""
    return f"{entry.get('from', '')}–{entry['to']}" if entry.get("to") else str(entry.get("from", ""))


class Verdict(Static):
    """GO in green once every blocking task is signed off; otherwise NO-GO and what still blocks."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        board = readiness.board(view.state, view.now_ms)
        self.set_class(board.go, "-go")
        self.set_class(not board.go, "-nogo")
        doors = view.t("readiness.doors", at=fmt.clock(board.doors_open_ms, view.tz)[:5], when=until(view, board.doors_open_ms))
        if not board.total:
            show_text(self, Text(view.t("readiness.no_tasks") + "  " + doors + "\n") + stages_line(view), layout=True)
            return
        if board.go:
            text = Text(view.t("readiness.go", done=board.done, total=board.total), style="bold")
        else:
            text = Text(view.t("readiness.nogo", n=len(board.blocking_open), done=board.done, total=board.total),
                        style="bold")
        text.append("  " + doors)
        if board.overdue:
            text.append("  " + view.t("readiness.overdue_n", n=len(board.overdue)))
        text.append("\n")
        text.append_text(stages_line(view))
        show_text(self, text, layout=True)


def stages_line(view: View) -> Text:
    """The seed's order in one line: plans submitted and merged of all departments, then the full rehearsal."""
    st = prep.stages(view.state)
    text = Text(view.t("readiness.prep.board.plans", merged=st.merged, submitted=st.submitted, total=len(st.plans)),
                style="green" if st.merged == len(st.plans) else "yellow")
    text.append("  ")
    if st.rehearsed:
        text.append(view.t("readiness.prep.board.rehearsed", at=when(view, int(st.rehearsed["ms"]))), style="green")
    else:
        text.append(view.t("readiness.prep.board.not_rehearsed"), style="dim")
    return text


class DepartmentsTable(ViewTable):
    FLEX = ("readiness.col.department",)
    BAR = 10
    BAR_NARROW = 4

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("readiness.col.department", None), ("readiness.col.progress", None),
                ("readiness.col.overdue", None), ("readiness.col.blocking", None), ("readiness.prep.col.plan", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        bar = self.BAR_NARROW if self.compact else self.BAR   # a narrow board gives the names the cells
        for dep in readiness.board(view.state, view.now_ms).departments:
            progress = fmt.gauge(dep.done, dep.total, bar) if dep.done < dep.total else \
                Text("█" * bar, style="green")
            progress.append(f" {dep.done}/{dep.total}")
            yield dep.department, [
                fmt.label(f"dept.{dep.department}", view.lang), progress,
                Text(str(dep.overdue), style="bold red" if dep.overdue else "dim", justify="right"),
                Text(str(dep.blocking_open), style="bold red" if dep.blocking_open else "dim", justify="right"),
                Text(view.t(f"readiness.prep.stage.{prep.stage_of(view.state, dep.department)}"),
                     style=STAGE_STYLE[prep.stage_of(view.state, dep.department)])]


class DutyTable(ViewTable):
    """Who is on which post: the roster beside who signed in, and a post not signed in by its start in red."""

    FLEX = (("readiness.col.on", "readiness.col.rostered", "desk.col.station"),)

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("desk.col.station", None), ("readiness.col.rostered", None), ("readiness.col.on", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for post in readiness.duty(view.state, view.now_ms):
            name = fmt.safe(fmt.station_name(view.state, post.station, view.lang))
            rostered = Text(", ".join(f"{r.get('name', '')} {slot_hours(r)}" for r in post.rostered) or "—",
                            style="dim" if not post.rostered else "")
            style = DUTY_STYLE[post.status]
            if post.on:
                on = Text("● " + ", ".join(p.get("name") or p.get("staff_no", "") for p in post.on), style=style)
                if self.size.width >= 50:
                    on.append(" " + fmt.clock(post.on[0]["ms"], view.tz)[:5], style="dim")
            else:
                on = Text(view.t(f"readiness.duty.{post.status}"), style=style)
            yield post.station, [name, fmt.safe(rostered.plain, rostered.style), on]


class TasksTable(ViewTable):
    """Every task: open blocking ones first, then overdue, then by due time; Enter signs the one under the cursor off."""

    FLEX = (("readiness.col.signed", "readiness.col.task"),)
    WIDE_AT = 110     # department and owner get their own columns from this width on

    class Selected(Message):
        def __init__(self, task: str) -> None:
            super().__init__()
            self.task = task

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        if self.compact:
            return [("readiness.col.status", None), ("readiness.col.task", None), ("readiness.col.due", None),
                    ("readiness.col.signed", None)]
        return [("readiness.col.status", None), ("readiness.col.department", None), ("readiness.col.task", None),
                ("readiness.col.owner", None), ("readiness.col.due", None), ("readiness.col.signed", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for task in readiness.board(view.state, view.now_ms).tasks:
            status = Text(f"{TASK_MARK[task.status]} {view.t('readiness.status.' + task.status)}",
                          style=TASK_STYLE[task.status])
            title = fmt.safe(task.title_in(view.lang))
            dept = fmt.label(f"dept.{task.department}", view.lang)
            if task.blocking and task.status != "done":
                title = Text("■ ", style="bold red") + title
            due = Text(when(view, task.due_ms), style="bold red" if task.status == "overdue" else "")
            if task.status == "done":
                signed = Text(fmt.clock(task.at_ms, view.tz)[:5] + " ", style="red" if task.late else "green")
                signed.append_text(fmt.safe(fmt.station_name(view.state, task.by, view.lang)))
                if task.note and not self.compact:
                    signed.append(" “", style="dim")
                    signed.append_text(fmt.safe(task.note))
                    signed.append("”", style="dim")
            else:
                signed = Text(until(view, task.due_ms), style="dim")
            if self.compact:
                yield task.id, [status, title, due, signed]
            else:
                yield task.id, [status, dept, title, fmt.safe(task.owner), due, signed]

    def on_data_table_row_selected(self, event: ViewTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(str(event.row_key.value)))
