"""The append-only event log in SQLite (via sqlite-utils): group commit, idempotent keys, replay.

Knows SQLite; knows nothing of ZeroMQ or the screen. One writer (the hub) holds an exclusive
lock on the database file itself, so the global sequence can be assigned in memory and written
explicitly; before each commit it checks that the path still names the file it opened, so a
log deleted or replaced under a running hub is never written to blindly. A live log and a
rehearsal log are marked in `meta` and never opened as the other. The file is owner-only.
Every SQLite failure leaves as a StoreError whose sentence says why in plain words.
"""
from __future__ import annotations

import fcntl
import json
import json.scanner
import os
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import sqlite_utils
from sqlite_utils import Migrations

from protocols import codec
from protocols.file_errors import FileProblem, Word, private_file, tighten

migrations = Migrations("eventdesk")


@migrations()
def m001_events(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE events (
            gseq INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            epoch TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            station_ms INTEGER NOT NULL,
            recv_ms INTEGER NOT NULL,
            body TEXT NOT NULL
        )""")
    db.execute("CREATE UNIQUE INDEX events_key ON events (station, epoch, seq)")
    db.execute("""
        CREATE TABLE rejections (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            epoch TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            code TEXT NOT NULL,
            reason TEXT NOT NULL,
            reason_zh TEXT NOT NULL DEFAULT '',
            recv_ms INTEGER NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("CREATE INDEX rejections_key ON rejections (station, epoch, seq)")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


# Two hubs (issue 19, PROTOCOL.md 5.13): a returning hub's rows after the fork point, kept for audit, never folded.
@migrations()
def m_issue19_set_aside(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE set_aside AS SELECT *, 0 AS set_aside_ms FROM events WHERE 0")
    db.execute("CREATE TABLE set_aside_rejections AS SELECT *, 0 AS set_aside_ms FROM rejections WHERE 0")


class StoreError(FileProblem):
    """The log cannot be opened, read or written; `sentence(lang)` says why (catalogue `store.*`)."""

    prefix = "store"


class Row(NamedTuple):
    """One stored event, exactly as in the `events` table (body as parsed JSON).

    A NamedTuple rather than a dataclass: replay builds a million of these, and a tuple is
    three times cheaper to make.
    """

    gseq: int
    station: str
    epoch: str
    seq: int
    type: str
    station_ms: int
    recv_ms: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejection:
    station: str
    epoch: str
    seq: int
    type: str
    code: str
    reason: str
    reason_zh: str
    recv_ms: int
    detail: str = ""


# One scanner for every row: json.loads wraps its scanner in two regex matches, which was most of
# a replay's time. The stored text is the wire's canonical JSON (protocols.codec.canonical).
dumps = codec.canonical
_SCAN = json.scanner.make_scanner(json.JSONDecoder())


def loads(text: str) -> Any:
    """`json.loads(text)`, quicker for the exact text `dumps` writes; anything else is json's own call."""
    try:
        value, end = _SCAN(text, 0)
    except Exception:  # leading whitespace, not str, bad JSON: json.loads decides (and says why)
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


# (device, inode) of the logs this process holds as writer. Closing any descriptor of a file drops
# every fcntl lock this process has on it, SQLite's read lock of the live writer included, so a
# second writer in the same process is refused before it opens one.
_HELD: set[tuple[int, int]] = set()


class Store:
    """The log of one event (live or rehearsal). Open with `writer=True` only from the hub."""

    def __init__(self, path: Path | str, drill: bool = False, writer: bool = False) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._files: list[tuple[Path, tuple[int, int]]] = []   # (path, (device, inode)) as opened
        self.writes = self.failures = 0    # commits that held something, and writes or reads that failed
        self.last_error: StoreError | None = None   # the latest failure (kept once the log works again)
        try:
            private_file(self.path)
        except OSError as exc:
            raise StoreError("open_failed", exc, path=self.path) from None
        if writer:
            self._take_lock()
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            self._release_lock()
            raise StoreError("open_failed", exc, path=self.path) from None
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        want = "rehearsal" if drill else "live"
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            if writer and conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise StoreError("damaged", path=self.path)
            if writer or not self.db["events"].exists():
                migrations.apply(self.db)
            mode = self.get_meta("mode")
            if mode is None and writer:
                self.set_meta("mode", want)
                self.set_meta("hub_epoch", secrets.token_hex(8))
            self._next = (conn.execute("SELECT COALESCE(MAX(gseq), 0) FROM events").fetchone()[0]) + 1
        except StoreError:
            self.close()
            raise
        except sqlite3.Error as exc:  # not a database, corrupt, read-only...: a domain error, lock released
            self.close()
            raise StoreError("open_failed", exc, path=self.path) from None
        if mode is not None and mode != want:
            self.close()
            raise StoreError("wrong_mode", path=self.path, mode=Word(f"store.mode.{mode}"),
                             want=Word(f"store.mode.{want}"))
        if writer:
            self._remember(Path(str(self.path) + "-wal"))   # SQLite keeps it while this connection lives
        self.drill = drill

    def _take_lock(self) -> None:
        """An exclusive lock on the database file itself: a lock file could be deleted, the log cannot
        be without the hub noticing (`_check_files`). flock locks are apart from SQLite's fcntl locks."""
        try:
            st = self.path.stat()
            if (st.st_dev, st.st_ino) in _HELD:   # a writer of this process: no second descriptor (see close)
                raise StoreError("in_use", path=self.path)
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise StoreError("open_failed", exc, path=self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError("in_use", path=self.path) from None
        st = os.fstat(fd)
        self._lock_fd, self._locked = fd, (st.st_dev, st.st_ino)
        _HELD.add(self._locked)
        self._files.append((self.path, self._locked))
        _drop_old_lock_file(self.path)

    def _remember(self, path: Path) -> None:
        try:
            st = path.stat()
        except OSError:
            return
        tighten(path)
        self._files.append((path, (st.st_dev, st.st_ino)))

    def _check_files(self) -> None:
        """The paths still name the files this writer opened (someone may have deleted or replaced them)."""
        for path, identity in self._files:
            try:
                st = path.stat()
            except FileNotFoundError:
                raise StoreError("gone", path=self.path) from None
            except OSError as exc:
                raise StoreError("read_failed", exc, path=self.path) from None
            if (st.st_dev, st.st_ino) != identity:
                raise StoreError("replaced", path=self.path)

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            # After the connection: closing any descriptor of the file drops this process's fcntl
            # locks on it, SQLite's included.
            self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            _HELD.discard(self._locked)
            self._lock_fd = None

    def _failed(self, key: str, exc: BaseException | None = None) -> StoreError:
        """Count a failure and make its error (raised by the caller)."""
        self.failures += 1
        self.last_error = exc if isinstance(exc, StoreError) else StoreError(key, exc, path=self.path)
        return self.last_error

    # --- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- writing ----------------------------------------------------------------------------
    @property
    def next_gseq(self) -> int:
        return self._next

    def append_batch(self, events: list[tuple[str, str, int, str, int, int, str]],
                     rejections: list[Rejection] = ()) -> list[int]:
        """Commit events `(station, epoch, seq, type, station_ms, recv_ms, body_json)` and
        rejections in one transaction; return the global sequence of each event, in order.

        Raises StoreError (and commits nothing) if the transaction fails, or if the log's file was
        deleted or replaced since it was opened (checked before every write).
        """
        if not events and not rejections:
            return []
        first = self._next
        rows = [(first + i, *ev) for i, ev in enumerate(events)]
        try:
            self._check_files()
            with self.db.atomic():
                if rows:
                    self.conn.executemany(
                        "INSERT INTO events (gseq, station, epoch, seq, type, station_ms, recv_ms, body)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                if rejections:
                    self.conn.executemany(
                        "INSERT INTO rejections (station, epoch, seq, type, code, reason, reason_zh, recv_ms, detail)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(r.station, r.epoch, r.seq, r.type, r.code, r.reason, r.reason_zh, r.recv_ms, r.detail)
                         for r in rejections])
        except (sqlite3.Error, StoreError) as exc:
            raise self._failed("write_failed", exc) from None
        self.writes += 1
        self._next = first + len(rows)
        return [r[0] for r in rows]

    # --- two hubs (issue 19, PROTOCOL.md 5.13): the passive hub's copy of the active one's log -------
    def append_copy(self, events: list[Row], rejections: list[tuple[int, Rejection]] = ()) -> None:
        """Commit events and rejections copied from the active hub's log, with its gseqs and ids, in one transaction.

        The events must carry on from this log's end (gseq = next_gseq, consecutive): anything else
        raises StoreError("copy.gap") and commits nothing, so the copy never holds a hole.
        """
        if not events and not rejections:
            return
        if [r.gseq for r in events] != list(range(self._next, self._next + len(events))):
            raise StoreError("copy.gap", path=self.path, got=events[0].gseq, want=self._next)
        try:
            self._check_files()
            with self.db.atomic():
                self.conn.executemany(
                    "INSERT INTO events (gseq, station, epoch, seq, type, station_ms, recv_ms, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r[:7], dumps(r.body)) for r in events])
                self.conn.executemany(
                    "INSERT INTO rejections (id, station, epoch, seq, type, code, reason, reason_zh, recv_ms, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(rid, r.station, r.epoch, r.seq, r.type, r.code, r.reason, r.reason_zh, r.recv_ms, r.detail)
                     for rid, r in rejections])
        except (sqlite3.Error, StoreError) as exc:
            raise self._failed("write_failed", exc) from None
        self.writes += 1
        self._next += len(events)

    def set_aside_after(self, gseq: int, since_ms: int, now_ms: int) -> int:
        """Move the events after `gseq`, and the rejections received since `since_ms`, into the set_aside tables
        (one transaction): the tail a returning hub held past the fork point. How many events moved."""
        try:
            self._check_files()
            with self.db.atomic():
                moved = self.conn.execute("INSERT INTO set_aside SELECT *, ? FROM events WHERE gseq > ?",
                                          (now_ms, gseq)).rowcount
                self.conn.execute("DELETE FROM events WHERE gseq > ?", (gseq,))
                self.conn.execute("INSERT INTO set_aside_rejections SELECT *, ? FROM rejections WHERE recv_ms >= ?",
                                  (now_ms, since_ms))
                self.conn.execute("DELETE FROM rejections WHERE recv_ms >= ?", (since_ms,))
        except (sqlite3.Error, StoreError) as exc:
            raise self._failed("write_failed", exc) from None
        self.writes += 1
        self._next = gseq + 1
        return moved

    def last_rejection_id(self) -> int:
        """The id of the newest rejection (0: none): where a copy of this log's rejections ends."""
        with self._reading():
            return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM rejections").fetchone()[0]

    def rejections_since(self, rid: int, limit: int = -1) -> list[tuple[int, Rejection]]:
        """(id, rejection) of every rejection after id `rid` (at most `limit`; -1: all), oldest first: what a log page carries."""
        with self._reading():
            return [(r[0], Rejection(*r[1:])) for r in self.conn.execute(
                "SELECT id, station, epoch, seq, type, code, reason, reason_zh, recv_ms, detail FROM rejections"
                " WHERE id > ? ORDER BY id LIMIT ?", (rid, limit))]

    # --- reading ----------------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:   # a damaged page, a vanished disk: the caller decides, the hub lives
            raise self._failed("read_failed", exc) from None

    def last_seqs(self) -> dict[tuple[str, str], int]:
        """The highest seq handled (stored or finally rejected) for each (station, epoch)."""
        out: dict[tuple[str, str], int] = {}
        with self._reading():
            for table in ("events", "rejections"):
                for station, epoch, seq in self.conn.execute(
                        f"SELECT station, epoch, MAX(seq) FROM {table} WHERE seq > 0 GROUP BY station, epoch"):
                    key = (station, epoch)
                    out[key] = max(out.get(key, 0), seq)
        return out

    def find(self, station: str, epoch: str, seq: int) -> tuple[int, str, str] | None:
        """(gseq, type, body JSON) of a stored event, or None."""
        with self._reading():
            return self.conn.execute(
                "SELECT gseq, type, body FROM events WHERE station = ? AND epoch = ? AND seq = ?",
                (station, epoch, seq)).fetchone()

    def find_rejection(self, station: str, epoch: str, seq: int) -> tuple[str, str, str] | None:
        """(code, reason, reason_zh) of the last final rejection of that report, or None."""
        with self._reading():
            return self.conn.execute(
                "SELECT code, reason, reason_zh FROM rejections WHERE station = ? AND epoch = ? AND seq = ?"
                " ORDER BY id DESC LIMIT 1", (station, epoch, seq)).fetchone()

    def since(self, gseq: int = 0, batch: int = 5000) -> Iterator[Row]:
        """Every event after `gseq`, in log order."""
        with self._reading():
            cur = self.conn.execute(
                "SELECT gseq, station, epoch, seq, type, station_ms, recv_ms, body FROM events"
                " WHERE gseq > ? ORDER BY gseq", (gseq,))
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                for g, st, ep, sq, ty, sm, rm, body in chunk:
                    yield Row(g, st, ep, sq, ty, sm, rm, loads(body))

    def last_of(self, type_: str, before: int) -> Row | None:
        """The latest event of this type logged before gseq `before` (a report's setup, e.g. the guest list)."""
        with self._reading():
            hit = self.conn.execute("SELECT gseq, station, epoch, seq, type, station_ms, recv_ms, body FROM events"
                                    " WHERE type = ? AND gseq < ? ORDER BY gseq DESC LIMIT 1", (type_, before)).fetchone()
        if hit is None:
            return None
        g, st, ep, sq, ty, sm, rm, body = hit
        return Row(g, st, ep, sq, ty, sm, rm, loads(body))

    def rejections(self) -> list[Rejection]:
        with self._reading():
            return [Rejection(*r) for r in self.conn.execute(
                "SELECT station, epoch, seq, type, code, reason, reason_zh, recv_ms, detail FROM rejections"
                " ORDER BY id")]

    def count(self) -> int:
        with self._reading():
            return self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _drop_old_lock_file(path: Path) -> None:
    """Earlier versions locked `<log>.lock` and left it behind for good; the log itself is locked now."""
    try:
        Path(str(path) + ".lock").unlink()
    except OSError:
        pass
