"""A tiny TCP proxy for the fault tests, run in-process on threads: pass, black-hole or reset a link.

    proxy = Proxy(("127.0.0.1", hub_port)).start()   # listens on proxy.port
    proxy.blackhole()   # bytes stop moving both ways and new connections get no further, as if
                        # every packet were dropped; nothing is lost or reordered, only held
    proxy.heal()        # bytes move again; connections the peers gave up on meet their EOF/RST
    proxy.reset()       # every open connection is closed with RST at once
    proxy.close()

A black hole holds data rather than discarding it, which is what TCP does across a real
partition (retransmission): a connection that survives the partition carries on where it was.
"""
from __future__ import annotations

import select
import socket
import struct
import threading


class Proxy:
    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.accepted = 0
        self.threads: list[threading.Thread] = []

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        self._spawn(self._accept_loop)
        return self

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name="tcp-proxy")
        t.start()
        self.threads.append(t)

    # --- the nemesis ---------------------------------------------------------------------------
    def blackhole(self) -> None:
        self.flowing.clear()

    def heal(self) -> None:
        self.flowing.set()

    def reset(self) -> None:
        with self.lock:
            victims = list(self.sockets)
        for s in victims:
            _close_hard(s)

    def close(self) -> None:
        self.closed.set()
        self.flowing.set()
        try:
            self.listener.close()
        except OSError:
            pass
        self.reset()
        for t in self.threads:
            t.join(2)

    # --- plumbing --------------------------------------------------------------------------------
    def _gate(self) -> bool:
        """Wait while black-holed; False once the proxy closes."""
        while not self.flowing.wait(0.1):
            if self.closed.is_set():
                return False
        return not self.closed.is_set()

    def _accept_loop(self) -> None:
        self.listener.settimeout(0.2)
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self._track(client)
            self._spawn(self._connect, client)

    def _connect(self, client: socket.socket) -> None:
        if not self._gate():            # a black hole answers no SYN: the link goes no further
            _close_hard(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close_hard(client)
            return
        server.settimeout(None)
        self._track(server)
        self._spawn(self._pump, client, server)
        self._spawn(self._pump, server, client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                if not self._gate():
                    break
                if not select.select([src], [], [], 0.1)[0]:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                if not self._gate():        # read just as the hole opened: hold it until healed
                    break
                dst.sendall(data)
        except (OSError, ValueError):   # reset by a peer, or closed by the other direction's pump
            pass
        finally:
            _close_hard(src)
            _close_hard(dst)
            with self.lock:
                self.sockets.discard(src)
                self.sockets.discard(dst)

    def _track(self, s: socket.socket) -> None:
        with self.lock:
            self.sockets.add(s)


def _close_hard(s: socket.socket) -> None:
    """Close with RST, the way a dead link or a crashed host ends a connection."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
