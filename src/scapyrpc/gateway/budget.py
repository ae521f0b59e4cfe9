"""The bytes the HTTP side holds for its clients, per connection and in total.

Request bodies being received and replies not yet handed to the kernel are held in the
broker's process, on top of what the ZeroMQ side holds. Every such byte is taken from one
`Budget` before it is held and given back once it is not; a client that would take more
than its share, or than what is left, is refused (503) or its connection closed, and the
refusal is logged once per peer per minute.
"""

from __future__ import annotations

import enum
import logging
import time

__all__ = ["Budget", "LogOnce", "Reason"]

log = logging.getLogger("scapyrpc.gateway")


class Budget:
    """`limit` bytes shared by every HTTP client."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Hold `size` more bytes if they fit; False (and nothing held) if not."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size
        assert self.held >= 0, "gave back more than was taken"


class Reason(enum.Enum):
    """Why the HTTP side refused or closed something; the value is what the log and the client read."""

    FULL = "the HTTP side holds as much as it may for all clients; try again later"
    BACKLOG = "its replies waiting to be read exceed the limit"
    SLOW_BODY = "its request body did not arrive in time"
    SLOW_READER = "it did not read its reply in time"
    BAD_REQUEST = "it sent a request that is not HTTP"


class LogOnce:
    """Log a problem a client causes at most once per peer and reason per interval."""

    def __init__(self, interval: float = 60.0, max_entries: int = 10_000) -> None:
        self.interval = interval
        self.max_entries = max_entries
        self._last: dict[tuple[str, str], float] = {}  # (peer, reason name) -> when last logged

    def warning(self, peer: str, reason: Reason, message: str, *args: object) -> None:
        now = time.monotonic()
        key = (peer, reason.name)
        if now - self._last.get(key, -self.interval) < self.interval:
            return
        if len(self._last) >= self.max_entries:
            self._last.clear()
        self._last[key] = now
        log.warning(message + " (logged once a minute per peer)", *args)
