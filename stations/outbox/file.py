"""A station's outbox file: its schema, and opening it so that no saved report is ever lost to a bad file.

A new outbox is made whole (tables, station and epoch) under a temporary name and only then
linked into place, so a file at the outbox's path is always a complete outbox: one that is
empty, truncated, damaged or not an outbox at all is refused with a sentence and left exactly
as it is, never replaced by a new epoch (which would orphan the reports it holds). The file is
owner-only (it holds plates and names). Knows SQLite and the catalogue; no sockets, no screen.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from protocols.file_errors import FileProblem, private_dir, tighten

migrations = Migrations("eventdesk-outbox")


@migrations()
def m001_outbox(db: sqlite_utils.Database) -> None:
    # One row of identity: the epoch is made once, with the file, and never changes.
    db.execute("""
        CREATE TABLE outbox_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            station TEXT NOT NULL,
            epoch TEXT NOT NULL,
            next_seq INTEGER NOT NULL,
            created_ms INTEGER NOT NULL
        )""")
    db.execute("""
        CREATE TABLE reports (
            seq INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            body TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            state TEXT NOT NULL,
            gseq INTEGER,
            code TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            reason_zh TEXT NOT NULL DEFAULT '',
            updated_ms INTEGER NOT NULL
        )""")
    # The client asks "what is still unacked, from seq N on" all the time; keep that cheap.
    db.execute("CREATE INDEX reports_state ON reports (state, seq)")
    db.execute("""
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            target TEXT NOT NULL,
            text TEXT NOT NULL,
            ack_required INTEGER NOT NULL,
            received_ms INTEGER NOT NULL,
            acked_ms INTEGER
        )""")


@migrations()
def m002_inbox_plan_fields(db: sqlite_utils.Database) -> None:
    # Instructions grew an English text and, when a plan sent them, the plan, run and step.
    for column, kind in (("text_en", "TEXT NOT NULL DEFAULT ''"), ("plan", "TEXT NOT NULL DEFAULT ''"),
                         ("run", "INTEGER NOT NULL DEFAULT 0"), ("step", "TEXT NOT NULL DEFAULT ''")):
        db.execute(f"ALTER TABLE inbox ADD COLUMN {column} {kind}")


@migrations()
def m003_guests(db: sqlite_utils.Database) -> None:
    # The hub's hand-off notices name a guest and a kind of notice; the terminal keeps the guest
    # list (for look-up at check-in) so it still works when the desk is out of reach.
    db.execute("ALTER TABLE inbox ADD COLUMN guest TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE inbox ADD COLUMN notice TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE TABLE guest_list (ref TEXT PRIMARY KEY, body TEXT NOT NULL)")
    db.execute("CREATE TABLE guest_meta (id INTEGER PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL, "
               "updated_ms INTEGER NOT NULL)")


@migrations()
def m004_inbox_gate(db: sqlite_utils.Database) -> None:
    # An instruction may order the gate to hold incoming cars or to resume ("" for neither).
    db.execute("ALTER TABLE inbox ADD COLUMN gate TEXT NOT NULL DEFAULT ''")


class OutboxError(FileProblem):
    """The outbox file cannot be used (another station's, unreadable, a disk error); `sentence(lang)` says why."""

    prefix = "outbox"


def open_file(path: Path, station: str, now_ms: int) -> tuple[sqlite3.Connection, str]:
    """A connection to the outbox at `path` (made if there is none) and its epoch.

    Raises OutboxError, and changes nothing, when the file is not a whole outbox of `station`.
    """
    if not path.exists():
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size:
            raise OutboxError("orphan_wal", path=path, wal=wal)
        _create(path, station, now_ms)
    for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        tighten(extra)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise OutboxError("unreadable", exc, path=path) from None
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        if conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            raise OutboxError("unreadable", sqlite3.DatabaseError("malformed"), path=path)
        owner, epoch = _identity(conn, path)
        if owner != station:
            # Sending another station's numbers under this key would be an impersonation nack at best.
            raise OutboxError("other_station", path=path, owner=owner, station=station)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a report the terminal called "saved" must survive a power cut, not just a kill.
        conn.execute("PRAGMA synchronous=FULL")
        migrations.apply(sqlite_utils.Database(conn))   # an outbox from an older version gains its new tables
    except OutboxError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise OutboxError("unreadable", exc, path=path) from None
    return conn, epoch


def _identity(conn: sqlite3.Connection, path: Path) -> tuple[str, str]:
    try:
        row = conn.execute("SELECT station, epoch FROM outbox_meta WHERE id = 1").fetchone()
    except sqlite3.OperationalError:   # no such table: empty, truncated to nothing, or not an outbox
        row = None
    if row is None:
        raise OutboxError("not_outbox", path=path)
    return row[0], row[1]


def _create(path: Path, station: str, now_ms: int) -> None:
    """Make the outbox whole under a temporary name, then link it in (two makers at once: one wins)."""
    private_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)   # mode 0600
    os.close(fd)
    tmp = Path(name)
    try:
        conn = sqlite3.connect(name, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            migrations.apply(sqlite_utils.Database(conn))
            conn.execute("INSERT INTO outbox_meta (id, station, epoch, next_seq, created_ms) VALUES (1, ?, ?, 1, ?)",
                         (station, secrets.token_hex(8), now_ms))
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass   # another process made it first: use theirs
        _sync_dir(path.parent)
    except (sqlite3.Error, OSError) as exc:
        raise OutboxError("create_failed", exc, path=path) from None
    finally:
        tmp.unlink(missing_ok=True)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
