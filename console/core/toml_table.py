"""Typed values out of one TOML table, naming the file and the key path on any mistake.

Shared by the event file and the plan library, so both refuse bad input in the same words.
Subclasses set `error` to their own exception type, called as error(path, key, why, **params): `why`
names a sentence of the catalogue (eventfile.why.*), or is a sentence itself where a file's checks
have none there yet.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from protocols.i18n import t


def shown(value: Any) -> str:
    """A value as it is written in TOML ("大堂", 3, true), whatever the language of the sentence around it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "[…]" if isinstance(value, list) else "{…}"


@dataclass(frozen=True)
class Choices:
    """What may be written instead, shown with its words: gate（门岗）、parking（停车场）."""

    ids: tuple[str, ...]
    words: str = ""        # the catalogue's prefix for each id's name ("post", "dept"); "" shows ids alone

    def text(self, lang: str) -> str:
        if not self.words:
            return ("、" if lang == "zh" else ", ").join(self.ids)
        if lang == "zh":
            return "、".join(f"{i}（{t(f'{self.words}.{i}', lang)}）" for i in self.ids)
        return ", ".join(f"{i} ({t(f'{self.words}.{i}', lang)})" for i in self.ids)


class TomlTable:
    error: Callable[..., Exception]

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def err(self, key: str, why: str, **params: Any) -> Exception:
        return type(self).error(self.path, f"{self.prefix}{key}", why, **params)

    def only(self, allowed: set[str]) -> None:
        """Refuse any key not in `allowed` (a typo must not be silently ignored)."""
        for key in self.table:
            if key not in allowed:
                raise self.err(key, "unknown_key", allowed=Choices(tuple(sorted(allowed))))

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        """The value of `key` if it is of `kind` (an int is a fine float); `default` when absent."""
        if key not in self.table:
            if default is ...:
                raise self.err(key, "required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise self.err(key, "kind", kind=kind.__name__, value=shown(value))
        return value
