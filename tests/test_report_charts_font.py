"""Chinese charts on a machine with no CJK font (issue 17): the charts' own font draws every Chinese label."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from console.report import charts, font_subset
from console.report.summary import summarise
from protocols.i18n import t
from tests.report_fixture import EVENTS, summary_dict, write_log

MPL_FONTS = Path(matplotlib.get_data_path()) / "fonts"


@pytest.fixture
def no_cjk_font(monkeypatch):
    """matplotlib as on a fresh machine: only the fonts it ships (DejaVu and friends), and no fontconfig."""
    fm = font_manager.fontManager
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist if Path(f.fname).is_relative_to(MPL_FONTS)])
    def no_fc_list(*args, **kwargs):
        raise OSError("no fc-list here")
    monkeypatch.setattr(charts.subprocess, "run", no_fc_list)
    for cached in (charts.cjk_font, charts.bundled_font, fm._findfont_cached):
        cached.cache_clear()
    yield
    for cached in (charts.cjk_font, charts.bundled_font, fm._findfont_cached):
        cached.cache_clear()


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    from console.hub.store import Store
    store = Store(write_log(tmp_path_factory.mktemp("log") / "event.db", events=EVENTS, rejections=[]))
    try:
        return summarise(store.since(0), summary_dict(), store.rejections())
    finally:
        store.close()


def glyph_chars(svg: str) -> set[str]:
    """The characters `svg` draws with the bundled font: matplotlib names each glyph path
    '<PostScript name>-<glyph number in hex>', read back through the font's own character map."""
    font = TTFont(font_subset.FONT)
    by_glyph = {font.getGlyphID(name): chr(code) for code, name in font.getBestCmap().items()}
    return {by_glyph[int(n, 16)] for n in re.findall(r'id="EventdeskCJK-Regular-([0-9a-f]+)"', svg)}


def draw(summary, lang: str) -> dict[str, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svgs, note = charts.draw_all(summary, lang)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing and not note, (missing, note)
    return svgs


def test_every_chinese_label_is_drawn_from_the_bundled_font_with_no_cjk_font_installed(no_cjk_font, summary):
    assert charts.cjk_font() is None
    svgs = draw(summary, "zh")
    drawn = glyph_chars(svgs["people"])
    assert {"人", "到", "场", "离"} <= drawn and set(t("report.chart.arrivals", "zh")) <= drawn
    lot_names = "".join(a["name"] for a in summary.lots)
    assert lot_names and set(lot_names) <= glyph_chars(svgs["cars"])


def test_without_the_bundled_font_the_same_charts_lose_their_chinese(no_cjk_font, summary, monkeypatch):
    monkeypatch.setattr(charts, "_fonts", lambda: ["DejaVu Sans"])
    with pytest.raises(AssertionError, match="missing from font"):
        draw(summary, "zh")


def test_the_bundled_font_holds_every_character_the_catalogues_chinese_uses():
    font = TTFont(font_subset.FONT)
    cmap = set(map(chr, font.getBestCmap()))
    dejavu = set(map(chr, TTFont(MPL_FONTS / "ttf" / "DejaVuSans.ttf").getBestCmap()))   # drawn first, for Latin and signs
    assert font_subset.catalogue_chars() <= cmap | dejavu and len(cmap) > 4000
    assert font["name"].getDebugName(1) == font_subset.FAMILY
    assert (font_subset.FONT.parent / "OFL.txt").read_text("utf-8").count("SIL OPEN FONT LICENSE Version 1.1")
