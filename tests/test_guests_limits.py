"""Guest files made to hurt: each is refused with a sentence in bounded memory, nothing but GuestFileError leaves
the reader, a sheet's declared size is never trusted, and a hub given such a file keeps its list, raises an
alarm and still (re)starts. Real .csv and .xlsx files written here, real hubs."""
from __future__ import annotations

import json
import re
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from console.event import guests
from console.event.folder import EventFolder
from tests import hubproc
from tests.wire import wait_for

DATE = "2026-12-05"
TZ = ZoneInfo("Asia/Shanghai")
MIB = 1 << 20


def xlsx(path: Path, rows: list[list], edit=None) -> Path:
    """A workbook saved by openpyxl, its parts then edited as bytes: `edit(name, data) -> data`."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            data = src.read(name)
            out.writestr(name, edit(name, data) if edit else data)
    plain.unlink()
    return path


def in_sheet(fn):
    return lambda name, data: fn(data) if name.startswith("xl/worksheets/") else data


def refused(path: Path, key: str) -> guests.GuestError:
    """The one error reading `path` gives, checked to be `key`'s sentence, with Python's peak memory bounded."""
    tracemalloc.start()
    try:
        with pytest.raises(guests.GuestFileError) as caught:
            guests.load(path, DATE, TZ)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * MIB, f"{peak / MIB:.0f} MiB to refuse {path.name}"
    (err,) = caught.value.errors
    start = guests.err(0, "", key).en.split("{")[0][:20]
    assert err.en.startswith(start) or start in err.en, (err, key)
    assert "Error" not in err.en and caught.value.path == str(path)
    return err


def test_a_csv_cell_of_200_kb_is_refused_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("姓名,备注\n张三,短\n李四," + "长" * 200_000 + "\n", "utf-8")
    assert refused(path, "csv_broken").row == 3


def test_a_workbook_without_a_sheet_is_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "none.xlsx", [["姓名"], ["张三"]],
                lambda name, data: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data) if name == "xl/workbook.xml"
                else data)
    refused(path, "no_sheet")


def test_a_sheet_claiming_the_whole_grid_with_a_far_cell_is_refused_early(tmp_path: Path) -> None:
    # A1:XFD1048576 declared, and one cell at the bottom: trusted, that was a million rows of 16,384 cells.
    far = b'<row r="1048576"><c r="B1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    path = xlsx(tmp_path / "grid.xlsx", [["姓名"], ["张三"]], in_sheet(
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d).replace(b"</sheetData>", far)))
    refused(path, "too_many_rows")


def test_a_hundred_thousand_rows_stop_at_the_cap(tmp_path: Path) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>g%d</t></is></c></row>' % (i, i, i)
                    for i in range(2, 100_002))
    path = xlsx(tmp_path / "many.xlsx", [["姓名"]], in_sheet(lambda d: d.replace(b"</sheetData>", rows + b"</sheetData>")))
    refused(path, "too_many_rows")


def test_a_value_past_the_columns_is_refused_and_empty_formatting_is_not(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "wide.xlsx", [["姓名"], ["张三"]], in_sheet(lambda d: d.replace(
        b"</sheetData>", b'<row r="3"><c r="ZZ3" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')))
    assert refused(path, "too_many_columns").row == 3
    styled = xlsx(tmp_path / "styled.xlsx", [["姓名"], ["张三"]], in_sheet(lambda d: d.replace(
        b"</sheetData>", b'<row r="3"><c r="XFD3" s="0"/></row></sheetData>')))
    assert [g["name"] for g in guests.load(styled, DATE, TZ)] == ["张三"]


def test_a_part_that_expands_past_the_limit_is_not_read(tmp_path: Path) -> None:
    def bomb(name: str, data: bytes) -> bytes:
        return data + b" " * (guests.MAX_PART_BYTES + 1) if name == "xl/styles.xml" else data
    refused(xlsx(tmp_path / "bomb.xlsx", [["姓名"], ["张三"]], bomb), "part_too_big")


def test_a_csv_or_json_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    for name in ("huge.csv", "guests.json"):
        path = tmp_path / name
        with open(path, "wb") as f:
            f.truncate(guests.MAX_FILE_BYTES + 1)
        refused(path, "file_too_big")


def test_a_stale_small_dimension_never_hides_rows(tmp_path: Path) -> None:
    # The sheet says A1:B2, the rows go on: every guest is read (the declared size used to cut them off).
    path = xlsx(tmp_path / "stale.xlsx", [["姓名"], ["张三"], ["李四"], ["王五"]],
                in_sheet(lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:A2"', d)))
    assert [g["name"] for g in guests.load(path, DATE, TZ)] == ["张三", "李四", "王五"]


# --- a hub given such a file ---------------------------------------------------------------------------

def _guest_events(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(str(db))
    try:
        return [(t, json.loads(b).get("code") or json.loads(b).get("digest")) for t, b in conn.execute(
            "SELECT type, body FROM events WHERE type IN ('guest_list', 'alarm') ORDER BY gseq")]
    finally:
        conn.close()


@pytest.mark.wire
def test_a_hub_keeps_its_list_when_the_file_turns_bad_and_restarts_on_a_bad_file(event_dir: EventFolder,
                                                                                tmp_path: Path) -> None:
    text = event_dir.toml.read_text("utf-8")
    event_dir.toml.write_text('guests = "list.csv"\n' + text, "utf-8")   # a top-level key, before [event]
    listed = event_dir.root / "list.csv"
    listed.write_text("姓名,车牌\n张三,湘A·12345\n", "utf-8")
    db = event_dir.db()
    with hubproc.hub(event_dir, tmp_path) as (proc, _):
        wait_for(lambda: [e for e in _guest_events(db) if e[0] == "guest_list"], 20, "the list to load")
        listed.write_text("姓名,备注\n张三," + "长" * 200_000 + "\n", "utf-8")
        wait_for(lambda: ("alarm", "guest_list") in _guest_events(db), 20, "the guest_list alarm")
        assert proc.poll() is None
        assert [e[0] for e in _guest_events(db)] == ["guest_list", "alarm"]   # the old list stays the list
        hubproc.stop(proc)
    with hubproc.hub(event_dir, tmp_path) as (proc, _):   # and a hub (re)starts with the bad file named
        wait_for(lambda: _guest_events(db).count(("alarm", "guest_list")) == 2, 20, "the alarm again")
        hubproc.stop(proc)
    said = (tmp_path / "hub.out").read_text("utf-8")     # the hub's live log, in the event's language (issue 17)
    assert "来宾名单 list.csv 已载入：1 组来宾" in said and f"来宾名单 {listed} 未载入：" in said, said
