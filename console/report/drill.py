"""The rehearsal part of the summary: the drill scorecard and how it compares with earlier rehearsals; pure.

Works from scorecard dicts (DIR/report/rehearsal-*.json, as scenarios.scorecard writes them) and
words them with the scorecard's own helpers (console.report.card_text), so the report and the scorecard file agree.
Returns console.report.doc blocks; reading the files is console.report.files's job.
"""
from __future__ import annotations

from typing import Any

from console.report import card_text as render
from console.report.card_text import seconds
from console.report.doc import Bullets, Heading, Para, Table
from protocols.i18n import t


def _when(card: dict[str, Any]) -> str:
    return render.started_at(card)


def _title(card: dict[str, Any], lang: str) -> str:
    sc = card["scenario"]
    return (sc.get("name_en") or sc.get("name", "")) if lang == "en" else (sc.get("name") or sc.get("name_en", ""))


def _mean(values: list[int]) -> int | None:
    return sum(values) // len(values) if values else None


def _acks(card: dict[str, Any]) -> list[int]:
    return [i["ack_delay"] for i in card.get("incidents", ()) if i.get("ack_delay") is not None]


def _short(r: dict[str, Any] | None, lang: str) -> str:
    if r is None:
        return "—"
    return f"{t('score.status.' + r['status'], lang)} {render.figure(r['measured'], r['unit'], lang)}".strip()


def _change(a: dict[str, Any] | None, b: dict[str, Any], lang: str) -> str:
    if a is None or a["measured"] is None or b["measured"] is None or a["unit"] != b["unit"] \
            or a["unit"] not in ("ms", "count"):
        return ""
    delta = b["measured"] - a["measured"]
    if a["unit"] == "count":
        return f"{delta:+d}"
    return ("+" if delta >= 0 else "-") + seconds(abs(delta), lang)


def blocks(cards: list[dict[str, Any]], lang: str, latest: dict[str, Any] | None = None) -> list[Any]:
    """`cards` oldest first; `latest` is the scorecard of the run this report covers (default: the newest)."""
    out: list[Any] = [Heading(t("report.section.drill", lang), 2)]
    if not cards:
        return out + [Para(t("report.drill.none", lang))]
    card = latest or cards[-1]
    s = card.get("summary", {})
    out += [Heading(t("report.drill.card", lang, title=_title(card, lang), at=_when(card)), 3),
            Para(t("report.drill.run", lang, seed=card["run"]["seed"], speed=f"{card['run']['speed']:g}",
                   duration=seconds(card["scenario"]["duration_ms"], lang),
                   first=card["run"]["first_gseq"], last=card["run"]["last_gseq"])),
            Para(t("report.drill.clock", lang, speed=f"{card['run']['speed']:g}"), "note"),
            Para(render.totals(s, lang), "strong")]
    rows = []
    for r in card["expectations"]:
        detail = render.detail(card, r, lang)
        rows.append((render.label(r, lang), t(f"score.status.{r['status']}", lang),
                     render.figure(r["measured"], r["unit"], lang), render.figure(r["limit"], r["unit"], lang), detail))
    out.append(Table(tuple(t(f"score.col.{c}", lang) for c in ("expectation", "status", "measured", "limit", "detail")),
                     tuple(rows)))
    out += [Para(t("score.section.fixes", lang), "strong"),
            Bullets(tuple(render.fix_text(f, lang) for f in card.get("fixes", ())) or (t("score.fix.none", lang),))]
    out += [Heading(t("report.drill.history", lang), 3), Para(t("report.drill.history_how", lang), "note")]
    head = (*(t(f"report.col.{c}", lang) for c in ("started", "scenario", "seed", "speed")),
            *(t(f"score.status.{c}", lang) for c in render.STATUSES),
            *(t(f"report.col.{c}", lang) for c in ("ack_mean", "arrivals", "events")))
    hist = []
    for c in cards:
        cs = c.get("summary", {})
        mark = " ◀" if c is card else ""
        hist.append((_when(c) + mark, _title(c, lang), str(c["run"]["seed"]), f"×{c['run']['speed']:g}",
                     *(str(cs.get(c, 0)) for c in render.STATUSES),
                     seconds(_mean(_acks(c)), lang), str(c["log"]["people"].get("arrivals", 0)), str(c["log"]["events"])))
    out.append(Table(head, tuple(hist)))
    earlier = [c for c in cards if c is not card and c["scenario"]["slug"] == card["scenario"]["slug"]
               and c["run"]["started_ms"] < card["run"]["started_ms"]]
    if not earlier:
        return out + [Para(t("report.drill.first_of_kind", lang))]
    prev = earlier[-1]
    out += [Heading(t("report.drill.versus", lang, at=_when(prev)), 3)]
    by = {(r["kind"], render.label(r, lang)): r for r in prev["expectations"]}
    rows = []
    for r in card["expectations"]:
        before = by.get((r["kind"], render.label(r, lang)))
        rows.append((render.label(r, lang), _short(before, lang), _short(r, lang), _change(before, r, lang)))
    out.append(Table((t("score.col.expectation", lang), t("report.col.previous", lang), t("report.col.this_run", lang),
                      t("score.col.change", lang)), tuple(rows)))
    return out
