"""What became of an incident, told to the post that reported it: acknowledged, assigned, in progress, resolved; pure.

A post that reports a fire and hears nothing back does not know whether anyone took it. After each
commit the hub tells the reporting station, on its own topic, each thing others did to its incident since
it was last told: one instruction per change (no acknowledgement asked, `notice: "incident"`, `guest`: the
incident's number), so the log is the same however the changes were batched. The notice's fold
(console.core.state.fold) records how much of the incident's history has been told (`told_n`), so
replaying the log tells nothing twice. Changes from before the hub started (`floor_ms`) are not told: a
hub started on an old log stays quiet. No sockets, database, screen or clock.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocols.i18n import t
from protocols.messages import MAX_TEXT, Instruction, Message

if TYPE_CHECKING:
    from console.core.state import State

TOLD = ("acknowledged", "in_progress", "resolved")   # statuses a reporter is told of (and assign:<dept>)


def evaluate(state: State, floor_ms: int = 0) -> list[Message]:
    """A notice for each change others made to an incident that its reporter has not heard of yet."""
    out: list[Message] = []
    for inc in state.incidents.values():
        reporter = inc["station"]
        if inc.get("source", "station") != "station" or reporter not in state.stations:
            continue
        for ms, who, what, _ in inc["history"][max(1, inc.get("told_n", 1)):]:
            if who != reporter and ms >= floor_ms and (what in TOLD or what.startswith("assign:")):
                out.append(Instruction(target=f"station.{reporter}", text=text(inc, [what], "zh"),
                                       text_en=text(inc, [what], "en"), ack_required=False, notice="incident",
                                       guest=str(inc["id"])))
    return out


def text(inc: dict[str, Any], news: list[str], lang: str) -> str:
    """"您上报的事件 #17（火情）：已确认；已指派给工程部" in `lang`."""
    said = []
    for what in news:
        if what.startswith("assign:"):
            said.append(t("incrule.assigned", lang, dept=t(f"dept.{what.partition(':')[2]}", lang)))
        else:
            word = t(f"status.{what}", lang)
            said.append(word.lower() if lang == "en" else word)   # inside a sentence
    sep = "；" if lang == "zh" else "; "
    return t("incrule.head", lang, id=inc["id"], kind=t(f"incident.{inc['kind']}", lang),
             what=sep.join(dict.fromkeys(said)))[:MAX_TEXT]

