"""Ingest's refusals: final rejections recorded and counted as handled, repeats answered as before, retries, alarms.

A mixin of Ingest (console/hub/ingest.py), split out so the batch loop and the ways a message is
refused read apart. Every final refusal is recorded in the log's `rejections` table; one that is
the next report in order moves the cursor past it, so a station that follows the protocol is never
stuck behind a report it cannot change. Knows the store and the codec; knows nothing of ZeroMQ.
"""
from __future__ import annotations

from typing import Any

from console.hub.batch import Batch, Peer
from console.hub.store import Rejection, dumps
from protocols import codec
from protocols.codec import Header, ProtocolError
from protocols.messages import CONTROL, Ack, Nack


class Refusals:
    """Ingest's handlers for what cannot be stored as it is."""

    def _again(self, b: Batch, peer: Peer, h: Header, msg: Any, now_ms: int) -> Any:
        """A report at or below the last handled seq: a resend (ack again), a conflict, or a re-nack."""
        body = dumps(msg.as_body())
        index = b.keys.get((peer.id, h.epoch, h.seq))
        if index is not None:
            same = b.pending[index][1].type == h.type and b.pending[index][3] == body
            stored = (h, index) if same else None
        else:
            found = self.store.find(peer.id, h.epoch, h.seq)
            if found is None:
                rej = self._rejection(b, peer.id, h.epoch, h.seq)
                return rej if rej is not None else self._retry_nack(h, ProtocolError("E_STORAGE"))
            same = found[1] == h.type and found[2] == body
            stored = Ack(epoch=h.epoch, seq=h.seq, gseq=found[0], duplicate=True) if same else None
        if stored is None:
            err = ProtocolError("E_CONFLICT", seq=h.seq)
            self._alarm(b, peer.id, err, now_ms)
            return self._refuse(b, peer, h, err, now_ms, advance=False)
        self.stats["duplicates"] += 1
        return stored

    def _rejection(self, b: Batch, station: str, epoch: str, seq: int) -> Nack | None:
        """The final answer a report got before (in the log or earlier in this batch), to give it again."""
        rej = self.store.find_rejection(station, epoch, seq) or next(
            ((r.code, r.reason, r.reason_zh) for r in reversed(b.rejections) if (r.station, r.epoch, r.seq)
             == (station, epoch, seq)), None)
        return None if rej is None else Nack(epoch=epoch, seq=seq, code=rej[0], reason=rej[1], reason_zh=rej[2])

    def _undecodable(self, b: Batch, peer: Peer, header: Header | None, err: ProtocolError, now_ms: int) -> Nack:
        """A message whose body (or type) failed: for a report, ordering still comes first, exactly as for a
        good one. Ahead of the cursor it is a gap (nothing final yet); at it, it is finally rejected and the
        cursor moves; behind it, the answer given before is given again, or, for a seq that was stored, it
        is refused and recorded while the stored report stands."""
        if header is None or header.seq < 1 or header.type in CONTROL:
            return self._refuse(b, peer, header, err, now_ms, advance=False)
        done = self._opened(b, peer, header, now_ms)
        if isinstance(done, Nack):
            return done
        if header.seq <= done:
            again = self._rejection(b, peer.id, header.epoch, header.seq)
            return again if again is not None else self._refuse(b, peer, header, err, now_ms, advance=False)
        return self._refuse(b, peer, header, err, now_ms, advance=True)

    def _identity(self, b: Batch, peer: Peer, h: Header, now_ms: int, advance: bool, **claim: Any) -> Nack:
        """A message that claims another station (or a hello another role) than the key's: refused, alarmed."""
        claim = {"claimed": codec.printable(claim["claimed"])} if "claimed" in claim else claim
        err = ProtocolError("E_IDENTITY", bound=peer.id, **claim)
        self._alarm(b, peer.id, err, now_ms)
        return self._refuse(b, peer, h, err, now_ms, advance)

    def _refuse(self, b: Batch, peer: Peer, header: Header | None, err: ProtocolError, now_ms: int,
                advance: bool) -> Nack:
        """A final rejection, recorded. With `advance` (the report is the next in order) it counts as handled:
        the cursor moves past it. Otherwise it is recorded under seq 0 and the seq it named goes in `detail`."""
        epoch, seq, type_ = (header.epoch, header.seq, header.type) if header else ("", 0, "")
        if advance:
            b.last[(peer.id, epoch)] = seq
        b.rejections.append(Rejection(peer.id, epoch, seq if advance else 0, type_[:64], err.code, err.en, err.zh,
                                      now_ms, "" if advance or seq < 1 else f"seq {seq}"))
        return nack(header, err)

    def _alarm(self, b: Batch, station: str, err: ProtocolError, now_ms: int) -> None:
        alarm = self.alarms.raised(station, err.code, err.en, err.zh, now_ms)
        if alarm is not None:
            b.alarms.append(alarm)

    def _retry(self, frames: list[bytes], err: ProtocolError) -> Nack:
        return self._retry_nack(header_or_none(frames), err)

    def _retry_nack(self, header: Header | None, err: ProtocolError, expected: int = 0) -> Nack:
        self.stats["retry"] += 1
        return nack(header, err, expected)


def header_or_none(frames: list[bytes]) -> Header | None:
    if len(frames) == 3 and bytes(frames[0]) == codec.SIGNATURE:
        try:
            return codec.decode_header(bytes(frames[1]))
        except ProtocolError:
            return None
    return None


def nack(header: Header | None, err: ProtocolError, expected: int = 0) -> Nack:
    """A nack naming what it answers; one that answers a control message names seq 0, so that it can never
    be taken for the answer to the report of that number."""
    seq = header.seq if header is not None and header.type not in CONTROL else 0
    return Nack(epoch=header.epoch if header else "", seq=seq, code=err.code, reason=err.en, reason_zh=err.zh,
                retry=err.retry, expected=expected)
