"""Contact and escort phone numbers in the guest list (联系电话, 陪同电话): read from a spreadsheet (Excel's number
cells included), kept with the guest, and said in the VIP hand-off so a post can call, in both languages."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.event import guests
from protocols import messages as M
from tests.test_guests_handoff import GATE, LIST, Wire, guest, wire  # noqa: F401  (the fixture)
from tests.test_guests_import import DATE, TZ, write_csv, write_xlsx

pytestmark = pytest.mark.pure

HEAD = ["编号", "姓名", "接待级别", "人数", "车牌", "联系电话", "陪同电话"]
ROWS = [["V-01", "张三", "A", "3", "湘A·12345", "13800138000", "0731-88886666"],
        ["V-02", "李四", "B", "2", "", "", ""]]


@pytest.mark.parametrize("write", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_phones_are_read_from_the_list(tmp_path: Path, write) -> None:
    rows = [HEAD] + [list(r) for r in ROWS]
    if write is write_xlsx:
        rows[1][5] = 13800138000.0                                  # Excel keeps a long number as a float
    zhang, li = guests.load(write(tmp_path / ("g.xlsx" if write is write_xlsx else "g.csv"), rows), DATE, TZ)
    assert (zhang["phone"], zhang["escort_phone"]) == ("13800138000", "0731-88886666")
    assert (li["phone"], li["escort_phone"]) == ("", "")
    english = [["Name", "Contact phone", "Escort phone"], ["Ann Lee", "+86 138 0013 8000", "139"]]
    (ann,) = guests.load(write_csv(tmp_path / "en.csv", english), DATE, TZ)
    assert (ann["phone"], ann["escort_phone"]) == ("+86 138 0013 8000", "139")


def test_a_phone_too_long_is_named_with_its_row_and_column(tmp_path: Path) -> None:
    rows = [HEAD, ["V-01", "张三", "A", "3", "", "1" * 33, ""]]
    with pytest.raises(guests.GuestFileError) as err:
        guests.load(write_csv(tmp_path / "g.csv", rows), DATE, TZ)
    (e,) = err.value.errors
    assert (e.row, e.column) == (2, "F (联系电话)") and "at most 32 characters" in e.en


def test_the_hand_off_says_whom_to_call(event_dir) -> None:
    w = Wire(event_dir, event_dir.load().doors_open_ms - 6 * 3600_000)
    listed = [{**guest("V-01", "张三", "A", 3, plate="湘A·12345"), "phone": "13800138000",
               "escort_phone": "0731-88886666"}] + LIST[1:]
    w.ingest.load_guests(listed, "guests.xlsx", w.now)
    try:
        _, out = w.send(GATE, M.CarIn(plate="湘A12345", vip=True))
        (first, *_) = w.notices(out, "V-01")
        assert "联系电话：13800138000；陪同电话：0731-88886666" in first["text"]
        assert "contact phone: 13800138000; escort's phone: 0731-88886666" in first["text_en"]
        _, out = w.send(GATE, M.CarIn(plate="粤B00000"))              # a guest without phones says nothing of them
        assert not any("电话" in n["text"] for n in w.notices(out))
    finally:
        w.store.close()
