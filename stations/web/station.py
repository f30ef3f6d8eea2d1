"""One station as the station server keeps it: its client, its outbox worker, its View and the page made from it, shared by every phone of the post.

Changes come from the link's thread and the server's loop; the View is built on the station's outbox worker,
never on the loop (`off_loop`). Knows `protocols` and the station package; no HTTP.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from stations.link.client import StationClient
from stations.link.worker import Job, OutboxWorker
from stations.terminal.posts import duty, for_site
from stations.terminal.posts.base import Post, Site
from stations.terminal.screens.view import View
from stations.terminal.view_builder import ViewBuilder

# Changes this close together (a save, its sending, the hub's ack and the waiting count) wake the pages once: each
# wake costs every phone of the post a page and a new poll, the server's main cost per tap (bench/phones_cpu.py).
# The tapping phone hears "saved" from its tap's own answer at once; its list follows within this.
COALESCE_S = 0.02


@dataclass
class Terminal:
    """One station as the server keeps it: its client, its outbox worker, and the View at its version."""

    client: StationClient
    site: Site
    post: Post = field(init=False)
    worker: OutboxWorker = field(init=False)
    builder: ViewBuilder = field(init=False)
    version: int = 1
    soon: bool = False   # a bump is scheduled
    built: tuple[int, View] | None = None
    changed: asyncio.Event | None = None
    # The View being built (its version, the build): the pages a change wakes together wait for one build.
    building: tuple[int, asyncio.Future[Any]] | None = None
    # The page as JSON at built's version, per (language, area): the phones of a post share it (bench/phones_cpu.py).
    shown: dict[tuple[str, str], bytes] = field(default_factory=dict)
    keys: dict[str, list[Any]] = field(default_factory=dict)   # its keys per language, at built's version too

    def __post_init__(self) -> None:
        self.post = for_site(self.site)
        self.worker = self.client.worker(f"phones-{self.client.station}")
        self.builder = ViewBuilder(self.client.link_status, self.post, self.site)

    def bump(self) -> None:
        """Something changed (on the loop): a new version, and every waiting page is woken."""
        self.soon = False
        self.version += 1
        if self.changed is not None:
            self.changed.set()
        self.changed = asyncio.Event()

    def bump_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        """A change from the link (on the loop): changes that come together (an ack moves the report and the
        waiting count) wake the pages once, so each page asks once and the View is built once."""
        if not self.soon:
            self.soon = True
            loop.call_later(COALESCE_S, self.bump)


async def off_loop(worker: OutboxWorker, job: Job) -> Any:
    """Run `job(outbox)` on the station's worker thread; its result, or the exception it raised."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Any] = loop.create_future()

    def done(result: Any) -> None:
        loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(result))
    worker.do(job, done)
    return await answer


def signer(view: View | None) -> str:
    """Who confirms from here: whoever was signed in last at this station (issue 16 item 3), as the terminal sends it."""
    return duty.signer(view.on_duty) if view is not None else ""


def signed(type_: str, body: dict[str, Any], view: View | None) -> dict[str, Any]:
    """A confirmation or sign-off tapped on a phone carries the person signed in at the station, as from the terminal."""
    person = signer(view)
    if type_ in ("plan_step", "task_signoff", "instruction_ack") and person and not body.get("person"):
        return body | {"person": person}
    return body
