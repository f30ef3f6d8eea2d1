"""The command desk (Textual): ties a DeskLink, a clock and a language to the screens; computes nothing itself.

Data flows one way: every TICK_S the app builds a View from the link's latest picture (or
an injected fixture state and clock, for tests) and hands it to the screens; operator intent
comes back as `send(...)`, one call on the link, run on the link's saver thread (the save's
fsync never on this loop) and answered with `Saved`. The screen never re-renders per feed message.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from textual.app import App
from textual.command import CommandPalette
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen

from console.core import state as fold
from console.core.state import State, new_state
from console.hub.gcpace import GcPace
from console.desk.hub_start import ensure_hub, follow_pair, others as other_hubs
from console.desk.keys import bindings
from console.desk.link import DeskLink
from console.desk.notices import Notices
from console.desk.screens.commands import DeskCommands
from console.desk.screens.details import IncidentScreen, InstructionsScreen, StationScreen, ViewScreen
from console.desk.screens.help import HelpScreen
from console.desk.screens.main import MainScreen
from console.desk.screens.plans import PlansScreen
from console.desk.screens.readiness import GuestsScreen, ReadinessScreen
from console.desk.screens.services import ServicesScreen
from console.desk.widgets.chrome import DeskFooter
from console.desk.widgets.notices import NoticeBar, rows_for
from console.desk.widgets.view import Seen, View, alerts, seen
from console.event.folder import EventFolder
from protocols import keys
from protocols.codec import ProtocolError
from protocols.i18n import normalise_lang, t

TICK_S = 0.25   # the clock's pace (and a fixture's): new pictures come by `Published`, not by polling
# The first picture's full collection (gcpace), once that picture has been on screen a moment: on a long
# day it takes 100-300 ms (bench/desk_attach.py), which belongs after the picture, not between it and the screen.
FIRST_SWEEP_S = 2.0


class Published(Message):
    """The link has a new picture. Posted from the link's thread; pending ones merge into one."""

    def can_replace(self, message: Message) -> bool:
        # A burst of publishes while the loop is busy becomes one frame, never a queue of them.
        return isinstance(message, Published)


class Saved(Message):
    """An operator action was saved, or refused (`result` is the Report or the exception). From the saver's thread."""

    def __init__(self, result: Any, done_key: str, params: dict[str, Any]) -> None:
        super().__init__()
        self.result, self.done_key, self.params = result, done_key, params


class Noticed(Message):
    """Something to tell the operator (`notify`, which any thread may call)."""

    def __init__(self, text: str, severity: str, timeout: float, cause: str) -> None:
        super().__init__()
        self.text, self.severity, self.timeout, self.cause = text, severity, timeout, cause


class DeskApp(App):
    CSS_PATH = "desk.tcss"
    COMMANDS = {DeskCommands}
    BINDINGS = bindings("app")
    TITLE = "eventdesk"

    lang = reactive("zh")

    def __init__(self, link: DeskLink | None = None, state: State | None = None,
                 clock: Callable[[], int] | None = None, lang: str = "zh", wall: bool = False,
                 drill: bool = False, desk: str = "") -> None:
        super().__init__()
        self.link = link
        self.fixture = state if state is not None else new_state({})
        self.clock = clock or (link.hub_now_ms if link else (lambda: int(time.time() * 1000)))
        self.wall, self.drill, self.desk_id = wall, drill, desk
        self.set_reactive(DeskApp.lang, normalise_lang(lang))
        self.current_view: View | None = None
        self.notices = Notices()
        self._notices_up = False   # a notice stands: each tick redraws the bar (time out, screen changed)
        self._seen: Seen | None = None   # what the last frame showed, for the next frame's alerts
        self._frame_key: tuple = ()
        self._frame_at = 0   # the clock (ms) at the last frame
        self.gc_pace = GcPace()
        self._finished: deque = deque()   # final action reports, appended by the link's thread

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def on_mount(self) -> None:
        # Full garbage-collector passes walk only what is new since the last one (console/hub/gcpace.py):
        # under a flood they stopped the screen 60-90 ms each, and a key pressed then waited. Undone on unmount.
        self.gc_pace.start()
        if self.link is not None:
            # Without it a picture waited up to TICK_S more for the next poll (commit-to-screen
            # had a ~500 ms floor). post_message is thread-safe and never blocks the link.
            self.link.on_publish = self._link_published
        self.tick()
        self.set_interval(TICK_S, self.tick)

    def on_unmount(self) -> None:
        self.gc_pace.stop()

    def _link_published(self) -> None:
        """On the link's thread."""
        try:
            self.post_message(Published())
        except RuntimeError:   # the app's loop closed under us (desk quitting): nothing left to draw
            pass

    def on_published(self, message: Published) -> None:
        self.tick(fresh=True)   # at most one per PUBLISH_S (the link's pace), so the screen's rate stays bounded

    # --- data down ------------------------------------------------------------------------------
    def build_view(self) -> View:
        real = self.clock()
        if self.link is None:
            return View(self.fixture, fold.event_ms(self.fixture, real), self.lang, self.drill, "local",
                        wall=self.wall, desk=self.desk_id, real_ms=real)
        pic = self.link.picture()
        hub = "ok" if pic.hub_ok else ("lost" if pic.hub_heard_ms else "connecting")
        state = pic.state or self.fixture
        return View(state, fold.event_ms(state, real), self.lang, pic.drill or self.drill, hub,
                    pic.hub_heard_ms, pic.actions_waiting, pic.version, self.wall, self.desk_id, real, pic.pair)

    # --- notices --------------------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None,
               markup: bool = True, cause: str = "") -> None:
        """Tell the operator something, in the notice bar (never a toast over the panels: console/desk/notices.py).

        Markup is never read: the words may hold a station's text. The same `cause` (by default the
        same words) again counts on the line already shown.
        """
        text = f"{title}：{message}" if title else message
        self.post_message(Noticed(text, severity, self.NOTIFICATION_TIMEOUT if timeout is None else timeout, cause))

    def on_noticed(self, message: Noticed) -> None:
        self.notices.add(message.text, message.severity, message.timeout, self.clock(), message.cause)
        self._show_notices()

    def _show_notices(self) -> None:
        """Draw what stands on the top screen: above its footer, or at the foot of a dialog (never over it)."""
        try:
            screen = self.screen
        except Exception:   # no screen yet (starting) or any more (quitting)
            return
        live = self.notices.live(self.clock())
        if not live and self._notices_up:
            for other in self.screen_stack:   # the last one went: no screen below keeps it
                for bar in other.query_children(NoticeBar):
                    bar.show([], 0, self.lang)
        self._notices_up = bool(live)
        bars = screen.query_children(NoticeBar)
        if bars:
            bar = bars.first()
        elif not live:
            return
        else:
            bar = NoticeBar()
            footers = screen.query_children(DeskFooter)
            if footers:
                screen.mount(bar, before=footers.first())
            else:
                bar.add_class("-docked")
                screen.mount(bar)
        bar.show(live, rows_for(self.size.height), self.lang)

    def tick(self, fresh: bool = False) -> None:
        """A frame, if the eye would see a change. The clock's timer calls it (`fresh` False), and so does
        each picture the link publishes (at most one per PUBLISH_S)."""
        self.gc_pace.tick()
        if self._notices_up:
            self._show_notices()   # a notice past its time goes; the top screen may have changed
        self._report_finished()
        now = self.clock()
        if not fresh and self.link is not None and self._frame_key and now - self._frame_at < TICK_S * 1000 \
                and fold.event_ms(self.current_view.state, now) // 1000 == self._frame_key[1]:
            # Pictures come in by Published, at most ten a second: the timer adds a frame only for the
            # clock's next second or a link gone quiet. (It drew one more each time under a flood, 14
            # frames a second instead of 10: bench/desk_load.py.)
            return
        view = self.build_view()
        # Only what the eye can see changing: a new picture, the next second, the language, the link.
        key = (view.version, view.now_ms // 1000, view.lang, view.hub, view.waiting, view.drill)
        if key == self._frame_key:
            return
        self._frame_key, self._frame_at = key, now
        self.current_view = view
        for screen in self._on_view(view):
            screen.view = view
        # After the screens have the frame, so the board already holds a new incident to move to.
        # The first real picture is the baseline: what it already holds was before this desk.
        prev = self._seen
        if self.link is None or view.version > 0:
            self._seen = seen(view)
            if prev is None:
                # The day so far has just come in (snapshot and guests): one full pass while the desk is
                # still starting freezes it, so no full pass during the day walks it again.
                self.set_timer(FIRST_SWEEP_S, self.gc_pace.sweep)
        if prev is not None:
            for alert in alerts(prev, view):
                self.notify(alert.text, severity=alert.severity, timeout=15, markup=False, cause=alert.cause)
                if alert.bell:
                    self.bell()
                if alert.incident and isinstance(self.screen_stack[0], MainScreen):
                    self.screen_stack[0].show_incident(alert.incident)

    def _on_view(self, view: View) -> list[ViewScreen]:
        """The screens the operator can see: the top one, and the one under it when the top is a
        modal (it shows through, dimmed). The others are refreshed when they come back
        (ViewScreen.on_screen_resume): feeding them each frame re-rendered hidden tables for nothing."""
        stack = self.screen_stack
        shown = stack[-1:]
        # Only a see-through modal shows the screen under it (an opaque one, the help, hides it whole).
        if len(stack) > 1 and isinstance(stack[-1], ModalScreen) and stack[-1].styles.background.a < 1:
            under, last = stack[-2], getattr(stack[-2], "view", None)
            # Any change under a modal redraws the whole modal with its dimmed backdrop (~40 ms
            # under a flood): the backdrop follows at the clock's pace (1 Hz), not every frame.
            if last is None or last.now_ms // 1000 != view.now_ms // 1000 or last.lang != view.lang:
                shown = [under, stack[-1]]
        return [s for s in shown if isinstance(s, ViewScreen) and s.is_mounted]

    def watch_lang(self) -> None:
        self._frame_key = ()
        self.tick(fresh=True)
        for screen in self.screen_stack:
            for footer in screen.query(DeskFooter):
                footer.call_after_refresh(footer.recompose)

    # --- intent up ------------------------------------------------------------------------------
    def send(self, do: Callable[[DeskLink], Any], done_key: str, **params: Any) -> None:
        """Run one action on the link; say it was saved (the board shows it once the hub logs it)."""
        if self.link is None:
            self.notify(t("desk.msg.read_only", self.lang), severity="warning")
            return

        def answer(result: Any) -> None:   # on the saver's thread
            try:
                self.post_message(Saved(result, done_key, params))
            except RuntimeError:   # the desk is quitting: the action is saved, nobody left to tell
                pass
        self.link.later(do, answer)

    def on_saved(self, message: Saved) -> None:
        err = message.result
        if isinstance(err, ProtocolError):
            self.notify(err.sentence(self.lang), severity="error", markup=False)
        elif isinstance(err, Exception):  # the outbox could not save: nothing was sent, say why
            self.notify(t("desk.msg.not_saved", self.lang, reason=str(err)), severity="error", markup=False)
        else:
            self.notify(t(message.done_key, self.lang, **message.params), markup=False, timeout=4)

    def action_finished(self, report: Any) -> None:
        """Called on the link's thread when an action is delivered or rejected; read at the next tick."""
        self._finished.append(report)

    def _report_finished(self) -> None:
        while self._finished:
            report = self._finished.popleft()
            if report.state == "rejected":
                reason = report.reason_zh if self.lang == "zh" and report.reason_zh else report.reason
                self.notify(t("desk.msg.rejected", self.lang, type=t(f"type.{report.type}", self.lang),
                              code=report.code, reason=reason), severity="error", timeout=20, markup=False)
                self.bell()

    # --- app-wide actions -------------------------------------------------------------------------
    def action_toggle_lang(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        # Made once per language and kept (installed): composing the key table again each time
        # took ~60 ms, a visible stop of the board under load.
        name = f"help-{self.lang}{'-wall' if self.wall else ''}"
        if not self.is_screen_installed(name):
            self.install_screen(HelpScreen(), name)
        self.push_screen(name)

    def action_command_palette(self) -> None:
        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=t("desk.palette", self.lang)))

    summary_source: Callable[[], Any] | None = None   # run_desk sets it: reads the folder's log (console.report.files)

    def action_summary(self) -> None:
        """The post-event summary (后期总结) computed from the log, with terminal charts."""
        from console.desk.screens.summary import SummaryScreen
        if not isinstance(self.screen, SummaryScreen):
            self.push_screen(SummaryScreen(self.summary_source))

    def action_readiness(self) -> None:
        if not isinstance(self.screen, ReadinessScreen):
            self.push_screen(ReadinessScreen())

    def action_guests(self) -> None:
        if not isinstance(self.screen, GuestsScreen):
            self.push_screen(GuestsScreen())

    def action_services(self) -> None:
        """The service calls (服务需求): open ones, late ones, who took them."""
        if not isinstance(self.screen, ServicesScreen):
            self.push_screen(ServicesScreen())

    phones_source: Any = None   # run_desk sets it when the event folder is here: codes and pairings (console.event.phones)

    def action_phones(self) -> None:
        """Phones paired with the stations: each code as text and QR, the phones paired now, revoke."""
        from console.desk.screens.phones import PhonesScreen
        if not isinstance(self.screen, PhonesScreen):
            self.push_screen(PhonesScreen(self.phones_source))

    def open_station(self, station: str) -> None:
        self.push_screen(StationScreen(station))

    def open_incident_screen(self, incident: int) -> None:
        self.push_screen(IncidentScreen(incident))

    def open_instructions(self) -> None:
        self.push_screen(InstructionsScreen())

    def open_plans(self) -> None:
        self.push_screen(PlansScreen())


def run_desk(root: Path, desk: str = "desk-1", lang: str | None = None, wall: bool = False, drill: bool = False,
             attach: str | None = None, feed: str | None = None, key: Path | None = None,
             server_key: Path | None = None) -> int:
    """`eventdesk desk DIR`: find (or start) the hub, follow it, run the screen; the hub outlives the desk.

    Everything this desk needs of its own (its name in event.toml, its keys) is checked before a
    hub is started, and a hub started for a desk that then cannot open is stopped again.
    """
    folder = EventFolder(root)
    event = folder.load() if (folder.toml.exists() or not attach) else None
    summary = event.summary() if event is not None else {}
    endpoint, feed_ep = attach or "", feed or ""
    lang = normalise_lang(lang or summary.get("lang"))
    if attach and not feed:
        print("eventdesk: " + t("desk.cli.need_feed", lang), file=sys.stderr)
        return 2
    if not attach and desk not in event.desks:
        print("eventdesk: " + t("cli.fail.no_desk", lang, desk=desk, known=", ".join(event.desks) or "-"),
              file=sys.stderr)
        return 2
    secret, public = key or folder.desk_key(desk), server_key or folder.console_public
    keys.load_pair(secret)   # KeyError_ now, before any hub is started for a desk that cannot join it
    keys.load_public(public)
    hub = None
    pairs = event.hub.pairs() if event is not None and not attach else ()
    running = folder.read_runtime(drill) if not attach else None
    if not attach and follow_pair(pairs, running, drill):
        (endpoint, feed_ep), backup = pairs[0], pairs[1]
        print(t("desk.cli.following_pair", lang, primary=endpoint, backup=backup[0]), flush=True)
    elif not attach:
        if running is None:
            print(t("desk.cli.starting_hub", lang), flush=True)
        hub = ensure_hub(folder, drill, lang=lang)
        endpoint, feed_ep = hub.endpoint, hub.feed
    # A rehearsal log numbers a desk's actions apart from the live one: separate outboxes.
    outbox = folder.root / "desks" / f"{desk}{'.rehearsal' if drill else ''}.outbox.db"
    try:
        # The other hub, if event.toml names two (PROTOCOL.md 5.13): the desk moves there when this one is lost.
        link = DeskLink(desk, endpoint, feed_ep, secret, public, outbox, others=other_hubs(pairs, endpoint, drill))
    except BaseException:
        if hub is not None:
            hub.stop_started()
        raise
    app = DeskApp(link=link, state=new_state(summary), lang=lang, wall=wall, drill=drill, desk=desk)
    if not attach:   # the log is on this machine: the summary screen can read it
        from console.report.files import summary_source
        app.summary_source = summary_source(folder, drill)
        from console.desk.screens.phones import PhonesSource
        from console.event import phones
        app.phones_source = PhonesSource(lambda: phones.rows(folder),
                                         lambda station, gen: phones.revoke(folder, station, gen))
    link.on_action = app.action_finished
    link.start()
    try:
        app.run()
    finally:
        link.close()
    if hub is not None and hub.started:
        print(t("desk.cli.hub_running", app.lang, pid=hub.pid, log=hub.log_path))
    return 0
