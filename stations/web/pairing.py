"""Pairing a phone with a station: codes derived from the station's secret key, sessions, and a brake on guessing; pure.

A code is six digits (protocols.pairing.code_for, shared with the desk): whoever holds the event
folder can work it out, nobody else can, and bumping the generation (a revoke) makes a new code and
refuses every session paired under the old one. No clock is read here:
the caller passes `now` (seconds) in, so tests step it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from protocols.pairing import DIGITS, clean, code_for

# Wrong codes allowed per window, from one address and from everyone together: the second stops an
# attacker who takes many addresses on the LAN; staff typing a code wrong twice are never near either.
PER_ADDRESS, OVERALL, WINDOW_S = 5, 30, 60.0
# Each time everyone together hits OVERALL, pairing closes for twice as long as the time before, up to
# an hour: a sustained guesser gets ~30 tries an hour, under 900 a day (with 8 stations' codes among a
# million, a 0.7 % chance in a whole day), while phones already paired keep working throughout.
LOCK_MAX_S = 3600.0
# Phones kept paired per station: a post has a few; past this the oldest pairing goes, so that a code
# used again and again (by staff or by whoever learnt it) never grows the table without bound.
PER_STATION = 20


@dataclass
class Brake:
    """Counts wrong codes in a sliding window, per address and in all; `blocked` says when to refuse unasked."""

    per_address: int = PER_ADDRESS
    overall: int = OVERALL
    window_s: float = WINDOW_S
    _misses: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _closed_until: float = float("-inf")
    trips: int = 0    # how often everyone together hit the overall limit (each closes pairing longer)

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, address: str, now: float) -> bool:
        mine = self._trim(self._misses.get(address, deque()), now)
        if not mine:
            self._misses.pop(address, None)   # an address that stopped trying is forgotten: bounded memory
        return now < self._closed_until or len(mine) >= self.per_address

    def missed(self, address: str, now: float) -> None:
        self._misses.setdefault(address, deque()).append(now)
        if len(self._trim(self._all, now)) + 1 >= self.overall:
            self._closed_until = now + min(self.window_s * 2 ** self.trips, LOCK_MAX_S)
            self.trips += 1
            self._all.clear()
        else:
            self._all.append(now)


def digest(token: str) -> str:
    """What the table (and the file it is kept in) holds of a session token: its SHA-256, never the token.
    The token is 32 random bytes, so no salt is needed: whoever reads the file cannot make a cookie from it."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    """One paired browser: the station it stands for, under which generation, its language, since when (epoch ms)."""

    station: str
    generation: int
    lang: str
    since_ms: int = 0
    phone: str = ""      # its short random label, as the log names it (never the code, never the token)


class Pairings:
    """The codes of every station and the sessions paired with them; the server's one table.

    `secrets_by_station` maps station ids to their CURVE secret keys; `generations` the pairing
    generation of each (0 when never revoked). `token` makes a session token, `label` a phone's label
    (random by default). Sessions that end are kept in `ended` as (station, phone, why) until drained.
    `sessions` is keyed by the token's digest: `stored()` and `restore()` carry it over a restart."""

    def __init__(self, secrets_by_station: dict[str, bytes], generations: dict[str, int] | None = None,
                 token: Callable[[], str] = lambda: secrets.token_urlsafe(32),
                 label: Callable[[], str] = lambda: secrets.token_hex(3)) -> None:
        self._secrets = dict(secrets_by_station)
        self.generations = {s: int((generations or {}).get(s, 0)) for s in self._secrets}
        self._token, self._label = token, label
        self.sessions: dict[str, Session] = {}
        self.ended: list[tuple[str, str, str]] = []
        self.brake = Brake()

    def code(self, station: str) -> str:
        return code_for(self._secrets[station], station, self.generations[station])

    def codes(self) -> dict[str, str]:
        return {s: self.code(s) for s in self._secrets}

    def pair(self, typed: str, address: str, now: float, lang: str, at_ms: int = 0) -> tuple[str, str] | str:
        """(token, station) for a right code; otherwise why not: "blocked" or "wrong"."""
        if self.brake.blocked(address, now):
            return "blocked"
        code = clean(typed)
        for station in self._secrets:
            if len(code) == DIGITS and hmac.compare_digest(code, self.code(station)):
                token = self._token()
                mine = [t for t, found in self.sessions.items() if found.station == station]
                for old in mine[:max(0, len(mine) - PER_STATION + 1)]:   # oldest first: dicts keep order
                    self._end(old, "replaced")
                self.sessions[digest(token)] = Session(station, self.generations[station], lang, at_ms, self._label())
                return token, station
        self.brake.missed(address, now)
        return "wrong"

    def session(self, token: str | None) -> Session | None:
        """The live session of `token`; None when unknown or revoked since (then it is forgotten)."""
        return self._live(digest(token)) if token else None

    def _live(self, key: str) -> Session | None:
        found = self.sessions.get(key)
        if found is None:
            return None
        if found.generation != self.generations.get(found.station, -1):
            self._end(key, "revoked")
            return None
        return found

    def _end(self, key: str, why: str) -> None:
        found = self.sessions.pop(key, None)
        if found is not None:
            self.ended.append((found.station, found.phone, why))

    def end_all(self, why: str) -> None:
        """Every session ends (the server stops: they live in its memory only)."""
        for key in list(self.sessions):
            self._end(key, why)

    def expire(self, before_ms: int) -> None:
        """Sessions paired before `before_ms` (epoch ms) end: their cookie has lapsed on the phone (an event day), and a
        token kept over restarts must not outlive it. They end as "unpaired", as when the phone leaves."""
        for key, found in list(self.sessions.items()):
            if 0 < found.since_ms < before_ms:
                self._end(key, "unpaired")

    def unpair(self, token: str) -> None:
        """The phone asked to be unpaired."""
        self._end(digest(token), "unpaired")

    def drain_ended(self) -> list[tuple[str, str, str]]:
        """The sessions ended since the last call, oldest first, as (station, phone, why)."""
        ended, self.ended = self.ended, []
        return ended

    def set_lang(self, token: str, lang: str) -> None:
        found = self.session(token)
        if found is not None:
            self.sessions[digest(token)] = Session(found.station, found.generation, lang, found.since_ms, found.phone)

    def revoke(self, station: str) -> int:
        """A new generation for `station`: a new code, and every phone paired before is refused."""
        self.generations[station] += 1
        return self.generations[station]

    def set_generations(self, generations: dict[str, int]) -> list[str]:
        """Generations as stored, or as a desk revoked through the hub: sessions under an old one end at their next
        request. A generation only moves on (a file written before a revoke heard from the hub never undoes it);
        returns the stations that moved."""
        moved = []
        for station, gen in generations.items():
            if station in self.generations and int(gen) > self.generations[station]:
                self.generations[station] = int(gen)
                moved.append(station)
        return moved

    def paired(self) -> dict[str, int]:
        """How many live sessions each station has now."""
        return {s: len(phones) for s, phones in self.listed().items()}

    def listed(self) -> dict[str, list[dict[str, Any]]]:
        """The live sessions of each station, oldest first, as the desk lists them (no token in it)."""
        out: dict[str, list[dict[str, Any]]] = {s: [] for s in self._secrets}
        for key in list(self.sessions):
            found = self._live(key)
            if found is not None:
                out[found.station].append({"since_ms": found.since_ms, "lang": found.lang})
        return out

    # --- kept over a restart (issue 18: a restart of the server no longer unpairs every phone) ---------------
    def stored(self) -> dict[str, dict[str, Any]]:
        """The live sessions as the file keeps them: by the token's digest, oldest first (no token in it)."""
        return {key: {"station": s.station, "generation": s.generation, "lang": s.lang, "since_ms": s.since_ms,
                      "phone": s.phone}
                for key, s in list(self.sessions.items()) if self._live(key) is not None}

    def restore(self, stored: dict[str, Any]) -> int:
        """Sessions as `stored()` wrote them, before any phone pairs: a station this event no longer has, or a
        bad line, is dropped; one under an older generation (revoked while the server was down) ends
        "revoked" at once, so the log hears it. How many were taken back."""
        taken = 0
        for key, row in stored.items():
            if not isinstance(row, dict) or not isinstance(key, str) or len(key) != 64:
                continue
            station = str(row.get("station", ""))
            if station not in self._secrets or len([1 for s in self.sessions.values() if s.station == station]) >= PER_STATION:
                continue
            try:
                found = Session(station, int(row.get("generation", -1)), str(row.get("lang", "zh")),
                                int(row.get("since_ms", 0) or 0), str(row.get("phone", ""))[:16])
            except (TypeError, ValueError):
                continue
            self.sessions[key] = found
            if self._live(key) is not None:
                taken += 1
        return taken
