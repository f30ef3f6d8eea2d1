"""The hub's admission: which keys get in (ZAP), who they are (User-Id), what each may hear (XPUB subscriptions), and what a welcome must fit.

A mixin of Hub (console/hub/server.py). ZAP runs in the hub's own loop, so admission can neither die in
a thread nor fail open; the feed is an XPUB in manual mode, so a subscription takes effect only
when the hub applies it, and the hub applies a station's only for its own topics.
"""
from __future__ import annotations

import zmq
import zmq.utils.z85

from console.core.station_view import targets
from console.core.toml_where import line_of
from console.event.folder import EventFileError
from console.hub import live_summary, replies
from console.hub.batch import Peer
from protocols import bounds, keys
from protocols.messages import Committed
from protocols.session import REPLIES

ZAP_DOMAIN = b"eventdesk"
_PEER_TOPICS = (bounds.topic_frame("hub"), bounds.topic_frame("feed"))   # what the other hub follows (5.13)
_NOBLOCK = int(zmq.NOBLOCK)


class Admission:
    """Hub's keys, ZAP answers and subscription checks."""

    def _load_peers(self) -> dict[str, Peer]:
        posts = {s.id: s.post for s in self.event.stations}
        peers: dict[str, Peer] = {}
        for z85_key, name in keys.public_keys(self.folder.keys / "stations").items():
            if name in posts:
                peers[z85_key.decode()] = Peer("station", name, posts[name])
        for z85_key, name in keys.public_keys(self.folder.keys / "desks").items():
            if name in self.event.desks:
                peers[z85_key.decode()] = Peer("desk", name, "desk")
        return peers

    # --- ZAP --------------------------------------------------------------------------------
    def _zap_once(self) -> None:
        msg = self.zap.recv_multipart()
        try:
            version, request_id, domain, _address, _identity, mechanism = msg[:6]
            credentials = msg[6:]
            ok = (version == b"1.0" and domain == ZAP_DOMAIN and mechanism == b"CURVE" and len(credentials) == 1)
            peer = self.peers.get(zmq.utils.z85.encode(credentials[0]).decode()) if ok else None
        except Exception:  # a malformed ZAP request must not stop the hub: deny it
            request_id, peer = (msg[1] if len(msg) > 1 else b""), None
        if peer is None:
            self.denied += 1
            self.zap.send_multipart([b"1.0", request_id, b"400", b"unknown key", b"", b""])
        else:
            user = f"{peer.role}:{peer.id}".encode()
            self.zap.send_multipart([b"1.0", request_id, b"200", b"OK", user, b""])

    def _subscriptions(self) -> None:
        """Apply the subscriptions that arrived (XPUB manual mode: each comes with its connection's User-Id,
        and applies to that connection only): a desk's any, a station's only its own three topics."""
        for _ in range(1000):
            try:
                msg = self.pub.recv(_NOBLOCK, copy=False)
            except zmq.Again:
                return
            data = msg.bytes
            try:
                peer = self.by_user.get(msg.get("User-Id"))
            except zmq.ZMQError:   # the unsubscriptions of a peer that left carry no User-Id: nothing to do
                peer = None
            if not data or data[0] not in (0, 1) or peer is None:
                continue
            topic = data[1:]
            if peer.role == "desk" or (peer.role == "hub" and topic in _PEER_TOPICS) or topic in {bounds.topic_frame(t) for t in targets(peer.id, peer.post)}:
                self.pub.setsockopt(zmq.SUBSCRIBE if data[0] == 1 else zmq.UNSUBSCRIBE, topic)
                self.subscribed += data[0]
                if peer.role == "station":
                    self._catch_up(peer, bounds.topic_name(topic) or "", data[0] == 1)
            else:
                self.refused_topics += 1

    def _catch_up(self, peer: Peer, topic: str, on: bool) -> None:
        """A station's subscription just took effect: what was published on that topic before it did
        never reached the station (its welcome listed only what was open then), so the instructions
        still open for it are sent again, on its own topic only (no other station hears them twice).
        Its own topic's turn sends all of them; the station files each instruction once, by gseq."""
        heard = self.caught_up.setdefault(peer.id, set())
        if not on:
            heard.discard(topic)
            return
        heard.add(topic)
        own = f"station.{peer.id}"
        if own not in heard:
            return   # nothing can reach it yet: its own topic's turn sends everything
        wanted = set(targets(peer.id, peer.post)) if topic == own else {topic}
        # The plan's lines changed since its welcome may have been missed the same way (at each topic's turn:
        # a few lines, put in place again at the station, harmless).
        for line in live_summary.catch_up(self.ingest.state, self.event.summary()["lots"], peer.id, peer.post,
                                          self.ingest.hub_epoch, self.clock()):
            try:
                self.pub.send_multipart(REPLIES.topic_frames(own, line), _NOBLOCK)
            except zmq.Again:   # past the high-water mark: its next reconnect's welcome carries them
                break
        for raw in replies.open_instructions(self.ingest.state, peer.id, peer.post):
            if raw["body"].get("target", "all") not in wanted:
                continue
            try:
                self.pub.send_multipart(REPLIES.topic_frames(own, Committed(**raw)), _NOBLOCK)
            except zmq.Again:   # past the high-water mark: its next reconnect's welcome lists them
                return

    def _check_welcomes(self) -> None:
        """Refuse to start when even a welcome without instructions would not fit the reply limit."""
        budget = self.ingest.budget
        for peer in self.peers.values():
            size = REPLIES.size(self.ingest.welcome_base(peer, "", 0))
            if size + replies.ROOM > budget:
                text = self.folder.toml.read_text("utf-8")
                raise EventFileError(self.folder.toml, "hub.max_message_bytes", "welcome_too_big",
                                     line=line_of(text, "hub.max_message_bytes"), station=peer.id, size=size,
                                     budget=budget, cap=bounds.REPLY_MAX)
