"""The hub's edge with its machine: listening on its endpoints, and writing its live log.

Both can fail for reasons outside the hub: a port another program holds (BindError, a sentence
for the command line), a disk that is full or a pipe nobody reads (LiveLog loses the line, never
the hub, and says how many were lost once it can write again). Knows ZeroMQ and the catalogue.
"""
from __future__ import annotations

import os
from typing import TextIO

import zmq

from protocols.i18n import t


class BindError(Exception):
    """The hub cannot listen on an endpoint: in use (exit 4) or not one it can bind (exit 2)."""

    def __init__(self, endpoint: str, exc: zmq.ZMQError) -> None:
        self.endpoint, self.in_use = endpoint, exc.errno == zmq.EADDRINUSE
        super().__init__(self.sentence("en"))

    def sentence(self, lang: str) -> str:
        key = "cli.fail.port_in_use" if self.in_use else "cli.fail.bad_endpoint"
        return t(key, lang, endpoint=self.endpoint)


def bind_endpoint(sock: zmq.Socket, endpoint: str) -> None:
    try:
        sock.bind(endpoint)
    except zmq.ZMQError as exc:
        raise BindError(endpoint, exc) from None


class LiveLog:
    """The hub's live log on `out` (None: silent)."""

    def __init__(self, out: TextIO | None, lang: str) -> None:
        self.out, self.lang = out, lang
        self.unsaid = 0   # lines lost while the output could not be written

    def say(self, text: str) -> None:
        if self.out is None:
            return
        lines = text.count("\n") + 1
        if self.unsaid:
            text = t("hub.log.lost_lines", self.lang, n=self.unsaid) + "\n" + text
        try:
            _write(self.out, text + "\n")
        except (OSError, ValueError):   # ValueError: a closed file
            self.unsaid += lines
        else:
            self.unsaid = 0


def _write(out: TextIO, text: str) -> None:
    """`out.write(text)` and flush, straight to the file descriptor when there is one: a write the
    disk refused then leaves nothing buffered for the interpreter to fail on at exit."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):   # StringIO and the like
        out.write(text)
        out.flush()
        return
    out.flush()
    data = text.encode("utf-8", "replace")
    while data:
        data = data[os.write(fd, data):]
