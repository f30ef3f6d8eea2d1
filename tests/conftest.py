"""Shared fixtures: a fresh event folder with keys in a temporary directory, on random loopback ports."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from console.event import EventFolder, init_folder, make_keys, set_endpoints


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, so no client's outgoing
    connection can take it while a test restarts its hub on it."""
    from tests.wire import quiet_port
    return quiet_port()


def make_event(root: Path) -> EventFolder:
    folder = init_folder(root)
    set_endpoints(folder, f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}")
    make_keys(folder)
    return folder


@pytest.fixture(autouse=True, scope="session")
def utc_by_default():
    """Event times (doors-open, task due times, roster starts) are local times on the event day.
    The suite runs on UTC, whatever the machine's zone, so that fixed test clocks such as
    02:30 UTC on the event day sit before every one of them everywhere; a test that wants
    another zone (the desk snapshots: Asia/Shanghai) sets it itself."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def _zone(monkeypatch: pytest.MonkeyPatch, name: str):
    monkeypatch.setenv("TZ", name)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def shanghai(monkeypatch):
    """The event's own time zone: clock faces, due times and roster starts as the staff read them."""
    yield from _zone(monkeypatch, "Asia/Shanghai")


@pytest.fixture
def utc(monkeypatch):
    """UTC for this test even if an earlier one in the process left another zone set."""
    yield from _zone(monkeypatch, "UTC")


@pytest.fixture
def event_dir(tmp_path: Path) -> EventFolder:
    """A sample event (8 stations, 2 desks, 2 lots, 2 zones) with keys, on free loopback ports."""
    return make_event(tmp_path / "event")
