"""The warm copy of two hubs (issue 19, PROTOCOL.md 5.13): a passive hub joins the active one's history and copies its log.

A mixin of Pairing (console/hub/pair.py). Where the two logs part (the fork point, from the switches in the
active hub's `hub_state`), row F is checked, the tail set aside, the picture folded again; then `log_page`s
and the feed are written with the active log's gseqs by a writer thread of this hub's own, so the socket
loop never waits for the disk. The copy's rules are console/core/log_copy.py's; this module carries them out.
"""
from __future__ import annotations

from typing import Any

import zmq

from console.core import binary_star as bs
from console.core import state as fold
from console.core.log_copy import Copy, LogCopy, fork_point
from console.hub import replies
from console.hub.store import Rejection, Row, StoreError, loads
from protocols import bounds, codec
from protocols.codec import ProtocolError
from protocols.i18n import t
from protocols.messages import Committed, HubState, LogPage, LogRequest

NO_REJECTIONS = 2**62  # after_rejection past any id: a page of events only (the row-F check)
_NOBLOCK = int(zmq.NOBLOCK)


class PairCopy:
    """Pairing's warm copy: joining the history, the set-aside tail, the pages and the feed written."""

    def _join_history(self, msg: HubState, now_ms: int) -> None:
        """PROTOCOL.md 5.13, after a failover and a return: rows past the fork point are set aside, then the copy."""
        try:
            theirs = [(int(era), int(after)) for era, after in msg.switches]
        except (TypeError, ValueError):
            return   # not a list this hub can read: the next hub_state tries again
        fork = fork_point([tuple(x) for x in self._switches()], theirs)
        if fork is None or fork >= self._last_gseq():
            self.copy = LogCopy(self._last_gseq(), self.reader.last_rejection_id())
            return
        first = self.reader.conn.execute("SELECT recv_ms FROM events WHERE gseq = ?", (fork + 1,)).fetchone()
        since = first[0] if first else now_ms
        if fork == 0:   # nothing shared: no row to check
            self._set_aside(fork, since, now_ms)
        else:
            self._ask_row(fork, since, now_ms)

    def _ask_row(self, fork: int, since: int, now_ms: int) -> None:
        """Row F of the active log, to check against this one's before anything is set aside."""
        self._fork_check = (fork, since, now_ms)
        self._send_peer(LogRequest(after=fork - 1, after_rejection=NO_REJECTIONS))

    def _row_checked(self, page: LogPage, now_ms: int) -> None:
        fork, since, _ = self._fork_check
        theirs = next((e for e in page.events if isinstance(e, dict) and e.get("gseq") == fork), None)
        if theirs is None:
            return   # not the page asked for: the next hub_state asks again after RETRY_MS
        self._fork_check = None
        mine = self.reader.conn.execute("SELECT type, station, epoch, seq, body FROM events WHERE gseq = ?",
                                        (fork,)).fetchone()
        if mine is None or (mine[0], mine[1], mine[2], mine[3], loads(mine[4])) != (
                theirs.get("type"), theirs.get("station"), theirs.get("epoch"), theirs.get("seq"), theirs.get("body")):
            self._diverged = True   # not the same history even before the fork: a person must look, nothing moves
            self._say(t("hub.pair_live.diverged", self.lang, gseq=fork))
            return
        self._set_aside(fork, since, now_ms)

    def _set_aside(self, fork: int, since: int, now_ms: int) -> None:
        self._forked = fork
        self._say(t("hub.pair_live.set_aside", self.lang, n=self._last_gseq() - fork, gseq=fork))
        self.copy_writer.start(lambda: self.store.set_aside_after(fork, since, now_ms), [])

    def _from_peer_reply(self, frames: list[bytes], now_ms: int) -> None:
        try:
            msg = codec.decode(frames, bounds.REPLY_MAX).message
        except ProtocolError:
            return
        if isinstance(msg, LogPage) and self._fork_check is not None and self.pair.state == bs.PASSIVE:
            self._row_checked(msg, now_ms)
        elif isinstance(msg, LogPage) and self.copy is not None and self.pair.state == bs.PASSIVE:
            try:
                events = [Committed(**e) for e in msg.events]
                rejections = [(int(rid), Rejection(**r)) for rid, r in msg.rejections]
            except (TypeError, ValueError):
                return   # not a page this hub can read: the copy asks again after its retry time
            self._copy_out(self.copy.page(events, rejections, msg.more, now_ms))

    def _copy_out(self, out: Copy) -> None:
        if out.events or out.rejections:
            rows, rejections = self._copy_queue
            rows += [Row(e.gseq, e.station, e.epoch, e.seq, e.type, e.station_ms, e.recv_ms, e.body)
                     for e in out.events]
            rejections += out.rejections
            self._copy_start()
        if out.ask is not None:
            self._send_peer(LogRequest(after=out.ask[0], after_rejection=out.ask[1]))

    def _copy_start(self) -> None:
        rows, rejections = self._copy_queue
        if self.copy_writer.busy or not (rows or rejections):
            return
        self._copy_queue = ([], [])
        self._copy_rows = rows
        self.copy_writer.start(rows, rejections)

    def _write_copy(self, rows: Any, rejections: list) -> list[int]:
        """On the copy's writer thread: the rows with the active log's gseqs (or the one set-aside, a callable)."""
        if callable(rows):
            rows()
        else:
            self.store.append_copy(rows, rejections)
        return []

    def _copy_written(self) -> None:
        """The writer thread finished: fold what it wrote, or start the copy again from what the log holds."""
        if self._forked is not None:
            self._set_aside_done()
            return
        try:
            self.copy_writer.result()
        except StoreError as exc:
            self._say(t("hub.pair_live.copy_failed", self.lang, why=exc.sentence(self.lang)))
            self._copy_queue = ([], [])
            if self.copy is not None:
                self.copy.restart(self._last_gseq(), self.reader.last_rejection_id())
            return
        for row in self._copy_rows:
            fold.apply(self.ingest.state, row)
        self._copy_rows = []
        self._copy_start()

    def _set_aside_done(self) -> None:
        """The tail is set aside: the picture is folded again from the log that is left, and the copy begins."""
        self._forked = None
        try:
            self.copy_writer.result()
        except StoreError as exc:   # nothing moved: the next hub_state tries again
            self._say(t("hub.pair_live.copy_failed", self.lang, why=exc.sentence(self.lang)))
            return
        picture = fold.new_state({**self.event.summary(), "plans": self.library.summary()})
        for row in self.reader.since(0):
            fold.apply(picture, row)
        self.ingest.state = picture
        self.ingest.snapshots = replies.Snapshots()   # their gseqs name rows that are gone
        self.copy = LogCopy(self._last_gseq(), self.reader.last_rejection_id())

    def _copy_settle(self) -> None:
        """Before this hub writes on its own: every copy write done and folded."""
        while self.copy_writer is not None and self.copy_writer.busy:
            zmq.select([self.copy_writer.fd], [], [], 1.0)
            if self.copy_writer.done():
                self._copy_written()
        self._copy_queue = ([], [])

    def _send_peer(self, msg: Any) -> None:
        try:
            self.peer_dealer.send_multipart(self.peer_session.frames(msg), _NOBLOCK)
        except zmq.ZMQError:
            pass   # the peer's pipe is full or gone: the copy asks again after its retry time
