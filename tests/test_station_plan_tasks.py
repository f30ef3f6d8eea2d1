"""A post's part in a running plan, read from its inbox and its own reports; and the gate's hold from the explicit field."""
from __future__ import annotations

from stations.outbox import InboxItem
from stations.posts import gate, plan_tasks


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


def test_the_gate_follows_the_newest_gate_order_and_never_words():
    hold, words, resume = item(1, gate_order="hold", text="x"), item(2, text="暂停放行 hold"), item(3, gate_order="resume")
    assert gate.held_by([hold]) is hold
    assert gate.held_by([words, hold]) is hold                   # newer words change nothing
    assert gate.held_by([hold, words, resume]) is None
    assert gate.held_by([words]) is None and gate.held_by([]) is None
    again = item(4, gate_order="hold", text="再次暂停")
    assert gate.held_by([resume, again, hold]) is again
