"""The desk moves a VIP's expected arrival (guest_expect): logged, refused for a guest not on the list or already
here, "late" (延迟) counted from the newest expectation with the event's own `[hub] guest_late_min`; on a clock the
test steps. On screen: the desk's u through a real hub in both languages, and the modal's snapshots."""
from __future__ import annotations

import pytest

from console.core import guests_rules
from console.core import state as fold
from console.core.event import EventFileError, parse
from console.desk.widgets import fmt
from console.hub.ingest import Ingest
from protocols import messages as M
from tests.test_guests_handoff import CONC, DESK, GATE, LIST, Wire, wire  # noqa: F401  (the fixture)
from tests.test_sendoff_screens import SIZES
from tests.station_support import aio

MIN = 60_000


def status(w: Wire, ref: str) -> str:
    return guests_rules.guest_view(w.ingest.state, ref, w.now).status


@pytest.mark.pure
def test_late_counts_from_the_newest_expectation(wire: Wire, event_dir) -> None:  # noqa: F811
    g = wire.ingest.state.guests
    first = wire.now + 10 * MIN                                    # the desk's first word: in 10 minutes
    assert isinstance(wire.send(DESK, M.GuestExpect(guest_ref="V-02", arrive_ms=first))[0], M.Ack)
    assert status(wire, "V-02") == "expected"
    wire.now += 25 * MIN + 1                                        # 15 minutes past that: late
    assert status(wire, "V-02") == "late"
    ack, out = wire.send(DESK, M.GuestExpect(guest_ref="V-02", arrive_ms=wire.now + 20 * MIN, note="航班延误"))
    assert isinstance(ack, M.Ack) and [r.type for r in out.stored] == ["guest_expect"]
    view = guests_rules.guest_view(wire.ingest.state, "V-02", wire.now)
    assert (view.status, view.arrive_ms, view.moved) == ("expected", wire.now + 20 * MIN, 2)
    wire.now += 35 * MIN                                            # exactly 15 past the new time: not yet
    assert status(wire, "V-02") == "expected"
    wire.now += 1
    assert status(wire, "V-02") == "late"
    totals, views = guests_rules.view(wire.ingest.state, wire.now)
    assert totals.late == 1 and views[0].ref == "V-02"               # late first
    # Every change stays for the record: the list's time (none here), each new time, who and why.
    record = g["expected"]["V-02"]
    assert record["listed_ms"] == 0 and [(c["was"], c["by"], c["note"]) for c in record["changes"]] == [
        (0, "desk-1", ""), (first, "desk-1", "航班延误")]
    # The log replays to the same picture.
    again = Ingest(wire.store, event_dir.load())
    assert again.state == wire.ingest.state and fold.from_wire(fold.to_wire(wire.ingest.state)) == wire.ingest.state


@pytest.mark.pure
def test_the_event_sets_how_late_is_late(wire: Wire) -> None:  # noqa: F811
    wire.send(DESK, M.GuestExpect(guest_ref="V-03", arrive_ms=wire.now))
    wire.now += 5 * MIN + 1
    assert status(wire, "V-03") == "expected"                       # the default: 15 minutes
    wire.ingest.state.event["guest_late_ms"] = 5 * MIN              # [hub] guest_late_min = 5
    assert status(wire, "V-03") == "late"


@pytest.mark.pure
def test_guest_late_min_is_read_from_event_toml(event_dir) -> None:
    path = event_dir.root / "event.toml"
    text = path.read_text(encoding="utf-8")
    assert event_dir.load().summary()["guest_late_ms"] == 15 * MIN
    moved = text.replace("guest_late_min = 15", "guest_late_min = 5", 1)
    assert moved != text and parse(path, moved).summary()["guest_late_ms"] == 5 * MIN
    with pytest.raises(EventFileError, match="guest_late_min"):
        parse(path, text.replace("guest_late_min = 15", "guest_late_min = 0", 1))


@pytest.mark.pure
def test_the_hub_refuses_a_guest_not_listed_or_already_here_and_a_station_may_not_send_it(wire: Wire) -> None:  # noqa: F811
    nack, out = wire.send(DESK, M.GuestExpect(guest_ref="V-99", arrive_ms=wire.now))
    assert (nack.code, nack.reason_zh, nack.reason) == (
        "E_UNKNOWN", "指挥台找不到来宾（V-99）。", "The desk cannot find guest V-99.") and out.stored == []
    wire.send(GATE, M.CarIn(plate="湘A·12345", vip=True))            # 张三 is here
    nack, out = wire.send(DESK, M.GuestExpect(guest_ref="V-01", arrive_ms=wire.now))
    assert nack.code == "E_SCHEMA" and out.stored == []
    assert nack.reason_zh == "“来宾编号”填写有误：这位来宾已到达，不必再改预计到达时间"
    assert nack.reason == "The guest reference is wrong: this guest is already here, so there is no arrival to move."
    nack, _ = wire.send(CONC, M.GuestExpect(guest_ref="V-02", arrive_ms=wire.now))
    assert nack.code == "E_FORBIDDEN"


# --- on screen: the desk's u, through a real hub -----------------------------------------------------------

MOVED = {"zh": "10:45（已改）", "en": "10:45 (moved)"}


@pytest.mark.screen
@pytest.mark.timeout(90)
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_the_desk_moves_an_expected_arrival_and_the_guest_list_shows_it(event_dir, lang):
    from console.desk.screens.readiness import GuestsScreen
    from console.desk.screens.vip_actions import ExpectModal
    from console.event import guests as guest_file
    from console.hub.server import run_in_thread
    from tests.test_desk_app import desk, logged
    from tests.desk_support import wait_for
    from tests.station_support import type_text

    guest_file.write_json(event_dir.root / "guests.json", LIST, "guests.xlsx")
    handle = run_in_thread(event_dir)
    try:
        async with desk(event_dir, handle, lang=lang) as (app, pilot):
            await wait_for(pilot, lambda: app.current_view.state.guests["list"], what="the guest list")
            await pilot.press("g")
            assert isinstance(app.screen, GuestsScreen)
            table = app.screen.query_one("#guests-list")
            await wait_for(pilot, lambda: table.row_count == len(LIST), what="the guest list on screen")
            table.select_key("V-02")                                 # 李四, level B, not here yet
            await pilot.pause()
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, ExpectModal), what="the modal")
            await type_text(pilot, "25:00")
            await pilot.press("enter")                              # not a time: said, nothing sent
            assert isinstance(app.screen, ExpectModal)
            assert {"zh": "请按“时:分”填写时间", "en": "Write the time as HH:MM"}[lang] in str(
                app.screen.query_one("#dialog-error").render())
            app.screen.query_one("#time").value = ""
            await type_text(pilot, "10:45")
            await pilot.press("tab")
            await pilot.press(*"flight")
            await pilot.press("enter")
            await wait_for(pilot, lambda: logged(event_dir, "guest_expect"), what="the change logged")
            (body,) = logged(event_dir, "guest_expect")
            event = event_dir.load()
            assert body == {"guest_ref": "V-02", "arrive_ms": event.at_ms("10:45"), "note": "flight"}
            await wait_for(pilot, lambda: any(MOVED[lang] in c.plain for c in table._cells.get("V-02", [])),
                           what="the new time on the guest list")
    finally:
        handle.stop()


def modal_snapshot(snap_compare, lang: str, size: tuple[int, int], key: str) -> bool:
    """The guest screen of the duty morning (tests/test_sendoff_screens.py), then `key` opens a VIP form."""
    from tests.desk_support import settled
    from tests.test_sendoff_screens import guest_desk
    return snap_compare(guest_desk(lang), run_before=settled("g", key), terminal_size=size)


@pytest.mark.screen
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_expected_arrival_modal_snapshot(snap_compare, lang, size):
    assert modal_snapshot(snap_compare, lang, size, "u")


@pytest.mark.pure
@pytest.mark.parametrize("lang, words", [("zh", "预计到达时间变更 李四 10:45"), ("en", "Expected arrival moved 李四 10:45")])
def test_the_timeline_names_the_guest_and_the_new_time(wire: Wire, event_dir, lang: str, words: str) -> None:  # noqa: F811
    rec = {"type": "guest_expect", "body": {"guest_ref": "V-02", "arrive_ms": event_dir.load().at_ms("10:45"), "note": ""}}
    assert fmt.describe(rec, wire.ingest.state, lang).plain == words
