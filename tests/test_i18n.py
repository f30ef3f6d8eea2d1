"""The catalogue: every entry in both languages, every label the wire and the screens need, the
same placeholders on both sides so a sentence never shows a raw `{name}`, and each side's words
kept with it (the wire's in protocols/, the desk's in console/, the terminal's in stations/)."""
from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest

import console
import stations
from protocols import codec, i18n
from protocols import messages as M

CATALOGUE = Path(i18n.__file__).with_name("catalogue.toml")
FILES = {"protocols": CATALOGUE, "console": Path(console.__file__).with_name("words.toml"),
         "stations": Path(stations.__file__).with_name("words.toml")}
ENTRIES = i18n.catalogue()


def _leaves(node: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every table without sub-tables, read from the TOML itself (so a half entry can't hide)."""
    subtables = {k: v for k, v in node.items() if isinstance(v, dict)}
    if not subtables:
        return [(prefix, node)]
    assert len(subtables) == len(node), f"{prefix}: mixes values and sub-tables: {sorted(set(node) - set(subtables))}"
    out = []
    for key, value in subtables.items():
        out += _leaves(value, f"{prefix}.{key}" if prefix else key)
    return out


RAW = {side: _leaves(tomllib.loads(path.read_text("utf-8"))) for side, path in FILES.items()}
RAW_LEAVES = [leaf for leaves in RAW.values() for leaf in leaves]
# The screens' own groups: their words live with them, not in the wire's catalogue.
UI_GROUPS = {"console": {"desk", "report", "score", "cli", "guestdesk", "readiness", "scenario", "guests", "hub",
                         "store"},
             "stations": {"station"}}
UI_GROUPS["console"] |= {"eventfile"}   # issue 17: event.toml's errors (console/core/event.py)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def missing(problems: list[str]) -> str:
    """Every problem at once, one a line: a catalogue edit is fixed in one go, not one run per key."""
    return f"{len(problems)} catalogue problem(s):\n  " + "\n  ".join(problems)


def test_every_entry_has_zh_and_en() -> None:
    problems = []
    for key, entry in RAW_LEAVES:
        if set(entry) != {"zh", "en"}:
            problems.append(f"{key} has {sorted(entry)}, not zh and en")
            continue
        problems += [f"{key}.{lang} is empty" for lang in ("zh", "en")
                     if not (isinstance(entry[lang], str) and entry[lang].strip())]
        if key not in ENTRIES:
            problems.append(f"{key} is in the file but not found by the lookup")
    assert not problems, missing(problems)


def test_lookup_sees_every_entry_once() -> None:
    assert set(i18n.files()) == set(FILES.values())   # each side added its words as its package loaded
    seen: dict[str, str] = {}
    problems = []
    for side, leaves in RAW.items():
        for key, _ in leaves:
            if key in seen:
                problems.append(f"{key} is in both {seen[key]} and {side}")
            seen[key] = side
    assert not problems, missing(problems)
    assert len(ENTRIES) == len(RAW_LEAVES)


def test_each_side_keeps_its_own_words() -> None:
    groups = {side: {key.split(".", 1)[0] for key, _ in leaves} for side, leaves in RAW.items()}
    assert groups["console"] == UI_GROUPS["console"] and groups["stations"] == UI_GROUPS["stations"]
    assert not groups["protocols"] & (UI_GROUPS["console"] | UI_GROUPS["stations"])


@pytest.mark.wire   # a subprocess
def test_the_wire_alone_has_its_words() -> None:
    """A client of the wire that loads neither side still names every refusal in both languages."""
    import subprocess
    import sys
    code = ("from protocols import i18n, codec; import sys; "
            "assert 'console' not in sys.modules and 'stations' not in sys.modules; "
            "missing = [k for k in i18n.catalogue() if k.startswith(('desk.', 'station.'))]; "
            "assert not missing, missing; "
            "print(i18n.t('error.E_GAP', 'zh', expected=3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() and "error.E_GAP" not in out.stdout


def test_placeholders_are_the_same_in_both_languages_and_plain_names() -> None:
    problems = []
    for key, entry in sorted(ENTRIES.items()):
        zh, en = _placeholders(entry["zh"]), _placeholders(entry["en"])
        if zh != en:
            problems.append(f"{key}: zh {sorted(zh)} en {sorted(en)}")
        problems += [f"{key}: odd placeholder {{{name}}}" for name in sorted(zh | en)
                     if not re.fullmatch(r"[a-z_]+", name)]
    assert not problems, missing(problems)


FIELD_NAMES = sorted({f.name for specs in codec.SPECS.values() for f in specs}
                     | {s.name for s in codec._HEADER_SPECS})


def _required_labels() -> list[str]:
    keys = [f"field.{name}" for name in FIELD_NAMES]
    keys += [f"incident.{k}" for k in M.INCIDENT_KINDS]
    keys += [f"severity.{s}" for s in M.SEVERITIES]
    keys += [f"status.{s}" for s in M.INCIDENT_STATUSES]
    keys += [f"service.{s}" for s in M.SERVICES]
    keys += [f"post.{p}" for p in (*M.POSTS, "desk")]
    keys += [f"dept.{d}" for d in M.DEPARTMENTS]
    keys += [f"type.{t}" for t in sorted(M.STORED)]
    keys += [f"type.{t}" for t in sorted(M.REGISTRY)]   # E_FORBIDDEN names any type it refuses
    keys += [f"liveness.{s}" for s in {s.name: s for s in codec.SPECS["station_status"]}["status"].choices]
    keys += ["liveness.unknown", "what.incident", "what.instruction"]
    return sorted(set(keys))


def test_every_field_and_domain_value_has_a_label() -> None:
    wanted = _required_labels()
    assert len(wanted) > 100   # the lists above really were read
    problems = [f"lacks [{key}]" for key in wanted if not i18n.has(key)]
    assert not problems, missing(problems)


def test_post_and_type_tables_match_the_code() -> None:
    posts = {k.split(".", 1)[1] for k in ENTRIES if k.startswith("post.")}
    assert posts == set(M.POSTS) | {"desk", "host"}   # host: the send-off's link to the party's host, not a post
    assert set(M.ALLOWED) == set(M.POSTS) | {"desk"}
    depts = {k.split(".", 1)[1] for k in ENTRIES if k.startswith("dept.")}
    assert depts == set(M.DEPARTMENTS)


def test_codes_and_problems_the_codec_names_exist() -> None:
    source = Path(codec.__file__).read_text("utf-8")
    for key in set(re.findall(r'"(problem\.[a-z_]+)"', source)):
        assert i18n.has(key), key
    for code in set(re.findall(r'"(E_[A-Z]+)"', source)):
        assert i18n.has(f"error.{code}"), code
    assert {c for c in codec.RETRYABLE} <= {k.split(".", 1)[1] for k in ENTRIES if k.startswith("error.")}


def test_lookup_fills_placeholders_and_never_raises() -> None:
    assert i18n.t("error.E_GAP", "en", expected=7) == "The desk is waiting for report number 7; resending in order."
    assert "7" in i18n.t("error.E_GAP", "zh", expected=7)
    assert i18n.t("no.such.key", "en") == "no.such.key"
    assert i18n.t("error.E_GAP", "en") == ENTRIES["error.E_GAP"]["en"]          # missing params: the template
    assert i18n.t("error.E_GAP", "en", other=1) == ENTRIES["error.E_GAP"]["en"]
    assert i18n.both("post.gate") == ("Gate", "门岗")


@pytest.mark.parametrize("lang,want", [(None, "zh"), ("", "zh"), ("zh", "zh"), ("zh-CN", "zh"), ("ZH_cn", "zh"),
                                       ("en", "en"), ("en-GB", "en"), ("fr", "zh")])
def test_language_normalisation(lang: str | None, want: str) -> None:
    assert i18n.normalise_lang(lang) == want


def test_sentences_never_show_raw_keys_for_known_fields() -> None:
    for type_, specs in codec.SPECS.items():
        for spec in specs:
            err = codec.schema_error(spec.name, "problem.missing")
            assert "field." not in err.en and "field." not in err.zh, (type_, spec.name, err.en)
            assert "{" not in err.en and "{" not in err.zh
