"""Duty at a terminal and guests at check-in: who signs in and out, which preparation task is signed off, who is on the guest list.

Pure: turns what staff pick or type into reports (staff_signin, staff_signout, task_signoff,
guest_checkin) and reads this terminal's own reports back (who is on duty here, which tasks it
signed off). The guest list is the copy the hub sent (see PROTOCOL.md 5.11); matching by name,
pinyin initials or reference works on it without the desk. No screen, no sockets.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from protocols import eventtime, i18n
from protocols.schema import DEPARTMENTS
from stations.terminal.posts.base import Action, Area, Field, Site, whole

VIP = ("A", "B")


def guests_action() -> Action:
    return Action("guests", "f7", "station.act.guests", kind="guests", alias="7")


# --- staff on duty -------------------------------------------------------------------------------

def _person(site: Site, who: str) -> dict[str, str]:
    """A name or staff number as typed, completed from this station's roster when it is on it."""
    who = who.strip()
    low = who.lower()
    for entry in site.roster:
        if low and low in (str(entry.get("staff_no", "")).lower(), str(entry.get("name", "")).lower()):
            return {"name": str(entry.get("name", "")), "staff_no": str(entry.get("staff_no", ""))}
    # Not rostered here (a stand-in): a token with a digit and no CJK reads as a staff number.
    looks_like_no = bool(who) and " " not in who and any(c.isdigit() for c in who) \
        and not re.search(r"[\u3400-\u9fff]", who)
    return {"name": "" if looks_like_no else who, "staff_no": who if looks_like_no else ""}


def signin_action(site: Site) -> Action:
    first = site.roster[0] if site.roster else {}
    default = str(first.get("staff_no") or first.get("name") or "")

    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return "staff_signin", _person(site, str(v.get("who", "")))

    return Action("signin", "", "station.duty.signin", build, (Field("who", "station.field.staff", "text", default),))


def signout_action(person: dict[str, str]) -> Action:
    body = {"name": person.get("name", ""), "staff_no": person.get("staff_no", "")}
    return Action("signout", "", "station.duty.signout", lambda site, v, area: ("staff_signout", dict(body)))


def on_duty(reports: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, str]]:
    """Who this terminal signed in and has not signed out, in sign-in order."""
    people: dict[str, dict[str, str]] = {}
    for type_, body in reports:
        key = body.get("staff_no") or body.get("name") or ""
        if type_ == "staff_signin" and key:
            people.pop(key, None)
            people[key] = {"name": body.get("name", ""), "staff_no": body.get("staff_no", "")}
        elif type_ == "staff_signout":
            for k, p in list(people.items()):
                if k == key or (body.get("name") and p["name"] == body["name"]) \
                        or (body.get("staff_no") and p["staff_no"] == body["staff_no"]):
                    del people[k]
    return list(people.values())


def signer(people: Iterable[dict[str, Any]]) -> str:
    """Who confirms from here (issue 16 item 3): the name, else the staff number, of whoever signed in last; "" for nobody."""
    people = list(people)
    return str(people[-1].get("name") or people[-1].get("staff_no") or "") if people else ""


def person_label(person: dict[str, Any], lang: str = "en") -> str:
    """A person as staff know them: 郑凯（S307） in Chinese (full-width brackets), 郑凯 (S307) in English."""
    name, no = person.get("name", ""), person.get("staff_no", "")
    if not (name and no):
        return name or no
    return f"{name}（{no}）" if lang == "zh" else f"{name} ({no})"


# --- preparation tasks ---------------------------------------------------------------------------

def tasks_here(site: Site) -> tuple[dict[str, Any], ...]:
    """The tasks this terminal lists: a department's terminal its department's, the sales staff's none (no task is
    theirs: they are told only what is addressed to them), any other post every task."""
    if site.post == "sales":
        return ()
    if site.post in DEPARTMENTS:
        return tuple(t for t in site.tasks if t.get("department") == site.post)
    return site.tasks


def due_words(task: dict[str, Any], site: Site, lang: str) -> str:
    """When the task is due, on the event's clock ("" when the summary has no instant for it)."""
    ms = task.get("due_ms")
    if not isinstance(ms, int) or isinstance(ms, bool) or ms <= 0:
        return ""
    hhmm = eventtime.local(ms, eventtime.zone_or_default(site.timezone)).strftime("%H:%M")
    return i18n.t("station.duty_live.due", lang, time=hhmm)


def task_title(task: dict[str, Any], lang: str) -> str:
    return (task.get("title_en") or task.get("title", "")) if lang == "en" else task.get("title", "")


def task_action(task: dict[str, Any], lang: str) -> Action:
    task_id = str(task.get("id", ""))

    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return "task_signoff", {"task": task_id, "note": str(v.get("note", "")).strip()}

    title = i18n.t("station.duty.signoff_title", lang, dept=i18n.t(f"dept.{task.get('department', '')}", lang),
                   title=task_title(task, lang))
    return Action(f"task-{task_id}", "", "station.duty.signoff", build, (Field("note", "field.note"),), title=title)


def signed_off(reports: Iterable[tuple[str, dict[str, Any]]]) -> set[str]:
    """The tasks this terminal has signed off."""
    return {str(b.get("task")) for t, b in reports if t == "task_signoff"}


# --- guests ----------------------------------------------------------------------------------------

def matches(guest: dict[str, Any], query: str) -> int:
    """3: the reference; 2: the name, its pinyin or initials (zs for 张三); 1: the organisation; 0: no match."""
    q = re.sub(r"\s+", "", query).lower()
    if not q:
        return 0
    if str(guest.get("ref", "")).lower() == q:
        return 3
    name = re.sub(r"\s+", "", str(guest.get("name", ""))).lower()
    if q in name or any(str(i).startswith(q) for i in guest.get("initials", ()) or ()) \
            or str(guest.get("pinyin", "")).startswith(q):
        return 2
    return 1 if q in str(guest.get("org", "")).lower() else 0


def search(guests: Iterable[dict[str, Any]], query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Guests matching `query`, best first, then by expected time and name; every guest for an empty query."""
    guests = list(guests)
    if not query.strip():
        found = guests
    else:
        scored = [(matches(g, query), g) for g in guests]
        found = [g for s, g in sorted(((s, g) for s, g in scored if s), key=lambda sg: -sg[0])]
    found.sort(key=lambda g: (-matches(g, query) if query.strip() else 0, str(g.get("arrive", "")) or "~",
                              str(g.get("name", ""))))
    return found[:limit]


def needs_words(guest: dict[str, Any], lang: str) -> str:
    words = [i18n.t(f"need.{n}", lang) for n in guest.get("needs", ()) or ()
             if n != "other" or not guest.get("needs_note")]
    if guest.get("needs_note"):
        words.append(str(guest["needs_note"]))
    return i18n.t("guestrule.sep", lang).join(words)


def guest_line(guest: dict[str, Any], lang: str) -> str:
    """One line of a guest for the look-up list: ref, name, organisation, level, party, time, needs."""
    level = guest.get("level", "")
    parts = [str(guest.get("ref", "")), str(guest.get("name", ""))]
    if guest.get("org"):
        parts.append(str(guest["org"]))
    parts.append(i18n.t(f"station.vip.{level}", lang) if level in ("A", "B", "C") else "")
    parts.append(i18n.t("station.guests.party", lang, n=guest.get("party", 1)))
    if guest.get("arrive"):
        parts.append(str(guest["arrive"]))
    needs = needs_words(guest, lang)
    if needs:
        parts.append(needs)
    return " · ".join(p for p in parts if p)


def checkin_action(guest: dict[str, Any], lang: str) -> Action:
    """Check a listed guest in: the form asks only the party size (the list's, unless more or fewer came)."""
    ref, name = str(guest.get("ref", "")), str(guest.get("name", ""))
    level = guest.get("level", "") if guest.get("level") in ("A", "B", "C") else ""

    def build(site: Site, v: dict[str, Any], area: Area | None) -> tuple[str, dict[str, Any]]:
        return "guest_checkin", {"guest_ref": ref, "name": name[:64], "party_size": whole(v.get("party_size", 1)),
                                 "vip_level": level}

    title = i18n.t("station.guests.checkin_title", lang, line=guest_line(guest, lang))
    return Action(f"checkin-{ref}", "", "station.act.checkin", build,
                  (Field("party_size", "field.party_size", "int", int(guest.get("party", 1) or 1)),), title=title)
