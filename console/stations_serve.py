"""`eventdesk stations serve|codes|revoke DIR`: the station server for phones, its pairing codes, and revoking a station's pairings.

Reads the event folder (event.toml, keys, hub.json, the pairing generations) on the server's behalf,
because the station package may know only `protocols`: it gets ready StationClients, Sites and secrets.
"""
from __future__ import annotations

import socket
import sys

from console.desk.widgets.qr import qr_text
from console.event import phones
from console.event.folder import EventFolder
from console.oneshot import station_or_say
from protocols import i18n
from protocols.pairing import read_generations

def _pairings(folder: EventFolder, lang: str):
    """The server's pairing table for every station; None, said, when a station key is missing."""
    from stations.web.pairing import Pairings
    for st in folder.load().stations:
        if not folder.station_key(st.id).exists():
            print(i18n.t("station.cli.no_keys", lang, path=folder.station_key(st.id), dir=folder.root), file=sys.stderr)
            return None
    return Pairings(phones.secrets(folder), read_generations(phones.generations_file(folder)))


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, by its own name: no packet is sent to find them."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos if not str(info[4][0]).startswith("127.")})


def urls(host: str, port: int) -> list[str]:
    hosts = (lan_addresses() or ["127.0.0.1"]) if host in ("0.0.0.0", "") else [host]
    return [f"http://{h}:{port}/" for h in hosts]


def build_server(folder: EventFolder, lang: str, drill: bool = False, endpoints: tuple[str, str] | None = None):
    """The station server for every station of the folder (None, said, when a station key is missing).

    `endpoints` (the hub's, and its feed) override hub.json and event.toml, for a hub a test runs."""
    from stations.link.client import StationClient
    from stations.terminal.posts.base import Site
    from stations.web import server as web
    from stations.web.station import Terminal

    event = folder.load()
    pairings = _pairings(folder, lang)
    if pairings is None:
        return None
    runtime = folder.read_runtime(drill) or {}
    endpoint, feed = endpoints or (runtime.get("endpoint", event.hub.endpoint), runtime.get("feed", event.hub.feed))
    summary = event.summary()
    terminals = {}
    for st in event.stations:
        client = StationClient(st.id, folder.outbox(st.id), folder.station_key(st.id), folder.console_public,
                               endpoint, feed, post=st.post, heartbeat_ms=int(event.hub.heartbeat_s * 1000),
                               app="eventdesk-phones", others=event.hub.pairs()[1:])   # the backup hub (5.13)
        terminals[st.id] = Terminal(client, Site.from_summary(st.id, summary))
    return web.StationServer(terminals, pairings, lang, generations_file=phones.generations_file(folder),
                             paired_file=phones.paired_file(folder), sessions_file=phones.sessions_file(folder))


def serve(folder: EventFolder, host: str = "0.0.0.0", port: int = 8800, lang: str | None = None,
          drill: bool = False) -> int:
    """Run the station server until Ctrl+C; exit 2 for an event with no stations or a missing key."""
    from stations.web import running

    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    if not event.stations:
        print(i18n.t("station.web.no_stations", lang), file=sys.stderr)
        return 2
    server = build_server(folder, lang, drill)
    if server is None:
        return 2

    def started(bound: int) -> None:
        server.urls = urls(host, bound)   # for the desk's QR codes
        print(i18n.t("station.web.serving", lang, n=len(server.terminals)))
        for url in server.urls:
            print(f"  {url}")
        _print_codes(event, server.pairings.codes(), lang)
        print(i18n.t("station.web.stop", lang), flush=True)
    running.serve(server, host, port, started)
    return 0


def _print_codes(event, codes: dict[str, str], lang: str, url: str = "", qr: bool = False) -> None:
    print(i18n.t("station.web.codes", lang))
    for st in event.stations:
        name = (st.name_en or st.name) if lang == "en" else (st.name or st.name_en)
        print(i18n.t("station.web.code_line", lang, station=st.id, name=name, code=codes[st.id]))
        if qr:
            print(qr_text(f"{(url or urls('0.0.0.0', 8800)[0]).rstrip('/')}/#code={codes[st.id]}"))


def codes(folder: EventFolder, lang: str | None = None, url: str = "", qr: bool = False) -> int:
    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    pairings = _pairings(folder, lang)
    if pairings is None:
        return 2
    _print_codes(event, pairings.codes(), lang, url, qr)
    return 0


def revoke(folder: EventFolder, station: str, lang: str | None = None) -> int:
    """A new pairing generation for `station`: a running server refuses its paired phones within a second."""
    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    if station_or_say(event, station, lang) is None:
        return 2
    if _pairings(folder, lang) is None:
        return 2
    print(i18n.t("station.web.revoked", lang, station=station, code=phones.revoke(folder, station)))
    return 0
