"""The event folder: where event.toml, keys, the logs and the hub's runtime file live on disk.

A folder holds event.toml, keys/, event.db (the live log), rehearsal.db (drills, never mixed
with live data), report/ and hub.json (written by a running hub: its endpoints and pid).
Knows files; no sockets, no database, no screen. Reading event.toml itself is console.core.event.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

# Re-exported: ~40 modules and tests import the Event model and parse from console.event.folder.
from console.core.event import (  # noqa: F401
    MAX_ROSTER,
    MAX_TASKS,
    Area,
    Event,
    EventFileError,
    HubSettings,
    Shift,
    Station,
    Task,
    parse,
)
from protocols import eventtime

SAMPLE = Path(__file__).with_name("sample_event.toml")
# The sample is dated this many days ahead: every preparation task it lists (the earliest is due
# three days before the doors) still lies in the future on the day it is written.
SAMPLE_LEAD_DAYS = 7
_DATE_LINE = re.compile(r'(?m)^(date\s*=\s*)"[^"]*"')


class EventFolder:
    """Paths and loading for one event folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def toml(self) -> Path:
        return self.root / "event.toml"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def db(self, drill: bool = False) -> Path:
        return self.root / ("rehearsal.db" if drill else "event.db")

    def runtime(self, drill: bool = False) -> Path:
        return self.root / ("hub-rehearsal.json" if drill else "hub.json")

    def station_key(self, station_id: str) -> Path:
        return self.keys / "stations" / f"{station_id}.key_secret"

    def desk_key(self, desk_id: str) -> Path:
        return self.keys / "desks" / f"{desk_id}.key_secret"

    @property
    def console_public(self) -> Path:
        return self.keys / "console.key"

    @property
    def console_secret(self) -> Path:
        return self.keys / "console.key_secret"

    def outbox(self, station_id: str) -> Path:
        return self.root / "stations" / f"{station_id}.outbox.db"

    def guest_file(self, event: Event) -> Path:
        """The guest list the hub loads: event.toml's `guests`, else guests.json (written by `eventdesk guests import`)."""
        return self.root / (event.guests or "guests.json")

    def drill_guest_file(self) -> Path:
        """A rehearsal's own guest list, for a folder with none of its own (the scenario's [[guest]] tables): only a
        drill hub reads it, so the live event never meets a drill's guests."""
        return self.root / "rehearsal" / "guests.json"

    def load(self) -> Event:
        if not self.toml.exists():
            raise EventFileError(self.toml, "(file)", "no_file")
        return parse(self.toml, self.toml.read_text("utf-8"))

    def read_runtime(self, drill: bool = False) -> dict[str, Any] | None:
        """hub.json if a hub wrote it and its process is still alive."""
        path = self.runtime(drill)
        try:
            info = json.loads(path.read_text("utf-8"))
            os.kill(int(info["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return info

    def write_runtime(self, info: dict[str, Any], drill: bool = False) -> None:
        path = self.runtime(drill)
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(info, indent=1), "utf-8")
            os.replace(tmp, path)
        except OSError:   # a full disk: no half-written file left behind to look like a hub
            tmp.unlink(missing_ok=True)
            raise


def sample_date(now_ms: int) -> str:
    """The day the sample event is set for when written at `now_ms`: a week ahead on the sample's own clock."""
    return eventtime.days_ahead(now_ms, eventtime.zone(parse(SAMPLE, SAMPLE.read_text("utf-8")).timezone),
                                SAMPLE_LEAD_DAYS)


def sample_text(date: str) -> str:
    """The sample event.toml, dated `date` (YYYY-MM-DD)."""
    return _DATE_LINE.sub(lambda m: f'{m.group(1)}"{date}"', SAMPLE.read_text("utf-8"), count=1)


def init_folder(root: Path | str, force: bool = False, date: str | None = None) -> EventFolder:
    """Write the sample event into `root` (an empty or new folder) and return it.

    It is dated `date`, or a week after today (the wall clock, read here at the edge) so that a
    new user's event lies ahead with its preparation still to do.
    """
    folder = EventFolder(root)
    folder.root.mkdir(parents=True, exist_ok=True)
    if folder.toml.exists() and not force:
        raise EventFileError(folder.toml, "(file)", "exists")
    folder.toml.write_text(sample_text(date or sample_date(int(time.time() * 1000))), "utf-8")
    template = folder.root / "guests-template.csv"
    if not template.exists():   # headings an office fills in Excel (BOM: Excel then reads it as UTF-8)
        rows = Path(__file__).with_name("sample_guests.csv").read_text("utf-8")
        template.write_text(rows, "utf-8-sig")
    return folder


def make_keys(folder: EventFolder, event: Event | None = None) -> list[Path]:
    """The console keypair and one per station and desk named in the event (existing ones kept)."""
    from protocols import keys

    event = event or folder.load()
    made = [keys.create(folder.keys, "console")[1]]
    made += [keys.create(folder.keys / "stations", s.id)[1] for s in event.stations]
    made += [keys.create(folder.keys / "desks", d)[1] for d in event.desks]
    return made


def set_endpoints(folder: EventFolder, endpoint: str, feed: str) -> None:
    """Rewrite the [hub] endpoints in event.toml (used by tests and the demo to pick free ports)."""
    text = folder.toml.read_text("utf-8")
    text = re.sub(r'(?m)^endpoint = ".*?"', f'endpoint = "{endpoint}"', text, count=1)
    text = re.sub(r'(?m)^feed = ".*?"', f'feed = "{feed}"', text, count=1)
    folder.toml.write_text(text, "utf-8")
