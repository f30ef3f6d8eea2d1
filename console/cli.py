"""`eventdesk`: the one command — init, keys, hub, desk, station, demo, rehearse, report.

Parses arguments and calls into the packages; holds no logic of its own. Errors the user
can fix (a bad event.toml, a missing key) are printed as one sentence with exit code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.event import EventFileError, EventFolder, init_folder, make_keys
from protocols.keys import KeyError_


def _init(args: argparse.Namespace) -> int:
    folder = init_folder(args.dir, force=args.force)
    made = make_keys(folder)
    print(f"wrote {folder.toml} and {len(made)} keys in {folder.keys}")
    print(f"next: eventdesk hub {args.dir}   (or: eventdesk desk {args.dir})")
    return 0


def _keys(args: argparse.Namespace) -> int:
    folder = EventFolder(args.dir)
    made = make_keys(folder)
    print(f"{len(made)} keypairs in {folder.keys} (existing keys kept; secret files are readable by you only)")
    return 0


def _hub(args: argparse.Namespace) -> int:
    from console import hub
    return hub.serve(EventFolder(args.dir), drill=args.drill, endpoint=args.endpoint, feed=args.feed)


def _station_report(args: argparse.Namespace) -> int:
    from console.oneshot import report_once
    return report_once(EventFolder(args.dir), args.station, args.kind, args.fields, timeout=args.timeout,
                       lang=args.lang, drill=args.drill)


def _station_run(args: argparse.Namespace) -> int:
    from console.station_run import run_terminal
    return run_terminal(EventFolder(args.dir), args.station, lang=args.lang, drill=args.drill,
                        serve=args.serve, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eventdesk", description="Event-day operations console / 活动现场指挥台")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="write a sample event folder with keys")
    s.add_argument("dir", type=Path)
    s.add_argument("--force", action="store_true", help="overwrite an existing event.toml")
    s.set_defaults(func=_init)

    s = sub.add_parser("keys", help="make the console keypair and one per station and desk")
    s.add_argument("dir", type=Path)
    s.set_defaults(func=_keys)

    s = sub.add_parser("hub", help="run the hub (headless) for an event folder")
    s.add_argument("dir", type=Path)
    s.add_argument("--drill", action="store_true", help="use the rehearsal log, never the live one")
    s.add_argument("--endpoint", help="override [hub].endpoint, e.g. tcp://127.0.0.1:0")
    s.add_argument("--feed", help="override [hub].feed")
    s.set_defaults(func=_hub)

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
    except (EventFileError, KeyError_) as exc:
        print(f"eventdesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
