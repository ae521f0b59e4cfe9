"""Prometheus metrics of the broker: what was answered, how fast, and the state of the queue and pool.

`Recorder` is what the event loop touches per reply (the broker's `ReplyObserver`):
one dict lookup and two list updates, no lock, no library call. Everything else
is the broker's `Figures`, a snapshot taken from its `FiguresSource` when
scraped. prometheus_client reads both only then, through `Collector`, on the
broker's loop (`MetricsServer`, served like the gateway: counted connections,
idle ones closed). prometheus_client is imported only when metrics are asked for.
Label values are the broker's reasons' labels (`broker/reasons.py`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from scapyrpc.broker.figures import FiguresSource

if TYPE_CHECKING:
    from scapyrpc.gateway.connections import Served

__all__ = ["Collector", "MetricsError", "MetricsServer", "Recorder"]

# request latency buckets (seconds): from the quickest methods to past the default deadline
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_NOTES = 1000  # distinct (method, outcome) pairs kept apart; workers send few, a bound all the same
OTHER = b"other other"


class MetricsError(Exception):
    """The metrics port could not be opened (one line for the operator)."""


class Recorder:
    """Replies by their worker's note (`protocol.note`: b"METHOD OUTCOME"), with a latency histogram."""

    def __init__(self) -> None:
        # note -> per-bucket counts (BUCKETS, then +Inf), then the sum of seconds
        self.replies: dict[bytes, list[float]] = {}

    def replied(self, note: bytes, seconds: float) -> None:
        row = self.replies.get(note)
        if row is None:
            row = self._row(note)
        row[bisect.bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds

    def _row(self, note: bytes) -> list[float]:
        if len(self.replies) >= MAX_NOTES or b" " not in note:
            note = OTHER
        return self.replies.setdefault(note, [0] * (len(BUCKETS) + 1) + [0.0])


class Collector:
    """The broker's figures as Prometheus metric families, read at scrape time."""

    def __init__(self, source: FiguresSource, recorder: Recorder) -> None:
        self.source = source
        self.recorder = recorder

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        figures = self.source.figures()
        traffic = figures.traffic
        rows = [(note, list(row)) for note, row in list(self.recorder.replies.items())]

        requests = CounterMetricFamily(
            "scapyrpc_requests",
            "Requests answered by a worker, by method and outcome (ok, or the JSON-RPC error code)",
            labels=["method", "outcome"],
        )
        by_method: dict[str, list[float]] = {}
        for note, row in rows:
            method, _, outcome = note.decode("ascii", "replace").partition(" ")
            requests.add_metric([method, outcome], sum(row[:-1]))
            total = by_method.setdefault(method, [0.0] * len(row))
            for i, value in enumerate(row):
                total[i] += value
        yield requests
        latency = HistogramMetricFamily(
            "scapyrpc_request_duration_seconds",
            "From the broker accepting a request to the worker's reply, by method",
            labels=["method"],
        )
        for method, row in sorted(by_method.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), row[:-1]):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([method], buckets, row[-1])
        yield latency
        refused = CounterMetricFamily(
            "scapyrpc_refused", "Requests the broker answered itself, by reason", labels=["reason"]
        )
        for reason, count in figures.refused.items():
            refused.add_metric([reason.label], count)
        yield refused
        yield CounterMetricFamily("scapyrpc_received_requests", "Requests read from clients", value=traffic.requests)
        yield CounterMetricFamily(
            "scapyrpc_received_bytes", "Bytes of requests read from clients", value=traffic.bytes_in
        )
        yield CounterMetricFamily("scapyrpc_sent_bytes", "Bytes of replies sent to clients", value=traffic.bytes_out)
        yield GaugeMetricFamily(
            "scapyrpc_requests_in_flight", "Requests handed to a worker and not yet answered", value=figures.in_flight
        )
        yield GaugeMetricFamily("scapyrpc_queued_requests", "Requests waiting for a worker", value=figures.queued)
        yield GaugeMetricFamily(
            "scapyrpc_queued_bytes", "Bytes of requests waiting for a worker", value=figures.queued_bytes
        )
        workers = GaugeMetricFamily(
            "scapyrpc_workers", "Workers in the pool (not leaving), local or remote", labels=["location"]
        )
        workers.add_metric(["local"], figures.local)
        workers.add_metric(["remote"], figures.remote)
        yield workers
        restarts = CounterMetricFamily(
            "scapyrpc_worker_restarts", "Local worker processes replaced, by why the last one ended", labels=["reason"]
        )
        for label, count in sorted((reason.label, count) for reason, count in figures.restarts.items()):
            restarts.add_metric([label], count)
        yield restarts
        gone = CounterMetricFamily(
            "scapyrpc_workers_gone", "Workers that left the pool, by reason", labels=["reason", "location"]
        )
        for (label, local), count in sorted(
            ((reason.label, local), count) for (reason, local), count in figures.gone.items()
        ):
            gone.add_metric([label, "local" if local else "remote"], count)
        yield gone
        cache = figures.reply_cache
        hits = CounterMetricFamily(
            "scapyrpc_reply_cache_hits",
            "Requests the broker answered from its reply cache, by method",
            labels=["method"],
        )
        misses = CounterMetricFamily(
            "scapyrpc_reply_cache_misses",
            "Replies a worker marked cacheable: requests the reply cache could not answer, by method",
            labels=["method"],
        )
        for family, counts in ((hits, cache.hits), (misses, cache.misses)):
            for method, count in sorted(counts.items()):
                family.add_metric([method], count)
            yield family
        yield CounterMetricFamily(
            "scapyrpc_reply_cache_evictions", "Replies dropped from the reply cache for room", value=cache.evictions
        )
        yield GaugeMetricFamily("scapyrpc_reply_cache_entries", "Replies in the reply cache", value=cache.entries)
        yield GaugeMetricFamily(
            "scapyrpc_reply_cache_bytes", "Bytes the reply cache holds (--reply-cache-mb bounds it)", value=cache.bytes
        )


class MetricsServer:
    """GET /metrics on the broker's event loop, bounded like the gateway: at most `MAX_SCRAPERS`
    connections, each closed when idle for `IDLE_SECONDS`, and (bound to loopback) only loopback
    Host names answered, so a page elsewhere cannot read it by rebinding its name."""

    MAX_SCRAPERS = 16
    IDLE_SECONDS = 10.0

    def __init__(self, served: Served, url: str) -> None:
        self.served = served
        self.url = url

    @classmethod
    async def start(cls, source: FiguresSource, recorder: Recorder, bind: str, port: int) -> MetricsServer:
        """Serve on `bind`:`port` (0: a free port); OSError when it cannot listen there."""
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest

        from scapyrpc.gateway.connections import loopback_host_only, open_listener, serve

        registry = CollectorRegistry(auto_describe=False)
        registry.register(Collector(source, recorder))
        ProcessCollector(registry=registry)  # the broker's CPU, memory and descriptors

        async def scrape(request: web.Request) -> web.Response:
            if not loopback_host_only(bind, request.headers.get("Host", "")):
                return web.Response(status=421, text="unexpected Host header\n")
            return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", scrape)
        table = open_listener(bind, port, cls.MAX_SCRAPERS, cls.IDLE_SECONDS)
        served = await serve(app, table)
        return cls(served, served.url(bind, "/metrics"))

    async def close(self) -> None:
        await self.served.stop()
