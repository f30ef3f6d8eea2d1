"""Ingest: one batch of inbound frames in, one commit, then the replies and publications out.

The reliability contract lives here, free of sockets so it can be tested on its own:
per (station, epoch) reports are taken strictly in order; a resend is re-acked and never
re-applied; the same key with another body is a conflict; nothing is acked before the
commit that holds it. Knows the store and the state fold; knows nothing of ZeroMQ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console import guests as guest_file
from console import guests_rules, plan_library, plans, readiness
from console import state as fold
from console.event import Event
from console.semantics import References
from console.store import Rejection, Row, Store, StoreError, dumps, loads
from protocols import codec
from protocols.codec import Envelope, Header, ProtocolError, schema_error
from protocols.messages import (ALLOWED, CONTROL, Ack, Alarm, Committed, GuestList, GuestPage, Heartbeat,
                                Nack, Snapshot, StationStatus, Welcome)

HUB = "hub"
PLAN_ROUNDS = 4   # start -> its instructions -> (nothing): each decision round is one more commit
PAGE_ROOM = 2048  # bytes a guest page leaves free under the limit for its frames and map headers


@dataclass(frozen=True, slots=True)
class Peer:
    """Who sent a message, from the CURVE key alone: role ("station" or "desk"), id and post."""

    role: str
    id: str
    post: str


@dataclass
class Outcome:
    """What one batch produced: replies to send (peer address, frames) and topics to publish."""

    replies: list[tuple[bytes, list[bytes]]] = field(default_factory=list)
    publish: list[list[bytes]] = field(default_factory=list)
    stored: list[Row] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


class _TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: int, now_ms: int) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), now_ms

    def take(self, now_ms: int) -> bool:
        self.tokens = min(self.burst, self.tokens + (now_ms - self.at) * self.rate / 1000.0)
        self.at = now_ms
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Ingest:
    """The hub's brain: validates, orders, dedupes, commits and folds. One instance per log."""

    def __init__(self, store: Store, event: Event, drill: bool = False,
                 library: plan_library.Library | None = None) -> None:
        self.store, self.event, self.drill = store, event, drill
        self.library = library if library is not None else plan_library.shipped(event)
        self.state = fold.new_state({**event.summary(), "plans": self.library.summary()})
        for row in store.since(0):
            fold.apply(self.state, row)
        self.last = store.last_seqs()
        self.hub_epoch = store.get_meta("hub_epoch") or "hub"
        self.buckets: dict[str, _TokenBucket] = {}
        self.refs = References(event, self.library, drill)
        self.stats = {"received": 0, "stored": 0, "duplicates": 0, "rejected": 0, "retry": 0}
        self._pages: tuple[str, list[list[dict[str, Any]]]] = ("", [])
        self.heard_floor_ms = 0   # the first clock reading: silence before it is the hub's own

    # --- one batch ----------------------------------------------------------------------------
    def handle(self, batch: list[tuple[bytes, Peer, list[bytes]]], now_ms: int) -> Outcome:
        out = Outcome()
        pending: list[tuple[bytes, Header, Any, str]] = []   # address, header, message, body json
        replies: list[tuple[bytes, Any]] = []                 # address, reply or index into pending
        rejections: list[Rejection] = []
        hub_events: list[tuple[str, Any]] = []
        last = dict()                                         # this batch's view of self.last
        keys_in_batch: dict[tuple[str, str, int], int] = {}   # key -> index in pending
        new_ids: set[int] = set()
        next_g = self.store.next_gseq
        for address, peer, frames in batch:
            self.stats["received"] += 1
            try:
                env = codec.decode(frames, self.event.hub.max_message_bytes)
            except ProtocolError as err:
                header = _header_or_none(frames)
                replies.append((address, self._refuse_undecodable(peer, header, err, now_ms, rejections, last)))
                continue
            h, msg = env.header, env.message
            if h.type in CONTROL:
                replies.append((address, self._control(peer, env, now_ms)))
                continue
            allowed = ALLOWED.get(peer.post if peer.role == "station" else "desk", frozenset())
            if h.station != peer.id:
                err = ProtocolError("E_IDENTITY", bound=peer.id, claimed=h.station)
                hub_events.append(("alarm", Alarm(code="E_IDENTITY", station=peer.id, reason=err.en)))
                replies.append((address, self._refuse(peer, h, err, now_ms, rejections, None)))
                continue
            if h.seq < 1:
                err = ProtocolError("E_HEADER", inner=schema_error("seq", "problem.too_small", min=1, got=h.seq))
                replies.append((address, self._refuse(peer, h, err, now_ms, rejections, None)))
                continue
            key = (peer.id, h.epoch)
            done = last.get(key, self.last.get(key, 0))
            if h.seq <= done:
                again = self._again(peer, h, msg, keys_in_batch, pending, rejections)
                if isinstance(again, Nack) and again.code == "E_CONFLICT":
                    hub_events.append(("alarm", Alarm(code="E_CONFLICT", station=peer.id, reason=again.reason)))
                    rejections.append(Rejection(peer.id, h.epoch, 0, h.type, again.code, again.reason,
                                                again.reason_zh, now_ms, f"seq {h.seq}"))
                replies.append((address, again))
                continue
            if h.seq > done + 1:
                self.stats["retry"] += 1
                err = ProtocolError("E_GAP", expected=done + 1)
                replies.append((address, _nack(h, err, expected=done + 1)))
                continue
            try:
                if h.type not in allowed:
                    raise ProtocolError("E_FORBIDDEN", post_key=f"post.{peer.post}", kind_key=f"type.{h.type}")
                self.refs.check(self.state, h.type, msg, new_ids, peer)
            except ProtocolError as err:
                replies.append((address, self._refuse(peer, h, err, now_ms, rejections, last)))
                continue
            if not self._bucket(peer.id, now_ms).take(now_ms):
                self.stats["retry"] += 1
                replies.append((address, _nack(h, ProtocolError("E_RATE"))))
                continue
            last[key] = h.seq
            gseq = next_g + len(pending)
            if h.type in ("incident_report", "incident_open", "instruction"):
                new_ids.add(gseq)
            keys_in_batch[(peer.id, h.epoch, h.seq)] = len(pending)
            replies.append((address, len(pending)))
            pending.append((address, h, msg, dumps(msg.as_body())))
        for kind, msg in hub_events:
            self._hub_event(msg, now_ms, pending, last)
        return self._plans(self._commit(pending, replies, rejections, last, now_ms, out), now_ms)

    def _commit(self, pending, replies, rejections, last, now_ms, out: Outcome) -> Outcome:
        rows_in = [(h.station, h.epoch, h.seq, h.type, h.sent_ms, now_ms, body) for _, h, _, body in pending]
        try:
            gseqs = self.store.append_batch(rows_in, rejections)
        except StoreError:
            err = ProtocolError("E_STORAGE")
            for address, r in replies:
                if isinstance(r, int):
                    h = pending[r][1]
                    out.replies.append((address, codec.encode(_nack(h, err))))
            self.stats["retry"] += len(pending)
            return out
        self.last.update(last)
        for (address, h, msg, body), gseq in zip(pending, gseqs):
            row = Row(gseq, h.station, h.epoch, h.seq, h.type, h.sent_ms, now_ms, loads(body))
            fold.apply(self.state, row)
            out.stored.append(row)
            committed = Committed(gseq=gseq, station=row.station, epoch=row.epoch, seq=row.seq, type=row.type,
                                  station_ms=row.station_ms, recv_ms=now_ms, body=row.body)
            out.publish.append(codec.encode_topic("feed", committed))
            if h.type == "instruction":
                out.publish.append(codec.encode_topic(row.body["target"], committed))  # targets are topic names
        for address, r in replies:
            if address is None:
                continue
            if isinstance(r, int):
                h = pending[r][1]
                r = Ack(epoch=h.epoch, seq=h.seq, gseq=gseqs[r])
            elif isinstance(r, tuple):  # a duplicate of something in this very batch
                h, index = r
                r = Ack(epoch=h.epoch, seq=h.seq, gseq=gseqs[index], duplicate=True)
            out.replies.append((address, codec.encode(r)))
        out.rejected = rejections
        self.stats["stored"] += len(pending)
        self.stats["rejected"] += len(rejections)
        return out

    # --- pieces ---------------------------------------------------------------------------------
    def _control(self, peer: Peer, env: Envelope, now_ms: int) -> Any:
        msg = env.message
        if peer.role == "station":
            fold.touch(self.state, peer.id, now_ms, getattr(msg, "outbox", 0))
        if env.header.type == "heartbeat":
            return Heartbeat(outbox=0)
        if env.header.type == "snapshot_request":
            return Snapshot(gseq=self.state.gseq, state=fold.to_wire(self.state))
        if env.header.type == "guest_list_request":
            return self.guest_page(msg.digest, msg.page)
        h = env.header
        instructions = fold.instructions_for(self.state, peer.id, peer.post) if peer.role == "station" else []
        return Welcome(station=peer.id, post=peer.post, server_ms=now_ms,
                       heartbeat_ms=int(self.event.hub.heartbeat_s * 1000),
                       last_seq=self.last.get((peer.id, h.epoch), 0), drill=self.drill,
                       event=self.summary_for(peer), instructions=instructions)

    def summary_for(self, peer: Peer) -> dict[str, Any]:
        """The event summary a welcome carries: a station gets its own roster lines and the guest list's version."""
        summary = self.event.summary()
        if peer.role == "station":
            summary["roster"] = [r for r in summary["roster"] if r["station"] == peer.id]
        g = self.state.guests
        summary["guests"] = {"digest": g["digest"], "count": len(g["list"])}
        return summary

    # --- the guest list ---------------------------------------------------------------------------
    def load_guests(self, guests: list[dict[str, Any]], source: str, now_ms: int) -> Outcome:
        """Log a (new) guest list as a hub event; nothing when the log already holds this very list."""
        digest = guest_file.digest(guests)
        if digest == self.state.guests["digest"]:
            return Outcome()
        return self.hub_events([GuestList(source=source[:500], digest=digest, guests=guests)], now_ms)

    def guest_page(self, digest: str, page: int) -> GuestPage:
        """One page of the list as stations keep it, each page small enough for a station to decode."""
        g = self.state.guests
        if not g["digest"] or digest == g["digest"]:
            return GuestPage(digest=g["digest"], page=0, pages=0, count=len(g["list"]))
        if self._pages[0] != g["digest"]:
            self._pages = (g["digest"], _paginate([guest_file.for_station(x) for x in g["list"].values()],
                                                  min(self.event.hub.max_message_bytes, codec.MAX_BYTES) - PAGE_ROOM))
        pages = self._pages[1]
        page = min(page, len(pages) - 1)
        return GuestPage(digest=g["digest"], page=page, pages=len(pages), count=len(g["list"]), guests=pages[page])

    def _again(self, peer: Peer, h: Header, msg: Any, keys_in_batch: dict, pending: list,
               rejections: list[Rejection]) -> Any:
        """A report at or below the last handled seq: a resend (ack again), a conflict, or a re-nack."""
        body = dumps(msg.as_body())
        index = keys_in_batch.get((peer.id, h.epoch, h.seq))
        if index is not None:
            same = pending[index][1].type == h.type and pending[index][3] == body
            stored = (h, index) if same else None
        else:
            found = self.store.find(peer.id, h.epoch, h.seq)
            if found is None:
                rej = self.store.find_rejection(peer.id, h.epoch, h.seq) or next(
                    ((r.code, r.reason, r.reason_zh) for r in reversed(rejections)   # rejected in this batch
                     if (r.station, r.epoch, r.seq) == (peer.id, h.epoch, h.seq)), None)
                code = rej[0] if rej else "E_STORAGE"
                return Nack(epoch=h.epoch, seq=h.seq, code=code, reason=rej[1] if rej else "",
                            reason_zh=rej[2] if rej else "", retry=rej is None)
            same = found[1] == h.type and found[2] == body
            stored = Ack(epoch=h.epoch, seq=h.seq, gseq=found[0], duplicate=True) if same else None
        if stored is None:
            err = ProtocolError("E_CONFLICT", seq=h.seq)
            self.stats["rejected"] += 1
            return _nack(h, err)
        self.stats["duplicates"] += 1
        return stored

    def _refuse_undecodable(self, peer: Peer, header: Header | None, err: ProtocolError, now_ms: int,
                            rejections: list[Rejection], last: dict) -> Nack:
        """A report whose body failed: ordering still comes first, exactly as for a good one.

        Ahead of the cursor it is a gap (resend in order, nothing final yet); behind it, it
        was handled before, so the same final answer is given again.
        """
        if header is not None and header.seq >= 1 and header.station == peer.id:
            key = (peer.id, header.epoch)
            done = last.get(key, self.last.get(key, 0))
            if header.seq > done + 1:
                self.stats["retry"] += 1
                return _nack(header, ProtocolError("E_GAP", expected=done + 1), expected=done + 1)
            if header.seq <= done:
                rej = self.store.find_rejection(peer.id, header.epoch, header.seq)
                if rej is not None:
                    return Nack(epoch=header.epoch, seq=header.seq, code=rej[0], reason=rej[1],
                                reason_zh=rej[2], retry=False)
                return _nack(header, err)
        return self._refuse(peer, header, err, now_ms, rejections, last)

    def _refuse(self, peer: Peer, header: Header | None, err: ProtocolError, now_ms: int,
                rejections: list[Rejection], last: dict | None) -> Nack:
        """A final (or retryable) rejection: recorded, and counted as handled when it is final."""
        epoch, seq, type_ = (header.epoch, header.seq, header.type) if header else ("", 0, "")
        if err.retry:
            return _nack(header, err)
        final_seq = seq if (last is not None and header is not None and seq >= 1) else 0
        if final_seq:
            key = (peer.id, epoch)
            done = last.get(key, self.last.get(key, 0))
            if final_seq != done + 1:   # out of order or old: don't move the cursor
                final_seq = 0
            else:
                last[key] = final_seq
        rejections.append(Rejection(peer.id, epoch, final_seq, type_[:64], err.code, err.en, err.zh, now_ms))
        return _nack(header, err)

    def _bucket(self, station: str, now_ms: int) -> _TokenBucket:
        b = self.buckets.get(station)
        if b is None:
            b = self.buckets[station] = _TokenBucket(self.event.hub.rate_per_s, self.event.hub.rate_burst, now_ms)
        return b

    def _hub_event(self, msg: Any, now_ms: int, pending: list, last: dict) -> None:
        key = (HUB, self.hub_epoch)
        seq = last.get(key, self.last.get(key, 0)) + 1
        last[key] = seq
        h = Header(type=msg.TYPE, station=HUB, epoch=self.hub_epoch, seq=seq, sent_ms=now_ms)
        pending.append((None, h, msg, dumps(msg.as_body())))

    def hub_events(self, messages: list[Any], now_ms: int) -> Outcome:
        """Log events the hub itself raises (liveness changes, alarms) outside any inbound batch,
        then whatever the plan engine decides at `now_ms` (the hub calls this every second)."""
        if not messages:
            return self._plans(Outcome(), now_ms)
        pending: list = []
        last: dict = {}
        for msg in messages:
            self._hub_event(msg, now_ms, pending, last)
        return self._plans(self._commit(pending, [], [], last, now_ms, Outcome()), now_ms)

    def _plans(self, out: Outcome, now_ms: int) -> Outcome:
        """Let console.plans act on the state just committed; its decisions are logged as hub events
        and published like any other. A decision that depends on another (a run's instructions need
        the run id) comes in the next round, after the first is folded."""
        if not self.heard_floor_ms:
            self.heard_floor_ms = now_ms
        for _ in range(PLAN_ROUNDS):
            # The rules read the log's time: scenario time in a drill (console.state), so they scale with it.
            now, floor = fold.event_ms(self.state, now_ms), fold.event_ms(self.state, self.heard_floor_ms)
            decisions = plans.evaluate(self.state, self.library, now, floor)
            decisions += readiness.evaluate(self.state, now) + guests_rules.evaluate(self.state, now)
            if not decisions:
                break
            pending: list = []
            last: dict = {}
            for msg in decisions:
                self._hub_event(msg, now_ms, pending, last)
            more = self._commit(pending, [], [], last, now_ms, Outcome())
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


def _paginate(entries: list[dict[str, Any]], budget: int) -> list[list[dict[str, Any]]]:
    """Entries in pages whose packed size stays under `budget` bytes (always at least one page)."""
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for entry in entries:
        size = len(codec.pack(entry)) + 1
        if pages[-1] and used + size > budget:
            pages.append([])
            used = 0
        pages[-1].append(entry)
        used += size
    return pages


def _header_or_none(frames: list[bytes]) -> Header | None:
    if len(frames) == 3 and frames[0] == codec.SIGNATURE:
        try:
            return codec.decode_header(frames[1])
        except ProtocolError:
            return None
    return None


def _nack(header: Header | None, err: ProtocolError, expected: int = 0) -> Nack:
    return Nack(epoch=header.epoch if header else "", seq=header.seq if header else 0, code=err.code,
                reason=err.en, reason_zh=err.zh, retry=err.retry, expected=expected)
