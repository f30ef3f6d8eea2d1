"""Where in a TOML file a key path (`stations[2].post`) is written: its line, and the place in words; pure.

An error in event.toml names the file, the line and the table as a person finds them in an editor
(第 3 个 [[stations]] 中的 post), never a 0-based index path. tomllib gives no positions, so the
line is found again from the text: the table's header, then the key under it.
"""
from __future__ import annotations

import re

from protocols.i18n import t

_SEGMENT = re.compile(r"([A-Za-z0-9_-]+)(?:\[(\d+)\])?")
_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\]]+?)\s*\]\]")
_HEADER = re.compile(r"^\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r'^"?([A-Za-z0-9_-]+)"?\s*=')
_SYNTAX_AT = re.compile(r"at line (\d+), column (\d+)")


def _segments(key: str) -> list[tuple[str, int | None]]:
    return [(name, int(i) if i else None) for name, i in _SEGMENT.findall(key)]


def _target(key: str) -> tuple[str, str | None]:
    """(the table as `_tables` names it, the key under it or None for the table itself)."""
    segs = _segments(key)
    names = [f"{n}#{i}" if i is not None else n for n, i in segs]
    if segs and segs[-1][1] is not None:
        return ".".join(names), None
    return ".".join(names[:-1]), (segs[-1][0] if segs else None)


def _tables(text: str):
    """(line number, the table it lies in — "stations#2" for the third [[stations]] —, the key it sets or None)."""
    counts: dict[str, int] = {}
    current = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _ARRAY_HEADER.match(line):
            name = m.group(1)
            counts[name] = counts.get(name, -1) + 1
            current = f"{name}#{counts[name]}"
            yield number, current, None
        elif m := _HEADER.match(line):
            current = m.group(1)
            yield number, current, None
        elif m := _KEY.match(line):
            yield number, current, m.group(1)


def line_of(text: str, key: str) -> int | None:
    """The line that `key` (as the event's errors name it) is written on; its table's header when the key
    is missing there; None when the file has neither (a required table left out)."""
    if key == "(syntax)":
        return None
    table, name = _target(key)
    lines = list(_tables(text))
    if name is not None:
        found = next((n for n, tab, k in lines if tab == table and k == name), None)
        if found:
            return found
    header = next((n for n, tab, k in lines if tab == table and k is None), None)
    if header:
        return header
    # An item of a list written on one line (desks = [...]), a table written inline (route = {...}), or a
    # whole list of [[tables]] (too many of them): where the list starts.
    first = _segments(key)[0][0] if _segments(key) else ""
    return next((n for n, tab, k in lines if (tab == "" and k == first) or (k is None and tab == f"{first}#0")), None)


def syntax_at(message: str) -> tuple[int, int] | None:
    """(line, column) that tomllib's own message points at ("… (at line 5, column 9)")."""
    m = _SYNTAX_AT.search(message)
    return (int(m.group(1)), int(m.group(2))) if m else None


def where(key: str, lang: str) -> str:
    """The place of `key` in words: 第 3 个 [[stations]] 中的 post; [hub] 中的 late_s; desks 的第 2 项."""
    if key.startswith("(") or not key:
        return ""
    segs = _segments(key)
    head, last = segs[:-1], segs[-1]
    if last[1] is not None:          # an item of a list: a [[table]] of its own, or a value in a list
        place = ".".join(n for n, _ in segs)
        if head:
            return t("eventfile.where.item_in", lang, table=_table_words(head, lang), name=last[0], n=last[1] + 1)
        return t("eventfile.where.item", lang, name=place, n=last[1] + 1)
    if not head:
        return t("eventfile.where.top", lang, name=last[0])
    return t("eventfile.where.key", lang, table=_table_words(head, lang), name=last[0])


def _table_words(segs: list[tuple[str, int | None]], lang: str) -> str:
    name = ".".join(n for n, _ in segs)
    index = segs[-1][1]
    if index is None:
        return f"[{name}]"
    return t("eventfile.where.nth", lang, table=name, n=index + 1)


def sentence(path: str, key: str, line: int | None, why: str, lang: str) -> str:
    """The whole error: the file, the line and the place, and what is wrong there (with what to write)."""
    place = where(key, lang)
    shape = ("line_where" if place else "line") if line else ("where" if place else "file")
    return t(f"eventfile.at.{shape}", lang, file=path, line=line, where=place, why=why)
