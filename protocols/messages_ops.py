"""The messages of the event's operations: contingency plans, readiness, the duty roster and guests.

Registered like every other message; import them from `protocols.messages`.
"""
from __future__ import annotations

from typing import Any

from protocols.schema import (
    DEPARTMENTS,
    MAX_NAME,
    POSTS,
    Message,
    _f,
    anything,
    choice,
    flag,
    integer,
    message,
    name,
    text,
)

# --- contingency plans (console/core/plans.py runs them; the hub writes what it decides) -------------

PLAN_STEP_STATUSES = ("done", "skipped")


@message
class PlanStart(Message):
    """The desk starts a plan by hand (or accepts a proposal of it); the hub answers with plan_started."""

    TYPE = "plan_start"
    KIND = "action"
    plan: str = name()
    note: str = text("")


@message
class PlanStep(Message):
    """A step of a running plan is done or skipped; a post may send it only for steps given to its post."""

    TYPE = "plan_step"
    run: int = integer(lo=1)
    step: str = name()
    status: str = choice(PLAN_STEP_STATUSES, "done")
    reason: str = text("")
    post: str = choice(("",) + POSTS, "")    # a desk confirming for one post ("" = every post not yet confirmed)
    person: str = name("")    # who is signed in at the terminal that confirms ("": nobody, or an older terminal)

    def problem(self) -> tuple[str, str, dict] | None:
        skipped_silently = self.status == "skipped" and not self.reason.strip()
        return ("reason", "problem.skip_reason", {}) if skipped_silently else None


@message
class PlanStandDown(Message):
    """The desk stands a running plan down, or dismisses a proposal; `run` is either one's gseq."""

    TYPE = "plan_stand_down"
    KIND = "action"
    run: int = integer(lo=1)
    note: str = text("")


@message
class DrillClock(Message):
    """A rehearsal's clock starts: from this event on the log's time is scenario time (a rehearsal hub only).

    Scenario time runs `ms_per_s` milliseconds for each real second (60 000 at ×60) from `start_ms`,
    the scenario's first instant on the event's clock (e.g. 09:00 on the event day).
    """

    TYPE = "drill_clock"
    KIND = "action"
    start_ms: int = integer(lo=0)
    ms_per_s: int = integer(lo=1, hi=100_000_000)
    scenario: str = name("")


@message
class PlanStarted(Message):
    """A plan run begins; its gseq is the run id. Carries the plan as it was, so the log tells it all."""

    TYPE = "plan_started"
    KIND = "hub"
    plan: str = name()
    name: str = name("")
    name_en: str = _f("str", "", max_len=MAX_NAME)   # `name` is a field name from here on
    owner: str = choice(("",) + DEPARTMENTS, "")
    cause: str = _f("str", "", max_len=MAX_NAME)
    auto: bool = flag()
    request: int = integer(0, 0)
    note: str = text("")
    steps: list = anything([])
    all_clear: str = text("")
    all_clear_en: str = text("")


@message
class PlanProposed(Message):
    """A trigger matched a plan that asks the desk first: start it (plan_start) or dismiss it."""

    TYPE = "plan_proposed"
    KIND = "hub"
    plan: str = name()
    name: str = name("")
    name_en: str = _f("str", "", max_len=MAX_NAME)   # `name` is a field name from here on
    cause: str = _f("str", "", max_len=MAX_NAME)


@message
class PlanEscalated(Message):
    """A step passed its target time and is still open: an alarm for the desk."""

    TYPE = "plan_escalated"
    KIND = "hub"
    run: int = integer(lo=1)
    step: str = name()
    due_ms: int = integer(0, 0)


# --- readiness, duty roster and guests (console/core/readiness.py, console/core/guests_rules.py) -------------

OVERDUE_WHAT = ("handoff", "roster", "task", "sendoff", "service")   # service: a call not done in time


@message
class TaskSignoff(Message):
    """A preparation task from event.toml `[[tasks]]` is done; the desk or any station signs it off."""

    TYPE = "task_signoff"
    task: str = name()
    note: str = text("")
    person: str = name("")    # who is signed in at the terminal that signs it off ("": nobody, or an older terminal)


def _who(msg: Any) -> tuple[str, str, dict] | None:
    return None if (msg.name.strip() or msg.staff_no.strip()) else ("name", "problem.need_who", {})


@message
class StaffSignin(Message):
    """A staff member starts duty at this station, by name or staff number (or both)."""

    TYPE = "staff_signin"
    name: str = name("")
    staff_no: str = _f("str", "", max_len=32)

    def problem(self) -> tuple[str, str, dict] | None:
        return _who(self)


@message
class StaffSignout(Message):
    """A staff member leaves duty at this station."""

    TYPE = "staff_signout"
    name: str = name("")
    staff_no: str = _f("str", "", max_len=32)

    def problem(self) -> tuple[str, str, dict] | None:
        return _who(self)


@message
class GuestListRequest(Message):
    """A station asks for its copy of the guest list, one page at a time (see PROTOCOL.md 5.11)."""

    TYPE = "guest_list_request"
    KIND = "control"
    digest: str = name("")
    page: int = integer(0, 0)


@message
class GuestPage(Message):
    """One page of the guest list for stations; `pages` 0 means "your copy (digest) is current"."""

    TYPE = "guest_page"
    KIND = "reply"
    digest: str = name("")
    page: int = integer(0, 0)
    pages: int = integer(0, 0)
    count: int = integer(0, 0)
    guests: list = anything([])


@message
class GuestList(Message):
    """The guest list as imported (eventdesk guests import), logged when the hub first sees it."""

    TYPE = "guest_list"
    KIND = "hub"
    source: str = text("")
    digest: str = name("")
    guests: list = anything([])


@message
class Overdue(Message):
    """Something due is not done: a VIP hand-off link unacknowledged, a post not staffed, a blocking task open."""

    TYPE = "overdue"
    KIND = "hub"
    what: str = choice(OVERDUE_WHAT)
    ref: str = name()
    target: str = name("")
    due_ms: int = integer(0, 0)
