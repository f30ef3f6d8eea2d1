"""Snapshots of every post's terminal at 80x24, in Chinese and English, from a fixed clock and a dead desk.

The setup is deterministic: the client points at a port nobody listens on (so the link line
settles on "unreachable" and no report moves), the outbox clock is fixed, times render on the
event's clock (Asia/Shanghai, whatever the machine's zone), and report states other than "saved"
are written through the outbox's own API.
"""
from __future__ import annotations


import pytest

from protocols.codec import ProtocolError
from tests.station_support import make_app, make_client, until
from tests.desk_support import stop_blinking

FIXED = 1_796_434_200.0   # 2026-12-05 09:30 +08:00, the sample event's doors-open (01:30 UTC)
SIZE = (80, 24)

SEED = {
    "gate-1": [("car_in", {}), ("car_in", {"plate": "湘A·12345", "vip": True}), ("car_out", {"plate": "粤B·D1234"}),
               ("car_in", {})],
    "parking-1": [("lot_occupancy", {"lot": "p1", "occupied": 71}), ("lot_occupancy", {"lot": "p1", "delta": 1}),
                  ("space_assign", {"lot": "p1", "space": "B-12", "plate": "湘A·12345"}),
                  ("lot_occupancy", {"lot": "p2", "full": True})],
    "concierge-1": [("guest_arrival", {"count": 3}), ("guest_checkin", {"name": "王先生", "party_size": 2}),
                    ("guest_arrival", {"vip_level": "A", "guest_ref": "李总"}), ("guest_departure", {})],
    "lobby-1": [("zone_enter", {"zone": "lobby", "count": 12}), ("zone_exit", {"zone": "lobby", "count": 2}),
                ("service_request", {"service": "tea_break", "where": "茶歇台"}),
                ("incident_report", {"kind": "water_leak", "severity": 3, "location": "洗手间", "note": "地面有水"})],
    "model-1": [("zone_enter", {"zone": "model_unit", "count": 38}),
                ("damage_report", {"item": "青花瓷瓶", "where": "客厅", "loss": False}),
                ("sendoff_notice", {"count": 4, "note": "王总一行"}), ("zone_exit", {"zone": "model_unit"})],
}



def seeded(fixed_event_dir, station: str):
    """A client whose outbox holds one report in each state, and for the gate a hold from the desk."""
    client = make_client(fixed_event_dir, station, heartbeat_ms=50, clock=lambda: FIXED)
    reports = [client.submit(t, b) for t, b in SEED[station]]
    client.outbox.mark_sent(reports[2].seq)
    client.outbox.mark_delivered(reports[0].seq, 1041)
    refusal = ProtocolError("E_CONFLICT", seq=reports[1].seq)   # the desk's own words for a refusal
    client.outbox.mark_rejected(reports[1].seq, refusal.code, refusal.en, refusal.zh)
    if station == "gate-1":
        client.outbox.store_instruction(1057, "post.gate", "暂停车辆入场，等停车场腾出车位 [b]hold[/b]", True,
                                        received_ms=int(FIXED * 1000), gate="hold")
    elif station == "lobby-1":
        client.outbox.store_instruction(1060, "all", "10:00 开始茶歇，请大堂准备", False, received_ms=int(FIXED * 1000))
    return client


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("station", list(SEED))
def test_post_screen_snapshot(fixed_event_dir, snap_compare, station, lang):
    client = seeded(fixed_event_dir, station)
    assert settled_snapshot(snap_compare, make_app(fixed_event_dir, client, lang), client, SIZE)


def settled_snapshot(snap_compare, app, client, size: tuple[int, int]) -> bool:
    """The post's screen once its link has settled on "unreachable" (a dead desk); the client closed after."""
    async def settle(pilot):
        await until(pilot, lambda: client.status().state == "unreachable", what="link settles")
        app.redraw()
        await pilot.pause(0.1)

    try:
        return snap_compare(app, terminal_size=size, run_before=settle)
    finally:
        client.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_incident_form_snapshot(fixed_event_dir, snap_compare, lang):
    client = make_client(fixed_event_dir, "gate-1", heartbeat_ms=50, clock=lambda: FIXED)
    app = make_app(fixed_event_dir, client, lang)

    async def open_form(pilot):
        await until(pilot, lambda: client.status().state == "unreachable", what="link settles")
        await pilot.press("f9")
        stop_blinking(pilot.app)   # the form starts on its text field: its cursor blinks
        await pilot.pause(0.1)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_form)
    finally:
        client.close()
