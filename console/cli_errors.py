"""How the command line fails: every error a person can meet becomes one sentence and a documented exit code.

The codes, as README.md ("Exit codes") lists them:
  0 done · 1 refused by the desk (one-shot) or an archive that changed · 2 a mistake in what was
  asked (arguments, event.toml, a key, an unknown station or desk, a refused guest list) ·
  3 saved here, not delivered yet (one-shot) · 4 already in use (another hub on this log, or the
  hub's address taken) · 5 a file or the log cannot be read or written (damaged, disk full, no
  permission) · 6 a station's outbox cannot be read (the terminal refuses to start; the file is
  left as it is) · 70 an unexpected error (the details go to a file, never a traceback on the
  screen) · 130 interrupted.
Knows the errors the packages raise; no logic of its own.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback

from protocols.file_errors import why_text
from protocols.i18n import t

DONE, REFUSED, MISTAKE, WAITING, IN_USE, STORAGE, OUTBOX, UNEXPECTED, INTERRUPTED = 0, 1, 2, 3, 4, 5, 6, 70, 130


def explain(exc: BaseException, lang: str) -> tuple[str, int]:
    """(the sentence, the exit code) for an error that ended a command."""
    # Imported here, on failure only: `eventdesk init` need not load ZeroMQ to start.
    from console.desk.hub_start import HubStartError
    from console.event.folder import EventFileError
    from console.hub.edge import BindError
    from console.hub.store import StoreError
    from protocols.keys import KeyError_
    from stations.outbox.store import OutboxError
    if isinstance(exc, EventFileError):
        return exc.sentence(lang), MISTAKE
    if isinstance(exc, KeyError_):
        # KeyError_ says "<path>: <why>"; the path is what a person can act on.
        return t("cli.fail.key", lang, path=str(exc).split(": ", 1)[0]), MISTAKE
    if isinstance(exc, StoreError):
        return exc.sentence(lang), IN_USE if exc.key == "in_use" else STORAGE
    if isinstance(exc, OutboxError):
        return exc.sentence(lang), OUTBOX
    if isinstance(exc, BindError):
        return exc.sentence(lang), IN_USE if exc.in_use else MISTAKE
    if isinstance(exc, HubStartError):
        return exc.sentence(lang), exc.code
    from stations.web.server import ServeError   # the phones' station server (issue 18)
    if isinstance(exc, ServeError):
        return exc.sentence(lang), IN_USE if exc.in_use else MISTAKE
    if isinstance(exc, OSError):
        return t("cli.fail.file", lang, path=exc.filename or "", why=why_text(exc, lang)), STORAGE
    return t("cli.fail.unexpected", lang, path=_keep_details(exc)), UNEXPECTED


def report(exc: BaseException, lang: str) -> int:
    """Print the one sentence on stderr and return the exit code."""
    sentence, code = explain(exc, lang)
    print(f"eventdesk: {sentence}", file=sys.stderr)
    return code


def _keep_details(exc: BaseException) -> str:
    """Write the traceback to an owner-only file for whoever fixes it; its path, or "-" if even that failed."""
    try:
        fd, path = tempfile.mkstemp(prefix="eventdesk-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=out)
        return path
    except OSError:
        return "-"
