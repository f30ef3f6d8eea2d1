"""`eventdesk guests import|check DIR FILE`: check a guest list (.xlsx or .csv) and store it for the hub.

Every mistake is printed with its row, column and reason, and nothing is written unless the
whole file is right. A good list is written atomically to DIR/guests.json; a running hub
notices the new file within a second and logs it. Holds no checking logic of its own.
"""
from __future__ import annotations

import sys
from pathlib import Path

from console.event import guests
from console.event.folder import EventFolder
from protocols import i18n


def run(folder: EventFolder, file: Path, lang: str | None = None, check_only: bool = False) -> int:
    """Exit 0 when the list is good (and, unless `check_only`, written), 2 when it is refused."""
    event = folder.load()
    lang = i18n.normalise_lang(lang or event.lang)
    try:
        listed = guests.load(file, event.date, event.tz)
    except guests.GuestFileError as exc:
        print(i18n.t("guests.cli.refused", lang, file=file, n=len(exc.errors)), file=sys.stderr)
        for err in exc.errors:
            print("  " + err.sentence(lang), file=sys.stderr)
        return 2
    figures = guests.summary(listed)
    if check_only:
        print(i18n.t("guests.cli.good", lang, file=file, **figures))
        return 0
    target = folder.root / "guests.json"
    guests.write_json(target, listed, Path(file).name)
    print(i18n.t("guests.cli.imported", lang, path=target, **figures))
    if event.guests and folder.guest_file(event) != target:
        print(i18n.t("guests.cli.other_file", lang, name=event.guests), file=sys.stderr)
    return 0
