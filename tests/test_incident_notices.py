"""The post that reported an incident hears what became of it, once per change, in both languages (pure, stepped clock)."""
from __future__ import annotations

import pytest

from console.core import incident_notices as notices
from console.core import state as S
from protocols import messages as M
from tests.test_state import T0, Log

MIN = 60_000


def told(log: Log, at: int) -> list[M.Instruction]:
    """What the hub decides after a commit at `at`, logged as the hub logs it (station "hub"), so the next call knows."""
    out = notices.evaluate(log.state, T0)
    for msg in out:
        log(msg, station="hub", at=at)
    return out


def test_the_reporter_hears_each_change_once_and_nothing_of_its_own() -> None:
    log = Log()
    fire = log(("incident_report", {"kind": "fire", "severity": 4, "location": "大堂"}), station="lobby-1", at=T0)
    assert told(log, T0) == []                                             # nobody did anything yet
    log(("incident_update", {"incident": fire, "status": "acknowledged"}), station="desk-1", at=T0 + MIN)
    (first,) = told(log, T0 + MIN)
    assert first.target == "station.lobby-1" and not first.ack_required and first.notice == "incident"
    assert first.text == f"您上报的事件 #{fire}（火情）：已确认"
    assert first.text_en == f"The incident you reported, #{fire} (Fire): acknowledged"
    assert told(log, T0 + MIN + 1) == []                                   # told once, also after a replay
    log(("incident_update", {"incident": fire, "note": "烟散了"}), station="lobby-1", at=T0 + 2 * MIN)
    log(("incident_update", {"incident": fire, "assign": "engineering"}), station="desk-1", at=T0 + 3 * MIN)
    log(("incident_update", {"incident": fire, "status": "resolved"}), station="desk-1", at=T0 + 4 * MIN)
    # One notice per change, however the changes were batched: a replayed or re-batched log is the same.
    assert [m.text for m in told(log, T0 + 4 * MIN)] == [f"您上报的事件 #{fire}（火情）：已指派给工程部",
                                                        f"您上报的事件 #{fire}（火情）：已解决"]
    assert told(log, T0 + 5 * MIN) == []


def test_a_replayed_log_tells_nothing_again() -> None:
    log = Log()
    leak = log(("incident_report", {"kind": "water_leak", "severity": 3}), station="lobby-1", at=T0)
    log(("incident_update", {"incident": leak, "status": "in_progress"}), station="desk-1", at=T0 + MIN)
    assert len(told(log, T0 + MIN)) == 1
    again = S.new_state(log.state.event)
    for row in log.rows:
        S.apply(again, row)
    assert notices.evaluate(again, T0) == []


def test_the_desks_own_incidents_and_changes_from_before_the_hub_started_are_not_told() -> None:
    log = Log()
    own = log(("incident_open", {"kind": "medical", "severity": 2, "source": "desk"}), station="desk-1", at=T0)
    log(("incident_update", {"incident": own, "status": "resolved"}), station="desk-1", at=T0 + MIN)
    old = log(("incident_report", {"kind": "medical", "severity": 2}), station="gate-1", at=T0)
    log(("incident_update", {"incident": old, "status": "acknowledged"}), station="desk-1", at=T0 + MIN)
    assert notices.evaluate(log.state, floor_ms=T0 + MIN + 1) == []   # a hub started on an old log
    assert [m.target for m in notices.evaluate(log.state, floor_ms=T0)] == ["station.gate-1"]


@pytest.mark.wire
def test_through_a_real_hub_the_reporting_terminal_hears_its_incident_taken_and_resolved(folder, hub) -> None:
    """A lobby terminal reports a fire; a desk acknowledges, assigns and resolves it; the lobby's own inbox
    holds what became of it, and no other station hears it."""
    from stations.link.client import StationClient
    from tests.wire import wait_for

    def station(sid: str) -> StationClient:
        return StationClient(sid, folder.root / "stations" / f"{sid}.outbox.db", folder.station_key(sid),
                             folder.console_public, hub.endpoint, hub.feed).start()

    lobby, gate = station("lobby-1"), station("gate-1")
    desk = StationClient("desk-1", folder.root / "desks" / "desk-1.outbox.db", folder.desk_key("desk-1"),
                         folder.console_public, hub.endpoint, None, role="desk", post="desk").start()
    try:
        report = lobby.submit("incident_report", {"kind": "fire", "severity": 4, "location": "大堂"})
        fire = lobby.wait_delivered(report.seq, 10).gseq
        for body in ({"status": "acknowledged"}, {"assign": "security", "status": "in_progress"}):
            done = desk.wait_delivered(desk.submit("incident_update", {"incident": fire, **body}).seq, 10)
            assert done.state == "delivered"
        heard = wait_for(lambda: [i for i in lobby.outbox.instructions() if i.notice == "incident"
                                  and "已指派给秩序部" in i.text], 10, "the lobby to hear whose it is now")
        texts = [i.text for i in sorted(lobby.outbox.instructions(), key=lambda i: i.id) if i.notice == "incident"]
        assert texts == [f"您上报的事件 #{fire}（火情）：{x}" for x in ("已确认", "处理中", "已指派给秩序部")]
        assert not heard[0].ack_required
        assert not [i for i in gate.outbox.instructions() if i.notice == "incident"]
    finally:
        for client in (lobby, gate, desk):
            client.close()
