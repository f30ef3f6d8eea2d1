"""Pairing phones with stations: codes from the station's key, the brake on guessing, sessions and revokes; pure."""
from __future__ import annotations

import itertools

from stations.web.pairing import (DIGITS, OVERALL, PER_ADDRESS, PER_STATION, WINDOW_S, Pairings, clean, code_for,
                                  digest)

KEYS = {"gate-1": b"A" * 40, "gate-2": b"B" * 40, "lobby-1": b"C" * 40}


def pairings() -> Pairings:
    counter = itertools.count(1)
    return Pairings(KEYS, token=lambda: f"token-{next(counter)}")


def test_a_code_is_six_digits_from_the_key_the_station_and_the_generation():
    code = code_for(KEYS["gate-1"], "gate-1", 0)
    assert len(code) == DIGITS and code.isdigit()
    assert code == code_for(KEYS["gate-1"], "gate-1", 0)          # the desk works out the same code
    assert code != code_for(KEYS["gate-1"], "gate-1", 1)          # a revoke makes a new one
    assert code != code_for(KEYS["gate-2"], "gate-1", 0)          # another key: another code
    assert code_for(b"x" * 40, "gate-1", 0) != code_for(b"x" * 40, "gate-2", 0)


def test_a_code_as_typed_on_a_phone():
    assert clean(" 12 34-56 ") == "123456"
    assert clean("１２３４５６") == "123456"


def test_the_right_code_pairs_that_station_and_a_wrong_one_nothing():
    p = pairings()
    assert p.pair("000000" if p.code("gate-1") != "000000" else "111111", "127.0.0.5", 0.0, "zh") == "wrong"
    assert p.sessions == {}
    token, station = p.pair(p.code("lobby-1"), "127.0.0.5", 1.0, "zh")
    assert station == "lobby-1" and p.session(token).station == "lobby-1"
    assert p.session("no-such-token") is None and p.session(None) is None
    assert p.paired() == {"gate-1": 0, "gate-2": 0, "lobby-1": 1}


def test_guessing_is_braked_per_address_and_in_all():
    p = pairings()
    wrong = "999999" if "999999" not in p.codes().values() else "888888"
    for _ in range(PER_ADDRESS):
        assert p.pair(wrong, "127.0.0.9", 10.0, "zh") == "wrong"
    # Blocked now, even with the right code: a guesser learns nothing from the answer.
    assert p.pair(p.code("gate-1"), "127.0.0.9", 11.0, "zh") == "blocked"
    assert isinstance(p.pair(p.code("gate-1"), "127.0.0.10", 11.0, "zh"), tuple)   # another phone is not held up
    assert isinstance(p.pair(p.code("gate-1"), "127.0.0.9", 10.0 + WINDOW_S + 0.1, "zh"), tuple)  # a minute on

    q = pairings()
    for i in range(OVERALL):   # an attacker with many addresses meets the overall brake
        assert q.pair(wrong, f"127.0.1.{i}", 100.0, "zh") == "wrong"
    assert q.pair(q.code("gate-2"), "127.0.2.1", 101.0, "zh") == "blocked"
    assert isinstance(q.pair(q.code("gate-2"), "127.0.2.1", 100.0 + WINDOW_S + 1, "zh"), tuple)


def test_a_sustained_guesser_gets_a_few_dozen_tries_an_hour():
    p = pairings()
    wrong = next(c for c in ("999999", "888888", "777777") if c not in p.codes().values())
    now, tries, address = 0.0, 0, itertools.count()
    while now < 24 * 3600:   # a day of guessing from ever new addresses, one try a second
        if p.pair(wrong, f"127.0.{next(address) % 250}.{int(now) % 250}", now, "zh") == "wrong":
            tries += 1
        now += 1.0
    assert tries < 1000, tries   # 8 stations' codes in a million: under 0.8 % for the whole day
    assert p.brake.trips >= 10


def test_a_revoke_refuses_every_phone_paired_before_and_changes_the_code():
    p = pairings()
    old = p.code("gate-1")
    t1, _ = p.pair(old, "127.0.0.5", 0.0, "zh")
    t2, _ = p.pair(p.code("gate-2"), "127.0.0.6", 0.0, "en")
    assert p.revoke("gate-1") == 1
    assert p.session(t1) is None and digest(t1) not in p.sessions      # refused, and forgotten
    assert p.session(t2) is not None                             # other stations keep theirs
    assert p.code("gate-1") != old
    assert p.pair(old, "127.0.0.5", 1.0, "zh") == "wrong"


def test_generations_stored_by_another_process_take_effect():
    p = pairings()
    token, _ = p.pair(p.code("gate-1"), "127.0.0.5", 0.0, "zh")
    p.set_generations({"gate-1": 3, "no-such-station": 7})
    assert p.generations["gate-1"] == 3 and "no-such-station" not in p.generations
    assert p.session(token) is None
    assert p.code("gate-1") == code_for(KEYS["gate-1"], "gate-1", 3)


def test_a_code_used_again_and_again_keeps_the_newest_pairings_only():
    p = pairings()
    tokens = [p.pair(p.code("gate-1"), "127.0.0.5", 0.0, "zh")[0] for _ in range(PER_STATION + 5)]
    other, _ = p.pair(p.code("gate-2"), "127.0.0.6", 0.0, "zh")
    assert p.paired()["gate-1"] == PER_STATION
    assert p.session(tokens[0]) is None and p.session(tokens[-1]) is not None and p.session(other) is not None


def test_a_session_keeps_its_language():
    p = pairings()
    token, _ = p.pair(p.code("gate-1"), "127.0.0.5", 0.0, "zh")
    p.set_lang(token, "en")
    assert p.session(token).lang == "en"


def test_pairings_kept_over_a_restart_hold_no_token_and_a_revoke_made_meanwhile_ends_them():
    p = pairings()
    t1, _ = p.pair(p.code("gate-1"), "127.0.0.5", 0.0, "en", at_ms=7)
    t2, _ = p.pair(p.code("gate-2"), "127.0.0.6", 0.0, "zh")
    stored = p.stored()
    assert set(stored) == {digest(t1), digest(t2)} and t1 not in repr(stored) and t2 not in repr(stored)

    again = pairings()   # the server started again: the same phones, no new code
    assert again.restore(stored) == 2
    assert (again.session(t1).station, again.session(t1).lang, again.session(t1).since_ms) == ("gate-1", "en", 7)
    assert again.session("token-99") is None

    meanwhile = pairings()   # gate-1 revoked while the server was down: its phone ends, "revoked"
    meanwhile.set_generations({"gate-1": 1})
    assert meanwhile.restore(stored) == 1
    assert meanwhile.session(t1) is None and meanwhile.session(t2) is not None
    assert [(s, why) for s, _phone, why in meanwhile.drain_ended()] == [("gate-1", "revoked")]
    assert digest(t1) not in meanwhile.stored()   # and it stays revoked: the next file leaves it out

    later = pairings()   # a day on: the cookie has lapsed on the phone, and the token kept over restarts with it
    later.restore(stored)
    later.expire(8)
    assert later.session(t1) is None and later.session(t2) is not None   # t2 has no pairing time: kept
    assert [(s, why) for s, _phone, why in later.drain_ended()] == [("gate-1", "unpaired")]

    junk = {"x" * 64: {"station": "gate-9"}, "short": {"station": "gate-1"}, "y" * 64: "bad",
            "z" * 64: {"station": "gate-1", "generation": "no"}}
    assert pairings().restore(junk) == 0


# --- the command line: eventdesk stations codes | revoke | serve ------------------------------------------

def test_the_stations_commands_parse():
    from console import cli
    args = cli.parse_args(["stations", "serve", "/tmp/ev", "--host", "127.0.0.1", "--port", "9000", "--lang", "en"])
    assert (args.stations_cmd, args.host, args.port, args.lang, args.drill) == ("serve", "127.0.0.1", 9000, "en", False)
    assert cli.parse_args(["stations", "serve", "/tmp/ev"]).host == "0.0.0.0"   # phones must reach it
    args = cli.parse_args(["stations", "revoke", "/tmp/ev", "gate-1"])
    assert (args.stations_cmd, args.station) == ("revoke", "gate-1")


def test_codes_and_revoke_in_the_event_folder(tmp_path, capsys):
    from console import cli
    from console.event.folder import init_folder, make_keys
    from console.event.phones import generations_file
    from protocols.keys import load_pair
    folder = init_folder(tmp_path / "event")
    make_keys(folder)
    secret = load_pair(folder.station_key("gate-1"))[1]
    assert cli.main(["stations", "codes", str(folder.root), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"code {code_for(secret, 'gate-1', 0)}" in out and "gate-2" in out

    assert cli.main(["stations", "revoke", str(folder.root), "gate-1", "--lang", "en"]) == 0
    assert code_for(secret, "gate-1", 1) in capsys.readouterr().out
    assert '"gate-1": 1' in generations_file(folder).read_text()
    assert cli.main(["stations", "codes", str(folder.root), "--qr"]) == 0
    shown = capsys.readouterr().out
    assert f"配对码 {code_for(secret, 'gate-1', 1)}" in shown and "█" in shown
    assert cli.main(["stations", "revoke", str(folder.root), "gate-99"]) == 2
    assert "gate-99" in capsys.readouterr().err


def test_two_writers_on_one_folder_never_take_each_others_half_written_file(tmp_path) -> None:
    """A second server starting on a taken port wrote the paired list beside the first: both used one temporary
    name, and one found its file renamed away ("cannot write ... No such file")."""
    import stat
    import threading

    from protocols.pairing import read_generations, write_generations
    path = tmp_path / "phones.json"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(200):
                write_generations(path, {"gate-1": n * 1000 + i})
        except BaseException as exc:   # noqa: BLE001 -- any failure is the finding
            errors.append(exc)
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert read_generations(path)["gate-1"] % 1000 == 199             # a whole file, the last of some writer
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and list(tmp_path.iterdir()) == [path]   # owner-only, no leftovers
