"""The post's part in a running contingency plan, read from its own inbox and outbox; pure -- no screen, no sockets.

The hub tells a post what to do in a plan with instructions carrying `plan`, `run` and `step`;
when the plan is stood down it sends the all-clear (same `run`, `step` ""). So a terminal
knows, with nothing but what it received and what it sent: the plans running for its post,
and its open tasks -- a step instruction of a run not yet cleared that this terminal has not
settled with a `plan_step` report (saved, sent or delivered; a refused one does not count).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

# The engine writes a plan's name in front of every order: 【火情应急预案】… or [Fire emergency plan] …
_NAMED = re.compile(r"^(?:【(?P<zh>[^】]{1,64})】|\[(?P<en>[^\]]{1,64})\] )")


@dataclass(frozen=True)
class Task:
    """One step given to this post: the inbox item that carries it (id, run, step, texts, ack)."""

    item: Any

    @property
    def run(self) -> int:
        return self.item.run

    @property
    def step(self) -> str:
        return self.item.step

    def plan_name(self, lang: str) -> str:
        return split(self.item.text_for(lang), self.item.plan)[0]

    def order(self, lang: str) -> str:
        return split(self.item.text_for(lang), self.item.plan)[1]


def split(text: str, fallback: str = "") -> tuple[str, str]:
    """(plan name, the order without it) of a plan instruction's text; the fallback name when none is written."""
    m = _NAMED.match(text)
    if m is None:
        return fallback, text
    return m.group("zh") or m.group("en"), text[m.end():]


def settled(reports: Iterable[tuple[str, dict[str, Any]]]) -> set[tuple[int, str]]:
    """(run, step) of every plan_step this terminal saved and the desk did not refuse."""
    return {(b.get("run", 0), b.get("step", "")) for t, b in reports if t == "plan_step"}


def read(instructions: Iterable[Any], reports: Iterable[tuple[str, dict[str, Any]]]) -> tuple[tuple[Task, ...], tuple[Any, ...]]:
    """(open tasks oldest first, one item per plan still running for this post, oldest run first).

    `instructions` are inbox items in any order; `reports` (type, body) pairs not refused.
    """
    items = sorted((i for i in instructions if getattr(i, "run", 0)), key=lambda i: i.id)
    cleared = {i.run for i in items if not i.step}
    done = settled(reports)
    live = [i for i in items if i.step and i.run not in cleared]
    tasks = tuple(Task(i) for i in live if (i.run, i.step) not in done)
    runs: dict[int, Any] = {}
    for i in live:
        runs.setdefault(i.run, i)
    return tasks, tuple(runs[r] for r in sorted(runs))


def step_report(task: Task, status: str = "done", reason: str = "") -> tuple[str, dict[str, Any]]:
    """The report that settles a task: plan_step {run, step, status, reason}."""
    body: dict[str, Any] = {"run": task.run, "step": task.step, "status": status}
    if reason:
        body["reason"] = reason
    return "plan_step", body
