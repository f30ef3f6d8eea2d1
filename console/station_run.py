"""`eventdesk station DIR STATION`: start the station terminal for one station of an event folder, or serve it to a browser.

Reads the event folder (event.toml, keys, hub.json) on the terminal's behalf, because the
station package may know only `protocols`: it gets a ready StationClient and a Site.
"""
from __future__ import annotations

import shlex
import sys

from console.event.folder import EventFolder
from console.oneshot import station_or_say
from protocols import i18n


def run_terminal(folder: EventFolder, station: str, lang: str | None = None, drill: bool = False,
                 serve: bool = False, port: int = 8800) -> int:
    """Run the terminal until the staff member quits; exit 2 for a station the event does not have."""
    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    if station_or_say(event, station, lang) is None:
        return 2
    st = event.station(station)
    if not folder.station_key(station).exists():
        print(i18n.t("station.cli.no_keys", lang, path=folder.station_key(station), dir=folder.root), file=sys.stderr)
        return 2
    if serve:
        return _serve(folder, station, lang, drill, port)

    from stations.link.client import StationClient
    from stations.terminal.app import StationApp
    from stations.terminal.posts.base import Site

    # The hub writes its actual endpoints to hub.json (it may have bound port 0); event.toml otherwise.
    runtime = folder.read_runtime(drill) or {}
    client = StationClient(station, folder.outbox(station), folder.station_key(station), folder.console_public,
                           runtime.get("endpoint", event.hub.endpoint), runtime.get("feed", event.hub.feed),
                           post=st.post, heartbeat_ms=int(event.hub.heartbeat_s * 1000), app="eventdesk-station",
                           others=event.hub.pairs()[1:])   # the backup hub, if event.toml names one (5.13)
    clean = False
    try:
        StationApp(client, Site.from_summary(station, event.summary()), lang).run()
        clean = True
    finally:
        client.close(bye="quit" if clean else "")   # a quit says bye (5.2); a crash is just silence
    return 0


def _serve(folder: EventFolder, station: str, lang: str, drill: bool, port: int) -> int:
    """The same terminal in a browser: textual-serve runs `eventdesk station run ...` per visitor."""
    from textual_serve.server import Server

    argv = [sys.executable, "-m", "console.cli", "station", "run", str(folder.root.resolve()), station,
            "--lang", lang] + (["--drill"] if drill else [])
    url = f"http://127.0.0.1:{port}"
    print(i18n.t("station.cli.serving", lang, url=url), flush=True)
    Server(shlex.join(argv), host="127.0.0.1", port=port, title=f"eventdesk {station}").serve()
    return 0
