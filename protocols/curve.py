"""One CURVE client socket: a socket of a type with linger 0, the client's keypair and the hub's public key, subscribed and connected if asked

Every well-behaved peer of the hub (a station's link, a desk's link, a simulated post, a bench
lane) makes its sockets here, so none of them forgets linger 0 or a key. Knows zmq, nothing of ours
beyond protocols.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import zmq

from protocols import keys
from protocols.bounds import topic_frame


@dataclass(frozen=True)
class ClientKeys:
    """A client's CURVE keys in Z85: its own pair and the server's public key."""

    public: bytes
    secret: bytes
    server: bytes

    @classmethod
    def load(cls, secret_path: Path | str, server_path: Path | str) -> ClientKeys:
        """From a `.key_secret` file and the console's `.key` (raises keys.KeyError_ with the path)."""
        public, secret = keys.load_pair(Path(secret_path))
        return cls(public, secret, keys.load_public(Path(server_path)))


def client_socket(ctx: zmq.Context, kind: int, curve: ClientKeys | tuple[bytes, bytes, bytes], *,
                  subscribe: Iterable[str] = (), connect: str | None = None, **options: Any) -> zmq.Socket:
    """A `kind` socket (DEALER, SUB, ...) of `ctx` speaking CURVE as a client, with linger 0.

    `curve` is ClientKeys or (public, secret, server). `options` are socket options by pyzmq's
    attribute names (`reconnect_ivl=250`, `sndhwm=0`), set before connecting; `subscribe` names
    topics (a SUB subscribes before it connects, so nothing published after the handshake is lost).
    Connects to `connect` when given; a socket that cannot connect is closed before the error is raised.
    """
    public, secret, server = (curve.public, curve.secret, curve.server) if isinstance(curve, ClientKeys) else curve
    sock = ctx.socket(kind)
    try:
        sock.linger = 0
        sock.curve_secretkey, sock.curve_publickey, sock.curve_serverkey = secret, public, server
        for name, value in options.items():
            setattr(sock, name, value)
        for topic in subscribe:
            sock.setsockopt(zmq.SUBSCRIBE, topic_frame(topic))
        if connect is not None:
            sock.connect(connect)
    except BaseException:
        sock.close(linger=0)
        raise
    return sock
