"""What every desk widget is given (a View: state, hub clock, language, link health) and the pure questions asked of it.

No Textual here: staleness of a figure, liveness of the posts, the banner's incidents, the
timeline filter, instruction delivery and the alerts to raise between two views are plain
functions, so they are tested without a screen and the widgets stay thin.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from console.core import plans, services
from console.core import state as fold
from console.core.follower import Pair
from console.core.state import State
from console.desk.widgets import fmt, plan_text
from protocols import names
from protocols.i18n import t

HIGH = 3                      # severity from which an incident takes the banner and the bell
PEOPLE_POSTS = ("gate", "concierge", "lobby")
CAR_POSTS = ("gate", "parking")
INCIDENT_TYPES = ("incident_report", "incident_open")


@dataclass(frozen=True, eq=False)
class View:
    """One frame of the desk: compared by identity, so setting a new one always re-renders."""

    state: State
    now_ms: int
    lang: str = "zh"
    drill: bool = False
    hub: str = "local"        # local (a fixture, no hub) | ok | lost | connecting
    hub_heard_ms: int = 0
    waiting: int = 0          # desk actions saved and not yet acknowledged
    version: int = 0
    wall: bool = False
    desk: str = ""
    real_ms: int = 0          # the real clock, for the links' liveness; `now_ms` is the log's time (a drill's scenario time)
    pair: Pair | None = None  # two hubs (PROTOCOL.md 5.13): which is active and how the other is; None: one hub

    def t(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)

    @property
    def link_ms(self) -> int:
        """The clock a station's silence is measured on: the real one (equal to now_ms on a live log)."""
        return self.real_ms or self.now_ms

    @property
    def tz(self) -> dt.tzinfo:
        """The event's time zone: every clock face on the desk is read in it."""
        return fmt.zone_of(self.state)


def pair_words(view: View) -> tuple[str, str] | None:
    """The two hubs as the header says them, (words, how urgent: ok | behind | lost); None when there is
    nothing to say: one hub, an older hub that does not tell, or a hub the desk cannot hear now."""
    pair = view.pair
    if pair is None or not pair.redundant or view.hub != "ok":
        return None
    other = "backup" if pair.me == "primary" else "primary"
    words = view.t(f"desk.pair.{pair.me}") + " · " + view.t(f"desk.pair.{other}_{pair.peer}")
    return words, {"in_step": "ok"}.get(pair.peer, pair.peer)


def liveness(view: View, sid: str) -> str:
    """The post's link as the desk can know it; "hub_lost" while the desk cannot hear the hub itself
    (a dead hub is not a dead post: the desk says it does not know)."""
    if view.hub == "lost":
        return "hub_lost"
    return fold.liveness(view.state, sid, view.link_ms)


def silence_ms(view: View, sid: str) -> int | None:
    heard = view.state.stations.get(sid, {}).get("last_heard_ms", 0)
    return view.link_ms - heard if heard else None


def quiet(view: View, posts: tuple[str, ...] | list[str]) -> int | None:
    """How old a figure fed by `posts` may be: None while its sources are live, -1 if none ever reported.

    A figure is as fresh as its quietest source: a silent gate means the car count may be
    missing that gate's cars since it was last heard. A lost hub makes every figure stale.
    """
    if view.hub == "lost":
        return view.link_ms - view.hub_heard_ms if view.hub_heard_ms else -1
    late = view.state.event.get("late_ms", 5000)
    silent, heard_any = [], False
    for sid, st in view.state.stations.items():
        if st.get("post") not in posts:
            continue
        s = silence_ms(view, sid)
        if s is None:
            continue
        heard_any = True
        if s >= late:
            silent.append(s)
    if not heard_any:
        return -1
    return max(silent) if silent else None


def lot_posts(view: View, lot_id: str) -> tuple[str, ...]:
    for lot in view.state.event.get("lots", ()):
        if lot.get("id") == lot_id and lot.get("post"):
            return (lot["post"],)
    return ("parking",)


def zone_posts(view: View, zone_id: str) -> tuple[str, ...]:
    for zone in view.state.event.get("zones", ()):
        if zone.get("id") == zone_id and zone.get("post"):
            return (zone["post"],)
    return ("lobby", "model_unit")


def staleness(view: View, posts: tuple[str, ...]) -> str:
    """The dim suffix a figure carries when it may be old ("· 3 min ago"), or ""."""
    q = quiet(view, posts)
    if q is None:
        return ""
    if q < 0:
        return view.t("desk.no_reports")
    return "· " + fmt.ago(q, view.lang)


def unacknowledged_high(state: State) -> list[dict[str, Any]]:
    """Open incidents of high severity nobody has taken notice of yet: the banner's content."""
    return [i for i in fold.open_incidents(state) if i["severity"] >= HIGH and i["status"] == "new"]


def per_minute(by_min: dict[int, int], now_ms: int, minutes: int = 60) -> list[int]:
    """Counts for each of the last `minutes` minutes, oldest first, ending with the current one."""
    last = now_ms // 60000
    return [by_min.get(m, 0) for m in range(last - minutes + 1, last + 1)]


def rate(by_min: dict[int, int], now_ms: int, minutes: int = 5) -> float:
    """Average per minute over the last `minutes` whole minutes plus the current one's share."""
    return sum(per_minute(by_min, now_ms, minutes)) / minutes


def event_severity(rec: dict[str, Any], state: State) -> int:
    """An event's severity for the filter: its own for incidents, its incident's for updates, else 0."""
    body = rec.get("body") or {}
    if rec.get("type") in INCIDENT_TYPES:
        return int(body.get("severity", 2))
    if rec.get("type") == "incident_update":
        inc = state.incidents.get(body.get("incident"))
        return inc["severity"] if inc else 0
    return 0


def filter_recent(state: State, post: str = "", kind: str = "", min_severity: int = 0,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Recent events newest first, narrowed to a post (or the desks), an event type and a severity floor.

    `limit` stops the walk once that many are found: the timeline shows only the newest few, and
    under a flood the whole `recent` deque is otherwise filtered every frame.
    """
    out: list[dict[str, Any]] = []
    for rec in reversed(state.recent):
        if limit is not None and len(out) >= limit:
            break
        sid = rec.get("station", "")
        if post:
            st_post = state.stations.get(sid, {}).get("post", "desk" if sid.startswith("desk") else sid)
            if st_post != post:
                continue
        if kind and rec.get("type") != kind:
            continue
        if min_severity and event_severity(rec, state) < min_severity:
            continue
        out.append(rec)
    return out


def targets(state: State, target: str) -> list[str]:
    """The station ids an instruction to `target` (all, post.<post>, station.<id>) was meant for."""
    kind, _, name = target.partition(".")
    ids = list(state.stations)
    if kind == "post":
        return [s for s in ids if state.stations[s].get("post") == name]
    if kind == "station":
        return [name] if name in state.stations else []
    return ids


def delivery(view: View, inst: dict[str, Any], sid: str) -> tuple[str, int]:
    """Where an instruction stands at one station: acked (with when), reached, or waiting.

    The wire has no delivery receipt short of the acknowledgement, so "reached" means the
    station was heard after the instruction went out: it was connected, and a connected
    station gets it from the feed or, when it needs an ack, from its next welcome.
    """
    acked = inst.get("acks", {}).get(sid)
    if acked:
        return "acked", acked
    heard = view.state.stations.get(sid, {}).get("last_heard_ms", 0)
    heard = fold.event_ms(view.state, heard) if heard else 0   # on the log's time, as sent_ms is
    if heard >= inst.get("sent_ms", 0):
        return "reached", heard
    return "waiting", 0


@dataclass(frozen=True)
class Seen:
    """What one frame showed that the next frame's alerts are measured against.

    The desk folds its picture in place, so the previous frame's state is the current one by the
    time the next frame is drawn: what is compared is kept here instead, small and by value.
    """

    liveness: dict[str, str]          # station -> online / late / offline / unknown
    incidents: frozenset[int]
    alarm_id: int                     # the newest alarm's id
    runs: dict[int, int]              # plan run -> escalations so far
    proposals: frozenset[int]


def seen(view: View) -> Seen:
    st = view.state
    return Seen({sid: liveness(view, sid) for sid in st.stations}, frozenset(st.incidents),
                max((a["id"] for a in st.alarms), default=0),
                {rid: len(run["escalations"]) for rid, run in st.plans["runs"].items()},
                frozenset(st.plans["proposals"]))


@dataclass(frozen=True)
class Alert:
    text: str            # plain: shown with markup off; station words already made safe
    severity: str = "warning"
    bell: bool = True
    incident: int = 0    # a new high-severity incident: the board moves to it
    cause: str = ""      # one notice line per cause: a post late then offline is one line, updated


def alerts(prev: Seen | None, cur: View) -> list[Alert]:
    """What changed since the last frame (`seen`) that a person must notice: posts going quiet, serious incidents, alarms."""
    if prev is None:
        return []
    out: list[Alert] = []
    lang = cur.lang
    for sid in cur.state.stations:
        before, now = prev.liveness.get(sid, "unknown"), liveness(cur, sid)
        if now in ("late", "offline") and before != now and before not in ("unknown", "hub_lost"):
            name = fmt.station_name(cur.state, sid, lang)
            out.append(Alert(t(f"desk.alert.{now}", lang, station=name,
                               d=fmt.duration(silence_ms(cur, sid) or 0, lang)),
                             "error" if now == "offline" else "warning", cause=f"station:{sid}"))
    for inc in fold.open_incidents(cur.state):
        if inc["severity"] >= HIGH and inc["id"] not in prev.incidents:
            text = t("desk.alert.incident", lang, sev=fmt.label(f"severity.{inc['severity']}", lang),
                     kind=fmt.label(f"incident.{inc['kind']}", lang), id=inc["id"],
                     where=fmt.safe(inc.get("location") or "—").plain)
            out.append(Alert(text, "error", True, inc["id"]))
    for alarm in cur.state.alarms:
        if alarm["id"] > prev.alarm_id and alarm["code"] == "plan_overdue":
            continue   # an escalation: said below, with the plan's and the step's names
        if alarm["id"] > prev.alarm_id:
            code = names.code_name(alarm["code"], lang)
            if alarm.get("what"):   # readiness, roster and guest hand-off alarms name what they are about
                out.append(Alert(t("desk.alert.duty", lang, code=code, what=fmt.duty_subject(cur.state, alarm, lang)),
                                 "error"))
                continue
            out.append(Alert(t("desk.alert.alarm", lang, code=code,
                               station=fmt.station_name(cur.state, alarm.get("station", ""), lang)), "error",
                             cause=f"alarm:{alarm['code']}:{alarm.get('station', '')}"))
    return out + plan_alerts(prev, cur.state, lang, cur.wall)


def plan_alerts(prev: Seen, cur: State, lang: str, wall: bool = False) -> list[Alert]:
    """A plan started, a plan proposed (start or dismiss it), a step escalated: once each, with the bell.

    A wall display has no key to act with: its proposal line names none."""
    out: list[Alert] = []
    for run in cur.plans["runs"].values():
        old = prev.runs.get(run["id"])
        if old is None and run["stood_down"] is None:
            out.append(Alert(t("plan.alert.started", lang, plan=plan_text.name(run, lang),
                               cause=plan_text.cause(cur, run["cause"], lang)), "error", run["auto"]))
        for _, step_id in run["escalations"][old or 0:]:
            step = run["steps"].get(step_id, {})
            words = (step.get("do_en") if lang == "en" else step.get("do")) or step.get("do") or step_id
            out.append(Alert(t("plan.escalated", lang, plan=plan_text.name(run, lang), step=words), "error"))
    for prop in plans.proposals(cur):
        if prop["id"] not in prev.proposals:
            out.append(Alert(t("desk.wall_words.plan_proposed" if wall else "plan.alert.proposed", lang, plan=plan_text.name(prop, lang),
                               cause=plan_text.cause(cur, prop.get("cause", ""), lang)), "warning"))
    return out


