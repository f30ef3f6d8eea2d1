"""The summary's service half (issue 16 item 7): preparation, roster attendance, VIP hand-off, invited vs arrived, damage and loss; pure.

`figures(state, signins)` reads the folded picture at the end of the log (the readiness sign-offs, the
hand-off notices and their acknowledgements, the guest list and who arrived, the damage reports) and
the first sign-in per roster slot that console.report.summary collected on the way (`signin`); `findings`
gives every department that did this work its highlights and shortcomings; `sections` puts the
figures into words for console.report.doc. No files, sockets or clock.
"""
from __future__ import annotations

from statistics import median
from typing import Any

from console.core import guests_rules, prep
from console.report import sendoffs
from console.report import text as rt
from console.report.findings import DESK_DEPARTMENT, POST_DEPARTMENT
from protocols.i18n import t

GUEST_DEPARTMENT = "service"    # the guest list and who came is Customer Service's (客服部: reception)
HANDOFF_LINKS = (*guests_rules.LINKS, "greeter", "host")   # greeter: the leaders' terminal (issue 16 item 3)
NO_LEVEL = "-"


def signin(event: dict[str, Any], signins: dict[str, int], station: str, body: dict, ms: int) -> None:
    """Note the first sign-in of a rostered person at their rostered station (the fold keeps only who is on now)."""
    name, no = str(body.get("name", "")).strip(), str(body.get("staff_no", "")).strip()
    for entry in event.get("roster", ()):
        if entry["station"] == station and entry["key"] not in signins and (
                (no and entry.get("staff_no") == no) or (name and entry.get("name") == name)):
            signins[entry["key"]] = ms


def _result(at_ms: int, due_ms: int) -> str:
    return "never" if not at_ms else ("late" if at_ms > due_ms else "on_time")


def _tally(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        row = out.setdefault(r[key], {key: r[key], "on_time": 0, "late": 0, "never": 0, "total": 0})
        row[r["result"]] += 1
        row["total"] += 1
    return list(out.values())


def _preparation(state: Any) -> dict[str, Any]:
    done = state.readiness["done"]
    tasks = []
    for task in state.event.get("tasks", ()):
        sign = done.get(task["id"]) or {}
        due, at = int(task.get("due_ms", 0)), int(sign.get("ms", 0))
        tasks.append({"id": task["id"], "department": task.get("department", ""), "title": task.get("title", ""),
                      "title_en": task.get("title_en", ""), "blocking": bool(task.get("blocking")), "due_ms": due,
                      "at_ms": at, "by": sign.get("by", ""), "result": _result(at, due)})
    order = list(state.event.get("departments", ()))
    depts = sorted(_tally(tasks, "department"), key=lambda r: (order.index(r["department"])
                                                               if r["department"] in order else len(order)))
    # No sign-off at all: readiness was not kept on the system this time, so "never" would judge nobody's work.
    return {"tasks": tasks, "departments": depts, "tracked": bool(done), "stages": _stages(state)}


def _stages(state: Any) -> dict[str, Any]:
    """The seed's order (issue 16 item 6): each department's plan submitted and merged, then the full rehearsal."""
    marks = state.readiness.get("stages", {})
    rows = [{"department": d, "stage": prep.stage_of(state, d),
             "submitted_ms": int(marks.get(d, {}).get("submitted", {}).get("ms", 0)),
             "merged_ms": int(marks.get(d, {}).get("merged", {}).get("ms", 0))}
            for d in state.event.get("departments", ())]
    return {"departments": rows, "total": len(rows), "submitted": sum(r["stage"] != "none" for r in rows),
            "merged": sum(r["stage"] == "merged" for r in rows),
            "rehearsed_ms": int((state.readiness.get("rehearsed") or {}).get("ms", 0))}


def _roster(state: Any, signins: dict[str, int]) -> dict[str, Any]:
    slots = []
    for entry in state.event.get("roster", ()):
        at, due = signins.get(entry["key"], 0), int(entry.get("from_ms", 0))
        slots.append({"station": entry["station"], "post": state.stations.get(entry["station"], {}).get("post", ""),
                      "name": entry.get("name", ""), "from_ms": due, "at_ms": at, "result": _result(at, due)})
    return {"slots": slots, "stations": _tally(slots, "station"), "tracked": bool(signins)}


def _handoff(state: Any) -> dict[str, Any]:
    """Per link of the way in (parking, concierge, lobby, the host): sent, acknowledged, late, missed, times."""
    wait = int(state.event.get("vip_ack_ms", 120_000))
    times: dict[str, list[int]] = {link: [] for link in HANDOFF_LINKS}
    sent = dict.fromkeys(HANDOFF_LINKS, 0)
    host_posts: dict[str, str] = {}
    missed, items = [], []     # items: every notice, for the rehearsal's scorecard (scenarios.scorecard)
    g = state.guests
    for ref, notices in g["notices"].items():
        for key, gseq in notices.items():
            kind, _, link = key.partition(":")
            inst = state.instructions.get(gseq)
            if kind != "vip" or link not in sent or inst is None:
                continue
            sent[link] += 1
            acked = min(inst["acks"].values()) if inst["acks"] else None
            items.append({"ref": ref, "link": link, "sent_ms": inst["sent_ms"], "ack_ms": acked, "wait_ms": wait,
                          "alarm_ms": g["overdue"].get(f"{ref}/{link}")})
            if link == "host":
                host_posts[ref] = state.stations.get(inst["target"].partition(".")[2], {}).get("post", "")
            if inst["acks"]:
                times[link].append(min(inst["acks"].values()) - inst["sent_ms"])
            else:
                missed.append({"ref": ref, "name": g["list"].get(ref, {}).get("name", ""), "link": link,
                               "ms": inst["sent_ms"]})
    links = [{"link": link, "sent": sent[link], "acked": len(times[link]),
              "late": sum(1 for x in times[link] if x > wait), "missed": sent[link] - len(times[link]),
              "median_ms": int(median(times[link])) if times[link] else None,
              "max_ms": max(times[link]) if times[link] else None} for link in HANDOFF_LINKS if sent[link]]
    parties = sum(1 for n in g["notices"].values() if any(k.startswith("vip:") for k in n))
    alarms = sum(1 for k in g["overdue"] if not k.startswith("sendoff:"))
    return {"parties": parties, "ack_target_ms": wait, "links": links, "alarms": alarms, "items": items,
            "missed": sorted(missed, key=lambda m: m["ms"]), "host_post": sorted(set(host_posts.values()))}


def _guests(state: Any) -> dict[str, Any]:
    g, levels = state.guests, {}
    for ref, guest in g["list"].items():
        seen = g["arrived"].get(ref)
        row = levels.setdefault(guest.get("level") or NO_LEVEL, {"level": guest.get("level") or NO_LEVEL,
                                                                  "listed": 0, "listed_people": 0, "arrived": 0,
                                                                  "arrived_people": 0})
        row["listed"] += 1
        row["listed_people"] += int(guest.get("party", 1) or 1)
        if seen is not None:
            row["arrived"] += 1
            row["arrived_people"] += int(seen.get("party") or 1)
    rows = sorted(levels.values(), key=lambda r: r["level"])
    total = {k: sum(r[k] for r in rows) for k in ("listed", "listed_people", "arrived", "arrived_people")}
    return {**total, "walkin_parties": g["walkins"]["parties"], "walkin_people": g["walkins"]["people"],
            "levels": rows}


def _damages(state: Any) -> dict[str, Any]:
    items, posts, places = [], {}, {}
    for d in state.damages:
        post = state.stations.get(d["station"], {}).get("post", "")
        items.append({"ms": d["ms"], "station": d["station"], "post": post, "item": d["item"], "where": d["where"],
                      "loss": d["loss"]})
        row = posts.setdefault(post, {"post": post, "damage": 0, "loss": 0})
        row["loss" if d["loss"] else "damage"] += 1
        if d["where"]:
            places[d["where"]] = places.get(d["where"], 0) + 1
    return {"count": len(items), "losses": sum(1 for i in items if i["loss"]), "items": items,
            "posts": list(posts.values()), "places": sorted(places.items(), key=lambda p: (-p[1], p[0]))}


def figures(state: Any, signins: dict[str, int]) -> dict[str, Any]:
    return {"preparation": _preparation(state), "roster": _roster(state, signins), "handoff": _handoff(state),
            "guests": _guests(state), "damages": _damages(state), "vip_spaces": _vip_spaces(state)}


def _vip_spaces(state: Any) -> list[dict[str, Any]]:
    """Per lot with reserved VIP spaces (贵宾车位, issue 16 item 4): reserved, given to a car, of those a listed guest's."""
    out = []
    for lot in state.event.get("lots", ()):
        if lot.get("vip_spaces"):
            taken = state.lots.get(lot["id"], {}).get("vip_taken", {})
            out.append({"lot": lot["id"], "reserved": len(lot["vip_spaces"]), "taken": len(taken),
                        "listed": sum(bool(x.get("guest")) for x in taken.values())})
    return out


# --- findings ------------------------------------------------------------------------------------

def _add(out: dict[str, dict[str, list]], dept: str, side: str, key: str, ms: int, **params: Any) -> None:
    out.setdefault(dept, {"highlights": [], "shortcomings": [], "notes": []})[side].append(
        {"key": key, "ms": ms, "params": params})


def _pair(key: str, **params: Any) -> dict[str, str]:
    return {"zh": t(key, "zh", **params), "en": t(key, "en", **params)}


def _link_dept(link: str, f: dict[str, Any]) -> str:
    if link == "host":   # the host's station (where the notice went) is staffed by its post's department
        return POST_DEPARTMENT.get(f["host_post"][0], DESK_DEPARTMENT) if len(f["host_post"]) == 1 else DESK_DEPARTMENT
    return POST_DEPARTMENT[link]


def findings(f: dict[str, Any], stations: list[dict[str, Any]], out: dict[str, dict[str, list]]) -> None:
    """Every department that signed off tasks, staffed posts, passed on a VIP, received guests or reported damage."""
    for row in f["preparation"]["departments"]:
        if row["on_time"]:
            _add(out, row["department"], "highlights", "prep.on_time", 0, n=row["on_time"], of=row["total"])
    for task in f["preparation"]["tasks"] if f["preparation"]["tracked"] else ():
        title = {"zh": task["title"], "en": task["title_en"] or task["title"]}
        if task["result"] == "late":
            _add(out, task["department"], "shortcomings", "prep.late", task["at_ms"], task=title,
                 late_for=task["at_ms"] - task["due_ms"])
        elif task["result"] == "never":
            _add(out, task["department"], "shortcomings", "prep.never", task["due_ms"], task=title, due_at=task["due_ms"])
    on_time: dict[str, list[int]] = {}
    for slot in f["roster"]["slots"] if f["roster"]["tracked"] else ():
        dept = POST_DEPARTMENT.get(slot["post"], DESK_DEPARTMENT)
        where = {"zh": rt.name_of(stations, slot["station"], "zh"), "en": rt.name_of(stations, slot["station"], "en")}
        who = {"zh": slot["name"], "en": slot["name"]}
        tally = on_time.setdefault(dept, [0, 0])
        tally[1] += 1
        if slot["result"] == "on_time":
            tally[0] += 1
        elif slot["result"] == "late":
            _add(out, dept, "shortcomings", "roster.late", slot["at_ms"], who=who, station=where,
                 late_for=slot["at_ms"] - slot["from_ms"])
        else:
            _add(out, dept, "shortcomings", "roster.never", slot["from_ms"], who=who, station=where,
                 from_at=slot["from_ms"])
    for dept, (n, of) in on_time.items():
        if n:
            _add(out, dept, "highlights", "roster.on_time", 0, n=n, of=of)
    h = f["handoff"]
    sendoffs.link_findings(out, h["links"], h["ack_target_ms"], "handoff", lambda link: _link_dept(link, h),
                           lambda link: {"link": _pair(f"guestdesk.link.{link}")})
    for m in h["missed"]:
        _add(out, _link_dept(m["link"], h), "shortcomings", "handoff.missed", m["ms"],
             link=_pair(f"guestdesk.link.{m['link']}"), who={"zh": m["name"], "en": m["name"]}, sent_at=m["ms"])
    g = f["guests"]
    if g["arrived"] or g["walkin_parties"]:
        _add(out, GUEST_DEPARTMENT, "highlights", "guests.received", 0, n=g["arrived"], of=g["listed"],
             people=g["arrived_people"], walkins=g["walkin_parties"])
    for row in f["damages"]["posts"]:
        _add(out, POST_DEPARTMENT.get(row["post"], DESK_DEPARTMENT), "highlights", "damage.reported", 0,
             post=row["post"], damage=row["damage"], loss=row["loss"])


# --- words ---------------------------------------------------------------------------------------

def level(code: str, lang: str) -> str:
    return t(f"report.guestlist.level.{code}", lang) if code in ("A", "B", "C") else t("report.guestlist.level.none", lang)


def result(code: str, lang: str) -> str:
    return t(f"report.prep.result.{code}", lang)


def stage_lines(st: dict[str, Any], lang: str, when: Any) -> list[str]:
    """The plan stages in words: merged and submitted of all, the departments not merged, and the rehearsal."""
    if not st or not (st["submitted"] or st["rehearsed_ms"]):
        return [t("report.prep.stage.untracked", lang)] if st else []
    out = [t("report.prep.stage.line", lang, merged=st["merged"], submitted=st["submitted"], total=st["total"])]
    out += [f"{rt.dept(r['department'], lang)} · {t('readiness.prep.stage.' + r['stage'], lang)}"
            for r in st["departments"] if r["stage"] != "merged"]
    out.append(t("report.prep.stage.rehearsed", lang, at=when(st["rehearsed_ms"])) if st["rehearsed_ms"]
               else t("report.prep.stage.not_rehearsed", lang))
    return out


def sections(s: Any, lang: str) -> list[tuple[str, str, tuple[str, ...], list[list[Any]], list[str]]]:
    """(heading, lead, column heads, rows, bullets) per part the log has something for, in the report's order."""
    f, tz, out = s.extra.get("service_day") or {}, s.tz, []
    if not f:
        return out

    def col(*keys: str) -> tuple[str, ...]:
        return tuple(t(f"report.svcday.col.{k}", lang) for k in keys)

    def when(ms: int) -> str:   # a rehearsal's preparation is done before its clock starts, on real time
        return t("report.svcday.before_start", lang) if ms and ms < s.first_ms else rt.clock(ms, tz)

    prep = f["preparation"]
    if prep["tasks"]:
        out.append((t("report.prep.section", lang),
                    t("report.prep.lead" if prep["tracked"] else "report.prep.untracked", lang),
                    col("department", "total", "on_time", "late", "never"),
                    [[rt.dept(r["department"], lang), r["total"], r["on_time"], r["late"], r["never"]]
                     for r in prep["departments"]],
                    [f"{rt.dept(x['department'], lang)} · {(x['title_en'] or x['title']) if lang == 'en' else x['title']} · "
                     f"{result(x['result'], lang)}" + (f" · {when(x['at_ms'])}" if x["at_ms"] else "")
                     for x in prep["tasks"] if x["result"] != "on_time"] + stage_lines(prep["stages"], lang, when)))
    ros = f["roster"]
    if ros["slots"]:
        out.append((t("report.roster.section", lang),
                    t("report.roster.lead" if ros["tracked"] else "report.roster.untracked", lang),
                    col("station", "who", "from", "signed_in", "result"),
                    [[rt.name_of(s.stations, x["station"], lang), x["name"], rt.clock(x["from_ms"], tz),
                      when(x["at_ms"]), result(x["result"], lang)] for x in ros["slots"]], []))
    h = f["handoff"]
    if h["links"]:
        out.append((t("report.handoff.section", lang),
                    t("report.handoff.lead", lang, n=h["parties"], target=rt.dur(h["ack_target_ms"], lang),
                      alarms=h["alarms"]),
                    col("link", "sent", "acked", "median", "slowest", "late", "missed"),
                    [[t(f"guestdesk.link.{r['link']}", lang), r["sent"], r["acked"], rt.dur(r["median_ms"], lang),
                      rt.dur(r["max_ms"], lang), r["late"], r["missed"]] for r in h["links"]],
                    [f"{rt.clock(m['ms'], tz)} · {m['name']} · {t('guestdesk.link.' + m['link'], lang)}"
                     for m in h["missed"]]))
    g = f["guests"]
    if g["listed"] or g["walkin_parties"]:
        out.append((t("report.guestlist.section", lang),
                    t("report.guestlist.lead", lang, listed=g["listed"], listed_people=g["listed_people"],
                      arrived=g["arrived"], arrived_people=g["arrived_people"], walkins=g["walkin_parties"],
                      walkin_people=g["walkin_people"]),
                    col("level", "listed", "listed_people", "arrived", "arrived_people"),
                    [[level(r["level"], lang), r["listed"], r["listed_people"], r["arrived"], r["arrived_people"]]
                     for r in g["levels"]], []))
    if f.get("vip_spaces"):
        out.append((t("report.vip_spaces.section", lang), t("report.vip_spaces.lead", lang),
                    (t("report.vip_spaces.col.lot", lang), t("report.vip_spaces.col.reserved", lang),
                     t("report.vip_spaces.col.taken", lang), t("report.vip_spaces.col.listed", lang)),
                    [[rt.name_of(s.lots, r["lot"], lang), r["reserved"], r["taken"], r["listed"]] for r in f["vip_spaces"]], []))
    d = f["damages"]
    if d["count"]:
        out.append((t("report.damage.section", lang),
                    t("report.damage.lead", lang, n=d["count"], losses=d["losses"],
                      places=t("report.damage.sep", lang).join(f"{w}（{n}）" if lang == "zh" else f"{w} ({n})"
                                                              for w, n in d["places"]) or rt.NONE),
                    col("post", "damage", "loss"),
                    [[rt.post(r["post"], lang), r["damage"], r["loss"]] for r in d["posts"]],
                    [f"{rt.clock(x['ms'], tz)} · {rt.name_of(s.stations, x['station'], lang)} · {x['item']}"
                     + (f" · {x['where']}" if x["where"] else "")
                     + f" · {t('report.damage.loss' if x['loss'] else 'report.damage.damage', lang)}" for x in d["items"]]))
    return out
