"""The passive hub's copy of the active one's log: pages then the feed, every gap recovered, the fork point; and a copy through a real log giving the same summary as the original."""
from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from console.core.log_copy import FOLLOWING, PAGING, Copy, LogCopy, fork_point
from console.event.folder import EventFolder
from console.hub.store import Rejection, Row, Store, StoreError
from console.report import files as report_io
from protocols.messages import Committed
from tests.report_fixture import make_folder

pytestmark = pytest.mark.pure


def ev(g: int, cut: bool = False) -> Committed:
    return Committed(gseq=g, station="gate-1", epoch="e", seq=g, type="car_in", station_ms=g, recv_ms=g,
                     body={"plate": "", "vip": False, "count": 1}, cut=cut)


def gseqs(copy: Copy) -> list[int]:
    return [e.gseq for e in copy.events]


def following(at: int = 3) -> LogCopy:
    c = LogCopy(0, 0)
    assert c.tick(0).ask == (0, 0)
    c.page([ev(g) for g in range(1, at + 1)], [], more=False, now_ms=1)
    assert c.state == FOLLOWING and c.gseq == at
    return c


def test_pages_then_the_feed_buffered_meanwhile() -> None:
    c = LogCopy(2, 1)
    assert c.state == PAGING and c.tick(0).ask == (2, 1)
    assert not c.tick(4_999)                                     # asked, not yet due again
    assert not c.feed(ev(6), 10) and not c.feed(ev(7), 11)       # the feed while paging: held
    first = c.page([ev(1), ev(2), ev(3), ev(4)], [(2, "r2")], more=True, now_ms=20)
    assert gseqs(first) == [3, 4] and first.rejections == [(2, "r2")] and first.ask == (4, 2)
    last = c.page([ev(5), ev(6)], [], more=False, now_ms=30)
    assert gseqs(last) == [5, 6, 7] and last.ask is None         # 7 came from the held feed
    assert c.state == FOLLOWING and (c.gseq, c.rejection) == (7, 2)
    assert gseqs(c.feed(ev(8), 40)) == [8] and not c.feed(ev(8), 41)   # a repeat is dropped


def test_an_unanswered_page_is_asked_again() -> None:
    c = LogCopy(0, 0, retry_ms=5000)
    assert c.tick(100).ask == (0, 0)
    assert c.tick(5_099).ask is None
    assert c.tick(5_100).ask == (0, 0)


def test_a_page_that_does_not_join_is_asked_again_from_the_end() -> None:
    c = LogCopy(3, 0)
    c.tick(0)
    out = c.page([ev(6), ev(7)], [], more=False, now_ms=5)       # 4 and 5 missing
    assert out.events == [] and out.ask == (3, 0) and c.state == PAGING


@pytest.mark.parametrize("bad", [ev(5), ev(4, cut=True)])
def test_a_gap_or_a_cut_event_on_the_feed_asks_for_pages(bad: Committed) -> None:
    c = following(3)
    out = c.feed(bad, 50)
    assert out.events == [] and out.ask == (3, 0) and c.state == PAGING and c.gaps == 1
    rest = c.page([ev(4)], [], more=False, now_ms=60)
    assert gseqs(rest) == ([4, 5] if not bad.cut else [4])       # a held event joins after the page


def test_the_peer_ahead_asks_for_what_the_feed_lost() -> None:
    c = following(3)
    assert not c.peer_at(3, 0, 100)                              # in step
    assert not c.peer_at(4, 0, 100)                              # ahead: the feed may still bring it
    assert not c.tick(1_099)
    assert c.peer_at(4, 0, 1_100).ask == (3, 0)                  # still ahead after behind_ms: lost
    c2 = following(3)
    assert c2.peer_at(3, 2, 100).ask == (3, 0)                   # rejections never travel on the feed


def test_a_full_buffer_is_dropped_and_paged_instead() -> None:
    c = LogCopy(0, 0, buffer_max=3)
    c.tick(0)
    for g in range(10, 20):
        c.feed(ev(g), 1)                                         # never more than 3 held: 19 is left
    out = c.page([ev(g) for g in range(1, 10)], [], more=False, now_ms=2)
    assert gseqs(out) == list(range(1, 10)) and out.ask == (9, 0)   # 10..18 are gone: ask for them
    rest = c.page([ev(g) for g in range(10, 19)], [], more=False, now_ms=3)
    assert gseqs(rest) == list(range(10, 20)) and rest.ask is None and c.state == FOLLOWING


def test_restart_after_a_failed_write_carries_on_from_the_log() -> None:
    c = following(5)
    c.restart(3, 0)
    assert c.state == PAGING and c.tick(10).ask == (3, 0)


@pytest.mark.parametrize(("own", "theirs", "point"), [
    ([(1, 0)], [(1, 0)], None),                                  # same era: one log a prefix of the other
    ([(1, 0)], [(1, 0), (2, 120)], 120),                         # the primary back after the backup took over at 120
    ([(1, 0), (2, 120)], [(1, 0)], 120),                         # seen from the other side
    ([(1, 0), (2, 120)], [(1, 0), (2, 118)], 118),               # two takeovers from different ends
    ([], [(1, 0)], 0),
])
def test_fork_point(own: list[tuple[int, int]], theirs: list[tuple[int, int]], point: int | None) -> None:
    assert fork_point(own, theirs) == point


# --- through real logs ------------------------------------------------------------------------------------

def as_committed(row: Row, cut: bool = False) -> Committed:
    return Committed(gseq=row.gseq, station=row.station, epoch=row.epoch, seq=row.seq, type=row.type,
                     station_ms=row.station_ms, recv_ms=row.recv_ms, body=row.body, cut=cut)


def as_row(e: Committed) -> Row:
    return Row(e.gseq, e.station, e.epoch, e.seq, e.type, e.station_ms, e.recv_ms, e.body)


def tables(path: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT * FROM events ORDER BY gseq").fetchall(),
                conn.execute("SELECT * FROM rejections ORDER BY id").fetchall())


def test_a_copy_through_pages_and_a_lossy_feed_gives_the_same_log_and_summary(tmp_path: Path) -> None:
    primary = make_folder(tmp_path / "primary")
    backup = EventFolder(tmp_path / "backup")
    backup.root.mkdir()
    shutil.copy(primary.toml, backup.toml)
    source = Store(primary.db(False))
    rows = list(source.since(0))
    rejections = source.rejections_since(0)
    assert len(rows) > 20 and rejections
    copy_log = Store(backup.db(False), writer=True)
    copy = LogCopy(0, 0)
    rng = random.Random(19)
    now, history = 0, len(rows) // 2     # the first half is history (pages), the rest comes on the feed

    def do(order: Copy) -> None:
        nonlocal now
        copy_log.append_copy([as_row(e) for e in order.events], order.rejections)
        if order.ask is not None:           # the active hub answers the request with one page of 4
            after, after_r = order.ask
            page = [as_committed(r) for r in rows[after:after + 4] if r.gseq <= history]
            rej = [(rid, r) for rid, r in rejections if rid > after_r][:2]
            more = bool(page) and page[-1].gseq < history or len(rej) == 2
            now += 1
            do(copy.page(page, rej, more, now))

    do(copy.tick(now))
    for row in rows[history:]:
        now += 1
        history = row.gseq                 # committed on the active hub: pages may now bring it
        if rng.random() < 0.2:
            continue                       # lost on the feed
        do(copy.feed(as_committed(row, cut=rng.random() < 0.05), now))
        if rng.random() < 0.3:
            do(copy.peer_at(row.gseq, rejections[-1][0], now))
    now += 2_000
    do(copy.peer_at(rows[-1].gseq, rejections[-1][0], now))
    do(copy.tick(now))
    copy_log.close()
    source.close()
    assert copy.gaps > 0
    assert tables(backup.db(False)) == tables(primary.db(False))
    assert report_io.read_summary(backup)[0] == report_io.read_summary(primary)[0]


def test_a_copy_that_does_not_join_commits_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "event.db", writer=True)
    store.append_copy([as_row(ev(1)), as_row(ev(2))], [(1, Rejection("gate-1", "e", 9, "car_in", "E_SCHEMA", "r", "理", 5))])
    with pytest.raises(StoreError) as caught:
        store.append_copy([as_row(ev(4))])
    assert caught.value.key == "copy.gap" and "3" in caught.value.sentence("zh")
    assert store.next_gseq == 3 and store.count() == 2 and store.last_rejection_id() == 1
    store.close()
