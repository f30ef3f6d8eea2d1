"""Scenario times: "1h05m", "90s", "1:05:00" or plain seconds to integer ms, ranges "2m..6m", and back to text.

Knows strings and numbers only. Scenario times are offsets from the start of the scenario,
in scenario seconds (the runner divides by the speed to get wall time).
"""
from __future__ import annotations

import re

# Back to text (H:MM:SS, "3 min 05 s"): shared with the summary, so it lives in console.report.card_text.
from console.report.card_text import clock, seconds  # noqa: F401

_UNITS = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$")


class TimeFormatError(ValueError):
    """A time that is not one of the accepted forms; the message shows the forms, `why` names the mistake
    for the catalogue (scenario.why.not_time, negative_time, backwards)."""

    def __init__(self, message: str, why: str = "not_time") -> None:
        super().__init__(message)
        self.why = why


FORMS = '"90s", "45m", "1h30m", "1:30:00" or a number of seconds'


def parse_ms(value: object) -> int:
    """A scenario time or duration as integer milliseconds (>= 0)."""
    if isinstance(value, bool):
        raise TimeFormatError(f"{value!r} is not a time; write {FORMS}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise TimeFormatError(f"{value!r} is negative; times count from the start of the scenario", "negative_time")
        return int(round(value * 1000))
    if not isinstance(value, str):
        raise TimeFormatError(f"{value!r} is not a time; write {FORMS}")
    text = value.strip().replace(" ", "")
    clock = _CLOCK.match(text)
    if clock:
        h, m, s = (int(x) for x in clock.groups())
        return ((h * 60 + m) * 60 + s) * 1000
    units = _UNITS.match(text)
    if text and units and any(units.groups()):
        h, m, s = units.groups()
        return int(h or 0) * 3_600_000 + int(m or 0) * 60_000 + int(round(float(s or 0) * 1000))
    raise TimeFormatError(f"{value!r} is not a time; write {FORMS}")


def parse_range(value: object) -> tuple[int, int]:
    """"2m..6m" (or one time, meaning exactly that) as (low_ms, high_ms) with low <= high."""
    if isinstance(value, str) and ".." in value:
        low_text, _, high_text = value.partition("..")
        low, high = parse_ms(low_text), parse_ms(high_text)
        if high < low:
            raise TimeFormatError(f"{value!r}: the range ends before it starts", "backwards")
        return low, high
    one = parse_ms(value)
    return one, one
