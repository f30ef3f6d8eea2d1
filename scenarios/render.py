"""The scorecard as Markdown (the file, and on screen through rich), and two scorecards compared.

Works from the scorecard dict alone (the JSON file), so an old run can be re-read and
compared without its log. Every label comes from the catalogue; text that came from a
station is escaped for Markdown tables and never treated as markup.
"""
from __future__ import annotations

from typing import Any

# The card's words are shared with the summary's drill section (console.report.drill), so they live
# on the console side and are re-exported here for the scorecard and the command.
from console.report.card_text import BUCKET, STATUSES, clock, figure, fix_text, label, seconds, started_at, totals  # noqa: F401
from console.report.card_text import detail as card_detail
from protocols import names
from protocols.i18n import t


def _cell(value: Any) -> str:
    """Station text in a Markdown table cell: pipes and newlines escaped, markup characters neutralised."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def plan_lines(card: dict[str, Any], lang: str) -> list[str]:
    """Plan steps by department, then each run's steps against their targets."""
    plans = card["plans"]
    out = [f"## {t('score.section.plans', lang)}", ""]
    if not plans["enabled"]:
        return out + [t("score.figure.plans_pending", lang), ""]
    if not plans["runs"]:
        return out + [t("score.figure.plans_none", lang), ""]
    columns = ("on_time", "late", "open", "skipped", "cancelled")
    out += _table([t(f"score.col.{c}", lang) for c in ("department", *columns)],
                  [[t(f"dept.{d}", lang) if d else "—", *(v.get(c, 0) for c in columns)]
                   for d, v in plans["departments"].items()])
    for run in plans["runs"]:
        name = run["name"] if lang == "zh" else (run["name_en"] or run["name"])
        down = t("score.figure.stood_down", lang, at=clock(run["stood_down_scn"])) \
            if run["stood_down_scn"] is not None else t("score.figure.still_active", lang)
        ev = card["event"]
        cause = names.cause(run["cause"], lang, ev.get("stations", ()), ev.get("lots", ()), ev.get("zones", ()))
        out += [t("score.figure.plan_run", lang, id=run["id"], name=_cell(name), cause=cause,
                  started=clock(run["started_scn"]), down=down), ""]
        rows = []
        for st in run["steps"]:
            after = st["settled_after"]
            # The summary's own judgement of the step (console.report.summary), in the scorecard's columns.
            result = BUCKET.get(st["status"]) or ("open" if after is None else "skipped" if st["status"] == "skipped"
                                                  else "on_time" if after <= st["due_ms"] else "late")
            words = (st.get("do_en") if lang == "en" else None) or st.get("do") or st["id"]
            rows.append([_cell(words), t(f"dept.{st['department']}", lang) if st["department"] else "—",
                         seconds(st["due_ms"], lang), seconds(after, lang), t(f"score.col.{result}", lang)])
        out += _table([t(f"score.col.{c}", lang) for c in ("step", "department", "due", "settled", "status")], rows)
    return out + [t("score.figure.plan_clock", lang), ""]


def expectation_rows(card: dict[str, Any], lang: str) -> list[list[str]]:
    rows = []
    for r in card["expectations"]:
        detail = card_detail(card, r, lang)
        rows.append([_cell(label(r, lang)), t(f"score.status.{r['status']}", lang),
                     figure(r["measured"], r["unit"], lang), figure(r["limit"], r["unit"], lang), _cell(detail)])
    return rows


def markdown(card: dict[str, Any], lang: str = "zh") -> str:
    sc, run = card["scenario"], card["run"]
    title = sc["name"] if lang == "zh" else (sc["name_en"] or sc["name"])
    started = started_at(card, seconds=True)
    s = card["summary"]
    out = [f"# {t('score.title', lang, title=_cell(title))} — {t('scenario.cli.banner', lang)}", "",
           t("score.run_line", lang, seed=run["seed"], speed=f"{run['speed']:g}",
             duration=seconds(sc["duration_ms"], lang), wall=seconds(run["wall_ms"], lang), started=started), "",
           t("score.where", lang, dir=card["event"]["dir"], first=run["first_gseq"], last=run["last_gseq"]), "",
           f"**{totals(s, lang)}**",
           ""]
    if not run.get("complete", True):
        out += [f"**{t('score.stopped_early', lang, at=clock(run['ended_ms']), end=clock(sc['duration_ms']))}**", ""]
    if run["people"]:
        out += [t("score.people", lang, stations="、".join(_who(card, p, lang) for p in run["people"])), ""]
    if not run["sim_desk"]:
        out += [t("score.no_sim_desk", lang), ""]
    out += [f"## {t('score.section.expectations', lang)}", ""]
    out += _table([t(f"score.col.{c}", lang) for c in ("expectation", "status", "measured", "limit", "detail")],
                  expectation_rows(card, lang))
    out += [f"## {t('score.section.incidents', lang)}", ""]
    out += _table([t(f"score.col.{c}", lang) for c in ("id", "kind", "station", "location", "reported",
                                                       "acknowledged", "resolved", "department")],
                  [[i["id"], t(f"incident.{i['kind']}", lang), _who(card, i["station"], lang), _cell(i["location"]),
                    clock(i["opened_scn"]), seconds(i["ack_delay"], lang), seconds(i["resolve_delay"], lang),
                    t(f"dept.{i['department']}", lang) if i["department"] else "—"] for i in card["incidents"]])
    out += [f"## {t('score.section.instructions', lang)}", ""]
    out += _table([t(f"score.col.{c}", lang) for c in ("id", "target", "sent", "confirmed", "slowest")],
                  [[i["id"], _cell(names.target(card["event"].get("stations", ()), i["target"], lang)), clock(i["sent_scn"]),
                    f"{len(i['acks'])}/{len(i['expected'])}" if i["ack_required"] else "—",
                    seconds(max((a - i["sent_scn"] for a in i["acks"].values()), default=None), lang)]
                   for i in card["instructions"]])
    out += plan_lines(card, lang)
    out += [f"## {t('score.section.delivery', lang)}", ""]
    out += _table([t(f"score.col.{c}", lang) for c in ("station", "saved", "delivered", "rejected", "waiting", "logged")],
                  [[_who(card, sid, lang), d["saved"], d["delivered"], d["rejected"], d["waiting"], d["logged"]]
                   for sid, d in sorted(card["delivery"].items())])
    out += clock_lines(card, lang)
    out += [f"## {t('score.section.figures', lang)}", ""]
    out += _table([t("score.col.figure", lang), t("score.col.generated", lang), t("score.col.in_log", lang)],
                  figure_rows(card, lang))
    out += [t("score.speed_note", lang, speed=f"{run['speed']:g}", per_ms=f"{run['speed']:g}",
              late=run["liveness_s"]["late"], offline=run["liveness_s"]["offline"]),
            "", t("score.lag", lang, lag=seconds(run["lag_ms"], lang)), ""]
    out += [f"## {t('score.section.fixes', lang)}", ""]
    out += [f"- {_cell(fix_text(f, lang))}" for f in card["fixes"]] or [f"- {t('score.fix.none', lang)}"]
    return "\n".join(out) + "\n"


def clock_lines(card: dict[str, Any], lang: str) -> list[str]:
    """The posts' clocks the scenario set wrong (or the hub found wrong), and what the hub estimated."""
    clocks = card.get("clocks") or {}
    if not clocks:
        return []
    out = [f"## {t('score.section.clocks', lang)}", "", t("score.clock.how", lang), ""]
    return out + _table([t(f"score.col.{c}", lang) for c in ("station", "clock_set", "clock_estimated")],
                        [[_who(card, sid, lang), _ahead(c["set_ms"], lang), _ahead(c["estimated_ms"], lang)]
                         for sid, c in clocks.items()])


def _ahead(ms: int | None, lang: str) -> str:
    if ms is None:
        return t("score.status.none", lang)
    if not ms:
        return t("score.clock.right", lang)
    return t("score.clock.fast" if ms > 0 else "score.clock.slow", lang, d=seconds(abs(ms), lang))


def _who(card: dict[str, Any], rid: str, lang: str) -> str:
    return _cell(names.who(card["event"].get("stations", ()), rid, lang))


def figure_rows(card: dict[str, Any], lang: str) -> list[list[Any]]:
    g, log = card["generated"], card["log"]
    people = log["people"]
    rows = [[t("score.figure.guests", lang), g.get("guests_simulated", "—"), people.get("arrivals", 0)],
            [t("score.figure.departures", lang), g.get("departures_simulated", "—"), people.get("departures", 0)],
            [t("score.figure.cars_in", lang), g["by_type"].get("car_in", 0), log["cars"].get("in", 0)],
            [t("score.figure.cars_out", lang), g["by_type"].get("car_out", 0), log["cars"].get("out", 0)],
            [t("score.figure.reports", lang), g["reports"], log.get("posts_reports", "—")],
            [t("score.figure.events", lang), "—", log["events"]]]
    ev = card["event"]
    for lot, v in card["lots"].items():
        rows.append([t("score.figure.lot_peak", lang, lot=_cell(names.who(ev.get("lots", ()), lot, lang))), f"{g.get('lot_peak', {}).get(lot, '—')} / {v['capacity']}",
                     f"{v['peak']} / {v['capacity']}"])
    for zone, v in card["zones"].items():
        rows.append([t("score.figure.zone_peak", lang, zone=_cell(names.who(ev.get("zones", ()), zone, lang))), "—", f"{v['peak']} / {v['capacity']}"])
    return rows


def _mean(values: list[int]) -> int | None:
    return sum(values) // len(values) if values else None


def compare(a: dict[str, Any], b: dict[str, Any], lang: str = "zh") -> str:
    """Markdown: the same expectations side by side (A then B), with response-time and count changes."""
    title = lambda c: c["scenario"]["name"] if lang == "zh" else c["scenario"]["name_en"]  # noqa: E731
    out = [f"# {t('score.section.compare', lang)}", "",
           f"- A: {_cell(title(a))} — seed {a['run']['seed']}, ×{a['run']['speed']:g}, "
           + started_at(a),
           f"- B: {_cell(title(b))} — seed {b['run']['seed']}, ×{b['run']['speed']:g}, "
           + started_at(b), ""]
    head = [t("score.col.expectation", lang), "A", "B", t("score.col.change", lang)]
    rows, seen = [], set()
    b_by = {(r["kind"], label(r, lang)): r for r in b["expectations"]}
    for r in a["expectations"]:
        key = (r["kind"], label(r, lang))
        seen.add(key)
        other = b_by.get(key)
        rows.append([_cell(key[1]), _short(r, lang), _short(other, lang) if other else "—", _change(r, other, lang)])
    rows += [[_cell(k[1]), "—", _short(r, lang), ""] for k, r in b_by.items() if k not in seen]
    out += _table(head, rows)
    ack = lambda c: [i["ack_delay"] for i in c["incidents"] if i["ack_delay"] is not None]  # noqa: E731
    res = lambda c: [i["resolve_delay"] for i in c["incidents"] if i["resolve_delay"] is not None]  # noqa: E731
    fig = [[t("score.figure.ack_mean", lang), seconds(_mean(ack(a)), lang), seconds(_mean(ack(b)), lang)],
           [t("score.figure.ack_max", lang), seconds(max(ack(a), default=None), lang),
            seconds(max(ack(b), default=None), lang)],
           [t("score.figure.resolve_mean", lang), seconds(_mean(res(a)), lang), seconds(_mean(res(b)), lang)],
           [t("score.figure.guests", lang), a["log"]["people"].get("arrivals", 0), b["log"]["people"].get("arrivals", 0)],
           [t("score.figure.events", lang), a["log"]["events"], b["log"]["events"]]]
    out += _table([t("score.col.figure", lang), "A", "B"], fig)
    return "\n".join(out) + "\n"


def _short(r: dict[str, Any], lang: str) -> str:
    status = t("score.status." + r["status"], lang)
    return f"{status} {figure(r['measured'], r['unit'], lang)}".strip()


def _change(a: dict[str, Any], b: dict[str, Any] | None, lang: str) -> str:
    if not b or a["measured"] is None or b["measured"] is None or a["unit"] != b["unit"]:
        return ""
    delta = b["measured"] - a["measured"]
    if a["unit"] == "count":
        return f"{delta:+d}"
    return ("+" if delta >= 0 else "-") + seconds(abs(delta), lang)
