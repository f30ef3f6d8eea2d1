"""Phones in the event folder: each station's pairing code (from its key) and generation, the phones paired now, a revoke.

The desk's pairing screen and `eventdesk stations codes|revoke` read and write through here; the station
server writes the phones it has paired (protocols.pairing.PAIRED) and reads the generations. Files only:
no sockets, no screen.
"""
from __future__ import annotations

from pathlib import Path

from console.core.state.fold_phones import PhoneRow  # noqa: F401  (the rows it makes; re-exported)
from console.event.folder import EventFolder
from protocols import keys, pairing


def generations_file(folder: EventFolder) -> Path:
    return folder.root / pairing.GENERATIONS


def paired_file(folder: EventFolder) -> Path:
    return folder.root / pairing.PAIRED


def sessions_file(folder: EventFolder) -> Path:
    return folder.root / pairing.SESSIONS


def secrets(folder: EventFolder) -> dict[str, bytes]:
    """Each station's CURVE secret, for the stations whose key is here (raises keys.KeyError_ on a bad file)."""
    event = folder.load()
    return {st.id: keys.load_pair(folder.station_key(st.id))[1] for st in event.stations
            if folder.station_key(st.id).exists()}


def rows(folder: EventFolder) -> tuple[list[PhoneRow], list[str]]:
    """Every station with its code and phones, and the addresses the station server serves (none: not running)."""
    event = folder.load()
    found = secrets(folder)
    gens = pairing.read_generations(generations_file(folder))
    paired = pairing.read_paired(paired_file(folder))
    out = []
    for st in event.stations:
        gen = gens.get(st.id, 0)
        phones = paired["stations"].get(st.id, [])
        code = pairing.code_for(found[st.id], st.id, gen) if st.id in found else ""
        out.append(PhoneRow(st.id, st.name, st.name_en, code, gen, len(phones),
                            max((int(p.get("since_ms", 0) or 0) for p in phones), default=0)))
    return out, paired["urls"]


def revoke(folder: EventFolder, station: str, generation: int = 0) -> str:
    """The station's next pairing generation (or `generation`, when later): its new code (a running station
    server refuses the old phones)."""
    gens = pairing.read_generations(generations_file(folder))
    gens[station] = max(gens.get(station, 0) + 1, generation)
    pairing.write_generations(generations_file(folder), gens)
    secret = secrets(folder).get(station)
    return pairing.code_for(secret, station, gens[station]) if secret is not None else ""
