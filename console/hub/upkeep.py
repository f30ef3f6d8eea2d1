"""What the hub looks after besides the wire, each tick: the guest file, and its own log's health.

A mixin of Hub (console/hub/server.py): `check_guests` loads a new or changed guest list (a bad one is
refused with one alarm and the old list kept), `_watch_storage` turns the store's failure counts
into one line and one alarm per stretch (console/hub/storage.py). Knows files and the store; no
sockets of its own.
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from console.event import guests as guest_file
from protocols.file_errors import why_text
from protocols.i18n import t
from protocols.messages import Alarm

GUESTS_FILE = "guests_file"   # the log's meta: the fingerprint of the guest file whose list it holds


def _fingerprint(path: Path) -> str:
    """The file's bytes, hashed: a list copied back with its old time is still known, a changed one never is."""
    with open(path, "rb") as f:
        return f"sha256:{hashlib.file_digest(f, 'sha256').hexdigest()}"


class Upkeep:
    def check_guests(self) -> None:
        """Load the guest file when it is new or changed (`eventdesk guests import` replaces it atomically).

        A list that fails its checks is not loaded: the hub keeps the one it has, says why in its
        log and raises one alarm on the desks; reports keep flowing either way.
        """
        path = self.folder.guest_file(self.event)
        # service5: a drill in a folder with no guest list of its own plays the scenario's (scenarios/runner.py).
        if self.drill and not path.exists():
            path = self.folder.drill_guest_file()
        try:
            st = path.stat()
        except OSError:
            return
        seen = (st.st_mtime_ns, st.st_size)
        if seen == self._guests_seen:
            return
        self._guests_seen = seen
        # The very file whose list the log already holds needs no second reading: a 5,000-party list
        # took half a second to check again at every start, while the desks waited for the hub's loop.
        try:
            fingerprint = _fingerprint(path)
        except OSError:   # unreadable: the load below says so in its own words
            fingerprint = None
        if fingerprint is not None and fingerprint == self.store.get_meta(GUESTS_FILE) \
                and self.ingest.state.guests["digest"]:
            return
        try:
            guests = guest_file.load(path, self.event.date, self.event.tz)
        except Exception as exc:  # noqa: BLE001 — whatever a guest file does, the hub keeps its list and runs
            if not isinstance(exc, guest_file.GuestFileError):
                # Why, in each language's words (the alarm keeps the English, the live log says the hub's).
                words = {lang: t("guests.err.unreadable", lang, detail=why_text(exc, lang)) for lang in ("en", "zh")}
                exc = guest_file.GuestFileError(path, [guest_file.GuestError(0, "", words["en"], words["zh"])])
            more = len(exc.errors) - 1
            self._say(t("hub.live.guests_failed", self.lang, file=path, why=exc.errors[0].sentence(self.lang),
                        more=t("hub.live.guests_more", self.lang, n=more) if more else ""))
            reason = f"{path.name}: {exc.errors[0].sentence('en')}" + (
                f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else "")
            self._emit(self.ingest.hub_events([Alarm(code="guest_list", reason=reason[:2000])], self.clock()))
            return
        digest = guest_file.digest(guests)
        out = self.ingest.load_guests(guests, path.name, self.clock(), digest)
        if out.stored:
            self._line(t("hub.live.guests_loaded", self.lang, file=path.name, n=len(guests)))
        self._emit(out)
        if fingerprint is not None and self.ingest.state.guests["digest"] == digest:   # the log holds this file's list
            try:
                self.store.set_meta(GUESTS_FILE, fingerprint)
            except sqlite3.Error:   # not remembered: the next start reads the file again, nothing worse
                pass

    def _watch_storage(self, now: int) -> None:
        """One line and one alarm per stretch of log failures (console.hub.storage); an alarm the
        log could not take yet is offered again on the next tick."""
        self.storage.update(now)
        if self.storage.pending:
            out = self.ingest.hub_events(list(self.storage.pending), now)
            if out.stored:
                self.storage.pending.clear()
            self._emit(out)
            self.storage.update(now)
