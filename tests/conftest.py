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


# --- test tiers ------------------------------------------------------------------------------------
# pure:   in this process, no socket, no screen, no subprocess (files in tmp_path are fine): the edit-test loop,
#         `pytest -m pure`, well under 30 s. A guard makes a pure test that opens a socket, starts a process or
#         runs an app fail and say so, so the tier stays true.
# wire:   real ZeroMQ sockets on 127.0.0.1, real hubs and stations, real subprocesses and tools.
# screen: Textual apps under Pilot, and snapshots.
# fault:  the real-time fault table: processes killed with real signals mid-delivery.
# Each module has a tier here; a test that differs says so with its own mark (@pytest.mark.wire).
TIERS = ("pure", "wire", "screen", "fault")
MODULE_TIER = {
    "test_clock_skew": "pure", "test_gcpace": "pure", "test_glossary": "pure", "test_notices": "pure", "test_cli_words": "pure", "test_incident_notices": "pure", "test_desk_notices": "screen", "test_staff_words": "pure", "test_desk_staff_words": "screen", "test_codec": "pure", "test_desk_plans_view": "pure", "test_desk_view": "pure",
    "test_docs_screens": "pure", "test_event": "pure", "test_eventtime": "pure", "test_guests_handoff": "pure",
    "test_guests_import": "pure", "test_guests_limits": "pure", "test_hub_flood": "pure", "test_hub_pacing": "pure", "test_hub_guests_start": "wire", "test_i18n": "pure",
    "test_outbox": "pure", "test_outbox_files": "pure", "test_picture_model": "pure", "test_plans": "pure",
    "test_plans_hub": "pure", "test_plans_library": "pure", "test_plans_security_weather": "pure", "test_readiness": "pure", "test_report": "pure", "test_report_service_day": "pure",
    "test_report_archive": "pure", "test_report_files": "pure", "test_report_charts_axes": "pure", "test_scenarios_generators": "pure", "test_scenarios_service": "pure",
    "test_scenarios_layers": "pure", "test_scenarios_loader": "pure", "test_state": "pure",
    "test_station_app_cli": "pure", "test_station_plan_tasks": "pure", "test_store": "pure",
    "test_store_files": "pure",
    "test_services": "pure",   # service calls (issue 16 item 2)
    "test_cli_failures": "wire", "test_client": "wire", "test_desk_link": "wire", "test_hub": "wire",
    "test_hub_bounds": "wire", "test_hub_identity": "wire", "test_hub_stall": "wire", "test_hub_storage": "wire",
    "test_independent_station": "wire", "test_layers": "wire", "test_picture": "wire", "test_picture_drill": "wire",
    "test_scenarios_run": "wire",
    "test_card_fold": "pure",
    "test_desk_screens_whole": "screen", "test_desk_forms": "screen", "test_desk_table_fit": "screen",   # issue 17
    "test_station_screens_whole": "screen",
    "test_desk_app": "screen", "test_desk_frames": "screen", "test_desk_pair_start": "fault", "test_hub_end_with_parent": "fault", "test_desk_plans_snapshots": "screen", "test_desk_snapshots": "screen",
    "test_desk_timeline": "screen", "test_guests_station": "screen", "test_plans_on_screen": "screen",
    "test_readiness_desk": "screen", "test_readiness_snapshots": "screen", "test_report_desk": "screen",
    "test_scenarios_demo": "screen", "test_station_app": "screen", "test_ui_loop": "screen", "test_station_app_offline": "screen",
    "test_station_app_snapshots": "screen", "test_station_plan_snapshots": "screen",
    "test_services_desk": "screen", "test_services_snapshots": "screen", "test_services_station": "screen",
    "test_services_station_snapshots": "screen",   # service calls (issue 16 item 2)
    "test_faults": "fault",
    # issue 15: the Clone follower, pure, and the rehearsal's feed watcher on it
    "test_follower": "pure", "test_feed_watcher": "wire",
    # issue 15, the house in order: one Session for frames, one CURVE helper, the station link on a stepped clock
    "test_session": "pure", "test_link_flow": "pure", "test_link_timers": "wire",
}
# The send-off (恭送, issue 16 item 1): its rules and wire, its screens.
MODULE_TIER.update({"test_sendoff": "pure", "test_sendoff_screens": "screen"})
# Department and leader terminals (issue 16 item 3): the rules, and the terminal through a real hub.
MODULE_TIER.update({"test_roles": "pure", "test_roles_station": "screen"})
MODULE_TIER.update({"test_vip_release": "pure", "test_vip_release_station": "screen",   # VIPs end to end
                    "test_vip_expect": "pure", "test_vip_delegation": "pure",
                    "test_vip_phones": "pure", "test_vip_meals": "pure"})   # its screen tests say so
# Two hubs (issue 19): the Binary Star state machine, the pair's endpoints in event.toml.
MODULE_TIER.update({"test_binary_star": "pure", "test_hub_pair_config": "pure", "test_log_copy": "pure",
                    "test_two_hubs_move": "wire"})
MODULE_TIER.update({"test_two_hubs": "fault", "test_two_hubs_words": "pure",
                    "test_two_hubs_pair": "wire"})   # two hubs, the hub side (issue 19): real hub processes, SIGKILL
# issue 17, the last words: event.toml errors, the hub's log, the summary's CSV, charts' own Chinese font, station forms
MODULE_TIER.update({"test_report_charts_font": "pure", "test_event_words": "pure", "test_hub_live_words": "pure",
                    "test_cli_staff_words": "pure"})
MODULE_TIER.update({"test_scenario_words": "pure"})
MODULE_TIER.update({"test_report_terminals": "pure", "test_roles_sales": "screen",
                    "test_service_side_words": "screen", "test_scenarios_guests": "wire"})   # the terminals' work in each department's findings (service5)   # scenario files' refusals in the catalogue (issue 17)
# Stations on phones (issue 18): pairing and the page model, the server and the phone page in a real browser.
MODULE_TIER.update({"test_phones_pairing": "pure", "test_phones_page": "pure", "test_phones_browser": "wire",
                    "test_phones_desk": "screen"})
MODULE_TIER.update({"test_phones_log": "pure"})   # phones paired and revoked, logged through the hub (issue 18)
MODULE_TIER.update({"test_phones_live": "wire"})   # issue 18, what was left: restarts, live preparation, guests, calls
MODULE_TIER.update({"test_phones_wake": "pure", "test_desk_board_rows": "screen"})   # when the station server wakes its phones
MODULE_TIER.update({"test_phones_tap_answer": "wire"})   # a tap's answer brings its page: one draw per tap (issue 18)
MODULE_TIER.update({"test_prep": "pure", "test_prep_desk": "screen"})
# Preparation reaching connected terminals live (branch live): every test says its tier.
MODULE_TIER.update({"test_prep_live": "wire"})
MODULE_TIER.update({"test_vip_spaces": "pure", "test_vip_model_unit": "screen"})   # reserved VIP spaces (issue 16 item 4); its screen tests say so   # preparation from the desk (issue 16 item 6)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(m.name in TIERS for m in item.iter_markers()):
            continue
        tier = MODULE_TIER.get(item.path.stem)
        if tier is None:
            raise pytest.UsageError(f"{item.path.name} has no test tier: add it to MODULE_TIER in tests/conftest.py")
        item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _pure_stays_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("pure") is None:
        return
    import subprocess

    import zmq

    def refuse(what: str):
        def refused(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"a pure-tier test {what}: mark it @pytest.mark.wire (or screen) in its module")
        return refused

    monkeypatch.setattr(zmq.Context, "socket", refuse("opened a ZeroMQ socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
    from textual.app import App
    monkeypatch.setattr(App, "run_test", refuse("ran a Textual app"))
    monkeypatch.setattr(App, "run", refuse("ran a Textual app"))
# Two hubs, the desk's side (issue 19): the follower's moves and pair status, the desk through two real hubs,
# the pair indicator's snapshots, and the network-namespace harness's proofs.
MODULE_TIER.update({"test_follower_hubs": "pure", "test_desk_two_hubs": "wire"})
MODULE_TIER.update({"test_desk_pair_snapshots": "screen"})
MODULE_TIER.update({"test_netns_faults": "fault"})
# Two hubs on two machines under load (issue 19): failover cases in network namespaces.
MODULE_TIER.update({"test_netns_failover": "fault"})
MODULE_TIER.update({"test_link_passive_move": "wire"})   # a station moved by E_PASSIVE keeps a working link
# A goodbye on the wire (branch bye): closed, not offline — the fold, the plan and the summary; a real hub and
# station (SIGKILL for the other); the posts panel with a closed station.
MODULE_TIER.update({"test_bye_pure": "pure", "test_bye": "wire", "test_bye_snapshots": "screen"})
