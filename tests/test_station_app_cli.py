"""`eventdesk station`: the terminal's command line (both shapes parse) and the browser mode answering over HTTP."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from console import cli
from tests.conftest import free_port


def test_station_dir_station_runs_the_terminal():
    args = cli.parse_args(["station", "/tmp/ev", "gate-1"])
    assert (args.station_cmd, args.dir, args.station, args.serve) == ("run", Path("/tmp/ev"), "gate-1", False)
    assert args.func is cli._station_run


def test_station_run_with_options():
    args = cli.parse_args(["station", "/tmp/ev", "gate-1", "--serve", "--port", "9123", "--lang", "en"])
    assert (args.station_cmd, args.serve, args.port, args.lang) == ("run", True, 9123, "en")
    args = cli.parse_args(["station", "run", "/tmp/ev", "gate-1", "--drill"])
    assert (args.station_cmd, args.station, args.drill) == ("run", "gate-1", True)


def test_station_report_still_parses():
    args = cli.parse_args(["station", "report", "/tmp/ev", "gate-1", "car_in", "plate=湘A·12345", "vip=true"])
    assert (args.station_cmd, args.station, args.kind, args.fields) == (
        "report", "gate-1", "car_in", ["plate=湘A·12345", "vip=true"])
    assert args.func is cli._station_report


def test_station_help_is_not_taken_for_a_folder(capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(["station", "--help"])
    assert "report" in capsys.readouterr().out


def test_unknown_station_is_one_sentence(event_dir, capsys):
    assert cli.main(["station", str(event_dir.root), "gate-99", "--lang", "en"]) == 2
    assert 'no station "gate-99"' in capsys.readouterr().err


@pytest.mark.wire
def test_serve_answers_over_http(event_dir):
    pytest.importorskip("textual_serve")
    port = free_port()
    exe = Path(sys.executable).with_name("eventdesk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "console.cli"]
    proc = subprocess.Popen([*cmd, "station", str(event_dir.root), "gate-1", "--serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, status, page = time.monotonic() + 30, None, ""
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    status, page = response.status, response.read().decode("utf-8", "replace")
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.2)
        assert status == 200
        assert "textual" in page.lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}" in out
