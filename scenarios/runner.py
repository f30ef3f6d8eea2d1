"""The rehearsal runner: a hub on the rehearsal log, simulated posts and desk playing a scenario over the real wire, then the scorecard.

The hub runs as its own process (`python -m console.cli hub DIR --drill`) or is one already
running for DIR's rehearsal log; everything else talks to it through sockets, and the score is
read from the rehearsal log afterwards. Times on the wire stay real; scenario time is wall time
multiplied by the speed. Never imports the hub or the screen.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.event.guests import write_json
from console.event.folder import EventFolder, make_keys, sample_date, sample_text
from protocols import eventtime
from protocols.i18n import t
from scenarios import loader, scorecard
from scenarios.clock import Scheduler
from scenarios.model import Scenario, Step
from scenarios.sim import Endpoints, FeedWatcher, SimStation
from scenarios.simdesk import SimDesk
from scenarios.timeline import Timeline, build

log = logging.getLogger("eventdesk.rehearsal")
# A rehearsal event made here hears silence quickly (wall clock): a post that drops off shows
# "late" after 1 s and "offline" after 2.5 s even when a scenario plays 300 times faster.
QUICK_LIVENESS = {"heartbeat_s": "0.25", "late_s": "1.0", "offline_s": "2.5"}


class RehearsalError(Exception):
    """The rehearsal cannot start or carry on: `why` names a sentence under scenario.fail (issue 17);
    `detail` is for the developer's log only (the hub's own output, a nack's code)."""

    def __init__(self, why: str, detail: str = "", **params: Any) -> None:
        self.why, self.detail, self.params = why, detail, params
        super().__init__(why)

    def sentence(self, lang: str) -> str:
        sep = "、" if lang == "zh" else ", "    # a list of what was given (names that match nothing)
        return t(f"scenario.fail.{self.why}", lang,
                 **{k: sep.join(v) if isinstance(v, tuple) else v for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.sentence("en") + (f" ({self.detail})" if self.detail else "")


@dataclass
class Options:
    dir: Path | None = None
    speed: float | None = None          # None: the scenario's own speed
    seed: int | None = None
    people: frozenset[str] = frozenset()   # stations left to real people
    sim_desk: bool = True
    hold: bool = False                  # after the end keep everything running until stop()
    lang: str = "zh"
    write: bool = True                  # write the Markdown and JSON scorecard into DIR/report/
    start_timeout: float = 20.0
    drain_timeout: float = 15.0
    # Fast drills want silence heard within a second; the demo shares its process with the desk,
    # whose rendering can hold a heartbeat up that long, so it keeps the event's own liveness.
    quick_liveness: bool = True


@dataclass
class Run:
    folder: EventFolder
    scenario: Scenario
    timeline: Timeline
    data: Path                          # this run's outboxes and hub log
    stamp: str
    refs: dict[str, tuple[str, int]] = field(default_factory=dict)   # script id -> (station, seq)


def prepare_folder(options: Options, scenario_path: Path) -> tuple[EventFolder, bool]:
    """The event folder to rehearse in: DIR as it is (keys made if missing), or a new one from the scenario's event."""
    made = options.dir is None
    root = Path(tempfile.mkdtemp(prefix="eventdesk-rehearsal-")) if made else Path(options.dir)
    folder = EventFolder(root)
    if not folder.toml.exists():
        made = True
        head = loader.load(scenario_path)
        root.mkdir(parents=True, exist_ok=True)
        text = head.event_path.read_text("utf-8")
        if head.event_path == loader.SAMPLE_EVENT:   # the sample is dated a week ahead, as `eventdesk init` dates it
            text = sample_text(sample_date(int(time.time() * 1000)))
        folder.toml.write_text(_quick_hub(text, options.quick_liveness), "utf-8")
    make_keys(folder)
    return folder, made


def _quick_hub(text: str, quick_liveness: bool = True) -> str:
    """The event text with free loopback ports (and quick liveness) in its [hub] table."""
    wanted = {"endpoint": '"tcp://127.0.0.1:0"', "feed": '"tcp://127.0.0.1:0"',
              **(QUICK_LIVENESS if quick_liveness else {})}
    lines = [ln for ln in text.splitlines() if not re.match(r"^\s*(%s)\s*=" % "|".join(wanted), ln)]
    extra = [f"{k} = {v}" for k, v in wanted.items()]
    at = next((i for i, ln in enumerate(lines) if ln.strip() == "[hub]"), None)
    if at is None:
        return "\n".join(lines + ["", "[hub]", *extra]) + "\n"
    return "\n".join(lines[:at + 1] + extra + lines[at + 1:]) + "\n"


def cue(step: Step, event: Any, lang: str) -> str:
    """The note that tells people at the desk what the script expects them to do now, in their language."""
    b = step.body
    if step.type == "instruction":
        what = t("scenario.cue.instruction", lang, target=_target(event, str(b.get("target", "")), lang),
                 text=b.get("text", ""))
    elif step.type == "incident_open":
        kind = str(b.get("kind", ""))
        where = _area(event, str(b.get("location", "")), lang)
        what = t("scenario.cue.incident", lang, kind=t(f"incident.{kind}", lang),
                 where=t("scenario.cue.where", lang, where=where) if where else "", note=b.get("note", ""))
    else:
        what = b.get("text", "")
    return t("scenario.cue.line", lang, what=what)[:500]


def _named(thing: Any, lang: str) -> str:
    return (thing.name_en if lang == "en" else thing.name) or thing.name or thing.name_en or thing.id


def _target(event: Any, target: str, lang: str) -> str:
    kind, _, name = target.partition(".")
    if kind == "post":
        return t(f"post.{name}", lang)
    station = event.station(name) if kind == "station" else None
    return _named(station, lang) if station else t("desk.target.all", lang)


def _area(event: Any, area_id: str, lang: str) -> str:
    area = next((a for a in (*event.zones, *event.lots) if a.id == area_id), None)
    return _named(area, lang) if area else area_id


class Rehearsal:
    """One rehearsal: `run()` does it all and returns the scorecard (a dict, also written to DIR/report/)."""

    def __init__(self, scenario: str | Path, options: Options | None = None) -> None:
        self.options = options or Options()
        self.scenario_path = loader.find(str(scenario))
        self.folder, self.made_folder = prepare_folder(self.options, self.scenario_path)
        sc = loader.load(self.scenario_path, event=self.folder.load())
        own_guests = self.folder.guest_file(sc.event).exists() and not self.made_folder
        if sc.guests and self.made_folder:   # the scenario's guest list; a folder of the user's keeps its own
            write_json(self.folder.guest_file(sc.event), list(sc.guests), sc.path.name)
        elif sc.guests and not own_guests:   # ... and one with none plays the scenario's, in the drill only
            self.folder.drill_guest_file().parent.mkdir(parents=True, exist_ok=True)
            write_json(self.folder.drill_guest_file(), list(sc.guests), sc.path.name)
        else:
            self.folder.drill_guest_file().unlink(missing_ok=True)   # another scenario's list must not linger
        self.speed = float(sc.speed if self.options.speed is None else self.options.speed)   # --speed 0 is refused, not ignored
        if not 0 < self.speed <= 100_000:
            raise RehearsalError("speed", speed=f"{self.speed:g}")
        seed = sc.seed if self.options.seed is None else self.options.seed
        stamp = eventtime.compact(int(time.time() * 1000), sc.event.tz)
        data = self.folder.root / "rehearsal" / f"{sc.slug}-{stamp}-{seed}"
        self.run_ = Run(self.folder, sc, build(sc, seed), data, stamp)
        self.seed = seed
        self.simulated: list[str] = []
        self.leave_to_people(self.options.people)
        self.sched = Scheduler(self.speed)
        self.stations: dict[str, SimStation] = {}
        self.desk: SimStation | None = None
        self.operator: SimDesk | None = None
        self.feed: FeedWatcher | None = None
        self.hub: subprocess.Popen | None = None
        self.reused_hub = 0        # the pid of a rehearsal hub that was already running for DIR
        self.ends: Endpoints | None = None
        self.first_gseq = 0
        self.ended_ms = 0          # the scenario time the script reached (all of it unless stopped early)
        self.complete = False
        self.phase = "starting"
        self.card: dict[str, Any] | None = None
        self.paths: dict[str, Path] = {}
        self._done = threading.Event()

    def leave_to_people(self, people: frozenset[str] | set[str]) -> None:
        """Simulate every station but these (before setup): people play them from real terminals."""
        station_ids = [s.id for s in self.run_.scenario.event.stations]
        unknown = sorted(set(people) - set(station_ids))
        if unknown:
            raise RehearsalError("leave", names=tuple(unknown))
        self.options.people = frozenset(people)
        self.simulated = [s for s in station_ids if s not in people]

    # --- the whole thing -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        try:
            self.setup()
            self.play()
            return self.finish()
        finally:
            self.close()

    def stop(self) -> None:
        """End the rehearsal early (Ctrl-C, the desk closed, a held demo dismissed)."""
        self._done.set()
        self.sched.stop()

    # --- setting up -----------------------------------------------------------------------------
    def setup(self) -> None:
        run, hb = self.run_, int(self.run_.scenario.event.hub.heartbeat_s * 1000)
        run.data.mkdir(parents=True, exist_ok=True)
        self.ends = self._hub()
        sc = run.scenario
        self.desk = SimStation(sc.event.desks[0], run.data / "desk.outbox.db",
                               self.folder.desk_key(sc.event.desks[0]), self.ends, hb, self.sched,
                               (sc.station_ack_delay, sc.station_step_delay), self.seed, role="desk")
        self.operator = SimDesk(self.desk, sc.desk, self.sched, self.seed, self.options.sim_desk,
                                self.options.lang)
        self.feed = FeedWatcher(self.ends, self.folder.desk_key(sc.event.desks[0]), self.operator.on_event,
                                lambda after: scorecard.logged_events(self.folder, after)).start()
        self.desk.start()
        for sid in self.simulated:
            self.stations[sid] = SimStation(sid, run.data / "stations" / f"{sid}.outbox.db",
                                            self.folder.station_key(sid), self.ends, hb, self.sched,
                                            (sc.station_ack_delay, sc.station_step_delay), self.seed,
                                            clock_offset_ms=sc.clock_offsets.get(sid, 0))
        # The first thing in the log for this run is the desk's marker: the score counts from it.
        title = (sc.name_en or sc.name) if self.options.lang == "en" else sc.name
        marker = self.desk.submit("note", {"text": t("scenario.cue.marker", self.options.lang, title=title,
                                                     seed=self.seed, speed=f"{self.speed:g}")})
        done = self.desk.client.wait_delivered(marker.seq, self.options.start_timeout)
        if done.state != "delivered":
            raise RehearsalError("no_answer", done.reason or done.state, s=f"{self.options.start_timeout:g}",
                                 log=str(run.data / "hub.log"))
        self.first_gseq = done.gseq
        if not self.feed.ready.wait(self.options.start_timeout):
            raise RehearsalError("no_feed", "no presence message", log=str(run.data / "hub.log"))
        for st in self.stations.values():
            st.start()
        deadline = time.monotonic() + self.options.start_timeout
        for st in self.stations.values():
            while not st.client.status().console_reachable and time.monotonic() < deadline:
                time.sleep(0.02)
        self._prepare()

    def _prepare(self) -> None:
        """The day's preparation, done before the scenario's clock starts (unless it rehearses that too):
        every task signed off by the simulated desk, every rostered post's staff signed in."""
        sc = self.run_.scenario
        if not sc.prepared:
            return
        sent = [(self.desk, self.desk.submit("task_signoff", {"task": task.id, "note": t("scenario.prepared", "zh")}))
                for task in sc.event.tasks]
        sent += [(sim, sim.submit("staff_signin", {"name": shift.name, "staff_no": shift.staff_no}))
                 for shift in sc.event.roster if (sim := self.stations.get(shift.station)) is not None]
        for sim, report in sent:
            sim.client.wait_delivered(report.seq, self.options.start_timeout)

    def _start_clock(self) -> None:
        """Put the log on scenario time (a drill_clock the desk sends), then start the script's clock with it."""
        sc = self.run_.scenario
        clock = self.desk.submit("drill_clock", {"start_ms": sc.start_ms, "ms_per_s": max(1, round(self.speed * 1000)),
                                                 "scenario": sc.slug})
        done = self.desk.client.wait_delivered(clock.seq, self.options.start_timeout)
        if done.state != "delivered":
            raise RehearsalError("no_clock", done.reason or done.state, log=str(self.run_.data / "hub.log"))
        self.sched.start_clock()

    def _hub(self) -> Endpoints:
        info = self.folder.read_runtime(drill=True)
        self.reused_hub = info["pid"] if info else 0
        if info is None:
            host = re.sub(r":\d+$", "", self.run_.scenario.event.hub.endpoint)
            # --parent: the hub ends with this process, even when it is killed before it can stop the hub.
            cmd = [sys.executable, "-m", "console.cli", "hub", str(self.folder.root), "--drill",
                   "--endpoint", f"{host}:0", "--feed", f"{host}:0", "--parent", str(os.getpid())]
            logfile = (self.run_.data / "hub.log").open("ab")
            # Its own session: a Ctrl-C meant for the rehearsal must not take the hub down before the score.
            self.hub = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            logfile.close()
            deadline = time.monotonic() + self.options.start_timeout
            while True:
                info = self.folder.read_runtime(drill=True)
                if info and info.get("pid") == self.hub.pid:
                    break
                if self.hub.poll() is not None or time.monotonic() > deadline:
                    tail = (self.run_.data / "hub.log").read_text("utf-8", "replace")[-600:]
                    raise RehearsalError("no_hub", tail.strip() or "no output", log=str(self.run_.data / "hub.log"))
                time.sleep(0.02)
        return Endpoints(info["endpoint"], info["feed"], self.folder.console_public)

    # --- playing --------------------------------------------------------------------------------
    def play(self) -> None:
        run, sc = self.run_, self.run_.scenario
        for step in run.timeline.steps:
            if step.station == "" and not self.options.sim_desk:
                # People at the desk: a cue in the desk's notes instead; the scorecard finds what they send.
                self.sched.at(step.at_ms, self.desk.submit, "note", {"text": cue(step, sc.event, self.options.lang)})
                continue
            if step.station and step.station not in self.stations:
                continue   # a post left to people
            self.sched.at(step.at_ms, self._play, step)
        for s in sc.silences:
            if s.station in self.stations:
                self.sched.at(s.at_ms, self.stations[s.station].go_silent)
                self.sched.at(s.until_ms, self.stations[s.station].come_back)
        self.phase = "playing"
        self._start_clock()
        finished = self.sched.run_until(sc.duration_ms)
        self.ended_ms = min(self.sched.now_ms(), sc.duration_ms)
        self.complete = finished
        if finished and self.options.hold:
            self.phase = "holding"
            self._done.wait()
        self.phase = "scoring"

    def _play(self, step: Step) -> None:
        who = self.stations[step.station] if step.station else self.desk
        report = who.submit(step.type, step.body)
        if step.ref:
            self.run_.refs[step.ref] = (who.station, report.seq)
        if step.item >= 0 and step.type in ("incident_report", "incident_open"):
            self.operator.expect(who.station, report.seq, self.run_.scenario.script[step.item])

    def progress(self) -> dict[str, Any]:
        """What a progress line shows: scenario time, steps played, events seen, incidents open, posts silent."""
        sc = self.run_.scenario
        try:
            waiting = sum(st.client.outbox.depth() for st in list(self.stations.values()))
        except Exception:  # the outboxes are closing (the run is ending): no figure this time
            waiting = 0
        return {"phase": self.phase, "now_ms": min(self.sched.now_ms(), sc.duration_ms),
                "duration_ms": sc.duration_ms, "played": self.sched.played, "speed": self.speed,
                "events": sum(self.feed.counts.values()) if self.feed else 0,
                "guests": self.feed.counts.get("guest_arrival", 0) if self.feed else 0,
                "open_incidents": len(self.operator.open) if self.operator else 0,
                "silent": sorted(s for s, st in list(self.stations.items()) if st.silent),
                "waiting": waiting}

    # --- ending ---------------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        for st in self.stations.values():
            st.come_back()   # a post still silent at the end sends what it saved
        deadline = time.monotonic() + self.options.drain_timeout
        for sim in [*self.stations.values(), self.desk]:
            sim.client.wait_drained(max(0.0, deadline - time.monotonic()))
        sims = {sim.station: sim for sim in [*self.stations.values(), self.desk]}
        delivery = {sid: {**sim.client.outbox.counts(), "epoch": sim.client.outbox.epoch} for sid, sim in sims.items()}
        refs = {}
        for ref, (sid, seq) in self.run_.refs.items():
            report = sims[sid].client.outbox.get(seq)
            if report is not None and report.gseq:
                refs[ref] = report.gseq
        self.sched.stop()
        self.close()
        self.card = scorecard.score(self._facts_input(delivery, refs))
        if self.options.write:
            self.paths = scorecard.write(self.card, self.folder.report_dir, self.options.lang)
        self.phase = "done"
        return self.card

    def _facts_input(self, delivery: dict[str, dict[str, Any]], refs: dict[str, int]) -> scorecard.RunInput:
        run = self.run_
        return scorecard.RunInput(
            folder=self.folder, scenario=run.scenario, timeline=run.timeline, seed=self.seed, speed=self.speed,
            t0_ms=self.sched.t0_ms, first_gseq=self.first_gseq, simulated=tuple(self.simulated),
            people=tuple(sorted(self.options.people)), sim_desk=self.options.sim_desk,
            desk=run.scenario.event.desks[0], delivery=delivery, refs=refs,
            lag_ms=self.sched.lag_ms, made_folder=self.made_folder, data=run.data,
            ended_ms=self.ended_ms, complete=self.complete)

    def close(self) -> None:
        """Stop every client, the feed watcher and (if ours) the hub; safe to call twice."""
        self.sched.stop()
        if self.feed is not None:
            self.feed.stop()   # kept: its counts are the last progress figures
        for sim in [*self.stations.values(), *([self.desk] if self.desk else [])]:
            sim.close()
        self.stations, self.desk = {}, None
        if self.hub is not None:
            self.hub.terminate()
            try:
                self.hub.wait(10)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub.wait(5)
            self.hub = None
