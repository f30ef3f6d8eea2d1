"""Starting a hub for an event folder that has none: a detached subprocess that outlives the desk which started it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from console.event import EventFolder


@dataclass(frozen=True)
class HubInfo:
    endpoint: str
    feed: str
    pid: int
    started: bool   # True if this desk started it (it keeps running after the desk closes)
    log_path: Path | None = None


class HubStartError(Exception):
    """The hub subprocess did not come up; the sentence carries the end of its log."""


def ensure_hub(folder: EventFolder, drill: bool = False, timeout: float = 15.0) -> HubInfo:
    """The running hub of `folder`, or a new one started as a detached subprocess (logging to hub.log)."""
    info = folder.read_runtime(drill)
    if info is not None:
        return HubInfo(info["endpoint"], info["feed"], int(info["pid"]), False)
    log_path = folder.root / ("hub-rehearsal.log" if drill else "hub.log")
    cmd = [sys.executable, "-m", "console.cli", "hub", str(folder.root)] + (["--drill"] if drill else [])
    with open(log_path, "ab") as out:
        # A new session: Ctrl-C in the desk's terminal must not reach the hub, which keeps
        # taking reports whatever happens to the desk.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = folder.read_runtime(drill)
        if info is not None and int(info.get("pid", 0)) == proc.pid:
            return HubInfo(info["endpoint"], info["feed"], proc.pid, True, log_path)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.terminate()
    tail = log_path.read_text("utf-8", "replace").strip().splitlines()[-5:] if log_path.exists() else []
    raise HubStartError(f"the hub did not start (see {log_path}): " + " | ".join(tail))
