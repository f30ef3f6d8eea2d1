"""`eventdesk`: the one command — init, keys, hub, desk, station, demo, rehearse, report, archive.

Parses arguments and calls into the packages; holds no logic of its own. Every failure is
printed as one sentence with a documented exit code (console/cli_errors.py, README "Exit codes").
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from console import cli_errors
from console.event.folder import EventFolder, init_folder, make_keys
from protocols.i18n import normalise_lang


def _init(args: argparse.Namespace) -> int:
    folder = init_folder(args.dir, force=args.force, date=args.date)
    event = folder.load()
    made = make_keys(folder, event)
    print(f"wrote {folder.toml} and {len(made)} keys in {folder.keys}")
    print(f"the sample event is on {event.date}, doors open {event.doors_open} ({event.timezone}); "
          f"change [event] date, doors_open and timezone in {folder.toml}")
    print(f"next: eventdesk hub {args.dir}   (or: eventdesk desk {args.dir})")
    return 0


def _keys(args: argparse.Namespace) -> int:
    folder = EventFolder(args.dir)
    made = make_keys(folder)
    print(f"{len(made)} keypairs in {folder.keys} (existing keys kept; secret files are readable by you only)")
    return 0


def _hub(args: argparse.Namespace) -> int:
    from console.hub import server as hub
    return hub.serve(EventFolder(args.dir), drill=args.drill, endpoint=args.endpoint, feed=args.feed, lang=args.lang)


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
        lang = normalise_lang(args.lang)
        verdict = archive.verify(args.verify)
        if verdict.ok:
            print(t("report.archive.ok", lang, n=verdict.files, digest=verdict.digest))
            return 0
        print(t("report.archive.failed", lang, path=args.verify), file=sys.stderr)
        for problem in verdict.problems:
            print("  - " + t(f"report.archive.{problem.key}", lang, **problem.params), file=sys.stderr)
        return 1
    if args.dir is None:
        print("eventdesk: " + t("report.archive.need_dir", normalise_lang(args.lang)), file=sys.stderr)
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


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2027-03-18") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eventdesk", description="Event-day operations console / 活动现场指挥台")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="write a sample event folder with keys")
    s.add_argument("dir", type=Path)
    s.add_argument("--force", action="store_true", help="overwrite an existing event.toml")
    s.add_argument("--date", type=_iso_date, help="the event day, YYYY-MM-DD (default: a week from today)")
    s.set_defaults(func=_init)

    s = sub.add_parser("keys", help="make the console keypair and one per station and desk")
    s.add_argument("dir", type=Path)
    s.set_defaults(func=_keys)

    s = sub.add_parser("hub", help="run the hub (headless) for an event folder")
    s.add_argument("dir", type=Path)
    s.add_argument("--drill", action="store_true", help="use the rehearsal log, never the live one")
    s.add_argument("--endpoint", help="override [hub].endpoint, e.g. tcp://127.0.0.1:0")
    s.add_argument("--feed", help="override [hub].feed")
    s.add_argument("--lang", choices=("zh", "en"), help="language of its live log and messages (default: the event's)")
    s.set_defaults(func=_hub)

    s = sub.add_parser("desk", help="the command desk (starts the folder's hub if none is running)")
    s.add_argument("dir", type=Path)
    s.add_argument("--desk", default="desk-1", help="which desk key to use (keys/desks/<desk>.key_secret)")
    s.add_argument("--lang", choices=("zh", "en"), help="default: the event's language; l switches at run time")
    s.add_argument("--wall", action="store_true", help="wall display: large figures, no actions")
    s.add_argument("--drill", action="store_true", help="follow the rehearsal hub and log")
    s.add_argument("--attach", metavar="ENDPOINT", help="a hub elsewhere: its report endpoint (no hub is started)")
    s.add_argument("--feed", metavar="ENDPOINT", help="with --attach: the hub's feed endpoint")
    s.add_argument("--key", type=Path, help="with --attach: this desk's secret key file")
    s.add_argument("--server-key", type=Path, help="with --attach: the hub's public key (console.key)")
    s.set_defaults(func=_desk)

    gs = sub.add_parser("guests", help="the guest list: import an .xlsx or .csv file (checked row by row)") \
        .add_subparsers(dest="guests_cmd", required=True)
    for name, what in (("import", "check FILE and, if every row is right, store it as DIR/guests.json for the hub"),
                       ("check", "check FILE and list every mistake; store nothing")):
        s = gs.add_parser(name, help=what)
        s.add_argument("dir", type=Path)
        s.add_argument("file", type=Path, help="the guest list: .xlsx (first sheet) or .csv, headings in row 1")
        s.add_argument("--lang", choices=("zh", "en"), help="language of the messages (default: the event's)")
        s.set_defaults(func=_guests)

    st = sub.add_parser("station", help="station commands").add_subparsers(dest="station_cmd", required=True)
    s = st.add_parser("report", help="send one report and say what happened to it")
    s.add_argument("dir", type=Path)
    s.add_argument("station")
    s.add_argument("kind", help="report type, e.g. car_in, guest_arrival, incident_report")
    s.add_argument("fields", nargs="*", help="field=value pairs, e.g. plate=湘A·12345 vip=true")
    s.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the desk's answer")
    s.add_argument("--lang", default=None, help="zh or en")
    s.add_argument("--drill", action="store_true")
    s.set_defaults(func=_station_report)
    s = st.add_parser("run", help="the station terminal (also: eventdesk station DIR STATION)")
    s.add_argument("dir", type=Path)
    s.add_argument("station")
    s.add_argument("--lang", default=None, help="zh or en (default: the event's language)")
    s.add_argument("--drill", action="store_true", help="talk to the rehearsal hub")
    s.add_argument("--serve", action="store_true", help="serve the terminal to a browser (textual-serve)")
    s.add_argument("--port", type=int, default=8800, help="port for --serve, on 127.0.0.1")
    s.set_defaults(func=_station_run)

    s = sub.add_parser("rehearse", help="play a scenario through a rehearsal hub and score the drill",
                       description="Rehearsal: simulated posts (and desk) play a scenario over the real wire "
                                   "into the rehearsal log (never the live one), then a scorecard.")
    s.add_argument("scenario", nargs="?", help="a shipped scenario (see --list) or a scenario .toml file")
    s.add_argument("--speed", type=float, help="scenario seconds per wall second (default: the scenario's)")
    s.add_argument("--headless", action="store_true", help="no desk screen: a progress line and a simulated desk")
    s.add_argument("--dir", type=Path, help="event folder (default: a temporary one with its own keys)")
    s.add_argument("--seed", type=int, help="random seed (default: the scenario's): same seed, same drill")
    s.add_argument("--only-simulate", metavar="POSTS", help="simulate only these posts or stations, e.g. gate,parking")
    s.add_argument("--leave", metavar="STATIONS", help="leave these stations or posts to people, e.g. gate-1")
    s.add_argument("--sim-desk", action=argparse.BooleanOptionalAction, default=None,
                   help="a simulated operator answers incidents (default: on when headless)")
    s.add_argument("--lang", choices=("zh", "en"), help="language of the progress line and the scorecard")
    s.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"), help="compare two scorecards")
    s.add_argument("--list", action="store_true", help="list the shipped scenarios")
    s.set_defaults(func=_rehearse)

    s = sub.add_parser("demo", help="a throwaway event with the opening day playing under the desk; no setup")
    s.add_argument("--headless", action="store_true", help="no desk screen: a progress line and the scorecard")
    s.add_argument("--speed", type=float, help="default 18: the 3-hour opening day in 10 minutes")
    s.add_argument("--dir", type=Path, help="event folder (default: a temporary one)")
    s.add_argument("--lang", choices=("zh", "en"))
    s.add_argument("--sim-desk", action=argparse.BooleanOptionalAction, default=None,
                   help="a simulated operator answers incidents and plans (default: only when headless)")
    s.set_defaults(func=_demo)

    s = sub.add_parser("report", help="the post-event summary from the log: Markdown, HTML with charts, CSV",
                       description="后期总结: figures, charts, incidents, plans, per-department highlights and "
                                   "shortcomings and data quality, computed from the event log.")
    s.add_argument("dir", type=Path)
    s.add_argument("--drill", action="store_true",
                   help="the rehearsal log: adds the drill scorecard and a comparison with earlier rehearsals")
    s.add_argument("--lang", choices=("zh", "en", "both"), help="language of the files (default: the event's)")
    s.add_argument("--out", type=Path, help="write here instead of DIR/report")
    s.add_argument("--whole-log", action="store_true",
                   help="with --drill: every run in the rehearsal log, not only the newest scorecard's")
    s.set_defaults(func=_report)

    s = sub.add_parser("archive", help="one .tar.gz with the log, event.toml, the report and a checksum manifest",
                       description="留存归档. `eventdesk archive DIR` writes it; `eventdesk archive --verify FILE` "
                                   "checks it and exits 1 if anything changed.")
    s.add_argument("dir", type=Path, nargs="?")
    s.add_argument("--verify", type=Path, metavar="FILE", help="check an archive instead of writing one")
    s.add_argument("--drill", action="store_true", help="archive the rehearsal log instead of the live one")
    s.add_argument("--out", type=Path, help="archive file to write (default DIR/archive/eventdesk-....tar.gz)")
    s.add_argument("--lang", choices=("zh", "en"), help="language of the messages")
    s.set_defaults(func=_archive)
    return p


STATION_CMDS = ("report", "run")


def station_argv(argv: list[str]) -> list[str]:
    """`station DIR STATION ...` means `station run DIR STATION ...`: the terminal is the default."""
    if len(argv) >= 2 and argv[0] == "station" and argv[1] not in STATION_CMDS and not argv[1].startswith("-"):
        return [argv[0], "run", *argv[1:]]
    return list(argv)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(station_argv(sys.argv[1:] if argv is None else argv))


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
        return normalise_lang(None)


if __name__ == "__main__":
    sys.exit(main())
