"""The station terminal (Textual): one post's screen over a StationClient; thin — posts, screens and widgets do the rest.

The client's thread reports changes through `on_change`; the app turns them into one
coalesced message and asks for a fresh View at a steady rate, never per message. No SQLite on
the event loop: the terminal's outbox worker (a thread with its own connection) builds each View
and saves each submission, and answers with an `Answered` message the loop acts on.
Knows `protocols` and the station package only: the caller hands in the client and the Site.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen

from protocols import i18n
from protocols.codec import ProtocolError
from protocols.file_errors import why_text
from stations.link.client import StationClient
from stations.link.worker import Job, OutboxWorker
from stations.outbox.store import OutboxError
from stations.records import Report
from stations.terminal.posts import duty, for_site, plan_tasks
from stations.terminal.posts.base import Action, Area, Field, Site
from stations.terminal.posts.common import describe
from stations.terminal.posts.service_calls import Call
from stations.terminal.screens.duty import DutyScreen
from stations.terminal.screens.form import ReportForm
from stations.terminal.screens.guests import GuestScreen
from stations.terminal.screens.inbox import InboxScreen
from stations.terminal.screens.post import PostScreen
from stations.terminal.screens.services import ServiceCallsScreen
from stations.terminal.screens.view import View
from stations.terminal.view_builder import ViewBuilder

REFRESH_S = 0.25      # redraw rate when something changed
IDLE_REFRESH_S = 1.0  # ... and at least this often, for waiting counts moved by another process
QUIT_AGAIN_S = 5.0    # with reports waiting, Ctrl+Q warns; a second one within this quits


class StationApp(App):
    CSS_PATH = Path(__file__).with_name("station.tcss")
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("f12,l", "toggle_lang", "中文 / English", show=False),
                Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    class Changed(Message):
        """The client saw something change; many in a row collapse into one."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, StationApp.Changed)

    class Answered(Message):
        """The outbox worker finished a job: `then(result)` runs on the loop (result: a value or the exception)."""

        def __init__(self, then: Callable[[Any], None], result: Any) -> None:
            super().__init__()
            self.then, self.result = then, result

    def __init__(self, client: StationClient, site: Site, lang: str | None = None, *,
                 start_client: bool = True) -> None:
        super().__init__()
        self.client, self.site = client, site
        self.lang = i18n.normalise_lang(lang or site.lang)
        self.post = for_site(site)
        self.areas: tuple[Area, ...] = self.post.areas(site)
        self.area_index = 0
        self.builder = ViewBuilder(client.link_status, self.post, site)
        self.outbox_worker: OutboxWorker | None = None
        self.view: View | None = None
        self._building = self._again = False   # one View build in flight; the asks meanwhile make one more
        self._waiting_action: Action | None = None
        self.saving = 0   # submissions handed to the worker and not yet answered (tests and the bench wait on it)
        self.start_client = start_client
        self._dirty = True
        self._idle = 0.0
        self._chained = client.on_change
        self.monotonic: Callable[[], float] = time.monotonic   # the quit warning's clock (tests step it)
        self._quit_warned_at: float | None = None

    # --- life ---------------------------------------------------------------------------------
    async def on_mount(self) -> None:
        self.title = self.site.label(self.lang)
        self.client.on_change = self._from_client_thread
        self.outbox_worker = self.client.worker(f"terminal-{self.client.station}")
        self.main = PostScreen(self.post, self.site, self.lang)
        await self.push_screen(self.main)
        self.redraw()
        if self.start_client:
            self.client.start()
        self.set_interval(REFRESH_S, self._tick)

    def on_unmount(self) -> None:
        self.client.on_change = self._chained
        if self.outbox_worker is not None:
            self.outbox_worker.close()   # the terminal is closing: let a save in flight finish first

    def off_loop(self, job: Job, then: Callable[[Any], None]) -> None:
        """Run `job(outbox)` on the outbox worker; `then(result)` follows on this loop."""
        def answer(result: Any) -> None:   # on the worker's thread: post_message is thread-safe
            try:
                self.post_message(self.Answered(then, result))
            except RuntimeError:   # the loop closed under us: the job is done, nobody left to tell
                pass
        assert self.outbox_worker is not None, "the terminal is not mounted"
        self.outbox_worker.do(job, answer)

    def on_station_app_answered(self, message: Answered) -> None:
        message.then(message.result)

    def _save(self, job: Job, then: Callable[[Any], None]) -> None:
        """A submission off the loop; `then` says saved or why not."""
        def answered(result: Any) -> None:
            self.saving -= 1
            then(result)
        self.saving += 1
        self.off_loop(job, answered)

    def _from_client_thread(self, kind: str, payload: Any) -> None:
        # Called on the client's thread: post_message is thread-safe and never blocks the link.
        if self._chained is not None:
            self._chained(kind, payload)
        if self.is_running and not self._closing:
            try:
                self.post_message(self.Changed())
            except RuntimeError:  # the loop closed under us while shutting down
                pass

    def on_station_app_changed(self, message: Changed) -> None:
        self._dirty = True

    def _tick(self) -> None:
        self._idle += REFRESH_S
        if self._dirty or self._idle >= IDLE_REFRESH_S:
            self.redraw()

    def redraw(self) -> None:
        """Ask for a fresh View, built off the loop; shown when it comes (`_show`)."""
        self._dirty, self._idle = False, 0.0
        if self._building:
            self._again = True
            return
        self._building, area = True, self.area
        self.off_loop(lambda outbox: self.builder.build(outbox, area), lambda result: self._show(result, area))

    def _show(self, result: View | BaseException, area: Area | None) -> None:
        self._building = False
        if self._again:
            self._again = False
            self.redraw()
        if isinstance(result, (sqlite3.Error, OutboxError)):
            # A busy or broken outbox file must not take the terminal down: say so, try next tick.
            detail = result.sentence(self.lang) if isinstance(result, OutboxError) else why_text(result, self.lang)
            self.main.flash(i18n.t("station.error.outbox", self.lang, detail=detail), bad=True)
            return
        if isinstance(result, BaseException):
            raise result
        if self._closing or not self.is_running:
            return   # the answer came while the terminal closes: its widgets are already going
        self.view = result
        try:
            self.main.show(result, area)
        except NoMatches:   # the post screen is being torn down under this answer (quitting)
            return
        self._show_inbox()
        waiting, self._waiting_action = self._waiting_action, None
        if waiting is not None:
            self.perform(waiting)

    def _show_inbox(self) -> None:
        top = self.screen
        if isinstance(top, InboxScreen) and self.view is not None:
            top.show(self.view.instructions, self.view.acks)
        if isinstance(top, ServiceCallsScreen) and self.view is not None:
            top.show(self.view.calls)
        if isinstance(top, DutyScreen) and self.view is not None:   # the desk's task changes, while it is open
            top.show(self.site.as_now(self.view.status.event), list(self.view.on_duty), set(self.view.tasks_done))

    @property
    def area(self) -> Area | None:
        return self.areas[self.area_index % len(self.areas)] if self.areas else None

    # --- what the keys do ---------------------------------------------------------------------
    def perform(self, action: Action) -> None:
        if action.kind == "cycle":
            if self.areas:
                self.area_index = (self.area_index + 1) % len(self.areas)
                self.main.flash(i18n.t("station.flash.area", self.lang, area=self.area.label(self.lang)))
            self.redraw()
        elif action.kind == "inbox":
            screen = InboxScreen(self.lang, self.acknowledge)
            self.push_screen(screen)
            self.call_after_refresh(self._show_inbox)   # what we have now, then the fresh View
            self.call_after_refresh(self.redraw)
        elif action.kind == "calls":
            self.push_screen(ServiceCallsScreen(self.lang, self.take_call, self.finish_call))
            self.call_after_refresh(self._show_inbox)
            self.call_after_refresh(self.redraw)
        elif action.kind in ("duty", "guests"):
            view = self.view
            if view is None:   # a key pressed before the first View came: opened when it comes
                self._waiting_action = action
                return
            if action.kind == "duty":
                self.push_screen(DutyScreen(self.site.as_now(view.status.event), self.lang, list(view.on_duty),
                                            set(view.tasks_done), self.perform))
            else:
                self.push_screen(GuestScreen(self.lang, list(view.guests), set(view.checked_in), self.perform))
        elif refusal := self._refused_here(action):
            self.main.flash(refusal, bad=True)
        elif not action.fields:
            self.send(action, {})
        else:
            self.push_screen(self._form(action))

    def _form(self, action: Action, values: dict[str, Any] | None = None, problem: str = "") -> ReportForm:
        title = action.title or i18n.t(action.label, self.lang)
        if self.area is not None and not action.title:
            title += f" · {self.area.label(self.lang)}"
        if action.remind:
            title += f" · {i18n.t(action.remind, self.lang)}"
        return ReportForm(action, self.lang, self.send, title, values=values, problem=problem)

    def send(self, action: Action, values: dict[str, Any]) -> str | None:
        """Check and hand one report to the outbox worker; the refusal's sentence (nothing saved), or None.

        The check is the codec's and reads no file; the save (an fsync) happens off the loop, then
        `_saved` says "saved" — or why not, reopening the form with the values as typed.
        """
        refusal = self._refused_here(action)   # again: a hold may have come while the form was open
        if refusal:
            self.main.flash(refusal, bad=True)
            return refusal
        try:
            type_, body = action.build(self.site, values, self.area)
            body = self._signed(type_, body)
            self.client.check(type_, body)
        except ProtocolError as err:
            problem = err.sentence(self.lang)
            self.main.flash(problem, bad=True)
            return problem
        self._save(lambda _outbox: self.client.submit(type_, body),
                      lambda result: self._saved(result, action, values))
        return None

    def _refused_here(self, action: Action) -> str:
        """The post's own rule against this key now (the gate keeps ordinary cars held), in words; "" if none."""
        if self.post.guard is None or action.kind != "report":
            return ""
        key = self.post.guard(self.site, action.id, self.view.orders if self.view is not None else ())
        return i18n.t(key, self.lang) if key else ""

    def _saved(self, result: Report | BaseException, action: Action, values: dict[str, Any]) -> None:
        if isinstance(result, Report):
            said = i18n.t("station.flash.saved", self.lang, seq=result.seq,
                          what=describe(result.type, result.body, self.lang, self.site.area_names(self.lang)))
            self.main.flash(said + (f" {i18n.t(action.remind, self.lang)}" if action.remind else ""))
            self.redraw()
            return
        problem = self._refusal(result)
        self.main.flash(problem, bad=True)
        if action.fields and self.screen is self.main:
            self.push_screen(self._form(action, values, problem))   # nothing typed is lost

    def _refusal(self, err: BaseException, framed: bool = True) -> str:
        """The sentence for a save refused (an outbox failure `framed` as one, as reports always said)."""
        if isinstance(err, OutboxError) and framed:
            return i18n.t("station.error.outbox", self.lang, detail=err.sentence(self.lang))
        if isinstance(err, (ProtocolError, OutboxError)):
            return err.sentence(self.lang)
        raise err   # anything else is a bug: let it show

    def acknowledge(self, instruction: int) -> str | None:
        """Save the confirmation off the loop; `_acked` says so (None: nothing to refuse yet)."""
        person = self.signer
        self._save(lambda _outbox: self.client.acknowledge_instruction(instruction, person),
                      lambda result: self._acked(result, instruction))
        return None

    @property
    def signer(self) -> str:
        """Who is signed in here, as the terminal's own reports say: sent with every confirmation (issue 16 item 3)."""
        return duty.signer(self.view.on_duty) if self.view is not None else ""

    def _signed(self, type_: str, body: dict[str, Any]) -> dict[str, Any]:
        """A confirmation or sign-off carries the person signed in here, when someone is."""
        if type_ in ("plan_step", "task_signoff", "instruction_ack") and self.signer and not body.get("person"):
            return body | {"person": self.signer}
        return body

    def _acked(self, result: Report | BaseException, instruction: int) -> None:
        self._answered(result, "station.flash.acked", id=instruction)

    def _answered(self, result: Report | BaseException, said: str, **params: Any) -> None:
        """A save asked for from a list (the inbox, the service calls): flash it, or say why not, there too."""
        if isinstance(result, Report):
            self.main.flash(i18n.t(said, self.lang, seq=result.seq, **params))
            self.redraw()
            return
        problem = self._refusal(result, framed=False)
        self.main.flash(problem, bad=True)
        if isinstance(self.screen, (InboxScreen, ServiceCallsScreen)):
            self.screen.refused(problem)

    # --- service calls: take one routed here (acknowledge its notice), mark one done ----------------
    def take_call(self, call: Call) -> str | None:
        return self.acknowledge(call.notice.id) if call.notice is not None else None

    def finish_call(self, call: Call) -> str | None:
        """Check and save a service_update done, by whoever is signed in here; the refusal, or None."""
        body = {"call": call.id, "status": "done", "by": self.signer, "note": ""}
        try:
            self.client.check("service_update", body)
        except ProtocolError as err:
            return err.sentence(self.lang)
        self._save(lambda _outbox: self.client.submit("service_update", body),
                   lambda result: self._answered(result, "station.calls.done"))
        return None

    # --- a running plan's task for this post ---------------------------------------------------------
    def _plan_task(self) -> plan_tasks.Task | None:
        tasks = self.view.tasks if self.view is not None else ()
        if not tasks:
            self.main.flash(i18n.t("station.plan.no_task", self.lang), bad=True)
        return tasks[0] if tasks else None

    def plan_done(self) -> None:
        task = self._plan_task()
        if task is not None:
            self.settle_task(task, "done")

    def plan_skip(self) -> None:
        task = self._plan_task()
        if task is None:
            return
        form = Action("plan_skip", "k", "station.plan.act_skip", fields=(Field("reason", "field.reason"),))
        title = f"{i18n.t('station.plan.skip_title', self.lang)} · {task.order(self.lang)}"
        self.push_screen(ReportForm(form, self.lang, lambda _a, v: self.settle_task(task, "skipped", v["reason"]),
                                    title[:70]))

    def settle_task(self, task: plan_tasks.Task, status: str, reason: str = "") -> str | None:
        """plan_step for the task (the codec refuses a skip without a reason), then the order's ack if still owed."""
        type_, body = plan_tasks.step_report(task, status, str(reason).strip())
        body = self._signed(type_, body)
        person = self.signer
        try:
            self.client.check(type_, body)
        except ProtocolError as err:
            problem = err.sentence(self.lang)
            self.main.flash(problem, bad=True)
            return problem
        owed = task.item.ack_required and task.item.acked_ms is None

        def job(_outbox: Any) -> Report:
            report = self.client.submit(type_, body)
            if owed:
                self.client.acknowledge_instruction(task.item.id, person)
            return report
        self._save(job, lambda result: self._settled(result, status))
        return None

    def _settled(self, result: Report | BaseException, status: str) -> None:
        if not isinstance(result, Report):
            self.main.flash(self._refusal(result, framed=False), bad=True)
            return
        key = "station.plan.done" if status == "done" else "station.plan.skipped"
        self.main.flash(i18n.t(key, self.lang, seq=result.seq))
        self.redraw()

    def action_toggle_lang(self) -> None:
        self.set_lang("en" if self.lang == "zh" else "zh")

    async def action_quit(self) -> None:
        """Quit. With reports not yet at the desk, say so first (they stay saved on this terminal and go
        when it runs again); a second Ctrl+Q within QUIT_AGAIN_S quits."""
        waiting = self.client.link_status().waiting   # as the link last counted: no SQLite on this loop
        now = self.monotonic()
        warned = self._quit_warned_at
        if waiting and (warned is None or now - warned > QUIT_AGAIN_S):
            self._quit_warned_at = now
            if self.screen is not self.main:
                self.pop_screen()
            self.main.flash(i18n.t("station.quit_waiting", self.lang, n=waiting), bad=True)
            return
        self.exit()

    def set_lang(self, lang: str) -> None:
        self.lang = i18n.normalise_lang(lang)
        self.title = self.site.label(self.lang)
        self.main.relabel(self.lang)
        # The last action's message was said in the other language: gone, so every line on the
        # screen is in the one chosen (the browser terminal showed English under Chinese).
        self.main.flash("")
        if self.screen is not self.main:
            self.screen.dismiss()   # a form or the inbox reopens in the new language with one key
        self.redraw()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for action in self.post.actions:
            yield SystemCommand(f"{action.key.upper()} {i18n.t(action.label, self.lang)}",
                                i18n.t(action.label, "en" if self.lang == "zh" else "zh"),
                                lambda a=action: self.perform(a))
        if self.view is not None and self.view.tasks:
            yield SystemCommand(f"D {i18n.t('station.plan.act_done', self.lang)}", self.view.tasks[0].order(self.lang),
                                self.plan_done)
            yield SystemCommand(f"K {i18n.t('station.plan.act_skip', self.lang)}", self.view.tasks[0].order(self.lang),
                                self.plan_skip)
        yield SystemCommand(i18n.t("station.cmd.lang", self.lang), "F12", self.action_toggle_lang)
