"""The hub's side of two hubs (issue 19, PROTOCOL.md 5.13): its Binary Star state, its peer, the warm copy and the switch.

A mixin of Hub (console/hub/server.py). With no backup in event.toml it does nothing and the hub is active
as it always was. With one, the hub publishes `hub_state` under `hub` every heartbeat and on each change,
follows its peer's `hub.` and `feed.` (a SUB with the console's own keys, which the peer's ZAP admits as role
`hub`), refuses every client with E_PASSIVE while it is not active, keeps a warm copy of the active log
while passive (console/hub/pair_copy.py: `log_request` / `log_page` on a DEALER to the peer),
and writes `hub_switch` as the first event of each era it starts. The rules are console/core/binary_star.py's
and console/core/log_copy.py's, given the hub's clock; this module only carries their inputs and outputs.
"""
from __future__ import annotations

import sqlite3
from dataclasses import asdict
from itertools import islice
from typing import Any

import zmq

from console.core import binary_star as bs
from console.core.log_copy import RETRY_MS, LogCopy
from console.hub import replies
from console.hub.batch import Peer
from console.hub.guard import Cursors
from console.hub.ingest import last_seq_in
from console.hub.ingest_refusals import header_or_none, nack
from console.hub.pair_copy import PairCopy
from console.hub.store import Rejection, Row, StoreError
from console.hub.writer import Writer
from protocols import bounds, codec, curve
from protocols.codec import ProtocolError
from protocols.i18n import t
from protocols.messages import (
    Alarm,
    Committed,
    Hello,
    HubState,
    HubSwitch,
    LogPage,
    LogRequest,
    Nack,
    body_of,
)
from protocols.session import REPLIES, Session

HUB_PEER = Peer("hub", "hub", "hub")   # the other hub, admitted by the console's own key
IN_STEP_GSEQS = 5      # a peer this close to our log's end is in step (PROTOCOL.md 5.13, the desk)
ALONE_MS = 5000        # the active hub alone this long: alarm hub_alone
PAGE_ROWS = 500        # events read for one log page before it is cut to the reply limit
_NOBLOCK = int(zmq.NOBLOCK)


class Pairing(PairCopy):
    """Hub's Binary Star state, its peer sockets and the warm copy; all inert when the event names no backup."""

    def _pair_setup(self, backup: bool) -> None:
        hub = self.event.hub
        self.paired = bool(hub.backup_endpoint and hub.backup_feed)
        self.role = bs.BACKUP if backup else bs.PRIMARY
        mine, other = ((hub.backup_endpoint, hub.backup_feed), (hub.endpoint, hub.feed)) if backup \
            else ((hub.endpoint, hub.feed), (hub.backup_endpoint, hub.backup_feed))
        self.pair_mine, self.pair_other = mine, other
        self.pair: bs.Pair | None = None
        self.copy: LogCopy | None = None
        self.copy_writer: Writer | None = None
        self._copy_queue: tuple[list[Row], list[tuple[int, Rejection]]] = ([], [])
        self._copy_rows: list[Row] = []   # what the writer thread is writing now
        self._forked: int | None = None    # a set-aside in flight: the fork point it keeps up to
        self._fork_check: tuple[int, int, int] | None = None   # (fork point, since_ms, asked at): row F asked for
        self._diverged = False             # row F differs: this log is not the history's, and is left as it is
        self._switch_due: str = ""         # an activation decided, its hub_switch not yet written
        self._started_event: Any = None    # hub_started, written with the first switch of this run
        self.peer_gseq = 0
        self._alone = False
        self._beat_ms = int(hub.heartbeat_s * 1000)
        self.pair_next = 0
        if self.paired:
            self.peers[self.public.decode()] = HUB_PEER

    # --- who is serving ----------------------------------------------------------------------
    def serving(self) -> bool:
        return self.pair is None or self.pair.state == bs.ACTIVE

    def pair_status(self, now_ms: int) -> dict[str, Any]:
        """The welcome's and presence's `pair` (PROTOCOL.md 5.13); peer `none` with one hub."""
        if self.pair is None:
            return {"me": self.role, "era": 0, "peer": "none"}
        p = self.pair
        if p.peer_heard_ms is None or p.peer_lost(now_ms):
            peer = "lost"
        elif abs(self.peer_gseq - self._last_gseq()) <= IN_STEP_GSEQS:
            peer = "in_step"
        else:
            peer = "behind"
        return {"me": self.role, "era": p.era, "peer": peer}

    def pair_hubs(self) -> list[dict[str, str]]:
        """The welcome's `hubs`: both hubs' endpoints, the active one first; [] with one hub."""
        if self.pair is None:
            return []
        first, second = (self.pair_mine, self.pair_other) if self.serving() else (self.pair_other, self.pair_mine)
        return [{"endpoint": e, "feed": f} for e, f in (first, second)]

    def _last_gseq(self) -> int:
        return self.store.next_gseq - 1

    # --- start ---------------------------------------------------------------------------------
    def _pair_start(self, now_ms: int, started: Any) -> bool:
        """At run(): the state machine, the peer's sockets, the copy's writer. False with one hub
        (the caller logs hub_started as ever); True when hub_started waits for this run's first switch."""
        if not self.paired:
            return False
        era = max((s["era"] for s in self.ingest.state.hub.get("switches", ())), default=0)
        self.pair = bs.start(self.role, now_ms, self._beat_ms, era=era)
        self._started_event = started
        keys = (self.public, self.secret, self.public)
        endpoint, feed = self.pair_other
        self.peer_sub = curve.client_socket(self.ctx, zmq.SUB, keys, subscribe=("hub", "feed"), connect=feed)
        self.peer_dealer = curve.client_socket(self.ctx, zmq.DEALER, keys, connect=endpoint)
        self.peer_session = Session("hub", self.ingest.hub_epoch, "hub", lambda: self.clock() / 1000)
        self.copy_writer = Writer(self._write_copy)
        self._beat(now_ms)
        return True

    def _pair_sockets(self) -> list:
        if self.pair is None:
            return []
        return [self.peer_sub, self.peer_dealer, self.copy_writer.fd]

    def _pair_wait(self, now_ms: int) -> int:
        return max(0, self.pair_next - now_ms) if self.pair is not None else 100

    # --- every turn of the loop ----------------------------------------------------------------
    def _pair_step(self, ready: dict) -> None:
        if self.pair is None:
            return
        try:
            self._pair_turn(ready)
        except (StoreError, sqlite3.Error):   # the log cannot be read just now: the next turn tries again, the hub lives
            self._line(t("hub.pair_live.unreadable", self.lang))

    def _pair_turn(self, ready: dict) -> None:
        now = self.clock()
        if self.peer_sub in ready:
            for frames in _drain(self.peer_sub):
                self._from_peer_feed(frames, now)
        if self.peer_dealer in ready:
            for frames in _drain(self.peer_dealer):
                self._from_peer_reply(frames, now)
        if self.copy_writer.fd in ready and self.copy_writer.done():
            self._copy_written()
        if self.copy is not None and self.pair.state == bs.PASSIVE:
            self._copy_out(self.copy.tick(now))
        if now >= self.pair_next:
            self._beat(now)
        if self._switch_due:
            self._switch_now()

    def _beat(self, now_ms: int) -> None:
        self.pair_next = now_ms + self._beat_ms
        self._publish([REPLIES.topic_frames("hub", self._state_now())])

    def _beat_if_due(self) -> None:
        if self.pair is not None and self.clock() >= self.pair_next:
            self._beat(self.clock())

    def _state_now(self) -> HubState:
        return HubState(state=self.pair.state, era=self.pair.era, gseq=self._last_gseq(),
                        rejections=self.reader.last_rejection_id(), switches=self._switches())

    def _switches(self) -> list[list[int]]:
        return [[x["era"], x["after_gseq"]] for x in self.ingest.state.hub.get("switches", ())]

    def _from_peer_feed(self, frames: list[bytes], now_ms: int) -> None:
        try:
            msg = codec.decode(frames[1:], bounds.FEED_MAX).message
        except (ProtocolError, IndexError):
            return
        if isinstance(msg, HubState):
            self.peer_gseq = msg.gseq
            self._peer_said(msg, now_ms)
        elif isinstance(msg, Committed) and self.copy is not None and self.pair.state == bs.PASSIVE:
            self._copy_out(self.copy.feed(msg, now_ms))

    def _peer_said(self, msg: HubState, now_ms: int) -> None:
        before = self.pair.state
        step = bs.peer_said(self.pair, msg.state, msg.era, now_ms)
        self.pair = step.pair
        if step.switched:
            self._switch_due = step.reason
        elif step.gave_way:
            self._say(t("hub.pair_live.gave_way", self.lang, era=msg.era))
        if self.pair.state == bs.PASSIVE and before != bs.PASSIVE:
            self._follow()
        if self.pair.state != before:
            self._beat(now_ms)
        if self.pair.state != bs.PASSIVE or msg.state != bs.ACTIVE:
            return
        if self._fork_check is not None:
            if now_ms - self._fork_check[2] >= RETRY_MS:   # the row asked for never came: ask again
                self._ask_row(self._fork_check[0], self._fork_check[1], now_ms)
        elif self.copy is None and self._forked is None and not self.copy_writer.busy and not self._diverged:
            self._join_history(msg, now_ms)
        elif self.copy is not None:
            self._copy_out(self.copy.peer_at(msg.gseq, msg.rejections, now_ms))

    def _follow(self) -> None:
        """Turned passive: the copy starts once the active hub's switches say where this log joins its history."""
        self._say(t("hub.pair_live.passive", self.lang))
        self.copy = None
        self._send_peer(Hello(role="hub", app="eventdesk-hub"))

    # --- a client, or the other hub, on the ROUTER ---------------------------------------------
    def _pair_gate(self, address: bytes, peer: Peer, frames: list[bytes], now_ms: int) -> list[bytes] | None:
        """The reply to send at once instead of handling the message (the other hub's requests, E_PASSIVE);
        None when the message goes on to ingest (this hub serves, or just took over to serve it)."""
        if self.pair is None:
            return None
        if peer.role == "hub":
            return self._answer_hub(frames)
        if self.pair.state == bs.ACTIVE:
            return None
        step = bs.client_came(self.pair, now_ms)
        self.pair = step.pair
        if step.switched:
            self._switch_due = step.reason
            return None
        return REPLIES.frames(nack(header_or_none(frames), ProtocolError("E_PASSIVE")))

    def _answer_hub(self, frames: list[bytes]) -> list[bytes]:
        try:
            env = codec.decode(frames, self.event.hub.max_message_bytes)
        except ProtocolError as err:
            return REPLIES.frames(Nack(code=err.code, reason=err.en, reason_zh=err.zh))
        msg = env.message
        try:
            if isinstance(msg, LogRequest):
                return REPLIES.frames(self._log_page(msg.after, msg.after_rejection))
            return REPLIES.frames(self._state_now())
        except (StoreError, sqlite3.Error):   # the log cannot be read just now: the other hub asks again, this one lives
            return REPLIES.frames(nack(env.header, ProtocolError("E_STORAGE")))

    def _log_page(self, after: int, after_rejection: int) -> LogPage:
        """The log after `after` (events) and `after_rejection` (rejections), cut to the reply limit."""
        budget = self.ingest.budget - replies.ROOM
        events = [body_of(Committed(**row._asdict())) for row in islice(self.reader.since(after), PAGE_ROWS)]
        n = replies.fit(events, budget) if events else 0
        used = len(codec.pack(events[:n]))
        rows = [[rid, asdict(rej)] for rid, rej in self.reader.rejections_since(after_rejection, PAGE_ROWS)]
        m = replies.fit(rows, budget - used) if rows and used < budget else 0
        if m and len(codec.pack(rows[:m])) > budget - used:
            m = 0
        more = n < len(events) or len(events) == PAGE_ROWS or m < len(rows)
        return LogPage(events=events[:n], rejections=rows[:m], more=more)

    # --- the warm copy -------------------------------------------------------------------------
    # --- the switch ------------------------------------------------------------------------------
    def _switch_now(self) -> None:
        """This hub became active: the copy settles, then hub_switch opens its era in the log."""
        reason, self._switch_due = self._switch_due, ""
        self._copy_settle()
        self.copy = None
        now = self.clock()
        # Cursors read the log again: the copy wrote rows under them that this process never counted.
        self.ingest.cursors = Cursors(last_seq_in(self.reader))
        events: list[Any] = [HubSwitch(era=self.pair.era, hub=self.role, after_gseq=self._last_gseq(), reason=reason)]
        if self._started_event is not None:
            events.append(self._started_event)
            self._started_event = None
        self.ingest.heard_floor_ms = now   # the stations' silence counts from the switch, not from the copy
        self._say(t("hub.pair_live.active", self.lang, era=self.pair.era, why=t(f"hub_switch_why.{reason}", self.lang)))
        self._emit(self.ingest.hub_events(events, now))
        self._beat(now)

    def _pair_tick(self, now_ms: int) -> list[Alarm]:
        """Every second while active: hub_alone when the peer has been silent past ALONE_MS, hub_pair_ok back in step."""
        if self.pair is None or not self.serving():
            return []
        heard = self.pair.peer_heard_ms
        silent = now_ms - (heard if heard is not None else self.pair.started_ms) > ALONE_MS
        if silent and not self._alone:
            self._alone = True
            return [_pair_alarm("hub_alone", now_ms)]
        if self._alone and self.pair_status(now_ms)["peer"] == "in_step":
            self._alone = False
            return [_pair_alarm("hub_pair_ok", now_ms)]
        return []

    def _pair_close(self) -> None:
        if self.pair is None:
            return
        for sock in (self.peer_sub, self.peer_dealer):
            sock.close(linger=0)
        self.copy_writer.close()


def _pair_alarm(code: str, now_ms: int) -> Alarm:
    return Alarm(code=code, reason=t(f"alarm.{code}", "en"), reason_zh=t(f"alarm.{code}", "zh"),
                 first_ms=now_ms, last_ms=now_ms)


def _drain(sock: zmq.Socket, most: int = 1000) -> list[list[bytes]]:
    out: list[list[bytes]] = []
    while len(out) < most:
        try:
            out.append(sock.recv_multipart(_NOBLOCK))
        except zmq.Again:
            break
    return out
