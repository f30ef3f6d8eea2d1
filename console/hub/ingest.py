"""Ingest: one batch of inbound frames in, one commit, then the replies and publications out.

The reliability contract lives here, free of sockets so it can be tested on its own:
per (station, epoch) reports are taken strictly in order; a resend is re-acked and never
re-applied; the same key with another body is a conflict; nothing is acked before the
commit that holds it. Every message a key sends is paid for from its bucket before anything
else (console/hub/guard.py), and every reply is cut to size (console/hub/replies.py). Knows the store
and the state fold; knows nothing of ZeroMQ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from console.core import guests_rules, incident_notices, plan_library, plans, readiness, sendoff, services
from console.core import state as fold
from console.core.clock_skew import Skew
from console.core.semantics import References
from console.event import guests as guest_file
from console.event import plan_files
from console.event.folder import Event
from console.hub import live_summary, replies
from console.hub.batch import Batch, Later, Peer
from console.hub.guard import Alarms, Cursors, Guard
from console.hub.ingest_control import Control
from console.hub.ingest_refusals import Refusals, header_or_none, nack
from console.hub.store import Rejection, Row, Store, StoreError, dumps, loads
from protocols import bounds, codec
from protocols.codec import Envelope, Header, ProtocolError, schema_error
from protocols.messages import ALLOWED, CONTROL, Ack, Committed, GuestList, Nack, StationStatus
from protocols.session import REPLIES

HUB = "hub"
PLAN_ROUNDS = 4   # start -> its instructions -> (nothing): each decision round is one more commit
# commit(rows, rejections, late): the rows' gseqs, or StoreError. `late()` makes the E_STORAGE nacks of
# the batch's reports, for a hub that answers them when the commit takes too long (made only then).
Commit = Callable[[list, list, Callable[[], list]], list]


@dataclass
class Outcome:
    """What one batch produced: replies to send (peer address, frames) and topics to publish; `later`,
    replies to build once those are sent (a snapshot: the costly part must never delay an ack)."""

    replies: list[tuple[bytes, list[bytes]]] = field(default_factory=list)
    publish: list[list[bytes]] = field(default_factory=list)
    stored: list[Row] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0
    later: list[tuple[bytes, Later]] = field(default_factory=list)

    def all_replies(self) -> list[tuple[bytes, list[bytes]]]:
        """Every reply, the later ones built now: for a caller that is not the hub's loop."""
        return self.replies + [(address, REPLIES.frames(later.build())) for address, later in self.later]


def last_seq_in(store: Store) -> Callable[[str, str], int | None]:
    """The highest seq the log has handled for (station, epoch), stored or finally rejected; None if none."""
    def lookup(station: str, epoch: str) -> int | None:
        seqs = [store.conn.execute(f"SELECT MAX(seq) FROM {table} WHERE station = ? AND epoch = ? AND seq > 0",
                                   (station, epoch)).fetchone()[0] for table in ("events", "rejections")]
        found = [s for s in seqs if s is not None]
        return max(found) if found else None
    return lookup


class Ingest(Control, Refusals):
    """The hub's brain: validates, orders, dedupes, commits and folds. One instance per log."""

    def __init__(self, store: Store, event: Event, drill: bool = False,
                 library: plan_library.Library | None = None, *,
                 lookup: Callable[[str, str], int | None] | None = None, commit: Commit | None = None) -> None:
        self.store, self.event, self.drill = store, event, drill
        self.library = library if library is not None else plan_files.shipped(event)
        self.state = fold.new_state({**event.summary(), "plans": self.library.summary()})
        for row in store.since(0):
            fold.apply(self.state, row)
        self.cursors = Cursors(lookup or last_seq_in(store))
        self.commit: Commit = commit or (lambda rows, rejections, late: store.append_batch(rows, rejections))
        self.hub_epoch = store.get_meta("hub_epoch") or "hub"
        self.guard = Guard(event.hub.rate_per_s, event.hub.rate_burst)
        self.alarms = Alarms()
        self.budget = bounds.reply_max(event.hub.max_message_bytes)
        self.page_budget = bounds.page_max(event.hub.max_message_bytes)
        self.snapshots = replies.Snapshots()
        self.guest_pages = replies.GuestPages()
        self.refs = References(event, self.library, drill)
        self.stats = {"received": 0, "stored": 0, "duplicates": 0, "rejected": 0, "retry": 0, "dropped": 0}
        self.heard_floor_ms = 0   # the first clock reading: silence before it is the hub's own
        self.skew = Skew()
        # Two hubs (5.13): (hubs, pair) for a welcome at a time, set by the hub when the event names a backup.
        self.pair_info: Callable[[int], tuple[list, dict]] | None = None
        for sid, st in self.state.stations.items():
            if "offset_ms" in st:
                self.skew.known(sid, st["offset_ms"])

    # --- one batch ----------------------------------------------------------------------------
    def admit(self, peer: Peer, frames: list[bytes], now_ms: int) -> tuple[bool, Nack | None]:
        """Pay for one message before any work, whatever it is: (True, None) when paid; else (False, the
        E_RATE to send, or None when this key had one within RATE_NOTICE_MS and the message is dropped)."""
        self.stats["received"] += 1
        if self.guard.charge(peer.id, now_ms):
            return True, None
        self.stats["dropped"] += 1
        return False, (self._retry(frames, ProtocolError("E_RATE")) if self.guard.notice(peer.id, now_ms) else None)

    def handle(self, batch: list[tuple[bytes, Peer, list[bytes]]], now_ms: int, paid: bool = False) -> Outcome:
        """One batch; `paid` when each message has been through `admit` already (the hub does it as it reads)."""
        b = Batch(self.store.next_gseq)
        for address, peer, frames in batch:
            if not paid:
                ok, refusal = self.admit(peer, frames, now_ms)
                if not ok:
                    if refusal is not None:
                        b.replies.append((address, refusal))
                    continue
            try:
                env = codec.decode(frames, self.event.hub.max_message_bytes)
            except ProtocolError as err:
                b.replies.append((address, self._undecodable(b, peer, header_or_none(frames), err, now_ms)))
                continue
            reply = self._control(b, peer, env, now_ms) if env.header.type in CONTROL \
                else self._report(b, address, peer, env, now_ms)
            if reply is not None:   # a bye is answered with nothing (ingest_control)
                b.replies.append((address, reply))
        for alarm in b.alarms:
            self._hub_event(alarm, now_ms, b.pending, b.last)
        return self._plans(self._commit(b, now_ms, Outcome()), now_ms)

    def _report(self, b: Batch, address: bytes, peer: Peer, env: Envelope, now_ms: int) -> Any:
        h, msg = env.header, env.message
        if h.seq < 1:
            if h.station != peer.id:
                return self._identity(b, peer, h, now_ms, advance=False, claimed=h.station)
            err = ProtocolError("E_HEADER", inner=schema_error("seq", "problem.too_small", min=1, got=h.seq))
            return self._refuse(b, peer, h, err, now_ms, advance=False)
        done = self._opened(b, peer, h, now_ms)
        if isinstance(done, Nack):
            return done
        if h.seq <= done:
            if h.station != peer.id:
                return self._identity(b, peer, h, now_ms, advance=False, claimed=h.station)
            return self._again(b, peer, h, msg, now_ms)
        if h.station != peer.id:
            return self._identity(b, peer, h, now_ms, advance=True, claimed=h.station)
        try:
            if h.type not in ALLOWED.get(peer.post if peer.role == "station" else "desk", frozenset()):
                err = ProtocolError("E_FORBIDDEN", post_key=f"post.{peer.post}", kind_key=f"type.{h.type}")
                self._alarm(b, peer.id, err, now_ms)
                raise err
            self.refs.check(self.state, h.type, msg, b.new_ids, peer)
        except ProtocolError as err:
            return self._refuse(b, peer, h, err, now_ms, advance=True)
        b.last[(peer.id, h.epoch)] = h.seq
        index = len(b.pending)
        if h.type in ("incident_report", "incident_open", "instruction"):
            b.new_ids.add(b.next_g + index)
        b.keys[(peer.id, h.epoch, h.seq)] = index
        b.pending.append((address, h, msg, dumps(msg.as_body())))
        return index

    def _opened(self, b: Batch, peer: Peer, h: Header, now_ms: int) -> int | Nack:
        """The cursor of the report's (station, epoch); a new epoch opens at 0 if the key may start one.

        Order comes first: a report ahead of the cursor is a gap (E_GAP), whatever else is wrong with it.
        """
        key = (peer.id, h.epoch)
        done = self._cursor(b, key)
        if done is None:
            if h.seq == 1 and not self.guard.new_epoch(peer.id, now_ms):
                return self._retry_nack(h, ProtocolError("E_EPOCH"))
            done = 0
        if h.seq > done + 1:
            return self._retry_nack(h, ProtocolError("E_GAP", expected=done + 1), expected=done + 1)
        return done

    def _cursor(self, b: Batch, key: tuple[str, str]) -> int | None:
        done = b.last.get(key)
        return done if done is not None else self.cursors.get(key)

    def _commit(self, b: Batch, now_ms: int, out: Outcome) -> Outcome:
        pending = b.pending
        rows_in = [(h.station, h.epoch, h.seq, h.type, h.sent_ms, now_ms, body) for _, h, _, body in pending]
        def late() -> list[tuple[bytes, list[bytes]]]:
            err = ProtocolError("E_STORAGE")
            return [(address, REPLIES.frames(nack(pending[r][1], err))) for address, r in b.replies if isinstance(r, int)]
        try:
            gseqs = self.commit(rows_in, b.rejections, late)
        except StoreError:
            return self._uncommitted(b, out)
        self.cursors.update(b.last)
        for (address, h, msg, body), gseq in zip(pending, gseqs):
            row = Row(gseq, h.station, h.epoch, h.seq, h.type, h.sent_ms, now_ms, loads(body))
            fold.apply(self.state, row)
            out.stored.append(row)
            committed = Committed(gseq=gseq, station=row.station, epoch=row.epoch, seq=row.seq, type=row.type,
                                  station_ms=row.station_ms, recv_ms=now_ms, body=row.body)
            out.publish.append(replies.publication("feed", committed))
            if h.type == "instruction":   # targets are topic names
                out.publish.append(replies.publication(row.body["target"], committed))
            if h.type == "phone_revoke":   # the station server reads the station's own topic (issue 18)
                out.publish.append(replies.publication(f"station.{row.body['station']}", committed))
            for topic, line in live_summary.changes(self.state, lambda: self.event.summary()["lots"], committed):
                out.publish.append(replies.publication(topic, line))
        for address, r in b.replies:
            if address is None:
                continue
            if isinstance(r, Later):
                out.later.append((address, r))
                continue
            if isinstance(r, int):
                h = pending[r][1]
                r = Ack(epoch=h.epoch, seq=h.seq, gseq=gseqs[r])
            elif isinstance(r, tuple):  # a duplicate of something in this very batch
                h, index = r
                r = Ack(epoch=h.epoch, seq=h.seq, gseq=gseqs[index], duplicate=True)
            out.replies.append((address, REPLIES.frames(r)))
        out.rejected = b.rejections
        self.stats["stored"] += len(pending)
        self.stats["rejected"] += len(b.rejections)
        return out

    def _uncommitted(self, b: Batch, out: Outcome) -> Outcome:
        """The batch could not be written: what needed the commit (an ack, a recorded refusal) becomes
        E_STORAGE, to be sent again; what did not (a welcome, a heartbeat, a page, a gap) goes out as it is."""
        storage = ProtocolError("E_STORAGE")
        for alarm in b.alarms:
            self.alarms.unlogged(alarm)
        for address, r in b.replies:
            if isinstance(r, Later):   # needs no write: it goes out as it is
                out.later.append((address, r))
                continue
            if isinstance(r, int):
                r = nack(b.pending[r][1], storage)
            elif isinstance(r, tuple):
                r = nack(r[0], storage)
            elif isinstance(r, Nack) and not r.retry:
                r = Nack(epoch=r.epoch, seq=r.seq, code=storage.code, reason=storage.en, reason_zh=storage.zh,
                         retry=True)
            out.replies.append((address, REPLIES.frames(r)))
        self.stats["retry"] += len(b.pending)
        return out

    # --- the guest list ---------------------------------------------------------------------------
    def load_guests(self, guests: list[dict[str, Any]], source: str, now_ms: int, digest: str | None = None) -> Outcome:
        """Log a (new) guest list as a hub event; nothing when the log already holds this very list.
        `digest`: the list's `guest_file.digest`, when the caller has it already."""
        digest = digest or guest_file.digest(guests)
        if digest == self.state.guests["digest"]:
            return Outcome()
        return self.hub_events([GuestList(source=source[:500], digest=digest, guests=guests)], now_ms)

    # --- events the hub writes itself ----------------------------------------------------------
    def _hub_event(self, msg: Any, now_ms: int, pending: list, last: dict) -> None:
        key = (HUB, self.hub_epoch)
        seq = (last.get(key) or self.cursors.get(key) or 0) + 1
        last[key] = seq
        h = Header(type=msg.TYPE, station=HUB, epoch=self.hub_epoch, seq=seq, sent_ms=now_ms)
        pending.append((None, h, msg, dumps(msg.as_body())))

    def hub_events(self, messages: list[Any], now_ms: int) -> Outcome:
        """Log events the hub itself raises (liveness changes, alarms) outside any inbound batch,
        then whatever the plan engine decides at `now_ms` (the hub calls this every second)."""
        if not messages:
            return self._plans(Outcome(), now_ms)
        b = Batch(self.store.next_gseq)
        for msg in messages:
            self._hub_event(msg, now_ms, b.pending, b.last)
        return self._plans(self._commit(b, now_ms, Outcome()), now_ms)

    def tick(self, now_ms: int) -> Outcome:
        """Every second: liveness changes, alarm repeats whose time has come, then the plan engine."""
        due = self.alarms.due(now_ms)
        # Clock estimates a control batch has not logged yet (those answered while a commit was in flight).
        out = self.hub_events(self.liveness_changes(now_ms) + self.skew.to_log() + due, now_ms)
        if due and not any(row.type == "alarm" for row in out.stored):   # not written: again next time
            for alarm in due:
                self.alarms.unlogged(alarm)
        return out

    def _plans(self, out: Outcome, now_ms: int) -> Outcome:
        """Let console.core.plans act on the state just committed; its decisions are logged as hub events
        and published like any other. A decision that depends on another (a run's instructions need
        the run id) comes in the next round, after the first is folded."""
        if not self.heard_floor_ms:
            self.heard_floor_ms = now_ms
        for _ in range(PLAN_ROUNDS):
            # The rules read the log's time: scenario time in a drill (console.core.state), so they scale with it.
            now, floor = fold.event_ms(self.state, now_ms), fold.event_ms(self.state, self.heard_floor_ms)
            decisions = plans.evaluate(self.state, self.library, now, floor)
            decisions += readiness.evaluate(self.state, now) + guests_rules.evaluate(self.state, now)
            decisions += sendoff.evaluate(self.state, now)
            decisions += services.evaluate(self.state, now)
            decisions += incident_notices.evaluate(self.state, floor)
            if not decisions:
                break
            b = Batch(self.store.next_gseq)
            for msg in decisions:
                self._hub_event(msg, now_ms, b.pending, b.last)
            more = self._commit(b, now_ms, Outcome())
            if not more.stored:
                break   # the log could not be written: the next tick decides again
            out.stored += more.stored
            out.publish += more.publish
        return out

    def liveness_changes(self, now_ms: int) -> list[StationStatus]:
        """A station_status for every station whose liveness differs from the one last logged."""
        changes = []
        for sid, st in self.state.stations.items():
            status = fold.liveness(self.state, sid, now_ms, self.heard_floor_ms)
            if status != "unknown" and status != st.get("status"):
                changes.append(StationStatus(station=sid, status=status, last_heard_ms=st.get("last_heard_ms", 0)))
        return changes
