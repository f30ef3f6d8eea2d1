"""Starting a hub for an event folder that has none: a detached subprocess that outlives the desk which started it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from console.event.folder import EventFolder
from protocols.file_errors import private_file
from protocols.i18n import t


@dataclass(frozen=True)
class HubInfo:
    endpoint: str
    feed: str
    pid: int
    started: bool   # True if this desk started it (it keeps running after the desk closes)
    log_path: Path | None = None
    proc: subprocess.Popen | None = None   # the process, when started here

    def stop_started(self) -> None:
        """Stop the hub if this desk started it (the desk failed before it could use it)."""
        if self.proc is not None:
            _end(self.proc)


def _end(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM (the hub's clean stop), SIGKILL if that is not enough; its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


class HubStartError(Exception):
    """The hub subprocess did not come up: its own last sentence, where it wrote it, and its exit code."""

    def __init__(self, reason: str, log_path: Path, code: int) -> None:
        self.reason, self.log_path, self.code = reason, log_path, code
        super().__init__(self.sentence("en"))

    def sentence(self, lang: str) -> str:
        return t("cli.fail.hub_failed", lang, reason=self.reason, log=self.log_path)


def follow_pair(pairs: tuple[tuple[str, str], ...], runtime: dict | None, drill: bool) -> bool:
    """Whether the desk follows the two hubs event.toml names instead of starting one here: a pair is
    named, no hub of this folder runs on this machine, and it is not a rehearsal (whose hub is always
    local). A hub started here would be one more primary on a machine that may be neither of the two."""
    return len(pairs) > 1 and runtime is None and not drill


def others(pairs: tuple[tuple[str, str], ...], endpoint: str, drill: bool) -> tuple[tuple[str, str], ...]:
    """The hubs a desk on `endpoint` moves to when it loses it: every named pair but that one (the
    primary when this machine's hub is the backup). None for a rehearsal: its hub is local and alone,
    and a drill desk moved to a live hub would write the drill into the day's log."""
    return () if drill else tuple(pair for pair in pairs if pair[0] != endpoint)


# The exit codes a hub gives for a reason a person can act on (console/cli_errors.py); any other
# end (a signal, the timeout) is told as the log's trouble.
HUB_CODES = (2, 4, 5)


def ensure_hub(folder: EventFolder, drill: bool = False, timeout: float = 15.0, lang: str | None = None) -> HubInfo:
    """The running hub of `folder`, or a new one started as a detached subprocess (logging to hub.log,
    in `lang`, so a hub that cannot start says why in the desk's language)."""
    info = folder.read_runtime(drill)
    if info is not None:
        return HubInfo(info["endpoint"], info["feed"], int(info["pid"]), False)
    log_path = folder.root / ("hub-rehearsal.log" if drill else "hub.log")
    cmd = [sys.executable, "-m", "console.cli", "hub", str(folder.root)] + (["--drill"] if drill else []) + (
        ["--lang", lang] if lang else [])
    private_file(log_path)   # the live log names guests and plates: owner-only
    with open(log_path, "ab") as out:
        # A new session: Ctrl-C in the desk's terminal must not reach the hub, which keeps
        # taking reports whatever happens to the desk.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = folder.read_runtime(drill)
        if info is not None and int(info.get("pid", 0)) == proc.pid:
            return HubInfo(info["endpoint"], info["feed"], proc.pid, True, log_path, proc)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    code = _end(proc)
    # The hub's last line is its one sentence (console/cli_errors.py), after "eventdesk: ".
    tail = log_path.read_text("utf-8", "replace").strip().splitlines()[-1:] if log_path.exists() else []
    reason = tail[0].removeprefix("eventdesk: ") if tail else ""
    raise HubStartError(reason, log_path, code if code in HUB_CODES else 5)
