"""Pairing codes for phones, shared by the station server and the desk: derived from a station's key, and the small files that keep pairings (generations, the phones paired, the sessions).

A code is six digits, an HMAC of the station's CURVE secret under its pairing generation: whoever holds
the event folder's keys (the desk, the station server) works out the same code, nobody else can, and a
revoke (the next generation) makes a new one. The generations live in `phones.json` (written by a
revoke, from the desk or the command line); the phones paired now in `phones-paired.json` (written by
the station server, read by the desk); the sessions in `phones-sessions.json` (the station server's
own, owner-only, a digest of each session token and never the token: pairings survive its restart).
Each is replaced whole, never half-written.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path
from typing import Any

DIGITS = 6
GENERATIONS = "phones.json"
PAIRED = "phones-paired.json"
SESSIONS = "phones-sessions.json"


def code_for(secret: bytes, station: str, generation: int) -> str:
    """The station's pairing code at `generation`: six digits, the same wherever the key is known."""
    mac = hmac.new(secret, f"eventdesk-pairing/{station}/{generation}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10 ** DIGITS:0{DIGITS}d}"


def clean(typed: str) -> str:
    """A code as typed on a phone: spaces, dashes and full-width digits allowed."""
    digits = "".join(ch for ch in typed if not ch.isspace() and ch != "-")
    return digits.translate({0xFF10 + i: ord("0") + i for i in range(10)})


def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    # A temporary file of this writer's own (mkstemp: owner-only from the start -- who is paired, from
    # where, is the owner's business): two writers on one folder (a desk and a server, or a second server
    # starting) never rename each other's half-written file away.
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, ensure_ascii=False, indent=1))
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def read_generations(path: Path | None) -> dict[str, int]:
    """The pairing generation of each station as stored ({} when none was ever revoked)."""
    try:
        return {str(k): int(v) for k, v in _read(path).get("generations", {}).items()}
    except (TypeError, ValueError, AttributeError):
        return {}


def write_generations(path: Path, generations: dict[str, int]) -> None:
    _write(path, {"generations": generations})


def read_paired(path: Path | None) -> dict[str, Any]:
    """What the station server last wrote: {"urls": [...], "stations": {id: [{"since_ms", "lang"}, ...]}}."""
    data = _read(path)
    stations = data.get("stations") if isinstance(data.get("stations"), dict) else {}
    urls = [str(u) for u in data.get("urls", [])] if isinstance(data.get("urls"), list) else []
    return {"urls": urls, "stations": {str(k): [p for p in v if isinstance(p, dict)]
                                       for k, v in stations.items() if isinstance(v, list)}}


def write_paired(path: Path, urls: list[str], stations: dict[str, list[dict[str, Any]]]) -> None:
    _write(path, {"urls": urls, "stations": stations})


def read_sessions(path: Path | None) -> dict[str, Any]:
    """The station server's sessions as it last wrote them: {token digest: {station, generation, ...}}."""
    sessions = _read(path).get("sessions")
    return sessions if isinstance(sessions, dict) else {}


def write_sessions(path: Path, sessions: dict[str, Any]) -> None:
    _write(path, {"sessions": sessions})
