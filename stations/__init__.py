"""The station side of eventdesk: the outbox, the client and the terminals; of ours it imports only protocols."""

from pathlib import Path as _Path

from protocols import i18n as _i18n

_i18n.add(_Path(__file__).with_name("words.toml"))   # this side's screens' words, beside its code
