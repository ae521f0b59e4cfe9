"""Figures from raw measurements, and how they are shown: rich table (or plain text), JSON, progress bar."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from scapyrpc.bench.loadgen import RunResult

__all__ = ["Progress", "Row", "percentile", "ratios", "render", "summarise", "to_json"]

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil(n * pct / 100)
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


@dataclass
class Row:
    """One configuration's figures: what the table and the JSON show."""

    label: str
    workload: str
    clients: int
    workers: int | None
    requests: int
    sent: int
    errors: int
    error_kinds: dict[str, int]
    fe_errors: int
    fe_error_kinds: dict[str, int]
    lost: int
    wall_s: float
    throughput: float
    latency_ms: dict[str, float]
    client_cpu_share: float | None
    # CPU ms per request: "service" = the worker processes (or the in-process loop), "broker" = the front.
    cpu_ms_per_request: dict[str, float] | None = None


def summarise(
    label: str,
    workload: str,
    run: RunResult,
    workers: int | None,
    in_process: bool = False,
    server_cpu: tuple[float, float] | None = None,
) -> Row:
    """Merge the clients' measurements: throughput over the common window, percentiles over all latencies."""
    latencies = sorted(x for r in run.results for x in r.latencies)
    errors: Counter[str] = Counter()
    fe_errors: Counter[str] = Counter()
    for r in run.results:
        errors.update(r.errors)
        fe_errors.update(r.fe_errors)
    sent = sum(r.sent for r in run.results)
    received = sum(r.received for r in run.results)
    wall = run.wall
    lat = {name: percentile(latencies, pct) * 1000 for name, pct in PERCENTILES}
    lat["mean"] = sum(latencies) / len(latencies) * 1000 if latencies else 0.0
    lat["max"] = latencies[-1] * 1000 if latencies else 0.0
    cpus = os.cpu_count() or 1
    client_cpu = None if in_process or not wall else sum(r.cpu for r in run.results) / (wall * cpus)
    cpu_ms = None
    if received and in_process:
        cpu_ms = {"service": sum(r.cpu for r in run.results) / received * 1000}
    elif received and server_cpu:
        cpu_ms = {"service": server_cpu[1] / received * 1000, "broker": server_cpu[0] / received * 1000}
    return Row(
        label=label,
        workload=workload,
        clients=run.clients,
        workers=workers,
        requests=received,
        sent=sent,
        errors=sum(errors.values()),
        error_kinds=dict(errors.most_common()),
        fe_errors=sum(fe_errors.values()),
        fe_error_kinds=dict(fe_errors.most_common()),
        lost=sent - received,
        wall_s=wall,
        throughput=received / wall if wall else 0.0,
        latency_ms=lat,
        client_cpu_share=client_cpu,
        cpu_ms_per_request=cpu_ms,
    )


def ratios(rows: list[Row], workers: int, hold: float | None = None) -> list[tuple[str, float, str]]:
    """(name, value, how it is computed) for the rows present: scaling, efficiency, broker cost;
    with `hold` (seconds each request keeps a worker), throughput against workers / hold."""
    by = {row.label: row for row in rows}
    out = []
    if hold:
        for row in rows:
            if row.workers and row.throughput:
                out.append(
                    (
                        f"{row.label} / ideal ({row.workers} / {hold:g} s)",
                        row.throughput * hold / row.workers,
                        "scale-out: how close the broker keeps every worker busy",
                    )
                )
    inproc, one, many, rep = (by.get(k) for k in ("in-process", "1 worker", f"{workers} workers", "bare REP"))
    cores = min(workers, os.cpu_count() or 1)
    if one and many and one.throughput and workers > 1:
        out.append((f"{workers} workers / 1 worker", many.throughput / one.throughput, "scaling"))
    if inproc and inproc.throughput:
        best = many or one
        if best:
            n = cores if best is many else 1
            out.append(
                (
                    f"{best.label} / ({n} x in-process)",
                    best.throughput / (n * inproc.throughput),
                    f"efficiency: {n} core(s) x the per-core limit",
                )
            )
    base = inproc.cpu_ms_per_request if inproc else None
    for candidate in (one, many):
        cost = candidate.cpu_ms_per_request if candidate else None
        if candidate and base and cost and base["service"]:
            out.append(
                (
                    f"{candidate.label}: worker CPU per request / in-process",
                    cost["service"] / base["service"],
                    "what a request costs a worker beyond the service call",
                )
            )
    if rep and rep.throughput:
        for candidate in (one, many):
            if candidate:
                out.append((f"{candidate.label} / bare REP", candidate.throughput / rep.throughput, "broker hop cost"))
    return out


def to_json(rows: list[Row], ratio_list: list[tuple[str, float, str]]) -> dict[str, Any]:
    """One workload's rows and ratios, JSON-ready."""
    return {
        "runs": [asdict(r) for r in rows],
        "ratios": [{"name": n, "value": v, "meaning": m} for n, v, m in ratio_list],
    }


# ---- presentation --------------------------------------------------------------------------------

LATENCY_HEADERS = ("target", "clients", "requests", "errors", "req/s", "p50", "p90", "p99", "p99.9")
CPU_HEADERS = ("target", "client CPU share", "worker CPU ms/req", "broker CPU ms/req")
CPU_CAPTION = (
    "client CPU share: of all cores, used by the load generator; worker/broker CPU: per request, "
    "in the server's processes, zmq I/O threads included (in-process: the loop itself)"
)


def _latency_cells(row: Row) -> list[str]:
    lat = row.latency_ms
    errors = str(row.errors) + (f" (+{row.fe_errors} FE)" if row.fe_errors else "")
    clients = "-" if row.label == "in-process" else str(row.clients)
    return [
        row.label,
        clients,
        str(row.requests),
        errors,
        f"{row.throughput:,.0f}",
        *(f"{lat[name]:.2f}" for name, _ in PERCENTILES),
    ]


def _cpu_cells(row: Row) -> list[str]:
    share = "-" if row.client_cpu_share is None else f"{row.client_cpu_share:.0%}"
    costs = row.cpu_ms_per_request or {}
    return [row.label, share, *(f"{costs[k]:.3f}" if k in costs else "-" for k in ("service", "broker"))]


def _error_lines(rows: list[Row]) -> Iterator[str]:
    for row in rows:
        for kind, count in row.error_kinds.items():
            yield f"{row.label}: {count} x {kind}"
        for kind, count in row.fe_error_kinds.items():
            yield f"{row.label}: {count} x field_engine.error: {kind}"


def render(title: str, rows: list[Row], ratio_list: list[tuple[str, float, str]], plain: bool = False) -> None:
    """Two tables on stdout (throughput and latency; where the CPU goes), then ratios and error kinds."""
    console = None if plain else _rich_console()
    notes = [f"{name}: {value:.2f}  ({meaning})" for name, value, meaning in ratio_list]
    tables = (
        (title + "\nlatency in ms", LATENCY_HEADERS, [_latency_cells(r) for r in rows], None),
        ("where the CPU goes", CPU_HEADERS, [_cpu_cells(r) for r in rows], CPU_CAPTION),
    )
    if console is None:
        for heading, headers, body, caption in tables:
            print(heading)
            widths = [max(len(h), *(len(cells[k]) for cells in body)) for k, h in enumerate(headers)]
            for cells in (list(headers), *body):
                print("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths))))
            if caption:
                print(caption)
        for line in [*notes, *_error_lines(rows)]:
            print(line)
        return
    from rich import box
    from rich.table import Table

    for heading, headers, body, caption in tables:
        table = Table(
            title=heading,
            title_justify="left",
            caption=caption,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for k, header in enumerate(headers):
            table.add_column(header, justify="left" if k == 0 else "right")
        for row, cells in zip(rows, body):
            table.add_row(*cells, style="red" if row.errors or row.lost else None)
        console.print(table)
    for line in notes:
        console.print(line, highlight=False)
    for line in _error_lines(rows):
        console.print(f"[red]{line}[/red]", highlight=False)


def _rich_console() -> Any:
    try:
        from rich.console import Console
    except ImportError:
        return None
    # Off a terminal rich would squeeze the table into 80 columns; logs can be wider.
    return Console() if sys.stdout.isatty() else Console(width=120)


class Progress:
    """A live progress bar on stderr (rich when available and a terminal; silent otherwise)."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress = None
        if enabled and sys.stderr.isatty():
            try:
                from rich.console import Console
                from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
                from rich.progress import Progress as RichProgress
            except ImportError:
                return
            self._progress = RichProgress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                TextColumn("{task.fields[rate]:>12}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()

    def task(self, description: str, total: float, by_requests: bool) -> Callable[[int, float], None]:
        """A callback `(requests so far, seconds so far)` advancing one bar."""
        if self._progress is None:
            return lambda done, elapsed: None
        progress = self._progress
        task_id = progress.add_task(description, total=total, rate="")

        def update(done: int, elapsed: float) -> None:
            rate = f"{done / elapsed:,.0f} req/s" if elapsed > 0 else ""
            progress.update(task_id, completed=min(done if by_requests else elapsed, total), rate=rate)

        return update

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
