"""The codec: exact round trips for every registered type, and total decoding of any input.

Every accepted input must decode to an Envelope whose message validates; every other input
must raise ProtocolError with a documented code and a sentence in both languages. The tests
catch nothing broader than ProtocolError, so any other exception fails them.
"""
from __future__ import annotations

import dataclasses
import string
from typing import Any

import msgpack
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import codec, i18n, spec_tables
from protocols.codec import SIGNATURE, SPECS, Envelope, Header, ProtocolError, decode, encode
from protocols.messages import REGISTRY, CarIn, GuestArrival, IncidentReport, LotOccupancy, body_of

# The codes decode itself can raise; the hub adds the others (see PROTOCOL.md, Error codes).
DECODE_CODES = frozenset({"E_VERSION", "E_FRAMES", "E_SIZE", "E_HEADER", "E_TYPE", "E_SCHEMA"})
DOCUMENTED = frozenset(spec_tables.ERRORS)

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = dict(station="gate-1", epoch="3f9c2a7d5e1b4c08", seq=7, sent_ms=1_796_434_867_250)


# --- a sample of every type, built from its specs -----------------------------------------------

def _sample_value(spec: Any) -> Any:
    """A valid value for one field, different from its default where the spec allows."""
    if spec.choices is not None:
        others = [c for c in spec.choices if c != spec.default]
        return others[-1] if others else spec.choices[0]
    if spec.kind == "int":
        lo = spec.lo if spec.lo is not None else -5
        value = lo + 3
        if spec.hi is not None:
            value = min(value, spec.hi)
        return value if value != spec.default or spec.hi == lo else max(lo, value - 1)
    if spec.kind == "str":
        return "湘A·12345 样本\t✓\n" [: spec.max_len or 64]
    if spec.kind == "bool":
        return not spec.default
    if spec.kind == "map":
        return {"k": [1, "二", {"x": None}], "n": -5, "b": b"\x00\x01", "f": 1.5, "t": True}
    if spec.kind == "list":
        return [1, "二", {"a": [True, None]}, -(2**63), 2**64 - 1]
    if spec.kind == "bin":
        return b"\x83\x00\xff"
    raise AssertionError(f"no sample for kind {spec.kind}")


def sample_bodies(type_: str) -> list[dict[str, Any]]:
    """Candidate bodies: every field set; only the required; the required plus each optional one."""
    specs = SPECS[type_]
    required = {s.name: _sample_value(s) for s in specs if s.required}
    bodies = [{s.name: _sample_value(s) for s in specs}, dict(required)]
    bodies += [{**required, s.name: _sample_value(s)} for s in specs if not s.required]
    return bodies


def valid_samples(type_: str) -> list[Any]:
    out = []
    for body in sample_bodies(type_):
        try:
            out.append(codec.build(type_, body))
        except ProtocolError:
            continue   # e.g. lot_occupancy with no mode or with three modes
    return out


ALL_SAMPLES = [(t, m) for t in REGISTRY for m in valid_samples(t)]


@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_every_type_has_a_valid_sample(type_: str) -> None:
    assert valid_samples(type_), f"the generic builder found no valid body for {type_}"


@pytest.mark.parametrize("type_,message", ALL_SAMPLES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ALL_SAMPLES)])
def test_round_trip_is_exact(type_: str, message: Any) -> None:
    frames = encode(message, **HEADER)
    assert frames[0] == SIGNATURE and len(frames) == 3
    env = decode(frames)
    assert type(env.message) is REGISTRY[type_]
    assert env.message == message
    assert env.header == Header(type=type_, **HEADER)
    assert codec.encode_envelope(env) == frames
    assert set(msgpack.unpackb(frames[2])) == {f.name for f in dataclasses.fields(message)}
    assert codec.size_of(message, **HEADER) == sum(map(len, frames))


def test_round_trip_of_defaults_and_zmq_frames() -> None:
    for type_, cls in REGISTRY.items():
        required = {s.name: _sample_value(s) for s in SPECS[type_] if s.required}
        try:
            message = cls(**required)
            codec.build(type_, body_of(message))
        except ProtocolError:
            continue
        frames = encode(message)
        assert decode(frames).message == message
        assert decode([zmq.Frame(f) for f in frames]).message == message


def test_pub_frames_carry_the_topic_first() -> None:
    frames = codec.encode_topic("station.gate-1", GuestArrival(count=2), seq=0)
    assert frames[0] == b"station.gate-1."   # the full stop makes ZeroMQ's prefix match exact
    assert decode(frames[1:]).message == GuestArrival(count=2)


# --- what every outcome of decode must satisfy -------------------------------------------------

def check_outcome(frames: list[bytes], max_bytes: int = codec.MAX_BYTES) -> Envelope | ProtocolError:
    try:
        env = decode(frames, max_bytes)
    except ProtocolError as err:
        assert err.code in DECODE_CODES, err.code
        assert err.code in DOCUMENTED
        for sentence, lang in ((err.en, "en"), (err.zh, "zh")):
            assert isinstance(sentence, str) and sentence.strip()
            template = i18n.catalogue()[f"error.{err.code}"][lang]
            assert sentence != template or "{" not in template, f"unfilled template: {sentence}"
        assert err.retry is False
        return err
    assert isinstance(env, Envelope)
    assert type(env.message) is REGISTRY[env.header.type]
    codec.build(env.header.type, body_of(env.message))   # validates again, raises if not
    again = codec.encode_envelope(env)
    assert codec.encode_envelope(decode(again)) == again
    return env


# --- Hypothesis ----------------------------------------------------------------------------

leaves = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
          | st.text(max_size=40) | st.binary(max_size=40)
          | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=16))
          | st.builds(msgpack.Timestamp, st.integers(-(2**40), 2**40), st.integers(0, 999_999_999))
          | st.sampled_from(sorted(REGISTRY)) | st.sampled_from(["\x1b[2J", "湘A·12345", "", "gate-1"]))
keys = st.text(max_size=12) | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=6) | st.sampled_from(
    ["type", "station", "epoch", "seq", "sent_ms", "count", "note", "plate", "lot", "occupied", "kind"])
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(keys, inner, max_size=6), max_leaves=25)


def packed(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=6))
def test_random_frames(frames: list[bytes]) -> None:
    check_outcome(frames)


@FUZZ
@given(st.lists(st.binary(max_size=300), min_size=0, max_size=4))
def test_random_frames_after_the_signature(rest: list[bytes]) -> None:
    check_outcome([SIGNATURE, *rest])


@FUZZ
@given(values, values)
def test_random_msgpack_header_and_body(header: Any, body: Any) -> None:
    check_outcome([SIGNATURE, packed(header), packed(body)])


@FUZZ
@given(st.sampled_from(sorted(REGISTRY)), st.dictionaries(keys, values, max_size=6), values)
def test_random_body_under_a_real_type(type_: str, header_extra: dict, body: Any) -> None:
    header = {"type": type_, **{k: v for k, v in header_extra.items() if k != "type"}}
    check_outcome([SIGNATURE, packed(header), packed(body)])
    check_outcome([SIGNATURE, packed({"type": type_}), packed(body)])


MUTATIONS = ("flip", "truncate", "insert", "append", "drop_frame", "dup_frame", "set_body", "del_body",
             "set_header", "del_header", "swap_type", "wrap_body", "deep")


@FUZZ
@given(st.sampled_from(ALL_SAMPLES), st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3), st.data())
def test_mutations_of_valid_frames(sample: tuple[str, Any], ops: list[str], data: st.DataObject) -> None:
    type_, message = sample
    frames = list(encode(message, **HEADER))
    for op in ops:
        if op in ("set_body", "del_body", "set_header", "del_header", "swap_type", "wrap_body", "deep"):
            i = 1 if op in ("set_header", "del_header", "swap_type") else 2
            try:
                value = msgpack.unpackb(frames[i], raw=False, strict_map_key=False) if len(frames) > i else None
            except Exception:  # an earlier byte mutation broke it; fall back to a fresh map
                value = {}
            if not isinstance(value, dict):
                value = {}
            names = [n for n in value] or ["type"]
            if op in ("set_body", "set_header"):
                value[data.draw(st.sampled_from(names) | keys, label="key")] = data.draw(values, label="value")
            elif op in ("del_body", "del_header"):
                value.pop(data.draw(st.sampled_from(names), label="del"), None)
            elif op == "swap_type":
                value["type"] = data.draw(st.sampled_from(sorted(REGISTRY)) | st.text(max_size=70), label="type")
            elif op == "wrap_body":
                value = [value]
            elif op == "deep":   # written as raw bytes: msgpack's packer stops at 511 levels
                depth = data.draw(st.integers(1, 1100) | st.integers(960, 1030), label="depth")
                key = data.draw(st.sampled_from(names), label="key")
                opener = b"\x91" if depth % 2 else b"\x81\xa1k"
                i = data.draw(st.sampled_from([1, 2]), label="frame")
                while len(frames) <= i:
                    frames.append(b"")
                try:
                    frames[i] = b"\x81" + packed(key) + opener * depth + b"\x01"
                except (ValueError, OverflowError, TypeError):
                    pass
                continue
            while len(frames) <= i:
                frames.append(b"")
            try:
                frames[i] = packed(value)
            except (ValueError, OverflowError, TypeError):   # not packable: leave the frame as it was
                pass
            continue
        if op in ("drop_frame", "dup_frame"):
            if frames:
                i = data.draw(st.integers(0, len(frames) - 1), label="frame")
                frames = frames[:i] + frames[i + 1:] if op == "drop_frame" else frames[:i + 1] + frames[i:]
            continue
        if not frames:
            continue
        i = data.draw(st.integers(0, len(frames) - 1), label="frame")
        f = bytearray(frames[i])
        if op == "flip" and f:
            at = data.draw(st.integers(0, len(f) - 1), label="at")
            f[at] ^= data.draw(st.integers(1, 255), label="mask")
        elif op == "truncate":
            f = f[:data.draw(st.integers(0, len(f)), label="len")]
        elif op == "insert":
            at = data.draw(st.integers(0, len(f)), label="at")
            f[at:at] = data.draw(st.binary(min_size=1, max_size=12), label="bytes")
        elif op == "append":
            f += data.draw(st.binary(min_size=1, max_size=12), label="bytes")
        frames[i] = bytes(f)
    check_outcome(frames)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(REGISTRY)), st.integers(20, 400), st.data())
def test_frames_near_a_small_limit(type_: str, limit: int, data: st.DataObject) -> None:
    message = data.draw(st.sampled_from([m for t, m in ALL_SAMPLES if t == type_]))
    frames = encode(message, **HEADER)
    result = check_outcome(frames, max_bytes=limit)
    if sum(map(len, frames)) > limit:
        assert isinstance(result, ProtocolError) and result.code == "E_SIZE"


# --- hand-picked cases ---------------------------------------------------------------------

def _frames(header: Any = None, body: Any = None, *, raw_header: bytes | None = None,
            raw_body: bytes | None = None) -> list[bytes]:
    h = raw_header if raw_header is not None else packed({"type": "guest_arrival"} if header is None else header)
    b = raw_body if raw_body is not None else packed({} if body is None else body)
    return [SIGNATURE, h, b]


def _refused(frames: list[bytes], max_bytes: int = codec.MAX_BYTES) -> ProtocolError:
    result = check_outcome(frames, max_bytes)
    assert isinstance(result, ProtocolError), result
    return result


CASES = [
    ("no frames", [], "E_VERSION"),
    ("other version", [b"EVENTDESK/2", packed({"type": "heartbeat"}), packed({})], "E_VERSION"),
    ("signature with a tail", [SIGNATURE + b"\0", packed({"type": "heartbeat"}), packed({})], "E_VERSION"),
    ("plain text", [b"GET / HTTP/1.1\r\n"], "E_VERSION"),
    ("signature only", [SIGNATURE], "E_FRAMES"),
    ("two frames", [SIGNATURE, packed({"type": "heartbeat"})], "E_FRAMES"),
    ("four frames", [SIGNATURE, packed({"type": "heartbeat"}), packed({}), b""], "E_FRAMES"),
    ("too large", _frames(body={"note": "x" * 70_000}), "E_SIZE"),
    ("header garbage", _frames(raw_header=b"\xc1"), "E_HEADER"),
    ("header empty frame", _frames(raw_header=b""), "E_HEADER"),
    ("header trailing bytes", _frames(raw_header=packed({"type": "heartbeat"}) + b"\x00"), "E_HEADER"),
    ("header not a map", _frames(header=["guest_arrival"]), "E_HEADER"),
    ("header type missing", _frames(header={"seq": 1}), "E_HEADER"),
    ("header type not text", _frames(header={"type": b"guest_arrival"}), "E_HEADER"),
    ("header unknown key", _frames(header={"type": "guest_arrival", "user": "admin"}), "E_HEADER"),
    ("header int key", _frames(header={"type": "guest_arrival", 1: 2}), "E_HEADER"),
    ("header negative seq", _frames(header={"type": "guest_arrival", "seq": -1}), "E_HEADER"),
    ("header huge seq", _frames(header={"type": "guest_arrival", "seq": 2**64 - 1}), "E_HEADER"),
    ("header float time", _frames(header={"type": "guest_arrival", "sent_ms": 1.5e12}), "E_HEADER"),
    ("header escape in station", _frames(header={"type": "guest_arrival", "station": "\x1b[2J"}), "E_HEADER"),
    ("header long station", _frames(header={"type": "guest_arrival", "station": "g" * 65}), "E_HEADER"),
    ("header invalid utf-8", _frames(raw_header=b"\x81\xa4type\xa3\xff\xfe\xfd"), "E_HEADER"),
    ("unknown type", _frames(header={"type": "launch_missiles"}), "E_TYPE"),
    ("empty type", _frames(header={"type": ""}), "E_TYPE"),
    ("body garbage", _frames(raw_body=b"\xc1"), "E_SCHEMA"),
    ("body empty frame", _frames(raw_body=b""), "E_SCHEMA"),
    ("body not a map", _frames(body=[1, 2]), "E_SCHEMA"),
    ("body invalid utf-8", _frames(raw_body=b"\x81\xa4note\xa2\xc3\x28"), "E_SCHEMA"),
    ("body int key", _frames(raw_body=b"\x81\x01\x02"), "E_SCHEMA"),
    ("body deep nesting", _frames(raw_body=b"\x81\xa5count" + b"\x91" * 5000 + b"\x01"), "E_SCHEMA"),
    # msgpack unpacks up to 1024 levels, deeper than Python's default recursion limit: a plain
    # repr() of such a value for the sentence used to raise RecursionError out of decode.
    ("body nesting just under msgpack's limit", _frames(raw_body=b"\x81\xa5count" + b"\x91" * 1023 + b"\x01"),
     "E_SCHEMA"),
    ("body nested maps", _frames(raw_body=b"\x81\xa4note" + b"\x81\xa1k" * 1000 + b"\x01"), "E_SCHEMA"),
    ("header nesting", _frames(raw_header=b"\x81\xa4type" + b"\x91" * 1000 + b"\x01"), "E_HEADER"),
    ("body unknown field", _frames(body={"count": 1, "admin": True}), "E_SCHEMA"),
    ("body missing required", _frames(header={"type": "zone_enter"}, body={"count": 1}), "E_SCHEMA"),
    ("count as text", _frames(body={"count": "3"}), "E_SCHEMA"),
    ("count as float", _frames(body={"count": 3.0}), "E_SCHEMA"),
    ("count as bool", _frames(body={"count": True}), "E_SCHEMA"),
    ("count huge", _frames(body={"count": 2**64 - 1}), "E_SCHEMA"),
    ("count most negative", _frames(body={"count": -(2**63)}), "E_SCHEMA"),
    ("count as ext", _frames(body={"count": msgpack.ExtType(5, b"\x01")}), "E_SCHEMA"),
    ("count as timestamp", _frames(body={"count": msgpack.Timestamp(1, 0)}), "E_SCHEMA"),
    ("bad timestamp ext", _frames(raw_body=b"\x81\xa5count\xc7\x03\xff\x01\x02\x03"), "E_SCHEMA"),
    ("note as bytes", _frames(body={"note": b"hello"}), "E_SCHEMA"),
    ("note too long", _frames(body={"note": "长" * 501}), "E_SCHEMA"),
    ("vip flag as 1", _frames(header={"type": "car_in"}, body={"vip": 1}), "E_SCHEMA"),
    ("vip level not a choice", _frames(body={"vip_level": "Z"}), "E_SCHEMA"),
    ("severity not a choice", _frames(header={"type": "incident_report"}, body={"kind": "fire", "severity": 9}),
     "E_SCHEMA"),
    ("welcome event not a map", _frames(header={"type": "welcome"}, body={"station": "a", "post": "b", "event": []}),
     "E_SCHEMA"),
    ("welcome instructions not a list", _frames(header={"type": "welcome"},
                                                body={"station": "a", "post": "b", "instructions": {}}), "E_SCHEMA"),
]


@pytest.mark.parametrize("frames,code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_code(frames: list[bytes], code: str) -> None:
    assert _refused(frames).code == code


def test_every_decode_code_is_reached_and_documented() -> None:
    assert {c[2] for c in CASES} == DECODE_CODES
    assert DECODE_CODES <= DOCUMENTED
    assert {k.split(".", 1)[1] for k in i18n.catalogue() if k.startswith("error.")} == DOCUMENTED


def test_bad_signature_as_zmq_frame_is_still_a_protocol_error() -> None:
    assert _refused([zmq.Frame(b"NOT/1"), zmq.Frame(b"\x80"), zmq.Frame(b"\x80")]).code == "E_VERSION"


def test_schema_sentence_for_a_negative_count() -> None:
    err = _refused(_frames(body={"count": -3}))
    assert err.code == "E_SCHEMA"
    assert err.en == "The count is wrong: it must be at least 1, got -3."
    assert err.zh == "“人数/数量”填写有误：不能小于 1，收到 -3"
    assert str(err) == "E_SCHEMA: The count is wrong: it must be at least 1, got -3."
    assert err.sentence("zh-CN") == err.zh and err.sentence("en") == err.en


def test_header_sentence_nests_the_problem() -> None:
    err = _refused(_frames(header={"seq": 1}))
    assert err.en == "The report header is wrong. The report type is wrong: it is missing. Ask for the terminal to be checked."
    assert err.zh == "报告抬头有误：“报告类别”填写有误：未填写。请联系技术人员检查终端。"


def test_size_limit_is_the_sum_of_the_frames() -> None:
    frames = encode(GuestArrival(note="x" * 100))
    total = sum(map(len, frames))
    assert isinstance(check_outcome(frames, max_bytes=total), Envelope)
    err = _refused(frames, max_bytes=total - 1)
    assert err.code == "E_SIZE" and str(total) in err.en and str(total - 1) in err.zh


CONTROL_TEXTS = ["\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "bell\x07", "\x9b31m", "nul\x00", "cr\r",
                 "del\x7f", "next line\x85", "back\x08space", "\x1bP+q\x1b\\"]


@pytest.mark.parametrize("text", CONTROL_TEXTS, ids=[repr(t) for t in CONTROL_TEXTS])
@pytest.mark.parametrize("type_,field,extra", [("guest_arrival", "note", {}), ("car_in", "plate", {}),
                                               ("zone_enter", "zone", {}), ("instruction", "text", {}),
                                               ("damage_report", "item", {})])
def test_control_characters_are_refused(text: str, type_: str, field: str, extra: dict) -> None:
    err = _refused(_frames(header={"type": type_}, body={**extra, field: text}))
    assert err.code == "E_SCHEMA"
    assert err.params["problem_key"] == "problem.control"
    assert "\x1b" not in err.en and "\x1b" not in err.zh


def test_tab_and_newline_are_allowed_in_text() -> None:
    env = check_outcome(encode(GuestArrival(note="第一行\n\t第二行")))
    assert isinstance(env, Envelope) and env.message.note == "第一行\n\t第二行"


def test_chinese_plate_is_accepted() -> None:
    env = check_outcome(_frames(header={"type": "car_in"}, body={"plate": "湘A·12345", "vip": True}))
    assert isinstance(env, Envelope)
    assert env.message == CarIn(plate="湘A·12345", vip=True, count=1)
    assert len(env.message.plate) == 8
    long_plate = _refused(_frames(header={"type": "car_in"}, body={"plate": "湘A·12345" * 2 + "6"}))
    assert long_plate.code == "E_SCHEMA" and long_plate.params["problem_key"] == "problem.too_long"


@pytest.mark.parametrize("body", [{"occupied": 0}, {"occupied": 80}, {"occupied": 100_000}, {"delta": -3},
                                  {"delta": 5}, {"full": True}, {"occupied": 12, "delta": 0, "full": False}])
def test_lot_occupancy_exactly_one_mode_is_accepted(body: dict) -> None:
    env = check_outcome(_frames(header={"type": "lot_occupancy"}, body={"lot": "p1", **body}))
    assert isinstance(env, Envelope) and isinstance(env.message, LotOccupancy)


@pytest.mark.parametrize("body", [{}, {"occupied": 3, "delta": 1}, {"delta": 1, "full": True},
                                  {"occupied": 3, "full": True}, {"occupied": 3, "delta": -1, "full": True},
                                  {"occupied": -1, "delta": 0, "full": False}])
def test_lot_occupancy_needs_exactly_one_mode(body: dict) -> None:
    err = _refused(_frames(header={"type": "lot_occupancy"}, body={"lot": "p1", **body}))
    assert err.code == "E_SCHEMA" and err.params["problem_key"] == "problem.lot_mode"
    assert err.en == "The occupied spaces is wrong: give exactly one of: an exact count, a change, or full."


@pytest.mark.parametrize("body,problem", [({"occupied": -2}, "problem.too_small"),
                                          ({"occupied": 100_001}, "problem.too_large"),
                                          ({"delta": 1001}, "problem.too_large"),
                                          ({"full": "yes"}, "problem.not_bool")])
def test_lot_occupancy_ranges(body: dict, problem: str) -> None:
    err = _refused(_frames(header={"type": "lot_occupancy"}, body={"lot": "p1", **body}))
    assert err.params["problem_key"] == problem


def test_missing_optional_fields_take_their_defaults() -> None:
    env = check_outcome(_frames(body={}))
    assert isinstance(env, Envelope) and env.message == GuestArrival()
    assert env.header == Header(type="guest_arrival")


def test_canonical_body_is_sorted_compact_utf8() -> None:
    assert codec.canonical({"b": 1, "a": "湘"}) == '{"a":"湘","b":1}'


def test_sample_text_has_no_refused_characters() -> None:
    # the builder's sample string must itself be valid, or the round trips prove little
    assert not codec._CONTROL.search("湘A·12345 样本\t✓\n")
    assert all(not codec._CONTROL.search(c) for c in string.printable if c not in "\r\x0b\x0c")


# --- PROTOCOL.md cannot drift from the code ----------------------------------------------------

def test_protocol_md_tables_equal_the_generator() -> None:
    text = spec_tables.SPEC_PATH.read_text("utf-8")
    found = spec_tables.blocks_in(text)
    fresh = spec_tables.blocks()
    assert sorted(found) == sorted(fresh), "PROTOCOL.md lacks or has extra generated blocks"
    for name, body in fresh.items():
        assert found[name] == body, (f"PROTOCOL.md block {name!r} is stale: run "
                                     "`python -m protocols.spec_tables --write`")
    assert spec_tables.refresh(text) == text


def test_generator_main_prints_every_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert spec_tables.main([]) == 0
    printed = capsys.readouterr().out
    assert spec_tables.blocks_in(printed) == spec_tables.blocks()


def test_every_field_of_every_type_is_in_the_spec() -> None:
    tables = spec_tables.blocks()["messages"]
    for type_, specs in SPECS.items():
        assert f"#### `{type_}`" in tables
        for spec in specs:
            assert f"| `{spec.name}` |" in tables


def test_worked_example_is_a_real_encoding() -> None:
    ex = spec_tables.EXAMPLE
    frames = encode(ex["message"], station=ex["station"], epoch=ex["epoch"], seq=ex["seq"], sent_ms=ex["sent_ms"])
    block = spec_tables.blocks()["example"]
    for frame in frames[1:]:
        first_row = frame[:16].hex(" ")
        assert first_row in block
    assert decode(frames).message == ex["message"]


def test_invisible_format_characters_are_refused():
    """Bidi overrides and zero-width marks could disguise text on the desk (P8): refused like controls."""
    for bad in ("A\u202eB", "x\u200by", "line\u2028break", "\ufeffbom", "iso\u2066late"):
        frames = codec.encode(IncidentReport(kind="fire", note=bad), "gate-1", "e", 1, 1)
        with pytest.raises(codec.ProtocolError) as err:
            codec.decode(frames)
        assert err.value.code == "E_SCHEMA" and "note" in err.value.en


# Issue 14, item 19: the invisible characters that were still let through.
ISSUE_19 = ["\u061c", "\u00ad", "\u034f", "\u115f", "\u1160", "\u3164", "\u180e", "\ufe00", "\ufe0f", "\ufff9",
            "\ufffb", "\U000e0001", "\U000e007f"]


@pytest.mark.parametrize("ch", ISSUE_19, ids=[f"U+{ord(c):04X}" for c in ISSUE_19])
def test_the_invisible_characters_of_issue_19_are_refused(ch: str) -> None:
    err = _refused(_frames(body={"note": f"看{ch}不见"}))
    assert err.code == "E_SCHEMA" and err.params["problem_key"] == "problem.control"
    assert ch not in err.en and ch not in err.zh


def test_the_refused_characters_are_one_table_for_the_check_and_the_spec() -> None:
    limits = spec_tables.blocks()["limits"]
    for low, high, why in codec.REFUSED_CHARS:
        assert codec._CONTROL.fullmatch(chr(low)) and codec._CONTROL.fullmatch(chr(high))
        assert f"U+{low:04X}" in limits and why in limits
    assert not codec._CONTROL.search("湘A·12345 样本\t✓\n")


# Issue 14, items 6 and 7: a key given twice, a key that is not text, and how a refused value is named.

def test_a_body_with_a_key_given_twice_is_refused_whichever_value_comes_first() -> None:
    for body in (b"\x82\xa5count\x01\xa5count\x02", b"\x82\xa5count\x02\xa5count\x01"):
        err = _refused(_frames(raw_body=body))
        assert err.code == "E_SCHEMA" and err.params["problem_key"] == "problem.duplicate_key"
        assert '"count"' in err.en and "“count”" in err.zh
    head = b"\x83\xa4type\xa6car_in\xa3seq\x01\xa3seq\x02"
    assert _refused(_frames(raw_header=head)).code == "E_HEADER"
    big = {f"k{i}": i for i in range(20)}          # a map16 header: counted the same way
    packed = msgpack.packb(big)
    assert packed[0] == 0xDE and codec._unpack(packed, "body") == big


@pytest.mark.parametrize("key", [b"colour", 7, 1.5])
def test_a_key_that_is_not_text_is_named_in_words(key: Any) -> None:
    err = _refused(_frames(raw_body=msgpack.packb({"count": 1, key: 1}, use_bin_type=True)))
    assert err.params["problem_key"] == "problem.key_not_text"
    assert "b'" not in err.en and "colour" not in err.en


@pytest.mark.parametrize("value,en,zh", [(None, "got nothing", "收到 空值"), ([1], "got a list", "收到 列表"),
                                         ({"a": 1}, "got a table of fields", "收到 键值表"),
                                         (b"x", "got binary data", "收到 二进制数据"), (3.0, "got 3.0", "收到 3.0"),
                                         ("三", 'got "三"', "收到 “三”"), (True, "got yes", "收到 “是”")])
def test_a_refused_value_is_named_as_a_person_would(value: Any, en: str, zh: str) -> None:
    err = _refused(_frames(body={"count": value}))
    assert en in err.en and zh in err.zh, (err.en, err.zh)


def test_a_version_name_is_shown_only_when_it_is_one() -> None:
    assert "(EVENTDESK/2)" in _refused([b"EVENTDESK/2", b"\x80", b"\x80"]).en
    shown = _refused([b"\x1b[2J\x00\xff", b"\x80", b"\x80"])
    assert "unreadable data" in shown.en and "\x1b" not in shown.en and "无法识别的数据" in shown.zh
