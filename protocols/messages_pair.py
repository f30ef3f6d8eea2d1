"""Two hubs' own messages (issue 19, PROTOCOL.md 5.13): the state each publishes, the log pages of the warm copy, the switch.

Registered like every other message; import them from `protocols.messages`. `hub_state` goes out on a
hub's feed under the topic `hub`; `log_request` is what a passive hub asks the active one for, and
`log_page` the bounded answer; `hub_switch` is the first event of every era, written by the hub that
became active. Knows no sockets and no storage.
"""
from __future__ import annotations

from protocols.schema import Message, anything, choice, flag, integer, message

HUB_STATES = ("primary", "backup", "active", "passive")
HUB_ROLES = ("primary", "backup")
# Why a hub became active (console/core/binary_star.py): its peer answered as a backup or passive at its start,
# its peer restarted, its peer was lost and a client came, or it was a primary that heard no one at all.
SWITCH_WHY = ("peer_waiting", "peer_restarted", "peer_lost", "peer_passive", "alone")
PEER_SEEN = ("none", "in_step", "behind", "lost")


@message
class HubState(Message):
    """A hub's Binary Star state, its era and where its log ends; published under `hub` every heartbeat and on a change."""

    TYPE = "hub_state"
    KIND = "reply"
    state: str = choice(HUB_STATES)
    era: int = integer(0, 0)
    gseq: int = integer(0, 0)
    rejections: int = integer(0, 0)
    switches: list = anything([])     # [[era, after_gseq], ...] of every hub_switch in its log: the fork point's input


@message
class LogRequest(Message):
    """A passive hub asks the active one for its log after gseq `after` and rejection id `after_rejection`."""

    TYPE = "log_request"
    KIND = "control"
    after: int = integer(0, 0)
    after_rejection: int = integer(0, 0)


@message
class LogPage(Message):
    """Events (as on the feed) and rejections ([id, {...}]) of the active hub's log, oldest first, cut to the reply limit."""

    TYPE = "log_page"
    KIND = "reply"
    events: list = anything([])
    rejections: list = anything([])
    more: bool = flag()


@message
class HubSwitch(Message):
    """A hub became active: the first event of its era, after the last event it held (`after_gseq`)."""

    TYPE = "hub_switch"
    KIND = "hub"
    era: int = integer(lo=1)
    hub: str = choice(HUB_ROLES)
    after_gseq: int = integer(0, 0)
    reason: str = choice(SWITCH_WHY, "peer_lost")
