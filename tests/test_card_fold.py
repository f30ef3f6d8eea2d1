"""The scorecard on an 80-column terminal wraps long Chinese cells instead of cutting them with "…"."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markdown import Markdown

from scenarios.command import CardMarkdown

SENTENCE = "所依据的情况没有发生，因此无法评定这一项；请在下次演练中加入相应的情况后再看结果。"
TABLE = f"| 期望 | 结果 | 说明 |\n|---|---|---|\n| 每起事件 60 秒内确认 | 未发生 | {SENTENCE} |\n"


def shown(markdown: type[Markdown]) -> str:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None, legacy_windows=False).print(markdown(TABLE))
    return out.getvalue()


def test_a_long_chinese_cell_is_folded_whole_at_80_columns():
    text = shown(CardMarkdown)
    assert "…" not in text
    # Every character of the sentence is on screen, as often as the sentence has it.
    assert all(text.count(ch) >= SENTENCE.count(ch) for ch in SENTENCE), text
    assert len(text.splitlines()) > 4   # folded over several lines, not cut to one


def test_plain_markdown_would_cut_it():
    # The reason for CardMarkdown: rich's own table cuts a sentence with no spaces to break at.
    assert "…" in shown(Markdown)
