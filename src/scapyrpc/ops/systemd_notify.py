"""systemd's service notification protocol (sd_notify): READY, STATUS, WATCHDOG, STOPPING.

Under `Type=notify` systemd passes `$NOTIFY_SOCKET`, a datagram socket (a path,
or an abstract name written with a leading `@`); each message is newline-separated
`KEY=VALUE` lines. With `WatchdogSec=` it also passes `WATCHDOG_USEC` (and
`WATCHDOG_PID`, the process meant to ping) and restarts a service that stays
silent that long. Outside systemd every call is a cheap no-op.

Written here rather than taken from a package: the protocol is one `sendto` on a
datagram socket. sdnotify has had no release since 2017 and knows nothing of the
watchdog variables; systemd-python, cysystemd and pystemd bind libsystemd (a C
build or a native wheel) for this single call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

__all__ = ["Notifier"]

log = logging.getLogger("scapyrpc.ops")


class Notifier:
    """Tells the service manager about this process's state; a no-op outside systemd.

    `ready()` once every local worker is warm, `status(text)` whenever there is news
    (one line shown by `systemctl status`), `stopping()` when a stop begins, and
    `watchdog()` every `watchdog_interval` seconds (None: no watchdog asked for)
    while the event loop still turns; `run_watchdog()` is that loop as a task.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval = _watchdog_interval(env) if self.address else None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send one message of KEY=VALUE lines (keys upper-cased); True if it was sent."""
        if self.address is None:
            return False
        message = "\n".join(f"{key.upper()}={_one_line(value)}" for key, value in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)  # never stall the event loop; a lost ping is retried
            self._sock.sendto(message.encode(), self.address)
        except OSError as exc:
            log.debug("sd_notify %r to %r failed: %s", message, self.address, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """The service is up: systemd's start job completes and `systemctl start` returns."""
        return self.notify(ready=1, status=status) if status is not None else self.notify(ready=1)

    def status(self, text: str) -> bool:
        return self.notify(status=text)

    def stopping(self, status: str | None = None) -> bool:
        return self.notify(stopping=1, status=status) if status is not None else self.notify(stopping=1)

    def watchdog(self) -> bool:
        """Keep-alive: the service still makes progress."""
        return self.watchdog_interval is not None and self.notify(watchdog=1)

    async def run_watchdog(self) -> None:
        """Ping every `watchdog_interval` until cancelled; returns at once when there is no watchdog."""
        if self.watchdog_interval is None:
            return
        while True:
            self.watchdog()
            await asyncio.sleep(self.watchdog_interval)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _address(value: str) -> str | bytes | None:
    """A filesystem path, or an abstract socket name (`@name` becomes a leading NUL)."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return b"\0" + value[1:].encode()
    if value:
        log.warning("NOTIFY_SOCKET=%r is not a path or an abstract socket name; not notifying", value)
    return None


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; None if unset, bad, or meant for another pid."""
    pid = env.get("WATCHDOG_PID")
    if pid is not None and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None


def _one_line(value: str | int) -> str:
    return " ".join(str(value).splitlines())
