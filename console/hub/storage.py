"""The hub's watch over its own log: one line and one alarm when the log starts failing, one of each when it works again.

The store counts its writes and failures; `StorageWatch.update` turns those counts into the
hub's live-log lines and `storage` / `storage_ok` alarms, so however many batches fail there
is one alarm for the whole stretch (the log must then take writes for RECOVER_MS with no
failure before it counts as working again). An alarm raised while the log cannot be written
waits in `pending` and is offered again each tick until it lands. `refuse_batch` answers a
batch whose reading of the log failed: E_STORAGE for every report, the rest handled apart.
Knows the store, the codec and the catalogue; no sockets.
"""
from __future__ import annotations

from typing import Callable

from console.hub.batch import Peer

# Ingest's own: the header of frames that have a readable one, and the nack that answers it.
from console.hub.ingest_refusals import header_or_none as header_of
from console.hub.ingest_refusals import nack as nack_for
from console.hub.store import Store
from protocols.codec import ProtocolError
from protocols.i18n import t
from protocols.messages import CONTROL, Alarm
from protocols.session import REPLIES

RECOVER_MS = 5000


class StorageWatch:
    """Follows `store.failures` / `store.writes`; says and alarms at the edges only."""

    def __init__(self, store: Store, say: Callable[[str], None], lang: str) -> None:
        self.store, self.say, self.lang = store, say, lang
        self.down_since: int | None = None   # when the current stretch of failures began (ms)
        self.pending: list[Alarm] = []       # alarms not yet in the log
        self._failures = store.failures
        self._failed_at = 0
        self._writes_then = store.writes
        self._failed_count = 0

    def update(self, now_ms: int) -> None:
        store = self.store
        if store.failures != self._failures:
            self._failed_count += store.failures - self._failures
            self._failures, self._failed_at, self._writes_then = store.failures, now_ms, store.writes
            # A failure the next write already mended (within the tick) still opens a stretch.
            if self.down_since is None and store.last_error is not None:
                self.down_since = now_ms
                self.say(t("hub.log.storage_failing", self.lang, reason=store.last_error.sentence(self.lang)))
                self.pending.append(Alarm(code="storage", reason=store.last_error.sentence("en")[:2000]))
        elif (self.down_since is not None and store.writes > self._writes_then
              and now_ms - self._failed_at >= RECOVER_MS):
            figures = {"seconds": (self._failed_at - self.down_since) // 1000, "failed": self._failed_count}
            self.say(t("hub.log.storage_ok", self.lang, **figures))
            self.pending.append(Alarm(code="storage_ok", reason=t("hub.log.storage_ok", "en", **figures)))
            self.down_since, self._failed_count = None, 0


def refuse_batch(batch: list[tuple[bytes, Peer, list[bytes]]]
                 ) -> tuple[list[tuple[bytes, list[bytes]]], list[tuple[bytes, Peer, list[bytes]]]]:
    """(E_STORAGE replies for every report in `batch`, the control messages to handle apart).

    Control messages (hello, heartbeat, snapshot and guest-page requests) never read the log,
    so a failing disk must not cost a station its heartbeat answers.
    """
    err = ProtocolError("E_STORAGE")
    replies, controls = [], []
    for item in batch:
        address, _peer, frames = item
        header = header_of(frames)
        if header is not None and header.type in CONTROL:
            controls.append(item)
            continue
        replies.append((address, REPLIES.frames(nack_for(header, err))))
    return replies, controls
