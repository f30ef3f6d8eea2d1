"""A station moved away by E_PASSIVE (PROTOCOL.md 5.13) keeps a working link: the monitors of the sockets it drops stop before their PAIR ends close, so no monitor event can block the link's ZeroMQ I/O thread for good.

Found by tests/test_netns_failover.py: a station that reached a primary in its first peer window (E_PASSIVE,
the handshake of its feed finishing as it moved) never reached either hub again. Here the refusing hub is
tests/test_desk_two_hubs.py's PassiveHub (a real CURVE ROUTER and XPUB on 127.0.0.1); the other is a real hub.
"""
from __future__ import annotations

import pytest

from console.hub.server import run_in_thread
from tests.test_client import station
from tests.test_desk_two_hubs import HEARTBEAT_MS, PassiveHub
from tests.test_netns_failover import STATIONS, twenty_stations

pytestmark = pytest.mark.timeout(90)


def test_twenty_stations_refused_by_a_passive_hub_all_reach_the_active_one(event_dir):
    twenty_stations(event_dir)
    passive, active = PassiveHub(event_dir), run_in_thread(event_dir)
    clients = []
    try:
        for sid in STATIONS:
            clients.append(station(event_dir, sid, *passive.pair, others=((active.endpoint, active.feed),),
                                   heartbeat_ms=HEARTBEAT_MS))
        for c in clients:
            c.submit("car_in", {})
        # Moved at once, welcomed by the active hub: well within one back-off cap (4 s) of each other.
        stuck = [c.station for c in clients if not c.wait_drained(15)]
        assert not stuck, [(sid, c.status()) for sid, c in zip(STATIONS, clients) if sid in stuck]
        assert passive.hellos >= len(STATIONS)
    finally:
        for c in clients:
            c.close()
        passive.close()
        active.stop()
