"""A hub as a real subprocess for one test: started, waited for, stopped with SIGTERM (exit 0) or killed, and its stderr
checked for tracebacks afterwards. For the fault loops' many processes see tests/faultkit.py."""
from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from console.event.folder import EventFolder
from tests.wire import wait_for

HUB = [sys.executable, "-m", "console.cli", "hub"]


def start(folder: EventFolder, logs: Path, stdout: IO | None = None) -> subprocess.Popen:
    """`eventdesk hub DIR`, its output to logs/hub.out (or `stdout`), its errors to logs/hub.err."""
    with open(logs / "hub.out", "ab") as out, open(logs / "hub.err", "ab") as err:
        return subprocess.Popen([*HUB, str(folder.root)], stdout=stdout or out, stderr=err)


@contextmanager
def running(proc: subprocess.Popen, logs: Path, ready: Callable[[], Any]) -> Iterator[Any]:
    """What `ready()` returns once it is truthy (the hub is up); the process is killed if a test leaves it
    running, and whatever happened, its stderr (logs/hub.err) holds no traceback."""
    try:
        value = wait_for(lambda: proc.poll() is not None or ready(), 20, "the hub to start")
        assert proc.poll() is None, (logs / "hub.err").read_text()
        yield value
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in (logs / "hub.err").read_text()


def hub(folder: EventFolder, logs: Path, stdout: IO | None = None):
    """`running` for a hub of `folder` started here: yields (process, its hub.json)."""
    proc = start(folder, logs, stdout)

    def ready() -> Any:
        info = folder.read_runtime()
        return (proc, info) if info and info.get("pid") == proc.pid else None
    return running(proc, logs, ready)


def stop(proc: subprocess.Popen) -> None:
    """The clean stop: SIGTERM, and exit 0."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
