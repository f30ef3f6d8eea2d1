"""The guest list's files: read a CSV, Excel (.xlsx) or guests.json file into checked guests, store, find them.

A file with one bad row imports nothing: `load` raises GuestFileError carrying every error as
(row, column, reason) in both languages (console.core.guests_check checks the rows). Whatever a file
holds, reading it costs bounded memory and time: CSV and JSON files are refused over MAX_FILE_BYTES,
an .xlsx's parts over MAX_PART_BYTES (as its zip directory declares them, which also bounds what
is read), and rows are counted as they stream in (openpyxl read-only, the sheet's declared size
ignored) and refused past MAX_ROWS or MAX_COLUMNS. Nothing but GuestFileError leaves `load`.
`write_json` stores a checked list atomically and owner-only as DIR/guests.json, which the hub
loads. Knows files; no sockets, no database, no screen.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

# Re-exported: the hub, the import command and tests know the checked guest's names from console.event.guests.
from console.core.guests_check import COLUMNS, MAX_GUESTS, GuestError, GuestFileError, check, err, initials, plate_key  # noqa: F401
from protocols.file_errors import private_file

JSON_VERSION = 1
MAX_ROWS = 2 * MAX_GUESTS      # rows read, blank ones included: the heading, every guest, room for gaps
MAX_COLUMNS = 64               # the list has 11 columns; a value further right is refused, not read
MAX_FILE_BYTES = 32 << 20      # a CSV or guests.json; 5,000 guests with long notes are under 15 MB
MAX_PART_BYTES = 32 << 20      # an .xlsx's shared strings, styles, workbook: read whole by openpyxl

# --- reading files ---------------------------------------------------------------------------------

def read_table(path: Path) -> list[list[Any]]:
    """The rows of a .csv or .xlsx file as lists of cell values (heading first); GuestFileError if unreadable."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return _read_xlsx(path)
        if suffix == ".csv":
            return _read_csv(_read_bytes(path))
    except OSError as exc:
        raise GuestFileError(path, [err(0, "", "unreadable", detail=exc.strerror or str(exc))]) from None
    except GuestFileError as exc:   # the readers below know the rows, not the file's name
        raise GuestFileError(path, exc.errors) from None
    raise GuestFileError(path, [err(0, "", "suffix", got=path.suffix or path.name)])


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise GuestFileError(path, [err(0, "", "file_too_big", mb=size >> 20, max=MAX_FILE_BYTES >> 20)])
    return path.read_bytes()


def _read_csv(data: bytes) -> list[list[Any]]:
    # Excel in a Chinese office saves CSV in GB18030 (GBK); everything else today is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise GuestFileError("", [err(0, "", "unreadable", detail="neither UTF-8 nor GB18030 text")])
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _capped(reader)
    except csv.Error:   # a cell over the csv module's limit (131,072 characters), or quotes it cannot close
        raise GuestFileError("", [err(reader.line_num, "", "csv_broken", max=csv.field_size_limit())]) from None


def _capped(rows: Any) -> list[list[Any]]:
    """The rows, refused as soon as one more than MAX_ROWS or one wider than MAX_COLUMNS comes in."""
    table: list[list[Any]] = []
    for row in rows:
        if len(table) == MAX_ROWS:
            raise GuestFileError("", [err(0, "", "too_many_rows", max=MAX_ROWS, guests=MAX_GUESTS)])
        row = list(row)
        if len(row) > MAX_COLUMNS:
            if any(v not in (None, "") for v in row[MAX_COLUMNS:]):
                raise GuestFileError("", [err(len(table) + 1, "", "too_many_columns", max=MAX_COLUMNS)])
            del row[MAX_COLUMNS:]   # empty cells far right: formatting, not data
        table.append(row)
    return table


def _read_xlsx(path: Path) -> list[list[Any]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            # The zip's own directory bounds what reading a part can yield; openpyxl reads all but
            # the sheets whole, so those parts must be small. The sheet itself is streamed.
            for info in archive.infolist():
                if not info.filename.startswith(("xl/worksheets/", "xl/media/")) and info.file_size > MAX_PART_BYTES:
                    raise GuestFileError(path, [err(0, "", "part_too_big", part=info.filename,
                                                    max=MAX_PART_BYTES >> 20)])
        book = load_workbook(path, read_only=True, data_only=True)
    except GuestFileError:
        raise
    except Exception:  # noqa: BLE001 — a broken zip or workbook part raises anything from KeyError to XML errors
        raise GuestFileError(path, [err(0, "", "not_workbook")]) from None
    try:
        if not book.worksheets:
            raise GuestFileError(path, [err(0, "", "no_sheet")])
        sheet = book.worksheets[0]
        # The declared size (`<dimension ref="A1:XFD1048576">`) is the file's claim: read what is there.
        sheet.reset_dimensions()
        return _capped(sheet.iter_rows(values_only=True))
    except GuestFileError:
        raise
    except Exception:  # noqa: BLE001 — malformed sheet XML, bad cell values
        raise GuestFileError(path, [err(0, "", "not_workbook")]) from None
    finally:
        book.close()


def load(path: Path | str, event_date: str, tz: dt.tzinfo) -> list[dict[str, Any]]:
    """Every guest of a .csv, .xlsx or guests.json file, checked; GuestFileError lists every mistake."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _load_json(path, event_date, tz)
    return check(read_table(path), event_date, tz, path)


def _load_json(path: Path, event_date: str, tz: dt.tzinfo) -> list[dict[str, Any]]:
    try:
        data = json.loads(_read_bytes(path).decode("utf-8"))
        rows = data["guests"]
        if data.get("version") != JSON_VERSION or not isinstance(rows, list):
            raise ValueError("not a guests.json of this version")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise GuestFileError(path, [err(0, "", "bad_json", detail=str(exc)[:200])]) from None
    cols = list(COLUMNS)
    table: list[list[Any]] = [cols]
    for g in rows:
        g = g if isinstance(g, dict) else {}
        table.append([_needs_text(g) if c == "needs" else g.get(c, "") for c in cols])
    return check(table, event_date, tz, path)


def _needs_text(guest: dict[str, Any]) -> str:
    """guests.json keeps needs as codes and the other-need text apart; read them back as a cell."""
    codes = guest.get("needs") if isinstance(guest.get("needs"), list) else []
    note = guest.get("needs_note", "")
    return ",".join(f"other:{note}" if c == "other" and note else str(c) for c in codes)


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
    private_file(tmp)   # names, plates and phone-like notes: owner-only
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
