"""One station as the station server keeps it: its client, its outbox worker, its View and the page made from it, shared by every phone of the post.

Changes come from the link's thread and the server's loop; the View is built on the station's outbox worker,
never on the loop (`off_loop`). Knows `protocols` and the station package; no HTTP.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from stations.link.client import StationClient
from stations.link.worker import Job, OutboxWorker
from stations.terminal.posts import duty, for_site
from stations.terminal.posts.base import Post, Site
from stations.terminal.screens.view import View
from stations.terminal.view_builder import ViewBuilder
from stations.web import page

log = logging.getLogger("eventdesk.phones")

# Changes this close together (an order, the link's status) wake the pages once: each wake costs every phone of
# the post a page and a new poll, the server's main cost per tap (bench/phones_cpu.py).
COALESCE_S = 0.02
# A report that settles (delivered, refused: what its phone waits for) wakes them this soon.
SETTLED_S = 0.004
# A report on its way (saved, sent) waits this long to be shown: its "delivered" normally follows within tens of
# milliseconds and then wakes the pages at once, so each tap costs every phone of its post one page, not two. Only
# a report still on its way after this (the hub out of reach) is shown as such on its own. The tapping phone
# hears "saved" from its tap's own answer at once.
MOVING_S = 0.25


@dataclass
class Terminal:
    """One station as the server keeps it: its client, its outbox worker, and the View at its version."""

    client: StationClient
    site: Site
    post: Post = field(init=False)
    worker: OutboxWorker = field(init=False)
    builder: ViewBuilder = field(init=False)
    version: int = 1
    soon: asyncio.TimerHandle | None = None   # the bump scheduled
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
        self.soon = None
        self.version += 1
        if self.changed is not None:
            self.changed.set()
        self.changed = asyncio.Event()

    def bump_soon(self, loop: asyncio.AbstractEventLoop, settled: bool = False, moving: bool = False) -> None:
        """A change from the link (on the loop): changes that come together (an ack moves the report and the
        waiting count) wake the pages once, so each page asks once and the View is built once. A report
        `settled` (delivered or refused: the state its phone waits for) is shown after SETTLED_S, not
        COALESCE_S: the waiting count that moves with it comes in the same turn of the link's loop. A report
        `moving` (saved or sent, not yet settled) waits MOVING_S for its settling to wake the pages instead."""
        due = loop.time() + (SETTLED_S if settled else MOVING_S if moving else COALESCE_S)
        if self.soon is not None:
            if self.soon.when() <= due:
                return
            self.soon.cancel()
        self.soon = loop.call_at(due, self.bump)

    def page_json(self, view: View | None, lang: str, area: str) -> bytes:
        """The page as JSON for this View, made once per language and area while the View is the newest."""
        chosen = page.area_of(self.post, self.site, area)
        key = (lang, chosen.id if chosen is not None else "")
        newest = self.built is not None and self.built[1] is view
        if newest and key in self.shown:
            return self.shown[key]
        version = self.built[0] if newest and self.built is not None else self.version
        shown = page.model(self.post, self.site, view, lang, key[1], self.keys_for(view, lang))
        body = json.dumps({"paired": True, "v": version, "page": shown}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        if newest:
            self.shown[key] = body
        return body

    def keys_for(self, view: View | None, lang: str) -> list[Any]:
        """The post's keys as the phone offers them for this View, made once per language while it is the newest."""
        newest = self.built is not None and self.built[1] is view
        if newest and lang in self.keys:
            return self.keys[lang]
        keys = page.phone_actions(self.post, self.site, view, lang)
        if newest:
            self.keys[lang] = keys
        return keys

    async def view(self) -> View | None:
        """The station's View at its current version, built once on its worker and shared by every phone: pages a
        change wakes together wait for the same build."""
        version = self.version
        if self.built is not None and self.built[0] == version:
            return self.built[1]
        if self.building is None or self.building[0] != version:
            self.building = (version, asyncio.ensure_future(
                off_loop(self.worker, lambda outbox: self.builder.build(outbox, None))))
        result = await asyncio.shield(self.building[1])   # a phone gone mid-wait never cancels the others' build
        if isinstance(result, BaseException):
            log.warning("view of %s: %s", self.client.station, result)
            return self.built[1] if self.built is not None else None
        if self.built is None or self.built[0] < version:
            self.built, self.shown, self.keys = (version, result), {}, {}
        return self.built[1] if self.built[0] == version else result


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
