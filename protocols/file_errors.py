"""Why a file or SQLite operation failed, in the catalogue's words (zh and en): shared by the hub's log and a station's outbox.

A person reads "the disk is full", never `sqlite3.OperationalError` or an errno; the error's
own name is kept only where no sentence fits (`other`). Also: making files and folders
owner-only. Imports no database, no sockets, no screen (the desk's widgets reach it).
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

from protocols.i18n import t

# SQLite's primary result codes (the extended ones start with these) -> catalogue key under file.why.
_SQLITE = {"SQLITE_FULL": "full", "SQLITE_CORRUPT": "corrupt", "SQLITE_NOTADB": "notadb",
           "SQLITE_CANTOPEN": "cantopen", "SQLITE_READONLY": "readonly", "SQLITE_PERM": "perm",
           "SQLITE_AUTH": "perm", "SQLITE_IOERR": "ioerr", "SQLITE_BUSY": "busy", "SQLITE_LOCKED": "busy"}
_ERRNO = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EFBIG: "full", errno.EACCES: "perm",
          errno.EPERM: "perm", errno.EROFS: "readonly", errno.ENOENT: "missing", errno.ENOTDIR: "missing",
          errno.EIO: "ioerr", errno.EISDIR: "cantopen"}


def why(exc: BaseException) -> tuple[str, dict[str, str]]:
    """(catalogue key, params) for the reason behind `exc` (an sqlite3.Error, an OSError or anything else)."""
    if type(exc).__module__ == "sqlite3":   # sqlite3.Error, told apart without importing sqlite3 here
        name = getattr(exc, "sqlite_errorname", "") or ""
        for prefix, key in _SQLITE.items():
            if name == prefix or name.startswith(prefix + "_"):
                return f"file.why.{key}", {}
        text = str(exc).lower()   # errors raised before SQLite gave a code (closed connection, ...)
        if "malformed" in text:
            return "file.why.corrupt", {}
        return "file.why.other", {"name": name or type(exc).__name__}
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return f"file.why.{_ERRNO[exc.errno]}", {}
    if isinstance(exc, OSError) and exc.errno:
        return "file.why.other", {"name": errno.errorcode.get(exc.errno, str(exc.errno))}
    return "file.why.other", {"name": type(exc).__name__}


def why_text(exc: BaseException, lang: str) -> str:
    key, params = why(exc)
    return t(key, lang, **params)


class Word(str):
    """A parameter that is itself a catalogue key, put in the sentence's language."""


class FileProblem(Exception):
    """A sentence from the catalogue about a file (`prefix.key` with its params; `cause` gives {why}).

    `str()` is the English sentence; `sentence(lang)` the one to show.
    """

    prefix = "file"

    def __init__(self, key: str, cause: BaseException | None = None, **params: object) -> None:
        self.key, self.cause, self.params = key, cause, params
        super().__init__(self.sentence("en"))

    def sentence(self, lang: str) -> str:
        params = {k: t(v, lang) if isinstance(v, Word) else str(v) for k, v in self.params.items()}
        if self.cause is not None:
            params["why"] = why_text(self.cause, lang)
        return t(f"{self.prefix}.{self.key}", lang, **params)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 (new folders 0700), or make an existing one owner-only.

    SQLite gives a log's -wal and -shm files the mode of the database file, so a log made this
    way stays owner-only. Files written before this rule were 0644: they are tightened.
    """
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        tighten(path)


def private_dir(folder: Path) -> None:
    """Make `folder`, and each missing folder above it, owner-only (mkdir's `parents` would use the umask)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(mode=0o700, exist_ok=True)


def tighten(path: Path) -> None:
    """Make an existing file owner-only, if it is ours to change."""
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass   # not ours, or gone: the caller's open says what matters
