"""The tables of PROTOCOL.md, generated from the code so the spec cannot drift from it.

Reads protocols.messages (REGISTRY, ALLOWED), protocols.codec (SPECS, header specs, limits,
retryable codes) and the catalogue; writes Markdown. Knows no sockets and no storage.
`python -m protocols.spec_tables` prints every block; `--write` refreshes PROTOCOL.md in place.
A test checks that the blocks in PROTOCOL.md equal this output.
"""
from __future__ import annotations

import json
import re
import struct
import sys
from pathlib import Path
from typing import Any, Callable

from protocols import bounds, codec, i18n
from protocols.messages import ALLOWED, CONTROL, POSTS, REGISTRY, CarIn

SPEC_PATH = Path(__file__).with_name("PROTOCOL.md")
BEGIN = "<!-- BEGIN generated:{name} (python -m protocols.spec_tables --write; do not edit by hand) -->"
END = "<!-- END generated:{name} -->"
_BLOCK = re.compile(r"<!-- BEGIN generated:([a-z_]+) [^\n]*-->\n(.*?)\n<!-- END generated:\1 -->", re.S)

KINDS = {
    "control": "control — either direction, never stored",
    "reply": "hub to client — replies on the ROUTER, publications on the PUB",
    "report": "report — a station to the hub, stored in the log",
    "action": "action — a desk to the hub, stored in the log",
    "hub": "hub — written into the log by the hub itself, seen on the `feed`",
}

# What each field means: by name, or by (type, name) where one name means different things.
MEANING: dict[str | tuple[str, str], str] = {
    "role": "`station` for a post terminal, `desk` for a command desk; must match the key's role",
    "app": "free name and version of the client program, for the logs",
    "outbox": "reports waiting in the sender's outbox (not yet acknowledged); shown on the desk",
    ("welcome", "station"): "the station (or desk) id bound to the client's CURVE key",
    "post": "the station's post (`desk` for a desk)",
    "server_ms": "the hub's clock when it sent this, epoch ms",
    "heartbeat_ms": "heartbeat interval the client must use from now on",
    "last_seq": "highest seq the hub has handled (stored or finally rejected) for this station and the hello's epoch",
    "drill": "true when the hub runs a rehearsal log, not the live event",
    "event": "event summary: name, name_en, date, doors_open, lang, timezone, stations, lots, zones, departments, late_ms, offline_ms, "
             "doors_open_ms, vip_ack_ms, sendoff_ack_ms, sendoff_lead_min, tasks, roster (this station's entries only) and guests {digest, count}",
    "instructions": "instructions still open for this station, each a map with the fields of an `event` message whose `type` is `instruction`",
    "epoch": "the epoch of the report this answers",
    ("ack", "seq"): "the seq of the report this answers",
    ("nack", "seq"): "the seq of the report this answers (0 if the header could not be read)",
    ("ack", "gseq"): "global sequence the report got in the log (its id, e.g. an incident number)",
    "duplicate": "true when this report was stored before and this is a re-acknowledgement",
    ("nack", "code"): "error code, see Error codes",
    ("nack", "reason"): "the sentence to show, in English",
    "reason_zh": "the same sentence in Chinese",
    "retry": "true: keep the report and send it again later; false: it is finally rejected",
    "expected": "with E_GAP: the seq the hub expects next; resend from there",
    ("snapshot", "gseq"): "the picture includes every event up to and including this gseq",
    ("event", "gseq"): "global sequence number in the log, from 1, no gaps",
    ("event", "station"): "who sent it (station or desk id, or `hub`)",
    ("event", "epoch"): "the sender's epoch",
    ("event", "seq"): "the sender's seq",
    ("event", "type"): "the stored message type",
    "station_ms": "the header `sent_ms` of the stored message",
    "recv_ms": "the hub's clock when it committed the event, epoch ms",
    ("event", "body"): "the stored body, every field present (defaults filled in)",
    "stations": "station id -> {last_heard_ms, outbox, status}",
    "count": "how many people",
    ("car_in", "count"): "how many cars",
    ("car_out", "count"): "how many cars",
    ("guest_expect", "guest_ref"): "the guest's list reference (a listed guest not here yet)",
    ("guest_expect", "arrive_ms"): "the new expected arrival, epoch ms; \"late\" (延迟) counts from the newest",
    ("guest_expect", "note"): "why it moved (free text: 航班延误, 堵车 …)",
    ("guest_add", "name"): "who leads the party, as staff will greet them",
    ("guest_add", "org"): "their organisation",
    ("guest_add", "level"): "reception level: A or B get the VIP hand-off",
    ("guest_add", "party"): "how many people",
    ("guest_add", "host"): "the host (陪同), by name or staff number",
    ("guest_add", "plate"): "their car's plate, if known (the gate's plate then finds them; 贵宾放行 lets it through a hold)",
    ("guest_add", "at"): "where the party is now (`\"\"`: not here yet); the hand-off goes to the posts after it",
    ("guest_add", "arrive_ms"): "when a party not here yet is expected, epoch ms (0: unknown)",
    ("guest_add", "note"): "anything staff should know (free text; kept as the guest's notes)",
    ("car_in", "release"): "贵宾放行: a listed VIP car let in during a hold (needs `vip`, a plate, `count` 1; the hub "
                           "refuses a plate the guest list does not give to a level A or B guest); see Holding the gate",
    ("zone_count", "count"): "people in the zone now (absolute)",
    ("sendoff_notice", "count"): "how many guests are about to leave (0: unknown, or the listed party's size)",
    ("sendoff_notice", "guest_ref"): "the leaving party's guest list reference (empty: a walk-in party)",
    ("sendoff_notice", "vip"): "a walk-in party to see off as a VIP (a listed guest's level decides for it)",
    ("sendoff_notice", "note"): "who is leaving, in the sender's words (a walk-in party's only name)",
    "guest_ref": "guest list reference, if known",
    "vip_level": "reception level, empty for none",
    "note": "free text from the post",
    "name": "guest's name",
    "party_size": "people in the party, the guest included",
    "plate": "licence plate as written, e.g. 湘A·12345",
    "vip": "the car carries a VIP",
    "lot": "lot id from event.toml `[[lots]]`",
    "occupied": "exact number of occupied spaces (-1: not given)",
    "delta": "change in occupied spaces (0: not given)",
    "full": "the lot is full: set occupancy to capacity",
    "space": "space number or label",
    "zone": "zone id from event.toml `[[zones]]`",
    "service": "what is needed",
    "where": "where it is needed or where it happened",
    ("service_update", "call"): "the service call: the gseq its `service_request` was acked with",
    ("service_update", "status"): "`taken` (已接单), `done` (已完成) or `cancelled` (已取消; `note` must give the reason)",
    ("service_update", "by"): "who took, finished or cancelled it (a name or staff number; empty: the sender's post)",
    ("service_update", "note"): "free text; the reason when cancelling",
    "person": "who is signed in at the terminal that confirms or signs off (its latest staff_signin, a name or staff "
              "number); empty: nobody, or an older terminal, and the hub names whoever it has signed in there",
    "item": "what was damaged or lost",
    "loss": "true: lost; false: damaged",
    "kind": "incident kind",
    "severity": "1 low, 2 medium, 3 high, 4 critical",
    "location": "where the incident is",
    "incident": "the incident's id (the gseq of its incident_report or incident_open)",
    ("incident_update", "status"): "new status (empty: unchanged)",
    "assign": "department to own it (empty: unchanged)",
    "instruction": "the instruction's id (the gseq of the instruction)",
    "source": "how the desk learned of it",
    "target": "`all`, `post.<post>` or `station.<id>`",
    ("instruction", "text"): "what the posts should do",
    "ack_required": "the receiving stations must answer with instruction_ack",
    ("note", "text"): "the note",
    "department": "department it concerns (empty: none)",
    ("hub_started", "previous"): "`first` (a new log), `stop` (the hub had stopped cleanly) or `crash` (it had not)",
    ("hub_started", "down_from_ms"): "since when the hub took nothing in: its clean stop, or the last moment it was known alive",
    ("station_clock", "station"): "the station whose clock was estimated",
    ("station_clock", "offset_ms"): "the hub's clock minus the station's, ms (positive: the station's clock is slow)",
    ("station_clock", "delay_ms"): "how much the samples' one-way delays vary: the estimate's doubt, ms",
    ("station_status", "station"): "the station whose liveness changed",
    ("station_status", "status"): "its liveness now",
    "last_heard_ms": "when the hub last heard from it, epoch ms",
    ("alarm", "code"): "the error code that raised it (E_IDENTITY, E_CONFLICT, ...)",
    ("alarm", "station"): "the station concerned",
    ("alarm", "reason"): "what happened, in English",
    ("alarm", "reason_zh"): "the same in Chinese",
    ("alarm", "count"): "how many times it happened since `first_ms` (a repeat of the same cause updates the alarm)",
    ("alarm", "first_ms"): "when this cause was first seen; an alarm with the same station, code and first_ms updates that one",
    ("alarm", "last_ms"): "when it was last seen",
    "instructions_more": "true: more open instructions than fit; ask for them with instructions_request after the last gseq here",
    "limits": "what the hub allows and promises, see 4.3: max_message_bytes, reply_max_bytes, page_max_bytes, feed_max_bytes, rate_per_s, "
              "rate_burst, rate_notice_ms, snapshot_cost, new_epochs_burst, new_epoch_every_ms, ack_timeout_ms, storage_wait_ms",
    ("snapshot_request", "gseq"): "0 for page 0 (the picture as it is now); for a later page, the gseq page 0 answered",
    ("snapshot_request", "page"): "the page wanted, from 0",
    ("snapshot", "page"): "this page's number, from 0",
    ("snapshot", "pages"): "how many pages this snapshot has",
    ("snapshot", "data"): "this page's slice of one MessagePack map; join the pages' data in page order and unpack it",
    ("instructions_request", "after"): "the gseq of the last instruction already received (0: from the start)",
    ("instruction_page", "instructions"): "open instructions after `after`, oldest first, each a map with the fields of an `event` message",
    ("instruction_page", "more"): "true: there are more; ask again after the last gseq here",
    ("event", "cut"): "true: the body was too large for the feed and is left out (`body` is empty); a desk fetches a snapshot",
    # contingency plans
    ("instruction", "text_en"): "the same instruction in English (plan instructions; may be empty)",
    ("instruction", "plan"): "the plan that sent it (empty: not from a plan)",
    ("instruction", "run"): "the plan run it belongs to (the gseq of its plan_started; 0: none)",
    ("instruction", "step"): "the step it asks for, to confirm with plan_step (empty: the stand-down notice)",
    ("instruction", "gate"): "an order to the gate: `hold` stops letting cars in, `resume` lifts its sender's holds (empty: none); see Holding the gate",
    ("presence", "gseq"): "the last gseq committed to the log; a desk whose picture stays behind it for over a second has missed an event and asks for a snapshot",
    "plan": "plan id: the plan file's name, e.g. `fire`",
    ("plan_start", "note"): "why the desk starts it (free text)",
    "run": "the plan run (the gseq of its plan_started)",
    ("plan_stand_down", "run"): "the plan run to stand down, or the plan_proposed to dismiss (its gseq)",
    ("plan_stand_down", "note"): "why, or how it ended (free text)",
    ("drill_clock", "start_ms"): "the scenario's first instant on the event's clock, epoch ms (e.g. 09:00 on the event day)",
    ("drill_clock", "ms_per_s"): "scenario milliseconds per real second: the speed × 1000 (60000 at ×60)",
    ("drill_clock", "scenario"): "the scenario's name, for people reading the log",
    "step": "the step's id within the plan",
    ("plan_step", "status"): "`done`, or `skipped` (then `reason` is required)",
    ("plan_step", "reason"): "why it was skipped, or a remark",
    ("plan_step", "post"): "a desk confirming for one post of the step (\"\": every post not yet confirmed); a station's post is its own",
    ("plan_started", "name"): "the plan's name in Chinese",
    ("plan_proposed", "name"): "the plan's name in Chinese",
    "name_en": "the plan's name in English",
    "owner": "the department that owns the plan",
    "cause": "what set it off: `incident:<id>`, `lot:<id>`, `zone:<id>`, `silent:<station>` or `desk:<gseq of plan_start>`",
    "auto": "true: a trigger started it at once; false: the desk started it",
    "request": "the gseq of the desk's plan_start it answers (0: none)",
    ("plan_started", "note"): "the desk's note from plan_start",
    "steps": "the plan's steps as they were: {id, department, due_s, posts, do, do_en, say, say_en} and, for a step that holds or resumes the gate, gate",
    "all_clear": "the notice sent to the posts when the plan is stood down",
    "all_clear_en": "the same notice in English",
    "due_ms": "the step's target time, epoch ms",
    # readiness, duty roster and guests
    ("instruction", "guest"): "set when the hub hands a guest on: the guest's list reference (empty: none)",
    ("instruction", "notice"): "`vip`: a VIP is arriving, acknowledge in time; `needs`: a guest's special needs; "
                               "`sendoff`: a party is leaving, acknowledge in time (empty: none)",
    ("instruction", "sendoff"): "set on a send-off link: the gseq of the `sendoff_notice` it belongs to (0: none)",
    "task": "task id from event.toml `[[tasks]]`",
    ("task_signoff", "note"): "a remark on the sign-off (free text)",
    ("staff_signin", "name"): "the staff member's name (name or staff_no, or both)",
    ("staff_signout", "name"): "the staff member's name (name or staff_no, or both)",
    "staff_no": "the staff member's number, as on the roster",
    ("guest_list_request", "digest"): "the list version the station holds (empty: none)",
    ("guest_list_request", "page"): "the page wanted, from 0",
    ("guest_page", "digest"): "the version of the list this page belongs to",
    ("guest_page", "page"): "this page's number, from 0",
    "pages": "how many pages the list has; 0 when the station's copy (its digest) is current",
    ("guest_page", "count"): "guests in the whole list",
    ("guest_page", "guests"): "this page's guests: {ref, name, org, level, party, arrive, via, host, needs, needs_note, notes, "
                              "initials, pinyin}",
    ("guest_list", "source"): "the file the list was imported from",
    ("guest_list", "digest"): "the list's version: 16 hex characters that change with any detail",
    ("guest_list", "guests"): "every guest as imported: the guest_page fields plus plate, arrive_ms, phone, escort_phone and the file's row",
    "what": "`handoff`: a VIP notice not acknowledged in time (or the host not on duty); `roster`: a station nobody "
            "signed in at by its start; `task`: a blocking task not signed off by its due time; `sendoff`: a send-off "
            "link not acknowledged in time",
    "ref": "the guest's reference, the roster entry (`<station>/<staff_no or name>`), the task id, or for `sendoff` "
           "the gseq of the `sendoff_notice`",
    ("overdue", "target"): "the hand-off or send-off link (`parking`, `concierge`, `lobby`, `gate`, `host`) or the "
                           "station",
    ("overdue", "due_ms"): "when it was due, epoch ms",
}

# Preparation run from the desk (issue 16 item 6): protocols/messages_prep.py; reserved VIP spaces (item 4).
MEANING.update({
    ("space_assign", "vip"): "one of the lot's reserved VIP spaces (event.toml `[[lots]] vip_spaces`) given to a VIP car; "
                             "the hub refuses a space that is not one, or is taken",
    ("task_add", "title"): "what is to be done, as staff will read it",
    ("task_add", "department"): "the department that owns it (one of the event's)",
    ("task_add", "due_ms"): "when it is due, epoch ms (a clock time on a date, on the event's wall)",
    ("task_add", "blocking"): "必办项: the doors wait for it (GO / NO-GO); must be due by doors-open",
    ("task_add", "owner"): "who answers for it (free text)",
    ("task_change", "task"): "the task: an event.toml `[[tasks]]` id or `T<gseq>` of a `task_add`",
    ("task_change", "department"): "the department it is given to (empty: unchanged)",
    ("task_change", "due_ms"): "its new due time, epoch ms (0: unchanged); a new due time may raise its alarm again",
    ("task_change", "note"): "why (free text)",
    ("roster_add", "station"): "the station the person staffs",
    ("roster_add", "name"): "the person's name (a name or a staff number is needed)",
    ("roster_add", "staff_no"): "the person's staff number",
    ("roster_add", "start_ms"): "when the slot starts, epoch ms",
    ("roster_add", "end_ms"): "when it ends, epoch ms (0: all day); the board shows the slot over from then",
    ("roster_change", "slot"): "the slot's key: `<station>/<staff number or name>` as first rostered",
    ("roster_change", "station"): "the station it moves to (empty: unchanged)",
    ("roster_change", "start_ms"): "its new start, epoch ms (0: unchanged)",
    ("roster_change", "end_ms"): "its new end, epoch ms (0: unchanged)",
    ("roster_change", "end_now"): "end the slot now: the hub's receive time becomes its end",
    ("prep_stage", "stage"): "`submitted` (已提交) or `merged` (已合并, by the office) for a department's plan; "
                             "`rehearsed`: the full rehearsal is done (every plan merged first)",
    ("prep_stage", "department"): "whose plan (empty for the rehearsal)",
    ("prep_stage", "note"): "free text",
})

# A goodbye on the wire (5.2): a terminal closed on purpose is closed, not offline.
MEANING.update({
    ("bye", "reason"): "why the terminal closes (`quit`, `stop`), for the hub's log; free, may be empty",
})

# Two hubs (issue 19, 5.13): protocols/messages_pair.py.
MEANING.update({
    ("hello", "role"): "`station`, `desk`, or `hub` (the passive hub of a pair, 5.13); must be the key's role",
    ("welcome", "hubs"): "two hubs (5.13): [{endpoint, feed}, ...], the active one first; empty with one hub",
    "pair": "two hubs (5.13): {me: `primary`|`backup`, era, peer: `none`|`in_step`|`behind`|`lost`}; peer `none` with one hub",
    ("hub_state", "state"): "the hub's Binary Star state (5.13)",
    ("hub_state", "era"): "the highest era it has seen (0: never active)",
    ("hub_state", "gseq"): "the last gseq in its log",
    ("hub_state", "rejections"): "the last rejection id in its log",
    ("hub_state", "switches"): "[[era, after_gseq], ...] of every hub_switch in its log, oldest first: where a returning hub's log left the history",
    ("log_request", "after"): "the last gseq the asking hub holds",
    ("log_request", "after_rejection"): "the last rejection id the asking hub holds",
    ("log_page", "events"): "events after `after`, oldest first, each as the feed carries it (`event` bodies)",
    ("log_page", "rejections"): "[id, {station, epoch, seq, type, code, reason, reason_zh, recv_ms, detail}] after `after_rejection`",
    ("log_page", "more"): "true: the page was cut to the reply limit; ask again after its last event",
    ("hub_switch", "era"): "the era this switch begins",
    ("hub_switch", "hub"): "which hub became active",
    ("hub_switch", "after_gseq"): "the last event the new active hub held",
    ("hub_switch", "reason"): "why it became active (console/core/binary_star.py)",
})

# Phones paired with the stations, logged through the hub (issue 18): protocols/messages_phones.py.
MEANING.update({
    ("phone_paired", "phone"): "the phone's label: a few random characters the station server makes when it pairs "
                               "(never the pairing code, never the session token)",
    ("phone_paired", "at_ms"): "when it paired, epoch ms (the station server's clock)",
    ("phone_unpaired", "phone"): "the label its `phone_paired` gave",
    ("phone_unpaired", "why"): "`unpaired` (the phone unpaired itself), `revoked` (a new pairing generation), "
                               "`replaced` (a newer phone took its place) or `stopped` (the station server stopped)",
    ("phone_revoke", "station"): "the station whose phones are revoked",
    ("phone_revoke", "generation"): "the pairing generation it moves to (a new code); must be above the last one logged",
    ("phone_revoke", "reason"): "why (free text: 手机丢失 …)",
})

ERRORS: dict[str, tuple[str, str]] = {   # code -> (who detects it, meaning)
    "E_VERSION": ("decode", "frame 0 is not `EVENTDESK/1` (or there are no frames)"),
    "E_FRAMES": ("decode", "not exactly 3 frames after the signature check"),
    "E_SIZE": ("decode", "the frames together are larger than max_message_bytes"),
    "E_HEADER": ("decode, hub", "the header is not a MessagePack map of the header fields, its epoch is not printable ASCII, a stored kind has seq < 1 or a control message seq ≠ 0"),
    "E_TYPE": ("decode", "the header `type` is not a known message type"),
    "E_SCHEMA": ("decode, hub", "the body does not fit the type's table, names a lot, zone or target the event lacks, starts a plan already running, or confirms another post's plan step"),
    "E_IDENTITY": ("hub", "header `station` is not the id bound to the sender's CURVE key, or a hello's `role` is not the key's (alarm raised)"),
    "E_FORBIDDEN": ("hub", "the sender's post may not send this type (see Who may send what; alarm raised)"),
    "E_RATE": ("hub", "the key is over its rate limit (every message it sends costs a token, see 5.5)"),
    "E_EPOCH": ("hub", "the key has started more new outbox epochs than it may (see 5.5); the report was not handled"),
    "E_CONFLICT": ("hub", "this (station, epoch, seq) is stored with another type or body (alarm raised)"),
    "E_STORAGE": ("hub", "the hub could not commit the log"),
    "E_GAP": ("hub", "seq is beyond the next expected one; `expected` says where to resume"),
    "E_UNKNOWN": ("hub", "the report refers to an incident, instruction, plan, plan run, step or task that does not exist"),
    "E_PASSIVE": ("hub", "this hub is the passive one of two (5.13): the client moves to the other endpoint at once"),
}

_TYPE_NAMES = {"int": "integer", "str": "string", "bool": "boolean", "map": "map", "list": "array", "bin": "bytes"}


def _meaning(type_: str, name: str) -> str:
    found = MEANING.get((type_, name), MEANING.get(name))
    if found is None:
        raise KeyError(f"spec_tables.MEANING has no entry for {type_}.{name}: document the new field")
    return found


def _value(v: Any) -> str:
    return "empty" if v == b"" else "`" + json.dumps(v, ensure_ascii=False) + "`"


def _range(spec: Any) -> str:
    if spec.choices is not None:
        return "one of " + ", ".join(_value(c) for c in spec.choices)
    if spec.kind == "int":
        if spec.lo is not None and spec.hi is not None:
            return f"{spec.lo} … {spec.hi}"
        if spec.lo is not None:
            return f"≥ {spec.lo}"
        return f"≤ {spec.hi}" if spec.hi is not None else "any"
    if spec.kind == "str":
        return f"≤ {spec.max_len} characters" if spec.max_len is not None else "any length"
    if spec.kind == "bool":
        return "`true` or `false`"
    if spec.kind == "bin":
        return "any bytes"
    return "not checked inside"


def _row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _field_table(type_: str, specs: tuple, header: bool = False) -> list[str]:
    out = [_row("field", "type", "default", "range / choices", "meaning"), "|---|---|---|---|---|"]
    for s in specs:
        default = "**required**" if s.required else _value(s.default)
        meaning = HEADER_MEANING[s.name] if header else _meaning(type_, s.name)
        out.append(_row(f"`{s.name}`", _TYPE_NAMES[s.kind], default, _range(s), meaning))
    return out


HEADER_MEANING = {
    "type": "the message type: a key of the tables below",
    "station": "the sender's station or desk id; must equal the id bound to its key",
    "epoch": "the sender's outbox epoch (random, fixed for the life of the outbox)",
    "seq": "per (station, epoch) report number, 1, 2, 3, ...; 0 for control messages and replies",
    "sent_ms": "sender's clock, epoch ms; for a report, the time it was saved (the same on every resend)",
}


def header_table() -> str:
    return "\n".join(_field_table("", codec._HEADER_SPECS, header=True))


def message_tables() -> str:
    out: list[str] = []
    for kind, title in KINDS.items():
        out.append(f"### Kind: {title}")
        for type_, cls in REGISTRY.items():
            if cls.KIND != kind:
                continue
            label = i18n.t(f"type.{type_}", "en") + " · " + i18n.t(f"type.{type_}", "zh")
            out += ["", f"#### `{type_}` — {label}", ""]
            doc = (cls.__doc__ or "").strip().splitlines()
            if doc and not doc[0].startswith(cls.__name__ + "("):
                out += [doc[0], ""]
            if SPECS_OF(type_):
                out += _field_table(type_, SPECS_OF(type_))
            else:
                out.append("No fields: the body is the empty map `{}` (bytes `80`).")
        out.append("")
    return "\n".join(out).rstrip()


def SPECS_OF(type_: str) -> tuple:  # noqa: N802 - reads like the constant it wraps
    return codec.SPECS[type_]


def allowed_table() -> str:
    out = [_row("role / post", "may send (stored kinds)"), "|---|---|"]
    for post in (*POSTS, "desk"):
        out.append(_row(f"`{post}`", ", ".join(f"`{t}`" for t in sorted(ALLOWED[post]))))
    out += ["", "Every role may also send the control kinds " + ", ".join(f"`{t}`" for t in sorted(CONTROL))
            + ". Reply and hub kinds are never accepted from a client."]
    return "\n".join(out)


def error_table() -> str:
    codes = sorted(k.split(".", 1)[1] for k in i18n.catalogue() if k.startswith("error."))
    if set(codes) != set(ERRORS):
        raise KeyError(f"spec_tables.ERRORS and the catalogue disagree: {sorted(set(codes) ^ set(ERRORS))}")
    out = [_row("code", "retry", "found by", "meaning", "sentence (en)", "sentence (zh)"), "|---|---|---|---|---|---|"]
    for code, (where, meaning) in ERRORS.items():
        retry = "**yes**" if code in codec.RETRYABLE else "no"
        out.append(_row(f"`{code}`", retry, where, meaning,
                        i18n.t(f"error.{code}", "en"), i18n.t(f"error.{code}", "zh")))
    return "\n".join(out)


def problem_table() -> str:
    out = [_row("problem", "{problem} (en)", "{problem} (zh)"), "|---|---|---|"]
    for key in sorted(k for k in i18n.catalogue() if k.startswith("problem.")):
        out.append(_row(f"`{key.split('.', 1)[1]}`", i18n.t(key, "en"), i18n.t(key, "zh")))
    return "\n".join(out)


def limits_table() -> str:
    refused = ", ".join(f"U+{a:04X}" + (f"–U+{b:04X}" if b != a else "") + f" ({why})" for a, b, why in codec.REFUSED_CHARS)
    rows = [("signature (frame 0)", f"`{codec.SIGNATURE.decode()}`"),
            ("max message size (default)", f"{codec.MAX_BYTES} bytes, all frames together"),
            ("max seq / sent_ms", f"{codec.MAX_SEQ} (2^62)"),
            ("header string fields", "≤ 64 characters; `epoch` only printable ASCII without spaces (U+0021–U+007E)"),
            ("refused characters in every string", refused + "; tab U+0009 and newline U+000A are allowed"),
            ("retryable codes", ", ".join(f"`{c}`" for c in sorted(codec.RETRYABLE)))]
    return "\n".join([_row("limit", "value"), "|---|---|", *(_row(a, b) for a, b in rows)])


def bounds_table() -> str:
    kib = 1024
    rows = [("largest reply on the ROUTER", f"{bounds.REPLY_MAX // kib} KiB, and never more than `max_message_bytes`"),
            ("largest page (snapshot, guest list, instructions)", f"{bounds.PAGE_MAX // kib} KiB, and never more than `max_message_bytes`"),
            ("largest publication on the PUB", f"{bounds.FEED_MAX // kib} KiB (a larger event goes out with `cut: true`)"),
            ("replies queued per connection (ROUTER SNDHWM)",
             f"{bounds.ROUTER_SNDHWM} messages: at most {bounds.ROUTER_SNDHWM * bounds.REPLY_MAX // kib // kib} MiB"),
            ("messages read ahead per connection (ROUTER RCVHWM)",
             f"{bounds.ROUTER_RCVHWM} messages (then ZeroMQ stops reading that connection until the hub catches up)"),
            ("publications queued per subscriber (PUB SNDHWM)",
             f"{bounds.PUB_SNDHWM} messages: at most {bounds.PUB_SNDHWM * bounds.FEED_MAX // kib // kib} MiB"),
            ("kernel send buffer per connection (SO_SNDBUF, ROUTER and PUB)",
             f"{bounds.SNDBUF // kib} KiB (Linux doubles it: {2 * bounds.SNDBUF // kib} KiB)"),
            ("ack timeout (a client resends after it)", f"{bounds.ACK_TIMEOUT_MS} ms"),
            ("storage wait (E_STORAGE after it)", f"{bounds.STORAGE_WAIT_MS} ms"),
            ("longest wait of a control message behind a commit", f"{bounds.CONTROL_WAIT_MS} ms")]
    return "\n".join([_row("bound", "value"), "|---|---|", *(_row(a, b) for a, b in rows)])


# --- the worked example: one real encode(), annotated byte by byte ------------------------------

EXAMPLE = dict(message=CarIn(plate="湘A·12345", vip=True, count=1),
               station="gate-1", epoch="3f9c2a7d5e1b4c08", seq=42, sent_ms=1796434867250)


def _tokens(data: bytes) -> list[tuple[bytes, str, int]]:
    """A small MessagePack reader for the annotation: (raw bytes, meaning, depth) per item."""
    out: list[tuple[bytes, str, int]] = []

    def item(i: int, depth: int) -> int:
        b = data[i]
        def emit(n: int, text: str) -> int:
            out.append((data[i:i + n], text, depth))
            return i + n
        if b <= 0x7F:
            return emit(1, f"positive fixint {b}")
        if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
            n, hl = (b & 0x0F, 1) if b <= 0x8F else ((struct.unpack(">H", data[i + 1:i + 3])[0], 3) if b == 0xDE
                                                      else (struct.unpack(">I", data[i + 1:i + 5])[0], 5))
            j = emit(hl, f"map, {n} pairs")
            for _ in range(2 * n):
                j = item(j, depth + 1)
            return j
        if 0x90 <= b <= 0x9F:
            j = emit(1, f"array, {b & 0x0F} items")
            for _ in range(b & 0x0F):
                j = item(j, depth + 1)
            return j
        if 0xA0 <= b <= 0xBF or b in (0xD9, 0xDA):
            n, hl = (b & 0x1F, 1) if b <= 0xBF else ((data[i + 1], 2) if b == 0xD9
                                                      else (struct.unpack(">H", data[i + 1:i + 3])[0], 3))
            text = data[i + hl:i + hl + n].decode("utf-8")
            return emit(hl + n, f"str, {n} bytes: {json.dumps(text, ensure_ascii=False)}")
        fixed = {0xC0: (1, "nil"), 0xC2: (1, "false"), 0xC3: (1, "true")}
        if b in fixed:
            return emit(*fixed[b])
        ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
        if b in ints:
            n = struct.calcsize(ints[b])
            value = struct.unpack(ints[b], data[i + 1:i + 1 + n])[0]
            return emit(1 + n, f"{'uint' if b < 0xD0 else 'int'}{8 * n} {value}")
        if b >= 0xE0:
            return emit(1, f"negative fixint {b - 256}")
        raise ValueError(f"the annotator does not read 0x{b:02x}")  # not needed by the example

    end = item(0, 0)
    assert end == len(data)
    return out


def _annotated(data: bytes) -> list[str]:
    lines = []
    for raw, text, depth in _tokens(data):
        hexes = raw.hex(" ")
        chunks = [hexes[k:k + 48].strip() for k in range(0, len(hexes), 48)] or [""]
        lines.append(f"{'  ' * depth}{chunks[0]:<{50 - 2 * depth}} {text}")
        lines += [f"{'  ' * depth}{c}" for c in chunks[1:]]
    return lines


def example() -> str:
    ex = EXAMPLE
    frames = codec.encode(ex["message"], station=ex["station"], epoch=ex["epoch"], seq=ex["seq"],
                          sent_ms=ex["sent_ms"])
    msg = ex["message"]
    call = (f"encode(CarIn(plate={msg.plate!r}, vip={msg.vip}, count={msg.count}), station={ex['station']!r}, "
            f"epoch={ex['epoch']!r}, seq={ex['seq']}, sent_ms={ex['sent_ms']})")
    out = [f"The frames of `{call}`:", "", "```"]
    names = ("frame 0, signature", "frame 1, header", "frame 2, body")
    for name, frame in zip(names, frames):
        out.append(f"{name} ({len(frame)} bytes):")
        out += ["  " + frame[k:k + 16].hex(" ") for k in range(0, len(frame), 16)]
    out += ["```", "", "The same header and body, item by item:", "", "```", "header:"]
    out += ["  " + line for line in _annotated(frames[1])]
    out.append("body:")
    out += ["  " + line for line in _annotated(frames[2])]
    out += ["```", "", f"Total size {sum(len(f) for f in frames)} bytes (`size_of`), far below the limit."]
    return "\n".join(out)


BLOCKS: dict[str, Callable[[], str]] = {
    "limits": limits_table,
    "bounds": bounds_table,
    "header": header_table,
    "messages": message_tables,
    "allowed": allowed_table,
    "errors": error_table,
    "problems": problem_table,
    "example": example,
}


def blocks() -> dict[str, str]:
    return {name: make() for name, make in BLOCKS.items()}


def render_block(name: str, text: str) -> str:
    return f"{BEGIN.format(name=name)}\n{text}\n{END.format(name=name)}"


def blocks_in(markdown: str) -> dict[str, str]:
    """The generated blocks found in a Markdown text, by name."""
    return {m.group(1): m.group(2) for m in _BLOCK.finditer(markdown)}


def refresh(markdown: str) -> str:
    """The Markdown with every generated block replaced by the current output."""
    fresh = blocks()
    return _BLOCK.sub(lambda m: render_block(m.group(1), fresh[m.group(1)]), markdown)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--write"]:
        path = Path(argv[1]) if len(argv) > 1 else SPEC_PATH
        path.write_text(refresh(path.read_text("utf-8")), "utf-8")
        print(f"refreshed {path}")
        return 0
    print("\n\n".join(render_block(n, t) for n, t in blocks().items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
