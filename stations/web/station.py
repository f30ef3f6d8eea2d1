"""One station as the station server keeps it: its client, its outbox worker, its View and the page made from it, shared by every phone of the post.

Changes come from the link's thread and the server's loop; the View is built on the station's outbox worker,
never on the loop (`off_loop`). Knows `protocols` and the station package; no HTTP.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from stations.link.client import StationClient
from stations.link.worker import Job, OutboxWorker
from stations.records import Status
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
# hears "saved" from its tap's own answer (TAP_WAIT_S).
MOVING_S = 0.25
# A tap's own answer waits up to this for its report to settle and brings the page as it then is: the tapping phone
# draws once per tap (not "saved", then the list again for "delivered"), and its own long poll is not answered for it.
# Each draw of each phone was most of the CPU a tap cost on a machine holding 30 phones' browsers (bench/phones.py).
TAP_WAIT_S = MOVING_S
KEPT = 1024   # settled reports and pages brought up to date by a tap, remembered per station (the newest)
_PAGE_ID = re.compile(r"[0-9a-z]{6,32}")


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
    settling: set[int] = field(default_factory=set)   # reports settled since the last bump: the next shows them
    settled: OrderedDict[int, None] = field(default_factory=OrderedDict)   # reports shown settled (the newest KEPT)
    waiting: dict[int, asyncio.Future[None]] = field(default_factory=dict)   # seq -> a tap's answer waiting for it
    # page id -> (the version a tap's answer brought that page, when it was sent), None while the tap waits: the long
    # poll it had asked meanwhile waits for newer
    brought: OrderedDict[str, tuple[int, float] | None] = field(default_factory=OrderedDict)
    status: Status | None = None   # the link's status as last told

    def __post_init__(self) -> None:
        self.post = for_site(self.site)
        self.worker = self.client.worker(f"phones-{self.client.station}")
        self.builder = ViewBuilder(self.client.link_status, self.post, self.site)

    def bump(self) -> None:
        """Something changed (on the loop): a new version, and every waiting page is woken."""
        self.soon = None
        self.version += 1
        for seq in self.settling:
            _keep(self.settled, seq, None)
            waiter = self.waiting.pop(seq, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self.settling.clear()
        if self.changed is not None:
            self.changed.set()
        self.changed = asyncio.Event()

    def wake(self) -> None:
        """Wake every waiting page now, with a new version."""
        if self.soon is not None:
            self.soon.cancel()
        self.bump()

    def report_moved(self, loop: asyncio.AbstractEventLoop, report: Any) -> None:
        """A report's state changed (on the loop): shown at the next bump, which a settled one brings sooner."""
        if report.final:
            self.settling.add(report.seq)
        self.bump_soon(loop, settled=report.final, moving=not report.final)

    def status_moved(self, loop: asyncio.AbstractEventLoop, status: Any) -> None:
        """The link's status changed (on the loop). Only its count of reports waiting: that moves with a report on
        its way (its sending, its ack) and is shown with it; anything else after COALESCE_S. (Shown after 20 ms on
        its own, the count cost every phone of the post a draw for each tap whose ack took longer than that.)"""
        old, self.status = self.status, status if isinstance(status, Status) else None
        counted = old is not None and self.status is not None and dataclasses.replace(
            self.status, waiting=old.waiting, last_heard_ms=old.last_heard_ms, sent_frames=old.sent_frames,
            bad_frames=old.bad_frames) == old
        self.bump_soon(loop, moving=counted)

    async def settle(self, seq: int, within: float) -> None:
        """Until report `seq` is shown settled (delivered or refused), or `within` seconds have passed."""
        if seq in self.settled:
            return
        waiter = self.waiting.get(seq)
        if waiter is None:
            waiter = self.waiting[seq] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), within)
        except asyncio.TimeoutError:
            pass
        finally:
            if self.waiting.get(seq) is waiter and not waiter.done():
                del self.waiting[seq]

    # --- a page brought up to date by its tap's answer ----------------------------------------------------
    def tapping(self, page_id: str) -> None:
        """Page `page_id` has a tap on its way: its answer will bring the page, so its long poll waits for it."""
        if page_id:
            _keep(self.brought, page_id, None)

    def tapped(self, page_id: str, version: int | None, at: float) -> None:
        """The tap's answer, sent at `at` (the loop's time), brought page `page_id` this version (None: it brought
        no page, and the long poll that waited for it is woken)."""
        if not page_id or page_id not in self.brought:
            return
        if version is None:
            del self.brought[page_id]
            self.wake()
        else:
            _keep(self.brought, page_id, (version, at))

    def has(self, page_id: str, seen: int, asked_at: float) -> tuple[int, bool]:
        """The version page `page_id` has (its own word `seen`, or newer from a tap's answer), and whether a tap's
        answer is still to bring it more. Only a long poll asked before the answer was sent counts it: the page
        may have set the answer aside (its language or area switched meanwhile), and a page asking for
        everything (`seen` 0) gets everything."""
        brought = self.brought.get(page_id, False)
        if brought is False or seen == 0:
            return seen, False
        if brought is None:
            return seen, True
        version, at = brought
        if seen >= version or asked_at >= at:   # the page has it, or asked after the answer: nothing to remember
            del self.brought[page_id]
            return seen, False
        return version, False

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

    def page_json(self, view: View | None, lang: str, area: str) -> tuple[int, bytes]:
        """The page as JSON for this View and its version, made once per language and area while the View is the
        newest."""
        chosen = page.area_of(self.post, self.site, area)
        key = (lang, chosen.id if chosen is not None else "")
        newest = self.built is not None and self.built[1] is view
        version = self.built[0] if newest and self.built is not None else self.version
        if newest and key in self.shown:
            return version, self.shown[key]
        shown = page.model(self.post, self.site, view, lang, key[1], self.keys_for(view, lang))
        body = json.dumps({"paired": True, "v": version, "page": shown}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        if newest:
            self.shown[key] = body
        return version, body

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


def page_id(sent: Any) -> str:
    """The page's own id as it sent it (a tab's random word), or "" for anything else."""
    return sent if isinstance(sent, str) and _PAGE_ID.fullmatch(sent) else ""


def _keep(kept: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > KEPT:
        kept.popitem(last=False)


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
