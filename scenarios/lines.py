"""Where a key sits in a TOML file, found by scanning the text, because tomllib gives no line numbers.

Good enough, not a parser: it finds the n-th `[table]` / `[[table]]` header and the first line
inside it that assigns the key (`key =`, `"key" =`, or a dotted `a.key =`). Keys inside an
inline table (`body = { kind = "x" }`) are reported at the line of the inline table's own
key. When the key cannot be found the header's line is given; when the header cannot be
found, line 1.
"""
from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$")


class Lines:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (line number, table name, is an array-of-tables header)
        self.headers: list[tuple[int, str, bool]] = []
        for n, line in enumerate(self.lines, 1):
            m = _HEADER.match(line)
            if m:
                name = ".".join(part.strip().strip('"') for part in m.group(2).split("."))
                self.headers.append((n, name, m.group(1) == "[["))

    def _section(self, table: str, index: int) -> tuple[int, int] | None:
        """(first line, last line) of the index-th header named `table` ("" = the top of the file)."""
        if not table:
            end = self.headers[0][0] - 1 if self.headers else len(self.lines)
            return 1, end
        found = [h for h in self.headers if h[1] == table]
        if index >= len(found):
            return None
        start = found[index][0]
        later = [h[0] for h in self.headers if h[0] > start and not h[1].startswith(table + ".")]
        return start, (later[0] - 1 if later else len(self.lines))

    def find(self, table: str = "", index: int = 0, key: str = "") -> int:
        """The line of `key` in the index-th `table` (its header if no key; 1 if nothing is found)."""
        section = self._section(table, index)
        if section is None:
            return 1
        start, end = section
        if key:
            pattern = re.compile(r'^\s*(?:[\w-]+\.)*(?:%s|"%s")\s*=' % (re.escape(key), re.escape(key)))
            for n in range(start, end + 1):
                if pattern.match(self.lines[n - 1]):
                    return n
            # A sub-table header such as [desk.assign] stands for the key "assign".
            for n, name, _ in self.headers:
                if name == (f"{table}.{key}" if table else key) and (not table or start <= n <= end):
                    return n
        return start if table else 1
