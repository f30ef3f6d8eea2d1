"""The catalogue speaks the glossary: no zh text uses a word docs/GLOSSARY.md says we do not use."""
from __future__ import annotations

import re
from pathlib import Path

import console  # noqa: F401  (registers the desk's words)
import stations  # noqa: F401  (registers the terminals' words)
from protocols import i18n

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "GLOSSARY.md"
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sr]")   # str.format's and argparse's (printf) placeholders
CJK = r"[\u3400-\u9fff]"
QUOTED = re.compile(r"“[^”]*”")   # a command to type, quoted: its spaces are the command's


def avoided() -> list[tuple[str, str]]:
    """(word, instead) from the table under "Words we do not use"."""
    text = GLOSSARY.read_text("utf-8").split("## Words we do not use", 1)[1]
    rows = [line.strip().strip("|").split("|") for line in text.splitlines() if line.startswith("|")]
    return [(a.strip(), b.strip()) for a, b in rows[2:]]


def terms() -> list[str]:
    """The zh words of the table "Terms" (longest first): an avoided word inside one of them is fine (记事 in 登记事件)."""
    text = GLOSSARY.read_text("utf-8").split("## Terms", 1)[1].split("\n## ", 1)[0]
    cells = [line.strip().strip("|").split("|")[1] for line in text.splitlines() if line.startswith("|")][2:]
    words = {w.strip() for cell in cells for w in re.split(r"[/（）]", cell) if w.strip()}
    return sorted(words, key=len, reverse=True)


def zh_texts(raw: bool = False) -> dict[str, str]:
    """Every zh text; placeholders taken out unless `raw` (a number or name stands there at run time)."""
    return {key: entry["zh"] if raw else PLACEHOLDER.sub("", entry["zh"]) for key, entry in i18n.catalogue().items()}


def pattern(word: str) -> re.Pattern[str]:
    # A Latin word is matched as a word ("GO" is not in "GOOD"); a Chinese one anywhere.
    return re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])" if word.isascii() else re.escape(word))


def test_the_glossary_table_is_read() -> None:
    words = dict(avoided())
    assert words["中枢"].startswith("系统") and words["立案"] and len(words) >= 20
    assert "登记事件" in terms() and "待处理" in terms()


def test_no_zh_text_uses_a_word_we_do_not_use() -> None:
    texts = zh_texts()
    for word in terms():
        texts = {key: text.replace(word, "") for key, text in texts.items()}
    found = [f"{key}: “{word}” → {instead}: {texts[key]}"
             for word, instead in avoided() for key in sorted(texts) if pattern(word).search(texts[key])]
    assert not found, "\n".join(found)


def test_zh_texts_use_full_width_brackets_and_no_spaces_between_chinese_words() -> None:
    bad = [f"{key}: {text}" for key, text in sorted(zh_texts(raw=True).items())
           if re.search(r"[()]", PLACEHOLDER.sub("", text)) or re.search(rf"{CJK} +{CJK}", QUOTED.sub("", text))]
    assert not bad, "\n".join(bad)


def test_the_checks_catch_what_they_look_for() -> None:
    assert pattern("中枢").search("正在连接中枢…") and pattern("GO").search("可以开门 GO —")
    assert not pattern("GO").search("GOOD") and not pattern("ms").search("items")
