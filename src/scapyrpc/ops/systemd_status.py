"""What systemd hears from a running server (`systemd_notify.Notifier`, a no-op outside systemd).

READY=1 once every local worker is warm (the server then answers at once),
STATUS= lines when a worker joins or leaves and every few seconds while the
figures change, WATCHDOG=1 from the event loop (so a loop that stops turning
stops the pings and systemd restarts the service), STOPPING=1 when the broker's
core begins its stop — SIGTERM, SIGINT and a shut_down request all pass there.
It is the broker's `BrokerListener` and reads nothing of the broker but its
`Figures`, handed to it with each event or taken from a `FiguresSource`.
"""

from __future__ import annotations

import asyncio

from scapyrpc.broker.figures import Figures, FiguresSource
from scapyrpc.ops.systemd_notify import Notifier

__all__ = ["ServiceStatus"]

STATUS_INTERVAL = 5.0  # seconds between STATUS= lines while the figures change


class ServiceStatus:
    """Sends the server's state to the service manager."""

    def __init__(self, notifier: Notifier | None = None) -> None:
        self.notifier = notifier or Notifier()
        self._ready = False
        self._shown = ""
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, source: FiguresSource) -> None:
        """Say the server is starting, and start the watchdog and the periodic status from `source`
        (on the running loop)."""
        if not self.notifier.enabled:
            return
        self._send_status(source.figures())
        self._tasks = [
            asyncio.create_task(self.notifier.run_watchdog()),
            asyncio.create_task(self._every_few_seconds(source)),
        ]

    def ready(self, figures: Figures) -> None:
        """Every local worker is warm and every port is open."""
        self._ready = True
        self._shown = self._text(figures)
        self.notifier.ready(self._shown)

    def pool_changed(self, figures: Figures) -> None:
        self._send_status(figures)

    def stopping(self, figures: Figures) -> None:
        self._shown = self._text(figures)
        self.notifier.stopping(self._shown)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.notifier.close()

    async def _every_few_seconds(self, source: FiguresSource) -> None:
        while True:
            await asyncio.sleep(STATUS_INTERVAL)
            self._send_status(source.figures())

    def _send_status(self, figures: Figures) -> None:
        if not self.notifier.enabled:
            return
        text = self._text(figures)
        if text != self._shown:
            self._shown = text
            self.notifier.status(text)

    def _text(self, figures: Figures) -> str:
        if figures.stopping:
            return f"stopping: {figures.in_flight} requests in flight, {figures.queued} queued"
        if not self._ready:
            return f"starting: {figures.local} of {figures.pool_size} local workers ready"
        return (
            f"serving: {figures.local + figures.remote} workers, {figures.served} requests served, "
            f"{figures.queued} queued"
        )
