"""The pairing screen (h): each station's pairing code as text and a QR code to scan, the phones paired with it now, and r to revoke (logged).

The phones paired come from the picture (the station server logs each pairing through the hub), so any
desk lists them, `--attach` too. The codes and the server's addresses come from a `source` the app
provides where the event folder is here (console.event.phones), asked in a thread worker every few
seconds, so no file is read on the desk's loop. A revoke asks for a reason and is a desk action
(phone_revoke: the station and its next pairing generation) that the hub logs and passes to the
station server, which then refuses the station's phones; where the folder is here its generations
file moves on too. Neither the log nor the screen's messages name the code.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from console.core.state.fold_phones import PhoneRow, generation_of, phones_of
from console.desk.keys import bindings
from console.desk.screens.details import ViewScreen
from console.desk.screens.modals import TextModal
from console.desk.widgets import fmt
from console.desk.widgets.chrome import DeskFooter, DeskHeader
from console.desk.widgets.qr import qr_text
from console.desk.widgets.view import View
from protocols.i18n import t

REFRESH_S = 2.0


class PhonesSource:
    """The folder's side, given by run_desk: `rows()` -> (rows, urls); `revoke(station, generation)` -> the new code."""

    def __init__(self, rows: Callable[[], tuple[list[Any], list[str]]], revoke: Callable[[str, int], str]) -> None:
        self.rows, self.revoke = rows, revoke


class PhonesScreen(ViewScreen):
    DEFAULT_CSS = """
    PhonesScreen #phones-line { height: auto; padding: 0 1; }
    PhonesScreen #phones-body { height: 1fr; }
    PhonesScreen #phones-list { width: 1fr; height: 1fr; }
    PhonesScreen #phones-qr { width: auto; min-width: 30; height: 1fr; padding: 0 1; }
    """
    BINDINGS = bindings("detail") + [Binding("r", "revoke", "desk.phones.key.revoke")]
    AUTO_FOCUS = "#phones-list"

    def __init__(self, source: PhonesSource | None) -> None:
        super().__init__()
        self.source = source
        self.rows: list[Any] = []     # from the folder: codes and generations
        self.shown: list[Any] = []    # as listed: the folder's rows with the picture's phones
        self.urls: list[str] = []
        self.problem = ""

    def compose(self) -> ComposeResult:
        yield DeskHeader(id="header")
        yield Static(id="phones-line")
        with Horizontal(id="phones-body"):
            yield DataTable(id="phones-list", cursor_type="row", zebra_stripes=True)
            yield Static(id="phones-qr")
        yield DeskFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.load()
        self.set_interval(REFRESH_S, self.load)

    def action_phones(self) -> None:
        pass   # already here

    @work(thread=True, exclusive=True, group="phones")
    def load(self) -> None:
        if self.source is None:
            return
        try:
            rows, urls = self.source.rows()
        except Exception as exc:   # a key or a file this desk cannot read: say so, keep the screen
            self.app.call_from_thread(self._filled, [], [], str(exc))
            return
        self.app.call_from_thread(self._filled, rows, urls, "")

    def _filled(self, rows: list[Any], urls: list[str], problem: str) -> None:
        self.rows, self.urls, self.problem = rows, urls, problem
        if self.app.current_view is not None:
            self.show(self.app.current_view)

    def _lang(self) -> str:
        return self.app.lang

    def selected(self) -> Any | None:
        table = self.query_one("#phones-list", DataTable)
        if not self.shown or table.cursor_row is None or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def listed(self, view: View) -> list[PhoneRow]:
        """Each station with the phones the log says are paired now; its code where the folder is here."""
        state = view.state
        rows = self.rows if self.source is not None else \
            [PhoneRow(st["id"], st.get("name", ""), st.get("name_en", ""), "", 0, 0, 0)
             for st in state.event.get("stations", ())]
        out = []
        for row in rows:
            n, last = phones_of(state, row.station)
            out.append(replace(row, phones=n, last_ms=last,
                               generation=max(row.generation, generation_of(state, row.station))))
        return out

    def show(self, view: View) -> None:
        super().show(view)
        lang = view.lang
        line = view.t("desk.phones.no_folder") if self.source is None else \
            view.t("desk.phones.problem", why=self.problem) if self.problem else \
            view.t("desk.phones.serving", urls="  ".join(self.urls)) if self.urls else view.t("desk.phones.not_serving")
        self.query_one("#phones-line", Static).update(Text(line))
        table = self.query_one("#phones-list", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        for key in ("station", "code", "phones", "since"):
            table.add_column(view.t(f"desk.phones.col.{key}"))
        self.shown = self.listed(view)
        for row in self.shown:
            since = fmt.clock(row.last_ms, view.tz) if row.last_ms else "—"
            table.add_row(Text(row.label(lang)), Text(row.code or "—", style="bold"), str(row.phones), since)
        if self.shown:
            table.move_cursor(row=min(keep or 0, len(self.shown) - 1))
        self._show_qr(view)

    def _show_qr(self, view: View) -> None:
        row = self.selected()
        qr = self.query_one("#phones-qr", Static)
        if row is None or not row.code:
            qr.update("")
            return
        head = Text(f"{row.label(view.lang)}  {row.code}\n", style="bold")
        if not self.urls:   # no address to put in it: the code is typed instead
            qr.update(head + Text(view.t("desk.phones.type_code")))
            return
        qr.update(head + Text(qr_text(f"{self.urls[0].rstrip('/')}/#code={row.code}")))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        if self.app.current_view is not None:
            self._show_qr(self.app.current_view)

    def action_revoke(self) -> None:
        row, lang = self.selected(), self._lang()
        if row is None:
            return
        name = row.label(lang)

        def written(value: dict | None) -> None:
            if value:   # the generation after the newest this desk knows of (its folder's, the log's)
                self._revoke(row.station, row.generation + 1, name, value["text"])
        self.app.push_screen(TextModal(t("desk.phones.revoke_title", lang, station=name), lang), written)

    @work(thread=True, group="phones-revoke")
    def _revoke(self, station: str, generation: int, name: str, reason: str) -> None:
        if self.source is not None:   # the folder's server refuses the phones at once, even with the hub away
            self.source.revoke(station, generation)
        self.app.call_from_thread(self._revoked, station, generation, name, reason)

    def _revoked(self, station: str, generation: int, name: str, reason: str) -> None:
        self.app.send(lambda link: link.revoke_phones(station, generation, reason), "desk.phones.revoked",
                      station=name)
        self.load()
