"""The gate's 贵宾放行 during a hold, as rules: the terminal keeps ordinary cars held and offers the release
only while a hold stands; the wire wants a plate; the hub lets in only a listed VIP car, logs it with its
plate and hands the guest on, and refuses any other plate with a sentence in both languages."""
from __future__ import annotations

import pytest

from console.core import state as fold
from console.desk.widgets import fmt
from console.hub.ingest import Ingest
from protocols import codec
from protocols import messages as M
from protocols.codec import ProtocolError
from stations.records import InboxItem
from stations.terminal.posts import gate
from stations.terminal.posts.base import Site
from tests.test_guests_handoff import DESK, GATE, Wire, wire  # noqa: F401  (the fixture)

pytestmark = pytest.mark.pure

SITE = Site("gate-1", "gate")


def order(gseq: int, order_: str, target: str = "post.gate", run: int = 0, step: str = "") -> InboxItem:
    return InboxItem(id=gseq, target=target, text="暂停车辆入场", ack_required=True, received_ms=gseq,
                     gate=order_, run=run, step=step)


def test_a_hold_keeps_every_car_in_key_and_opens_the_vip_release() -> None:
    held = [order(5, "hold")]
    for key in ("car_in", "car_in_plate", "vip_in"):
        assert gate.guard(SITE, key, held) == "station.gate.held"
        assert gate.guard(SITE, key, []) == ""
    assert gate.guard(SITE, "vip_release", held) == ""
    assert gate.guard(SITE, "car_out", held) == "" and gate.guard(SITE, "incident", held) == ""   # cars may leave
    # The desk's resume lifts its hold: the release is for a hold only, ordinary cars go in again.
    lifted = held + [order(9, "resume")]
    assert gate.guard(SITE, "vip_release", lifted) == "station.gate.not_held"
    assert gate.guard(SITE, "car_in", lifted) == ""
    # A plan's hold still stands after the desk's resume: still held.
    assert gate.guard(SITE, "car_in", [order(3, "hold", run=3, step="gate_hold")] + lifted) == "station.gate.held"


def test_the_release_key_sends_a_vip_car_in_with_its_plate_and_the_release_flag() -> None:
    (action,) = [a for a in gate.post(SITE).actions if a.id == "vip_release"]
    assert (action.key, action.alias, [f.name for f in action.fields]) == ("f6", "6", ["plate"])
    assert action.build(SITE, {"plate": " 湘A·12345 "}, None) == (
        "car_in", {"count": 1, "vip": True, "release": True, "plate": "湘A·12345"})


@pytest.mark.parametrize("body", [{"release": True, "vip": True}, {"release": True, "plate": "湘A1"},
                                  {"release": True, "vip": True, "plate": "湘A1", "count": 2}])
def test_the_wire_wants_one_vip_car_and_its_plate_for_a_release(body: dict) -> None:
    with pytest.raises(ProtocolError) as err:
        codec.decode(codec.encode(M.CarIn(**body), "gate-1", "ep", 1, 1))
    assert err.value.code == "E_SCHEMA"
    assert err.value.sentence("zh") == "“贵宾放行”填写有误：贵宾放行须填写车牌，且一次只放行一辆贵宾车"
    assert err.value.sentence("en") == "The VIP release is wrong: a VIP release needs the car's plate, one VIP car at a time."


def test_the_hub_lets_a_listed_vip_car_in_and_refuses_any_other_plate(wire: Wire, event_dir) -> None:  # noqa: F811
    ack, _ = wire.send(DESK, M.Instruction(target="post.gate", text="暂停车辆入场", ack_required=True, gate="hold"))
    assert isinstance(ack, M.Ack) and wire.ingest.state.holds
    # Not on the list, and on the list at level C: refused, nothing stored, in both languages.
    for plate in ("湘B·99999", "湘A·54321"):
        nack, out = wire.send(GATE, M.CarIn(plate=plate, vip=True, release=True))
        assert isinstance(nack, M.Nack) and nack.code == "E_SCHEMA" and out.stored == []
        assert nack.reason_zh == f"“贵宾放行”填写有误：车牌 {plate} 不在贵宾名单上（A、B 级），不能在暂停放行时放行"
        assert nack.reason == f"The VIP release is wrong: plate {plate} is not a listed VIP car (level A or B), so it " \
                              "cannot be let in during a hold."
    nack, _ = wire.send(GATE, M.CarIn(plate="湘C 11111", vip=True, release=True))   # G-01's car: level C
    assert isinstance(nack, M.Nack) and nack.code == "E_SCHEMA"
    state = wire.ingest.state
    # The listed VIP's car: logged with its plate and the release, counted, and the hand-off starts.
    ack, out = wire.send(GATE, M.CarIn(plate="湘a12345", vip=True, release=True))
    assert isinstance(ack, M.Ack)
    (car,) = [r for r in out.stored if r.type == "car_in"]
    assert car.body == {"plate": "湘a12345", "vip": True, "count": 1, "release": True}
    assert (state.cars["in"], state.cars["vip"], state.cars["released"]) == (1, 1, 1)
    assert [n["target"] for n in wire.notices(out, "V-01")][:3] == ["post.parking", "post.concierge", "post.lobby"]
    # The hold still stands for everyone else; and a replay of the log folds the same.
    assert state.holds
    again = Ingest(wire.store, event_dir.load())
    assert again.state == state and fold.from_wire(fold.to_wire(state)) == state


@pytest.mark.parametrize("lang, words", [("zh", "车辆入场 ×1 湘A·12345 贵宾放行"),
                                         ("en", "Car in ×1 湘A·12345 VIP release")])
def test_the_desk_sees_the_release_with_its_plate(wire: Wire, lang: str, words: str) -> None:  # noqa: F811
    rec = {"type": "car_in", "body": {"plate": "湘A·12345", "vip": True, "count": 1, "release": True}}
    assert fmt.describe(rec, wire.ingest.state, lang).plain == words
