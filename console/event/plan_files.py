"""The plan library's files: the shipped plans and an event folder's own `plans/`, read and parsed.

The product ships its plans in `console/event/plans/`; an event folder may add its own or replace a
shipped one in `DIR/plans/<id>.toml` (same file name, same plan), or switch one off with a file
holding only `enabled = false`. Parsing and checking is console.core.plan_library (pure); this
module only reads. No sockets, no database, no screen.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from console.core.event import Event
from console.core.plan_library import Library, Plan, PlanFileError, parse

SHIPPED_DIR = Path(__file__).with_name("plans")


def load_file(path: Path | str, event: Event | None = None) -> Plan | None:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "not_utf8" if isinstance(exc, UnicodeDecodeError) else "unreadable"
        raise PlanFileError(path, "(file)", why, cause=exc) from None
    return parse(path, text, event)


def load_dir(directory: Path | str, event: Event | None = None) -> dict[str, Plan | None]:
    """Every `*.toml` in a folder by plan id (None: switched off); an absent folder holds none."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {path.stem: load_file(path, event) for path in sorted(directory.glob("*.toml"))}


@lru_cache(maxsize=1)
def _shipped_unchecked() -> Library:
    return Library(tuple(p for p in load_dir(SHIPPED_DIR).values() if p is not None))


def shipped(event: Event | None = None) -> Library:
    """The plans that come with the product (checked against `event` when given)."""
    if event is None:
        return _shipped_unchecked()
    return Library(tuple(p for p in load_dir(SHIPPED_DIR, event).values() if p is not None))


def load(root: Path | str | None = None, event: Event | None = None) -> Library:
    """The shipped plans, then the event folder's `plans/` adding to them or replacing them by id."""
    plans: dict[str, Plan | None] = dict(load_dir(SHIPPED_DIR, event))
    if root is not None:
        plans.update(load_dir(Path(root) / "plans", event))
    return Library(tuple(plans[k] for k in sorted(plans) if plans[k] is not None))
