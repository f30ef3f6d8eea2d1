"""How the command line fails: one sentence on stderr and a documented exit code (README "Exit codes"), never a
traceback; a desk that cannot join starts no hub; a clean stop leaves nothing behind; what it writes is owner-only."""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

from console import cli_errors
from console.cli import main
from console.desk.hub_start import ensure_hub
from console.event.folder import EventFolder
from protocols.i18n import t
from tests import hubproc
from tests.wire import Client, server_key, station_pair

CLI = [sys.executable, "-m", "console.cli"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_sentence(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("eventdesk: "), lines
    return lines[0]


@pytest.fixture
def hub(event_dir: EventFolder, tmp_path: Path):
    with hubproc.hub(event_dir, tmp_path) as (proc, _):
        yield proc
        if proc.poll() is None:
            hubproc.stop(proc)


def test_a_second_hub_on_the_same_folder_is_one_sentence_and_exit_4(event_dir: EventFolder, hub) -> None:
    done = run("hub", str(event_dir.root))
    assert done.returncode == 4
    assert one_sentence(done) == f"eventdesk: {t('store.in_use', 'zh', path=event_dir.db())}"
    assert hub.poll() is None and event_dir.read_runtime()["pid"] == hub.pid     # the first one is untouched
    # A desk that finds no hub.json starts a hub, which meets the first one's lock: the same code, said once.
    event_dir.runtime().unlink()
    done = run("desk", str(event_dir.root), "--lang", "en")
    assert done.returncode == 4
    line = one_sentence(done)
    assert line.startswith("eventdesk: The system did not start: ") and "already open by another copy of the system" in line
    assert hub.poll() is None


def test_a_port_in_use_is_one_sentence_and_exit_4_and_frees_the_log(event_dir: EventFolder) -> None:
    endpoint = event_dir.load().hub.endpoint
    port = int(endpoint.rsplit(":", 1)[1])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = run("hub", str(event_dir.root))
    assert done.returncode == 4
    assert one_sentence(done) == f"eventdesk: {t('cli.fail.port_in_use', 'zh', endpoint=endpoint)}"
    assert not event_dir.runtime().exists()
    bad = run("hub", str(event_dir.root), "--endpoint", "tcp://127.0.0.1:notaport")
    assert bad.returncode == 2 and "tcp://127.0.0.1:notaport" in one_sentence(bad)


def test_a_clean_stop_leaves_only_the_log(event_dir: EventFolder, hub) -> None:
    ctx = zmq.Context()
    try:
        c = Client(ctx, event_dir.read_runtime()["endpoint"], server_key(event_dir), station_pair(event_dir, "gate-1"),
                   station="gate-1", epoch="ep")
        c.hello()
        c.send("car_in", {"count": 1}, 1)
        assert c.recv().header.type == "ack"
        c.close()
    finally:
        ctx.destroy(linger=0)
    hubproc.stop(hub)
    left = {p.name for p in event_dir.root.iterdir()}
    assert "event.db" in left and not left & {"hub.json", "hub.tmp", "event.db.lock", "event.db-wal", "event.db-shm"}


@pytest.mark.parametrize("case", ["no such desk", "no key"])
def test_a_desk_that_cannot_join_starts_no_hub(event_dir: EventFolder, case: str) -> None:
    desk = "nosuchdesk" if case == "no such desk" else "desk-2"
    if case == "no key":
        event_dir.desk_key("desk-2").unlink()
    done = run("desk", str(event_dir.root), "--desk", desk, "--lang", "en")
    assert done.returncode == 2
    line = one_sentence(done)
    if case == "no such desk":
        assert line == 'eventdesk: This event has no desk "nosuchdesk". Desks in event.toml: desk-1, desk-2'
    else:
        assert line.startswith(f"eventdesk: The key file {event_dir.desk_key('desk-2')} is missing or unreadable")
    assert not event_dir.runtime().exists() and not (event_dir.root / "hub.log").exists()
    assert done.stdout == ""                            # not even "starting one…"


def test_a_desk_whose_outbox_cannot_be_read_stops_the_hub_it_started(event_dir: EventFolder) -> None:
    outbox = event_dir.root / "desks" / "desk-1.outbox.db"
    outbox.parent.mkdir()
    outbox.write_bytes(b"")                             # truncated to nothing
    done = run("desk", str(event_dir.root), "--lang", "en")
    assert done.returncode == 6
    assert one_sentence(done).startswith(f"eventdesk: {outbox} is not a whole outbox")
    log = (event_dir.root / "hub.log").read_text("utf-8")
    assert "hub stopped:" in log and not event_dir.runtime().exists()   # started, then stopped cleanly


def test_a_folder_without_an_event_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    for args in (["hub", str(tmp_path)], ["station", "report", str(tmp_path), "gate-1", "car_in"],
                 ["report", str(tmp_path)], ["archive", str(tmp_path)]):
        done = run(*args)
        assert done.returncode == 2, (args, done)
        said = one_sentence(done)     # no event to take the language from: the machine's LANG, else Chinese
        lang = "en" if os.environ.get("LANG", "").lower().startswith("en") else "zh"
        assert said.endswith(t("eventfile.at.file", lang, file="event.toml", why=t("eventfile.why.no_file", lang))), said


@pytest.mark.pure
def test_an_unexpected_error_is_a_sentence_exit_70_and_a_file_with_the_details(tmp_path: Path) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        sentence, code = cli_errors.explain(exc, "en")
    assert code == 70 and sentence.startswith("eventdesk stopped on an unexpected error; the details are in ")
    details = Path(sentence.rsplit(" ", 1)[1].rstrip("."))
    try:
        assert "Traceback" in details.read_text() and "'missing'" in details.read_text()
        assert stat.S_IMODE(details.stat().st_mode) == 0o600
    finally:
        details.unlink()


def test_what_eventdesk_writes_for_an_event_is_owner_only(event_dir: EventFolder, tmp_path: Path, capsys) -> None:
    info = ensure_hub(event_dir)                        # as `eventdesk desk` starts one: output to hub.log
    try:
        assert main(["station", "report", str(event_dir.root), "gate-1", "car_in", "--lang", "en"]) == 0
        assert main(["report", str(event_dir.root), "--lang", "en"]) == 0
        assert main(["archive", str(event_dir.root), "--lang", "en"]) == 0
        guests = tmp_path / "g.csv"
        guests.write_text("姓名,车牌\n张三,湘A·12345\n", "utf-8")
        assert main(["guests", "import", str(event_dir.root), str(guests)]) == 0
        files = [event_dir.root / "hub.log", event_dir.db(), event_dir.outbox("gate-1"),
                 event_dir.root / "guests.json", *(event_dir.root / "report").rglob("*.*"),
                 *(event_dir.root / "archive").glob("*.tar.gz")]
        assert len(files) > 8
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for folder in (event_dir.root / "stations", event_dir.root / "report", event_dir.root / "archive"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    finally:
        os.kill(info.pid, signal.SIGTERM)
        info.proc.wait(20)
    capsys.readouterr()
