"""A scenario's own guest list in a folder of the user's (`eventdesk rehearse vip_visit --dir myevent`): the drill hub
plays it when the folder has no list of its own (the live event's list is never made from it), and a folder's own
list wins."""
from __future__ import annotations

from console.event import guests as guest_file
from console.hub.server import run_in_thread
from scenarios.runner import Options, Rehearsal
from tests.test_guests_handoff import LIST
from tests.wire import wait_for


def _listed(hub) -> set[str]:
    return set(hub.hub.ingest.state.guests["list"])


def test_a_drill_in_a_folder_without_a_guest_list_plays_the_scenarios(event_dir) -> None:
    event = event_dir.load()
    assert not event_dir.guest_file(event).exists()
    Rehearsal("vip_visit", Options(dir=event_dir.root))
    assert not event_dir.guest_file(event).exists()                  # the live event's list is not made
    drill = run_in_thread(event_dir, drill=True)
    try:
        assert wait_for(lambda: {"V-01", "G-01"} <= _listed(drill), 10, "the scenario's guests on the drill hub")
    finally:
        drill.stop()
    assert not event_dir.guest_file(event).exists()                  # a live hub reads only that file


def test_a_folders_own_guest_list_is_the_one_a_drill_plays(event_dir) -> None:
    event = event_dir.load()
    Rehearsal("vip_visit", Options(dir=event_dir.root))
    assert event_dir.drill_guest_file().exists()
    guest_file.write_json(event_dir.guest_file(event), LIST, "guests.xlsx")
    Rehearsal("vip_visit", Options(dir=event_dir.root))
    assert not event_dir.drill_guest_file().exists()                  # the scenario's list does not linger
    drill = run_in_thread(event_dir, drill=True)
    try:
        assert wait_for(lambda: _listed(drill) == {g["ref"] for g in LIST}, 10, "the folder's own guests")
    finally:
        drill.stop()
