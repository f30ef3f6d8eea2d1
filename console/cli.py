"""`eventdesk`: the one command — init, keys, hub, desk, station, stations, demo, rehearse, report, archive.

Parses arguments and calls into the packages; holds no logic of its own. Every failure is
printed as one sentence with a documented exit code (console/cli_errors.py, README "Exit codes").
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Callable

from console import cli_errors
from console.cli_words import cli_lang, speak
from console.event.folder import EventFolder, init_folder, make_keys
from protocols.i18n import normalise_lang, t


def _init(args: argparse.Namespace) -> int:
    folder = init_folder(args.dir, force=args.force, date=args.date)
    event = folder.load()
    made = make_keys(folder, event)
    lang = getattr(args, "cli_lang", "zh")
    print(t("cli.init.wrote", lang, toml=folder.toml, n=len(made), keys=folder.keys))
    print(t("cli.init.date", lang, date=event.date, doors=event.doors_open, zone=event.timezone, toml=folder.toml))
    print(t("cli.init.next", lang, dir=args.dir))
    return 0


def _keys(args: argparse.Namespace) -> int:
    folder = EventFolder(args.dir)
    made = make_keys(folder)
    print(t("cli.keys.made", getattr(args, "cli_lang", "zh"), n=len(made), keys=folder.keys))
    return 0


def _hub(args: argparse.Namespace) -> int:
    from console.hub import server as hub
    return hub.serve(EventFolder(args.dir), drill=args.drill, endpoint=args.endpoint, feed=args.feed, lang=args.lang,
                     backup=args.backup, parent=args.parent)


def _desk(args: argparse.Namespace) -> int:
    from console.desk.app import run_desk
    return run_desk(args.dir, desk=args.desk, lang=args.lang, wall=args.wall, drill=args.drill,
                    attach=args.attach, feed=args.feed, key=args.key, server_key=args.server_key)


def _station_report(args: argparse.Namespace) -> int:
    from console.oneshot import report_once
    return report_once(EventFolder(args.dir), args.station, args.kind, args.fields, timeout=args.timeout,
                       lang=args.lang, drill=args.drill)


def _station_run(args: argparse.Namespace) -> int:
    from console.station_run import run_terminal
    return run_terminal(EventFolder(args.dir), args.station, lang=args.lang, drill=args.drill,
                        serve=args.serve, port=args.port)


def _stations(args: argparse.Namespace) -> int:
    from console import stations_serve
    folder = EventFolder(args.dir)
    if args.stations_cmd == "serve":
        return stations_serve.serve(folder, host=args.host, port=args.port, lang=args.lang, drill=args.drill)
    if args.stations_cmd == "codes":
        return stations_serve.codes(folder, lang=args.lang, url=args.url, qr=args.qr)
    return stations_serve.revoke(folder, args.station, lang=args.lang)


def _desk_screen(root: Path, desk: str, lang: str) -> int:
    """The desk screen on a running rehearsal hub: what `rehearse` and `demo` put in front of people."""
    from console.desk.app import run_desk
    return run_desk(root, desk=desk, lang=lang, drill=True)


def _screen_or_none():
    try:
        import console.desk.app  # noqa: F401  (the desk screen; a headless install may lack Textual)
    except ImportError:
        return None
    return _desk_screen


def _rehearse(args: argparse.Namespace) -> int:
    from scenarios.command import rehearse
    return rehearse(args, screen=None if args.headless else _screen_or_none())


def _demo(args: argparse.Namespace) -> int:
    from scenarios.command import demo
    return demo(args, screen=None if args.headless else _screen_or_none())


def _report(args: argparse.Namespace) -> int:
    from console.report.files import ReportError, write_report
    from protocols.i18n import t
    folder = EventFolder(args.dir)
    event_lang = folder.load().lang
    langs = ("zh", "en") if args.lang == "both" else (args.lang or event_lang,)
    try:
        done = write_report(folder, drill=args.drill, langs=langs, out=args.out, whole_log=args.whole_log)
    except ReportError as exc:
        print(f"eventdesk: {exc.sentence(langs[0])}", file=sys.stderr)
        return 2
    out = args.out or folder.report_dir
    shown = [p for p in done.files if p.suffix in (".md", ".html", ".json")]
    print(t("report.cli.wrote", langs[0], n=len(done.files), dir=out))
    for path in shown:
        print(f"  {path}")
    print(f"  {out / (shown[0].name.split('.')[0] + '-csv')}/*.csv")
    print(t("report.cli.timing", langs[0], events=done.summary.events, seconds=f"{done.seconds['total']:.2f}",
            read=f"{done.seconds['read_and_fold']:.2f}"))
    return 0


def _archive(args: argparse.Namespace) -> int:
    from console.report import archive
    from console.report.files import ReportError
    from protocols.i18n import normalise_lang, t
    if args.verify:
        lang = normalise_lang(args.lang or args.cli_lang)   # no event here: --lang, else the machine's LANG
        verdict = archive.verify(args.verify)
        if verdict.ok:
            print(t("report.archive.ok", lang, n=verdict.files, digest=verdict.digest))
            return 0
        print(t("report.archive.failed", lang, path=args.verify), file=sys.stderr)
        for problem in verdict.problems:
            print("  - " + problem.sentence(lang), file=sys.stderr)
        return 1
    if args.dir is None:
        print("eventdesk: " + t("report.archive.need_dir", normalise_lang(args.lang or args.cli_lang)), file=sys.stderr)
        return 2
    folder = EventFolder(args.dir)
    lang = normalise_lang(args.lang or folder.load().lang)
    try:
        path, digest, n = archive.create(folder, drill=args.drill, out=args.out)
    except ReportError as exc:
        print(f"eventdesk: {exc.sentence(lang)}", file=sys.stderr)
        return 2
    print(t("report.archive.wrote", lang, path=path, n=n, size=f"{path.stat().st_size / 1e6:.1f} MB"))
    print(t("report.archive.digest", lang, digest=digest))
    return 0


def _guests(args: argparse.Namespace) -> int:
    from console.guest_cli import run
    return run(EventFolder(args.dir), args.file, lang=args.lang, check_only=args.guests_cmd == "check")


def _iso_date(lang: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise argparse.ArgumentTypeError(t("cli.help.bad_date", lang, text=text)) from None
    return read


def _explain_plain_arguments(p: argparse.ArgumentParser, h: Callable[[str], str]) -> None:
    """Give the folder, the station and `--drill` a line in every command's --help: a newcomer reading
    `eventdesk station report --help` should not meet a bare "dir" or "station"."""
    said = {"dir": h("dir"), "station": h("station_id"), "drill": h("drill")}
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _explain_plain_arguments(child, h)
        elif action.help is None and action.dest in said:
            action.help = said[action.dest]


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The `eventdesk` command's parser, its help in `lang`."""
    def h(key: str) -> str:
        return t(f"cli.help.{key}", lang)

    p = argparse.ArgumentParser(prog="eventdesk", description=h("prog"))
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help=h("init"))
    s.add_argument("dir", type=Path)
    s.add_argument("--force", action="store_true", help=h("init_force"))
    s.add_argument("--date", type=_iso_date(lang), help=h("init_date"))
    s.set_defaults(func=_init)

    s = sub.add_parser("keys", help=h("keys"))
    s.add_argument("dir", type=Path)
    s.set_defaults(func=_keys)

    s = sub.add_parser("hub", help=h("hub"))
    s.add_argument("dir", type=Path)
    s.add_argument("--drill", action="store_true", help=h("hub_drill"))
    s.add_argument("--endpoint", help=h("hub_endpoint"))
    s.add_argument("--feed", help=h("hub_feed"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("hub_lang"))
    s.add_argument("--backup", action="store_true", help=h("hub_backup"))
    s.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)   # a rehearsal's hub: ends with it
    s.set_defaults(func=_hub)

    s = sub.add_parser("desk", help=h("desk"))
    s.add_argument("dir", type=Path)
    s.add_argument("--desk", default="desk-1", help=h("desk_desk"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("desk_lang"))
    s.add_argument("--wall", action="store_true", help=h("desk_wall"))
    s.add_argument("--drill", action="store_true", help=h("desk_drill"))
    s.add_argument("--attach", metavar="ENDPOINT", help=h("desk_attach"))
    s.add_argument("--feed", metavar="ENDPOINT", help=h("desk_feed"))
    s.add_argument("--key", type=Path, help=h("desk_key"))
    s.add_argument("--server-key", type=Path, help=h("desk_server_key"))
    s.set_defaults(func=_desk)

    gs = sub.add_parser("guests", help=h("guests")) \
        .add_subparsers(dest="guests_cmd", required=True)
    for name, what in (("import", h("guests_import")),
                       ("check", h("guests_check"))):
        s = gs.add_parser(name, help=what)
        s.add_argument("dir", type=Path)
        s.add_argument("file", type=Path, help=h("guests_file"))
        s.add_argument("--lang", choices=("zh", "en"), help=h("lang_messages_event"))
        s.set_defaults(func=_guests)

    st = sub.add_parser("station", help=h("station")).add_subparsers(dest="station_cmd", required=True)
    s = st.add_parser("report", help=h("station_report"))
    s.add_argument("dir", type=Path)
    s.add_argument("station")
    s.add_argument("kind", help=h("station_report_kind"))
    s.add_argument("fields", nargs="*", help=h("station_report_fields"))
    s.add_argument("--timeout", type=float, default=10.0, help=h("station_report_timeout"))
    s.add_argument("--lang", default=None, help=h("zh_or_en"))
    s.add_argument("--drill", action="store_true")
    s.set_defaults(func=_station_report)
    s = st.add_parser("run", help=h("station_run"))
    s.add_argument("dir", type=Path)
    s.add_argument("station")
    s.add_argument("--lang", default=None, help=h("zh_or_en_event"))
    s.add_argument("--drill", action="store_true", help=h("station_drill"))
    s.add_argument("--serve", action="store_true", help=h("station_serve"))
    s.add_argument("--port", type=int, default=8800, help=h("station_port"))
    s.set_defaults(func=_station_run)

    # issue 18: one station server for the venue's phones and tablets
    sts = sub.add_parser("stations", help=h("stations")).add_subparsers(dest="stations_cmd", required=True)
    s = sts.add_parser("serve", help=h("stations_serve"))
    s.add_argument("dir", type=Path)
    s.add_argument("--host", default="0.0.0.0", help=h("stations_host"))
    s.add_argument("--port", type=int, default=8800, help=h("stations_port"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("zh_or_en_event"))
    s.add_argument("--drill", action="store_true", help=h("station_drill"))
    s.set_defaults(func=_stations)
    s = sts.add_parser("codes", help=h("stations_codes"))
    s.add_argument("dir", type=Path)
    s.add_argument("--qr", action="store_true", help=h("stations_qr"))
    s.add_argument("--url", default="", help=h("stations_url"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("zh_or_en_event"))
    s.set_defaults(func=_stations)
    s = sts.add_parser("revoke", help=h("stations_revoke"))
    s.add_argument("dir", type=Path)
    s.add_argument("station")
    s.add_argument("--lang", choices=("zh", "en"), help=h("zh_or_en_event"))
    s.set_defaults(func=_stations)

    s = sub.add_parser("rehearse", help=h("rehearse"),
                       description=h("rehearse_desc"))
    s.add_argument("scenario", nargs="?", help=h("rehearse_scenario"))
    s.add_argument("--speed", type=float, help=h("rehearse_speed"))
    s.add_argument("--headless", action="store_true", help=h("rehearse_headless"))
    s.add_argument("--dir", type=Path, help=h("rehearse_dir"))
    s.add_argument("--seed", type=int, help=h("rehearse_seed"))
    s.add_argument("--only-simulate", metavar="POSTS", help=h("rehearse_only"))
    s.add_argument("--leave", metavar="STATIONS", help=h("rehearse_leave"))
    s.add_argument("--sim-desk", action=argparse.BooleanOptionalAction, default=None,
                   help=h("rehearse_sim_desk"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("rehearse_lang"))
    s.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"), help=h("rehearse_compare"))
    s.add_argument("--list", action="store_true", help=h("rehearse_list"))
    s.set_defaults(func=_rehearse)

    s = sub.add_parser("demo", help=h("demo"))
    s.add_argument("--headless", action="store_true", help=h("demo_headless"))
    s.add_argument("--speed", type=float, help=h("demo_speed"))
    s.add_argument("--dir", type=Path, help=h("demo_dir"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("zh_or_en"))
    s.add_argument("--sim-desk", action=argparse.BooleanOptionalAction, default=None,
                   help=h("demo_sim_desk"))
    s.set_defaults(func=_demo)

    s = sub.add_parser("report", help=h("report"),
                       description=h("report_desc"))
    s.add_argument("dir", type=Path)
    s.add_argument("--drill", action="store_true",
                   help=h("report_drill"))
    s.add_argument("--lang", choices=("zh", "en", "both"), help=h("report_lang"))
    s.add_argument("--out", type=Path, help=h("report_out"))
    s.add_argument("--whole-log", action="store_true",
                   help=h("report_whole"))
    s.set_defaults(func=_report)

    s = sub.add_parser("archive", help=h("archive"),
                       description=h("archive_desc"))
    s.add_argument("dir", type=Path, nargs="?")
    s.add_argument("--verify", type=Path, metavar="FILE", help=h("archive_verify"))
    s.add_argument("--drill", action="store_true", help=h("archive_drill"))
    s.add_argument("--out", type=Path, help=h("archive_out"))
    s.add_argument("--lang", choices=("zh", "en"), help=h("lang_messages"))
    s.set_defaults(func=_archive)
    _explain_plain_arguments(p, h)
    return p


STATION_CMDS = ("report", "run")


def station_argv(argv: list[str]) -> list[str]:
    """`station DIR STATION ...` means `station run DIR STATION ...`: the terminal is the default."""
    if len(argv) >= 2 and argv[0] == "station" and argv[1] not in STATION_CMDS and not argv[1].startswith("-"):
        return [argv[0], "run", *argv[1:]]
    return list(argv)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    argv = station_argv(sys.argv[1:] if argv is None else argv)
    lang = cli_lang(argv)
    speak(lang)
    args = build_parser(lang).parse_args(argv)
    args.cli_lang = lang   # for commands with no --lang of their own (init, keys)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return cli_errors.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 — every failure ends in one sentence and its exit code
        return cli_errors.report(exc, _lang(args))


def _lang(args: argparse.Namespace) -> str:
    """The language of a failure's sentence: --lang if given, else the event's, else Chinese."""
    if getattr(args, "lang", None):
        return normalise_lang(args.lang)
    try:
        return EventFolder(args.dir).load().lang
    except Exception:  # noqa: BLE001 — no folder, or the failure is the folder itself
        return getattr(args, "cli_lang", None) or normalise_lang(None)   # the machine's LANG, else Chinese


if __name__ == "__main__":
    sys.exit(main())
