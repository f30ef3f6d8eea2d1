"""Department and leader terminals (issue 16 item 3): 工程, 环境, 后勤, 客服, 秩序, 陪同领导 and 销售 on the same station app.

What such a terminal does is confirm: the steps of a running plan given to its department (the plan banner,
D done and K skip), the service calls routed to it (take and done), the VIP hand-off and send-off notices
and the desk's instructions (acknowledge). Its keys open those lists; its figures count what it confirmed.
The sales staff (销售, seed 1.1.3.5: they lead guests to the show flat and stay with them) also raise service
calls for their guests (F2: drinks, a tea break at the negotiation table) and hear back when they are done; the
hub tells them only what is addressed to them (their station: the VIP party they host arriving, the party they host
about to leave -- the send-off's host link, acknowledged with A like any send-off -- and their own calls).
Pure data, like every post: no screen, no sockets.
"""
from __future__ import annotations

from typing import Any, Iterable

from stations.terminal.posts.base import Action, Area, Count, Post, Site
from stations.terminal.posts.common import common_actions, service_action


def tally(site: Site, reports: Iterable[tuple[str, dict[str, Any]]], area: Area | None) -> list[Count]:
    """What this terminal confirmed: plan steps settled, service calls finished, notices and orders acknowledged."""
    reports = list(reports)
    raised = [Count("station.count.services", sum(1 for t, _ in reports if t == "service_request"))] \
        if site.post == "sales" else []
    return raised + [
        Count("station.dept.count.steps", sum(1 for t, _ in reports if t == "plan_step")),
        Count("station.dept.count.calls_done",
              sum(1 for t, b in reports if t == "service_update" and b.get("status") == "done")),
        Count("station.dept.count.acks", sum(1 for t, _ in reports if t == "instruction_ack"))]


def post(site: Site) -> Post:
    """The same keys for every department and role: few and big, so a phone shows them as buttons too. The plan
    banner's D and K settle a step; A acknowledges a send-off; F10 lists every notice and order to confirm."""
    return Post(site.post, (
        Action("calls", "f1", "station.act.calls", kind="calls", alias="1"),   # routed here: take, done
        *((service_action("f2", "2"),) if site.post == "sales" else ()),     # for the guests they look after
        *common_actions(site),   # duty (sign in, tasks), an incident, the inbox (plan orders, VIP notices, orders)
    ), tally)
