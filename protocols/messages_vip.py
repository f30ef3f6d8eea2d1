"""The VIP messages of the day (issue 16 item 4): the desk moves a guest's expected arrival (guest_expect) and adds a delegation (guest_add).

Registered like every other message; import them from `protocols.messages`. The hub checks the guest
reference against its list (console/core/semantics.py); the fold keeps every change (console/core/state).
"""
from __future__ import annotations

from protocols.schema import Message, _f, choice, count, integer, message, name, text
from protocols.schema import name as short   # GuestAdd has a field called `name`


@message
class GuestExpect(Message):
    """The desk's new expected arrival for a listed guest (预计到达时间变更); "late" counts from the newest."""

    TYPE = "guest_expect"
    KIND = "action"
    guest_ref: str = name()
    arrive_ms: int = integer(lo=1)     # the new expected arrival, epoch ms
    note: str = text("")               # why: 航班延误, 堵车 … (free text)


GUEST_ADD_AT = ("", "gate", "parking", "concierge", "lobby")   # where the party is now ("": not here yet)


@message
class GuestAdd(Message):
    """A delegation not on the list, added by the desk on the spot (临时增加来宾组); with `at` it is here now and
    the hub hands it on like a listed guest arriving at that post (a level A or B party: the VIP hand-off)."""

    TYPE = "guest_add"
    KIND = "action"
    name: str = short()                 # who leads the party, as staff will greet them
    org: str = short("")
    level: str = choice(("A", "B", "C"), "A")
    party: int = count()
    host: str = short("")               # the host (陪同), by name or staff number
    plate: str = _f("str", "", max_len=16)
    at: str = choice(GUEST_ADD_AT, "gate")
    arrive_ms: int = integer(0, 0)     # when expected, for a party not here yet (0: unknown)
    note: str = text("")               # anything staff should know (kept as the guest's notes)
