"""The event's own wall: epoch ms to and from the date and clock face in the event's time zone; pure.

Every instant on the wire is epoch ms (UTC). People read them on the event's clock: a sales
centre in Shanghai opens at 09:30 Shanghai time whether the hub's laptop is set to UTC or the
desk runs abroad. So nothing here (and nothing that formats a time for a person) reads the
process time zone: the zone is a name from `event.toml` (`[event] timezone`), sent to every
client in the event summary. No clock is read either: callers pass the instant.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"      # the staff's and the sample event's zone, when an event names none
DAY_MS = 86_400_000


class ZoneError(ValueError):
    """A time zone name that is not in the tz database; the message names it."""


@lru_cache(maxsize=16)
def zone(name: str | None = None) -> dt.tzinfo:
    """The tz database zone called `name` (e.g. Asia/Shanghai); the default zone for None or ""."""
    name = name or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ZoneError(f"{name!r} is not a time zone name like Asia/Shanghai or Europe/London") from None


def zone_or_default(name: object) -> dt.tzinfo:
    """The zone a peer named, or the default when the name is missing or unknown here: for display only."""
    try:
        return zone(name) if isinstance(name, str) else zone()
    except ZoneError:
        return zone()


def local(ms: int, tz: dt.tzinfo) -> dt.datetime:
    """The instant as an aware datetime on the event's wall."""
    return dt.datetime.fromtimestamp(ms / 1000, tz)


def at_ms(date: str | dt.date, hhmm: str, tz: dt.tzinfo) -> int:
    """Epoch ms of HH:MM on `date` (YYYY-MM-DD) on the event's wall.

    A time that a daylight-saving jump skips or repeats resolves as the zone's rules say
    (fold=0: the first of two, the later offset for a gap), never by the machine's zone.
    """
    day = dt.date.fromisoformat(date) if isinstance(date, str) else date
    h, m = (int(x) for x in hhmm.split(":"))
    return int(dt.datetime(day.year, day.month, day.day, h, m, tzinfo=tz).timestamp() * 1000)


def day_of(ms: int, tz: dt.tzinfo) -> dt.date:
    return local(ms, tz).date()


def clock(ms: int, tz: dt.tzinfo) -> str:
    """HH:MM:SS on the event's wall."""
    return local(ms, tz).strftime("%H:%M:%S")


def stamp(ms: int, tz: dt.tzinfo) -> str:
    """YYYY-MM-DD HH:MM:SS on the event's wall."""
    return local(ms, tz).strftime("%Y-%m-%d %H:%M:%S")


def compact(ms: int, tz: dt.tzinfo) -> str:
    """YYYYMMDD-HHMMSS on the event's wall, for file and folder names."""
    return local(ms, tz).strftime("%Y%m%d-%H%M%S")


def offset(ms: int, tz: dt.tzinfo) -> str:
    """The zone's UTC offset at that instant, e.g. +0800."""
    return local(ms, tz).strftime("%z")


def drill_ms(clock: dict, wall_ms: int) -> int:
    """The log's time of a real instant: itself, or scenario time once a rehearsal's `drill_clock` started.

    `clock` is the folded drill_clock ({} on a live log): {"at": the real instant it was logged,
    "start": the scenario's first instant, "ms_per_s": its pace}. Instants before `at` run at the
    real pace up to the scenario's start, so the mapping never jumps back.
    """
    if not clock:
        return wall_ms
    since = wall_ms - clock["at"]
    return clock["start"] + (since * clock["ms_per_s"] // 1000 if since > 0 else since)


def days_ahead(now_ms: int, tz: dt.tzinfo, days: int) -> str:
    """The date `days` after the event-wall day of `now_ms`, as YYYY-MM-DD."""
    return (day_of(now_ms, tz) + dt.timedelta(days=days)).isoformat()
