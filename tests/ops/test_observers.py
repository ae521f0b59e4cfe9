"""Observers of the broker (metrics, systemd status) see only its `Figures`: they work from a
source that has nothing but `figures()`, and neither they nor the broker import each other."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from scapyrpc.broker.figures import Figures, Traffic
from scapyrpc.broker.reasons import Departure, Refusal, Restart
from scapyrpc.ops.metrics import Collector, Recorder
from scapyrpc.ops.systemd_status import ServiceStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "scapyrpc"


def figures(**changes: object) -> Figures:
    base: dict[str, object] = dict(
        pool_size=2,
        local=2,
        remote=1,
        in_flight=3,
        queued=4,
        queued_bytes=500,
        served=7,
        stopping=False,
        refused={reason: 0 for reason in Refusal} | {Refusal.BUSY: 2, Refusal.DEADLINE: 1},
        restarts={Restart.DIED_STARTING: 1, Restart.RETIRED: 3},
        gone={(Departure.RETIRED, True): 3, (Departure.SILENT, False): 1},
        traffic=Traffic(requests=10, replies=9, bytes_in=100, bytes_out=900),
    )
    return Figures(**(base | changes))  # type: ignore[arg-type]


class Source:
    """Nothing but figures(): what an observer is given instead of the broker."""

    def __init__(self, snapshot: Figures) -> None:
        self.snapshot = snapshot

    def figures(self) -> Figures:
        return self.snapshot


def test_metrics_are_read_from_the_figures_alone() -> None:
    recorder = Recorder()
    recorder.replied(b"build_pkt ok", 0.002)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in Collector(Source(figures()), recorder).collect()
        for sample in family.samples
    }
    assert {labels: value for (name, labels), value in samples.items() if name == "scapyrpc_refused_total"} == {
        (("reason", "busy"),): 2,
        (("reason", "too_large"),): 0,
        (("reason", "stopping"),): 0,
        (("reason", "deadline"),): 1,
        (("reason", "no_worker"),): 0,
        (("reason", "worker_lost"),): 0,
    }
    assert samples[("scapyrpc_workers", (("location", "local"),))] == 2
    assert samples[("scapyrpc_workers", (("location", "remote"),))] == 1
    assert samples[("scapyrpc_requests_in_flight", ())] == 3
    assert samples[("scapyrpc_queued_requests", ())] == 4
    assert samples[("scapyrpc_queued_bytes", ())] == 500
    assert samples[("scapyrpc_received_requests_total", ())] == 10
    assert samples[("scapyrpc_received_bytes_total", ())] == 100
    assert samples[("scapyrpc_sent_bytes_total", ())] == 900
    assert samples[("scapyrpc_worker_restarts_total", (("reason", "died starting"),))] == 1
    assert samples[("scapyrpc_worker_restarts_total", (("reason", "retired"),))] == 3
    assert samples[("scapyrpc_workers_gone_total", (("location", "local"), ("reason", "retired")))] == 3
    assert samples[("scapyrpc_workers_gone_total", (("location", "remote"), ("reason", "heartbeat timeout")))] == 1
    assert samples[("scapyrpc_requests_total", (("method", "build_pkt"), ("outcome", "ok")))] == 1


class Notifier:
    enabled = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def ready(self, status: str | None = None) -> bool:
        self.sent.append(("READY", status))
        return True

    def status(self, text: str) -> bool:
        self.sent.append(("STATUS", text))
        return True

    def stopping(self, status: str | None = None) -> bool:
        self.sent.append(("STOPPING", status))
        return True

    async def run_watchdog(self) -> None:
        return None

    def close(self) -> None:
        pass


def test_systemd_status_is_told_from_the_figures_alone() -> None:
    notifier = Notifier()
    status = ServiceStatus(notifier)  # type: ignore[arg-type]

    async def lifecycle() -> None:
        status.start(Source(figures(local=0, remote=0)))
        status.pool_changed(figures(local=1, remote=0))
        status.pool_changed(figures(local=1, remote=0))  # unchanged: not sent again
        status.ready(figures())
        status.stopping(figures(stopping=True))
        status.close()

    asyncio.run(lifecycle())
    assert notifier.sent == [
        ("STATUS", "starting: 0 of 2 local workers ready"),
        ("STATUS", "starting: 1 of 2 local workers ready"),
        ("READY", "serving: 3 workers, 7 requests served, 4 queued"),
        ("STOPPING", "stopping: 3 requests in flight, 4 queued"),
    ]


def imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return {module for module in modules if module.startswith("scapyrpc")}


def test_observers_import_only_the_broker_figures_and_the_broker_imports_no_observer() -> None:
    for observer in ("metrics.py", "systemd_status.py"):
        assert {module for module in imports(SRC / "ops" / observer) if module.startswith("scapyrpc.broker")} == {
            "scapyrpc.broker.figures"
        }, observer
    for path in (SRC / "broker").glob("*.py"):
        assert not {
            module
            for module in imports(path)
            if module.startswith(("scapyrpc.ops", "scapyrpc.pool", "scapyrpc.gateway"))
        }, path
