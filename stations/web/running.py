"""Running the station server: on the CLI's main thread until Ctrl+C or SIGTERM, or on a thread of its own (tests, the bench).

aiohttp's runner on one address; a taken or unbindable address is a ServeError with its sentence. Stopping
answers the pages waiting on a long poll at once, then stops the links cleanly (a save in flight is finished).
"""
from __future__ import annotations

import asyncio
import errno
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from stations.web.server import ServeError, StationServer


@dataclass
class Running:
    """A server running on a thread of its own (tests, the bench): its port, and how to stop it."""

    port: int
    thread: threading.Thread
    stop_event: threading.Event
    server: StationServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)


async def _serve(server: StationServer, host: str, port: int, stop: threading.Event | None,
                 started: Callable[[int], None], ssl_context: Any = None) -> None:
    # A phone gone mid-poll (tab closed, Wi-Fi dropped) has its waiting handler cancelled, not kept 20 s.
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise ServeError(host, port, exc.errno == errno.EADDRINUSE) from exc
        bound = site._server.sockets[0].getsockname()[1] if site._server else port   # port 0: what we got
        started(bound)
        while stop is None or not stop.is_set():
            await asyncio.sleep(0.1)
    finally:
        server.closing = True
        for term in server.terminals.values():   # pages waiting on a long poll are answered now, not in 20 s
            term.bump()
        await runner.cleanup()


def serve(server: StationServer, host: str, port: int, started: Callable[[int], None],
          ssl_context: Any = None) -> None:
    """Run until Ctrl+C or SIGTERM, then stop cleanly (a save in flight is finished, the links closed): the CLI's way."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    asyncio.run(_serve(server, host, port, stop, started, ssl_context))


def run_in_thread(server: StationServer, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Start the server on a thread of its own; returns once it listens (raises ServeError if it cannot)."""
    stop, ready = threading.Event(), threading.Event()
    box: dict[str, Any] = {}

    def started(bound: int) -> None:
        box["port"] = bound
        ready.set()

    def main() -> None:
        try:
            asyncio.run(_serve(server, host, port, stop, started))
        except BaseException as exc:   # handed to the caller below
            box["error"] = exc
            ready.set()
    thread = threading.Thread(target=main, name="phones-server", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in box:
        raise box["error"]
    return Running(box["port"], thread, stop, server)
