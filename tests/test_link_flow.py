"""stations.link.flow: the station link's send window, driven by stepped times; pure."""
from __future__ import annotations

from protocols.messages import Nack
from stations.link.flow import RATE_PAUSE, REWIND_QUIET, STORAGE_PAUSE, Flow


def nack(code: str, seq: int, expected: int = 0) -> Nack:
    return Nack(epoch="e", seq=seq, code=code, reason="r", reason_zh="r", retry=True, expected=expected)


def sent(flow: Flow, seqs: range, now: float) -> Flow:
    for seq in seqs:
        flow.put(seq, now)
    return flow


def test_the_window_fills_and_each_ack_frees_a_place_and_widens_up_to_the_window():
    flow = sent(Flow(4), range(1, 5), 10.0)
    assert flow.room() == 0 and flow.cursor == 5
    flow.acked(1)
    assert flow.room() == 1 and 1 not in flow.inflight
    flow.cwnd = 2.0
    flow.acked(2)
    assert flow.cwnd == 3.0
    flow.acked(3), flow.acked(4), flow.acked(4)
    assert flow.cwnd == 4.0, "never wider than the window"


def test_a_rate_nack_halves_the_window_pauses_and_rewinds_to_the_first_unanswered():
    flow = sent(Flow(8), range(1, 9), 10.0)
    flow.retry(nack("E_RATE", 3), first=3, now=11.0)
    assert flow.cwnd == 4.0 and flow.cursor == 3 and sorted(flow.inflight) == [1, 2]
    assert flow.paused(11.0 + RATE_PAUSE - 0.01)
    assert not flow.paused(11.0 + RATE_PAUSE) and flow.paused_until == 0.0


def test_a_storage_nack_pauses_longer_and_keeps_the_window():
    flow = sent(Flow(8), range(1, 4), 10.0)
    flow.retry(nack("E_STORAGE", 2), first=2, now=10.0)
    assert flow.cwnd == 8.0 and flow.cursor == 2
    assert flow.paused(10.0 + STORAGE_PAUSE - 0.01) and not flow.paused(10.0 + STORAGE_PAUSE)


def test_a_gap_rewinds_once_and_its_echoes_do_not():
    flow = sent(Flow(8), range(1, 9), 10.0)
    for seq in (1, 2, 3):
        flow.acked(seq)
    # 4 is out since the last rewind: the hub will get it in order; nothing to do.
    flow.retry(nack("E_GAP", 6, expected=4), first=4, now=10.1)
    assert flow.cursor == 9
    flow.inflight.pop(4)   # lost with a connection: the hub asks for it again
    flow.retry(nack("E_GAP", 6, expected=4), first=4, now=10.5)
    assert flow.cursor == 4 and flow.inflight == {}
    sent(flow, range(4, 9), 10.6)
    flow.retry(nack("E_GAP", 7, expected=4), first=4, now=10.6)
    assert flow.cursor == 9, "an echo: 4 went out again after the rewind"
    flow.inflight.pop(5)
    flow.retry(nack("E_GAP", 8, expected=5), first=4, now=10.5 + REWIND_QUIET / 2)
    assert flow.cursor == 9, "a second gap within the quiet time is an echo of the first"
    flow.retry(nack("E_GAP", 8, expected=5), first=4, now=10.5 + REWIND_QUIET + 0.01)
    assert flow.cursor == 4, "never past the first report still unanswered"


def test_a_gap_below_what_we_hold_as_handled_replays_those_reports():
    flow = sent(Flow(8), range(10, 12), 1.0)
    flow.retry(nack("E_GAP", 11, expected=3), first=10, now=2.0)
    assert (flow.cursor, flow.replay_until) == (3, 10)


def test_a_new_session_resends_from_the_first_unacked_or_replays_what_the_console_lost():
    flow = sent(Flow(8), range(5, 8), 1.0)
    assert not flow.replay_from(last_seq=4, first=5, now=2.0)
    assert (flow.cursor, flow.replay_until, flow.inflight) == (5, 0, {})
    assert flow.replay_from(last_seq=1, first=5, now=3.0)
    assert (flow.cursor, flow.replay_until) == (2, 5)


def test_a_report_is_overdue_only_once_unanswered_longer_than_the_timeout_since_the_last_rewind():
    flow = sent(Flow(8), range(1, 3), 100.0)
    assert not flow.overdue(104.9, 5.0)
    assert flow.overdue(105.1, 5.0)
    flow.rewind(1, 105.1, force=True)
    sent(flow, range(1, 3), 105.1)
    assert not flow.overdue(108.0, 5.0)
    assert flow.overdue(110.2, 5.0)
    assert not Flow(8).overdue(1e9, 5.0), "nothing out, nothing overdue"
