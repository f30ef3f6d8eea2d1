"""The guest list: read a CSV or Excel (.xlsx) file, check every row, and give back guests or every mistake at once.

A file with one bad row imports nothing: `load` raises GuestFileError carrying every error as
(row, column, reason) in both languages, rows numbered as the spreadsheet shows them (the
heading is row 1). `write_json` stores a checked list atomically as DIR/guests.json, which the
hub loads. Pinyin initials (张三 -> zs) are computed here, once, so stations can match a
guest by initials without a pinyin library. Knows files; no sockets, no database, no screen.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from protocols.i18n import t

MAX_GUESTS = 5000
LEVELS = ("A", "B", "C")
NEEDS = ("vegetarian", "gluten_free", "dairy_free", "other")
JSON_VERSION = 1

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
}
LIMITS = {"ref": 32, "name": 64, "org": 64, "via": 32, "host": 64, "plate": 16, "notes": 500}
_HEADING = {re.sub(r"[\s()（）_]", "", h.lower()): col for col, hs in COLUMNS.items() for h in hs}
_LEVEL_WORDS = {"a": "A", "a级": "A", "省级": "A", "b": "B", "b级": "B", "市级": "B", "地市级": "B",
                "c": "C", "c级": "C", "其他": "C", "普通": "C", "普通级": "C"}
_NEED_WORDS = {"vegetarian": "vegetarian", "素食": "vegetarian", "素": "vegetarian", "吃素": "vegetarian",
               "glutenfree": "gluten_free", "无麸质": "gluten_free", "dairyfree": "dairy_free",
               "无乳制品": "dairy_free", "无乳": "dairy_free", "other": "other", "其他": "other"}
_NEED_SPLIT = re.compile(r"[,，、;；/]+")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_TIME = re.compile(r"^(?:(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]+)?(\d{1,2})[:：](\d{2})(?::\d{2})?$")
# Everything the wire refuses (see protocols.codec), tab and newline included here: one-line fields.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_PLATE_JUNK = re.compile(r"[\s·.\-•・]")


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


def _err(row: int, column: str, key: str, **params: Any) -> GuestError:
    return GuestError(row, column, t(f"guests.err.{key}", "en", **params), t(f"guests.err.{key}", "zh", **params))


# --- matching helpers (used by the hub and copied to stations with the list) ----------------------

def plate_key(plate: str) -> str:
    """A plate as compared: no spaces, dots or dashes, upper case (湘A·12345 == 湘a12345)."""
    return _PLATE_JUNK.sub("", plate).upper()


def initials(name: str) -> tuple[list[str], str]:
    """(initials variants, full pinyin) of a name: 张三 -> (["zs"], "zhangsan"); 曾 reads "ceng" or "zeng".

    A Latin word gives its first letter (John Smith -> js); a Chinese character gives the first
    letter of each of its readings (heteronyms are common in surnames), so there may be several
    variants, at most 8. Other characters are left out.
    """
    try:
        from pypinyin import Style, pinyin
    except ImportError:   # the console depends on pypinyin; without it, Latin names still match
        pinyin = None
    heads: list[list[str]] = []
    full: list[str] = []
    for piece in re.findall(r"[A-Za-z0-9]+|[\u3400-\u9fff]", name):
        if piece.isascii():
            heads.append([piece[0].lower()])
            full.append(piece.lower())
            continue
        if pinyin is None:
            continue
        readings = [r for r in pinyin(piece, style=Style.NORMAL, heteronym=True, errors="ignore")[0] if r]
        if readings:
            heads.append(sorted({r[0] for r in readings}))
            full.append(readings[0])
    variants = [""]
    for options in heads:
        variants = [v + o for v in variants for o in options][:8]
    return (sorted(set(variants)) if heads else []), "".join(full)


def matches(guest: dict[str, Any], query: str) -> int:
    """How well a guest matches what staff typed: 3 reference, 2 name or initials, 1 organisation, 0 no."""
    q = re.sub(r"\s+", "", query).lower()
    if not q:
        return 0
    if str(guest.get("ref", "")).lower() == q:
        return 3
    name = re.sub(r"\s+", "", str(guest.get("name", ""))).lower()
    if q in name or any(i.startswith(q) for i in guest.get("initials", ())) \
            or str(guest.get("pinyin", "")).startswith(q):
        return 2
    if q in str(guest.get("org", "")).lower():
        return 1
    return 0


def search(guests: Iterable[dict[str, Any]], query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Guests matching `query`, best first, then by name."""
    scored = [(matches(g, query), g) for g in guests]
    scored = [(s, g) for s, g in scored if s]
    scored.sort(key=lambda sg: (-sg[0], sg[1].get("name", "")))
    return [g for _, g in scored[:limit]]


# --- reading files ---------------------------------------------------------------------------------

def _heading(text: Any) -> str:
    return re.sub(r"[\s()（）_]", "", str(text or "").lower())


def _col_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def read_table(path: Path) -> list[list[Any]]:
    """The rows of a .csv or .xlsx file as lists of cell values (heading first); GuestFileError if unreadable."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return _read_xlsx(path)
        if suffix == ".csv":
            return _read_csv(path.read_bytes())
    except OSError as exc:
        raise GuestFileError(path, [_err(0, "", "unreadable", detail=exc.strerror or str(exc))]) from None
    raise GuestFileError(path, [_err(0, "", "suffix", got=path.suffix or path.name)])


def _read_csv(data: bytes) -> list[list[Any]]:
    # Excel in a Chinese office saves CSV in GB18030 (GBK); everything else today is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise GuestFileError("", [_err(0, "", "unreadable", detail="neither UTF-8 nor GB18030 text")])
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _read_xlsx(path: Path) -> list[list[Any]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise GuestFileError(path, [_err(0, "", "not_xlsx", detail=type(exc).__name__)]) from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def load(path: Path | str, event_date: str) -> list[dict[str, Any]]:
    """Every guest of a .csv, .xlsx or guests.json file, checked; GuestFileError lists every mistake."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _load_json(path, event_date)
    return check(read_table(path), event_date, path)


def _load_json(path: Path, event_date: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text("utf-8"))
        rows = data["guests"]
        if data.get("version") != JSON_VERSION or not isinstance(rows, list):
            raise ValueError("not a guests.json of this version")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GuestFileError(path, [_err(0, "", "bad_json", detail=str(exc)[:200])]) from None
    cols = list(COLUMNS)
    table: list[list[Any]] = [cols]
    for g in rows:
        g = g if isinstance(g, dict) else {}
        table.append([_needs_text(g) if c == "needs" else g.get(c, "") for c in cols])
    return check(table, event_date, path)


def _needs_text(guest: dict[str, Any]) -> str:
    """guests.json keeps needs as codes and the other-need text apart; read them back as a cell."""
    codes = guest.get("needs") if isinstance(guest.get("needs"), list) else []
    note = guest.get("needs_note", "")
    return ",".join(f"other:{note}" if c == "other" and note else str(c) for c in codes)


# --- checking ----------------------------------------------------------------------------------------

def check(table: list[list[Any]], event_date: str, path: Path | str = "") -> list[dict[str, Any]]:
    """Rows (heading first) to guests; GuestFileError with every (row, column, reason) if any is wrong."""
    errors: list[GuestError] = []
    if not table or not any(_cell(c) for c in table[0]):
        raise GuestFileError(path, [_err(1, "", "no_heading", known=_known())])
    heading = table[0]
    columns: dict[int, str] = {}
    labels: dict[str, str] = {}
    for i, raw in enumerate(heading):
        label = f"{_col_letter(i)} ({_cell(raw)})" if _cell(raw) else _col_letter(i)
        if not _cell(raw):
            if any(i < len(r) and _cell(r[i]) for r in table[1:]):
                errors.append(_err(1, _col_letter(i), "no_heading_here"))
            continue
        col = _HEADING.get(_heading(raw))
        if col is None:
            errors.append(_err(1, label, "unknown_column", got=_cell(raw), known=_known()))
        elif col in labels:
            errors.append(_err(1, label, "twice", other=labels[col]))
        else:
            columns[i], labels[col] = col, label
    if "name" not in labels and not errors:
        errors.append(_err(1, "", "no_name", known=_known()))
    if errors:
        raise GuestFileError(path, errors)
    guests: list[dict[str, Any]] = []
    refs: dict[str, int] = {}
    for n, raw_row in enumerate(table[1:], start=2):
        cells = {col: raw_row[i] if i < len(raw_row) else None for i, col in columns.items()}
        if not any(_cell(v) for v in cells.values()):
            continue   # blank lines between groups are common in office sheets
        guest, row_errors = _row(n, cells, labels, event_date)
        errors += row_errors
        ref = " ".join(_cell(cells.get("ref")).split()).lower()
        if ref:   # checked on every row, good or not, so a repeated reference is told at once
            if ref in refs:
                errors.append(_err(n, labels["ref"], "ref_twice", ref=_cell(cells.get("ref")), other=refs[ref]))
                continue
            refs[ref] = n
        if guest is not None:
            guests.append(guest)
    if len(guests) > MAX_GUESTS:
        errors.append(_err(0, "", "too_many", n=len(guests), max=MAX_GUESTS))
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


def _row(n: int, cells: dict[str, Any], labels: dict[str, str], event_date: str
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
            errors.append(_err(n, labels[col], "control"))
            return ""
        if len(value) > LIMITS[col]:
            errors.append(_err(n, labels[col], "too_long", max=LIMITS[col], got=len(value)))
            return ""
        return value

    guest: dict[str, Any] = {c: "" for c in LIMITS}
    for col in LIMITS:
        if col in labels:
            guest[col] = text(col, multiline=col == "notes")
    if not guest["name"] and "name" in labels and not any(e.column == labels["name"] for e in errors):
        errors.append(_err(n, labels["name"], "no_name_here"))
    if guest["ref"] and not _REF.match(guest["ref"]):
        errors.append(_err(n, labels["ref"], "bad_ref", got=guest["ref"]))
    guest["level"] = _level(n, cells.get("level"), labels.get("level", ""), errors)
    guest["party"] = _party(n, cells.get("party"), labels.get("party", ""), errors)
    guest["arrive"], guest["arrive_ms"] = _arrive(n, cells.get("arrive"), labels.get("arrive", ""), event_date, errors)
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
        errors.append(_err(n, label, "bad_level", got=_cell(value)))
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
        errors.append(_err(n, label, "bad_party", got=_cell(value)))
        return 1
    return value


def _arrive(n: int, value: Any, label: str, event_date: str, errors: list[GuestError]) -> tuple[str, int]:
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
            errors.append(_err(n, label, "bad_time", got=_cell(value)))
            return "", 0
        y, mo, d, h, mi = m.groups()
        try:
            if y:
                day = dt.date(int(y), int(mo), int(d))
            hm = (int(h), int(mi))
            dt.time(*hm)
        except ValueError:
            errors.append(_err(n, label, "bad_time", got=_cell(value)))
            return "", 0
    ms = int(time.mktime((day.year, day.month, day.day, hm[0], hm[1], 0, 0, 0, -1)) * 1000)
    shown = f"{hm[0]:02d}:{hm[1]:02d}"
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
            errors.append(_err(n, label, "bad_need", got=token))
            continue
        found.add(code)
        if said:
            note = said[:64]
    return [c for c in NEEDS if c in found], note


# --- storing ----------------------------------------------------------------------------------------

def digest(guests: list[dict[str, Any]]) -> str:
    """16 hex characters that change whenever any guest's details change."""
    text = json.dumps(guests, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_json(path: Path | str, guests: list[dict[str, Any]], source: str) -> Path:
    """Write a checked list to `path` atomically (a reader sees the old file or the new, never half)."""
    path = Path(path)
    data = {"version": JSON_VERSION, "source": source, "digest": digest(guests),
            "imported_ms": int(time.time() * 1000), "guests": guests}
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path


def for_station(guest: dict[str, Any]) -> dict[str, Any]:
    """What a terminal keeps of a guest: enough to find, greet and check in; nothing else."""
    keep = ("ref", "name", "org", "level", "party", "arrive", "via", "host", "needs", "needs_note", "notes",
            "initials", "pinyin")
    return {k: guest.get(k, "") for k in keep}


def summary(guests: list[dict[str, Any]]) -> dict[str, int]:
    return {"guests": len(guests), "people": sum(g["party"] for g in guests),
            "vip": sum(g["level"] in ("A", "B") for g in guests),
            "needs": sum(bool(g["needs"]) for g in guests)}
