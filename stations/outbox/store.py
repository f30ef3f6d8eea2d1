"""The station's local outbox in SQLite: epoch, next seq, every report and its state, the instruction inbox; knows no sockets and no screen.

A report exists once `save` has committed it here with the station's next sequence number;
the client only reads from here and records what the console answered. Sequence numbers
are never reused for an epoch, so a resend after any crash carries the same (epoch, seq).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import sqlite_utils

from protocols import codec
from protocols.codec import ProtocolError
from stations.outbox.file import OutboxError, open_file

__all__ = ["OutboxError"]   # re-exported: callers catch it from here

# The values the outbox holds live in stations.records (the terminal's screens read them without SQLite).
from stations.records import DELIVERED, REJECTED, SAVED, SENT, STATES, UNACKED, InboxItem, Report  # noqa: E402,F401

_REPORT_COLS = "seq, type, body, state, created_ms, gseq, code, reason, reason_zh, updated_ms"
_INBOX_COLS = "id, target, text, ack_required, received_ms, acked_ms, text_en, plan, run, step, guest, notice, gate"


def _report(row: tuple) -> Report:
    seq, type_, body, state, created, gseq, code, reason, reason_zh, updated = row
    return Report(seq, type_, json.loads(body), state, created, gseq, code, reason, reason_zh, updated)


def _item(row: tuple) -> InboxItem:
    id_, target, text, ack, received, acked, text_en, plan, run, step, guest, notice, gate = row
    return InboxItem(id_, target, text, bool(ack), received, acked, text_en, plan, run, step, guest, notice, gate)


class Outbox:
    """One station's outbox file. Thread-safe: one connection guarded by a lock.

    Several processes may open the same file (a terminal and a one-shot CLI): the seq is
    taken inside the write transaction, so two savers never get the same number.
    """

    def __init__(self, path: Path | str, station: str, *, max_bytes: int = codec.MAX_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.RLock()
        self.conn, self.epoch = open_file(self.path, station, self._now())
        self.db = sqlite_utils.Database(self.conn)
        self.station = station

    def _now(self) -> int:
        return int(self._clock() * 1000)

    @contextmanager
    def _tx(self, what: str) -> Iterator[None]:
        """One transaction under the lock; a SQLite failure becomes an OutboxError (`outbox.failed.<what>`)."""
        with self._lock:
            try:
                with self.db.atomic():
                    yield
            except sqlite3.Error as exc:
                raise OutboxError(f"failed.{what}", exc, path=self.path) from None

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- saving -----------------------------------------------------------------------------
    @property
    def next_seq(self) -> int:
        with self._lock:
            return self.conn.execute("SELECT next_seq FROM outbox_meta WHERE id = 1").fetchone()[0]

    def save(self, type_: str, body: dict[str, Any]) -> Report:
        """Validate, then commit the report with the next seq in one transaction, and return it.

        Raises ProtocolError (the same code and sentence the hub would give) before anything
        is written, so a bad report never takes a seq: a hole in the numbers would stall
        every later report at the hub.
        """
        full = self.check(type_, body)
        text = codec.canonical(full)
        now = self._now()
        with self._tx("save"):
            # Write first: the write lock is taken at once, so another process saving into
            # the same file waits here instead of reading a stale next_seq.
            self.conn.execute("UPDATE outbox_meta SET next_seq = next_seq + 1 WHERE id = 1")
            seq = self.conn.execute("SELECT next_seq - 1 FROM outbox_meta WHERE id = 1").fetchone()[0]
            self.conn.execute(
                f"INSERT INTO reports ({_REPORT_COLS}) VALUES (?, ?, ?, ?, ?, NULL, '', '', '', ?)",
                (seq, type_, text, SAVED, now, now))
        return Report(seq, type_, full, SAVED, now, None, "", "", "", now)

    def check(self, type_: str, body: dict[str, Any]) -> dict[str, Any]:
        """The report's full body, or the ProtocolError `save` would raise; reads no file."""
        message = codec.build(type_, body)
        if message.KIND not in ("report", "action"):
            raise ProtocolError("E_TYPE", got=repr(type_)[:40])
        # Measure with the widest header this report can ever carry, so no resend grows past the limit.
        size = codec.size_of(message, self.station, self.epoch, codec.MAX_SEQ, codec.MAX_SEQ)
        if size > self.max_bytes:
            raise ProtocolError("E_SIZE", got=size, limit=self.max_bytes)
        return message.as_body()

    # --- reading ----------------------------------------------------------------------------
    def get(self, seq: int) -> Report | None:
        with self._lock:
            row = self.conn.execute(f"SELECT {_REPORT_COLS} FROM reports WHERE seq = ?", (seq,)).fetchone()
        return _report(row) if row else None

    def unacked(self, after: int = 0, limit: int | None = None) -> list[Report]:
        """Reports still to deliver (saved or sent) with seq > `after`, in seq order."""
        sql = f"SELECT {_REPORT_COLS} FROM reports WHERE state IN (?, ?) AND seq > ? ORDER BY seq"
        args: list[Any] = [SAVED, SENT, after]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [_report(r) for r in self.conn.execute(sql, args)]

    def between(self, first: int, last: int) -> list[Report]:
        """Every report with first <= seq <= last, whatever its state (for a console that lost some)."""
        with self._lock:
            return [_report(r) for r in self.conn.execute(
                f"SELECT {_REPORT_COLS} FROM reports WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last))]

    def first_unacked(self) -> int | None:
        with self._lock:
            return self.conn.execute(
                "SELECT MIN(seq) FROM reports WHERE state IN (?, ?)", UNACKED).fetchone()[0]

    def depth(self) -> int:
        """How many reports wait for the console (the terminal's "N reports waiting")."""
        with self._lock:
            return self.conn.execute("SELECT COUNT(*) FROM reports WHERE state IN (?, ?)", UNACKED).fetchone()[0]

    def recent(self, n: int = 50) -> list[Report]:
        """The newest `n` reports, newest first."""
        with self._lock:
            return [_report(r) for r in self.conn.execute(
                f"SELECT {_REPORT_COLS} FROM reports ORDER BY seq DESC LIMIT ?", (n,))]

    def counts(self) -> dict[str, int]:
        """{state: count} for every state, zeros included."""
        out = dict.fromkeys(STATES, 0)
        with self._lock:
            for state, n in self.conn.execute("SELECT state, COUNT(*) FROM reports GROUP BY state"):
                out[state] = n
        return out

    # --- what the console answered ------------------------------------------------------------
    def mark_sent(self, seq: int) -> Report | None:
        changed = self.mark_sent_many([seq])
        return changed[0] if changed else None

    def mark_sent_many(self, seqs: Iterable[int]) -> list[Report]:
        """saved -> sent for each seq, in one transaction; returns the reports that changed."""
        return self._update([(s,) for s in seqs], "state = ?", (SENT,), (SAVED,))

    def mark_delivered(self, seq: int, gseq: int) -> Report | None:
        changed = self.mark_delivered_many([(seq, gseq)])
        return changed[0] if changed else None

    def mark_delivered_many(self, pairs: Iterable[tuple[int, int]]) -> list[Report]:
        """(seq, gseq) pairs -> delivered, in one transaction (one fsync for a burst of acks).

        Only a report still waiting changes; a late duplicate ack changes nothing.
        """
        return self._update([(s, g) for s, g in pairs], "state = ?, gseq = ?", (DELIVERED,), UNACKED)

    def mark_rejected(self, seq: int, code: str, reason: str, reason_zh: str = "") -> Report | None:
        """A final nack: the report keeps its seq and is never sent again."""
        changed = self._update([(seq, code, reason, reason_zh)], "state = ?, code = ?, reason = ?, reason_zh = ?",
                               (REJECTED,), UNACKED)
        return changed[0] if changed else None

    def _update(self, rows: list[tuple], assign: str, lead: tuple, from_states: tuple[str, ...]) -> list[Report]:
        if not rows:
            return []
        now = self._now()
        marks = ", ".join("?" for _ in from_states)
        sql = (f"UPDATE reports SET {assign}, updated_ms = ? WHERE seq = ? AND state IN ({marks})"
               f" RETURNING {_REPORT_COLS}")
        out = []
        with self._tx("answer"):
            for seq, *rest in rows:
                out += [_report(r) for r in self.conn.execute(
                    sql, (*lead, *rest, now, seq, *from_states)).fetchall()]
        return out

    # --- instructions received ----------------------------------------------------------------
    def store_instruction(self, id_: int, target: str, text: str, ack_required: bool,
                          received_ms: int | None = None, *, text_en: str = "", plan: str = "",
                          run: int = 0, step: str = "", guest: str = "", notice: str = "",
                          gate: str = "") -> tuple[InboxItem, bool]:
        """Keep an instruction once however often it is replayed; returns (item, is_new).

        A replay never clears `acked_ms` nor moves `received_ms`: the staff member already saw it.
        """
        now = self._now() if received_ms is None else received_ms
        with self._tx("instruction"):
            known = self.conn.execute("SELECT 1 FROM inbox WHERE id = ?", (id_,)).fetchone() is not None
            self.conn.execute(
                f"INSERT INTO inbox ({_INBOX_COLS}) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET target = excluded.target, text = excluded.text,"
                " ack_required = excluded.ack_required, text_en = excluded.text_en,"
                " plan = excluded.plan, run = excluded.run, step = excluded.step,"
                " guest = excluded.guest, notice = excluded.notice, gate = excluded.gate",
                (id_, target, text, int(ack_required), now, text_en, plan, run, step, guest, notice, gate))
            row = self.conn.execute(f"SELECT {_INBOX_COLS} FROM inbox WHERE id = ?", (id_,)).fetchone()
        return _item(row), not known

    def mark_instruction_acked(self, id_: int) -> InboxItem | None:
        with self._tx("ack"):
            self.conn.execute("UPDATE inbox SET acked_ms = ? WHERE id = ? AND acked_ms IS NULL", (self._now(), id_))
            row = self.conn.execute(f"SELECT {_INBOX_COLS} FROM inbox WHERE id = ?", (id_,)).fetchone()
        return _item(row) if row else None

    def get_instruction(self, id_: int) -> InboxItem | None:
        with self._lock:
            row = self.conn.execute(f"SELECT {_INBOX_COLS} FROM inbox WHERE id = ?", (id_,)).fetchone()
        return _item(row) if row else None

    def instructions(self, n: int = 50) -> list[InboxItem]:
        """The newest `n` instructions, newest first."""
        with self._lock:
            return [_item(r) for r in self.conn.execute(
                f"SELECT {_INBOX_COLS} FROM inbox ORDER BY id DESC LIMIT ?", (n,))]

    def pending_instructions(self) -> list[InboxItem]:
        """Instructions that ask for an acknowledgement the staff member has not given, oldest first.

        A plan step's order stops asking once its run's all-clear has come: the stand-down cancelled it.
        """
        with self._lock:
            return [_item(r) for r in self.conn.execute(
                f"SELECT {_INBOX_COLS} FROM inbox AS i WHERE ack_required = 1 AND acked_ms IS NULL"
                " AND NOT (step != '' AND EXISTS (SELECT 1 FROM inbox AS c WHERE c.run = i.run AND c.step = ''))"
                " ORDER BY id")]

    def standing_orders(self) -> list[InboxItem]:
        """Every gate order and every plan all-clear received, oldest first: what protocols.orders folds."""
        with self._lock:
            return [_item(r) for r in self.conn.execute(
                f"SELECT {_INBOX_COLS} FROM inbox WHERE gate != '' OR (run != 0 AND step = '') ORDER BY id")]

    # --- the guest list (for look-up at check-in) ------------------------------------------------
    def guest_digest(self) -> str:
        """The version of the guest list held here ("" for none)."""
        with self._lock:
            row = self.conn.execute("SELECT digest FROM guest_meta WHERE id = 1").fetchone()
        return row[0] if row else ""

    def replace_guests(self, digest: str, guests: list[dict[str, Any]]) -> None:
        """Swap the whole list in one transaction: a look-up sees the old list or the new, never half."""
        with self._tx("guests"):
            self.conn.execute("DELETE FROM guest_list")
            self.conn.executemany("INSERT OR REPLACE INTO guest_list (ref, body) VALUES (?, ?)",
                                  [(str(g.get("ref", "")), json.dumps(g, ensure_ascii=False)) for g in guests
                                   if isinstance(g, dict) and g.get("ref")])
            self.conn.execute("INSERT INTO guest_meta (id, digest, updated_ms) VALUES (1, ?, ?)"
                              " ON CONFLICT(id) DO UPDATE SET digest = excluded.digest, updated_ms = excluded.updated_ms",
                              (digest, self._now()))

    def guests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for (body,) in self.conn.execute("SELECT body FROM guest_list ORDER BY ref")]
