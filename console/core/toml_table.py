"""Typed values out of one TOML table, naming the file and the key path on any mistake.

Shared by the event file and the plan library, so both refuse bad input in the same words.
Subclasses set `error` to their own exception type (called as error(path, key, reason)).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

KIND_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
              list: "a list", dict: "a table"}


class TomlTable:
    error: Callable[[Path, str, str], Exception]

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def err(self, key: str, reason: str) -> Exception:
        return type(self).error(self.path, f"{self.prefix}{key}", reason)

    def only(self, allowed: set[str]) -> None:
        """Refuse any key not in `allowed` (a typo must not be silently ignored)."""
        for key in self.table:
            if key not in allowed:
                raise self.err(key, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        """The value of `key` if it is of `kind` (an int is a fine float); `default` when absent."""
        if key not in self.table:
            if default is ...:
                raise self.err(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise self.err(key, f"must be {KIND_NAMES.get(kind, kind.__name__)}, got {value!r}")
        return value
