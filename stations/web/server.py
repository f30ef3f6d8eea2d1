"""The station server (aiohttp): every station's StationClient always on, and the paired phones' pages over HTTP.

The link and the outbox of each station live here, not in a browser tab: a closed tab, a locked phone
or a dropped Wi-Fi never makes a post offline while this process runs. A tap is saved to the
station's outbox (on that station's outbox worker thread) before the phone is answered "saved", as
on the Textual terminal. The event loop runs no SQLite: views are built and saves made on the
workers, and the loop awaits their answers. Knows `protocols` and the station package only: the
CLI hands in ready clients, Sites and the pairing secrets.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from protocols import i18n
from protocols.codec import ProtocolError
from protocols.pairing import (
    read_generations,
    read_sessions,
    write_generations,
    write_paired,
    write_sessions,
)
from stations.link.worker import Job
from stations.outbox.store import OutboxError
from stations.records import Report
from stations.terminal.posts.common import describe
from stations.terminal.screens.view import View
from stations.web import page
from stations.web.pairing import Pairings
from stations.web.station import TAP_WAIT_S, Terminal, off_loop, page_id, signed, signer

log = logging.getLogger("eventdesk.phones")

STATIC = Path(__file__).with_name("static")
COOKIE = "eventdesk_phone"
COOKIE_AGE_S = 24 * 3600   # an event day: a phone locked over lunch is still paired after it
WAIT_S = 20.0              # a page's long poll: answered at once on a change, else after this
GENERATIONS_EVERY_S = 1.0  # how soon a revoke made by another process (the CLI, the desk) takes effect


class ServeError(Exception):
    """The server could not start: its address is taken or cannot be bound."""

    def __init__(self, host: str, port: int, in_use: bool) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port, self.in_use = host, port, in_use

    def sentence(self, lang: str) -> str:
        key = "station.web.in_use" if self.in_use else "station.web.cannot_bind"
        return i18n.t(key, lang, host=self.host, port=self.port)


class StationServer:
    """The phones' server for one event: `app()` for aiohttp, `start`/`stop` for the clients."""

    def __init__(self, terminals: dict[str, Terminal], pairings: Pairings, lang: str = "zh", *,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 generations_file: Path | None = None, paired_file: Path | None = None,
                 sessions_file: Path | None = None, secure: bool = False) -> None:
        self.terminals, self.pairings, self.lang = terminals, pairings, i18n.normalise_lang(lang)
        self.clock, self.wall, self.secure = clock, wall, secure
        self.generations_file, self.paired_file, self.sessions_file = generations_file, paired_file, sessions_file
        self._kept: dict[str, Any] | None = None      # the sessions as last written to sessions_file
        self._keeping: asyncio.Lock | None = None     # one write of it at a time, newest last
        self.urls: list[str] = []      # where phones open the page (the CLI sets them): the desk's QR codes
        self._listed: tuple[Any, ...] | None = None   # (phones, urls) as last written for the desk
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Future[None]] = set()
        self.closing = False

    # --- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for term in self.terminals.values():
            # Versions go on from the wall clock: a page open across a restart of the server is answered at once.
            term.version = max(term.version, int(self.wall() * 1000))
            term.changed = asyncio.Event()
            term.client.on_change = self._changed(term)
            term.client.start()
        self.pairings.set_generations(read_generations(self.generations_file))
        # The phones paired before a restart stay paired; one revoked while the server was down (the folder's
        # generation moved on) ends now, "revoked", and the watcher's first round logs it.
        self._keeping = asyncio.Lock()
        self._kept = read_sessions(self.sessions_file)
        taken = self.pairings.restore(self._kept)
        self.pairings.expire(int(self.wall() * 1000) - COOKIE_AGE_S * 1000)
        if taken:
            log.info("%d phones still paired from before the restart", taken)
        self._watch = asyncio.create_task(self._watch_generations())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        await self._tell_ended()
        await self._keep_sessions()   # the pairings outlive this process: the next start takes them back
        if self.paired_file is not None:   # still paired, but no address to open them at until it runs again
            try:
                await asyncio.to_thread(write_paired, self.paired_file, [], self.pairings.listed())
            except OSError as exc:
                log.warning("cannot write %s: %s", self.paired_file, exc)
        for term in self.terminals.values():
            await asyncio.to_thread(term.worker.close)   # a save in flight is finished first
        # A clean stop says bye for every station (PROTOCOL.md 5.2), all at once: each waits at most
        # stations.link.loop.BYE_LINGER_MS, so many stations do not add up to a slow exit.
        await asyncio.gather(*(asyncio.to_thread(term.client.close, "stop") for term in self.terminals.values()))

    def _changed(self, term: Terminal) -> Callable[[str, Any], None]:
        def on_change(kind: str, payload: Any) -> None:   # on the link's thread
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            if kind == "phone_revoke":
                loop.call_soon_threadsafe(self._desk_revoked, payload)
            elif kind == "report" and isinstance(payload, Report):
                loop.call_soon_threadsafe(term.report_moved, loop, payload)
            elif kind == "status":
                loop.call_soon_threadsafe(term.status_moved, loop, payload)
            else:
                loop.call_soon_threadsafe(term.bump_soon, loop)
        return on_change

    # --- phones in the log (issue 18) ----------------------------------------------------------
    async def _tell(self, station: str, type_: str, body: dict[str, Any]) -> None:
        """A pairing report from `station`, saved to its outbox like a tap (the hub logs it, the desks list it)."""
        term = self.terminals.get(station)
        if term is None:
            return
        result = await off_loop(term.worker, lambda _outbox: term.client.submit(type_, body))
        if isinstance(result, BaseException):   # a full outbox costs the desk's list, never the phone's pairing
            log.warning("cannot log %s for %s: %s", type_, station, result)

    async def _keep_sessions(self) -> None:
        """Write the sessions (their tokens' digests, owner-only) when they changed: a pairing outlives a restart."""
        if self.sessions_file is None or self._keeping is None:
            return
        async with self._keeping:
            stored = self.pairings.stored()
            if stored == self._kept:
                return
            try:
                await asyncio.to_thread(write_sessions, self.sessions_file, stored)
                self._kept = stored
            except OSError as exc:   # a full disk costs the pairings a restart, never the phones paired now
                log.warning("cannot write %s: %s", self.sessions_file, exc)

    async def _tell_ended(self) -> None:
        for station, phone, why in self.pairings.drain_ended():
            await self._tell(station, "phone_unpaired", {"phone": phone, "why": why})

    def _desk_revoked(self, body: dict[str, Any]) -> None:
        """A desk revoked a station's phones through the hub (on the loop): as a revoke in the folder, and the
        folder's file is moved on too, so this machine's `stations codes` prints the new code."""
        station, gen = str(body.get("station", "")), int(body.get("generation", 0) or 0)
        if not self.pairings.set_generations({station: gen}):
            return
        if station in self.terminals:
            self.terminals[station].bump()
        if self.generations_file is not None:
            task = asyncio.ensure_future(asyncio.to_thread(_store_generation, self.generations_file, station, gen))
            self._writes.add(task)   # held until done: the loop keeps only a weak reference to a task
            task.add_done_callback(self._writes.discard)

    async def _watch_generations(self) -> None:
        """Revokes made in the event folder (the desk, `eventdesk stations revoke`) reach live sessions within a
        second; the phones paired now are written for the desk whenever they changed."""
        while True:
            listed = self.pairings.listed()
            if self.paired_file is not None and (listed, self.urls) != self._listed:
                try:
                    await asyncio.to_thread(write_paired, self.paired_file, self.urls, listed)
                    self._listed = (listed, list(self.urls))
                except OSError as exc:   # a full disk costs the desk's list, never the revokes: tried again
                    log.warning("cannot write %s: %s", self.paired_file, exc)
            self.pairings.expire(int(self.wall() * 1000) - COOKIE_AGE_S * 1000)
            await self._tell_ended()
            await self._keep_sessions()
            await asyncio.sleep(GENERATIONS_EVERY_S)
            stored = await asyncio.to_thread(read_generations, self.generations_file)
            for station in self.pairings.set_generations(stored):   # its pages waiting on a long poll are answered now: with the pairing page
                if station in self.terminals:
                    self.terminals[station].bump()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)   # a form's values: a few hundred bytes
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_post("/api/pair", self._pair)
        app.router.add_get("/api/page", self._page)
        app.router.add_post("/api/tap", self._tap)
        app.router.add_post("/api/ack", self._ack)
        app.router.add_post("/api/lang", self._lang)
        app.router.add_get("/api/guests", self._guests)
        app.router.add_post("/api/call", self._call)
        app.router.add_post("/api/unpair", self._unpair)

        async def on_startup(_app: web.Application) -> None:
            await self.start()

        async def on_cleanup(_app: web.Application) -> None:
            await self.stop()
        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)
        return app

    # --- what the phone asks --------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers=_NO_STORE)

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ("app.js", "app.css"):
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers=_NO_STORE)

    def _session(self, request: web.Request) -> tuple[str, Terminal, str] | None:
        token = request.cookies.get(COOKIE, "")
        found = self.pairings.session(token)
        if found is None or found.station not in self.terminals:
            return None
        return token, self.terminals[found.station], found.lang

    def _pairing_page(self, lang: str, problem: str = "", status: int = 401) -> web.Response:
        words = {k: i18n.t(f"station.web.pair_{k}", lang) for k in ("title", "prompt", "button", "hint")}
        return web.json_response({"paired": False, "lang": lang, "other": page.other(lang),
                                  "switch": i18n.t("station.web.switch", page.other(lang)),
                                  "words": words, "problem": problem}, status=status)

    async def _pair(self, request: web.Request) -> web.Response:
        sent = await _json(request)
        lang = i18n.normalise_lang(str(sent.get("lang") or self.lang))
        answer = self.pairings.pair(str(sent.get("code", "")), request.remote or "", self.clock(), lang,
                                    int(self.wall() * 1000))
        if isinstance(answer, str):
            status = 429 if answer == "blocked" else 403
            return self._pairing_page(lang, i18n.t(f"station.web.pair_{answer}", lang), status)
        token, station = answer
        log.info("a phone paired with %s from %s", station, request.remote)
        paired = self.pairings.session(token)   # read before waiting: a revoke meanwhile may end it
        if paired is None:
            return self._pairing_page(lang)
        await self._keep_sessions()   # kept before the phone hears "paired": a restart now does not unpair it
        await self._tell_ended()   # the phones a new one replaced
        await self._tell(station, "phone_paired", {"phone": paired.phone, "at_ms": paired.since_ms})
        response = web.json_response({"paired": True, "station": station})
        response.set_cookie(COOKIE, token, max_age=COOKIE_AGE_S, httponly=True, samesite="Strict", path="/",
                            secure=self.secure)
        return response

    async def _page(self, request: web.Request) -> web.Response:
        me = self._session(request)
        if me is None:
            return self._pairing_page(i18n.normalise_lang(request.query.get("lang") or self.lang))
        _token, term, lang = me
        try:
            seen = int(request.query.get("v", "0"))
        except ValueError:
            seen = 0
        me_page = page_id(request.query.get("p"))
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        until = asked_at + WAIT_S
        while term.changed is not None and not self.closing:
            has, owed = term.has(me_page, seen, asked_at)
            if has < term.version and not owed:
                break
            try:
                await asyncio.wait_for(term.changed.wait(), until - loop.time())
            except asyncio.TimeoutError:
                pass
            if self._session(request) is None:   # revoked while it waited
                return self._pairing_page(lang)
            if loop.time() >= until:
                break
        view = await term.view()
        return web.Response(body=term.page_json(view, lang, request.query.get("area", ""))[1],
                            content_type="application/json", headers=_NO_STORE)

    async def _asked(self, request: web.Request) -> tuple[Terminal, str, dict[str, Any], View | None] | web.Response:
        """A paired phone's request: its station, its language, what it sent and the station's View; the pairing
        page otherwise."""
        me = self._session(request)
        if me is None:
            return self._pairing_page(self.lang)
        _token, term, lang = me
        return term, lang, await _json(request), await term.view()

    async def _tap(self, request: web.Request) -> web.Response:
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        term, lang, sent, view = asked
        action = page.find_action(term.post, term.site, view, lang, str(sent.get("action", "")),
                                  term.keys_for(view, lang))
        if action is None or action.build is None:
            return _refused(i18n.t("station.web.no_such_key", lang), 404)
        refusal = page.refusal(term.post, term.site, action, view, lang)
        if refusal:
            return _refused(refusal, 409)
        area = page.area_of(term.post, term.site, str(sent.get("area", "")))
        try:
            type_, body = action.build(page.site_now(term.site, view), page.values_for(action, sent.get("values")), area)
            body = signed(type_, body, view)
            term.client.check(type_, body)
        except ProtocolError as err:
            return _refused(err.sentence(lang), 422)
        owed, person = page.step_owed(view, action.id), signer(view)   # a plan task settled acks its order, as on the terminal

        def job(_outbox: Any) -> Report:
            report = term.client.submit(type_, body)
            if owed:
                term.client.acknowledge_instruction(owed, person)
            return report
        return await self._save(term, lang, job, action.remind, sent,
                                said={"done": "station.plan.done", "skipped": "station.plan.skipped"}.get(
                                    body.get("status", "") if action.kind == "step" else "", ""))

    async def _ack(self, request: web.Request) -> web.Response:
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        term, lang, sent, view = asked
        try:
            gseq = int(sent.get("id"))
        except (TypeError, ValueError):
            return _refused(i18n.t("station.web.no_such_key", lang), 404)
        person = signer(view)
        return await self._save(term, lang, lambda _outbox: term.client.acknowledge_instruction(gseq, person), "",
                                sent)

    # --- the guest list and the service calls (the terminal's F7 and its calls list) -------------------------
    async def _guests(self, request: web.Request) -> web.Response:
        me = self._session(request)
        if me is None:
            return self._pairing_page(self.lang)
        _token, term, lang = me
        if not page.has(term.post, "guests"):
            return _refused(i18n.t("station.web.no_such_key", lang), 404)
        found = page.guests(term.post, term.site, await term.view(), lang, request.query.get("q", "")[:64])
        return web.json_response(found, headers=_NO_STORE)

    async def _call(self, request: web.Request) -> web.Response:
        """Take a call routed here (its notice acknowledged, as the terminal's Enter) or mark one done (its d)."""
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        term, lang, sent, view = asked
        call = next((c for c in (view.calls if view is not None else ()) if c.id and c.id == sent.get("id")), None)
        what = str(sent.get("do", ""))
        if call is None or what not in ("take", "done"):
            return _refused(i18n.t("station.web.no_such_key", lang), 404)
        person = signer(view)
        if what == "take":
            if not page.may_take(call) or call.notice is None:
                return _refused(i18n.t("station.calls.cannot_take", lang), 409)
            gseq = call.notice.id
            return await self._save(term, lang, lambda _outbox: term.client.acknowledge_instruction(gseq, person), "",
                                    sent, said="station.calls.taken")
        if not page.may_finish(call):
            return _refused(i18n.t("station.calls.cannot_finish", lang), 409)
        body = {"call": call.id, "status": "done", "by": person, "note": ""}
        return await self._save(term, lang, lambda _outbox: term.client.submit("service_update", body), "",
                                sent, said="station.calls.done")

    async def _save(self, term: Terminal, lang: str, job: Job, remind: str, sent: dict[str, Any],
                    said: str = "") -> web.Response:
        """Save on the station's worker, then answer: "saved #n" only once the outbox has it (`said`: the
        sentence a list's button says instead, as the terminal's list does). The answer waits up to TAP_WAIT_S for
        the report to settle and brings the page as it then is (`now`), so the tapping page draws once; its own
        long poll (the page's id in `sent`) is not answered for what the answer brings."""
        me_page = page_id(sent.get("p"))
        term.tapping(me_page)
        brought = None
        try:
            result = await off_loop(term.worker, job)
            if isinstance(result, Report):
                term.bump_soon(asyncio.get_running_loop(), moving=True)   # its ack wakes the pages, or MOVING_S does
                said = i18n.t(said, lang, seq=result.seq) if said else i18n.t(
                    "station.flash.saved", lang, seq=result.seq,
                    what=describe(result.type, result.body, lang, term.site.area_names(lang)))
                if remind:
                    said += " " + i18n.t(remind, lang)
                await term.settle(result.seq, TAP_WAIT_S)
                view = await term.view()
                brought, now = term.page_json(view, lang, str(sent.get("area", "")))
                answer = json.dumps({"seq": result.seq, "said": said, "v": brought}, ensure_ascii=False,
                                    separators=(",", ":")).encode()
                return web.Response(body=answer[:-1] + b',"now":' + now + b"}", content_type="application/json",
                                    headers=_NO_STORE)
        finally:
            term.tapped(me_page, brought, asyncio.get_running_loop().time())
        if isinstance(result, (ProtocolError, OutboxError)):
            return _refused(result.sentence(lang), 422 if isinstance(result, ProtocolError) else 503)
        log.error("saving for %s failed: %r", term.client.station, result)
        return _refused(i18n.t("station.web.save_failed", lang), 500)

    async def _lang(self, request: web.Request) -> web.Response:
        sent = await _json(request)
        lang = i18n.normalise_lang(str(sent.get("lang", "")))
        token = request.cookies.get(COOKIE, "")
        self.pairings.set_lang(token, lang)
        return web.json_response({"lang": lang})

    async def _unpair(self, request: web.Request) -> web.Response:
        self.pairings.unpair(request.cookies.get(COOKIE, ""))
        await self._tell_ended()
        response = web.json_response({"paired": False})
        response.del_cookie(COOKIE, path="/")
        return response


_NO_STORE = {"Cache-Control": "no-store"}


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _store_generation(path: Path, station: str, generation: int) -> None:
    try:
        stored = read_generations(path)
        if stored.get(station, 0) < generation:
            write_generations(path, {**stored, station: generation})
    except OSError as exc:   # the revoke holds in this process all the same
        log.warning("cannot write %s: %s", path, exc)


def _refused(sentence: str, status: int) -> web.Response:
    return web.json_response({"error": sentence}, status=status)
