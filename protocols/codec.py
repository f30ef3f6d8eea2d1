"""encode/decode: messages to ZeroMQ frames and back, exact inverses, total on any input.

Order of checks on the way in, cheapest first: the signature frame, the frame count, the
size, the header, the type, and only then the body against the message's schema. Anything
wrong becomes one ProtocolError with a code and a sentence in both languages.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

import msgpack

from protocols import i18n
from protocols.bounds import topic_frame
from protocols.messages import MAX_TEXT, REGISTRY, Message, body_of

SIGNATURE = b"EVENTDESK/1"
MAX_BYTES = 64 * 1024
MAX_SEQ = 2**62
# Characters refused in every string, as inclusive code point ranges: the C0 and C1 controls and
# DEL (tab and newline are allowed) and the invisible ones that can hide, reorder or disguise text
# on a screen. Nothing a person types; everything an escape-sequence or spoofing attack needs.
# One table drives the check and PROTOCOL.md.
REFUSED_CHARS: tuple[tuple[int, int, str], ...] = (
    (0x0000, 0x0008, "C0 controls"), (0x000B, 0x001F, "C0 controls"), (0x007F, 0x009F, "DEL and C1 controls"),
    (0x00AD, 0x00AD, "soft hyphen"), (0x034F, 0x034F, "combining grapheme joiner"),
    (0x061C, 0x061C, "Arabic letter mark"), (0x115F, 0x1160, "Hangul fillers"),
    (0x180E, 0x180E, "Mongolian vowel separator"), (0x200B, 0x200F, "zero-width characters and direction marks"),
    (0x2028, 0x202E, "line and paragraph separators, bidi embeddings and overrides"),
    (0x2060, 0x2069, "word joiner, invisible operators, bidi isolates"), (0x3164, 0x3164, "Hangul filler"),
    (0xFE00, 0xFE0F, "variation selectors"), (0xFEFF, 0xFEFF, "zero-width no-break space, BOM"),
    (0xFFA0, 0xFFA0, "halfwidth Hangul filler"), (0xFFF9, 0xFFFB, "interlinear annotation marks"),
    (0xE0000, 0xE007F, "tag characters"),
)
_CONTROL = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b, _ in REFUSED_CHARS) + "]")
# An epoch: printable ASCII without spaces (U+0021-U+007E), so it reads the same in every log and tool.
_EPOCH = re.compile("[!-~]*")

RETRYABLE = frozenset({"E_RATE", "E_STORAGE", "E_GAP", "E_EPOCH", "E_PASSIVE"})


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
    """Fill the error's template; `<name>_key` params are catalogue keys shown in `lang` (filled from the plain params)."""
    plain = {k: v for k, v in params.items() if not k.endswith("_key") and k != "inner"}
    for name, key in params.items():
        if not name.endswith("_key") or name == "problem_key":
            continue
        name = name[:-4]
        key = f"field.{key}" if name == "field" else str(key)
        fallback = key.split(".", 1)[1] if name == "field" else key
        plain[name] = i18n.t(key, lang, **plain) if i18n.has(key) else fallback
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


def printable(text: str, limit: int = 40) -> str:
    """Text from the wire made safe to quote in a sentence or a log line: refused characters and
    line breaks become "?", and it is cut to `limit` characters."""
    text = _CONTROL.sub("?", text).replace("\n", "?").replace("\t", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def value_words(value: Any) -> dict[str, Any]:
    """How a refused value is named in a sentence, as ProtocolError params: the value itself where a
    person can read it (a number, a short text), else what kind of thing it was, in words from the
    catalogue. Never a Python repr: staff read these sentences."""
    kind = type(value)
    if kind is bool:
        return {"got_key": "value.yes" if value else "value.no"}
    if kind is int:
        return {"got": str(value)} if abs(value) < 10**20 else {"got_key": "value.huge"}
    if kind is float:
        return {"got": repr(value)}   # 3.0, not 3: the point is that it is not a whole number
    if kind is str:
        return {"got_key": "value.text", "text": printable(value)}
    return {"got_key": _KIND_WORDS.get(kind, "value.other")}


_KIND_WORDS = {type(None): "value.nothing", bytes: "value.bytes", list: "value.list", tuple: "value.list",
               dict: "value.map"}


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
            raise schema_error(spec.name, "problem.not_int", **value_words(value))
        if spec.lo is not None and value < spec.lo:
            raise schema_error(spec.name, "problem.too_small", min=spec.lo, got=value)
        if spec.hi is not None and value > spec.hi:
            raise schema_error(spec.name, "problem.too_large", max=spec.hi, got=value)
    elif kind == "str":
        if type(value) is not str:
            raise schema_error(spec.name, "problem.not_str", **value_words(value))
        if spec.max_len is not None and len(value) > spec.max_len:
            raise schema_error(spec.name, "problem.too_long", max=spec.max_len, got=len(value))
        if _CONTROL.search(value):
            raise schema_error(spec.name, "problem.control")
    elif kind == "bool":
        if type(value) is not bool:
            raise schema_error(spec.name, "problem.not_bool", **value_words(value))
    elif kind == "map":
        if type(value) is not dict:
            raise schema_error(spec.name, "problem.not_map", **value_words(value))
    elif kind == "list":
        if type(value) is not list:
            raise schema_error(spec.name, "problem.not_list", **value_words(value))
    elif kind == "bin":
        if type(value) is not bytes:
            raise schema_error(spec.name, "problem.not_bytes", **value_words(value))
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(str(c) for c in spec.choices if c != "")
        raise schema_error(spec.name, "problem.choice", options=shown, **value_words(value))
    return value


def build(type_: str, body: Any) -> Message:
    """Validate a decoded body for `type_` and return the message; E_TYPE or E_SCHEMA otherwise."""
    cls = REGISTRY.get(type_)
    if cls is None:
        raise ProtocolError("E_TYPE", **value_words(type_))
    if type(body) is not dict:
        raise schema_error("body", "problem.not_map", **value_words(body))
    names = _NAMES[type_]
    for key in body:
        if key not in names:
            _key_check(body, "body")
            raise schema_error(printable(key), "problem.unknown_field")
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


def _declared_pairs(data: bytes) -> int | None:
    """How many pairs a packed map says it holds (its header), or None when `data` is not a map."""
    first = data[0] if data else 0
    if 0x80 <= first <= 0x8F:
        return first & 0x0F
    if first == 0xDE and len(data) >= 3:
        return int.from_bytes(data[1:3], "big")
    if first == 0xDF and len(data) >= 5:
        return int.from_bytes(data[1:5], "big")
    return None


def _unpack(data: bytes, what: str) -> Any:
    """One header or body. A map that holds a key twice is refused: decoders differ on which of the two
    they keep, so two readers would see two different reports. (Keys that are not text are refused by
    the schema checks that read every key.)"""
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
    except Exception:  # msgpack raises many types on garbage; all mean the same to the person reading it
        err = schema_error(what, "problem.undecodable")
    else:
        if type(value) is not dict or len(value) == _declared_pairs(data):
            return value
        err = schema_error(what, "problem.duplicate_key", name=_twice(data))
    raise (err if what == "body" else ProtocolError("E_HEADER", inner=err)) from None


def _twice(data: bytes) -> str:
    """The first key a map holds twice, made printable (read again, slowly: this is the refusal's path)."""
    seen: set = set()
    for key, _ in msgpack.unpackb(data, raw=False, strict_map_key=False, object_pairs_hook=list):
        if key in seen:
            return printable(str(key))
        seen.add(key)
    return ""


def _key_check(keys: Any, what: str) -> None:
    for key in keys:
        if type(key) is not str:
            raise schema_error(what, "problem.key_not_text")


def decode_header(data: bytes) -> Header:
    raw = _unpack(data, "header")
    if type(raw) is not dict:
        raise ProtocolError("E_HEADER", inner=schema_error("header", "problem.not_map", **value_words(raw)))
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
                _key_check(raw, "header")
                raise schema_error(printable(key), "problem.unknown_field")
        if not _EPOCH.fullmatch(values["epoch"]):
            raise schema_error("epoch", "problem.epoch")
    except ProtocolError as exc:
        raise ProtocolError("E_HEADER", inner=exc) from None
    return Header(**values)


def decode(frames: Sequence[bytes], max_bytes: int = MAX_BYTES) -> Envelope:
    """Frames `[signature, header, body]` to an Envelope, or ProtocolError. Never anything else."""
    if not frames or bytes(frames[0]) != SIGNATURE:
        first = bytes(memoryview(frames[0])[:24]) if frames else b""  # zmq.Frame has no slicing
        raise ProtocolError("E_VERSION", **_version_words(first))
    if len(frames) != 3:
        raise ProtocolError("E_FRAMES", got=len(frames), shape_key="frames.few" if len(frames) < 3 else "frames.many")
    size = sum(len(f) for f in frames)
    if size > max_bytes:
        raise ProtocolError("E_SIZE", got=size, limit=max_bytes, advice_key=_size_advice(frames[1]))
    header = decode_header(bytes(frames[1]))
    if header.type not in REGISTRY:
        raise ProtocolError("E_TYPE", **value_words(header.type))
    body = _unpack(bytes(frames[2]), "body")
    return Envelope(header, build(header.type, body))


def _version_words(first: bytes) -> dict[str, Any]:
    """Frame 0 of a message of another version, as words: its name when it reads as one, else "unreadable"."""
    if 0 < len(first) <= 20 and all(0x21 <= b <= 0x7E for b in first):
        return {"got": first.decode("ascii")}
    return {"got_key": "value.unreadable"}


def _size_advice(header: bytes) -> str:
    """What the person who made an oversized report can do: shorten its text when it has free text, else
    have the terminal checked (a report without free text can only be that large through a faulty terminal)."""
    try:
        cls = REGISTRY.get(decode_header(bytes(header)).type)
    except ProtocolError:
        cls = None
    free_text = cls is not None and any(s.kind == "str" and (s.max_len or 0) >= MAX_TEXT for s in SPECS[cls.TYPE])
    return "advice.shorten" if free_text else "advice.check_terminal"


def unpack(data: bytes, what: str = "body") -> Any:
    """One MessagePack value read with the wire's rules (a map's keys each once); E_SCHEMA if it cannot be.
    For what a client joins from pages, such as a snapshot's `data`."""
    return _unpack(data, what)


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def encode(message: Message, station: str = "", epoch: str = "", seq: int = 0, sent_ms: int = 0) -> list[bytes]:
    """A message to its three frames; `decode(encode(m, ...)).message == m`."""
    return encode_body(message.TYPE, body_of(message), station, epoch, seq, sent_ms)


def encode_body(type_: str, body: Any, station: str = "", epoch: str = "", seq: int = 0, sent_ms: int = 0) -> list[bytes]:
    """The three frames of a body already in its wire form (a saved report's, checked when it was saved)."""
    header = {"type": type_, "station": station, "epoch": epoch, "seq": seq, "sent_ms": sent_ms}
    return [SIGNATURE, pack(header), pack(body)]


def encode_envelope(env: Envelope) -> list[bytes]:
    h = env.header
    return encode(env.message, h.station, h.epoch, h.seq, h.sent_ms)


def encode_topic(topic: str, message: Message, **header: Any) -> list[bytes]:
    """A PUB message: the topic frame (`bounds.topic_frame`), then the usual three frames."""
    return [topic_frame(topic), *encode(message, **header)]


def size_of(message: Message, station: str = "", epoch: str = "", seq: int = 0, sent_ms: int = 0) -> int:
    return sum(len(f) for f in encode(message, station, epoch, seq, sent_ms))


# Built once: json.dumps with options makes a new encoder per call, which shows in the hub's profile.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(body: dict[str, Any]) -> str:
    """The stored form of a body: JSON with sorted keys, so equal bodies compare equal as text."""
    return _CANONICAL.encode(body)
