"""The bundled chart font: which characters it holds, and how it is cut from Noto Sans CJK SC (`python -m console.report.font_subset SRC`).

The summary's charts draw their text as paths where the report is made, and a fresh machine has no
Chinese font. A dependency that brings one (fonts-noto-cjk) is a system package pip cannot install,
and the PyPI packages that carry CJK fonts are unvetted or tens of megabytes; so the charts ship a
subset of Noto Sans CJK SC (SIL OFL 1.1, see fonts/OFL.txt): the 3,755 characters of GB 2312 level 1
(the common ones, which cover nearly every lot, zone and place name), its punctuation and symbols,
and every character the catalogues' Chinese uses. About 0.9 MB; a machine with a full CJK font uses
that first. Knows fontTools and the catalogues; no store, no screen.
"""
from __future__ import annotations

import sys
from pathlib import Path

from protocols import i18n

FONT = Path(__file__).with_name("fonts") / "EventdeskCJK-Regular.otf"
FAMILY = "Eventdesk CJK"      # renamed, as the OFL asks of a modified font; derived from Noto Sans CJK SC
SOURCE_INDEX = {"NotoSansCJK-Regular.ttc": 2}   # Noto Sans CJK SC inside Debian's collection


def gb2312(rows: range) -> set[str]:
    """The characters of GB 2312 in `rows` (0xA1.. symbols, 0xB0..0xD7 level-1 hanzi)."""
    out = set()
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def catalogue_chars() -> set[str]:
    """Every non-ASCII character the catalogues' Chinese uses (the console's and stations' words loaded)."""
    import console  # noqa: F401  (adds console/words.toml to the catalogue)
    import stations  # noqa: F401
    return {c for entry in i18n.catalogue().values() for c in entry["zh"] if ord(c) > 0x7F}


def characters() -> str:
    return "".join(sorted(gb2312(range(0xA1, 0xAA)) | gb2312(range(0xB0, 0xD8)) | catalogue_chars()))


def build(source: Path, out: Path = FONT) -> None:
    """Cut the subset from `source` (an .otf, or Debian's .ttc) and name it FAMILY."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features, options.hinting, options.name_IDs = [], False, [0, 1, 2, 3, 4, 5, 6, 13, 14]
    font = TTFont(source, fontNumber=SOURCE_INDEX.get(source.name, 0))
    sub = subset.Subsetter(options)
    sub.populate(text=characters())
    sub.subset(font)
    names = font["name"]
    for rec in list(names.names):
        if rec.nameID in (1, 4):
            names.setName(FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID in (3, 6):
            names.setName("EventdeskCJK-Regular", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    font["CFF "].cff.fontNames = ["EventdeskCJK-Regular"]
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
