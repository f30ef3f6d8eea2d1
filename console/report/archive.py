"""The archive (留存归档): one .tar.gz with the log, event.toml, the report and a sha256 manifest; and its check.

`create` snapshots the log with SQLite's backup API (consistent even while a hub writes), writes
the summary from that snapshot in both languages, lists every file's SHA-256 in MANIFEST.sha256
(the `sha256sum -c` format) and packs it all the same way every time: fixed order, owner, mode,
one mtime, a gzip header without name or time. `verify` reads the archive as a stream, never
extracting it: it checks the gzip header, trailer and end, every member against the manifest
(a changed, missing or extra file), and rebuilds the tar stream from the members to compare
byte for byte, so a change to a header or to padding is caught too. It decompresses at most
OUT bytes a step and never copies what it has read again, so its time is linear in the
archive's size, and it stops at MAX_EXPANDED bytes whatever the archive claims. The archive
and its members are owner-only (the log holds names and plates). Knows files and SQLite.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from console.event.folder import EventFolder
from console.report import files as report_io
from protocols import eventtime
from protocols.file_errors import private_file
from protocols.i18n import t

MANIFEST = "MANIFEST.sha256"
LEVEL = 6
CHUNK = 1 << 20          # compressed bytes read at a time
OUT = 1 << 16            # decompressed bytes made at a time: the step's memory, whatever the ratio
MAX_EXPANDED = 8 << 30   # what an archive may expand to in all: a large event's log is well under 1 GiB
MODE = 0o600             # members' mode (archives before it said 0644, which verify still accepts)
OLD_MODES = (0o600, 0o644)


def _gzip(out: BinaryIO) -> gzip.GzipFile:
    """The one way the archive is compressed: no file name and no time in the header."""
    return gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=LEVEL, mtime=0)


def _header() -> bytes:
    buf = io.BytesIO()
    _gzip(buf).close()
    return buf.getvalue()[:10]


GZ_HEADER = _header()


@dataclass
class Problem:
    key: str                    # catalogue key under report.archive.
    params: dict[str, Any] = field(default_factory=dict)

    def sentence(self, lang: str) -> str:
        """The problem in `lang`: why the file is damaged in words (never zlib's or tarfile's English), and
        the member being read when it broke."""
        params = dict(self.params)
        if "why" in params:
            params["reason"] = t(f"report.archive.why.{params.pop('why')}", lang)
        if self.key == "damaged":
            member = params.pop("member", "")
            params["at"] = t("report.archive.at.member", lang, name=member) if member else ""
        return t(f"report.archive.{self.key}", lang, **params)


@dataclass
class Verdict:
    path: Path
    problems: list[Problem]
    files: int = 0
    digest: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _snapshot(src: Path, dst: Path) -> None:
    """A consistent single-file copy of a live SQLite log (WAL included), as of now."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


def _pack(staging: Path, top: str, out: BinaryIO, mtime: int) -> int:
    """Every file under `staging` (sorted) into a tar.gz stream, each entry normalised; returns the count."""
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    with _gzip(out) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in files:
                rel = path.relative_to(staging).as_posix()
                with open(path, "rb") as f:
                    tar.addfile(_info(f"{top}/{rel}", path.stat().st_size, mtime), f)
    return len(files)


def _info(name: str, size: int, mtime: int, mode: int = MODE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def create(folder: EventFolder, drill: bool = False, out: Path | None = None,
           langs: tuple[str, ...] = ("zh", "en")) -> tuple[Path, str, int]:
    """Write the archive; returns (path, its SHA-256, the number of files in it)."""
    event = folder.load()
    db = folder.db(drill)
    if not db.exists():
        raise report_io.ReportError("report.cli.no_log", path=db)
    now = int(time.time())
    top = f"eventdesk-{event.date}-{'rehearsal' if drill else 'live'}-{eventtime.compact(now * 1000, event.tz)}"
    out = out or folder.root / "archive" / f"{top}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="eventdesk-archive-") as tmp:
        staging = Path(tmp) / top
        staging.mkdir()
        shutil.copy2(folder.toml, staging / "event.toml")
        snap = staging / db.name
        _snapshot(db, snap)
        report = staging / "report"
        if folder.report_dir.is_dir():
            shutil.copytree(folder.report_dir, report, ignore=shutil.ignore_patterns("*.tmp"))
        # The summary is remade from the snapshot, so the report in the archive describes exactly its log.
        summary, cards, latest = report_io.read_summary(folder, drill, db=snap)
        report_io.write_files(summary, report, langs, cards, latest)
        # Reading it through the store switched the copy to WAL; back to one self-contained file.
        conn = sqlite3.connect(str(snap))
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        for leftover in staging.glob(db.name + "-*"):     # -wal / -shm of the read: not part of the log
            leftover.unlink()
        n = write(staging, out, now)
    return out, _sha256_file(out), n - 1     # the files the manifest lists


def write(staging: Path, out: Path, mtime: int) -> int:
    """MANIFEST.sha256 for every file under `staging`, then all of it packed into `out` (owner-only),
    under the top folder `staging.name`; returns the number of files packed."""
    lines = [f"{_sha256_file(p)}  {p.relative_to(staging).as_posix()}"
             for p in sorted(staging.rglob("*")) if p.is_file()]
    (staging / MANIFEST).write_text("\n".join(lines) + "\n", "utf-8")
    part = out.with_name(out.name + ".part")
    private_file(part)
    with open(part, "wb") as f:
        n = _pack(staging, staging.name, f, mtime)
    part.replace(out)
    return n


# --- verify ----------------------------------------------------------------------------------------

class _Damaged(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


class _Gunzip:
    """The decompressed bytes of one gzip member written exactly as `create` writes it, read as a stream.

    Checks the fixed header, the CRC and length in the trailer, and that nothing follows the member;
    keeps the SHA-256 of everything it hands out. Memory is bounded by CHUNK + OUT whatever the
    compression ratio, each byte is copied once on its way out, and more than `limit` bytes in
    all is refused ("too_big").
    """

    def __init__(self, f: BinaryIO, limit: int = MAX_EXPANDED) -> None:
        if f.read(10) != GZ_HEADER:
            raise _Damaged("bytes")
        self.f, self.z, self.limit = f, zlib.decompressobj(-zlib.MAX_WBITS), limit
        self.piece, self.at = b"", 0          # the last piece made, and how much of it was handed out
        self.crc, self.size, self.done = 0, 0, False
        self.sha = hashlib.sha256()

    def _next(self) -> bytes:
        """The next piece of at most OUT decompressed bytes; b"" once the member and its trailer are checked."""
        while not self.done:
            data = self.z.unconsumed_tail or self.f.read(CHUNK)
            try:
                out = self.z.decompress(data, OUT)
            except zlib.error:
                raise _Damaged("damaged", why="data") from None
            if out:
                self.size += len(out)
                if self.size > self.limit:
                    raise _Damaged("too_big", gb=f"{self.limit / (1 << 30):g}")
                self.crc = zlib.crc32(out, self.crc)
                self.sha.update(out)
            if self.z.eof:
                self._trailer()
            elif not data and not out:
                raise _Damaged("damaged", why="short")
            if out:
                return out
        return b""

    def _trailer(self) -> None:
        tail = self.z.unused_data
        tail += self.f.read(max(0, 9 - len(tail)))   # 8 bytes of trailer, and one more would be too many
        if tail[:8] != self.crc.to_bytes(4, "little") + (self.size & 0xFFFFFFFF).to_bytes(4, "little"):
            raise _Damaged("damaged", why="trailer")
        if tail[8:]:
            raise _Damaged("bytes")
        self.done = True

    def read(self, n: int = -1) -> bytes:
        want = n if n >= 0 else self.limit + 1
        parts: list[bytes] = []
        while want > 0:
            if self.at >= len(self.piece):
                self.piece, self.at = self._next(), 0
                if not self.piece:
                    break
            part = self.piece[self.at:self.at + want]
            self.at += len(part)
            want -= len(part)
            parts.append(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)


class _Sink:
    """Where the rebuilt tar stream goes: only its SHA-256 is kept."""

    def __init__(self) -> None:
        self.sha, self.pos = hashlib.sha256(), 0

    def write(self, b: bytes) -> int:
        self.sha.update(b)
        self.pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self.pos


class _Tee:
    """Reads a member once for both its own checksum and the rebuilt stream (keeping the manifest's text)."""

    def __init__(self, f: BinaryIO, keep: bool = False) -> None:
        self.f, self.sha = f, hashlib.sha256()
        self.kept: list[bytes] | None = [] if keep else None

    def read(self, n: int = -1) -> bytes:
        b = self.f.read(n)
        self.sha.update(b)
        if self.kept is not None:
            self.kept.append(b)
        return b


def _parse_manifest(text: str) -> tuple[dict[str, str], list[Problem]]:
    listed, problems = {}, []
    for i, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or any(c not in "0123456789abcdef" for c in digest):
            problems.append(Problem("bad_manifest", {"line": i, "text": line[:80]}))
            continue
        listed[name] = digest
    return listed, problems


def _read_so_far(verdict: Verdict, manifest: str | None, seen: dict[str, str]) -> Verdict:
    """A damaged archive still names the members read whole before the damage that differ from its manifest
    (the manifest is packed first): which file changed, not only that the archive did."""
    if manifest is not None:
        listed, _ = _parse_manifest(manifest)
        verdict.problems += [Problem("changed", {"name": name}) for name, digest in sorted(seen.items())
                             if name in listed and listed[name] != digest]
    return verdict


def verify(path: Path | str, limit: int = MAX_EXPANDED) -> Verdict:
    """Check an archive as a stream (see the module's docstring); `limit` caps what it may expand to."""
    path = Path(path)
    if not path.is_file():
        return Verdict(path, [Problem("no_file", {"path": str(path)})])
    verdict = Verdict(path, [], digest=_sha256_file(path))
    seen: dict[str, str] = {}
    manifest: str | None = None
    top, mtime = None, None
    current = ""      # the member being read: named when the file breaks inside it
    try:
        with open(path, "rb") as f:
            stream = _Gunzip(f, limit)
            sink = _Sink()
            with tarfile.open(fileobj=stream, mode="r|") as tar, \
                    tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as rebuilt:
                for member in tar:
                    name = PurePosixPath(member.name)
                    if not member.isfile() or name.is_absolute() or ".." in name.parts or len(name.parts) < 2:
                        raise _Damaged("odd_entry", name=member.name)
                    top = top or name.parts[0]
                    mtime = member.mtime if mtime is None else mtime
                    if name.parts[0] != top:
                        raise _Damaged("odd_entry", name=member.name)
                    rel = PurePosixPath(*name.parts[1:]).as_posix()
                    if member.size > limit:
                        raise _Damaged("too_big", gb=f"{limit / (1 << 30):g}")
                    current = rel
                    tee = _Tee(tar.extractfile(member), keep=rel == MANIFEST)
                    mode = member.mode if member.mode in OLD_MODES else MODE   # another mode: "bytes"
                    rebuilt.addfile(_info(member.name, member.size, mtime, mode), tee)
                    if tee.kept is not None:
                        manifest = b"".join(tee.kept).decode("utf-8", "replace")
                    seen[rel] = tee.sha.hexdigest()
                    current = ""
            while not stream.done:     # the end-of-archive blocks and padding: part of the bytes too
                stream.read(CHUNK)
            same_bytes = stream.sha.digest() == sink.sha.digest()
    except _Damaged as d:
        verdict.problems.append(Problem(d.key, {**d.params, "member": current} if d.key == "damaged" else d.params))
        return _read_so_far(verdict, manifest, seen)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        why = "io" if isinstance(exc, OSError) else "tar"
        verdict.problems.append(Problem("damaged", {"why": why, "member": current}))
        return _read_so_far(verdict, manifest, seen)
    if manifest is None:
        verdict.problems.append(Problem("no_manifest"))
        return verdict
    listed, problems = _parse_manifest(manifest)
    verdict.problems += problems
    seen.pop(MANIFEST, None)
    for name, digest in sorted(listed.items()):
        if name not in seen:
            verdict.problems.append(Problem("missing", {"name": name}))
        elif seen[name] != digest:
            verdict.problems.append(Problem("changed", {"name": name}))
    verdict.problems += [Problem("extra", {"name": n}) for n in sorted(set(seen) - set(listed))]
    for need in ("event.toml",):
        if need not in listed:
            verdict.problems.append(Problem("needs", {"name": need}))
    if not any(n in listed for n in ("event.db", "rehearsal.db")):
        verdict.problems.append(Problem("needs", {"name": "event.db / rehearsal.db"}))
    if not same_bytes and not verdict.problems:
        verdict.problems.append(Problem("bytes"))
    verdict.files = len(seen)
    return verdict
