"""Each station's clock against the hub's, estimated from its hellos and heartbeats; what to log when it moves.

A control message is sent the moment its header's `sent_ms` is read off the station's clock, so
`received − sent_ms` on the hub's clock is the station's offset plus the one-way delay. The smallest
of the last WINDOW such samples is the offset to within the shortest delay seen (a few ms on a
venue LAN): the minimum filter NTP uses on its samples. Reports carry no such sample: one saved
offline was sent long after it was stamped. When an estimate differs from the one last logged by
more than STEP_MS, the hub logs `station_clock {station, offset_ms, delay_ms}`, and the fold places
that station's reports at their corrected save time from then on. Pure: no sockets, no clock.
"""
from __future__ import annotations

from collections import deque

from protocols.messages import StationClock

WINDOW = 16          # samples kept per station (one a heartbeat: the last ~16 s)
STEP_MS = 1_000      # an estimate this far from the logged one is logged anew
SKEWED_MS = 5_000    # a clock off by more than this is worth telling people about


class Skew:
    def __init__(self) -> None:
        self._samples: dict[str, deque[int]] = {}
        self._logged: dict[str, int] = {}

    def sample(self, station: str, received_ms: int, sent_ms: int) -> None:
        if sent_ms <= 0:
            return   # a client that does not fill sent_ms tells nothing about its clock
        got = self._samples.get(station)
        if got is None:
            got = self._samples[station] = deque(maxlen=WINDOW)
        got.append(received_ms - sent_ms)

    def estimate(self, station: str) -> int | None:
        """Hub clock minus station clock (positive: the station's clock is slow), or None if never sampled."""
        got = self._samples.get(station)
        return min(got) if got else None

    def known(self, station: str, offset_ms: int) -> None:
        """What the log already says (a hub restarted replays it): not logged again unless it moves."""
        self._logged[station] = offset_ms

    def to_log(self, station: str | None = None) -> list[StationClock]:
        """A station_clock for `station` (or every station) whose estimate moved past STEP_MS since it was
        last logged."""
        if station is None:
            picked = list(self._samples.items())
        else:   # one station: a lookup, not a pass over all of them (this runs on every control message)
            got = self._samples.get(station)
            picked = [(station, got)] if got else []
        out = []
        for sid, got in picked:
            offset = min(got)
            if sid not in self._logged or abs(offset - self._logged[sid]) > STEP_MS:
                spread = sorted(got)[len(got) // 2] - offset   # how much the delays vary: the estimate's doubt
                out.append(StationClock(station=sid, offset_ms=offset, delay_ms=max(0, spread)))
                self._logged[sid] = offset
        return out
