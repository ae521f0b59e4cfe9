"""The whole server in one process tree: the broker (this process), its zygote and its local workers.

`ScapyServer(port=4507).activate()` blocks until Ctrl+C, SIGTERM or a
`shut_down` request, exactly like the seed's `Scapy_server`. It returns after
every process it started has exited and been reaped. Under systemd it says
READY=1 when it prints its `Workers:` line (`ops/systemd_status.py`); SIGHUP
reopens the log file. `serve()` is where the parts are wired, each once and at
construction: the broker gets the pool's factory, the metrics' recorder and the
status listener; the observers read the broker's `figures()`.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

import zmq

from scapyrpc.broker.rundir import RunDir
from scapyrpc.broker.shell import Broker
from scapyrpc.config.options import ServerConfig
from scapyrpc.ops import logs
from scapyrpc.ops.metrics import MetricsError, MetricsServer, Recorder
from scapyrpc.ops.systemd_status import ServiceStatus
from scapyrpc.pool.local import LocalPool, PoolEvents
from scapyrpc.wire import curve, endpoints

if TYPE_CHECKING:
    from scapyrpc.gateway.app import RunningGateway

__all__ = ["ScapyServer", "Scapy_server", "ServerConfig"]


def _server_ip() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


class ScapyServer:
    """A scapyrpc server; `activate()` runs it in the foreground."""

    def __init__(self, port: int = 4507, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig(port=port)

    def activate(self) -> int:
        """Serve until stopped; returns the process exit status (0 on a clean stop)."""
        try:
            import uvloop

            return uvloop.run(self.serve())
        except ImportError:  # non-Linux: plain asyncio
            return asyncio.run(self.serve())

    async def serve(self) -> int:
        cfg = self.config
        started = time.monotonic()
        tcp_backend = (cfg.backend or "").startswith("tcp://")
        local_keys = zmq.curve_keypair() if cfg.curve.curve_secret_key and tcp_backend else None
        admission = curve.admission(cfg.curve, tcp_backend, local_keys[0] if local_keys else None)
        rundir = RunDir() if cfg.backend is None else None
        gateway = metrics = None
        recorder = Recorder() if cfg.metrics.metrics_port is not None else None
        worker_keys = (admission.pair[0], *local_keys) if admission is not None and local_keys else None

        def make_pool(backend: str, events: PoolEvents) -> LocalPool:
            return LocalPool(endpoints.reachable_locally(backend), cfg.worker, events, worker_keys, cfg.log)

        status = ServiceStatus()
        broker = Broker(
            cfg.broker,
            cfg.frontend,
            cfg.backend or rundir.backend,  # type: ignore[union-attr]
            cfg.workers,
            admission,
            pool=make_pool if cfg.workers > 0 else None,
            recorder=recorder,
            listener=status,
            other_connections=self._other_connections(),
        )
        try:
            broker.bind()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, broker.stop)
            loop.add_signal_handler(signal.SIGHUP, logs.reopen)
            status.start(broker)
            serving = asyncio.create_task(broker.serve())
            if cfg.banner:
                self._print_banner(cfg, broker)
                self._warn_if_open(cfg, broker)
            if recorder is not None:
                metrics = await self._start_metrics(broker, recorder, serving)
            gateway = await self._start_http(broker, serving)
            waiter = asyncio.create_task(broker.ready.wait())
            await asyncio.wait({waiter, serving}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not serving.done():
                if cfg.banner:
                    print(
                        f"Workers: {cfg.workers} local, ready in {time.monotonic() - started:.2f} s; "
                        f"worker endpoint {broker.backend_endpoint}",
                        flush=True,
                    )
                status.ready(broker.figures())
            shutdown = await serving
        finally:
            status.close()
            if metrics is not None:
                await metrics.close()
            if gateway is not None:
                await gateway.stop()
            await broker.close()
            if rundir is not None:
                rundir.close()
        if shutdown:
            print("Server: Shut down by remote user", flush=True)
        return 0

    def _other_connections(self) -> int:
        """Descriptors the HTTP side and the metrics port may hold: kept out of the broker's budget."""
        cfg = self.config
        http = cfg.http.http_max_connections if cfg.http.http is not None else 0
        metrics = MetricsServer.MAX_SCRAPERS if cfg.metrics.metrics_port is not None else 0
        return http + metrics

    async def _start_metrics(self, broker: Broker, recorder: Recorder, serving: asyncio.Task[bool]) -> MetricsServer:
        """Prometheus metrics (--metrics-port) on this event loop."""
        bind, port = self.config.metrics.metrics_bind, self.config.metrics.metrics_port
        assert port is not None
        try:
            metrics = await MetricsServer.start(broker, recorder, bind, port)
        except OSError as exc:
            broker.stop()
            await serving
            raise MetricsError(f"cannot serve metrics on {bind} port {port}: {exc.strerror or exc}") from None
        if self.config.banner:
            print(f"Metrics: {metrics.url}", flush=True)
        return metrics

    async def _start_http(self, broker: Broker, serving: asyncio.Task[bool]) -> RunningGateway | None:
        """The HTTP gateway and editor (--http) in this event loop, on the broker's queue; None when off."""
        cfg = self.config
        if cfg.http.http is None:
            return None
        from scapyrpc.gateway.app import Bounds, start_gateway  # aiohttp is imported only when it is used

        try:
            bounds = Bounds(cfg.broker.max_request_bytes, cfg.broker.max_client_backlog_bytes)
            gateway = await start_gateway(broker, cfg.http, bounds)
        except BaseException:
            broker.stop()
            await serving
            raise
        if cfg.banner:
            print(f"Editor: {gateway.url}", flush=True)
        return gateway

    @staticmethod
    def _warn_if_open(cfg: ServerConfig, broker: Broker) -> None:
        """Say so when a port is reachable from other hosts without CurveZMQ."""
        if cfg.curve.curve_secret_key is not None:
            return
        if not endpoints.parse(broker.frontend_endpoint).this_host_only:
            print(
                f"scapyrpc: warning: {broker.frontend_endpoint} is open to other hosts without CurveZMQ "
                "(anyone who reaches it can use this server; see --curve-secret-key)",
                file=sys.stderr,
                flush=True,
            )
        if not endpoints.parse(broker.backend_endpoint).this_host_only:
            print(
                f"scapyrpc: warning: workers may join at {broker.backend_endpoint} from any host without "
                "CurveZMQ, and would receive every request (see --curve-workers)",
                file=sys.stderr,
                flush=True,
            )

    @staticmethod
    def _print_banner(cfg: ServerConfig, broker: Broker) -> None:
        """The seed's banner, as soon as the port is open (requests wait there for the workers)."""
        port = broker.frontend_endpoint.rsplit(":", 1)[-1]
        print("***Scapy Server Started***", flush=True)
        print(f"Listening on port: {port}", flush=True)
        print(f"Server IP address: {_server_ip() if cfg.bind in ('*', '0.0.0.0') else cfg.bind}", flush=True)


Scapy_server = ScapyServer
