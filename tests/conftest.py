"""Shared fixtures: a fresh event folder with keys in a temporary directory, on random loopback ports."""
from __future__ import annotations

from pathlib import Path

import pytest

from console.event.folder import EventFolder, init_folder, make_keys, set_endpoints


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, so no client's outgoing
    connection can take it while a test restarts its hub on it."""
    from tests.wire import quiet_port
    return quiet_port()


# The day the fixed-clock tests are set on: their instants (T0, FIXED) are times on it, in the
# sample event's zone (Asia/Shanghai). A test that runs a hub on the real clock takes the default
# date instead, a week after the real today as `eventdesk init` writes it, so that no preparation
# task or roster slot falls due while it runs, on whatever day the suite is run.
FIXED_DAY = "2026-12-05"


def make_event(root: Path, date: str | None = None) -> EventFolder:
    folder = init_folder(root, date=date)
    set_endpoints(folder, f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}")
    make_keys(folder)
    return folder


@pytest.fixture
def event_dir(tmp_path: Path) -> EventFolder:
    """A sample event (8 stations, 2 desks, 2 lots, 2 zones) with keys, on free loopback ports."""
    return make_event(tmp_path / "event")


@pytest.fixture
def fixed_event_dir(tmp_path: Path) -> EventFolder:
    """The sample event set on FIXED_DAY, for tests that drive the desk or a terminal with a fixed clock."""
    return make_event(tmp_path / "event", date=FIXED_DAY)


# --- the wire tests' fixtures: a folder whose hub a test drives with thousands of messages -----------

@pytest.fixture
def folder(event_dir: EventFolder) -> EventFolder:
    """The sample event with the rate limit out of the way (it has tests of its own: here thousands of
    pipelined reports must not meet it) on ports outside the ephemeral range (a hub may restart on them)."""
    from tests.wire import quiet_endpoints, set_hub_options
    set_hub_options(event_dir, rate_per_s=100000.0, rate_burst=100000)
    quiet_endpoints(event_dir)
    return event_dir


@pytest.fixture
def hub(folder: EventFolder):
    """The folder's hub in a thread of this process."""
    from console.hub.server import run_in_thread
    handle = run_in_thread(folder)
    yield handle
    handle.stop()
    assert not handle.thread.is_alive(), "the hub thread did not stop"


@pytest.fixture
def ctx():
    import zmq
    context = zmq.Context()
    yield context
    context.destroy(linger=0)
