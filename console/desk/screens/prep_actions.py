"""The office's preparation from the desk (issue 16 item 6): add, assign, reschedule tasks; add, move, end roster slots; plan stages.

Each action asks in a form like the desk's others, then hands the app one call on the link; the hub checks
and logs it (console/core/prep.py), and the readiness board (o) shows it once folded.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select

from console.core import prep, readiness
from console.desk.screens.modals import ChoiceModal, DeskModal, departments
from console.desk.widgets import fmt
from protocols import eventtime
from protocols.i18n import t

# 08:30 (the event's day), 12-12 08:30 or 2026-12-12 08:30; a full-width colon too (Chinese input methods).
_WHEN = re.compile(r"^(?:(\d{4}-)?(\d{1,2})-(\d{1,2})\s+)?([01]?\d|2[0-3])[:：]([0-5]\d)$")


def parse_when(text: str, day: str, tz: dt.tzinfo) -> int | None:
    """Epoch ms of a clock time typed at the desk, on the event's wall; None if it is not one."""
    m = _WHEN.match(text.strip())
    if m is None:
        return None
    year, month, mday, hour, minute = m.groups()
    date = dt.date.fromisoformat(day)
    try:
        if month:
            date = dt.date(int(year[:-1]) if year else date.year, int(month), int(mday))
    except ValueError:
        return None
    return eventtime.at_ms(date, f"{int(hour):02d}:{minute}", tz)


def shown(ms: int, tz: dt.tzinfo, day: str) -> str:
    """A time as the forms take it: 08:30 on the event's day, else 2026-12-12 08:30."""
    if not ms:
        return ""
    at = eventtime.local(ms, tz)
    return at.strftime("%H:%M") if at.date().isoformat() == day else at.strftime("%Y-%m-%d %H:%M")


class PrepForm(DeskModal):
    """Two fields a row, so each form fits a desk of 80×24; times are read on the event's wall."""

    DEFAULT_CSS = """
    PrepForm .pair { height: auto; }
    PrepForm .pair > Vertical { height: auto; width: 1fr; margin-right: 1; }
    """

    def __init__(self, title: str, lang: str, view: Any) -> None:
        super().__init__(title, lang)
        self.day, self.tz = str(view.state.event.get("date", "")), view.tz
        self.desk_view = view

    def rows(self) -> tuple[tuple[tuple[str, Any], ...], ...]:
        return ()

    def fields(self) -> ComposeResult:
        for row in self.rows():
            with Horizontal(classes="pair"):
                for key, widget in row:
                    with Vertical():
                        yield self.label(key)
                        yield widget

    def text(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def when(self, wid: str, required: bool = True) -> int | None:
        """The field's time in ms, 0 when left empty and not required, None (said on screen) when wrong."""
        raw = self.text(wid)
        if not raw and not required:
            return 0
        ms = parse_when(raw, self.day, self.tz) if raw else None
        if ms is None:
            self.error("readiness.prep.form.bad_time", wid)
        return ms

    def pick(self, wid: str) -> Any:
        return self.query_one(f"#{wid}", Select).value

    def select(self, wid: str, options: list[tuple[str, str]], value: str) -> Select:
        return Select(options, id=wid, value=value, allow_blank=False, compact=True)


class TaskForm(PrepForm):
    """A new task: its title, department, due time (HH:MM or a date and time), must-do or not, and who answers for it."""

    def rows(self) -> tuple[tuple[tuple[str, Any], ...], ...]:
        yes_no = [(self.t("readiness.prep.form.blocking_no"), "no"), (self.t("readiness.prep.form.blocking_yes"), "yes")]
        return ((("readiness.prep.form.title", Input(id="title", max_length=64, compact=True)),),
                (("field.department", self.select("department", departments(self.lang, self.desk_view.state), "office")),
                 ("readiness.prep.form.due", Input(id="due", max_length=16, compact=True))),
                (("field.blocking", self.select("blocking", yes_no, "no")),
                 ("field.owner", Input(id="owner", max_length=64, compact=True))))

    def value(self) -> Any:
        if not self.text("title"):
            self.error("readiness.prep.form.need_title", "title")
            return None
        due = self.when("due")
        if due is None:
            return None
        return {"title": self.text("title"), "department": self.pick("department"), "due_ms": due,
                "blocking": self.pick("blocking") == "yes", "owner": self.text("owner")}


class ChangeTaskForm(PrepForm):
    """Give a task to another department, move its due time, or both; and why."""

    def __init__(self, title: str, lang: str, view: Any, task: readiness.TaskView) -> None:
        super().__init__(title, lang, view)
        self.chosen = task

    def rows(self) -> tuple[tuple[tuple[str, Any], ...], ...]:
        return ((("readiness.prep.form.due", Input(shown(self.chosen.due_ms, self.tz, self.day), id="due", max_length=16,
                                         compact=True)),
                 ("field.department", self.select("department", departments(self.lang, self.desk_view.state),
                                                  self.chosen.department))),
                (("desk.modal.text_optional", Input(id="note", max_length=200, compact=True)),))

    def value(self) -> Any:
        due = self.when("due")
        if due is None:
            return None
        dept = self.pick("department")
        body = {"task": self.chosen.id, "department": dept if dept != self.chosen.department else "",
                "due_ms": due if due != self.chosen.due_ms else 0, "note": self.text("note")}
        if not (body["department"] or body["due_ms"]):
            self.error("readiness.prep.form.nothing")
            return None
        return body


class SlotForm(PrepForm):
    """A roster slot: who (name or staff number), at which station, from when to when (no end: all day)."""

    def __init__(self, title: str, lang: str, view: Any, slot: dict[str, Any] | None = None) -> None:
        super().__init__(title, lang, view)
        self.slot = slot

    def rows(self) -> tuple[tuple[tuple[str, Any], ...], ...]:
        state = self.desk_view.state
        stations = [(fmt.station_name(state, sid, self.lang), sid) for sid in state.stations]
        slot = self.slot or {}
        where = ("field.station", self.select("station", stations, slot.get("station") or stations[0][1]))
        times = (("readiness.prep.form.start", Input(shown(int(slot.get("from_ms", 0)), self.tz, self.day), id="start",
                                           max_length=16, compact=True)),
                 ("readiness.prep.form.end", Input(shown(int(slot.get("to_ms", 0) or 0), self.tz, self.day), id="end",
                                         max_length=16, compact=True)))
        if self.slot is not None:      # moving a slot: where and when; who stays
            return (times, (where,))
        return ((("readiness.prep.form.person", Input(id="name", max_length=64, compact=True)),
                 ("field.staff_no", Input(id="staff_no", max_length=32, compact=True))), (where,), times)

    def value(self) -> Any:
        if self.slot is None and not (self.text("name") or self.text("staff_no")):
            self.error("readiness.prep.form.need_who", "name")
            return None
        start = self.when("start")
        end = None if start is None else self.when("end", required=False)
        if start is None or end is None:
            return None
        if end and end <= start:
            self.error("readiness.prep.form.end_first", "end")
            return None
        if self.slot is None:
            return {"station": self.pick("station"), "name": self.text("name"), "staff_no": self.text("staff_no"),
                    "start_ms": start, "end_ms": end}
        station = self.pick("station")
        body = {"slot": self.slot["key"], "station": station if station != self.slot["station"] else "",
                "start_ms": start if start != self.slot["from_ms"] else 0,
                "end_ms": end if end != int(self.slot.get("to_ms", 0) or 0) else 0}
        if not (body["station"] or body["start_ms"] or body["end_ms"]):
            self.error("readiness.prep.form.nothing")
            return None
        return body


class PrepActions:
    """Mixed into every desk screen through DeskActions; `selected_task()` is the task under the cursor on the board."""

    app: Any
    selected_task: Any

    def _send(self, kind: str, body: dict[str, Any], done_key: str, **params: Any) -> None:
        self.app.send(lambda link: link.prep(kind, body), done_key, **params)

    def action_add_task(self) -> None:
        """新增准备任务: title, department, due clock time, must-do or not."""
        view, lang = self.app.current_view, self.app.lang
        if view is None:
            return

        def written(value: dict | None) -> None:
            if value is not None:
                self._send("task_add", value, "readiness.prep.sent.add_task", task=value["title"])

        self.app.push_screen(TaskForm(t("readiness.prep.form.add_task", lang), lang, view), written)

    def action_change_task(self) -> None:
        """调整准备任务: the task under the cursor on the board, else a choice of those not done."""
        view, lang = self.app.current_view, self.app.lang
        if view is None:
            return
        still = {v.id: v for v in readiness.tasks(view.state, view.now_ms) if v.status != "done"}
        chosen = self.selected_task()
        if chosen in still:
            self._change(still[chosen])
            return
        if not still:
            self.app.notify(t("desk.msg.all_signed", lang), markup=False)
            return
        options = [(f"{t(f'dept.{v.department}', lang)} · {v.title_in(lang)}", v.id) for v in still.values()]
        self.app.push_screen(ChoiceModal(t("readiness.prep.form.pick_task", lang), lang, options),
                             lambda tid: self._change(still[tid]) if tid in still else None)

    def _change(self, task: readiness.TaskView) -> None:
        view, lang = self.app.current_view, self.app.lang

        def written(value: dict | None) -> None:
            if value is not None:
                self._send("task_change", value, "readiness.prep.sent.change_task", task=task.title_in(lang))

        self.app.push_screen(ChangeTaskForm(t("readiness.prep.form.change_task", lang, task=task.title_in(lang)), lang, view,
                                            task), written)

    def action_add_slot(self) -> None:
        """新增排班: who, at which station, from when to when."""
        view, lang = self.app.current_view, self.app.lang
        if view is None or not view.state.stations:
            return

        def written(value: dict | None) -> None:
            if value is not None:
                self._send("roster_add", value, "readiness.prep.sent.add_slot", who=value["name"] or value["staff_no"])

        self.app.push_screen(SlotForm(t("readiness.prep.form.add_slot", lang), lang, view), written)

    def _slots(self, open_only: bool) -> dict[str, dict[str, Any]]:
        view = self.app.current_view
        return {e["key"]: e for e in view.state.event.get("roster", ())
                if not (open_only and readiness.slot_over(e, view.now_ms))}

    def _slot_label(self, slot: dict[str, Any]) -> str:
        view, lang = self.app.current_view, self.app.lang
        hours = fmt.safe(slot.get("from", "")).plain + (f"–{slot['to']}" if slot.get("to") else "")
        return f"{slot.get('name') or slot.get('staff_no')} · {fmt.station_name(view.state, slot['station'], lang)} · {hours}"

    def _pick_slot(self, title_key: str, then: Any, open_only: bool) -> None:
        view, lang = self.app.current_view, self.app.lang
        if view is None:
            return
        slots = self._slots(open_only)
        if not slots:
            self.app.notify(t("readiness.prep.msg.no_slots", lang), markup=False)
            return
        options = [(self._slot_label(s), key) for key, s in slots.items()]
        self.app.push_screen(ChoiceModal(t(title_key, lang), lang, options),
                             lambda key: then(slots[key]) if key in slots else None)

    def action_move_slot(self) -> None:
        """调整排班: pick a slot, then its station, start and end."""
        lang = self.app.lang

        def move(slot: dict[str, Any]) -> None:
            def written(value: dict | None) -> None:
                if value is not None:
                    self._send("roster_change", value, "readiness.prep.sent.move_slot", slot=self._slot_label(slot))
            self.app.push_screen(SlotForm(t("readiness.prep.form.move_slot", lang, slot=self._slot_label(slot)), lang,
                                          self.app.current_view, slot), written)

        self._pick_slot("readiness.prep.form.pick_slot", move, open_only=False)

    def action_end_slot(self) -> None:
        """结束排班: the slot picked ends now (the hub's time)."""
        self._pick_slot("readiness.prep.form.pick_end", lambda slot: self._send(
            "roster_change", {"slot": slot["key"], "end_now": True}, "readiness.prep.sent.end_slot",
            slot=self._slot_label(slot)), open_only=True)

    def action_prep_stage(self) -> None:
        """方案进度: submit or merge a department's plan, or record the full rehearsal, in the seed's order."""
        view, lang = self.app.current_view, self.app.lang
        if view is None:
            return
        st = prep.stages(view.state)
        options = []
        for dept, stage in st.plans:
            nxt = {"none": "submitted", "submitted": "merged"}.get(stage)
            if nxt:
                options.append((t(f"readiness.prep.stage.do_{nxt}", lang, dept=t(f"dept.{dept}", lang)), f"{nxt}:{dept}"))
        if not options and not st.rehearsed:
            options.append((t("readiness.prep.stage.do_rehearsed", lang), "rehearsed:"))
        if not options:
            self.app.notify(t("readiness.prep.msg.stages_done", lang), markup=False)
            return

        def chosen(value: str | None) -> None:
            if value:
                stage, _, dept = value.partition(":")
                label = next(text for text, v in options if v == value)
                self._send("prep_stage", {"stage": stage, "department": dept}, "readiness.prep.sent.stage", what=label)

        self.app.push_screen(ChoiceModal(t("readiness.prep.stage.pick", lang), lang, options), chosen)
