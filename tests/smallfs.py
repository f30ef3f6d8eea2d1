"""A real small filesystem for one process: a size-limited tmpfs mounted in the process's own mount namespace.

`spawn` runs a command under `unshare --user --map-root-user --mount` after mounting a tmpfs of
the given size on `mount` and copying a seed folder into it, so that only that process (and its
children) see the small disk; the test reaches the same files through /proc/<pid>/root. Nothing
on the machine is mounted for anyone else, and the mount goes away with the process.
"""
from __future__ import annotations

import errno
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

_SCRIPT = 'mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2" && cp -a "$3"/. "$2"/ && exec "${@:5}" > "$2/$4"'


@functools.lru_cache(maxsize=1)
def unavailable() -> str:
    """"" if a private tmpfs can be mounted here, else why not (for a skip reason)."""
    if shutil.which("unshare") is None:
        return "no unshare(1) on this machine"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               'mount -t tmpfs -o size=64k tmpfs "$0"', tmp], capture_output=True, text=True)
    return "" if done.returncode == 0 else f"cannot mount a private tmpfs: {done.stderr.strip()[:120]}"


def spawn(mount: Path, size: str, seed: Path, cmd: list[str], stdout_name: str, **popen: object) -> subprocess.Popen:
    """Run `cmd` with a `size` tmpfs on `mount` holding a copy of `seed`; its stdout goes to `stdout_name` there."""
    return subprocess.Popen(["unshare", "--user", "--map-root-user", "--mount", "bash", "-c", _SCRIPT, "bash",
                             size, str(mount), str(seed), stdout_name, *cmd], **popen)


def seen(proc: subprocess.Popen, path: Path) -> Path:
    """`path` as the process sees it (inside its mount namespace)."""
    return Path(f"/proc/{proc.pid}/root") / path.relative_to("/")


def fill(path: Path) -> int:
    """Write `path` until the disk is full; the bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                written += f.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return written
