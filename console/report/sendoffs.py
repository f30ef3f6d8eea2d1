"""The summary's send-off part (恭送): how many parties were seen off, each link's acknowledgement times, links missed; pure.

`figures(state)` reads the folded picture at the end of the log (console.core.sendoff's records);
`findings(figures, out)` adds each department's highlights and shortcomings from them (the way-out
posts are staffed as console.report.findings says; the host link is the department of the post whose
station the host stood at); console.report.doc words them. No files.
"""
from __future__ import annotations

from collections.abc import Callable
from statistics import median
from typing import Any

from console.core import sendoff
from console.report.findings import DESK_DEPARTMENT, POST_DEPARTMENT
from protocols.i18n import t

RAISER_DEPARTMENT = "service"   # the model unit, concierge and lobby raise send-offs: Customer Service's posts


def figures(state: Any) -> dict[str, Any]:
    """Send-offs counted, per link (in the order of the way out) sent / acknowledged / late / missed with the
    median and slowest time to acknowledge, and every link never acknowledged."""
    wait = sendoff.ack_ms(state)
    times: dict[str, list[int]] = {link: [] for link in sendoff.ALL_LINKS}
    sent = dict.fromkeys(sendoff.ALL_LINKS, 0)
    missed: list[dict[str, Any]] = []
    host_posts: set[str] = set()   # the posts of the stations the host links went to
    chains = state.guests.get("sendoffs", {}).values()
    for so in chains:
        for link, gseq in so["links"].items():
            inst = state.instructions.get(gseq)
            if inst is None:
                continue
            sent[link] += 1
            post = state.stations.get(inst["target"].partition(".")[2], {}).get("post", "") if link == "host" else link
            if link == "host":
                host_posts.add(post)
            if inst["acks"]:
                times[link].append(min(inst["acks"].values()) - inst["sent_ms"])
            else:
                name = state.guests["list"].get(so["ref"], {}).get("name") or so["note"]
                missed.append({"id": so["id"], "name": name, "link": link, "ms": inst["sent_ms"], "post": post})
    links = [{"link": link, "sent": sent[link], "acked": len(times[link]),
              "late": sum(1 for x in times[link] if x > wait), "missed": sent[link] - len(times[link]),
              "median_ms": int(median(times[link])) if times[link] else None,
              "max_ms": max(times[link]) if times[link] else None} for link in sendoff.ALL_LINKS if sent[link]]
    return {"count": len(chains), "chains": [_chain(state, so) for so in chains],
            "listed": sum(1 for so in chains if so["ref"]),
            "vip": sum(1 for so in chains if so["vip"]), "complete": sum(1 for so in chains if so["complete_ms"]),
            "departed": sum(1 for so in chains if so["departed_ms"]), "ack_target_ms": wait, "links": links,
            "missed": sorted(missed, key=lambda m: m["ms"]), "host_post": sorted(host_posts)}


def _chain(state: Any, so: dict[str, Any]) -> dict[str, Any]:
    """One send-off as the rehearsal's scorecard judges it: raised, complete, and per link sent / acknowledged /
    due / alarmed (log times; a drill's log is on scenario time)."""
    wait, links = sendoff.ack_ms(state), []
    for link in sendoff.ALL_LINKS:
        inst = state.instructions.get(so["links"].get(link, 0))
        if inst is not None:
            links.append({"link": link, "sent_ms": inst["sent_ms"], "due_ms": inst["sent_ms"] + wait,
                          "ack_ms": min(inst["acks"].values()) if inst["acks"] else None,
                          "alarm_ms": state.guests["overdue"].get(f"sendoff:{so['id']}/{link}")})
    return {"id": so["id"], "ref": so["ref"], "ms": so["ms"], "complete_ms": so["complete_ms"] or None,
            "departed_ms": so["departed_ms"] or None, "links": links}


def _add(out: dict[str, dict[str, list]], dept: str, side: str, key: str, ms: int, **params: Any) -> None:
    out.setdefault(dept, {"highlights": [], "shortcomings": [], "notes": []})[side].append(
        {"key": key, "ms": ms, "params": params})


def link_findings(out: dict[str, dict[str, list]], rows: list[dict[str, Any]], target_ms: int, prefix: str,
                  dept_of: Callable[[str], str], named: Callable[[str], dict[str, Any]]) -> None:
    """Per link of a chain (a send-off's or a VIP hand-off's): all acknowledged in time, or how many late and the slowest."""
    for row in rows:
        dept, name = dept_of(row["link"]), named(row["link"])
        if row["acked"] and not row["late"] and not row["missed"]:
            _add(out, dept, "highlights", f"{prefix}.all_acked", 0, n=row["acked"], median_for=row["median_ms"],
                 target_for=target_ms, **name)
        elif row["late"]:
            _add(out, dept, "shortcomings", f"{prefix}.late", 0, n=row["late"], of=row["sent"],
                 slowest_for=row["max_ms"], target_for=target_ms, **name)


def _dept(post: str) -> str:
    return POST_DEPARTMENT.get(post, DESK_DEPARTMENT)


def findings(f: dict[str, Any], out: dict[str, dict[str, list]]) -> None:
    """The way-out posts' departments: all acknowledged in time, or each link late or never acknowledged."""
    if f["count"]:
        _add(out, RAISER_DEPARTMENT, "highlights", "sendoff.raised", 0, n=f["count"], complete=f["complete"],
             departed=f["departed"])
    hosts = f.get("host_post", [])   # hosts at stations of one post: that post's department; else the office's
    link_findings(out, f["links"], f["ack_target_ms"], "sendoff",
                  lambda link: _dept(link if link != "host" else hosts[0] if len(hosts) == 1 else ""),
                  lambda link: {"post": link})
    for m in f["missed"]:   # a walk-in party has no name but the note it was raised with, or none
        _add(out, _dept(m["post"]), "shortcomings", "sendoff.missed", m["ms"], post=m["link"],
             who={"zh": m["name"] or t("sendoffrule.walkin", "zh"), "en": m["name"] or t("sendoffrule.walkin", "en")},
             raised_at=m["ms"])
