"""A bad scenario file in the catalogue's words (issue 17): ScenarioError, and what may be written instead.

The sentence names the file, the line and the place as a person finds them in an editor (第 2 个
[[script]] 中的 report), the value as written and what to write instead, in either language, in the
event file's own frame (console/core/toml_where.py). `why` names a sentence under scenario.why, or one
the event file shares (eventfile.why: syntax, unknown keys, required keys, kinds of value).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from console.core.toml_table import Choices
from console.core.toml_table import shown as shown_one
from console.core.toml_where import sentence
from console.event.folder import SAMPLE
from protocols.file_errors import why_text
from protocols.i18n import catalogue, has, t

__all__ = ["Choices", "Named", "Said", "ScenarioError", "kind_words", "plan_names", "shown"]


@dataclass(frozen=True)
class Said:
    """A thing's name in both languages (a report kind's 车辆入场 / Car in): the sentence takes the one it is in."""

    zh: str
    en: str

    @classmethod
    def of(cls, key: str) -> Said:
        return cls(t(key, "zh"), t(key, "en"))


class Named:
    """Things the event names itself (lots, zones, stations, plans): each id with its name in the language shown."""

    def __init__(self, items: Iterable[tuple[str, str, str]]) -> None:
        self.items = tuple(items)    # (id, zh name, en name)

    def text(self, lang: str) -> str:
        def one(i: str, zh: str, en: str) -> str:
            name = (zh or en) if lang == "zh" else (en or zh)
            return i if not name or name == i else (f"{i}（{name}）" if lang == "zh" else f"{i} ({name})")
        return ("、" if lang == "zh" else ", ").join(one(*item) for item in self.items)


def kind_words(prefix: str, ids: Iterable[str]) -> Named:
    """Kinds with their catalogue words, placeholders left as …: incident_acknowledged（事件在 … 内确认）."""
    def words(i: str, lang: str) -> str:
        entry = catalogue().get(f"{prefix}.{i}", {})
        return re.sub(r"\{[a-z_]+\}", "…", entry.get(lang) or entry.get("en", ""))
    return Named((i, words(i, "zh"), words(i, "en")) for i in ids)


def plan_names(event_path: Path) -> Named:
    """The plans by id with their names (人员拥挤预案), read from their files' first keys (no plan library here)."""
    def name(p: Path) -> tuple[str, str, str]:
        try:
            head = tomllib.loads(p.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return p.stem, "", ""
        return p.stem, str(head.get("name", "")), str(head.get("name_en", ""))
    folders = (SAMPLE.parent / "plans", event_path.parent / "plans")
    return Named(name(p) for p in sorted({p.stem: p for d in folders if d.is_dir() for p in d.glob("*.toml")}.values()))


def shown(value: Any) -> str:
    """A value as written in the file; a short list of plain values too ([5, 1]), where the event file shows […]."""
    if isinstance(value, list) and len(value) <= 8 and not any(isinstance(v, (list, dict)) for v in value):
        return "[" + ", ".join(shown_one(v) for v in value) + "]"
    return shown_one(value)


class ScenarioError(Exception):
    """A bad scenario file: where (file, line, key) and why, as a catalogue sentence in either language."""

    def __init__(self, path: Path | str, line: int, key: str, why: str, **params: Any) -> None:
        self.path, self.line, self.key, self.why, self.params = str(path), line, key, why, params
        super().__init__(self.path, line, key, why)

    def because(self, lang: str) -> str:
        """What is wrong and what to write instead, in `lang`."""
        key = f"scenario.why.{self.why}" if has(f"scenario.why.{self.why}") else f"eventfile.why.{self.why}"
        return t(key, lang, **{k: _param(k, v, lang) for k, v in self.params.items()})

    @property
    def reason(self) -> str:
        return self.because("en")

    def sentence(self, lang: str) -> str:
        """The whole error as a person reads it: the file, the line and the place, and the reason."""
        shown_key = "" if self.key in ("(top)", "(file)") else self.key
        return sentence(self.path, shown_key, self.line or None, self.because(lang), lang)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.key}: {self.reason}"


def _param(name: str, value: Any, lang: str) -> Any:
    if isinstance(value, (Choices, Named)):
        return value.text(lang)
    if isinstance(value, OSError):
        return why_text(value, lang)
    if hasattr(value, "zh") and hasattr(value, "en"):   # the wire's own refusal, a guest list's row: their words
        return value.zh if lang == "zh" else value.en
    if hasattr(value, "sentence"):          # the event file's own error, told in its words
        return value.sentence(lang)
    if name == "kind":
        return t(f"scenario.kind.{value}", lang) if has(f"scenario.kind.{value}") else t(f"eventfile.kind.{value}", lang)
    if name in ("post", "need"):
        return t(f"post.{value}", lang)
    return value
