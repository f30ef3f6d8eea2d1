"""The hub when its disk or its log fails: a full disk, a log deleted or replaced under it, a damaged page.

It never exits and never acks what it did not commit: reports get E_STORAGE (retry), heartbeats are
still answered, its own output may fail without it, one `storage` alarm covers the whole stretch and
one `storage_ok` marks the end. Real hubs (subprocesses where signals or a small disk matter), real
CURVE sockets on 127.0.0.1, real files; the full disk is a real size-limited tmpfs (tests/smallfs.py).
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

from console.event.folder import EventFolder
from console.hub.server import run_in_thread
from console.hub.storage import RECOVER_MS, StorageWatch
from console.hub.store import Rejection, Store, StoreError
from protocols.i18n import t
from tests import hubproc, smallfs
from tests.wire import Client, server_key, station_pair, wait_for


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def alarms(db: Path) -> list[str]:
    """The codes of the alarms in the log, in order."""
    conn = sqlite3.connect(str(db))
    try:
        return [json.loads(b)["code"] for (b,) in conn.execute(
            "SELECT body FROM events WHERE type = 'alarm' ORDER BY gseq")]
    finally:
        conn.close()


def alarms_inside(db: Path, scratch: Path) -> list[str]:
    """`alarms` of a log seen through /proc/<pid>/root: SQLite resolves that link to our own namespace's
    (empty) folder, so a copy of the file and its WAL is read instead (SQLite keeps what they commit)."""
    scratch.mkdir(exist_ok=True)
    for name in (db.name, f"{db.name}-wal"):
        (scratch / name).unlink(missing_ok=True)
        if (db.parent / name).exists():
            (scratch / name).write_bytes((db.parent / name).read_bytes())
    return alarms(scratch / db.name)


def report(client: Client, seq: int, timeout: float = 10.0):
    client.send("car_in", {"count": 1}, seq)
    return client.recv(timeout).message


def delivered(client: Client, seq: int) -> int:
    """Send `seq` until it is acked (E_STORAGE answers are retried, as a station does); its gseq."""
    def attempt():
        msg = report(client, seq)
        assert msg.TYPE == "ack" or (msg.TYPE == "nack" and msg.code == "E_STORAGE" and msg.retry), msg
        return msg.gseq if msg.TYPE == "ack" else 0
    return wait_for(attempt, 30, f"report {seq} to be acked", interval=0.3)


def refused_for_storage(client: Client, seq: int) -> None:
    msg = report(client, seq)
    assert (msg.TYPE, msg.code, msg.retry) == ("nack", "E_STORAGE", True), msg


def answers_heartbeats(client: Client) -> None:
    client.send("heartbeat", {"outbox": 1})
    assert client.recv(5, skip_heartbeats=False).header.type == "heartbeat"


def gate(ctx, folder: EventFolder, endpoint: str, epoch: str = "ep-1") -> Client:
    c = Client(ctx, endpoint, server_key(folder), station_pair(folder, "gate-1"), station="gate-1", epoch=epoch)
    c.hello()
    return c


# --- one alarm for a stretch ------------------------------------------------------------------------

@pytest.mark.pure
def test_one_alarm_for_a_stretch_of_failures_and_one_when_the_log_has_worked_for_a_while(tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    store = Store(db, writer=True)
    said: list[str] = []
    watch = StorageWatch(store, said.append, "en")
    seq = iter(range(1, 100))

    def write() -> bool:
        try:
            store.append_batch([("gate-1", "e", next(seq), "car_in", 1, 1, "{}")])
        except StoreError:
            return False
        return True

    def codes() -> list[str]:
        return [a.code for a in watch.pending]

    try:
        assert write()
        watch.update(0)
        assert codes() == [] and said == []
        os.rename(db, tmp_path / "aside.db")
        assert not any(write() for _ in range(3))
        watch.update(1_000)
        assert codes() == ["storage"] and "was deleted" in watch.pending[0].reason and len(said) == 1
        assert not write()
        watch.update(2_000)                             # still failing: nothing new
        os.rename(tmp_path / "aside.db", db)
        assert write()
        watch.update(2_000 + RECOVER_MS - 1)            # working, but not for long enough yet
        assert codes() == ["storage"] and len(said) == 1
        watch.update(2_000 + RECOVER_MS)
        assert codes() == ["storage", "storage_ok"] and "4 writes failed" in said[1]
        watch.pending.clear()
        # A failure mended before the next look still opens (and, later, closes) a stretch of its own.
        os.rename(db, tmp_path / "aside.db")
        assert not write()
        os.rename(tmp_path / "aside.db", db)
        assert write()
        watch.update(10_000)
        assert codes() == ["storage"]
        assert write()
        watch.update(10_000 + RECOVER_MS)
        assert codes() == ["storage", "storage_ok"]
    finally:
        store.close()


# --- a full disk --------------------------------------------------------------------------------------

@pytest.mark.skipif(bool(smallfs.unavailable()), reason=smallfs.unavailable() or "-")
def test_a_full_disk_costs_acks_and_output_never_the_hub(event_dir: EventFolder, tmp_path: Path, ctx) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    with open(tmp_path / "hub.err", "wb") as err:
        # The log and the hub's own output (as when a desk started it: hub.log) share a 3 MiB disk.
        proc = smallfs.spawn(mount, "3m", event_dir.root, [*hubproc.HUB, str(mount)], "hub.log", stderr=err)
    inside = smallfs.seen(proc, mount)
    with hubproc.running(proc, tmp_path, lambda: _json(inside / "hub.json")) as info:
        station = gate(ctx, event_dir, info["endpoint"])
        assert report(station, 1).TYPE == "ack"
        smallfs.fill(inside / "filler")
        refused_for_storage(station, 2)
        refused_for_storage(station, 2)
        answers_heartbeats(station)
        # The one-shot CLI talks to this hub (same endpoint from event.toml): answered, so not "unreachable".
        once = subprocess.run([sys.executable, "-m", "console.cli", "station", "report", str(event_dir.root),
                               "gate-2", "car_in", "--timeout", "4", "--lang", "en"],
                              capture_output=True, text=True, timeout=60)
        assert once.returncode == 3, once
        assert "The desk answers but has not stored the report yet" in once.stderr
        assert "cannot be reached" not in once.stderr

        (inside / "filler").unlink()
        assert delivered(station, 2) > 0
        copy = tmp_path / "copy"
        wait_for(lambda: alarms_inside(inside / "event.db", copy).count("storage_ok"), 30, "the storage_ok alarm")
        assert alarms_inside(inside / "event.db", copy) == ["storage", "storage_ok"]   # one for the whole stretch
        log = (inside / "hub.log").read_text("utf-8")
        assert t("hub.log.storage_ok", "zh", seconds="", failed="").split("（")[0] in log
        # The line saying the log fails went to the full disk too: written in the file's last page,
        # or lost, and then the next line says how many were.
        failing = t("hub.log.storage_failing", "zh", reason="").split("：")[0]
        assert failing in log or "行运行记录无法写出，已丢失" in log

        smallfs.fill(inside / "filler")                # and stopped on a full disk: clean, hub.json gone
        refused_for_storage(station, 3)
        station.close()
        hubproc.stop(proc)


def test_output_that_can_never_be_written_costs_the_hub_nothing(event_dir: EventFolder, tmp_path: Path, ctx) -> None:
    # /dev/full refuses every write with ENOSPC: the live log is lost, the hub and its exit code are not.
    with open("/dev/full", "w") as full, hubproc.hub(event_dir, tmp_path, stdout=full) as (proc, info):
        station = gate(ctx, event_dir, info["endpoint"])
        for seq in (1, 2, 3):
            assert report(station, seq).TYPE == "ack"
        station.close()
        hubproc.stop(proc)                             # exit 0, not 120: nothing left buffered to fail at exit
    assert (tmp_path / "hub.err").read_text() == "" and not event_dir.runtime().exists()


# --- a log deleted or replaced under a running hub ---------------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_log_deleted_or_replaced_under_the_hub_is_not_acked_into(event_dir: EventFolder, tmp_path: Path, ctx,
                                                                   how: str) -> None:
    out = io.StringIO()
    handle = run_in_thread(event_dir, out=out)
    db = event_dir.db()
    stranger = tmp_path / "stranger.db"
    Store(stranger).close()                             # another, empty log, made elsewhere
    try:
        station = gate(ctx, event_dir, handle.endpoint)
        assert report(station, 1).TYPE == "ack"
        os.rename(db, tmp_path / "aside.db")
        if how == "replaced":
            os.rename(stranger, db)
        before = db.read_bytes() if how == "replaced" else b""
        refused_for_storage(station, 2)
        refused_for_storage(station, 2)
        answers_heartbeats(station)
        said = t("hub.log.storage_failing", "zh", reason="").split("：")[0]
        wait_for(lambda: said in out.getvalue(), 10, "the hub to say the log fails")
        assert ("被删除" if how == "deleted" else "换成了另一个文件") in out.getvalue()
        if how == "replaced":
            assert db.read_bytes() == before           # nothing was written into the stranger
            os.unlink(db)
        os.rename(tmp_path / "aside.db", db)           # the very file back: it is taken up again
        delivered(station, 2)
        wait_for(lambda: "storage_ok" in alarms(db), 30, "the storage_ok alarm")
        assert alarms(db).count("storage") == 1
        station.close()
    finally:
        handle.stop()
    assert not handle.thread.is_alive()
    rows = Store(db).since(0)
    assert [(r.seq, r.type) for r in rows if r.station == "gate-1"] == [(1, "car_in"), (2, "car_in")]


# --- a damaged page ------------------------------------------------------------------------------------

def _damage(db: Path, table: str) -> None:
    conn = sqlite3.connect(str(db))
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = [r for (r,) in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?", (table,))]
    conn.close()
    with open(db, "r+b") as f:
        for root in roots:
            f.seek((root - 1) * size)
            f.write(b"\xee" * size)


def test_a_damaged_page_mid_run_is_e_storage_and_a_damaged_log_is_refused_at_start(event_dir: EventFolder,
                                                                                  tmp_path: Path, ctx) -> None:
    db = event_dir.db()
    store = Store(db, writer=True)
    store.append_batch([("gate-1", "ep-1", i, "car_in", 1, 1, '{"count":1}') for i in (1, 2, 3)],
                       [Rejection("gate-1", "ep-1", 4, "car_in", "E_SCHEMA", "bad", "坏", 1)])
    store.close()
    with hubproc.hub(event_dir, tmp_path) as (proc, info):
        station = gate(ctx, event_dir, info["endpoint"])
        _damage(db, "rejections")
        # Another connection's write moves the log on, so the hub reads from the file again, not its cache.
        conn = sqlite3.connect(str(db))
        conn.execute("PRAGMA user_version = 7")
        conn.close()
        refused_for_storage(station, 4)                # a resend of the refused report reads the damaged page
        answers_heartbeats(station)
        assert report(station, 5).TYPE == "ack"        # what does not touch the damage still lands
        station.close()
        hubproc.stop(proc)
    again = subprocess.run([*hubproc.HUB, str(event_dir.root)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 5, again
    assert again.stderr.strip().splitlines() == [f"eventdesk: {t('store.damaged', 'zh', path=db)}"]
    assert event_dir.read_runtime() is None and not event_dir.runtime().exists()
