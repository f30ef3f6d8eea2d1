"""The figures: people (headcount, rates with 60-minute sparklines), cars and lots, zones; each marked when its source is quiet."""
from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Label, Sparkline, Static

from console.core import state as fold
from console.desk.widgets import fmt
from console.desk.widgets.chrome import show_text
from console.desk.widgets.view import CAR_POSTS, PEOPLE_POSTS, View, lot_posts, per_minute, rate, staleness, zone_posts


def _figure(label: str, value: int | str, style: str = "bold") -> Text:
    return Text.assemble((label + " ", "dim"), (str(value), style))


def _joined(parts: list[Text], stale: str) -> Text:
    """Figures in a row; the age, when the source is quiet, right after the main figure so it is never cut off."""
    if stale:
        parts = [parts[0], Text(stale.lstrip("· "), style="dim italic"), *parts[1:]]
    line = Text(" · ", style="dim").join(parts)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


class PeoplePanel(Vertical):
    view: reactive[View | None] = reactive(None, layout=False, repaint=False)

    def compose(self) -> ComposeResult:
        yield Static(id="people-line", markup=False)
        with Horizontal(classes="spark-row"):
            yield Label(id="arrivals-label", markup=False)
            yield Sparkline([], id="arrivals")
        with Horizontal(classes="spark-row"):
            yield Label(id="departures-label", markup=False)
            yield Sparkline([], id="departures")

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        p = view.state.people
        parts = [_figure(view.t("desk.people.on_site"), p["headcount"]),
                 _figure(view.t("desk.people.checked_in"), p["checked_in"], ""),
                 _figure(view.t("desk.people.vip"), p["vip_arrivals"], "magenta")]
        # layout=False: one nowrap line in a fixed place, its size never changes with the figures, and a
        # layout pass per frame (a whole-screen reflow) was most of the desk's cost under a flood.
        show_text(self.query_one("#people-line", Static), _joined(parts, staleness(view, PEOPLE_POSTS)))
        for kind in ("arrivals", "departures"):
            by_min = p[f"{kind}_by_min"]
            r = rate(by_min, view.now_ms)
            show_text(self.query_one(f"#{kind}-label", Label),   # width 16, height 1 (desk.tcss)
                      Text.assemble((view.t(f"desk.people.{kind}") + " ", "dim"), (f"{r:.1f}", "bold"),
                                    (view.t("desk.per_min"), "dim")))
            self.query_one(f"#{kind}", Sparkline).data = per_minute(by_min, view.now_ms)


class AreasPanel(Widget):
    """Cars, then every lot and zone as name, bar, count/capacity; amber from 90 %, red when full.

    One widget for lots and zones so that all bars share one length and compare at a glance.
    """

    # Repaint only: its height is one line per area plus the cars line, so a layout pass (a reflow
    # of the whole screen) is asked for only when that count changes, not on every frame.
    view: reactive[View | None] = reactive(None, layout=False)
    _lines = -1

    def watch_view(self, view: View | None) -> None:
        lines = -1 if view is None else 1 + len(view.state.lots) + len(view.state.zones)
        if lines != self._lines:
            self._lines = lines
            self.refresh(layout=True)

    def cars_line(self, view: View) -> Text:
        c = view.state.cars
        parts = [_figure(view.t("desk.cars.title") + " " + view.t("desk.cars.on_site"), c["on_site"]),
                 _figure(view.t("desk.cars.in"), c["in"], ""), _figure(view.t("desk.cars.out"), c["out"], ""),
                 _figure(view.t("desk.cars.vip"), c["vip"], "magenta")]
        reserved = sum(len(lot.get("vip_spaces") or ()) for lot in view.state.event.get("lots", ()))
        if reserved:   # reserved VIP spaces (贵宾车位, issue 16 item 4): how many are still free, over all lots
            taken = sum(len(lot.get("vip_taken", {})) for lot in view.state.lots.values())
            parts.append(_figure(view.t("desk.vip_spaces.free"), f"{reserved - taken}/{reserved}", "magenta"))
        return _joined(parts, staleness(view, CAR_POSTS))

    def areas(self, view: View) -> list[tuple[str, int, int, str]]:
        out = []
        for kind in ("lots", "zones"):
            for area_id, a in getattr(view.state, kind).items():
                value = a["occupied"] if kind == "lots" else a["count"]
                posts = lot_posts(view, area_id) if kind == "lots" else zone_posts(view, area_id)
                # The row's own age needs no leading dot: it sits alone after the numbers.
                out.append((fmt.area_name(view.state, kind, area_id, view.lang), value, a["capacity"],
                            staleness(view, posts).lstrip("· ")))
        return out

    def render(self) -> RenderableType:
        view = self.view
        if view is None:
            return ""
        width = max(20, self.size.width)
        lines = [self.cars_line(view)]
        areas = self.areas(view)
        name_w = min(max((Text(n).cell_len for n, *_ in areas), default=4), width // 3)
        num_w = max((len(f"{v}/{c}") for _, v, c, _ in areas), default=3)
        stale_w = max((Text(s).cell_len + 1 for *_, s in areas if s), default=0)
        bar_w = max(4, width - name_w - num_w - 2 - stale_w)
        for name, value, cap, stale in areas:
            label = fmt.clip(Text(name), name_w)
            label.pad_right(name_w - label.cell_len)
            line = Text.assemble(label, " ", fmt.gauge(value, cap, bar_w), " ",
                                 (f"{value}/{cap}".rjust(num_w), fmt.gauge_style(value, cap) or "bold"))
            if stale:
                line.append(" " + stale, style="dim italic")
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
        return Text("\n").join(lines)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        view = self.view
        return 1 + (len(view.state.lots) + len(view.state.zones) if view else 0)


class WallFigures(Horizontal):
    """Wall mode: the three numbers a room reads from across it, in large digits."""

    view: reactive[View | None] = reactive(None, layout=False, repaint=False)
    TILES = (("headcount", "desk.wall.people"), ("cars", "desk.wall.cars"), ("incidents", "desk.wall.open"))

    def compose(self) -> ComposeResult:
        for key, _ in self.TILES:
            with Vertical(classes="wall-tile"):
                yield Label(id=f"wall-{key}-label", markup=False)
                yield Digits("0", id=f"wall-{key}")

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        values = {"headcount": view.state.people["headcount"], "cars": view.state.cars["on_site"],
                  "incidents": len(fold.open_incidents(view.state))}
        for key, label_key in self.TILES:
            self.query_one(f"#wall-{key}-label", Label).update(view.t(label_key))
            self.query_one(f"#wall-{key}", Digits).update(str(values[key]))
