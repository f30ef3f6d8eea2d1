"""The guest screen's parts: expected against arrived, the VIP hand-off chains, and every guest on the list.

Everything comes from console.core.guests_rules over the View; names, organisations and notes came
from an office's spreadsheet and are shown as plain Text.
"""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.core import guests_rules
from console.desk.widgets import fmt
from console.desk.widgets.chrome import show_text
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View

STATUS_STYLE = {"arrived": "green", "late": "bold red", "expected": "yellow", "departed": "dim"}
LINK_STYLE = {"acked": "green", "waiting": "bold yellow", "overdue": "bold white on red", "unsent": "dim"}
LINK_MARK = {"acked": "✓", "waiting": "…", "overdue": "✖", "unsent": "—"}
LEVEL_STYLE = {"A": "bold magenta", "B": "magenta", "C": ""}


def link_cell(view: View, link: guests_rules.LinkView) -> Text:
    """One link of a chain (the hand-off's or the send-off's): ✓ and when, or its state in words."""
    cell = Text(f"{LINK_MARK[link.status]} ", style=LINK_STYLE[link.status])
    if link.status == "acked":
        cell.append(fmt.clock(link.acked[0][1], view.tz)[:5], style="green")
    else:
        cell.append(view.t(f"guestdesk.link_status.{link.status}"), style=LINK_STYLE[link.status])
    return cell


def needs(view: View, guest: guests_rules.GuestView) -> Text:
    return fmt.safe(guests_rules.needs_words({"needs": guest.needs, "needs_note": guest.needs_note}, view.lang))


class GuestSummary(Static):
    """One or two lines: listed, arrived, late, still expected, VIPs, walk-ins, hand-off links open or overdue."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        totals, _ = guests_rules.view(view.state, view.now_ms)
        g = view.state.guests
        if not totals.listed:
            show_text(self, Text(view.t("guestdesk.no_list"), style="dim"), layout=True)
            return
        text = Text()
        pairs = [("guestdesk.sum.listed", dict(n=totals.listed, people=totals.listed_people), ""),
                 ("guestdesk.sum.arrived", dict(n=totals.arrived, people=totals.arrived_people), "bold green"),
                 ("guestdesk.sum.late", dict(n=totals.late), "bold red" if totals.late else "dim"),
                 ("guestdesk.sum.expected", dict(n=totals.expected), "yellow" if totals.expected else "dim"),
                 ("guestdesk.sum.vip", dict(n=totals.vip, arrived=totals.vip_arrived), "magenta"),
                 ("guestdesk.sum.walkins", dict(n=totals.walkin_parties, people=totals.walkin_people), "dim")]
        if totals.links_open or totals.links_overdue:
            pairs.append(("guestdesk.sum.links", dict(open=totals.links_open, overdue=totals.links_overdue),
                          "bold white on red" if totals.links_overdue else "bold yellow"))
        for i, (key, params, style) in enumerate(pairs):
            if i:
                text.append(" · ", style="dim")
            text.append(view.t(key, **params), style=style)
        counts = guests_rules.meals(view.state)
        if any(counts.values()):   # for the catering contact: meals by dietary need, in people
            text.append("\n" + view.t("guestdesk.meals.head"), style="bold")
            text.append(" · ".join(view.t("guestdesk.meals.one", need=view.t(f"need.{need}"), n=n)
                                   for need, n in counts.items()))
        text.append("  ")
        text.append(view.t("guestdesk.source", source=g.get("source", ""), at=fmt.clock(g.get("listed_ms", 0), view.tz)[:5]),
                    style="dim")
        show_text(self, text, layout=True)   # may wrap to a second line


class ChainsTable(ViewTable):
    """Each VIP who arrived, with every link of the hand-off: acknowledged, waiting, overdue or not sent."""

    FLEX = ("guestdesk.col.guest",)

    @staticmethod
    def title(view: View) -> str:
        """What the table holds: 贵宾交接（停车场 → 礼宾 → 大堂 → 样板间 → 陪同领导 → 陪同）, its link columns in order."""
        links = view.t("guestdesk.panel.chain_step").join(view.t(f"guestdesk.link.{link}")
                                                          for link in guests_rules.shown_links(view.state))
        return view.t("guestdesk.panel.chains", links=links)

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("guestdesk.col.guest", None), ("guestdesk.col.arrived", None)] + [
            (f"guestdesk.link.{link}", None) for link in guests_rules.shown_links(view.state)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for guest in guests_rules.chains(view.state, view.now_ms):
            who = Text(f"{guest.level} ", style=LEVEL_STYLE.get(guest.level, "")) + fmt.safe(guest.name, "bold")
            who.append(f" ×{guest.arrived_party or guest.party}", style="dim")
            arrived = Text(fmt.clock(guest.arrived_ms, view.tz)[:5] + " ")
            arrived.append_text(fmt.safe(fmt.station_name(view.state, guest.station, view.lang), "dim"))
            links = {link.link: link for link in guest.links}
            cells: list[Any] = [who, arrived]
            for name in guests_rules.shown_links(view.state):
                link = links.get(name)
                if link is None:
                    cells.append(Text("", style="dim"))
                    continue
                if link.status == "overdue" and not link.gseq and name == "host":
                    cell = Text(f"{LINK_MARK['overdue']} ", style=LINK_STYLE["overdue"])
                    cell.append(view.t("guestdesk.link.no_host"), style=LINK_STYLE["overdue"])
                else:
                    cell = link_cell(view, link)
                cells.append(cell)
            yield guest.ref, cells


class GuestsTable(ViewTable):
    """Every guest on the list: late first, then those still expected, then those who arrived."""

    FLEX = (("guestdesk.col.org", "guestdesk.col.needs", "guestdesk.col.name"),)

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        org = [] if self.compact else [("guestdesk.col.org", None)]
        return [("guestdesk.col.status", None), ("guestdesk.col.ref", None), ("guestdesk.col.name", None), *org,
                ("guestdesk.col.level", None), ("guestdesk.col.party", None), ("guestdesk.col.expected", None),
                ("guestdesk.col.arrived", None), ("guestdesk.col.needs", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        _, guests = guests_rules.view(view.state, view.now_ms)
        for g in guests:
            shown = "departed" if g.departed_ms else g.status   # 离开: a guest_departure named them
            status = Text(view.t(f"guestdesk.status.{shown}"), style=STATUS_STYLE[shown])
            party = Text(f"{g.arrived_party}/{g.party}" if g.status == "arrived" else str(g.party), justify="right")
            if g.status == "arrived" and g.arrived_party != g.party:
                party.stylize("bold yellow")
            expected = fmt.safe(g.arrive or "—")
            if g.moved:   # the desk moved it: the newest time, marked, so nobody reads the list's old one
                expected = Text(fmt.clock(g.arrive_ms, view.tz)[:5] + view.t("guestdesk.expect.moved"), style="bold")
            if g.via:
                expected.append(" ")
                expected.append_text(fmt.safe(g.via, "dim"))
            arrived = Text("—", style="dim")
            if g.status == "arrived":
                arrived = Text(fmt.clock(g.arrived_ms, view.tz)[:5] + (" ✓" if g.checked_in else ""))
            org = [] if self.compact else [fmt.safe(g.org)]
            yield g.ref, [status, fmt.safe(g.ref, "dim"), fmt.safe(g.name, "bold" if g.vip else ""), *org,
                          Text(g.level, style=LEVEL_STYLE.get(g.level, "")), party, expected, arrived, needs(view, g)]
