"""A hub that starts again reads the guest file only when it is not the one whose list the log holds."""
from __future__ import annotations

import csv
import io
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from console.cli import main
from console.event import guests as guest_file
from console.event.folder import EventFolder
from console.hub.server import Hub
from tests.wire import quiet_endpoints

READS: list[Path] = []   # the guest files read (and checked) since the last import
HEAD = ["编号", "姓名", "单位", "接待级别", "人数", "预计到达", "航班/车次", "陪同", "车牌", "特殊需求", "备注"]


def import_list(folder: EventFolder, tmp: Path, names: list[str]) -> None:
    sheet = tmp / f"guests-{len(names)}.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEAD)
        for i, name in enumerate(names):
            w.writerow([f"G-{i:03d}", name, "单位", "B", 1, "10:00", "", "", f"湘A·{i:05d}", "", ""])
    assert main(["guests", "import", str(folder.root), str(sheet)]) == 0
    READS.clear()   # what the import itself read


def start_and_check(folder: EventFolder) -> list[str]:
    """A hub started on the folder, its guest check run as at its start; the names its picture then holds."""
    hub = Hub(folder, out=io.StringIO())
    try:
        hub.bind()
        hub.check_guests()
        return [g["name"] for g in hub.ingest.state.guests["list"].values()]
    finally:
        hub.close()


def guest_lists_logged(folder: EventFolder) -> int:
    with closing(sqlite3.connect(f"file:{folder.db()}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE type = 'guest_list'").fetchone()[0]


def test_a_restart_reads_the_guest_file_only_when_the_log_does_not_hold_its_list(event_dir, tmp_path,
                                                                                 monkeypatch) -> None:
    quiet_endpoints(event_dir)
    load = guest_file.load
    monkeypatch.setattr(guest_file, "load", lambda path, *a: READS.append(path) or load(path, *a))

    import_list(event_dir, tmp_path, ["张三", "李四", "王五"])
    assert start_and_check(event_dir) == ["张三", "李四", "王五"]
    assert (len(READS), guest_lists_logged(event_dir)) == (1, 1)           # read, checked, logged

    assert start_and_check(event_dir) == ["张三", "李四", "王五"]            # from the log alone
    assert (len(READS), guest_lists_logged(event_dir)) == (1, 1)

    stored = event_dir.root / "guests.json"
    os.utime(stored, ns=(stored.stat().st_atime_ns, stored.stat().st_mtime_ns + 10**9))
    assert start_and_check(event_dir) == ["张三", "李四", "王五"]            # the same bytes, a new time
    assert len(READS) == 1

    import_list(event_dir, tmp_path, ["张三", "李四", "王五", "赵六"])          # imported while the hub was down
    assert start_and_check(event_dir) == ["张三", "李四", "王五", "赵六"]
    assert (len(READS), guest_lists_logged(event_dir)) == (1, 2)
    assert start_and_check(event_dir) == ["张三", "李四", "王五", "赵六"]
    assert len(READS) == 1

    stored.write_bytes(stored.read_bytes().replace("赵六".encode(), "钱七".encode()))   # edited by hand
    assert start_and_check(event_dir) == ["张三", "李四", "王五", "钱七"]
    assert (len(READS), guest_lists_logged(event_dir)) == (2, 3)
