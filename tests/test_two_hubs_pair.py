"""Two hubs as clients see them (issue 19, PROTOCOL.md 5.13): the welcome's `hubs` and `pair`, presence's `pair`,
E_PASSIVE from the standing-by hub, and the active hub's hub_alone / hub_pair_ok alarms.

Both hubs run in this process on fixed free 127.0.0.1 ports, each on its own copy of the event folder; the
active hub's clock is injected and stepped past the alarm's 5 s instead of waiting for them.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import zmq

from console.event.folder import EventFolder, set_endpoints
from console.hub.server import run_in_thread
from tests.wire import (
    Feed,
    desk_pair,
    log_rows,
    now_ms,
    quiet_port,
    server_key,
    set_hub_options,
    station,
    wait_for,
)

pytestmark = pytest.mark.timeout(60)


def _alarms(folder: EventFolder) -> list[str]:
    return [json.loads(r[-1])["code"] for r in log_rows(folder.db(), "type = 'alarm'")]


def test_welcome_presence_refusal_and_alarms_say_how_the_pair_stands(event_dir, tmp_path):
    ports = [f"tcp://127.0.0.1:{quiet_port()}" for _ in range(4)]
    set_endpoints(event_dir, ports[0], ports[1])
    set_hub_options(event_dir, heartbeat_s=0.2, backup_endpoint=ports[2], backup_feed=ports[3])
    b_dir = EventFolder(tmp_path / "backup")
    shutil.copytree(event_dir.root, b_dir.root)
    ahead = [0]

    def clock() -> int:   # the active hub's clock, stepped forward by the test
        return now_ms() + ahead[0]
    a = run_in_thread(event_dir, clock=clock)
    b = run_in_thread(b_dir, backup=True)
    ctx = zmq.Context()
    feed = None
    try:
        wait_for(lambda: a.hub.pair.state == "active" and b.hub.pair.state == "passive"
                 and a.hub.pair_status(clock())["peer"] == "in_step", 15, "the pair to stand")
        welcome = station(ctx, a, event_dir, "gate-1").hello()
        assert welcome.pair == {"me": "primary", "era": 1, "peer": "in_step"}
        assert welcome.hubs == [{"endpoint": ports[0], "feed": ports[1]}, {"endpoint": ports[2], "feed": ports[3]}]
        refused = station(ctx, b, b_dir, "gate-1").request("hello", {"role": "station", "app": "t", "outbox": 0})
        assert refused.header.type == "nack" and refused.message.code == "E_PASSIVE" and refused.message.retry
        assert "备用系统" in refused.message.reason_zh and "standby" in refused.message.reason
        feed = Feed(ctx, a.feed, server_key(event_dir), desk_pair(event_dir, "desk-1"), [])
        feed.ready()
        _, env = feed.recv(topics={"presence"})
        assert env.message.pair["me"] == "primary" and env.message.pair["peer"] in ("in_step", "behind")

        b.stop()                  # the backup goes; the active hub's clock is stepped past the 5 s of silence
        ahead[0] += 6000
        wait_for(lambda: "hub_alone" in _alarms(event_dir), 10, "the hub_alone alarm")
        wait_for(lambda: feed.recv(topics={"presence"})[1].message.pair["peer"] == "lost", 10, "presence: peer lost")
        b = run_in_thread(b_dir, backup=True)   # back: it copies what it missed and is in step again
        wait_for(lambda: "hub_pair_ok" in _alarms(event_dir), 15, "the hub_pair_ok alarm")
        assert _alarms(event_dir).count("hub_alone") == 1   # one alarm for the stretch, not one a second
        wait_for(lambda: log_rows(b_dir.db()) == log_rows(event_dir.db()), 15, "the backup in step")
    finally:
        if feed is not None:
            feed.close()
        ctx.destroy(linger=0)
        a.stop()
        b.stop()


def test_one_hub_alone_says_so_in_the_same_shape(event_dir):
    hub = run_in_thread(event_dir)
    ctx = zmq.Context()
    try:
        welcome = station(ctx, hub, event_dir, "gate-1").hello()
        assert welcome.pair == {"me": "primary", "era": 0, "peer": "none"} and welcome.hubs == []
        assert not log_rows(event_dir.db(), "type = 'hub_switch'")   # no era with one hub: the log is as it was
    finally:
        ctx.destroy(linger=0)
        hub.stop()


def test_backup_with_no_backup_named_is_refused_with_the_key(event_dir):
    done = subprocess.run([sys.executable, "-m", "console.cli", "hub", str(event_dir.root), "--backup", "--lang", "zh"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "hub.backup_endpoint" in done.stderr and "没有填写备用服务器的地址" in done.stderr
