"""`eventdesk station report`: one report from the command line, and what became of it.

For scripts, a barrier-gate plate reader or a turnstile counter acting as a station. The
report goes through the station's own outbox, so one that cannot be delivered now is kept
and sent by the next run (or by the station's terminal) — it is never lost.
"""
from __future__ import annotations

import sys
from typing import Any

from console.event.folder import Event, EventFolder, Station
from protocols import codec, i18n
from protocols.codec import ProtocolError
from protocols.messages import ALLOWED, CONTROL
from stations.link.client import StationClient

TRUE = {"1", "true", "yes", "y", "是", "on"}
FALSE = {"0", "false", "no", "n", "否", "off"}


def parse_fields(kind: str, pairs: list[str], lang: str) -> dict[str, Any]:
    """`name=value` words to a body, typed by the message's schema; ValueError names the mistake."""
    specs = {s.name: s for s in codec.SPECS.get(kind, ())}
    body: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(i18n.t("cli.bad_pair", lang, pair=pair))
        spec = specs.get(name)
        if spec is None:
            raise ValueError(i18n.t("cli.unknown_field", lang, field=name, kind=kind,
                                    fields=", ".join(specs) or "-"))
        if spec.kind == "int":
            try:
                body[name] = int(value)
            except ValueError:
                raise ValueError(i18n.t("cli.not_int", lang, field=name, value=value)) from None
        elif spec.kind == "bool":
            low = value.lower()
            if low not in TRUE | FALSE:
                raise ValueError(i18n.t("cli.not_bool", lang, field=name, value=value))
            body[name] = low in TRUE
        else:
            body[name] = value
    return body


def station_or_say(event: Event, station: str, lang: str) -> Station | None:
    """The event's station `station`, or None after telling the user which stations there are."""
    st = event.station(station)
    if st is None:
        print(i18n.t("cli.no_station", lang, station=station, known=", ".join(s.id for s in event.stations)),
              file=sys.stderr)
    return st


def report_once(folder: EventFolder, station: str, kind: str, pairs: list[str], timeout: float = 10.0,
                lang: str | None = None, drill: bool = False) -> int:
    """Exit 0 delivered, 1 rejected (with the desk's reason), 2 refused here, 3 saved but not yet delivered."""
    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    st = station_or_say(event, station, lang)
    if st is None:
        return 2
    may = sorted(k for k in ALLOWED.get(st.post, ()) - CONTROL if not k.startswith("phone_"))   # those are the server's
    if kind not in may:
        # The kinds this post may send, each with its name: a typo or another post's kind gets the list.
        known = "、".join if lang == "zh" else ", ".join
        print(i18n.t("cli.unknown_kind", lang, kind=kind, station=i18n.t(f"post.{st.post}", lang),
                     kinds=known(f"{k}（{i18n.t(f'type.{k}', lang)}）" if lang == "zh" else
                                 f"{k} ({i18n.t(f'type.{k}', lang)})" for k in may)), file=sys.stderr)
        return 2
    try:
        body = parse_fields(kind, pairs, lang)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    runtime = folder.read_runtime(drill) or {}
    endpoint = runtime.get("endpoint", event.hub.endpoint)
    client = StationClient(station, folder.outbox(station), folder.station_key(station), folder.console_public,
                           endpoint, post=st.post, heartbeat_ms=int(event.hub.heartbeat_s * 1000),
                           app="eventdesk-oneshot", others=event.hub.pairs()[1:])   # the backup hub (5.13)
    try:
        try:
            report = client.submit(kind, body)
        except ProtocolError as err:
            print(err.sentence(lang), file=sys.stderr)
            return 2
        print(i18n.t("cli.saved", lang, seq=report.seq))
        client.start()
        report = client.wait_delivered(report.seq, timeout)
        if report.state == "delivered":
            print(i18n.t("cli.delivered", lang, gseq=report.gseq))
            if client.outbox.depth():   # older reports this run found waiting: give them their chance too
                client.wait_drained(timeout)
            return 0
        if report.state == "rejected":
            print(i18n.t("cli.rejected", lang, reason=report.reason_zh if lang == "zh" and report.reason_zh
                         else report.reason), file=sys.stderr)
            return 1
        status = client.status()
        # Answered but not stored (E_STORAGE: the hub's log is failing) is not "unreachable".
        key = ("cli.key_mismatch" if status.key_mismatch_suspected
               else "cli.fail.not_stored" if status.console_reachable else "cli.waiting")
        print(i18n.t(key, lang, waiting=client.outbox.depth()), file=sys.stderr)
        return 3
    finally:
        client.close(bye="")   # one report, no terminal: the station's own terminal may still be open
