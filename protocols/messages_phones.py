"""The phones' pairing messages (issue 18): the station server says a phone paired or unpaired, and a desk revokes a station's pairings.

Registered like every other message; import them from `protocols.messages`. A phone is named by a short
random label the station server makes when it pairs, never by the pairing code or its session token.
The hub publishes a `phone_revoke` on the station's own topic, so the station server hears it.
"""
from __future__ import annotations

from protocols.schema import Message, _f, choice, integer, message, name, text

PHONE_LABEL = 12    # the longest phone label: a few random characters, no secret in it
# Why a phone stopped being paired: it unpaired itself, a revoke (a new generation), a newer phone took its
# place (the server keeps a few per station), or the station server stopped (its sessions died with it).
UNPAIRED_WHY = ("unpaired", "revoked", "replaced", "stopped")


@message
class PhonePaired(Message):
    """A phone paired with this station (手机已配对) at `at_ms`; `phone` is its short label."""

    TYPE = "phone_paired"
    phone: str = _f("str", max_len=PHONE_LABEL)
    at_ms: int = integer(0, 0)


@message
class PhoneUnpaired(Message):
    """A phone paired with this station is no longer (手机已解除配对), and why."""

    TYPE = "phone_unpaired"
    phone: str = _f("str", max_len=PHONE_LABEL)
    why: str = choice(UNPAIRED_WHY, "unpaired")


@message
class PhoneRevoke(Message):
    """A desk revokes a station's phone pairings (撤销手机配对): the pairing generation moves on to `generation`,
    so a new code is needed and every phone paired before is refused."""

    TYPE = "phone_revoke"
    KIND = "action"
    station: str = name()
    generation: int = integer(lo=1)
    reason: str = text("")
