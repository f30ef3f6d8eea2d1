"""A delegation not on the list, added by the desk on the spot (guest_add): it joins the list (and stays when the list
is imported again), and a party here now gets the same VIP hand-off as a listed one; through the rules on a stepped
clock, through a real hub from the desk's v in both languages, and the form's snapshots."""
from __future__ import annotations

import pytest

from console.core import guests_rules
from console.desk.screens.vip_actions import AddPartyModal
from console.hub.server import run_in_thread
from console.core import state as fold
from console.hub.ingest import Ingest
from protocols import messages as M
from tests.test_desk_app import desk, logged
from tests.desk_support import wait_for
from tests.test_guests_handoff import DESK, GATE, LIST, PARK, Wire, wire  # noqa: F401  (the fixture)
from tests.test_sendoff_screens import SIZES
from tests.station_support import aio
from tests.test_vip_expect import modal_snapshot


@pytest.mark.pure
def test_a_party_added_at_the_gate_gets_the_vip_hand_off(wire: Wire, event_dir) -> None:  # noqa: F811
    ack, out = wire.send(DESK, M.GuestAdd(name="周总", org="市商务局", level="A", party=4, plate="湘A·88888",
                                          at="gate", note="临时来访"))
    assert isinstance(ack, M.Ack)
    (added,) = [r for r in out.stored if r.type == "guest_add"]
    ref = f"D{added.gseq}"
    sent = wire.notices(out, ref)
    assert [n["target"] for n in sent] == ["post.parking", "post.concierge", "post.lobby", "post.model_unit",
                                           "post.greeter"]   # the sample's greeting leaders
    assert sent[0]["text"].startswith("【贵宾到达】A级 周总（市商务局）一行4人，经门岗")
    assert sent[0]["text_en"].startswith("[VIP arriving] Level A 周总 (市商务局), party of 4, via Gate")
    view = guests_rules.guest_view(wire.ingest.state, ref, wire.now)
    assert (view.name, view.status, view.vip, view.arrived_party) == ("周总", "arrived", True, 4)
    # The same deadline as any hand-off: parking acknowledges, the silent two raise their alarms.
    park = next(r.gseq for r in out.stored if r.type == "instruction" and r.body["target"] == "post.parking")
    wire.send(PARK, M.InstructionAck(instruction=park))
    late = wire.tick(120_001)
    assert sorted(r.body["target"] for r in wire.duty(late)) == ["concierge", "greeter", "lobby", "model_unit"]
    # Its plate is on the list now: the same plate cannot be added twice.
    nack, out = wire.send(DESK, M.GuestAdd(name="别人", plate="湘A88888"))
    assert nack.code == "E_SCHEMA" and out.stored == []
    assert nack.reason_zh == "“车牌”填写有误：车牌 湘A88888 已在来宾名单上"
    assert nack.reason == "The plate is wrong: plate 湘A88888 is already on the guest list."
    # A new import of the list keeps the party; and a replay of the log folds the same.
    wire.ingest.load_guests(LIST[:2], "guests-v2.xlsx", wire.now)
    assert ref in wire.ingest.state.guests["list"] and wire.ingest.state.guests["plates"]["湘A88888"] == ref
    again = Ingest(wire.store, event_dir.load())
    assert again.state == wire.ingest.state and fold.from_wire(fold.to_wire(wire.ingest.state)) == wire.ingest.state


@pytest.mark.pure
def test_a_party_not_here_yet_is_expected_and_its_car_at_the_gate_starts_the_hand_off(wire: Wire) -> None:  # noqa: F811
    ack, out = wire.send(DESK, M.GuestAdd(name="吴处长", level="B", party=2, plate="湘B·12121", at="",
                                          arrive_ms=wire.now + 600_000))
    ref = f"D{next(r.gseq for r in out.stored if r.type == 'guest_add')}"
    assert wire.notices(out, ref) == []
    assert guests_rules.guest_view(wire.ingest.state, ref, wire.now).status == "expected"
    _, out = wire.send(GATE, M.CarIn(plate="湘B 12121"))
    assert [n["target"] for n in wire.notices(out, ref)] == [
        "post.parking", "post.concierge", "post.lobby", "post.model_unit", "post.greeter"]


# --- on screen: the desk's v, through a real hub ------------------------------------------------------------

@pytest.mark.screen
@pytest.mark.timeout(90)
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_desk_adds_a_delegation_and_the_posts_are_told(event_dir, lang):
    handle = run_in_thread(event_dir)
    try:
        async with desk(event_dir, handle, lang=lang) as (app, pilot):
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(app.screen, AddPartyModal), what="the form")
            await pilot.press("enter")                              # no name: said, nothing sent
            assert isinstance(app.screen, AddPartyModal)
            app.screen.query_one("#name").value = "周总"
            app.screen.query_one("#party").value = "4"
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "guest_add"), what="the party logged")
            (body,) = logged(event_dir, "guest_add")
            assert (body["name"], body["party"], body["level"], body["at"]) == ("周总", 4, "A", "gate")
            notices = lambda: [b for b in logged(event_dir, "instruction", "hub") if b.get("notice") == "vip"]  # noqa: E731
            await wait_for(pilot, lambda: len(notices()) == 5, what="the hand-off")
            assert sorted(n["target"] for n in notices()) == [
                "post.concierge", "post.greeter", "post.lobby", "post.model_unit", "post.parking"]
            await pilot.press("g")
            table = app.screen.query_one("#guests-chains")
            await wait_for(pilot, lambda: table.row_count == 1, what="the chain on the guest screen")
            assert "周总" in " ".join(c.plain for c in table._cells[table._keys[0]])
    finally:
        handle.stop()


@pytest.mark.screen
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_add_party_form_snapshot(snap_compare, lang, size):
    assert modal_snapshot(snap_compare, lang, size, "v")


@pytest.mark.pure
def test_a_level_a_party_asks_the_lobby_for_the_greeting_leaders(wire: Wire) -> None:  # noqa: F811
    _, out = wire.send(DESK, M.GuestAdd(name="周总", level="A", party=4, at="gate"))
    _, out_b = wire.send(DESK, M.GuestAdd(name="吴处长", level="B", party=2, at="gate"))
    lobby = {n["target"]: n for n in wire.notices(out)}["post.lobby"]
    assert "一级接待：请总经理/副总到大厅迎接" in lobby["text"]
    assert "the general manager or a deputy greets them in the lobby" in lobby["text_en"]
    others = [n for n in wire.notices(out) if n["target"] != "post.lobby"] + wire.notices(out_b)
    assert others and not any("一级接待" in n["text"] for n in others)   # the lobby of a level A party only
