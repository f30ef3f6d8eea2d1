"""Ingest's control messages: hello, heartbeat, bye and the paged requests, answered at once and never stored.

A mixin of Ingest (console/hub/ingest.py). A control message gets the same identity check as a report
(the header's station and a hello's role must be the key's), costs a token like any message, and
its reply is cut to the size clients accept (console/hub/replies.py). `answer_now` serves the hub while
a commit is still in flight: only what needs no write. Knows the codec and the state; no ZeroMQ.
"""
from __future__ import annotations

from typing import Any

from console.core import state as fold
from console.core.station_view import station_view
from console.hub import live_summary, replies
from console.hub.batch import Batch, Later, Peer
from console.hub.guard import SNAPSHOT_COST
from console.hub.ingest_refusals import header_or_none
from protocols import bounds, codec
from protocols.codec import Envelope, ProtocolError, schema_error
from protocols.messages import CONTROL, Heartbeat, Nack, StationStatus, Welcome


class Control:
    """Ingest's answers to control messages."""

    def _control(self, b: Batch, peer: Peer, env: Envelope, now_ms: int) -> Any:
        h, msg = env.header, env.message
        if h.seq != 0:
            err = ProtocolError("E_HEADER", inner=schema_error("seq", "problem.control_seq", got=h.seq))
            return self._refuse(b, peer, h, err, now_ms, advance=False)
        if h.station != peer.id:
            return self._identity(b, peer, h, now_ms, advance=False, claimed=h.station)
        if h.type == "hello" and msg.role != peer.role:
            return self._identity(b, peer, h, now_ms, advance=False, claimed_key=f"role.{msg.role}")
        if h.type == "log_request":   # only the other hub may ask for the log (console/hub/pair.py answers it)
            err = ProtocolError("E_FORBIDDEN", post_key=f"post.{peer.post}", kind_key=f"type.{h.type}")
            return self._refuse(b, peer, h, err, now_ms, advance=False)
        reply = self._answer(peer, env, now_ms)
        if peer.role == "station":
            # Logged in this batch, ahead of any report behind it: a station back from offline has its
            # saved reports placed at their corrected time from the first one (console.core.clock_skew).
            for moved in self.skew.to_log(peer.id):
                self._hub_event(moved, now_ms, b.pending, b.last)
        if h.type == "bye":
            return self._bye(b, peer, now_ms)
        return reply

    # --- a goodbye (5.2): closed on purpose, not offline ------------------------------------------
    def _bye(self, b: Batch, peer: Peer, now_ms: int) -> None:
        """Log `closed` once, at the moment heard (the fold holds it until the station is heard again);
        nothing is answered: the terminal is gone."""
        st = self.state.stations.get(peer.id)
        if peer.role == "station" and st is not None and st.get("status") != "closed":
            self._hub_event(StationStatus(station=peer.id, status="closed", last_heard_ms=st["last_heard_ms"]),
                            now_ms, b.pending, b.last)

    def answer_now(self, peer: Peer, frames: list[bytes], now_ms: int) -> Any:
        """The reply to a control message (paid for: `admit`) that needs no write, for a hub whose commit is
        still in flight; None for anything else (it waits for the next batch)."""
        h = header_or_none(frames)
        if h is None or h.type not in CONTROL or h.seq != 0 or h.station != peer.id:
            return None
        try:
            env = codec.decode(frames, self.event.hub.max_message_bytes)
        except ProtocolError:
            return None
        if h.type == "hello" and env.message.role != peer.role:
            return None
        if h.type in ("log_request", "bye"):
            return None   # refused in the next batch, like any message the key may not send; a bye is logged there
        if h.type == "snapshot_request" and self.snapshots.would_build(
                _shape(peer), self.state.gseq, env.message.gseq, env.message.page):
            return None   # to build: in the next batch, after its acks (Later), never while a commit waits
        return self._answer(peer, env, now_ms)

    def refuse_busy(self, peer: Peer, frames: list[bytes], now_ms: int) -> Nack:
        """E_STORAGE (retry) for a message (paid for) that arrives while the log cannot be written."""
        return self._retry(frames, ProtocolError("E_STORAGE"))

    def _answer(self, peer: Peer, env: Envelope, now_ms: int) -> Any:
        h, msg = env.header, env.message
        if peer.role == "station":
            fold.touch(self.state, peer.id, now_ms, getattr(msg, "outbox", 0))
            self.skew.sample(peer.id, now_ms, h.sent_ms)   # sent the moment it was stamped: a clock sample
        if h.type == "heartbeat":
            return Heartbeat(outbox=0)
        if h.type == "bye":
            return None
        if h.type == "snapshot_request":
            shape = _shape(peer)
            def page() -> Any:
                return self.snapshots.page(shape, self.state.gseq, msg.gseq, msg.page, self.page_budget,
                                           lambda: self.picture(peer))[0]
            if not self.snapshots.would_build(shape, self.state.gseq, msg.gseq, msg.page):
                return page()   # a page of one already built: cheap
            if not self.guard.charge(peer.id, now_ms, SNAPSHOT_COST):
                return self._retry_nack(h, ProtocolError("E_RATE"))
            return Later(page)   # built once the batch's acks are out, on the picture as committed
        if h.type == "guest_list_request":
            return self.guest_page(msg.digest, msg.page)
        if h.type == "instructions_request":
            return replies.instruction_page(self.instructions_for(peer), msg.after, self.page_budget)
        return replies.welcome(self.welcome_base(peer, h.epoch, now_ms), self.instructions_for(peer), self.budget)

    def welcome_base(self, peer: Peer, epoch: str, now_ms: int) -> Welcome:
        """The welcome before its instructions are added."""
        hubs, pair = self.pair_info(now_ms) if self.pair_info is not None else ([], {})   # two hubs (5.13)
        return Welcome(station=peer.id, post=peer.post, server_ms=now_ms,
                       heartbeat_ms=int(self.event.hub.heartbeat_s * 1000),
                       last_seq=self.cursors.get((peer.id, epoch)) or 0, drill=self.drill,
                       event=self.summary_for(peer), limits=self.limits(), hubs=hubs, pair=pair)

    def picture(self, peer: Peer) -> dict[str, Any]:
        """The snapshot's picture: the whole state for a desk, its own part for a station (station_view)."""
        if peer.role == "desk":
            return fold.to_wire(self.state)
        return station_view(self.state, peer.id, peer.post, self.summary_for(peer))

    def instructions_for(self, peer: Peer) -> list[dict[str, Any]]:
        return replies.open_instructions(self.state, peer.id, peer.post) if peer.role == "station" else []

    def limits(self) -> dict[str, Any]:
        """The welcome's `limits`: what this hub allows and promises (PROTOCOL.md 4.3)."""
        return {"max_message_bytes": self.event.hub.max_message_bytes, "reply_max_bytes": self.budget,
                "page_max_bytes": self.page_budget, "feed_max_bytes": bounds.FEED_MAX, **self.guard.limits(),
                "ack_timeout_ms": bounds.ACK_TIMEOUT_MS, "storage_wait_ms": bounds.STORAGE_WAIT_MS}

    def summary_for(self, peer: Peer) -> dict[str, Any]:
        """The event summary a welcome carries: a station gets its own roster lines and the guest list's version."""
        summary = self.event.summary()
        # The plan as it stands: event.toml's tasks and roster with the desk's changes (console.core.state.fold_prep),
        # without their history, which only the desks' snapshot carries: a welcome must stay small.
        summary.update({part: [live_summary.plan_line(row) for row in self.state.event.get(part, summary[part])]
                        for part in ("tasks", "roster")})
        summary["lots"] = live_summary.lot_lines(summary["lots"], self.state)
        if peer.role == "station":
            summary["roster"] = [r for r in summary["roster"] if r["station"] == peer.id]
        g = self.state.guests
        summary["guests"] = {"digest": g["digest"], "count": len(g["list"])}
        return summary

    def guest_page(self, digest: str, page: int) -> Any:
        """One page of the list as stations keep it, each page small enough for a station to decode."""
        return self.guest_pages.page(self.state.guests, digest, page, self.page_budget)


def _shape(peer: Peer) -> str:
    """Which snapshot a key gets: the desks' whole picture or one station's own part."""
    return "desk" if peer.role == "desk" else f"station:{peer.id}"
