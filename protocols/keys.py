"""CURVE keypairs on disk: create and load, with secret files readable by their owner only.

Layout inside an event's `keys/` folder:
    console.key / console.key_secret         the hub's keypair
    stations/<id>.key / <id>.key_secret      one per station terminal
    desks/<id>.key / <id>.key_secret         one per command desk
Files are ZeroMQ's own certificate format (`zmq.auth.create_certificates`), so other
ZeroMQ tools can read them.
"""
from __future__ import annotations

import os
from pathlib import Path

import zmq.auth

SECRET_SUFFIX = ".key_secret"


class KeyError_(Exception):
    """A key file that is missing or unreadable, with the path and a sentence."""


def create(folder: Path, name: str, overwrite: bool = False) -> tuple[Path, Path]:
    """Make a keypair `name` in `folder`; the secret file gets mode 0600. Returns (public, secret)."""
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = folder / f"{name}.key", folder / f"{name}{SECRET_SUFFIX}"
    if public.exists() and secret.exists() and not overwrite:
        return public, secret
    old_umask = os.umask(0o077)
    try:
        made_public, made_secret = zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(old_umask)
    os.chmod(made_secret, 0o600)
    os.chmod(made_public, 0o644)
    return Path(made_public), Path(made_secret)


def load_public(path: Path) -> bytes:
    """The z85 public key in a .key or .key_secret file."""
    try:
        public, _ = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyError_(f"{path}: cannot read the key ({exc})") from None
    return public


def load_pair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) z85 keys from a .key_secret file."""
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyError_(f"{path}: cannot read the key ({exc})") from None
    if not secret:
        raise KeyError_(f"{path}: this file holds no secret key")
    return public, secret


def public_keys(folder: Path) -> dict[bytes, str]:
    """Every `<name>.key` in `folder`, as {z85 public key: name}."""
    found: dict[bytes, str] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.key")):
            found[load_public(path)] = path.stem
    return found
