"""The command desk side of eventdesk: the event folder, the log, the hub, the state fold and the desk."""

from pathlib import Path as _Path

from protocols import i18n as _i18n

_i18n.add(_Path(__file__).with_name("words.toml"))   # this side's screens' words, beside its code
