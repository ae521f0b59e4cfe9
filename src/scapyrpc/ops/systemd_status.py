"""What systemd hears from a running server (`notify.Notifier`, a no-op outside systemd).

READY=1 once every local worker is warm (the server then answers at once),
STATUS= lines when a worker joins or leaves and every few seconds while the
figures change, WATCHDOG=1 from the event loop (so a loop that stops turning
stops the pings and systemd restarts the service), STOPPING=1 when the broker's
core begins its stop — SIGTERM, SIGINT and a shut_down request all pass there.
"""

from __future__ import annotations

import asyncio

from scapyrpc.broker.shell import Broker
from scapyrpc.ops.systemd_notify import Notifier

STATUS_INTERVAL = 5.0  # seconds between STATUS= lines while the figures change


class ServiceStatus:
    """Sends the server's state to the service manager; the broker's `BrokerListener`."""

    def __init__(self, broker: Broker, notifier: Notifier | None = None) -> None:
        self.broker = broker
        self.notifier = notifier or Notifier()
        self._ready = False
        self._shown = ""
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        """Listen to the broker and start the watchdog and status tasks (on the running loop)."""
        if not self.notifier.enabled:
            return
        self.broker.listener = self
        self._send_status()
        self._tasks = [asyncio.create_task(self.notifier.run_watchdog()), asyncio.create_task(self._every_few_seconds())]

    def ready(self) -> None:
        """Every local worker is warm and every port is open."""
        self._ready = True
        self._shown = self._text()
        self.notifier.ready(self._shown)

    def pool_changed(self) -> None:
        self._send_status()

    def stopping(self) -> None:
        self._shown = self._text()
        self.notifier.stopping(self._shown)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.notifier.close()

    async def _every_few_seconds(self) -> None:
        while True:
            await asyncio.sleep(STATUS_INTERVAL)
            self._send_status()

    def _send_status(self) -> None:
        text = self._text()
        if text != self._shown:
            self._shown = text
            self.notifier.status(text)

    def _text(self) -> str:
        core = self.broker.core
        workers = [w for w in core.workers.values() if not w.leaving]
        if core.stopping:
            return f"stopping: {len(core.inflight)} requests in flight, {core.queue.count} queued"
        if not self._ready:
            local = sum(1 for w in workers if w.local)
            return f"starting: {local} of {core.local_workers} local workers ready"
        return f"serving: {len(workers)} workers, {core.served} requests served, {core.queue.count} queued"
