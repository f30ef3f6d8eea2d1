"""The fault tests' harness: a hub and stations as real subprocesses, the nemesis, and the oracle.

The hub runs as `python -m console.cli hub DIR` (or tests/crash_hub.py for a crash point),
stations as tests/fault_station.py; each process writes its stdout and stderr to its own
file. The oracle is each station's outbox: read with sqlite3 after the run, it says what was
committed (saved), what was acknowledged, and with which body; the log is read the same
way. `check()` asserts RELIABILITY.md's invariants and returns the figures to print.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from console.event.folder import EventFolder
from protocols import codec
from tests.fault_station import body_for
from tests.wire import wait_for

TESTS = Path(__file__).resolve().parent
STOPPED = re.compile(r"hub stopped: received (\d+), stored (\d+), duplicates (\d+), rejected (\d+), "
                     r"asked to resend (\d+), denied keys (\d+), dropped frames (\d+)")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    out: Path
    err: Path


@dataclass
class Cluster:
    folder: EventFolder
    logs: Path
    hub: Proc | None = None
    stations: dict[str, Proc] = field(default_factory=dict)
    everything: list[Proc] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)
    hub_kills: int = 0
    station_kills: int = 0

    def __post_init__(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.event = self.folder.load()

    # --- processes ---------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str]) -> Proc:
        n = self.runs[name] = self.runs.get(name, 0) + 1
        out, err = self.logs / f"{name}-{n}.out", self.logs / f"{name}-{n}.err"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(out, "wb") as o, open(err, "wb") as e:
            popen = subprocess.Popen(cmd, stdout=o, stderr=e, env=env, cwd=self.logs)
        proc = Proc(name, popen, out, err)
        self.everything.append(proc)
        return proc

    def start_hub(self, cmd: list[str] | None = None, wait: bool = True) -> Proc:
        assert self.hub is None or self.hub.popen.poll() is not None, "a hub is already running"
        # English: the closing line's figures are read back (STOPPED)
        cmd = cmd or [sys.executable, "-m", "console.cli", "hub", str(self.folder.root), "--lang", "en"]
        self.hub = self._spawn("hub", cmd)
        if wait:
            self.wait_hub_ready()
        return self.hub

    def wait_hub_ready(self, timeout: float = 15) -> None:
        def ready() -> bool:
            if self.hub.popen.poll() is not None:
                raise AssertionError(f"the hub exited with {self.hub.popen.returncode}: {self.hub.err.read_text()}")
            info = self.folder.read_runtime()
            return bool(info and info.get("pid") == self.hub.popen.pid)
        wait_for(ready, timeout, "the hub to bind and write hub.json", interval=0.01)

    def kill_hub(self, sig: int = signal.SIGKILL) -> None:
        self.hub.popen.send_signal(sig)
        self.hub.popen.wait(10)
        self.hub_kills += sig == signal.SIGKILL

    def stop_hub(self) -> dict[str, int]:
        """SIGTERM the hub and return the figures of its 'hub stopped' line."""
        self.hub.popen.send_signal(signal.SIGTERM)
        code = self.hub.popen.wait(15)
        assert code == 0, f"the hub exited with {code}: {self.hub.err.read_text()}"
        found = STOPPED.search(self.hub.out.read_text("utf-8"))
        assert found, "no 'hub stopped' line in the hub's output"
        keys = ("received", "stored", "duplicates", "rejected", "retry", "denied", "dropped")
        stats = dict(zip(keys, map(int, found.groups())))
        assert stats["dropped"] == 0, "a frame without a known User-Id reached the hub's loop"
        return stats

    def start_station(self, sid: str, count: int, rate: float = 0.0, endpoint: str | None = None,
                      crash_on_ack: int = 0) -> Proc:
        old = self.stations.get(sid)
        assert old is None or old.popen.poll() is not None, f"{sid} is already running"
        cmd = [sys.executable, str(TESTS / "fault_station.py"), str(self.folder.root), sid, "--count", str(count),
               "--rate", str(rate), "--journal", str(self.journal(sid))]
        if endpoint:
            cmd += ["--endpoint", endpoint]
        if crash_on_ack:
            cmd += ["--crash-on-ack", str(crash_on_ack)]
        proc = self.stations[sid] = self._spawn(sid, cmd)
        return proc

    def signal_station(self, sid: str, sig: int) -> None:
        self.stations[sid].popen.send_signal(sig)
        if sig == signal.SIGKILL:
            self.stations[sid].popen.wait(10)
            self.station_kills += 1

    def stop_stations(self) -> None:
        for proc in self.stations.values():
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGCONT)
                proc.popen.send_signal(signal.SIGTERM)
        for sid, proc in self.stations.items():
            code = proc.popen.wait(15)
            assert code in (0, -signal.SIGKILL), f"{sid} exited with {code}: {proc.err.read_text()}"

    def cleanup(self) -> None:
        """Kill whatever is still running (every test calls this in `finally`)."""
        for proc in self.everything:
            if proc.popen.poll() is None:
                proc.popen.kill()
                try:
                    proc.popen.wait(5)
                except subprocess.TimeoutExpired:
                    pass

    def tracebacks(self) -> list[str]:
        return [f"{p.err.name}:\n{p.err.read_text('utf-8', 'replace')}" for p in self.everything
                if "Traceback" in p.err.read_text("utf-8", "replace")]

    # --- reading the outboxes and the log -------------------------------------------------------
    def journal(self, sid: str) -> Path:
        return self.logs / f"{sid}.journal"

    def _outbox(self, sid: str, sql: str, args: tuple = ()) -> list[tuple]:
        path = self.folder.outbox(sid)
        if not path.exists():
            return []
        conn = sqlite3.connect(str(path), timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:   # the station has not made its tables yet
            return []
        finally:
            conn.close()

    def saved(self, sid: str) -> int:
        rows = self._outbox(sid, "SELECT COUNT(*) FROM reports")
        return rows[0][0] if rows else 0

    def waiting(self, sid: str) -> int:
        rows = self._outbox(sid, "SELECT COUNT(*) FROM reports WHERE state IN ('saved', 'sent')")
        return rows[0][0] if rows else 0

    def delivered(self, sid: str) -> int:
        rows = self._outbox(sid, "SELECT COUNT(*) FROM reports WHERE state = 'delivered'")
        return rows[0][0] if rows else 0

    def drained(self, counts: dict[str, int]) -> bool:
        return all(self.saved(sid) >= n and self.waiting(sid) == 0 for sid, n in counts.items())

    def epoch(self, sid: str) -> str:
        return self._outbox(sid, "SELECT epoch FROM outbox_meta")[0][0]

    def in_log_not_delivered(self, sid: str) -> int:
        """Reports the log holds that the outbox still waits for: committed, ack not (yet) recorded."""
        waiting = {s for (s,) in self._outbox(sid, "SELECT seq FROM reports WHERE state IN ('saved', 'sent')")}
        if not waiting:
            return 0
        conn = sqlite3.connect(str(self.folder.db()), timeout=10)
        try:
            logged = {s for (s,) in conn.execute("SELECT seq FROM events WHERE station = ? AND epoch = ?",
                                                 (sid, self.epoch(sid)))}
        finally:
            conn.close()
        return len(waiting & logged)

    def _check_journal(self, sid: str, committed: dict[int, tuple]) -> None:
        """Every journal line is what the outbox holds at its seq. A SIGKILL may cut the last line
        a run wrote (the next run ends it with a newline); such a line must be the start of the
        record for the seq after the line before it, which the outbox holds whole."""
        journal = self.journal(sid)
        text = journal.read_text("utf-8") if journal.exists() else ""
        last = 0
        for line in text.split("\n"):
            parts = line.split("\t")
            try:
                seq, type_, body = int(parts[0]), parts[1], json.loads(parts[2])
                whole = len(parts) == 3
            except (ValueError, IndexError):
                whole = False
            if not whole:
                if line:
                    type_, body = committed.get(last + 1, (None, None))
                    record = f"{last + 1}\t{type_}\t{json.dumps(body, sort_keys=True, ensure_ascii=False)}"
                    assert type_ is not None and record.startswith(line), \
                        f"{sid}: journal line after {last} is neither whole nor a cut-off record: {line[:80]!r}"
                continue
            assert committed.get(seq) == (type_, body), f"{sid}: journal and outbox differ at {seq}"
            last = seq

    def check(self, counts: dict[str, int]) -> dict[str, int]:
        """RELIABILITY.md's final read: acked ⊆ log, committed ⊆ log ∪ rejected, log ⊆ committed,
        multiplicity 1, integrity ok everywhere, no seq reused for another body, no traceback."""
        conn = sqlite3.connect(str(self.folder.db()), timeout=10)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "event.db is damaged"
            dupes = conn.execute("SELECT station, epoch, seq, COUNT(*) FROM events GROUP BY station, epoch, seq"
                                 " HAVING COUNT(*) > 1").fetchall()
            assert dupes == [], f"stored more than once: {dupes[:5]}"
            gseqs = [g for (g,) in conn.execute("SELECT gseq FROM events ORDER BY gseq")]
            assert gseqs == list(range(1, len(gseqs) + 1)), "the global sequence has a hole"
            log: dict[str, dict[tuple[str, int], tuple]] = {}
            for station, epoch, seq, type_, body, gseq in conn.execute(
                    "SELECT station, epoch, seq, type, body, gseq FROM events"):
                log.setdefault(station, {})[(epoch, seq)] = (type_, json.loads(body), gseq)
            rejected = {(st, ep, sq) for st, ep, sq in conn.execute(
                "SELECT station, epoch, seq FROM rejections WHERE seq > 0")}
        finally:
            conn.close()
        figures = {"saved": 0, "acked": 0, "in_log": 0, "rejected": 0}
        for sid, want in counts.items():
            path = self.folder.outbox(sid)
            oc = sqlite3.connect(str(path), timeout=10)
            try:
                assert oc.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"{sid}'s outbox is damaged"
                epoch = oc.execute("SELECT epoch FROM outbox_meta").fetchone()[0]
                rows = oc.execute("SELECT seq, type, body, state, gseq FROM reports ORDER BY seq").fetchall()
            finally:
                oc.close()
            post = self.event.station(sid).post
            committed = {seq: (type_, json.loads(body)) for seq, type_, body, _, _ in rows}
            acked = {seq: gseq for seq, _, _, state, gseq in rows if state == "delivered"}
            mine = log.get(sid, {})
            assert {ep for ep, _ in mine} <= {epoch}, f"{sid}: log rows under an epoch it never had"
            logged = {seq: v for (ep, seq), v in mine.items()}
            # Every saved report is report i = seq - 1 of this station: no seq ever held another body.
            assert sorted(committed) == list(range(1, len(committed) + 1)), f"{sid}: a hole in the outbox seqs"
            for seq, (type_, body) in committed.items():
                want_type, want_body = body_for(post, sid, seq - 1)
                assert (type_, body) == (want_type, codec.build(want_type, want_body).as_body()), \
                    f"{sid}: seq {seq} holds another body"
            self._check_journal(sid, committed)
            for seq, gseq in acked.items():            # acked ⊆ log, with the same gseq
                assert seq in logged and logged[seq][2] == gseq, f"{sid}: acked report {seq} is not in the log"
            for seq in committed:                       # committed ⊆ log ∪ rejected
                assert seq in logged or (sid, epoch, seq) in rejected, f"{sid}: saved report {seq} was lost"
            for seq, (type_, body, _) in logged.items():   # log ⊆ committed, same type and body
                assert committed.get(seq) == (type_, body), f"{sid}: log row {seq} was never saved so"
            assert len(committed) >= want, f"{sid}: saved {len(committed)} of {want}"
            figures["saved"] += len(committed)
            figures["acked"] += len(acked)
            figures["in_log"] += len(logged)
            figures["rejected"] += sum(1 for seq in committed if (sid, epoch, seq) in rejected)
        bad = self.tracebacks()
        assert not bad, "a process printed a traceback:\n" + "\n".join(bad)
        return figures
