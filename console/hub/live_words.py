"""The hub's live log in words (issue 17): each line in the chosen language, times on the event's clock, terminals by name.

What the hub prints as it runs is read by whoever started it, so it speaks like every other
surface: a report as "#12 东门岗：车辆入场（车牌：湘A·12345，时间：09:41:07）", never
`#12 gate-1 car_in plate=… due_ms=1796448600000`. Fields with no words in the catalogue
(epochs, digests, references) are left out; station text is shown escaped on one line, so a
note cannot forge a line of its own. Knows the catalogue, the event and its plan library; no
sockets, no store.
"""
from __future__ import annotations

from typing import Any

from console.core.event import Event
from protocols import eventtime, names
from protocols.i18n import has, t

BRIEF_MAX = 120
# Values that are the wire's own words: shown through the catalogue group named here.
_WORDS = {"kind": ("incident",), "severity": ("severity",), "status": ("status", "liveness", "svc_status"),
          "post": ("post",), "department": ("dept",), "owner": ("dept", "post"), "service": ("service",),
          "liveness": ("liveness",), "previous": ("hub.live.previous_",), "assign": ("dept",),
          "notice": ("hub.live.notice",), "gate": ("desk.gate",), "what": ("hub.live.what",),
          "hub": ("hub_role",), "reason": ("hub_switch_why",)}   # two hubs: hub_switch (issue 19)
# Fields that are references for machines, not for the person reading the log.
_SKIP = {"epoch", "digest", "header", "ref", "call", "data", "body", "limits", "cut", "run", "step", "seq", "gseq",
         "name_en", "text_en", "all_clear_en", "org"}


def one_line(text: str) -> str:
    """Text from a station on one line: a newline in a note must not start a line of its own (it could forge one)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def refers_to(body: dict[str, Any]) -> str:
    """What an instruction's `guest` field holds, by its notice: "service" (a call's number), "incident" (an
    incident's), or "" (a guest's list reference, for vip and needs notices)."""
    notice = str(body.get("notice", ""))
    return "service" if notice.startswith("service_") else "incident" if notice == "incident" else ""


class LiveWords:
    """The lines of one hub's live log in `lang`."""

    def __init__(self, event: Event, lang: str, library: Any = None) -> None:
        self.event, self.lang = event, lang
        self.stations = [vars(s) for s in event.stations]
        self.lots, self.zones = [vars(a) for a in event.lots], [vars(a) for a in event.zones]
        self.plans = {p.id: p for p in getattr(library, "plans", ())}
        self.tasks = {task.id: task for task in event.tasks}

    def t(self, key: str, **params: Any) -> str:
        return t(f"hub.live.{key}", self.lang, **params)

    def who(self, station: str) -> str:
        return names.who(self.stations, station, self.lang)

    def ready(self, endpoint: str, feed: str, drill: bool, events: int) -> str:
        return self.t("ready", name=names.pick(vars(self.event), self.lang), endpoint=endpoint, feed=feed,
                      drill=self.t("drill") if drill else "", n=events)

    def stored(self, gseq: int, station: str, kind: str, body: dict[str, Any]) -> str:
        what = t(f"type.{kind}", self.lang) if has(f"type.{kind}") else t("names.other_cause", self.lang)
        brief = self.brief(body)
        return self.t("stored_with" if brief else "stored", gseq=gseq, who=self.who(station), what=what, brief=brief)

    def refused(self, station: str, seq: int, kind: str, code: str, reason: str, reason_zh: str) -> str:
        what = t(f"type.{kind}", self.lang) if has(f"type.{kind}") else t("names.other_cause", self.lang)
        why = one_line(reason_zh if self.lang == "zh" and reason_zh else reason)
        return self.t("refused", who=self.who(station), seq=seq, what=what, cause=names.code_name(code, self.lang),
                      reason=why)

    def more(self, n: int, stored: int) -> str:
        return self.t("more", n=n, stored=stored)

    def stopped(self, **figures: int) -> str:
        return self.t("stopped", **figures)

    def brief(self, body: dict[str, Any]) -> str:
        """The fields of a report a person can read, with their values in words; cut at BRIEF_MAX."""
        parts = []
        refers = refers_to(body)
        alarm = "code" in body and "first_ms" in body   # a coalesced alarm (console/hub/guard.py)
        if "reason_zh" in body:   # a reason said in both languages: the log's language only, never both
            body = {k: v for k, v in body.items() if k != "reason_zh"} | (
                {"reason": body["reason_zh"]} if self.lang == "zh" and body["reason_zh"] else {})
        for key, value in body.items():
            if value in ("", 0, False, None) or key in _SKIP or not has(f"field.{key}"):
                continue
            if alarm and key == "count":   # how often the cause was seen, not a head count
                parts.append(self.t("field", name=self.t("times"), value=value))
                continue
            if key == "guest" and refers:   # a notice's `guest` is the call or the incident it is about
                parts.append(self.t("field", name=self.t(f"refers.{refers}"), value=f"#{value}"))
                continue
            shown = self.value(key, value)
            if shown:
                parts.append(self.t("field", name=t(f"field.{key}", self.lang), value=shown))
        line = one_line(self.t("sep").join(parts))
        return line if len(line) <= BRIEF_MAX else line[:BRIEF_MAX - 1] + "…"

    def value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return t("hub.live.yes", self.lang)
        if isinstance(value, (dict, list)):
            return ""
        if key.endswith("_ms") and isinstance(value, int):
            return eventtime.clock(value, self.event.tz) if value > 10**11 else t("hub.live.ms", self.lang, n=value)
        if key == "station":
            return self.who(str(value))
        if key in ("lot", "zone"):
            return names.who(self.lots if key == "lot" else self.zones, str(value), self.lang)
        if key == "target":
            return names.target(self.stations, str(value), self.lang)
        if key in ("incident", "sendoff"):   # the record's own line in this log: #12
            return f"#{value}"
        if key == "plan" and value in self.plans:
            return names.pick(vars(self.plans[value]), self.lang) or str(value)
        if key == "task" and value in self.tasks:
            task = self.tasks[value]
            return (task.title_en if self.lang == "en" and task.title_en else task.title)
        if key == "cause":
            return names.cause(str(value), self.lang, self.stations, self.lots, self.zones)
        if key == "code":   # an alarm's or a refusal's code, by its name
            return names.code_name(str(value), self.lang)
        for group in _WORDS.get(key, ()):
            word = group + str(value) if group.endswith("_") else f"{group}.{value}"
            if has(word):
                return t(word, self.lang)
        if key in ("who", "by"):        # a terminal, a desk or the system by name; a person's name as typed
            return names.who(self.stations, str(value), self.lang)
        # An id this event has no name for: left out, never shown raw. A rehearsal's script is named by its slug,
        # which may be a plan's id too ("fire_drill"); the line says it is a rehearsal's clock without it.
        if key in ("plan", "task", "owner", "scenario"):
            return ""
        return str(value)
