"""Reserved VIP spaces per lot (issue 16 item 4): event.toml `vip_spaces` (labels or a count), the parking post's F7
giving one to a VIP car (its guest found by plate on the list), the hub refusing a space that is not one or is taken
(in both languages), the desk's figure and the summary's count checked against hand-counted values; on screen, the
parking terminal through a real hub in both languages, and its snapshots at 80×24 and 160×48."""
from __future__ import annotations

import pytest

from console.core import state as fold
from console.core.event import EventFileError, parse
from console.event import guests as guest_file
from console.hub.ingest import Ingest
from console.report import service_day
from protocols import messages as M
from stations.terminal.posts import parking
from stations.terminal.posts.base import Site
from tests.test_guests_handoff import LIST, PARK, Wire

LOT = 'id = "p1"'


def with_spaces(event_dir, value: str = '["A01", "A02", "A03"]'):
    """The sample event with lot p1 keeping VIP spaces, written to its event.toml."""
    path = event_dir.root / "event.toml"
    text = path.read_text(encoding="utf-8")
    assert LOT in text
    path.write_text(text.replace(LOT, f"{LOT}\nvip_spaces = {value}", 1), encoding="utf-8")
    return event_dir


@pytest.fixture
def wire(event_dir):
    with_spaces(event_dir)
    w = Wire(event_dir, event_dir.load().doors_open_ms - 3_600_000)
    w.ingest.load_guests(LIST, "guests.xlsx", w.now)
    yield w
    w.store.close()


@pytest.mark.pure
def test_a_lot_keeps_vip_spaces_by_label_or_by_count(event_dir) -> None:
    path = event_dir.root / "event.toml"
    text = path.read_text(encoding="utf-8")
    assert with_spaces(event_dir).load().lots[0].vip_spaces == ("A01", "A02", "A03")
    assert parse(path, text.replace(LOT, f"{LOT}\nvip_spaces = 2", 1)).lots[0].vip_spaces == ("VIP1", "VIP2")
    assert parse(path, text).lots[0].vip_spaces == ()
    for bad in ('["A01", "A01"]', "81", '[""]', '"A01"'):
        with pytest.raises(EventFileError, match=r"lots\[0\]\.vip_spaces"):
            parse(path, text.replace(LOT, f"{LOT}\nvip_spaces = {bad}", 1))
    with pytest.raises(EventFileError, match=r"zones\[0\]\.vip_spaces"):   # a zone has no parking spaces
        parse(path, text.replace('[[zones]]\n', '[[zones]]\nvip_spaces = 1\n', 1))


@pytest.mark.pure
def test_a_vip_car_gets_a_reserved_space_once_and_the_summary_counts_it(wire: Wire, event_dir) -> None:
    ack, out = wire.send(PARK, M.SpaceAssign(lot="p1", space="A01", plate="湘A·12345", vip=True))   # 张三's car
    assert isinstance(ack, M.Ack) and [r.type for r in out.stored] == ["space_assign"]
    taken = wire.ingest.state.lots["p1"]["vip_taken"]
    assert taken["A01"]["guest"] == "V-01" and taken["A01"]["plate"] == "湘A·12345"
    ack, _ = wire.send(PARK, M.SpaceAssign(lot="p1", space="A02", plate="粤B00000", vip=True))      # not listed
    assert isinstance(ack, M.Ack)
    nack, out = wire.send(PARK, M.SpaceAssign(lot="p1", space="A01", plate="湘C11111", vip=True))
    assert out.stored == [] and (nack.code, nack.reason_zh, nack.reason) == (
        "E_SCHEMA", "“车位号”填写有误：贵宾车位 A01 已停放车辆 湘A·12345",
        "The space is wrong: VIP space A01 is taken by 湘A·12345.")
    nack, _ = wire.send(PARK, M.SpaceAssign(lot="p2", space="A03", vip=True))       # p2 keeps none
    assert (nack.reason_zh, nack.reason) == ("“车位号”填写有误：A03 不是本停车场的贵宾车位（贵宾车位：—）",
                                             "The space is wrong: A03 is not one of this lot's VIP spaces (—).")
    assert isinstance(wire.send(PARK, M.SpaceAssign(lot="p1", space="B-12"))[0], M.Ack)   # an ordinary space
    # Hand-counted: p1 keeps 3, 2 given, 1 of them a listed guest's.
    assert service_day.figures(wire.ingest.state, {})["vip_spaces"] == [
        {"lot": "p1", "reserved": 3, "taken": 2, "listed": 1}]
    again = Ingest(wire.store, event_dir.load())
    assert again.state == wire.ingest.state and fold.from_wire(fold.to_wire(wire.ingest.state)) == wire.ingest.state


@pytest.mark.pure
@pytest.mark.parametrize("lang, words", [("zh", "贵宾车位空 2/3"), ("en", "VIP spaces free 2/3")])
def test_the_desk_figures_say_how_many_vip_spaces_are_free(wire: Wire, lang: str, words: str) -> None:
    from console.desk.widgets.figures import AreasPanel
    from console.desk.widgets.view import View
    wire.send(PARK, M.SpaceAssign(lot="p1", space="A02", plate="粤B00000", vip=True))
    view = View(fold.from_wire(fold.to_wire(wire.ingest.state)), wire.now, lang)
    assert words in AreasPanel().cars_line(view).plain


@pytest.mark.pure
def test_the_parking_terminal_counts_the_free_vip_spaces_of_its_lot(event_dir) -> None:
    site = Site.from_summary("parking-1", with_spaces(event_dir).load().summary())
    p1, p2 = site.lots
    sent = [("space_assign", {"lot": "p1", "space": "A02", "plate": "湘A1", "vip": True}),
            ("space_assign", {"lot": "p1", "space": "A03", "plate": "湘A2"})]      # not as a VIP space
    assert parking.vip_free(p1, sent) == ("A01", "A03")
    (vip,) = [c for c in parking.tally(site, sent, p1) if c.label == "station.count.vip_free"]
    assert (vip.value, vip.capacity, vip.detail) == (2, 3, "A01 A03")
    assert not [c for c in parking.tally(site, sent, p2) if c.label]            # p2 keeps none: no figure
    assert "vip_space" in [a.id for a in parking.post(site).actions]


# --- on screen: the parking terminal's F7 through a real hub -----------------------------------------------------

@pytest.mark.screen
@pytest.mark.timeout(120)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_parking_terminal_gives_a_vip_car_a_reserved_space(event_dir, lang) -> None:
    from console.hub.server import run_in_thread
    from stations.outbox.store import DELIVERED, REJECTED
    from stations.terminal.screens.form import ReportForm
    from tests.station_support import (
        aio,
        hub_client,
        logged,
        make_app,
        screen_text,
        type_text,
        until,
    )

    guest_file.write_json(with_spaces(event_dir).root / "guests.json", LIST, "guests.xlsx")
    free = {"zh": ("贵宾车位空 3/3 A01 A02 A03", "贵宾车位空 2/3 A02 A03"),
            "en": ("VIP spaces free 3/3 A01 A02 A03", "VIP spaces free 2/3 A02 A03")}[lang]
    taken = {"zh": "贵宾车位 A01 已停放车辆", "en": "VIP space A01 is taken by"}[lang]

    async def give(pilot, app, space: str, plate: str) -> None:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ReportForm), what="the VIP space form")
        await type_text(pilot, space)
        await pilot.press("tab")
        await type_text(pilot, plate)
        await pilot.press("enter")

    @aio
    async def run() -> None:
        hub = run_in_thread(event_dir)
        client = hub_client(event_dir, hub, "parking-1")
        app = make_app(event_dir, client, lang)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: client.status().state == "online")
                await until(pilot, lambda: free[0] in screen_text(app), what="the free VIP spaces")
                await give(pilot, app, "A01", "湘A 12345")
                await until(pilot, lambda: client.outbox.get(1) and client.outbox.get(1).state == DELIVERED)
                await until(pilot, lambda: free[1] in screen_text(app), what="one fewer free")
                await give(pilot, app, "A01", "湘C11111")              # taken: the hub's sentence on screen
                await until(pilot, lambda: client.outbox.get(2) and client.outbox.get(2).state == REJECTED)
                await until(pilot, lambda: taken in screen_text(app), what="the refusal")
                assert hub.hub.ingest.state.lots["p1"]["vip_taken"]["A01"]["guest"] == "V-01"
        finally:
            client.close()
            hub.stop()
        assert [(t, b) for _, _, t, b in logged(event_dir, "parking-1")] == [
            ("space_assign", {"lot": "p1", "space": "A01", "plate": "湘A 12345", "vip": True})]

    run()


@pytest.mark.screen
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parking_terminal_with_vip_spaces_snapshot(fixed_event_dir, snap_compare, lang, size):
    from tests.test_station_app_snapshots import FIXED, settled_snapshot
    from tests.station_support import make_app, make_client
    with_spaces(fixed_event_dir)
    client = make_client(fixed_event_dir, "parking-1", heartbeat_ms=50, clock=lambda: FIXED)
    client.submit("space_assign", {"lot": "p1", "space": "A02", "plate": "湘A·12345", "vip": True})
    assert settled_snapshot(snap_compare, make_app(fixed_event_dir, client, lang), client, size)


@pytest.mark.pure
@pytest.mark.parametrize("lang, head, row", [("zh", "## 贵宾车位", "| 地面停车场 | 3 | 1 | 1 |"),
                                             ("en", "## VIP spaces", "| Surface lot | 3 | 1 | 1 |")])
def test_the_written_summary_has_the_vip_spaces_table(wire: Wire, event_dir, lang, head, row) -> None:
    from console.report import doc as report_doc
    from console.report.render import markdown
    from console.report.summary import summarise
    wire.send(PARK, M.SpaceAssign(lot="p1", space="A01", plate="湘A·12345", vip=True))
    text = markdown(report_doc.build(summarise(wire.store.since(0), event_dir.load().summary(),
                                               wire.store.rejections()), lang), {})
    assert head in text and row in text
