"""Who may use the HTTP side beyond loopback: the token, the sessions it opens, guesses slowed.

The token (`--http-token-file`, `--http-token`) is a long-lived secret for scripts
(`Authorization: Bearer TOKEN`). A browser opens `/?token=TOKEN` once and gets a *session*
cookie instead of the secret: browsers send a host's cookies to every port of that host,
so a cookie holding the token would hand it to any other service there. A session id is
random, expires, is named for this server's port (two servers on one host keep theirs
apart), is HttpOnly and SameSite=Strict, and dies with the server. Wrong tokens are
counted per peer address: after a few, that peer is refused (429) for a time that
doubles up to a minute, before any comparison is made.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from scapyrpc.config.options import HttpConfig

__all__ = ["MIN_TOKEN_CHARS", "Guesses", "Sessions", "TokenError", "load_token", "token_matches"]

MIN_TOKEN_CHARS = 16
_MAX_TOKEN_FILE_BYTES = 4096
_SESSION_SECONDS = 12 * 3600
_MAX_SESSIONS = 1000
_FREE_GUESSES = 5
_MAX_PENALTY = 60.0
_MAX_PEERS = 10_000


class TokenError(ValueError):
    """The configured token cannot be used, with the reason (one line for the operator)."""


def load_token(options: HttpConfig) -> str | None:
    """The token in force: `--http-token-file`'s first line or `--http-token` (not both)."""
    token = options.http_token
    if options.http_token_file is not None:
        if token is not None:
            raise TokenError("give --http-token or --http-token-file, not both")
        try:
            with open(options.http_token_file, "rb") as file:
                data = file.read(_MAX_TOKEN_FILE_BYTES + 1)
        except OSError as exc:
            raise TokenError(
                f"cannot read --http-token-file {options.http_token_file}: {exc.strerror or exc}"
            ) from None
        if len(data) > _MAX_TOKEN_FILE_BYTES:
            raise TokenError(
                f"--http-token-file {options.http_token_file} is longer than "
                f"{_MAX_TOKEN_FILE_BYTES} bytes: it should hold the token alone"
            )
        lines = data.decode("utf-8", "replace").splitlines()
        token = lines[0].strip() if lines else ""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise TokenError(
            f"the HTTP token must have at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 16`)"
        )
    return token


def as_bytes(text: str) -> bytes:
    """Header text back to the bytes the client sent (aiohttp decodes with surrogateescape);
    something that is no such text compares equal to nothing."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return b"\x00"


def token_matches(offered: str, token: str) -> bool:
    """Constant-time comparison of what a client offered with the token, whatever bytes it sent."""
    return hmac.compare_digest(as_bytes(offered), token.encode())


class Sessions:
    """Session ids handed to browsers that presented the token; at most a thousand, each for
    twelve hours (the oldest go first)."""

    def __init__(self, port: int) -> None:
        self.cookie = f"scapyrpc_session_{port}"
        self._expiry: OrderedDict[bytes, float] = OrderedDict()

    def open(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        session = secrets.token_urlsafe(32)
        self._expiry[session.encode()] = now + _SESSION_SECONDS
        while len(self._expiry) > _MAX_SESSIONS:
            self._expiry.popitem(last=False)
        return session

    def valid(self, offered: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = as_bytes(offered)
        expiry = self._expiry.get(key)
        if expiry is None:
            return False
        if expiry < now:
            del self._expiry[key]
            return False
        return True


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0


class Guesses:
    """Wrong tokens per peer address: a few are free, then the peer waits, twice as long each time."""

    def __init__(self) -> None:
        self._peers: OrderedDict[str, _Record] = OrderedDict()

    def wait(self, peer: str, now: float | None = None) -> float:
        """Seconds `peer` must still wait before its next try (0: it may try now)."""
        now = time.monotonic() if now is None else now
        record = self._peers.get(peer)
        return max(0.0, record.blocked_until - now) if record else 0.0

    def failed(self, peer: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        record = self._peers.pop(peer, None) or _Record()
        record.failures += 1
        if record.failures > _FREE_GUESSES:
            record.blocked_until = now + min(_MAX_PENALTY, 2.0 ** (record.failures - _FREE_GUESSES - 1))
        self._peers[peer] = record
        while len(self._peers) > _MAX_PEERS:
            self._peers.popitem(last=False)

    def succeeded(self, peer: str) -> None:
        self._peers.pop(peer, None)
