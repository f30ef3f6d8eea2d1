"""The two hubs in event.toml: [hub] backup_endpoint and backup_feed parsed, every mistake refused with the key and a sentence in both languages."""
from __future__ import annotations

from pathlib import Path

import pytest

import console  # noqa: F401  (registers the desk's words, where hub.pair.* live)
from console.cli_errors import MISTAKE, explain
from console.core.event import EventFileError, HubPairError, parse
from console.core.hub_pair import KEYS, check
from console.event.folder import init_folder

pytestmark = pytest.mark.pure

PRIMARY = ('endpoint = "tcp://127.0.0.1:7750"', 'feed = "tcp://127.0.0.1:7751"')


def event_text(*hub_lines: str) -> str:
    return "\n".join(['[event]', 'name = "开盘"', 'date = "2026-12-12"', '', '[hub]', *hub_lines, ''])


def test_one_hub_alone_is_as_before(tmp_path: Path) -> None:
    event = parse(tmp_path / "event.toml", event_text(*PRIMARY))
    assert (event.hub.backup_endpoint, event.hub.backup_feed) == ("", "")
    assert event.hub.pairs() == (("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751"),)
    # Port 0 (the tests' and the demo's free port) stays allowed without a backup.
    alone = parse(tmp_path / "event.toml", event_text('endpoint = "tcp://127.0.0.1:0"', 'feed = "tcp://127.0.0.1:0"'))
    assert alone.hub.pairs() == (("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),)


def test_the_sample_names_no_backup(tmp_path: Path) -> None:
    event = init_folder(tmp_path / "ev", date="2027-03-18").load()
    assert len(event.hub.pairs()) == 1


def test_a_backup_is_parsed_and_listed_after_the_primary(tmp_path: Path) -> None:
    event = parse(tmp_path / "event.toml", event_text(
        *PRIMARY, 'backup_endpoint = "tcp://127.0.0.2:7750"', 'backup_feed = "tcp://127.0.0.2:7751"'))
    assert event.hub.pairs() == (("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751"),
                                 ("tcp://127.0.0.2:7750", "tcp://127.0.0.2:7751"))


BACKUP = ('backup_endpoint = "tcp://127.0.0.2:7750"', 'backup_feed = "tcp://127.0.0.2:7751"')


def test_with_a_backup_and_no_heartbeat_written_the_hubs_beat_every_half_second(tmp_path: Path) -> None:
    # Terminals move after three silent heartbeats: at 0.5 s a takeover stays within 3 s (bench/failover.py).
    alone = parse(tmp_path / "event.toml", event_text(*PRIMARY))
    paired = parse(tmp_path / "event.toml", event_text(*PRIMARY, *BACKUP))
    assert (alone.hub.heartbeat_s, paired.hub.heartbeat_s) == (1.0, 0.5)
    written = parse(tmp_path / "event.toml", event_text(*PRIMARY, *BACKUP, "heartbeat_s = 2.0"))
    assert written.hub.heartbeat_s == 2.0   # what the file says stands


@pytest.mark.parametrize(("lines", "key", "why", "zh_part", "en_part"), [
    (('backup_endpoint = "tcp://127.0.0.2:7750"',), "hub.backup_feed", "both_or_neither",
     "要一起填写", "together, or neither"),
    (('backup_feed = "tcp://127.0.0.2:7751"',), "hub.backup_endpoint", "both_or_neither",
     "要一起填写", "together, or neither"),
    (('backup_endpoint = "127.0.0.2:7750"', 'backup_feed = "tcp://127.0.0.2:7751"'), "hub.backup_endpoint",
     "bad_endpoint", "不是有效的地址", "is not an address"),
    (('backup_endpoint = "tcp://127.0.0.2:99999"', 'backup_feed = "tcp://127.0.0.2:7751"'), "hub.backup_endpoint",
     "bad_endpoint", "不是有效的地址", "is not an address"),
    (('backup_endpoint = "tcp://127.0.0.2:0"', 'backup_feed = "tcp://127.0.0.2:7751"'), "hub.backup_endpoint",
     "fixed_port", "请写明端口", "give the port"),
    (('backup_endpoint = "tcp://127.0.0.1:7751"', 'backup_feed = "tcp://127.0.0.2:7751"'), "hub.backup_endpoint",
     "same_address", "各不相同", "must all differ"),
    (('backup_endpoint = "tcp://127.0.0.2:7750"', 'backup_feed = "tcp://127.0.0.2:7750"'), "hub.backup_feed",
     "same_address", "各不相同", "must all differ"),
])
def test_every_mistake_names_the_key_in_both_languages(tmp_path: Path, lines: tuple[str, ...], key: str, why: str,
                                                      zh_part: str, en_part: str) -> None:
    with pytest.raises(HubPairError) as caught:
        parse(tmp_path / "event.toml", event_text(*PRIMARY, *lines))
    err = caught.value
    assert isinstance(err, EventFileError) and (err.key, err.why_key) == (key, why)
    zh, en = err.sentence("zh"), err.sentence("en")
    assert key in zh and zh_part in zh and "{" not in zh
    assert key in en and en_part in en and en_part in str(err)
    words = zh
    for name in sorted(KEYS, key=len, reverse=True):   # the keys to type stay as written
        words = words.replace(name, "")
    assert not any(word in words for word in ("backup", "port", "address", "together"))   # no English inside Chinese
    assert explain(err, "en") == (str(err), MISTAKE)


def test_a_primary_with_a_free_port_cannot_have_a_backup(tmp_path: Path) -> None:
    with pytest.raises(HubPairError) as caught:
        parse(tmp_path / "event.toml", event_text(
            'endpoint = "tcp://127.0.0.1:0"', 'feed = "tcp://127.0.0.1:7751"',
            'backup_endpoint = "tcp://127.0.0.2:7750"', 'backup_feed = "tcp://127.0.0.2:7751"'))
    assert (caught.value.key, caught.value.why_key) == ("hub.endpoint", "fixed_port")


def test_check_alone_accepts_four_different_fixed_addresses() -> None:
    assert check("tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3", "tcp://127.0.0.1:4") is None
    assert check("tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "", "") is None
    assert check("tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3", "").why == "both_or_neither"
