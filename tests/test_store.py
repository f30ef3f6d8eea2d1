"""The event log on a real SQLite file: durable settings, gap-free global sequence, keys kept
unique by the database itself, all-or-nothing batches, one writer, live and rehearsal apart."""
from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.hub.store import Rejection, Store, StoreError, dumps

NOW = 1_796_434_867_250


def ev(station: str, seq: int, type_: str = "guest_arrival", body: dict | None = None,
       epoch: str = "e1") -> tuple[str, str, int, str, int, int, str]:
    return (station, epoch, seq, type_, NOW + seq, NOW + seq + 5, dumps(body if body is not None else {"count": seq}))


def rej(station: str, seq: int, code: str = "E_SCHEMA", epoch: str = "e1") -> Rejection:
    return Rejection(station=station, epoch=epoch, seq=seq, type="guest_arrival", code=code,
                     reason=f"The count is wrong ({seq}).", reason_zh=f"“人数/数量”填写有误（{seq}）",
                     recv_ms=NOW, detail="body.count")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "event.db"


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path, writer=True)
    yield s
    s.close()


def test_migrations_create_the_tables(store: Store) -> None:
    assert {"events", "rejections", "meta"} <= set(store.db.table_names())
    cols = {r[1] for r in store.conn.execute("PRAGMA table_info(events)")}
    assert cols == {"gseq", "station", "epoch", "seq", "type", "station_ms", "recv_ms", "body"}
    indexes = {r[1]: r[2] for r in store.conn.execute("PRAGMA index_list(events)")}
    assert indexes.get("events_key") == 1   # unique
    assert [r[2] for r in store.conn.execute("PRAGMA index_info(events_key)")] == ["station", "epoch", "seq"]
    assert store.get_meta("mode") == "live"
    assert len(store.get_meta("hub_epoch") or "") == 16
    assert store.integrity_ok()


def test_wal_and_full_sync_are_really_set(store: Store, db_path: Path) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
    reader = Store(db_path)
    try:
        assert reader.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        reader.close()
    plain = sqlite3.connect(db_path)   # WAL is a property of the file, seen by any connection
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


def test_append_batch_assigns_consecutive_gseq(store: Store) -> None:
    assert store.next_gseq == 1
    assert store.append_batch([ev("gate-1", 1), ev("gate-1", 2), ev("lobby-1", 1)]) == [1, 2, 3]
    assert store.append_batch([]) == []
    assert store.append_batch([ev("gate-1", 3), ev("gate-2", 1)]) == [4, 5]
    assert store.next_gseq == 6 and store.count() == 5
    rows = list(store.since(0))
    assert [r.gseq for r in rows] == [1, 2, 3, 4, 5]
    assert [(r.station, r.seq) for r in rows] == [("gate-1", 1), ("gate-1", 2), ("lobby-1", 1),
                                                   ("gate-1", 3), ("gate-2", 1)]
    assert rows[0].body == {"count": 1} and rows[0].station_ms == NOW + 1 and rows[0].recv_ms == NOW + 6


def test_database_itself_refuses_a_second_key(store: Store) -> None:
    store.append_batch([ev("gate-1", 1)])
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO events (gseq, station, epoch, seq, type, station_ms, recv_ms, body)"
                           " VALUES (99, 'gate-1', 'e1', 1, 'guest_arrival', 0, 0, '{}')")


def test_duplicate_key_fails_the_whole_batch(store: Store) -> None:
    assert store.append_batch([ev("gate-1", 1), ev("gate-1", 2)], [rej("gate-1", 3)]) == [1, 2]
    before_rows, before_rej = list(store.since(0)), store.rejections()
    batch = [ev("lobby-1", 1), ev("gate-1", 2, body={"count": 99}), ev("gate-2", 1)]
    with pytest.raises(StoreError, match="Could not write to the log"):
        store.append_batch(batch, [rej("lobby-1", 2)])
    assert list(store.since(0)) == before_rows           # nothing of that batch, not even the first row
    assert store.rejections() == before_rej              # nor its rejections
    assert store.find("lobby-1", "e1", 1) is None
    assert store.next_gseq == 3
    assert store.append_batch([ev("lobby-1", 1)]) == [3]   # and no hole in the sequence afterwards
    assert store.integrity_ok()


def test_duplicate_inside_one_batch_fails_it(store: Store) -> None:
    with pytest.raises(StoreError):
        store.append_batch([ev("gate-1", 1), ev("gate-1", 1, body={"count": 2})])
    assert store.count() == 0 and store.next_gseq == 1
    assert store.append_batch([ev("gate-1", 1)]) == [1]


def test_same_seq_in_another_epoch_or_station_is_another_key(store: Store) -> None:
    assert store.append_batch([ev("gate-1", 1), ev("gate-1", 1, epoch="e2"), ev("gate-2", 1)]) == [1, 2, 3]


def test_rejections_are_stored(store: Store) -> None:
    store.append_batch([], [rej("gate-1", 1), rej("gate-1", 0, code="E_VERSION")])
    stored = store.rejections()
    assert stored == [rej("gate-1", 1), rej("gate-1", 0, code="E_VERSION")]
    assert stored[0].reason_zh == "“人数/数量”填写有误（1）" and stored[0].detail == "body.count"
    assert store.find_rejection("gate-1", "e1", 1) == ("E_SCHEMA", "The count is wrong (1).", "“人数/数量”填写有误（1）")
    assert store.find_rejection("gate-1", "e1", 2) is None
    assert store.count() == 0


def test_find_returns_gseq_type_and_canonical_body(store: Store) -> None:
    store.append_batch([ev("gate-1", 1, body={"note": "湘A·12345", "count": 1})])
    assert store.find("gate-1", "e1", 1) == (1, "guest_arrival", '{"count":1,"note":"湘A·12345"}')
    assert store.find("gate-1", "e1", 2) is None


def test_last_seqs_over_events_and_rejections(store: Store) -> None:
    store.append_batch([ev("gate-1", 1), ev("gate-1", 2), ev("gate-2", 1), ev("gate-1", 1, epoch="e2")],
                       [rej("gate-1", 3), rej("gate-2", 0), rej("lobby-1", 4)])
    assert store.last_seqs() == {("gate-1", "e1"): 3, ("gate-2", "e1"): 1, ("gate-1", "e2"): 1,
                                 ("lobby-1", "e1"): 4}
    store.append_batch([ev("gate-1", 4)])
    assert store.last_seqs()[("gate-1", "e1")] == 4


def test_since_reads_after_a_gseq_in_any_batch_size(store: Store) -> None:
    store.append_batch([ev("gate-1", i) for i in range(1, 12)])
    assert [r.gseq for r in store.since(8)] == [9, 10, 11]
    assert [r.gseq for r in store.since(0, batch=3)] == list(range(1, 12))
    assert list(store.since(11)) == []


@pytest.mark.parametrize("first,second", [(False, True), (True, False)])
def test_live_and_rehearsal_logs_never_mix(tmp_path: Path, first: bool, second: bool) -> None:
    path = tmp_path / "x.db"
    s = Store(path, drill=first, writer=True)
    s.append_batch([ev("gate-1", 1)])
    assert s.get_meta("mode") == ("rehearsal" if first else "live")
    s.close()
    with pytest.raises(StoreError, match="cannot be opened as a"):
        Store(path, drill=second, writer=True)
    with pytest.raises(StoreError, match="cannot be opened as a"):
        Store(path, drill=second)
    again = Store(path, drill=first, writer=True)   # the refusal released the lock and changed nothing
    assert again.count() == 1 and again.get_meta("mode") == ("rehearsal" if first else "live")
    again.close()


def test_second_writer_is_refused_and_a_reader_is_not(store: Store, db_path: Path) -> None:
    store.append_batch([ev("gate-1", 1)])
    with pytest.raises(StoreError, match="already open"):
        Store(db_path, writer=True)
    reader = Store(db_path)
    assert reader.count() == 1
    reader.close()
    store.close()
    after = Store(db_path, writer=True)
    assert after.count() == 1
    after.close()


@pytest.mark.wire
def test_writer_lock_held_by_another_process_then_freed_by_its_death(db_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from console.hub.store import Store
        s = Store({str(db_path)!r}, writer=True)
        print("ready", flush=True)
        sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="already open"):
            Store(db_path, writer=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    s = Store(db_path, writer=True)   # kill -9 left the lock file, but not the lock
    s.close()


def test_data_survives_close_and_reopen(db_path: Path) -> None:
    s = Store(db_path, writer=True)
    hub_epoch = s.get_meta("hub_epoch")
    s.append_batch([ev("gate-1", 1, body={"note": "东门"}), ev("gate-1", 2)], [rej("gate-1", 3)])
    s.close()
    s = Store(db_path, writer=True)
    try:
        assert s.next_gseq == 3
        assert [r.body for r in s.since(0)] == [{"note": "东门"}, {"count": 2}]
        assert s.last_seqs() == {("gate-1", "e1"): 3}
        assert s.get_meta("hub_epoch") == hub_epoch
        assert s.append_batch([ev("gate-1", 4)]) == [3]
        assert s.integrity_ok()
    finally:
        s.close()


def test_not_a_database_is_a_store_error_and_frees_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "event.db"
    path.write_bytes(b"this is not an SQLite file " * 200)
    for _ in range(2):   # the second attempt would say "already open" if the lock had leaked
        with pytest.raises(StoreError, match="cannot be opened as an event log"):
            Store(path, writer=True)


def test_reader_of_a_new_file_sees_an_empty_log(tmp_path: Path) -> None:
    r = Store(tmp_path / "new.db")
    assert r.count() == 0 and list(r.since(0)) == [] and r.last_seqs() == {}
    r.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 command-line tool is not installed")
@pytest.mark.wire
def test_plain_sqlite3_tool_can_query_the_log(store: Store, db_path: Path) -> None:
    store.append_batch([ev("gate-1", 1, body={"note": "湘A·12345", "count": 2}), ev("gate-1", 2)],
                       [rej("gate-1", 3)])

    def query(sql: str) -> str:
        done = subprocess.run(["sqlite3", str(db_path), sql], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert query("select count(*) from events") == "2"
    assert query("select json_extract(body, '$.note') from events where gseq = 1") == "湘A·12345"
    assert query("select code from rejections") == "E_SCHEMA"
    assert query("pragma journal_mode") == "wal"
    assert query("pragma integrity_check") == "ok"
