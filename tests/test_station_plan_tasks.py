"""A post's part in a running plan, read from its inbox and its own reports; and the gate's hold from the explicit field."""
from __future__ import annotations

from stations.outbox.store import InboxItem
from stations.terminal.posts import gate, plan_tasks
from stations.terminal.posts.base import Site


def item(id_: int, run: int = 0, step: str = "", text: str = "【火情应急预案】请保持镇定", gate_order: str = "",
         ack: bool = True) -> InboxItem:
    return InboxItem(id_, "post.lobby", text, ack, 0, None, "[Fire emergency plan] Stay calm" if run else "",
                     "fire" if run else "", run, step, gate=gate_order)


def test_open_tasks_are_the_step_orders_of_runs_not_cleared_and_not_settled_here():
    inbox = [item(30, 12, "guide_guests"), item(31, 12, "headcount"), item(40, 20, "first_aid"),
             item(41, 20, ""),                                   # run 20's all-clear: over
             item(50, text="普通指令")]
    tasks, running = plan_tasks.read(inbox, [])
    assert [(t.run, t.step) for t in tasks] == [(12, "guide_guests"), (12, "headcount")]
    assert [i.id for i in running] == [30]
    tasks, running = plan_tasks.read(inbox, [("plan_step", {"run": 12, "step": "guide_guests", "status": "done"}),
                                             ("car_in", {"count": 1})])
    assert [t.step for t in tasks] == ["headcount"] and [i.id for i in running] == [30]
    tasks, running = plan_tasks.read(inbox, [("plan_step", {"run": 12, "step": s}) for s in ("guide_guests", "headcount")])
    assert tasks == () and [i.id for i in running] == [30]        # all done here: the plan still runs


def test_a_task_reads_in_the_terminal_language_without_the_plan_name_twice():
    task = plan_tasks.Task(item(30, 12, "guide_guests"))
    assert (task.plan_name("zh"), task.order("zh")) == ("火情应急预案", "请保持镇定")
    assert (task.plan_name("en"), task.order("en")) == ("Fire emergency plan", "Stay calm")
    assert plan_tasks.split("没有名字的指令", "fire") == ("fire", "没有名字的指令")
    assert plan_tasks.step_report(task) == ("plan_step", {"run": 12, "step": "guide_guests", "status": "done"})
    assert plan_tasks.step_report(task, "skipped", "无人") == (
        "plan_step", {"run": 12, "step": "guide_guests", "status": "skipped", "reason": "无人"})


SITE = Site(station="gate-1", post="gate")


def gate_item(id_: int, order: str = "", run: int = 0, step: str = "", target: str = "post.gate",
              text: str = "x") -> InboxItem:
    return InboxItem(id_, target, text, True, 0, None, "", "fire" if run else "", run, step, gate=order)


def held(items) -> list[int]:
    return [i.id for i in gate.holds(SITE, items)]


def test_the_gate_is_held_while_any_hold_stands_and_never_by_words():
    desk, words = gate_item(1, "hold", text="暂停"), gate_item(2, text="暂停放行 hold")
    assert held([desk]) == [1] and held([words]) == [] and held([]) == []
    assert held([words, desk]) == [1]                               # newer words change nothing
    fire = gate_item(3, "hold", run=44, step="gate_hold")
    parking_full = gate_item(5, "hold", run=47, step="meter")
    everything = [desk, fire, parking_full]
    assert held(everything) == [1, 3, 5]
    # The parking-full plan stands down: its all-clear resumes only its own hold.
    assert held(everything + [gate_item(6, "resume", run=47)]) == [1, 3]
    # The desk resumes: its own hold goes, the fire plan's stays.
    assert held(everything + [gate_item(6, "resume", run=47), gate_item(7, "resume")]) == [3]
    # The fire plan's all-clear lifts the fire plan's hold even when it says nothing of the gate.
    assert held([fire, gate_item(8, run=44)]) == []
    # A hold to this very station counts; one to the other gate does not; a resume to the post covers both.
    mine, other = gate_item(10, "hold", target="station.gate-1"), gate_item(11, "hold", target="station.gate-2")
    assert held([mine, other]) == [10]
    assert held([mine, gate_item(12, "resume", target="post.gate")]) == []
    assert held([desk, gate_item(13, "resume", target="station.gate-1")]) == [1]   # a narrower resume keeps it
