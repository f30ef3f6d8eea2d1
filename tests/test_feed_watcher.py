"""The rehearsal's feed watcher against a real hub: each committed event once and in order, a lost feed connection filled from the log."""
from __future__ import annotations

import pytest

from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from protocols.messages import Committed
from scenarios import scorecard
from scenarios.sim import Endpoints, FeedWatcher
from tests.tcp_proxy import Proxy
from tests.test_desk_link import ManualClock, feed_proxy, lose_the_feed, station, traffic
from tests.wire import log_rows, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def hub(event_dir: EventFolder):
    """A hub in this process, its feed reached through a proxy the test can cut: (hub, proxy)."""
    handle = run_in_thread(event_dir)
    proxy = feed_proxy(handle)
    yield handle, proxy
    proxy.close()
    handle.stop()


def watcher(folder: EventFolder, hub, proxy: Proxy, seen: list[Committed], missed, **kw) -> FeedWatcher:
    w = FeedWatcher(Endpoints(hub.endpoint, proxy.endpoint, folder.console_public), folder.desk_key("desk-1"),
                    seen.append, missed, **kw).start()
    assert w.ready.wait(10)
    return w


def from_log(folder: EventFolder):
    return lambda after: scorecard.logged_events(folder, after, drill=False)


def in_order_once(seen: list[Committed], folder: EventFolder) -> bool:
    """The watcher saw the log's events from its first one to the log's last, each once, as logged."""
    if not seen:
        return False
    logged = [r[0] for r in log_rows(folder.db(), "gseq >= ?", (seen[0].gseq,))]
    return [c.gseq for c in seen] == logged


def test_events_lost_with_the_feed_connection_are_read_back_from_the_log_in_order(event_dir, hub):
    hub, proxy = hub
    seen: list[Committed] = []
    w = watcher(event_dir, hub, proxy, seen, from_log(event_dir))
    gate = station(event_dir, hub, "gate-1")
    try:
        traffic(gate, 5)
        wait_for(lambda: w.counts["car_in"] == 5, 10, "the first events")
        assert w.repaired == 0
        lose_the_feed(proxy, gate, 5, 5)
        wait_for(lambda: w.counts["car_in"] == 11, 20, "the missed events")
        gate.stop()
        wait_for(lambda: in_order_once(seen, event_dir), 10, "every event once, in order")
        assert w.repaired >= 5
        plates = [c.body["plate"] for c in seen if c.type == "car_in"]
        assert plates == [f"A{i:05d}" for i in range(11)]
    finally:
        w.stop()
        gate.close()


def test_a_log_that_cannot_be_read_is_tried_again_on_the_retry_timer(event_dir, hub):
    hub, proxy = hub
    calls: list[int] = []
    read = from_log(event_dir)

    def flaky(after: int) -> list[Committed]:
        calls.append(after)
        if len(calls) == 1:
            raise OSError("database is locked")
        return read(after)

    seen: list[Committed] = []
    clock = ManualClock()
    w = watcher(event_dir, hub, proxy, seen, flaky, monotonic=clock)
    gate = station(event_dir, hub, "gate-1")
    try:
        traffic(gate, 2)
        wait_for(lambda: w.counts["car_in"] == 2, 10, "the first events")
        lose_the_feed(proxy, gate, 3, 2)
        wait_for(lambda: calls, 20, "the first try to read the log")
        assert w.counts["car_in"] == 2           # nothing folded over the hole meanwhile
        clock.step(6.0)                          # past the follower's retry timer
        wait_for(lambda: w.counts["car_in"] == 6, 20, "the second try")
        gate.stop()
        wait_for(lambda: in_order_once(seen, event_dir), 10, "every event once, in order")
        assert len(calls) == 2
    finally:
        w.stop()
        gate.close()
