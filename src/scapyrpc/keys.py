"""CurveZMQ keys: making them, reading them, and applying them to a socket.

Key files are zmq.auth certificates: `NAME.key` holds the public key (give it
to peers), `NAME.key_secret` the public and the secret key (keep it). A server
(broker) side names its own `.key_secret`; a client side names the server's
`.key` and its own `.key_secret`; an admission directory holds the `.key`
files of the peers let in.
"""

from __future__ import annotations

import os
from pathlib import Path

import zmq
import zmq.auth


class KeyFileError(ValueError):
    """A key file or directory that cannot be used, with the reason."""


def keygen(directory: str | os.PathLike[str], name: str = "scapyrpc") -> tuple[Path, Path]:
    """Write NAME.key and NAME.key_secret into `directory` (created if needed); the secret is 0600."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(folder), name)
    os.chmod(secret, 0o600)
    return Path(public), Path(secret)


def _load(path: str | os.PathLike[str], secret: bool) -> tuple[bytes, bytes | None]:
    try:
        public, secret_key = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: not a readable CurveZMQ certificate ({exc})") from None
    if secret and not secret_key:
        raise KeyFileError(f"{path}: holds no secret key (give the .key_secret file)")
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


def as_server(sock: zmq.Socket, pair: tuple[bytes, bytes], domain: str) -> None:
    """Make `sock` a CURVE server with `pair`; ZAP requests carry `domain`."""
    sock.curve_server = True
    sock.curve_publickey, sock.curve_secretkey = pair
    sock.zap_domain = domain.encode()


def as_client(sock: zmq.Socket, server_key: bytes, pair: tuple[bytes, bytes]) -> None:
    """Make `sock` a CURVE client of the server whose public key is `server_key`."""
    sock.curve_serverkey = server_key
    sock.curve_publickey, sock.curve_secretkey = pair
