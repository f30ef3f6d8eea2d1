"""What a staff surface may show: a scanner for internal ids and stray Latin words in text a person reads (issue 17)."""
from __future__ import annotations

import re
from typing import Any, Iterable

from console.event.plan_files import shipped
from protocols.schema import DEPARTMENTS, POSTS

# Latin words staff use and may see in Chinese text: units, key names, brand-like words of the trade.
ALLOWED = {"VIP", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "Ctrl", "Esc", "Enter",
           "Tab", "English", "Shift", "PgUp", "PgDn", "Home", "End", "kill", "pid", "UTC"}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
_COMMAND = re.compile(r"“eventdesk [^”]*”|`eventdesk [^`]*`")   # a command to type is the command's own words


def event_ids(event: dict[str, Any]) -> set[str]:
    """Every id an event file gives things staff know by name: stations, desks, lots, zones, tasks, roster slots."""
    ids = set(event.get("desks", ()))
    for part in ("stations", "lots", "zones", "tasks", "roster"):
        ids |= {x["id"] for x in event.get(part, ()) if isinstance(x, dict) and x.get("id")}
    return ids


def plan_ids() -> set[str]:
    """The shipped plan library's plan and step ids, and the posts' and departments' own ids."""
    ids: set[str] = set(POSTS) | set(DEPARTMENTS)
    for plan in shipped().plans:
        ids.add(plan.id)
        ids |= {st.id for st in plan.steps}
    return ids


def leaks(text: str, ids: Iterable[str], data: Iterable[str] = (), allowed: Iterable[str] = ()) -> list[str]:
    """The ids and Latin words in `text` a Chinese reader should not meet. `data` is what people typed
    (notes, places, plates, names): shown as typed, so taken out before the scan."""
    data = sorted(data, key=len, reverse=True)
    for d in data:
        text = text.replace(d, " ")
    text = _COMMAND.sub(" ", text)
    # What people typed may show cut ("[@cli…"): its words are theirs wherever they show.
    ok = ALLOWED | set(allowed) | {w for d in data for w in _TOKEN.findall(d)}
    found = []
    for token in _TOKEN.findall(text):
        if token in ids or "_" in token or (token not in ok and not token.isupper() and len(token) > 1):
            found.append(token)
    return sorted(set(found))
