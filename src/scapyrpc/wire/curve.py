"""CurveZMQ keys: making them, reading them, and applying them to a socket.

Key files are zmq.auth certificates: `NAME.key` holds the public key (give it
to peers), `NAME.key_secret` the public and the secret key (keep it). A server
(broker) side names its own `.key_secret`; a client side names the server's
`.key` and its own `.key_secret`; an admission directory holds the `.key`
files of the peers let in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
import zmq.auth
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils import z85

from scapyrpc.config.options import CurveConfig

__all__ = [
    "CLIENTS",
    "WORKERS",
    "Admission",
    "KeyFileError",
    "admission",
    "as_client",
    "as_server",
    "client_keys",
    "key_pair",
    "keygen",
    "public_key",
    "start_authenticator",
]


class KeyFileError(ValueError):
    """A key file or directory that cannot be used, with the reason."""


def keygen(directory: str | os.PathLike[str], name: str = "scapyrpc") -> tuple[Path, Path]:
    """Write NAME.key and NAME.key_secret into `directory` (created if needed); the secret is 0600."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0o077)  # the secret is never readable by others, not even for a moment
    try:
        public, secret = zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(umask)
    os.chmod(public, 0o644)
    return Path(public), Path(secret)


def _valid(key: bytes | None) -> bool:
    """A z85 CurveZMQ key: 40 characters that decode to 32 bytes."""
    if not key or len(key) != 40:
        return False
    try:
        return len(z85.decode(key)) == 32
    except (ValueError, KeyError, TypeError):
        return False


def _load(path: str | os.PathLike[str], secret: bool) -> tuple[bytes, bytes | None]:
    try:
        public, secret_key = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: not a readable CurveZMQ certificate ({exc})") from None
    if not _valid(public):
        raise KeyFileError(f"{path}: its public key is not a CurveZMQ key (40 z85 characters)")
    if secret:
        if not secret_key:
            raise KeyFileError(f"{path}: holds no secret key (give the .key_secret file)")
        if not _valid(secret_key):
            raise KeyFileError(f"{path}: its secret key is not a CurveZMQ key (40 z85 characters)")
        if os.stat(path).st_mode & 0o077:
            raise KeyFileError(f"{path}: a secret key readable or writable by other users (chmod 600 {path})")
    return public, secret_key


def public_key(path: str | os.PathLike[str]) -> bytes:
    """The public key (z85) in a .key or .key_secret file."""
    return _load(path, secret=False)[0]


def key_pair(path: str | os.PathLike[str]) -> tuple[bytes, bytes]:
    """(public, secret) from a .key_secret file."""
    public, secret = _load(path, secret=True)
    assert secret is not None
    return public, secret


def admitted(directory: str | os.PathLike[str]) -> set[bytes]:
    """The public keys of every certificate in `directory`."""
    folder = Path(directory)
    if not folder.is_dir():
        raise KeyFileError(f"{folder}: not a directory of .key files")
    keys = set()
    for path in sorted(folder.iterdir()):
        if path.suffix in (".key", ".key_secret"):
            keys.add(public_key(path))
    if not keys:
        raise KeyFileError(f"{folder}: holds no .key file")
    return keys


def as_server(sock: zmq.Socket[Any], pair: tuple[bytes, bytes], domain: str) -> None:
    """Make `sock` a CURVE server with `pair`; ZAP requests carry `domain`."""
    sock.curve_server = True
    sock.curve_publickey, sock.curve_secretkey = pair
    sock.zap_domain = domain.encode()


def as_client(sock: zmq.Socket[Any], server_key: bytes, pair: tuple[bytes, bytes]) -> None:
    """Make `sock` a CURVE client of the server whose public key is `server_key`."""
    sock.curve_serverkey = server_key
    sock.curve_publickey, sock.curve_secretkey = pair


CLIENTS, WORKERS = "clients", "workers"  # the ZAP domains of the broker's two sockets


@dataclass(frozen=True)
class Admission:
    """Who the broker's CURVE sockets let in: `clients` (None: any client with a key) on the
    frontend, `workers` on a tcp backend (None: the backend has no CURVE)."""

    pair: tuple[bytes, bytes]
    clients: frozenset[bytes] | None = None
    workers: frozenset[bytes] | None = None

    def callback(self, domain: str, key: bytes) -> bool:
        """zmq.auth's credentials-provider hook: is public key `key` (z85) admitted in `domain`?"""
        admitted = self.clients if domain == CLIENTS else self.workers if domain == WORKERS else frozenset()
        return admitted is None or key in admitted


def admission(config: CurveConfig, tcp_backend: bool, local_worker_key: bytes | None = None) -> Admission | None:
    """The admission `config` describes (None: CURVE off); raises KeyFileError with the reason."""
    if config.curve_secret_key is None:
        for flag, value in (("--curve-clients", config.curve_clients), ("--curve-workers", config.curve_workers)):
            if value is not None:
                raise KeyFileError(f"{flag} needs --curve-secret-key (the server's key pair)")
        return None
    clients = frozenset(admitted(config.curve_clients)) if config.curve_clients else None
    workers = None
    if tcp_backend:
        if config.curve_workers is None:
            raise KeyFileError(
                "a tcp --backend with --curve-secret-key needs --curve-workers DIR (the keys of the workers it admits)"
            )
        workers = frozenset(admitted(config.curve_workers)) | ({local_worker_key} if local_worker_key else set())
    return Admission(key_pair(config.curve_secret_key), clients, workers)


def start_authenticator(ctx: zmq.Context[Any], admission: Admission) -> AsyncioAuthenticator:
    """A ZAP handler on the running event loop, for the sockets of `ctx`."""
    auth = AsyncioAuthenticator(zmq.asyncio.Context.shadow(ctx.underlying))
    auth.start()
    auth.configure_curve_callback(CLIENTS, admission)
    auth.configure_curve_callback(WORKERS, admission)
    return auth


def client_keys(
    server_key: str | os.PathLike[str] | bytes, secret_key: str | os.PathLike[str] | None = None
) -> tuple[bytes, bytes, bytes]:
    """(server's public key, our public key, our secret key) for a CurveZMQ client: `server_key` is the
    server's NAME.key file (or its z85 key); without `secret_key` a throwaway pair is made, which a
    server admitting any client accepts."""
    server = server_key if isinstance(server_key, bytes) else public_key(server_key)
    public, secret = key_pair(secret_key) if secret_key is not None else zmq.curve_keypair()
    return server, public, secret
