"""The phone page as data: a post's actions as big buttons and forms, its figures, reports and instructions, in one language; pure.

Built from the same `Post` definitions as the Textual terminal (stations/terminal/posts), so every
post gets its buttons with no phone-specific code per post. The browser only lays out what this
module says; every word on the page comes from here, from the catalogue, so the language switch
switches everything. No sockets, no files, no clock: the server hands in the View it read.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from protocols import eventtime, i18n
from stations.records import REJECTED
from stations.terminal.posts import duty
from stations.terminal.posts.base import Action, Area, Field, Post, Site
from stations.terminal.posts.common import describe
from stations.terminal.posts.gate import holds
from stations.terminal.screens.view import View
from stations.terminal.widgets.link_bar import link_line
from stations.terminal.widgets.report_list import reason, state_words

# Keys the phone does its own way: the instructions are always on the page, the lot or zone is picked
# with buttons above the keys. Guest look-up and service calls stay on the Textual terminal for now.
ON_PAGE = ("inbox", "cycle")
NOT_ON_PHONE = ("guests", "calls")
SHOWN_REPORTS = 20

WORDS = ("station.web.reports", "station.web.instructions", "station.web.no_instructions", "station.web.send",
         "station.web.cancel", "station.web.ack", "station.web.acked", "station.web.area", "station.web.empty",
         "station.web.offline_page")


def other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def phone_actions(post: Post, site: Site, view: View | None, lang: str) -> list[Action]:
    """The post's actions as the phone offers them: the duty key opens into sign in and sign out."""
    out: list[Action] = []
    for action in post.actions:
        if action.kind in ON_PAGE or action.kind in NOT_ON_PHONE:
            continue
        if action.kind == "duty":
            out.append(duty.signin_action(site))
            # Sign-out keys share one id; the person makes each one its own.
            out += [replace(duty.signout_action(p), id=f"signout:{p.get('staff_no') or p.get('name')}")
                    for p in (view.on_duty if view is not None else ())]
            done = view.tasks_done if view is not None else frozenset()
            out += [duty.task_action(task, lang) for task in site.tasks if str(task.get("id", "")) not in done]
            continue
        out.append(action)
    return out


def find_action(post: Post, site: Site, view: View | None, lang: str, action_id: str) -> Action | None:
    return next((a for a in phone_actions(post, site, view, lang) if a.id == action_id), None)


def _field(f: Field, lang: str, site: Site) -> dict[str, Any]:
    return {"name": f.name, "label": i18n.t(f.label, lang), "kind": f.kind, "default": f.default,
            "choices": [{"value": v, "label": i18n.t(label, lang)} for v, label in f.choices]}


def refusal(post: Post, site: Site, action: Action, view: View | None, lang: str) -> str:
    """The post's own rule against this key now (the gate's hold), in words; "" when it may be used."""
    if post.guard is None or action.kind != "report":
        return ""
    key = post.guard(site, action.id, view.orders if view is not None else ())
    if not key:
        return ""
    # The terminal's sentence names F-keys; where the phone has its own (buttons by name), that one.
    phone = "station.web." + key.removeprefix("station.")
    return i18n.t(phone if i18n.has(phone) else key, lang)


def model(post: Post, site: Site, view: View | None, lang: str, area: str = "") -> dict[str, Any]:
    """Everything the phone shows, as JSON-ready data, in `lang`."""
    areas = post.areas(site)
    chosen = next((a for a in areas if a.id == area), areas[0] if areas else None)
    status = view.status if view is not None else None
    link = link_line(status, lang) if status is not None else (i18n.t("station.link.connecting", lang, waiting=0),
                                                               "busy")
    names = site.area_names(lang)
    zone = eventtime.zone_or_default(site.timezone)
    out: dict[str, Any] = {
        "lang": lang, "switch": i18n.t("station.web.switch", other(lang)), "other": other(lang),
        "title": site.label(lang), "post": i18n.t(f"post.{site.post}", lang),
        "drill": i18n.t("station.drill", lang) if status is not None and status.drill else "",
        "link": {"text": link[0], "kind": link[1]},
        "words": {w.rsplit(".", 1)[-1]: i18n.t(w, lang) for w in WORDS},
        "areas": [{"id": a.id, "label": a.label(lang)} for a in areas],
        "area": chosen.id if chosen is not None else "",
        "actions": [], "counts": [], "reports": [], "instructions": [], "holds": [],
    }
    # Duty (sign in, sign out, preparation tasks) folds away under its own key: the post's reports come first.
    base = {a.id for a in post.actions}
    duty_ids = {a.id for a in phone_actions(post, site, view, lang) if a.id not in base}
    out["words"]["duty"] = next((i18n.t(a.label, lang) for a in post.actions if a.kind == "duty"), "")
    for action in phone_actions(post, site, view, lang):
        title = action.title or i18n.t(action.label, lang)
        out["actions"].append({
            "id": action.id, "label": title, "fields": [_field(f, lang, site) for f in action.fields],
            "group": "duty" if action.id in duty_ids else "keys",
            "refused": refusal(post, site, action, view, lang),
            "remind": i18n.t(action.remind, lang) if action.remind else ""})
    if view is None:
        return out
    for count in view.counts:
        label = count.area.label(lang) if count.area is not None else i18n.t(count.label, lang)
        out["counts"].append({"label": label, "value": count.value, "capacity": count.capacity,
                              "selected": chosen is not None and count.area is not None and count.area.id == chosen.id})
    for report in view.recent[:SHOWN_REPORTS]:
        out["reports"].append({
            "seq": report.seq, "state": report.state, "state_text": state_words(report, lang),
            "time": eventtime.clock(report.created_ms, zone),
            "what": describe(report.type, report.body, lang, names),
            "reason": reason(report, lang) if report.state == REJECTED else ""})
    for item in view.instructions:
        out["instructions"].append({"id": item.id, "text": item.text_for(lang), "ack_required": item.ack_required,
                                    "acked": item.acked_ms is not None or item.id in view.acks,
                                    "time": eventtime.clock(item.received_ms, zone)})
    if post.hold_banner:
        out["holds"] = [i18n.t("station.web.hold", lang, text=h.text_for(lang)) for h in holds(site, view.orders)]
    return out


def area_of(post: Post, site: Site, area: str) -> Area | None:
    areas = post.areas(site)
    return next((a for a in areas if a.id == area), areas[0] if areas else None)


def values_for(action: Action, sent: Any) -> dict[str, Any]:
    """The form's values as the phone sent them, each field present (its default when missing)."""
    sent = sent if isinstance(sent, dict) else {}
    return {f.name: sent.get(f.name, f.default) for f in action.fields}
