"""The whole server in one process tree: broker (this process) plus local worker processes.

`ScapyServer(port=4507).activate()` blocks until Ctrl+C, SIGTERM or a
`shut_down` request, exactly like the seed's `Scapy_server`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field

from .broker import Broker, BrokerOptions
from .limits import Limits, MiB
from .pool import LocalPool
from .worker import WorkerOptions

log = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    """Everything `scapyrpc serve` can set."""

    port: int = 4507
    bind: str = "*"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    backend: str | None = None  # where workers connect; default: a private ipc:// endpoint
    request_timeout: float = 10.0
    max_queue: int = 1000
    max_request_bytes: int = 16 * MiB
    max_requests_per_worker: int = 0
    max_worker_rss_mb: int = 0
    max_payload_bytes: int = 1 * MiB
    max_pcap_bytes: int = 64 * MiB
    max_pcap_packets: int = 100_000
    banner: bool = True
    test_methods: bool = False
    # HTTP gateway and browser editor (http_gateway.py); off unless http_port is set
    http_port: int | None = None
    http_bind: str = "127.0.0.1"
    http_token: str | None = None

    @property
    def frontend(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind and not self.bind.startswith("[") else self.bind
        return f"tcp://{host}:{self.port or '*'}"  # port 0: any free port (the banner tells which)

    def limits(self) -> Limits:
        return Limits(
            max_request_bytes=self.max_request_bytes,
            max_payload_bytes=self.max_payload_bytes,
            max_pcap_bytes=self.max_pcap_bytes,
            max_pcap_packets=self.max_pcap_packets,
            request_timeout=self.request_timeout,
        )


def local_endpoint(bound: str) -> str:
    """Where a worker on this host connects to reach an endpoint bound on all interfaces."""
    for wildcard, loopback in (("tcp://0.0.0.0:", "tcp://127.0.0.1:"), ("tcp://[::]:", "tcp://[::1]:")):
        if bound.startswith(wildcard):
            return loopback + bound[len(wildcard):]
    return bound


def _server_ip() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"


class ScapyServer:
    """A scapyrpc server; `activate()` runs it in the foreground."""

    def __init__(self, port: int = 4507, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig(port=port)
        if config is None:
            self.config.port = port
        self.exit_reason = ""

    def activate(self) -> int:
        """Serve until stopped; returns the process exit status (0 on a clean stop)."""
        try:
            import uvloop

            return uvloop.run(self.serve())
        except ImportError:  # non-Linux: plain asyncio
            return asyncio.run(self.serve())

    async def serve(self) -> int:
        cfg = self.config
        backend = cfg.backend or f"ipc://{tempfile.gettempdir()}/scapyrpc-{os.getpid()}-{uuid.uuid4().hex[:8]}.ipc"
        started = time.monotonic()
        ready = asyncio.Event()

        def on_worker_ready(_: object) -> None:
            if broker.pool_size() >= cfg.workers:
                ready.set()

        broker = Broker(
            BrokerOptions(
                frontend=cfg.frontend,
                backend=backend,
                request_timeout=cfg.request_timeout,
                max_queue=cfg.max_queue,
                max_request_bytes=cfg.max_request_bytes,
            ),
            on_worker_ready=on_worker_ready,
        )
        broker.bind()
        pool = None
        if cfg.workers > 0:
            options = WorkerOptions(
                backend=local_endpoint(broker.backend_endpoint),
                limits=cfg.limits(),
                max_requests=cfg.max_requests_per_worker,
                max_rss_bytes=cfg.max_worker_rss_mb * MiB,
                reconnect=False,
                test_methods=cfg.test_methods,
            )
            pool = LocalPool(cfg.workers, options, on_exit=broker.local_worker_exited)
            broker.local = pool
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, broker.stop)
        serving = asyncio.create_task(broker.serve())
        http = await self._start_http(broker, serving)
        if pool is not None:
            pool.start()
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait({waiter, serving}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        if cfg.banner and not serving.done():
            self._print_banner(cfg, broker, time.monotonic() - started)
        try:
            shutdown = await serving
        finally:
            if http is not None:
                await http[0].stop()
                http[1].close()
            if pool is not None:
                await pool.stop()
            if backend.startswith("ipc://"):
                try:
                    os.unlink(backend[len("ipc://"):])
                except OSError:
                    pass
        if shutdown:
            print("Server: Shut down by remote user", flush=True)
        return 0

    async def _start_http(self, broker: Broker, serving: asyncio.Task) -> tuple | None:
        """The HTTP gateway (--http), bridged to the bound frontend; None when off."""
        cfg = self.config
        if cfg.http_port is None:
            return None
        from .frontend_bridge import start_bridged_gateway
        from .http_gateway import GatewayOptions

        options = GatewayOptions(host=cfg.http_bind, port=cfg.http_port, token=cfg.http_token,
                                 max_request_bytes=cfg.max_request_bytes)
        try:
            http = await start_bridged_gateway(options, local_endpoint(broker.frontend_endpoint))
        except BaseException:
            broker.stop()
            await serving
            raise
        if cfg.banner:
            print(f"Editor: {http[0].url}", flush=True)
        return http

    @staticmethod
    def _print_banner(cfg: ServerConfig, broker: Broker, seconds: float) -> None:
        port = broker.frontend_endpoint.rsplit(":", 1)[-1]
        print("***Scapy Server Started***", flush=True)
        print(f"Listening on port: {port}", flush=True)
        print(f"Server IP address: {_server_ip() if cfg.bind in ('*', '0.0.0.0') else cfg.bind}", flush=True)
        print(f"Workers: {cfg.workers} local, ready in {seconds:.2f} s; worker endpoint {broker.backend_endpoint}",
              flush=True)
        sys.stdout.flush()


Scapy_server = ScapyServer
