"""The one text catalogue (zh-CN and en) for every string a person sees, with a tiny lookup.

The strings live in `catalogue.toml` beside this file so that translators edit data, not
code. Lookups never raise: a missing key shows the key itself, which tests catch.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    raw = tomllib.loads((Path(__file__).with_name("catalogue.toml")).read_text("utf-8"))
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        if "zh" in node and "en" in node and all(isinstance(v, str) for v in node.values()):
            flat[prefix] = node
            return
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", raw)
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
