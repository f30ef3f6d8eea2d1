"""Instructions sent from the desks, with how far each has got: per station acknowledged, reached or waiting."""
from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.message import Message

from console.desk.widgets import fmt
from console.desk.widgets.table import ViewTable
from console.desk.widgets.view import View, delivery, targets

DELIVERY_STYLE = {"acked": "green", "reached": "yellow", "waiting": "bold red"}


def tally(view: View, inst: dict[str, Any]) -> tuple[Text, Text]:
    """("3/8", "2"): acknowledged of those asked, and how many have not even been reached."""
    ids = targets(view.state, inst["target"])
    states = [delivery(view, inst, sid)[0] for sid in ids]
    acked, waiting = states.count("acked"), states.count("waiting")
    run = view.state.plans["runs"].get(inst.get("run") or 0)
    if inst.get("step") and run is not None and run["stood_down"] is not None and acked < len(ids):
        # A plan step's order whose plan was stood down: nobody owes an acknowledgement any more.
        shown = Text(f"{acked}/{len(ids)} " + view.t("plan.step.cancelled"), style="dim")
    elif inst.get("ack_required"):
        shown = Text(f"{acked}/{len(ids)}", style="green" if acked == len(ids) else "bold yellow")
    else:
        shown = Text(view.t("desk.inst.no_ack"), style="dim")
    return shown, Text(str(waiting), style="bold red" if waiting else "dim")


class InstructionsTable(ViewTable):
    FLEX = (("desk.col.text", "desk.col.target"),)
    class Selected(Message):
        """The operator chose an instruction to see station by station."""

        def __init__(self, instruction: int) -> None:
            super().__init__()
            self.instruction = instruction

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("desk.col.id", None), ("desk.col.target", None), ("desk.col.progress", None),
                ("desk.col.unreached", None), ("desk.col.text", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        for inst in sorted(view.state.instructions.values(), key=lambda i: -i["id"]):
            acked, waiting = tally(view, inst)
            yield str(inst["id"]), [f"#{inst['id']}", fmt.target_name(view.state, inst["target"], view.lang),
                                    acked, waiting, fmt.safe(fmt.words(inst, view.lang))]

    @property
    def current(self) -> int | None:
        key = self.current_key
        return int(key) if key else None

    def on_data_table_row_selected(self, event: ViewTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(int(str(event.row_key.value))))


class DeliveryTable(ViewTable):
    """One instruction, one row per station it was meant for."""

    def __init__(self, instruction: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.instruction = instruction

    def columns_for(self, view: View) -> list[tuple[str, int | None]]:
        return [("desk.col.station", None), ("desk.col.post", None), ("desk.col.delivery", None)]

    def rows_for(self, view: View) -> Iterable[tuple[str, list[Any]]]:
        inst = view.state.instructions.get(self.instruction or 0)
        if inst is None:
            return
        for sid in targets(view.state, inst["target"]):
            where, at = delivery(view, inst, sid)
            text = Text(view.t(f"desk.inst.{where}"), style=DELIVERY_STYLE[where])
            if at:
                text.append(" " + fmt.clock(at, view.tz), style="dim")
            yield sid, [fmt.safe(fmt.station_name(view.state, sid, view.lang)),
                        fmt.label("post." + view.state.stations[sid].get("post", ""), view.lang), text]
