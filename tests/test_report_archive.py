"""`eventdesk archive`: the round trip, and every kind of tampering caught with a sentence and exit 1."""
from __future__ import annotations

import gzip
import hashlib
import io
import random
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from console.cli import main
from console.hub.store import Store
from console.report import archive
from tests.report_fixture import EVENTS, make_folder


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = make_folder(tmp_path_factory.mktemp("ev") / "event")
    path, digest, n = archive.create(folder, out=tmp_path_factory.mktemp("out") / "a.tar.gz")
    return folder, path, digest, n


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar}


def repack(src: Path, dst: Path, change=None, drop: str = "", add: tuple[str, bytes] | None = None) -> Path:
    """A copy of the archive packed the same way, with one member changed, dropped or added."""
    with tarfile.open(src) as tar, open(dst, "wb") as f, archive._gzip(f) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as out:
        entries = [(m, tar.extractfile(m).read()) for m in tar]
        top, mtime = entries[0][0].name.split("/")[0], entries[0][0].mtime
        if add:
            entries.append((archive._info(f"{top}/{add[0]}", len(add[1]), mtime), add[1]))
        for m, data in entries:
            rel = m.name.split("/", 1)[1]
            if rel == drop:
                continue
            if change and rel == change[0]:
                data = change[1](data)
            out.addfile(archive._info(m.name, len(data), mtime), io.BytesIO(data))
    return dst


def test_the_archive_holds_the_log_the_event_file_the_report_and_a_manifest(made):
    folder, path, digest, n = made
    got = members(path)
    assert {"MANIFEST.sha256", "event.toml", "event.db", "report/summary.zh.md", "report/summary.en.html",
            "report/summary-csv/incidents.csv", "report/summary-charts/people.zh.svg"} <= set(got)
    assert n == len(got) - 1                                   # every file but the manifest is listed
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert got["event.toml"] == folder.toml.read_bytes()
    lines = got["MANIFEST.sha256"].decode().splitlines()
    assert len(lines) == n
    for line in lines:                                         # the sha256sum -c format
        hexdigest, name = line.split("  ", 1)
        assert hashlib.sha256(got[name]).hexdigest() == hexdigest


def test_the_log_in_the_archive_is_a_whole_sqlite_file(made, tmp_path):
    _, path, _, _ = made
    db = tmp_path / "event.db"
    db.write_bytes(members(path)["event.db"])
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(EVENTS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_verify_passes_an_untouched_archive(made, capsys):
    _, path, digest, n = made
    verdict = archive.verify(path)
    assert verdict.ok and verdict.files == n and verdict.digest == digest
    assert main(["archive", "--verify", str(path), "--lang", "en"]) == 0
    assert f"Verified: {n} files match the manifest" in capsys.readouterr().out


@pytest.mark.wire
def test_sha256sum_agrees_with_the_manifest(made, tmp_path):
    _, path, _, _ = made
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path, filter="data")
    top = next(tmp_path.iterdir())
    run = subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=top, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _verdict(path: Path) -> list[str]:
    return [p.key for p in archive.verify(path).problems]


def _invisible(bad: bytes, good: bytes) -> bool:
    """The flip changed nothing anyone can read: same header, same trailer, same bytes out (the unused
    bits that pad the deflate stream's last byte). The archive's own checks cannot see it, nor can gzip."""
    import gzip
    try:
        return bad[:10] == good[:10] and bad[-8:] == good[-8:] and gzip.decompress(bad) == gzip.decompress(good)
    except Exception:   # noqa: BLE001 — it does not even read: visible
        return False


def test_any_changed_byte_is_caught(made, tmp_path):
    _, path, _, _ = made
    data = path.read_bytes()
    rng = random.Random(5)
    offsets = [0, 3, 4, 9, 10, len(data) // 2, len(data) - 9, len(data) - 5, len(data) - 1]
    offsets += rng.sample(range(len(data)), 40)
    invisible = 0
    for off in offsets:
        bad = bytearray(data)
        bad[off] ^= 1 << rng.randrange(8)
        if _invisible(bytes(bad), data):
            invisible += 1   # a padding bit after the last deflate block: no reader can see it
            continue
        target = tmp_path / "bad.tar.gz"
        target.write_bytes(bad)
        assert _verdict(target), f"a flipped bit at byte {off} of {len(data)} went unnoticed"
    assert invisible <= 1
    (tmp_path / "long.tar.gz").write_bytes(data + b"\0")
    assert _verdict(tmp_path / "long.tar.gz") == ["bytes"]
    (tmp_path / "short.tar.gz").write_bytes(data[:-1])
    assert _verdict(tmp_path / "short.tar.gz") == ["damaged"]


def test_a_changed_member_is_named(made, tmp_path):
    _, path, _, _ = made
    bad = repack(path, tmp_path / "x.tar.gz", change=("report/summary.zh.md", lambda b: b.replace("5".encode(), b"6")))
    assert [(p.key, p.params) for p in archive.verify(bad).problems] == [("changed", {"name": "report/summary.zh.md"})]


def test_a_missing_or_extra_member_is_named(made, tmp_path):
    _, path, _, _ = made
    gone = repack(path, tmp_path / "gone.tar.gz", drop="event.db")
    assert [(p.key, p.params["name"]) for p in archive.verify(gone).problems] == [("missing", "event.db")]
    extra = repack(path, tmp_path / "extra.tar.gz", add=("report/later.txt", b"added afterwards"))
    assert [(p.key, p.params["name"]) for p in archive.verify(extra).problems] == [("extra", "report/later.txt")]
    no_manifest = repack(path, tmp_path / "nm.tar.gz", drop="MANIFEST.sha256")
    assert _verdict(no_manifest) == ["no_manifest"]


def test_a_repacked_but_identical_archive_still_verifies(made, tmp_path):
    # The same members packed the same way: nothing changed, so nothing to report.
    _, path, _, _ = made
    same = repack(path, tmp_path / "same.tar.gz")
    assert archive.verify(same).ok and same.read_bytes() == path.read_bytes()


def test_an_archive_that_is_not_ours_is_refused(tmp_path):
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("x/event.toml")
        tar.addfile(info, io.BytesIO(b""))
    assert _verdict(other) == ["bytes"]                    # a gzip header with a name and a time
    plain = tmp_path / "plain.tar.gz"
    plain.write_bytes(gzip.compress(b"not a tar at all", mtime=0))
    assert _verdict(plain)


def test_the_command_says_what_changed_and_exits_1(made, tmp_path, capsys):
    _, path, _, _ = made
    bad = repack(path, tmp_path / "x.tar.gz", change=("event.toml", lambda b: b + b"# edited\n"))
    assert main(["archive", "--verify", str(bad), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "Verification failed" in err and "A file differs from the manifest: event.toml" in err
    assert main(["archive", "--verify", str(tmp_path / "none.tar.gz"), "--lang", "zh"]) == 1
    assert "不存在" in capsys.readouterr().err


def test_archiving_a_log_a_hub_is_writing(tmp_path, capsys):
    folder = make_folder(tmp_path / "ev")
    writer = Store(folder.db(), writer=True)      # the hub holds the log open (WAL, lock)
    try:
        writer.append_batch([("gate-1", "ep-gate-1", 99, "car_in", 1_796_465_500_000, 1_796_465_500_000, '{"count":1}')])
        assert main(["archive", str(folder.root), "--lang", "en"]) == 0
    finally:
        writer.close()
    out = capsys.readouterr().out
    made_path = next((folder.root / "archive").glob("*.tar.gz"))
    assert "Wrote the archive" in out and "SHA-256 of the archive file" in out
    assert archive.verify(made_path).ok
    assert b"car_in" in members(made_path)["event.db"] or len(members(made_path)["event.db"]) > 0
    assert main(["archive", "--lang", "en"]) == 2


def _zeros_archive(tmp_path: Path, mib: int) -> Path:
    """An archive packed as `create` packs one, whose log is `mib` MiB of zeros (it compresses 1000:1)."""
    staging = tmp_path / "eventdesk-zeros"
    staging.mkdir()
    (staging / "event.toml").write_text("[event]\n", "utf-8")
    (staging / "event.db").write_bytes(bytes(mib << 20))
    out = tmp_path / "zeros.tar.gz"
    archive.write(staging, out, 1_796_400_000)
    return out


def test_verify_holds_a_few_mib_whatever_a_member_expands_to(tmp_path):
    # 32 MiB from 32 KiB: each step makes at most archive.OUT bytes, and nothing read is copied again
    # (the reader once held a whole megabyte of input's output and re-sliced it: quadratic, unbounded).
    path = _zeros_archive(tmp_path, 32)
    import tracemalloc
    tracemalloc.start()
    try:
        verdict = archive.verify(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.ok and verdict.files == 2
    assert peak < 4 << 20, f"{peak / (1 << 20):.1f} MiB"


def test_an_archive_that_expands_past_the_cap_is_refused(tmp_path, capsys):
    path = _zeros_archive(tmp_path, 3)
    verdict = archive.verify(path, limit=2 << 20)
    assert [p.key for p in verdict.problems] == ["too_big"]
    # The unit as docs/GLOSSARY.md fixes it (GB), inside the catalogue's sentence in either language.
    zh, en = (verdict.problems[0].sentence(lang) for lang in ("zh", "en"))
    assert "GB" in zh and "GiB" not in zh and "GB" in en and "GiB" not in en, (zh, en)
    assert archive.verify(path, limit=4 << 20).ok
    assert main(["archive", "--verify", str(path), "--lang", "en"]) == 0   # the default cap is far above
    capsys.readouterr()


def test_archives_and_their_members_are_owner_only_and_older_0644_ones_still_verify(made, tmp_path):
    import stat
    _, path, _, _ = made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with tarfile.open(path) as tar:
        assert {m.mode for m in tar} == {0o600}
    with tarfile.open(path) as tar, open(tmp_path / "old.tar.gz", "wb") as f, archive._gzip(f) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as out:
        for m in tar:
            out.addfile(archive._info(m.name, m.size, m.mtime, 0o644), tar.extractfile(m))
    assert archive.verify(tmp_path / "old.tar.gz").ok


def test_a_damaged_archive_names_the_member_that_changed_in_the_chosen_language(made, tmp_path):
    # issue 17: `archive --verify` says which file changed, in Chinese with no English inside.
    from tests.staff_text import leaks
    _, path, _, _ = made
    data, names = path.read_bytes(), list(members(path))
    bad = bytearray(data)
    bad[len(data) // 3] ^= 0x10          # inside a report file's compressed bytes
    (tmp_path / "bad.tar.gz").write_bytes(bad)
    problems = archive.verify(tmp_path / "bad.tar.gz").problems
    assert [p.key for p in problems][0] == "damaged" and "changed" in [p.key for p in problems]
    said = [p.sentence("zh") for p in problems]
    assert any(p.key == "changed" and p.params["name"] in names for p in problems), said
    assert leaks("\n".join(said), (), names) == [], said
    assert not [s for s in (p.sentence("en") for p in problems) if "gzip" in s or "Error" in s]
    (tmp_path / "short.tar.gz").write_bytes(data[: len(data) // 2])
    cut = archive.verify(tmp_path / "short.tar.gz").problems[0]
    assert cut.key == "damaged" and "文件不完整" in cut.sentence("zh") and leaks(cut.sentence("zh"), (), names) == []
    member = cut.params["member"]      # the member being read when it broke, when it broke inside one
    assert not member or (member in names and f"（读到 {member} 时）" in cut.sentence("zh"))
