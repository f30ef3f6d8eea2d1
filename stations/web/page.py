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
from stations.terminal.posts import duty, plan_tasks
from stations.terminal.posts.base import Action, Area, Field, Post, Site
from stations.terminal.posts.common import describe
from stations.terminal.posts.gate import holds
from stations.terminal.posts.service_calls import Call
from stations.terminal.screens.view import View
from stations.terminal.widgets.link_bar import link_line
from stations.terminal.widgets.report_list import reason, state_words

# Keys the phone does its own way: the instructions and the service calls are always on the page, the
# lot or zone is picked with buttons above the keys; the guest list opens as a sheet with its own search.
ON_PAGE = ("inbox", "cycle", "calls")
SHOWN_REPORTS = 20
SHOWN_GUESTS = 30    # a page of matches: a few more letters narrow it, as on the terminal
SHOWN_CALLS = 20

WORDS = ("station.web.reports", "station.web.instructions", "station.web.no_instructions", "station.web.send",
         "station.web.cancel", "station.web.ack", "station.web.acked", "station.web.area", "station.web.empty",
         "station.web.offline_page")


def other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def site_now(site: Site, view: View | None) -> Site:
    """The site with the tasks and roster as the desk keeps them live (PROTOCOL.md 5.10), as the terminal's F8 reads them."""
    return site.as_now(view.status.event) if view is not None else site


def _task_key(task: dict[str, Any], site: Site, lang: str) -> Action:
    """A preparation task to sign off, with its due time when it has one (a rescheduled task shows its new one)."""
    action = duty.task_action(task, lang)
    due = duty.due_words(task, site, lang)
    return replace(action, title=f"{action.title} · {due}") if due else action


def phone_actions(post: Post, site: Site, view: View | None, lang: str) -> list[Action]:
    """The post's actions as the phone offers them: the duty key opens into sign in and sign out, and this
    terminal's preparation tasks as the desk keeps them now (a department's its own department's)."""
    site = site_now(site, view)
    out: list[Action] = []
    for action in post.actions:
        if action.kind in ON_PAGE:
            continue
        if action.kind == "duty":
            out.append(duty.signin_action(site))
            # Sign-out keys share one id; the person makes each one its own.
            out += [replace(duty.signout_action(p), id=f"signout:{p.get('staff_no') or p.get('name')}")
                    for p in (view.on_duty if view is not None else ())]
            done = view.tasks_done if view is not None else frozenset()
            out += [_task_key(task, site, lang) for task in duty.tasks_here(site) if str(task.get("id", "")) not in done]
            continue
        out.append(action)
    return out + step_actions(view, lang)


def step_actions(view: View | None, lang: str) -> list[Action]:
    """The open plan tasks given to this post, each as two big keys: done (at once) and skip (asks why), as the
    terminal's D and K; ids `step-done:RUN:STEP` and `step-skip:RUN:STEP`."""
    out: list[Action] = []
    for task in (view.tasks if view is not None else ()):
        def build(site: Site, v: dict[str, Any], area: Area | None, task: plan_tasks.Task = task,
                  status: str = "done") -> tuple[str, dict[str, Any]]:
            return plan_tasks.step_report(task, status, str(v.get("reason", "")).strip())

        def skip(site: Site, v: dict[str, Any], area: Area | None, task: plan_tasks.Task = task) -> tuple[str, dict[str, Any]]:
            return build(site, v, area, task, "skipped")
        order, ref = task.order(lang), f"{task.run}:{task.step}"
        out += [Action(f"step-done:{ref}", "", "station.plan.act_done", build, kind="step", title=order),
                Action(f"step-skip:{ref}", "", "station.plan.act_skip", skip, (Field("reason", "field.reason"),),
                       kind="step", title=f"{i18n.t('station.plan.skip_title', lang)} · {order}")]
    return out


def step_owed(view: View | None, action_id: str) -> int:
    """The plan order a step key settles, when its acknowledgement is still owed (the terminal acks it too); else 0."""
    for task in (view.tasks if view is not None else ()):
        if action_id.split(":", 1)[-1] == f"{task.run}:{task.step}" and action_id.startswith("step-"):
            item = task.item
            return item.id if item.ack_required and item.acked_ms is None and item.id not in view.acks else 0
    return 0


def find_action(post: Post, site: Site, view: View | None, lang: str, action_id: str,
                actions: list[Action] | None = None) -> Action | None:
    """The key the phone named: one of the post's (`actions`: phone_actions as already made for this View), or a
    guest's check-in (`checkin-REF`) from the list it holds."""
    if action_id.startswith("checkin-") and has(post, "guests") and view is not None:
        guest = next((g for g in view.guests if f"checkin-{g.get('ref', '')}" == action_id), None)
        return duty.checkin_action(guest, lang) if guest is not None else None
    keys = actions if actions is not None else phone_actions(post, site, view, lang)
    return next((a for a in keys if a.id == action_id), None)


def has(post: Post, kind: str) -> bool:
    """Whether the post's terminal has this kind of key (the guest list, the service calls)."""
    return any(a.kind == kind for a in post.actions)


def _key(action: Action, site: Site, lang: str, group: str, post: Post, view: View | None) -> dict[str, Any]:
    # A plan task's keys say what they do (done, skip); the task's order is their title, above them and on the form.
    label = i18n.t(action.label, lang) if action.kind == "step" else action.title or i18n.t(action.label, lang)
    return {"id": action.id, "label": label, "title": action.title,
            "fields": [_field(f, lang, site) for f in action.fields], "group": group,
            "opens": action.kind if action.kind == "guests" else "",
            "refused": refusal(post, site, action, view, lang),
            "remind": i18n.t(action.remind, lang) if action.remind else ""}


def guests(post: Post, site: Site, view: View | None, lang: str, query: str) -> dict[str, Any]:
    """The guest list's matches for `query`, as the terminal's F7 finds them (name, pinyin initials, reference):
    each with its line and its check-in key (the party size to confirm)."""
    listed = list(view.guests) if view is not None else []
    found = duty.search(listed, query, SHOWN_GUESTS)
    arrived = view.checked_in if view is not None else frozenset()
    empty = "" if found else i18n.t("station.guests.none" if listed else "station.guests.no_list", lang)
    return {"title": i18n.t("station.guests.title", lang, n=len(listed)), "empty": empty,
            "guests": [{"ref": str(g.get("ref", "")), "line": duty.guest_line(g, lang),
                        "vip": g.get("level") in duty.VIP,
                        "arrived": i18n.t("station.guests.checked_in", lang) if str(g.get("ref")) in arrived else "",
                        "action": _key(duty.checkin_action(g, lang), site, lang, "guests", post, view)}
                       for g in found]}


def may_take(call: Call) -> bool:
    """A call routed here that nobody took yet: acknowledging its notice takes it (the terminal's Enter)."""
    return not call.mine and call.status == "open" and call.notice is not None


def may_finish(call: Call) -> bool:
    """A call still open that the desk has numbered: it may be marked done from here (the terminal's d)."""
    return not call.closed and bool(call.id)


def calls(view: View | None, lang: str) -> list[dict[str, Any]]:
    """This post's service calls as the terminal's list shows them: raised here or routed here, with what may be done."""
    out = []
    for call in (view.calls if view is not None else ())[:SHOWN_CALLS]:
        if call.mine:
            what = i18n.t("station.calls.mine", lang) + " " + i18n.t(f"service.{call.service}", lang) + (
                i18n.t("svcrule.where", lang, where=call.where) if call.where else "")
        else:
            what = i18n.t("station.calls.routed", lang) + " " + (call.notice.text_for(lang) if call.notice else "")
        out.append({"id": call.id, "status": call.status, "what": what,
                    "status_text": i18n.t(f"svc_status.{'open' if call.status == 'saved' else call.status}", lang),
                    "take": may_take(call), "finish": may_finish(call)})
    return out


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


def model(post: Post, site: Site, view: View | None, lang: str, area: str = "",
          actions: list[Action] | None = None) -> dict[str, Any]:
    """Everything the phone shows, as JSON-ready data, in `lang` (`actions`: phone_actions as already made)."""
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
        "actions": [], "counts": [], "reports": [], "instructions": [], "holds": [], "calls": None,
    }
    # Duty (sign in, sign out, preparation tasks) folds away under its own key: the post's reports come first.
    base = {a.id for a in post.actions}
    actions = actions if actions is not None else phone_actions(post, site, view, lang)
    duty_ids = {a.id for a in actions if a.id not in base}
    out["words"]["duty"] = next((i18n.t(a.label, lang) for a in post.actions if a.kind == "duty"), "")
    for action in actions:
        group = "steps" if action.kind == "step" else "duty" if action.id in duty_ids else "keys"
        out["actions"].append(_key(action, site, lang, group, post, view))
    # The plan tasks given to this post (the terminal's banner, D and K): each its order and two big keys.
    out["words"]["steps"] = i18n.t("station.plan.web_steps", lang)
    out["steps"] = [{"plan": task.plan_name(lang), "order": task.order(lang), "done": f"step-done:{task.run}:{task.step}",
                     "skip": f"step-skip:{task.run}:{task.step}"} for task in (view.tasks if view is not None else ())]
    if has(post, "guests"):
        out["words"].update({"guests_search": i18n.t("station.guests.placeholder", lang)})
    if has(post, "calls"):
        out["words"].update({"calls": i18n.t("station.calls.title", lang), "calls_empty": i18n.t("station.calls.empty", lang),
                             "take": i18n.t("station.web.call_take", lang), "done": i18n.t("station.web.call_done", lang)})
        out["calls"] = calls(view, lang)
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
