"""How phones paired with the stations change the picture (issue 18): paired, unpaired, revoked by a desk; pure.

Each station's entry gains, once a phone is first heard of: `phones` (label -> when it paired, the phones
paired now), `phones_paired` and `phones_revoked` (how many over the day) and `phone_generation` (the
pairing generation the newest desk revoke moved to). An older log has none of these and folds as before.
`PhoneRow` is a station as the desk's pairing screen lists it (console.event.phones adds the codes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.core.state.model import State

PHONES_MAX = 64   # listed per station: the server keeps 20; a log that says more is not believed further


def _phones(s: State, station: str) -> dict[str, Any] | None:
    st = s.stations.get(station)
    if st is None:
        return None
    st.setdefault("phones", {})
    st.setdefault("phones_paired", 0)
    st.setdefault("phones_revoked", 0)
    st.setdefault("phone_generation", 0)
    return st


def _paired(s: State, ev: Any, b: dict, ms: int) -> None:
    st = _phones(s, ev.station)
    if st is None:
        return
    st["phones_paired"] += 1
    st["phones"][str(b["phone"])] = int(b.get("at_ms", 0) or 0) or ms
    while len(st["phones"]) > PHONES_MAX:   # the oldest goes first: dicts keep order
        st["phones"].pop(next(iter(st["phones"])))


def _unpaired(s: State, ev: Any, b: dict, ms: int) -> None:
    st = _phones(s, ev.station)
    if st is None:
        return
    if st["phones"].pop(str(b["phone"]), None) is not None and b.get("why") == "revoked":
        st["phones_revoked"] += 1


def _revoke(s: State, ev: Any, b: dict, ms: int) -> None:
    """The desk's revoke ends every phone of the station now, whether or not the station server hears of it
    yet: none of them can reach the station under the old generation."""
    st = _phones(s, b["station"])
    if st is None:
        return
    st["phone_generation"] = max(st["phone_generation"], int(b["generation"]))
    st["phones_revoked"] += len(st["phones"])
    st["phones"].clear()


def phones_of(s: State, station: str) -> tuple[int, int]:
    """(phones paired with `station` now, when the newest of them paired (0: none))."""
    phones = s.stations.get(station, {}).get("phones") or {}
    return len(phones), max(phones.values(), default=0)


def generation_of(s: State, station: str) -> int:
    """The pairing generation the log last moved `station` to (0: never revoked through the hub)."""
    return int(s.stations.get(station, {}).get("phone_generation", 0))


@dataclass(frozen=True)
class PhoneRow:
    """One station as the pairing screen lists it."""

    station: str
    name: str
    name_en: str
    code: str            # "" when this machine has no key for the station
    generation: int
    phones: int          # paired with it now, as the log says
    last_ms: int         # when the newest of them paired (0: none)

    def label(self, lang: str) -> str:
        if lang == "en":
            return self.name_en or self.name or self.station
        return self.name or self.name_en or self.station


FOLD_PHONES = {"phone_paired": _paired, "phone_unpaired": _unpaired, "phone_revoke": _revoke}
