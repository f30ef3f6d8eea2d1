"""The VIP messages of the day (issue 16 item 4): the desk moves a guest's expected arrival (guest_expect).

Registered like every other message; import them from `protocols.messages`. The hub checks the guest
reference against its list (console/core/semantics.py); the fold keeps every change (console/core/state).
"""
from __future__ import annotations

from protocols.schema import Message, integer, message, name, text


@message
class GuestExpect(Message):
    """The desk's new expected arrival for a listed guest (预计到达时间变更); "late" counts from the newest."""

    TYPE = "guest_expect"
    KIND = "action"
    guest_ref: str = name()
    arrive_ms: int = integer(lo=1)     # the new expected arrival, epoch ms
    note: str = text("")               # why: 航班延误, 堵车 … (free text)
