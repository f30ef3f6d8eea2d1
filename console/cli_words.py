"""The command line in the chosen language: which language (--lang, else LANG, else Chinese) and argparse's own words.

argparse says "usage:", "options" and its errors through gettext; the standard library ships no
Chinese for them, so `speak(lang)` hands argparse the catalogue's words instead (cli.argparse.*).
"""
from __future__ import annotations

import argparse
import os
from typing import Callable

from protocols.i18n import has, normalise_lang, t

# argparse's message ids (Python 3.11+) and their catalogue keys.
ARGPARSE = {
    "usage: ": "usage", "positional arguments": "positional", "options": "options",
    "show this help message and exit": "help", "%(prog)s: error: %(message)s\n": "error",
    "the following arguments are required: %s": "required", "unrecognized arguments: %s": "unrecognized",
    "invalid choice: %(value)r (choose from %(choices)s)": "choice", "expected one argument": "one",
    "argument %(argument_name)s: %(message)s": "argument", "invalid %(type)s value: %(value)r": "value",
    "ambiguous option: %(option)s could match %(matches)s": "ambiguous", "not allowed with argument %s": "not_with",
}


def cli_lang(argv: list[str]) -> str:
    """The language of the help and of argparse's errors: --lang if the command line gives one, else the
    machine's LANG when it is English, else Chinese (the staff's working language)."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg.partition("=")[2] if arg.startswith("--lang=") else ""
        if value in ("zh", "en"):
            return value
    return "en" if os.environ.get("LANG", "").lower().startswith("en") else normalise_lang(None)


def speak(lang: str) -> Callable[[str], str]:
    """Make argparse say its own words in `lang` (returns the translator now in place)."""
    def translate(message: str) -> str:
        key = ARGPARSE.get(message)
        return t(f"cli.argparse.{key}", lang) if key and lang != "en" and has(f"cli.argparse.{key}") else message
    argparse._ = translate   # argparse looks `_` up in its module at each use
    return translate
