"""The one text catalogue (zh-CN and en) for every string a person sees, with a tiny lookup.

The strings are data, so that translators edit TOML, not code. The wire's own words (kinds, fields,
posts, departments, refusals) and those both sides show live in `catalogue.toml` beside this file;
each side's screens keep their words with them (`console/words.toml`, `stations/words.toml`) and add
them with `add()` when their package loads, since this package may import none of ours. Lookups never
raise: a missing key shows the key itself, which tests catch.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


_FILES: list[Path] = [Path(__file__).with_name("catalogue.toml")]


def add(path: Path) -> None:
    """Another side's words: looked up with the wire's from now on (a key in two files keeps the first)."""
    if path not in _FILES:
        _FILES.append(path)
        catalogue.cache_clear()


def files() -> tuple[Path, ...]:
    return tuple(_FILES)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        if "zh" in node and "en" in node and all(isinstance(v, str) for v in node.values()):
            flat.setdefault(prefix, node)
            return
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}.{key}" if prefix else key, value)

    for path in _FILES:
        walk("", tomllib.loads(path.read_text("utf-8")))
    return flat


def normalise_lang(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANG
    lang = lang.lower()
    return "zh" if lang.startswith("zh") else "en" if lang.startswith("en") else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from params."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    template = entry.get(normalise_lang(lang)) or entry["en"]
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):
        return template


def both(key: str, **params: Any) -> tuple[str, str]:
    """(en, zh) for a message that carries both languages, such as a nack."""
    return t(key, "en", **params), t(key, "zh", **params)


def has(key: str) -> bool:
    return key in catalogue()
