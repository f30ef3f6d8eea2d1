"""The two hubs' addresses in event.toml ([hub] endpoint, feed, backup_endpoint, backup_feed) checked; pure.

`check` finds the first mistake (a catalogue sentence, hub.pair.why.*, with its key and values) or None;
`pairs` lists the endpoints a client may use, the primary's first (PROTOCOL.md 5.13). Knows no TOML
file, no sockets, no clock: console.core.event calls it and raises the file error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ENDPOINT = re.compile(r"^tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|\*):(?P<port>\d{1,5})$")
KEYS = ("endpoint", "feed", "backup_endpoint", "backup_feed")


@dataclass(frozen=True)
class Problem:
    """One mistake: the key under [hub], the catalogue sentence (hub.pair.why.<why>) and its values."""

    key: str
    why: str
    params: dict[str, Any] = field(default_factory=dict)


def _port(endpoint: str) -> int | None:
    match = _ENDPOINT.match(endpoint)
    return int(match["port"]) if match and int(match["port"]) <= 65535 else None


def check(endpoint: str, feed: str, backup_endpoint: str, backup_feed: str) -> Problem | None:
    """The first mistake in the pair's four addresses, or None. One hub alone (no backup) is left as it was."""
    values = dict(zip(KEYS, (endpoint, feed, backup_endpoint, backup_feed)))
    if not backup_endpoint and not backup_feed:
        return None
    if bool(backup_endpoint) != bool(backup_feed):
        missing = "backup_feed" if backup_endpoint else "backup_endpoint"
        given = "backup_endpoint" if backup_endpoint else "backup_feed"
        return Problem(missing, "both_or_neither", {"given": given})
    for key, value in values.items():
        port = _port(value)
        if port is None:
            return Problem(key, "bad_endpoint", {"got": value})
        if port == 0:
            # Each side must know the other's address before it runs: no port picked at start.
            return Problem(key, "fixed_port", {"got": value})
    seen: dict[str, str] = {}
    for key, value in values.items():
        if value in seen:
            return Problem(key, "same_address", {"other": seen[value], "got": value})
        seen[value] = key
    return None


def pairs(endpoint: str, feed: str, backup_endpoint: str, backup_feed: str) -> tuple[tuple[str, str], ...]:
    """(ROUTER, feed) of each hub a client may use, the primary's first; one pair when there is no backup."""
    if backup_endpoint and backup_feed:
        return ((endpoint, feed), (backup_endpoint, backup_feed))
    return ((endpoint, feed),)
