"""The bounds both ends of the wire rely on: how large a hub message can be, how much the hub queues per peer, how long to wait.

The hub applies them (console/hub/server.py, console/hub/replies.py), clients read them in PROTOCOL.md (a
generated table) and in each welcome's `limits`. Plain numbers: knows nothing else.
"""
from __future__ import annotations

REPLY_MAX = 64 * 1024       # no reply on the ROUTER is larger (nor larger than the event's max_message_bytes)
PAGE_MAX = 16 * 1024        # a page (snapshot, guest list, instructions) is no larger
FEED_MAX = 16 * 1024        # no publication is larger: a bigger event is published with its body left out (`cut`)
ROUTER_SNDHWM = 1000        # replies queued for one connection; past it, replies to it are dropped
ROUTER_RCVHWM = 64          # messages ZeroMQ reads ahead from one connection before it stops reading it
PUB_SNDHWM = 4000           # publications queued for one subscriber; past it, publications to it are dropped
SNDBUF = 256 * 1024         # the kernel's send buffer per connection (SO_SNDBUF; Linux doubles it), fixed so
                            # that what waits for one peer in the kernel is bounded too
ACK_TIMEOUT_MS = 5000       # a report unanswered this long on a live link is sent again (with all after it)
STORAGE_WAIT_MS = 1000      # a report the log cannot take within this gets E_STORAGE (retry) instead of waiting
CONTROL_WAIT_MS = 10        # the longest a heartbeat, hello or page request waits behind a commit


def reply_max(max_message_bytes: int) -> int:
    """The largest reply the hub sends for an event whose limit is `max_message_bytes`."""
    return min(max_message_bytes, REPLY_MAX)


def page_max(max_message_bytes: int) -> int:
    """The largest page the hub sends for an event whose limit is `max_message_bytes`."""
    return min(max_message_bytes, PAGE_MAX)


def topic_frame(name: str) -> bytes:
    """A topic's first frame on the PUB: its name and a full stop. No topic name holds a full stop, so
    ZeroMQ's prefix match on these frames is an exact match (`station.gate-1.` never matches gate-10)."""
    return (name + ".").encode("utf-8")


def topic_name(frame: bytes) -> str | None:
    """The topic a first frame names, or None when it is not a topic frame."""
    try:
        text = bytes(frame).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text[:-1] if text.endswith(".") and len(text) > 1 else None
