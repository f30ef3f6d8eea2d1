"""Snapshots of a station terminal while a contingency plan runs: the red task banner with its keys, the gate held
by the plan's explicit gate order, and the amber line once the post's tasks are done; 80x24, both languages."""
from __future__ import annotations

import pytest

from console.event import plan_files
from stations.link.client import StationClient
from tests.test_station_app_snapshots import FIXED, SIZE
from tests.station_support import make_app, make_client, until

FIRE = plan_files.shipped().get("fire")
RUN = 1044


def order(client: StationClient, gseq: int, post: str, step: str = "", gate: str = "") -> None:
    """File the fire plan's instruction for `post` (the all-clear when `step` is "") as the hub sends it."""
    found = next((s for s in FIRE.steps if s.id == step), None)
    zh, en = (found.say, found.say_en) if found else (FIRE.all_clear, FIRE.all_clear_en)
    client.outbox.store_instruction(gseq, f"post.{post}", f"【{FIRE.name}】{zh}", True,
                                    received_ms=int(FIXED * 1000), text_en=f"[{FIRE.name_en}] {en}",
                                    plan="fire", run=RUN, step=step, gate=gate)


def terminal(fixed_event_dir, station: str, lang: str, *, settle_step: str = ""):
    client = make_client(fixed_event_dir, station, heartbeat_ms=50, clock=lambda: FIXED)
    post = fixed_event_dir.load().station(station).post
    if post == "gate":
        order(client, 1046, "gate", "gate_hold", gate="hold")
        order(client, 1052, "gate", "meet_fire_service")
    else:
        order(client, 1049, post, {"lobby": "guide_guests", "model_unit": "model_unit_clear"}[post])
    if settle_step:   # as the terminal's D does: the step, then the order's acknowledgement
        client.submit("plan_step", {"run": RUN, "step": settle_step, "status": "done"})
        client.acknowledge_instruction(1049)
    return client, make_app(fixed_event_dir, client, lang)


async def _settle(pilot) -> None:
    client = pilot.app.client
    await until(pilot, lambda: client.status().state == "unreachable", what="link settles")
    pilot.app.redraw()
    await pilot.pause(0.1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lobby_with_a_fire_task(fixed_event_dir, snap_compare, lang):
    client, app = terminal(fixed_event_dir, "lobby-1", lang)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
    finally:
        client.close()


def test_gate_held_by_the_fire_plan_with_two_tasks(fixed_event_dir, snap_compare):
    client, app = terminal(fixed_event_dir, "gate-1", "zh")
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
    finally:
        client.close()


def test_model_unit_once_its_task_is_done(fixed_event_dir, snap_compare):
    client, app = terminal(fixed_event_dir, "model-1", "en", settle_step="model_unit_clear")
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
    finally:
        client.close()
