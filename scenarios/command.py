"""`eventdesk rehearse` and `eventdesk demo`: run a rehearsal with a progress line (headless) or under a desk screen, then show the scorecard.

The screen is passed in by console/cli.py as a callable, so this package never imports the
desk app (or Textual). Headless runs play in a thread while the main thread draws one live
rich line; Ctrl-C ends the run early and still scores what was logged.
"""
from __future__ import annotations

import math
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown, TableElement
from rich.text import Text

from protocols.i18n import normalise_lang, t
from scenarios import loader, render, scorecard
from scenarios.loader import ScenarioError
from scenarios.runner import Options, Rehearsal, RehearsalError
from scenarios.timefmt import clock, seconds

# A screen: (event folder root, desk id, language) -> exit code; returns when the person quits.
Screen = Callable[[Path, str, str], int]
DEMO_SCENARIO = "opening_day"
DEMO_SPEED = 18.0          # the 3-hour opening day in 10 minutes


def pick_stations(event: Any, only: str | None, leave: str | None) -> frozenset[str]:
    """The stations left to people: those not named by --only-simulate, or named by --leave (posts or ids)."""
    names = lambda text: {n.strip() for n in (text or "").split(",") if n.strip()}  # noqa: E731
    only_n, leave_n = names(only), names(leave)
    known = {s.id for s in event.stations} | {s.post for s in event.stations}
    unknown = sorted((only_n | leave_n) - known)
    if unknown:
        raise RehearsalError("pick", names=tuple(unknown))
    people = set()
    for s in event.stations:
        if (only_n and s.id not in only_n and s.post not in only_n) or s.id in leave_n or s.post in leave_n:
            people.add(s.id)
    return frozenset(people)


def progress_text(p: dict[str, Any], lang: str, title: str) -> Text:
    line = t("scenario.cli.progress", lang, now=clock(p["now_ms"]), end=clock(p["duration_ms"]),
             speed=f"{p['speed']:g}", played=p["played"], events=p["events"], guests=p["guests"],
             open=p["open_incidents"], waiting=p["waiting"])
    if p["silent"]:
        line += t("scenario.cli.silent", lang, stations=", ".join(p["silent"]))
    if p["phase"] == "scoring":
        line = t("scenario.cli.phase_scoring", lang)
    text = Text(f"{t('scenario.cli.banner', lang)} ", style="bold white on red")
    text.append(f" {title}  ", style="bold")
    text.append(line)
    return text


class _Background:
    """The rehearsal on a thread; the main thread keeps the screen (or the progress line)."""

    def __init__(self, reh: Rehearsal) -> None:
        self.reh, self.card, self.error = reh, None, None
        self.ready = threading.Event()     # set up (hub, clients) or failed
        self.thread = threading.Thread(target=self._run, name="rehearsal", daemon=True)

    def _run(self) -> None:
        try:
            self.reh.setup()
            self.ready.set()
            self.reh.play()
            self.card = self.reh.finish()
        except Exception as exc:  # shown to the person by the main thread, with the reason
            self.error = exc
        finally:
            self.ready.set()
            self.reh.close()

    def start(self) -> _Background:
        self.thread.start()
        return self

    def join(self) -> None:
        while self.thread.is_alive():
            self.thread.join(0.2)


def _failure(bg: _Background, lang: str) -> str:
    """Why the rehearsal stopped, in `lang`; a fault of the program goes to a file for the technical staff."""
    if isinstance(bg.error, (ScenarioError, RehearsalError)):
        return bg.error.sentence(lang)
    file = bg.reh.run_.data / "rehearsal_error.txt"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(traceback.format_exception(bg.error)), "utf-8")
    return t("scenario.fail.other", lang, file=file)


class _FoldedTable(TableElement):
    """A Markdown table whose cells wrap instead of ending in "…": a Chinese sentence has no spaces to
    break at, so at 80 columns rich would cut the scorecard's explanations short."""

    def __rich_console__(self, console: Console, options: Any) -> Any:
        rows = [self.header.row] if self.header is not None and self.header.row is not None else []
        rows += list(self.body.rows) if self.body is not None else []
        for row in rows:
            for cell in row.cells:
                cell.content.overflow = "fold"
        yield from super().__rich_console__(console, options)


class CardMarkdown(Markdown):
    """The scorecard on a terminal: Markdown, tables folded to the width."""
    elements = {**Markdown.elements, "table_open": _FoldedTable}


def _finish(bg: _Background, console: Console, lang: str) -> int:
    if bg.error is not None:
        console.print(f"eventdesk: {_failure(bg, lang)}", style="red", markup=False)
        return 2
    card = bg.card
    console.print(CardMarkdown(render.markdown(card, lang)))
    paths = bg.reh.paths
    if paths:
        console.print(t("scenario.cli.wrote", lang, md=paths["md"], json=paths["json"]), markup=False)
    return 0 if not card["summary"].get("missed") else 1


def play(reh: Rehearsal, lang: str, screen: Screen | None, desk: str, console: Console) -> int:
    """Run `reh` headless (progress line) or under `screen`; print the scorecard; exit 0 all met, 1 some missed."""
    sc = reh.run_.scenario
    title = sc.title(lang)
    console.print(t("scenario.cli.starting", lang, title=title, dir=reh.folder.root), markup=False)
    if reh.options.people:
        console.print(t("scenario.cli.people", lang, stations=", ".join(sorted(reh.options.people)),
                        dir=reh.folder.root), markup=False)
    bg = _Background(reh).start()
    try:
        bg.ready.wait()
        if reh.reused_hub:
            console.print(t("scenario.cli.hub_reused", lang, pid=reh.reused_hub), markup=False)
        if screen is None:
            with Live(progress_text(reh.progress(), lang, title), console=console, refresh_per_second=4,
                      transient=False) as live:
                while bg.thread.is_alive():
                    bg.thread.join(0.25)
                    live.update(progress_text(reh.progress(), lang, title))
        else:
            if bg.error is None:
                screen(reh.folder.root, desk, lang)
            reh.stop()   # the person closed the desk: the drill is over
            bg.join()
    except KeyboardInterrupt:
        console.print(t("scenario.cli.interrupted", lang), markup=False)
        reh.stop()
        bg.join()
    return _finish(bg, console, lang)


def rehearse(args: Any, screen: Screen | None = None, console: Console | None = None) -> int:
    """`eventdesk rehearse`: see console/cli.py for the options."""
    console = console or Console()
    lang = normalise_lang(args.lang or "zh")
    if args.compare:
        a, b = (scorecard.load(p) for p in args.compare)
        console.print(CardMarkdown(render.compare(a, b, lang)))
        return 0
    if args.list or not args.scenario:
        for name, path in loader.shipped().items():
            sc = loader.load(path)
            console.print(t("scenario.cli.list_item", lang, name=name, title=sc.title(lang),
                            duration=seconds(sc.duration_ms, lang)), markup=False)
        if not args.list:
            names = ("、" if lang == "zh" else ", ").join(loader.shipped())
            console.print(t("scenario.cli.no_scenario", lang, names=names), markup=False)
            return 2
        return 0
    try:
        options = Options(dir=args.dir, speed=args.speed, seed=args.seed, lang=lang,
                          sim_desk=args.headless if args.sim_desk is None else args.sim_desk,
                          hold=not args.headless)
        reh = Rehearsal(args.scenario, options)
        reh.leave_to_people(pick_stations(reh.run_.scenario.event, args.only_simulate, args.leave))
    except (ScenarioError, RehearsalError) as exc:
        console.print(f"eventdesk: {exc.sentence(lang)}", style="red", markup=False)
        return 2
    if not args.headless and screen is None:
        console.print(t("scenario.cli.no_desk_app", lang, reason=t("scenario.fail.not_installed", lang)), markup=False)
        return 2
    desks = reh.run_.scenario.event.desks
    return play(reh, lang, None if args.headless else screen, desks[-1] if options.sim_desk else desks[0], console)


def demo(args: Any, screen: Screen | None = None, console: Console | None = None) -> int:
    """`eventdesk demo`: a throwaway event, the opening day at a watchable speed, under the desk (or headless)."""
    console = console or Console()
    lang = normalise_lang(args.lang or "zh")
    speed = args.speed or DEMO_SPEED
    headless = args.headless or screen is None
    if not args.headless and screen is None:
        console.print(t("scenario.cli.no_desk_app", lang, reason=t("scenario.fail.not_installed", lang)), markup=False)
    try:
        # The desk is the person's: incidents wait for them. Headless, nobody is there, so a simulated
        # operator answers (or on --sim-desk, to watch one work).
        sim_desk = headless if getattr(args, "sim_desk", None) is None else args.sim_desk
        reh = Rehearsal(DEMO_SCENARIO, Options(dir=args.dir, speed=speed, lang=lang, sim_desk=sim_desk, hold=not headless,
                                                  quick_liveness=False))
    except (ScenarioError, RehearsalError) as exc:
        console.print(f"eventdesk: {exc.sentence(lang)}", style="red", markup=False)
        return 2
    minutes = math.ceil(reh.run_.scenario.duration_ms / speed / 60_000)
    console.print(t("scenario.cli.demo_intro", lang, dir=reh.folder.root, speed=f"{speed:g}", minutes=minutes),
                  markup=False)
    if not sim_desk:
        console.print(t("scenario.cli.demo_try", lang), markup=False)
    desks = reh.run_.scenario.event.desks
    return play(reh, lang, None if headless else screen, desks[-1] if sim_desk else desks[0], console)

