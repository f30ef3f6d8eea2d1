"""Check a guest table (heading first) row by row: guests out, or every mistake in both languages.

A table with one bad row gives no guests: `check` raises GuestFileError carrying every error as
(row, column, reason), rows numbered as the spreadsheet shows them (the heading is row 1).
Pinyin initials (张三 -> zs) are computed here, once, so stations can match a guest by initials
without a pinyin library. Reads no files (console.event.guests does); no sockets, no database, no screen.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocols import eventtime
from protocols.names import plate_key  # noqa: F401  (the hub and the gate compare plates alike)
from protocols.i18n import t

MAX_GUESTS = 5000
LEVELS = ("A", "B", "C")
NEEDS = ("vegetarian", "halal", "gluten_free", "dairy_free", "other")   # halal (清真): issue 16 item 4

# Canonical column -> the headings an office may use for it (compared without case, spaces or brackets).
COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("ref", "reference", "编号", "邀请码", "来宾编号"),
    "name": ("name", "姓名", "来宾姓名", "客人姓名"),
    "org": ("org", "organisation", "organization", "单位", "单位名称", "来宾单位"),
    "level": ("level", "接待级别", "级别", "接待标准"),
    "party": ("party", "party_size", "partysize", "人数", "来访人数", "一行人数"),
    "arrive": ("arrive", "arrival", "expected", "expectedarrival", "预计到达", "到达时间", "预计到达时间"),
    "via": ("via", "transport", "flight", "train", "flight/train", "航班", "车次", "航班/车次", "航班车次", "交通方式"),
    "host": ("host", "陪同", "陪同人员", "接待人", "接待人员", "对口接待"),
    "plate": ("plate", "车牌", "车牌号", "车牌号码"),
    "needs": ("needs", "specialneeds", "diet", "特殊需求", "饮食要求", "特殊饮食"),
    "notes": ("notes", "note", "备注", "说明"),
    # VIPs end to end (issue 16 item 4): whom the posts call, the guest's side and the escort's
    "phone": ("phone", "contactphone", "联系电话", "来宾电话", "联系人电话", "手机"),
    "escort_phone": ("escortphone", "hostphone", "陪同电话", "陪同人电话", "陪同手机", "对接人电话"),
}
LIMITS = {"ref": 32, "name": 64, "org": 64, "via": 32, "host": 64, "plate": 16, "notes": 500, "phone": 32,
          "escort_phone": 32}
_HEADING = {re.sub(r"[\s()（）_]", "", h.lower()): col for col, hs in COLUMNS.items() for h in hs}
_LEVEL_WORDS = {"a": "A", "a级": "A", "省级": "A", "b": "B", "b级": "B", "市级": "B", "地市级": "B",
                "c": "C", "c级": "C", "其他": "C", "普通": "C", "普通级": "C"}
_NEED_WORDS = {"vegetarian": "vegetarian", "素食": "vegetarian", "素": "vegetarian", "吃素": "vegetarian",
               "glutenfree": "gluten_free", "无麸质": "gluten_free", "dairyfree": "dairy_free",
               "无乳制品": "dairy_free", "无乳": "dairy_free", "halal": "halal", "清真": "halal", "清真餐": "halal", "other": "other", "其他": "other"}
_NEED_SPLIT = re.compile(r"[,，、;；/]+")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_TIME = re.compile(r"^(?:(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]+)?(\d{1,2})[:：](\d{2})(?::\d{2})?$")
# Everything the wire refuses (see protocols.codec), tab and newline included here: one-line fields.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


@dataclass(frozen=True)
class GuestError:
    """One mistake: spreadsheet row (1 = the heading; 0 = the file itself), the column, and why."""

    row: int
    column: str
    en: str
    zh: str

    def sentence(self, lang: str) -> str:
        where = []
        if self.row:
            where.append(t("guests.where.row", lang, row=self.row))
        if self.column:
            where.append(t("guests.where.column", lang, column=self.column))
        reason = self.zh if lang == "zh" else self.en
        return (t("guests.where.sep", lang).join(where) + t("guests.where.colon", lang) if where else "") + reason


class GuestFileError(Exception):
    """The file was not imported; `errors` says every reason (nothing half-imported)."""

    def __init__(self, path: Path | str, errors: list[GuestError]) -> None:
        self.path, self.errors = str(path), errors
        super().__init__(f"{path}: " + "; ".join(e.sentence("en") for e in errors[:5])
                         + (f"; … {len(errors) - 5} more" if len(errors) > 5 else ""))


def err(row: int, column: str, key: str, **params: Any) -> GuestError:
    """One mistake, its reason in both languages (protocols.i18n's guests.err.KEY)."""
    return GuestError(row, column, t(f"guests.err.{key}", "en", **params), t(f"guests.err.{key}", "zh", **params))


# --- checking ----------------------------------------------------------------------------------------

def _heading(text: Any) -> str:
    return re.sub(r"[\s()（）_]", "", str(text or "").lower())


def _col_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def check(table: list[list[Any]], event_date: str, tz: dt.tzinfo, path: Path | str = "") -> list[dict[str, Any]]:
    """Rows (heading first) to guests; GuestFileError with every (row, column, reason) if any is wrong."""
    errors: list[GuestError] = []
    if not table or not any(_cell(c) for c in table[0]):
        raise GuestFileError(path, [err(1, "", "no_heading", known=_known())])
    heading = table[0]
    columns: dict[int, str] = {}
    labels: dict[str, str] = {}
    for i, raw in enumerate(heading):
        label = f"{_col_letter(i)} ({_cell(raw)})" if _cell(raw) else _col_letter(i)
        if not _cell(raw):
            if any(i < len(r) and _cell(r[i]) for r in table[1:]):
                errors.append(err(1, _col_letter(i), "no_heading_here"))
            continue
        col = _HEADING.get(_heading(raw))
        if col is None:
            errors.append(err(1, label, "unknown_column", got=_cell(raw), known=_known()))
        elif col in labels:
            errors.append(err(1, label, "twice", other=labels[col]))
        else:
            columns[i], labels[col] = col, label
    if "name" not in labels and not errors:
        errors.append(err(1, "", "no_name", known=_known()))
    if errors:
        raise GuestFileError(path, errors)
    guests: list[dict[str, Any]] = []
    refs: dict[str, int] = {}
    for n, raw_row in enumerate(table[1:], start=2):
        cells = {col: raw_row[i] if i < len(raw_row) else None for i, col in columns.items()}
        if not any(_cell(v) for v in cells.values()):
            continue   # blank lines between groups are common in office sheets
        guest, row_errors = _row(n, cells, labels, event_date, tz)
        errors += row_errors
        ref = " ".join(_cell(cells.get("ref")).split()).lower()
        if ref:   # checked on every row, good or not, so a repeated reference is told at once
            if ref in refs:
                errors.append(err(n, labels["ref"], "ref_twice", ref=_cell(cells.get("ref")), other=refs[ref]))
                continue
            refs[ref] = n
        if guest is not None:
            guests.append(guest)
    if len(guests) > MAX_GUESTS:
        errors.append(err(0, "", "too_many", n=len(guests), max=MAX_GUESTS))
    if errors:
        raise GuestFileError(path, errors)
    _give_refs(guests, refs)
    return guests


KNOWN = "编号、姓名、单位、接待级别、人数、预计到达、航班/车次、陪同、车牌、特殊需求、备注 (ref, name, org, level, " \
        "party, arrive, via, host, plate, needs, notes)"


def _known() -> str:
    return KNOWN


def _give_refs(guests: list[dict[str, Any]], taken: dict[str, int]) -> None:
    """Guests without a reference get G001, G002 ... in list order, skipping any the file uses."""
    n = 0
    for guest in guests:
        if guest["ref"]:
            continue
        while True:
            n += 1
            ref = f"G{n:03d}"
            if ref.lower() not in taken:
                break
        guest["ref"] = ref


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.time, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).strip()


def _row(n: int, cells: dict[str, Any], labels: dict[str, str], event_date: str, tz: dt.tzinfo
         ) -> tuple[dict[str, Any] | None, list[GuestError]]:
    errors: list[GuestError] = []

    def text(col: str, multiline: bool = False) -> str:
        value = _cell(cells.get(col))
        if multiline:   # notes may keep their line breaks and tabs; nothing else invisible
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            visible = value.replace("\n", "").replace("\t", "")
        else:           # a line break typed in a cell becomes a space
            value = " ".join(value.split())
            visible = value
        if _CONTROL.search(visible):
            errors.append(err(n, labels[col], "control"))
            return ""
        if len(value) > LIMITS[col]:
            errors.append(err(n, labels[col], "too_long", max=LIMITS[col], got=len(value)))
            return ""
        return value

    guest: dict[str, Any] = {c: "" for c in LIMITS}
    for col in LIMITS:
        if col in labels:
            guest[col] = text(col, multiline=col == "notes")
    if not guest["name"] and "name" in labels and not any(e.column == labels["name"] for e in errors):
        errors.append(err(n, labels["name"], "no_name_here"))
    if guest["ref"] and not _REF.match(guest["ref"]):
        errors.append(err(n, labels["ref"], "bad_ref", got=guest["ref"]))
    guest["level"] = _level(n, cells.get("level"), labels.get("level", ""), errors)
    guest["party"] = _party(n, cells.get("party"), labels.get("party", ""), errors)
    guest["arrive"], guest["arrive_ms"] = _arrive(n, cells.get("arrive"), labels.get("arrive", ""), event_date, tz, errors)
    guest["needs"], guest["needs_note"] = _needs(n, cells.get("needs"), labels.get("needs", ""), errors)
    if errors:
        return None, errors
    guest["initials"], guest["pinyin"] = initials(guest["name"])
    guest["row"] = n
    return guest, errors


def _level(n: int, value: Any, label: str, errors: list[GuestError]) -> str:
    word = _heading(_cell(value))
    if not word:
        return "C"
    level = _LEVEL_WORDS.get(word)
    if level is None:
        errors.append(err(n, label, "bad_level", got=_cell(value)))
        return "C"
    return level


def _party(n: int, value: Any, label: str, errors: list[GuestError]) -> int:
    if value is None or _cell(value) == "":
        return 1
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        digits = value.strip().rstrip("人位").strip()
        value = int(digits) if digits.isdigit() else value
    if not isinstance(value, int) or not 1 <= value <= 1000:
        errors.append(err(n, label, "bad_party", got=_cell(value)))
        return 1
    return value


def _arrive(n: int, value: Any, label: str, event_date: str, tz: dt.tzinfo,
            errors: list[GuestError]) -> tuple[str, int]:
    day = dt.date.fromisoformat(event_date)
    if value is None or _cell(value) == "":
        return "", 0
    if isinstance(value, dt.datetime):
        day, hm = value.date(), (value.hour, value.minute)
    elif isinstance(value, dt.time):
        hm = (value.hour, value.minute)
    else:
        m = _TIME.match(_cell(value))
        if m is None:
            errors.append(err(n, label, "bad_time", got=_cell(value)))
            return "", 0
        y, mo, d, h, mi = m.groups()
        try:
            if y:
                day = dt.date(int(y), int(mo), int(d))
            hm = (int(h), int(mi))
            dt.time(*hm)
        except ValueError:
            errors.append(err(n, label, "bad_time", got=_cell(value)))
            return "", 0
    shown = f"{hm[0]:02d}:{hm[1]:02d}"
    ms = eventtime.at_ms(day, shown, tz)   # on the event's clock, not the importing machine's
    return (shown if day.isoformat() == event_date else f"{day.isoformat()} {shown}"), ms


def _needs(n: int, value: Any, label: str, errors: list[GuestError]) -> tuple[list[str], str]:
    found: set[str] = set()
    note = ""
    for token in _NEED_SPLIT.split(_cell(value)):
        token = token.strip()
        if not token:
            continue
        m = re.match(r"^([^:：]*)([:：])(.*)$", token)
        head, said = (m.group(1), m.group(3).strip()) if m else (token, "")
        code = _NEED_WORDS.get(_heading(head).replace("-", ""))
        if code is None or (m and code != "other"):
            errors.append(err(n, label, "bad_need", got=token))
            continue
        found.add(code)
        if said:
            note = said[:64]
    return [c for c in NEEDS if c in found], note


# --- pinyin initials (stored with each guest; the hub and stations match on them) -------------------

@functools.lru_cache(maxsize=1 << 16)
def _readings(char: str) -> tuple[str, ...]:
    """A character's readings, first the usual one: looked up once per character, not once per guest (a
    5,000-party list has a few hundred distinct characters; looking each one up every time was half its load).
    None without pypinyin: the console depends on it, but without it Latin names still match."""
    try:
        from pypinyin import Style, pinyin
    except ImportError:
        return ()
    got = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(r for r in got[0] if r) if got else ()   # a character pypinyin does not know: none


def initials(name: str) -> tuple[list[str], str]:
    """(initials variants, full pinyin) of a name: 张三 -> (["zs"], "zhangsan"); 曾 reads "ceng" or "zeng".

    A Latin word gives its first letter (John Smith -> js); a Chinese character gives the first
    letter of each of its readings (heteronyms are common in surnames), so there may be several
    variants, at most 8. Other characters are left out.
    """
    heads: list[list[str]] = []
    full: list[str] = []
    for piece in re.findall(r"[A-Za-z0-9]+|[\u3400-\u9fff]", name):
        if piece.isascii():
            heads.append([piece[0].lower()])
            full.append(piece.lower())
            continue
        readings = _readings(piece)
        if readings:
            heads.append(sorted({r[0] for r in readings}))
            full.append(readings[0])
    variants = [""]
    for options in heads:
        variants = [v + o for v in variants for o in options][:8]
    return (sorted(set(variants)) if heads else []), "".join(full)
