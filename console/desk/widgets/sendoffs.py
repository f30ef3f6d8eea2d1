"""The send-off chains on the guest screen (恭送): who is leaving, from where and when, each post on the way out.

Everything comes from console.core.sendoff over the View; a walk-in party's note came from a post and
is shown as plain Text. Hidden until the first send-off, so the guest screen of a quiet day is as it was.
"""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text

from console.core import sendoff
from console.desk.widgets import fmt
from console.desk.widgets.guests import LEVEL_STYLE, LINK_MARK, LINK_STYLE, link_cell
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View

STATUS_STYLE = {"waiting": "bold yellow", "overdue": "bold white on red", "complete": "green", "departed": "dim"}


class SendoffTable(ViewTable):
    """Each send-off, open ones first: every link acknowledged (and when), waiting (and for how long) or overdue."""

    FLEX = ("guestdesk.sendoff.col.raised", "guestdesk.sendoff.col.guest")
    WIDE_AT = 110   # narrower: the raised column keeps its time, a waiting link its mark and its age

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("guestdesk.sendoff.col.guest", None), ("guestdesk.sendoff.col.raised", None)] + [
            (f"post.{link}", None) for link in sendoff.shown_links(view.state)] + [("guestdesk.sendoff.col.status", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for so in sendoff.chains(view.state, view.now_ms):
            who = Text()
            if so.level in ("A", "B"):
                who.append(f"{so.level} ", style=LEVEL_STYLE[so.level])
            elif so.vip:
                who.append(view.t("word.vip") + " ", style="bold magenta")
            who.append_text(fmt.safe(so.name or view.t("guestdesk.sendoff.walkin"), "bold" if so.vip else ""))
            if so.party:
                who.append(f" ×{so.party}", style="dim")
            raised = Text(fmt.clock(so.ms, view.tz)[:5])
            if not self.compact:
                by = view.t("guestdesk.sendoff.desk") if so.by not in view.state.stations else \
                    fmt.station_name(view.state, so.by, view.lang)
                raised.append_text(fmt.safe(" " + by, "dim"))
            links = {link.link: link for link in so.links}
            cells: list[Any] = [who, raised]
            for name in sendoff.shown_links(view.state):
                link = links.get(name)
                if link is None:
                    cells.append(Text("—", style="dim"))
                    continue
                if link.status != "waiting":
                    cells.append(link_cell(view, link))
                    continue
                age = fmt.duration(view.now_ms - link.sent_ms, view.lang, short=True)   # how long the post has had it
                cell = Text(f"{LINK_MARK['waiting']} ", style=LINK_STYLE["waiting"]) if self.compact else \
                    link_cell(view, link) + Text(" ")
                cells.append(cell + Text(age, style=LINK_STYLE["waiting"] if self.compact else "dim"))
            status = Text(view.t(f"guestdesk.sendoff.status.{so.status}"), style=STATUS_STYLE[so.status])
            if so.status == "departed":
                status.append(" " + fmt.clock(so.departed_ms, view.tz)[:5], style="dim")
            cells.append(status)
            yield str(so.id), cells

    def watch_view(self, view: View | None) -> None:
        super().watch_view(view)
        self.display = bool(view is not None and view.state.guests.get("sendoffs"))
