"""encode/decode: messages to ZeroMQ frames and back, exact inverses, total on any input.

Order of checks on the way in, cheapest first: the signature frame, the frame count, the
size, the header, the type, and only then the body against the message's schema. Anything
wrong becomes one ProtocolError with a code and a sentence in both languages.
"""
from __future__ import annotations

import dataclasses
import json
import re
import reprlib
from dataclasses import dataclass
from typing import Any, Sequence

import msgpack

from protocols import i18n
from protocols.messages import REGISTRY, Message, body_of

SIGNATURE = b"EVENTDESK/1"
MAX_BYTES = 64 * 1024
MAX_SEQ = 2**62
# C0 and C1 controls (bar tab and newline), DEL, and the invisible format characters that can
# reorder or hide text on screen (bidi overrides and isolates, zero-width marks, line/paragraph
# separators, BOM): nothing a person types, everything an escape-sequence or spoofing attack needs.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")

RETRYABLE = frozenset({"E_RATE", "E_STORAGE", "E_GAP"})


class ProtocolError(Exception):
    """A message that cannot be accepted: a code from PROTOCOL.md and a sentence in zh and en.

    `params` may hold catalogue keys under names ending in `_key` (a field label, a problem);
    they are translated into the sentence's own language.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        self.en = _sentence(code, "en", params)
        self.zh = _sentence(code, "zh", params)
        super().__init__(f"{code}: {self.en}")

    @property
    def retry(self) -> bool:
        return self.code in RETRYABLE

    def sentence(self, lang: str) -> str:
        return self.zh if i18n.normalise_lang(lang) == "zh" else self.en


def _sentence(code: str, lang: str, params: dict[str, Any]) -> str:
    """Fill the error's template; `<name>_key` params are catalogue keys shown in `lang`."""
    plain = {k: v for k, v in params.items() if not k.endswith("_key") and k != "inner"}
    for name, key in params.items():
        if not name.endswith("_key") or name == "problem_key":
            continue
        name = name[:-4]
        key = f"field.{key}" if name == "field" else str(key)
        fallback = key.split(".", 1)[1] if name == "field" else key
        plain[name] = i18n.t(key, lang) if i18n.has(key) else fallback
    if "problem_key" in params:
        plain["problem"] = i18n.t(params["problem_key"], lang, **plain)
    if "inner" in params:
        inner: ProtocolError = params["inner"]
        plain["problem"] = inner.sentence(lang)
    return i18n.t(f"error.{code}", lang, **plain)


def schema_error(field: str, problem: str, **params: Any) -> ProtocolError:
    """E_SCHEMA naming the field in words and the problem, in both languages."""
    return ProtocolError("E_SCHEMA", field_key=field, problem_key=problem, **params)


@dataclass(frozen=True, slots=True)
class Header:
    type: str
    station: str = ""
    epoch: str = ""
    seq: int = 0
    sent_ms: int = 0


@dataclass(frozen=True, slots=True)
class Envelope:
    header: Header
    message: Message


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40


def _shown(value: Any) -> str:
    """A short repr for a sentence; bounded in depth, since a builtin repr of a body nested
    ~1000 deep raises RecursionError (msgpack unpacks up to 1024 levels)."""
    text = _REPR.repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    kind: str
    required: bool
    default: Any
    lo: int | None
    hi: int | None
    max_len: int | None
    choices: tuple | None


def _specs(cls: type) -> tuple[_Spec, ...]:
    out = []
    for f in dataclasses.fields(cls):
        m = f.metadata
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if required else (f.default if f.default is not dataclasses.MISSING else f.default_factory())
        out.append(_Spec(f.name, m["kind"], required, default, m.get("min"), m.get("max"),
                         m.get("max_len"), m.get("choices")))
    return tuple(out)


SPECS: dict[str, tuple[_Spec, ...]] = {t: _specs(c) for t, c in REGISTRY.items()}
_NAMES: dict[str, frozenset[str]] = {t: frozenset(s.name for s in specs) for t, specs in SPECS.items()}


def check_value(spec: _Spec, value: Any) -> Any:
    """Return the value if it fits the spec, else raise E_SCHEMA naming the field."""
    kind = spec.kind
    if kind == "int":
        if type(value) is not int:
            raise schema_error(spec.name, "problem.not_int", got=_shown(value))
        if spec.lo is not None and value < spec.lo:
            raise schema_error(spec.name, "problem.too_small", min=spec.lo, got=value)
        if spec.hi is not None and value > spec.hi:
            raise schema_error(spec.name, "problem.too_large", max=spec.hi, got=value)
    elif kind == "str":
        if type(value) is not str:
            raise schema_error(spec.name, "problem.not_str", got=_shown(value))
        if spec.max_len is not None and len(value) > spec.max_len:
            raise schema_error(spec.name, "problem.too_long", max=spec.max_len, got=len(value))
        if _CONTROL.search(value):
            raise schema_error(spec.name, "problem.control")
    elif kind == "bool":
        if type(value) is not bool:
            raise schema_error(spec.name, "problem.not_bool", got=_shown(value))
    elif kind == "map":
        if type(value) is not dict:
            raise schema_error(spec.name, "problem.not_map", got=type(value).__name__)
    elif kind == "list":
        if type(value) is not list:
            raise schema_error(spec.name, "problem.not_list", got=type(value).__name__)
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(str(c) for c in spec.choices if c != "")
        raise schema_error(spec.name, "problem.choice", options=shown, got=_shown(value))
    return value


def build(type_: str, body: Any) -> Message:
    """Validate a decoded body for `type_` and return the message; E_TYPE or E_SCHEMA otherwise."""
    cls = REGISTRY.get(type_)
    if cls is None:
        raise ProtocolError("E_TYPE", got=_shown(type_))
    if type(body) is not dict:
        raise schema_error("body", "problem.not_map", got=type(body).__name__)
    names = _NAMES[type_]
    for key in body:
        if key not in names:
            raise schema_error(str(key)[:40], "problem.unknown_field")
    values = {}
    for spec in SPECS[type_]:
        if spec.name in body:
            values[spec.name] = check_value(spec, body[spec.name])
        elif spec.required:
            raise schema_error(spec.name, "problem.missing")
        else:
            values[spec.name] = spec.default
    msg = cls(**values)
    problem = getattr(msg, "problem", None)
    if problem is not None:
        found = problem()
        if found is not None:
            raise schema_error(found[0], found[1], **found[2])
    return msg


_HEADER_SPECS = (
    _Spec("type", "str", True, None, None, None, 64, None),
    _Spec("station", "str", False, "", None, None, 64, None),
    _Spec("epoch", "str", False, "", None, None, 64, None),
    _Spec("seq", "int", False, 0, 0, MAX_SEQ, None, None),
    _Spec("sent_ms", "int", False, 0, 0, MAX_SEQ, None, None),
)


def _unpack(data: bytes, what: str) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises many types on garbage; all mean the same here
        err = schema_error(what, "problem.undecodable", detail=type(exc).__name__)
        raise (err if what == "body" else ProtocolError("E_HEADER", inner=err)) from None


def decode_header(data: bytes) -> Header:
    raw = _unpack(data, "header")
    if type(raw) is not dict:
        raise ProtocolError("E_HEADER", inner=schema_error("header", "problem.not_map", got=type(raw).__name__))
    try:
        values = {}
        for spec in _HEADER_SPECS:
            if spec.name in raw:
                values[spec.name] = check_value(spec, raw[spec.name])
            elif spec.required:
                raise schema_error(spec.name, "problem.missing")
            else:
                values[spec.name] = spec.default
        for key in raw:
            if key not in values:
                raise schema_error(str(key)[:40], "problem.unknown_field")
    except ProtocolError as exc:
        raise ProtocolError("E_HEADER", inner=exc) from None
    return Header(**values)


def decode(frames: Sequence[bytes], max_bytes: int = MAX_BYTES) -> Envelope:
    """Frames `[signature, header, body]` to an Envelope, or ProtocolError. Never anything else."""
    if not frames or bytes(frames[0]) != SIGNATURE:
        got = bytes(memoryview(frames[0])[:20]) if frames else b""  # zmq.Frame has no slicing
        raise ProtocolError("E_VERSION", got=_shown(got))
    if len(frames) != 3:
        raise ProtocolError("E_FRAMES", got=len(frames))
    size = sum(len(f) for f in frames)
    if size > max_bytes:
        raise ProtocolError("E_SIZE", got=size, limit=max_bytes)
    header = decode_header(bytes(frames[1]))
    if header.type not in REGISTRY:
        raise ProtocolError("E_TYPE", got=_shown(header.type))
    body = _unpack(bytes(frames[2]), "body")
    return Envelope(header, build(header.type, body))


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def encode(message: Message, station: str = "", epoch: str = "", seq: int = 0, sent_ms: int = 0) -> list[bytes]:
    """A message to its three frames; `decode(encode(m, ...)).message == m`."""
    header = {"type": message.TYPE, "station": station, "epoch": epoch, "seq": seq, "sent_ms": sent_ms}
    return [SIGNATURE, pack(header), pack(body_of(message))]


def encode_envelope(env: Envelope) -> list[bytes]:
    h = env.header
    return encode(env.message, h.station, h.epoch, h.seq, h.sent_ms)


def encode_topic(topic: str, message: Message, **header: Any) -> list[bytes]:
    """A PUB message: the topic frame, then the usual three frames."""
    return [topic.encode("utf-8"), *encode(message, **header)]


def size_of(message: Message, station: str = "", epoch: str = "", seq: int = 0, sent_ms: int = 0) -> int:
    return sum(len(f) for f in encode(message, station, epoch, seq, sent_ms))


# Built once: json.dumps with options makes a new encoder per call, which shows in the hub's profile.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(body: dict[str, Any]) -> str:
    """The stored form of a body: JSON with sorted keys, so equal bodies compare equal as text."""
    return _CANONICAL.encode(body)
