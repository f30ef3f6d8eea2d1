"""A station's outbox file: a truncated, damaged or missing-but-journalled outbox is refused with a sentence and
exit 6 and left exactly as it was, never silently replaced by a new epoch; new outboxes are owner-only."""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from console.event.folder import EventFolder
from stations.outbox.store import Outbox, OutboxError


def saved(path: Path, n: int = 3) -> str:
    """An outbox of gate-1 with `n` saved reports; its epoch."""
    with Outbox(path, "gate-1") as box:
        for _ in range(n):
            box.save("car_in", {"count": 1})
        return box.epoch


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def truncate(path: Path) -> None:
    os.truncate(path, 0)


def cut_in_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def scribble(path: Path) -> None:
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(os.urandom(4096))


def not_an_outbox(path: Path) -> None:
    path.write_bytes(b"this is a text file, not a database\n" * 50)


@pytest.mark.parametrize("damage", [truncate, cut_in_half, scribble, not_an_outbox])
def test_an_outbox_it_cannot_read_is_refused_and_left_as_it_is(tmp_path: Path, damage) -> None:
    path = tmp_path / "gate-1.outbox.db"
    saved(path, 200)
    damage(path)
    before = digest(path)
    with pytest.raises(OutboxError) as caught:
        Outbox(path, "gate-1")
    assert caught.value.key in ("unreadable", "not_outbox")
    assert "will not start on it" in str(caught.value) and "终端不会在它上面启动" in caught.value.sentence("zh")
    assert "Error" not in caught.value.sentence("en")
    assert digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["gate-1.outbox.db"]


def test_an_outbox_deleted_but_for_its_journal_is_not_remade(tmp_path: Path) -> None:
    path = tmp_path / "gate-1.outbox.db"
    box = Outbox(path, "gate-1")
    box.save("car_in", {"count": 1})                  # in the -wal until a checkpoint
    wal = Path(f"{path}-wal")
    kept = wal.read_bytes()
    box.close()
    wal.write_bytes(kept)                             # as if deleted while the terminal ran
    path.unlink()
    with pytest.raises(OutboxError) as caught:
        Outbox(path, "gate-1")
    assert caught.value.key == "orphan_wal" and not path.exists()


def test_a_new_outbox_is_whole_before_it_has_its_name_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "stations" / "gate-1.outbox.db"
    boxes: list[Outbox] = []
    # Two processes' worth of openers at once: one file, one epoch, whoever made it.
    threads = [threading.Thread(target=lambda: boxes.append(Outbox(path, "gate-1"))) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({b.epoch for b in boxes}) == 1
    boxes[0].save("car_in", {"count": 1})
    for b in boxes:
        b.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["gate-1.outbox.db"]   # no temporary left
    old = tmp_path / "old.outbox.db"
    saved(old)
    os.chmod(old, 0o644)
    Outbox(old, "gate-1").close()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_good_outbox_keeps_its_epoch_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "gate-1.outbox.db"
    epoch = saved(path, 5)
    with Outbox(path, "gate-1") as box:
        assert box.epoch == epoch and box.next_seq == 6 and box.depth() == 5


@pytest.mark.parametrize("command", [["station", "report", "{dir}", "gate-1", "car_in"],
                                     ["station", "run", "{dir}", "gate-1"]], ids=["one-shot", "terminal"])
@pytest.mark.wire
def test_the_station_refuses_to_start_with_one_sentence_and_exit_6(event_dir: EventFolder, command) -> None:
    path = event_dir.outbox("gate-1")
    saved(path)
    truncate(path)
    argv = [a.replace("{dir}", str(event_dir.root)) for a in command]
    done = subprocess.run([sys.executable, "-m", "console.cli", *argv, "--lang", "en"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 6, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"eventdesk: {path} is not a whole outbox")
    assert path.stat().st_size == 0                   # left as it was: nothing saved into a new epoch
