"""Service calls with an owner and an end (服务需求, 1.1.3.4): routing, their fold, lateness, notices and the desk's list; pure.

A post's `service_request` becomes a tracked call, routed by the event's `[services]` table to a
department (cleaning → 环境, supplies → 后勤, drinks and tea breaks → 客服 by default) or to a post.
`service_update` moves it 待处理 → 已接单 (taken, by whom) → 已完成 (done, by whom), or 已取消 with a
reason. `evaluate(state, now_ms)` returns what the hub logs: one `overdue` alarm per call not done
within the event's limit, a notice to the post a call is routed to (acknowledging it takes the call),
and a notice to the raising post when another takes, finishes or cancels its call. Like the other
rules it returns nothing new once its decisions are folded. No sockets, database, screen, clock or files.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core.state import State
from console.core.state.fold_people import terminals
from console.core.state.fold_services import (
    CANCELLED,
    CLOSED,
    DEFAULT_LATE_MIN,
    DEFAULT_ROUTE,
    DONE,
    OPEN,
    TAKEN,
    late_ms,
)
from console.core.toml_table import Choices, TomlTable, shown
from protocols.codec import ProtocolError, schema_error
from protocols import names
from protocols.i18n import t
from protocols.messages import FIELD_POSTS, MAX_TEXT, POSTS, SERVICES, Instruction, Message, Overdue

RECENT_CLOSED = 10    # closed calls the desk lists under the open ones

# --- the event's setting ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """`[services]` of event.toml: where each kind of call goes, and when an open call is late."""

    route: tuple[tuple[str, str], ...] = tuple(DEFAULT_ROUTE.items())
    late_min: int = DEFAULT_LATE_MIN

    def summary(self) -> dict[str, Any]:
        return {"route": dict(self.route), "late_ms": self.late_min * 60_000}


def parse_settings(reader: type[TomlTable], path: Path, raw: Any, departments: tuple[str, ...]) -> Settings:
    """`[services]`: `late_min` (1..240) and a `route` table, service kind -> department or post id.
    `reader` is the file's own TomlTable, so a mistake names event.toml and the key like any other."""
    if not isinstance(raw, dict):
        raise reader(path, {}, "").err("services", "table", table="services")
    top = reader(path, raw, "services.")
    top.only({"late_min", "route"})
    late = top.get("late_min", int, DEFAULT_LATE_MIN)
    if not 1 <= late <= 240:
        raise top.err("late_min", "late_min", value=late)
    table = reader(path, top.get("route", dict, {}), "services.route.")
    table.only(set(SERVICES))
    route = dict(DEFAULT_ROUTE)
    for kind in SERVICES:
        if kind not in table.table:
            continue     # the default stands, whether or not the event lists that department
        owner = table.get(kind, str)
        if owner not in departments and owner not in POSTS:
            raise table.err(kind, "route", value=shown(owner), departments=Choices(departments, "dept"),
                            posts=Choices(POSTS, "post"))
        route[kind] = owner
    return Settings(tuple(route.items()), late)


# --- the hub's questions --------------------------------------------------------------------------------

def check(state: State, msg: Any, peer: Any, new_ids: set[int]) -> None:
    """A service_update names a call that exists and is still open, and a post may touch it: raised by it or
    routed to it (only its raiser or a desk may cancel). A ProtocolError otherwise."""
    r = state.requests.get(msg.call)
    if r is None:
        if msg.call in new_ids:
            return     # raised in this very batch: the fold checks again
        raise ProtocolError("E_UNKNOWN", what_key="what.service_request", ref=f"#{msg.call}")
    if r["status"] in CLOSED:
        raise schema_error("call", "problem.service_closed", status_key=f"svc_status.{r['status']}")
    if peer is None or peer.role != "station":
        return
    mine = r["station"] == peer.id
    if msg.status == CANCELLED and not mine:
        raise schema_error("status", "problem.service_cancel_own")
    if not mine and r["owner"] != peer.post:
        raise schema_error("call", "problem.service_not_for_post")


def evaluate(state: State, now_ms: int) -> list[Message]:
    """The late alarms and the notices to log now: [] when the log already says it all."""
    out: list[Message] = []
    limit = late_ms(state.event)
    for r in state.requests.values():
        if r["status"] in (OPEN, TAKEN) and not r["late_ms"] and now_ms >= r["ms"] + limit:
            out.append(Overdue(what="service", ref=str(r["id"]), target=r["owner"], due_ms=r["ms"] + limit))
        out += _notices(state, r)
    return out


def _notices(state: State, r: dict[str, Any]) -> list[Instruction]:
    """Who must hear of this call now: the post it is routed to when it is new, and again when someone elsewhere
    closes it (so its list and banner stop asking); the raising station when someone else moves it."""
    told, status, owner = r["told"], r["status"], r["owner"]
    changer = r["closed_station"] if status in CLOSED else r["taken_station"]
    out = []
    to_post = owner in FIELD_POSTS or owner in terminals(state)   # a department's own terminal (issue 16 item 3)
    if to_post and status == OPEN and "new@post" not in told:
        out.append(_notice(state, r, "new", f"post.{owner}", ack=True))
    if to_post and status in CLOSED and "new@post" in told and f"{status}@post" not in told \
            and state.stations.get(changer, {}).get("post") != owner:
        out.append(_notice(state, r, f"closed_{status}", f"post.{owner}", ack=False, notice=status))
    if status != OPEN and status not in told and changer != r["station"] and r["station"] in state.stations:
        out.append(_notice(state, r, status, f"station.{r['station']}", ack=False))
    return out


def _notice(state: State, r: dict[str, Any], what: str, target: str, ack: bool, notice: str = "") -> Instruction:
    return Instruction(target=target, text=notice_text(state, r, what, "zh"), text_en=notice_text(state, r, what, "en"),
                       ack_required=ack, guest=str(r["id"]), notice=f"service_{notice or what}")


def notice_text(state: State, r: dict[str, Any], what: str, lang: str) -> str:
    where = t("svcrule.where", lang, where=r["where"]) if r["where"] else ""
    return t(f"svcrule.{what}", lang, service=t(f"service.{r['service']}", lang), where=where,
             who=who_label(state, r, lang), reason=r["reason"])[:MAX_TEXT]


def who_label(state: State, r: dict[str, Any], lang: str) -> str:
    """Who took or closed the call, as staff read it: the person, else the station's or the department's name."""
    person = r["closed_by"] if r["status"] in CLOSED and r["closed_by"] else r["taken_by"]
    station = r["closed_station"] if r["status"] in CLOSED else r["taken_station"]
    place = station_label(state, station, lang) if station else ""
    if person and place:
        return t("svc.by_at", lang, who=person, at=place)
    return person or place or owner_label(r["owner"], lang)


def done_by(state: State, r: dict[str, Any], lang: str) -> str:
    """Who took or closed the call as the desk names it: 客服部值班（张三）, the place first (issue 16 item 3), and
    （无人签到） at a terminal nobody was signed in at; a desk as before (王芳（指挥台）); "" while untouched."""
    closed = r["status"] in CLOSED
    station = r["closed_station"] if closed else r["taken_station"]
    if not station:
        return ""
    if station not in {st.get("id") for st in state.event.get("stations", ())}:
        return who_label(state, r, lang)   # a desk: the name the operator typed, if any, then the desk
    person = r["closed_by"] if closed and r["closed_by"] else r["taken_by"]
    return names.with_person(station_label(state, station, lang), person, lang)


def station_label(state: State, sid: str, lang: str) -> str:
    for st in state.event.get("stations", ()):
        if st.get("id") == sid:
            return (st.get("name_en") if lang == "en" else st.get("name")) or st.get("name") or sid
    if sid in state.stations:
        return sid
    return t("post.desk", lang)   # a desk: staff call it the command desk, whichever one it was


def owner_label(owner: str, lang: str) -> str:
    return t(f"post.{owner}" if owner in POSTS else f"dept.{owner}", lang)


def call_words(state: Any, ref: Any, lang: str) -> str:
    """A call as staff name it on a line: 饮品（A区）· 客服部; never its number."""
    r = getattr(state, "requests", {}).get(int(ref)) if str(ref).isdigit() else None
    if r is None:
        return t("what.service_request", lang)
    where = t("svcrule.where", lang, where=r["where"]) if r["where"] else ""
    return f"{t('service.' + r['service'], lang)}{where} · {owner_label(r['owner'], lang)}"


# --- the desk's list -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallView:
    id: int
    station: str
    service: str
    where: str
    note: str
    owner: str
    status: str            # open | taken | done | cancelled
    raised_ms: int
    age_ms: int            # since raised; for a closed call, until it closed
    late: bool             # open past the event's limit, or closed after it
    taken_ms: int
    closed_ms: int
    reason: str
    record: dict[str, Any]


def calls(state: State, now_ms: int) -> list[CallView]:
    """Open calls first (late ones, then oldest), then the latest closed ones, newest first."""
    limit = late_ms(state.event)
    live, closed = [], []
    for r in state.requests.values():
        end = r["closed_ms"] if r["status"] in CLOSED else now_ms
        age = max(0, end - r["ms"])
        view = CallView(r["id"], r["station"], r["service"], r["where"], r["note"], r["owner"], r["status"], r["ms"],
                        age, age > limit and r["status"] != CANCELLED, r["taken_ms"], r["closed_ms"], r["reason"], r)
        (closed if r["status"] in CLOSED else live).append(view)
    live.sort(key=lambda v: (not v.late, v.raised_ms, v.id))
    closed.sort(key=lambda v: (-v.closed_ms, -v.id))
    return live + closed[:RECENT_CLOSED]


def open_count(state: State) -> tuple[int, int]:
    """(open calls, of which late) for the board's one-line indicator."""
    live = [r for r in state.requests.values() if r["status"] not in CLOSED]
    return len(live), sum(1 for r in live if r["late_ms"])


# --- the summary ----------------------------------------------------------------------------------------

class Tally:
    """What the summary keeps of the calls while the log streams by: per owner, counts and times (ms)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.seen: set[int] = set()
        self.calls: list[dict[str, Any]] = []   # each call once, as it closed (or as it stood at the end)

    def _row(self, owner: str) -> dict[str, Any]:
        return self.rows.setdefault(owner, {"requests": 0, "done": 0, "cancelled": 0, "late": 0, "open_end": 0,
                                            "take": [], "finish": []})

    def raised(self, state: State, gseq: int) -> None:
        r = state.requests.get(gseq)
        if r is not None:
            self._row(r["owner"])["requests"] += 1

    def updated(self, state: State, call: int) -> None:
        r = state.requests.get(call)
        if r is not None and r["status"] in CLOSED and call not in self.seen:
            self.seen.add(call)
            self._count(r, state)

    def _count(self, r: dict[str, Any], state: State) -> None:
        row = self._row(r["owner"])
        self.calls.append({k: r[k] for k in ("id", "station", "service", "where", "owner", "status", "ms", "taken_ms",
                                             "closed_ms")})
        if r["taken_ms"]:
            row["take"].append(r["taken_ms"] - r["ms"])
        if r["status"] == DONE:
            row["done"] += 1
            row["finish"].append(r["closed_ms"] - r["ms"])
        elif r["status"] == CANCELLED:
            row["cancelled"] += 1
        else:
            row["open_end"] += 1
        if r["late_ms"] or (r["status"] == DONE and r["closed_ms"] - r["ms"] > late_ms(state.event)):
            row["late"] += 1

    def finish(self, state: State) -> dict[str, dict[str, Any]]:
        """owner -> requests, done, cancelled, late, open_end, take/done median and worst (ms, None when none)."""
        for r in state.requests.values():
            if r["status"] not in CLOSED:
                self._count(r, state)
        out = {}
        for owner, row in sorted(self.rows.items()):
            out[owner] = {k: row[k] for k in ("requests", "done", "cancelled", "late", "open_end")}
            for key, values in (("take", row["take"]), ("done", row["finish"])):
                out[owner][f"{key}_median_ms"] = _median(values)
                out[owner][f"{key}_worst_ms"] = max(values) if values else None
        return out


def _median(values: list[int]) -> int | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) // 2
