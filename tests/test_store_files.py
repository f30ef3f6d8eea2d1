"""The log's file under a running writer: locked as itself, never written once deleted or replaced, checked
at open, owner-only, and every SQLite failure a StoreError with a sentence (real files, real processes)."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.hub.store import Store, StoreError


def ev(station: str, seq: int, epoch: str = "e1") -> tuple:
    return (station, epoch, seq, "car_in", 1_000 + seq, 2_000 + seq, '{"count":1}')


def holder(db: Path) -> subprocess.Popen:
    """Another process holding the log as its writer until its stdin closes."""
    code = textwrap.dedent(f"""
        import sys
        from console.hub.store import Store
        s = Store({str(db)!r}, writer=True)
        print("ready", flush=True)
        sys.stdin.readline()
        s.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.wire
def test_the_lock_is_the_log_itself_and_a_clean_close_leaves_only_the_log(tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    (tmp_path / "event.db.lock").write_text("")      # what earlier versions left behind for good
    proc = holder(db)
    try:
        assert not (tmp_path / "event.db.lock").exists()
        with pytest.raises(StoreError) as caught:
            Store(db, writer=True)
        assert caught.value.key == "in_use" and "already open by another copy of the system" in str(caught.value)
        assert "已被另一个系统进程打开" in caught.value.sentence("zh")
        reader = Store(db)                              # readers (report, archive) are never refused
        assert reader.count() == 0
        reader.close()
    finally:
        proc.stdin.close()
        assert proc.wait(10) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["event.db"]
    Store(db, writer=True).close()                      # free again once the holder is gone


@pytest.mark.wire
def test_a_second_writer_in_the_same_process_is_refused_without_touching_the_first(tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    first = Store(db, writer=True)
    try:
        first.append_batch([ev("gate-1", 1)])
        with pytest.raises(StoreError, match="already open"):
            Store(db, writer=True)
        # The refusal opened no second descriptor, so the first writer's SQLite read lock still holds
        # (closing one would have dropped it): another process cannot take the log exclusively.
        probe = ("import sqlite3, sys\n"
                 "c = sqlite3.connect(sys.argv[1], timeout=0)\n"
                 "c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
                 "try:\n    c.execute('BEGIN EXCLUSIVE')\nexcept sqlite3.OperationalError as e:\n    print(e)\n"
                 "else:\n    print('taken')\n")
        done = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, text=True, timeout=30)
        assert done.stdout.strip() == "database is locked", done
        assert first.append_batch([ev("gate-1", 2)]) == [2]
    finally:
        first.close()


@pytest.mark.parametrize("how", ["deleted", "replaced", "wal deleted"])
def test_a_log_deleted_or_replaced_under_the_writer_is_never_written(tmp_path: Path, how: str) -> None:
    db = tmp_path / "event.db"
    store = Store(db, writer=True)
    try:
        assert store.append_batch([ev("gate-1", 1)]) == [1]
        aside = tmp_path / "aside"
        aside.mkdir()
        if how == "deleted":
            os.rename(db, aside / "event.db")
        elif how == "replaced":
            os.rename(db, aside / "event.db")
            other = Store(tmp_path / "other.db", writer=True)
            other.close()
            os.rename(tmp_path / "other.db", db)
        else:
            os.rename(Path(f"{db}-wal"), aside / "event.db-wal")
        with pytest.raises(StoreError) as caught:
            store.append_batch([ev("gate-1", 2)])
        assert caught.value.key == ("replaced" if how == "replaced" else "gone")
        assert (store.failures, store.writes, store.next_gseq) == (1, 1, 2) and store.last_error is caught.value
        # Put back, the very file is written again: the check is of identity, not of a name.
        if how == "replaced":
            os.rename(db, tmp_path / "other.db")
        for moved in aside.iterdir():
            os.rename(moved, tmp_path / moved.name)
        assert store.append_batch([ev("gate-1", 2)]) == [2]
        assert (store.failures, store.writes) == (1, 2)
    finally:
        store.close()
    check = Store(db)
    assert [r.seq for r in check.since(0)] == [1, 2]
    check.close()


def _damage_rejections(db: Path) -> None:
    """Overwrite the root pages of the rejections table and its index (the log closed, so all is in the file)."""
    conn = sqlite3.connect(str(db))
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = [r for (r,) in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'rejections'")]
    conn.close()
    with open(db, "r+b") as f:
        for root in roots:
            f.seek((root - 1) * size)
            f.write(b"\xee" * size)


def _filled(db: Path) -> None:
    from console.hub.store import Rejection
    store = Store(db, writer=True)
    store.append_batch([ev("gate-1", i) for i in range(1, 50)],
                       [Rejection("gate-1", "e1", 50, "car_in", "E_SCHEMA", "bad", "坏", 1)])
    store.close()


def test_a_damaged_log_is_refused_at_open_and_a_damaged_page_read_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    _filled(db)
    _damage_rejections(db)
    with pytest.raises(StoreError) as caught:
        Store(db, writer=True)                       # PRAGMA quick_check at the writer's open
    assert caught.value.key == "damaged" and "integrity check" in str(caught.value)
    reader = Store(db)                               # a reader does not check the whole file first ...
    try:
        assert reader.count() == 49
        with pytest.raises(StoreError) as caught:    # ... and a damaged page is a domain error, not sqlite3's
            reader.find_rejection("gate-1", "e1", 50)
        assert caught.value.key == "read_failed" and "the file is damaged" in str(caught.value)
        assert "文件已损坏" in caught.value.sentence("zh")
        assert reader.failures == 1
    finally:
        reader.close()
    Store(tmp_path / "fresh.db", writer=True).close()   # and the refusal left no lock behind in this process


def test_the_log_and_its_wal_are_owner_only_and_an_old_log_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "new" / "event.db"
    store = Store(db, writer=True)
    try:
        store.append_batch([ev("gate-1", 1)])
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        store.close()
    old = tmp_path / "old.db"
    sqlite3.connect(str(old)).close()
    os.chmod(old, 0o644)
    Store(old, writer=True).close()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_log_that_cannot_be_opened_says_why_in_words(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "event.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"\x01" * 4000)
    with pytest.raises(StoreError) as caught:
        Store(folder / "event.db", writer=True)
    assert caught.value.key == "open_failed"
    assert "Error" not in str(caught.value) and "sqlite3" not in str(caught.value)
