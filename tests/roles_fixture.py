"""One department or leader terminal each (issue 16 item 3): the sample event ships them; older event files get them.

`TERMINALS` is the block an event's organiser pastes into an event.toml made before the sample had them;
`with_terminals` puts the missing ones into a text, `add_terminals` into an event folder (and makes the new
stations' keys, as `eventdesk keys` does). On the shipped sample both change nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

from console.event.folder import EventFolder, SAMPLE, make_keys, parse

STATIONS = (("eng-1", "engineering", "工程部值班", "Engineering on duty"),
            ("env-1", "environment", "环境部值班", "Environment on duty"),
            ("logistics-1", "logistics", "后勤部值班", "Logistics on duty"),
            ("service-1", "service", "客服部值班", "Customer Service on duty"),
            ("security-1", "security", "秩序部值班", "Order & Security on duty"),
            ("greeter-1", "greeter", "陪同领导", "Greeting leaders"),
            ("sales-1", "sales", "销售顾问", "Sales consultants"))


def _block(stations) -> str:
    return "".join(f'\n[[stations]]\nid = "{sid}"\npost = "{post}"\nname = "{zh}"\nname_en = "{en}"\n'
                   for sid, post, zh, en in stations)


TERMINALS = _block(STATIONS)


def with_terminals(text: str) -> str:
    """An event.toml's text with the terminals it lacks added after its last station."""
    missing = [s for s in STATIONS if f'id = "{s[0]}"' not in text]
    if not missing:
        return text
    head, sep, tail = text.partition("\n[[lots]]")
    return head.rstrip("\n") + "\n" + _block(missing) + "\n" + sep + tail


def without_terminals(text: str) -> str:
    """An event.toml's text without these terminals: an event file made before the sample had them."""
    for sid, post, zh, en in STATIONS:
        text = text.replace(_block([(sid, post, zh, en)]), "\n")
        text = re.sub(rf'\n\[\[roster\]\]\nstation = "{sid}"\n[^\[]*', "\n", text)   # and its duty slot
    return text


def remove_terminals(folder: EventFolder) -> EventFolder:
    folder.toml.write_text(without_terminals(folder.toml.read_text("utf-8")), "utf-8")
    return folder


def summary() -> dict:
    """The sample event's summary with the terminals."""
    return parse(Path("/x/event.toml"), with_terminals(SAMPLE.read_text("utf-8"))).summary()


def add_terminals(folder: EventFolder) -> EventFolder:
    folder.toml.write_text(with_terminals(folder.toml.read_text("utf-8")), "utf-8")
    make_keys(folder)
    return folder
