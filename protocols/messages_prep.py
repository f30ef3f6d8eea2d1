"""The preparation messages (issue 16 item 6): the office runs tasks, roster slots and the plan's stages from the desk.

Registered like every other message; import them from `protocols.messages`. Only a desk sends them; the hub
checks what they refer to (console/core/semantics.py) and the fold keeps every change
(console/core/state/fold_prep.py). A task the desk adds is `T<gseq>`, a slot `<station>/<staff no or name>`.
"""
from __future__ import annotations

from protocols.schema import DEPARTMENTS, Message, _f, choice, flag, integer, message, name, text
from protocols.schema import name as short   # RosterAdd has a field called `name`

# The seed's order (1.1.1-1.1.2): each department's plan submitted, merged by the office, then the full rehearsal.
PREP_STAGES = ("submitted", "merged", "rehearsed")


@message
class TaskAdd(Message):
    """The desk adds a preparation task: its title, department, due instant, and whether opening waits for it."""

    TYPE = "task_add"
    KIND = "action"
    title: str = name()
    department: str = choice(DEPARTMENTS)
    due_ms: int = integer(lo=1)
    blocking: bool = flag()            # 必办项: the doors wait for it (GO / NO-GO)
    owner: str = name("")

    def problem(self) -> tuple[str, str, dict] | None:
        return ("title", "problem.need_title", {}) if not self.title.strip() else None


@message
class TaskChange(Message):
    """The desk gives a task to another department, moves its due time, or both (0 / "": unchanged)."""

    TYPE = "task_change"
    KIND = "action"
    task: str = name()
    department: str = choice(("",) + DEPARTMENTS, "")
    due_ms: int = integer(0, 0)
    note: str = text("")

    def problem(self) -> tuple[str, str, dict] | None:
        return ("task", "problem.change_nothing", {}) if not (self.department or self.due_ms) else None


@message
class RosterAdd(Message):
    """The desk adds a roster slot: who (name or staff number), at which station, from when to when (end 0: all day)."""

    TYPE = "roster_add"
    KIND = "action"
    station: str = name()
    name: str = short("")
    staff_no: str = _f("str", "", max_len=32)
    start_ms: int = integer(lo=1)
    end_ms: int = integer(0, 0)

    def problem(self) -> tuple[str, str, dict] | None:
        if not (self.name.strip() or self.staff_no.strip()):
            return "name", "problem.need_who", {}
        return ("end_ms", "problem.end_before_start", {}) if self.end_ms and self.end_ms <= self.start_ms else None


@message
class RosterChange(Message):
    """The desk moves a slot (another station, start or end; 0 / "": unchanged) or ends it now (`end_now`)."""

    TYPE = "roster_change"
    KIND = "action"
    slot: str = _f("str", max_len=100)
    station: str = name("")
    start_ms: int = integer(0, 0)
    end_ms: int = integer(0, 0)
    end_now: bool = flag()

    def problem(self) -> tuple[str, str, dict] | None:
        if not (self.station or self.start_ms or self.end_ms or self.end_now):
            return "slot", "problem.change_nothing", {}
        if self.start_ms and self.end_ms and self.end_ms <= self.start_ms:
            return "end_ms", "problem.end_before_start", {}
        return None


@message
class PrepStage(Message):
    """A department's plan is submitted (已提交) or merged by the office (已合并); or the full rehearsal is done."""

    TYPE = "prep_stage"
    KIND = "action"
    stage: str = choice(PREP_STAGES)
    department: str = choice(("",) + DEPARTMENTS, "")   # "" for the rehearsal, which is everyone's
    note: str = text("")

    def problem(self) -> tuple[str, str, dict] | None:
        if (self.stage == "rehearsed") != (not self.department):
            return "department", "problem.stage_department", {}
        return None
