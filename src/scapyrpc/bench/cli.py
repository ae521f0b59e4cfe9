"""`python -m scapyrpc.bench` / `scapyrpc bench`: size a deployment with honest, side-by-side figures."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scapyrpc.bench import scenarios, workloads
from scapyrpc.bench.baselines import bare_rep, run_inprocess
from scapyrpc.bench.loadgen import BenchError, Plan, RunResult, connect, run_clients
from scapyrpc.bench.report import Progress, Row, ratios, render, summarise, to_json
from scapyrpc.cli.client_options import add_curve_options
from scapyrpc.testing import LaunchError, ManagedServer
from scapyrpc.wire.curve import KeyFileError, client_keys

__all__ = ["main"]

CPUS = os.cpu_count() or 1


def build_parser(prog: str = "python -m scapyrpc.bench") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Closed-loop load test of a Scapy Server: N client processes, each a ZMQ REQ socket "
        "doing the GUI handshake and sending prepared requests back to back.",
        epilog="workloads: "
        + "; ".join(f"{k}: {v}" for k, v in workloads.DESCRIPTIONS.items())
        + ". scenarios: "
        + "; ".join(f"{k}: {v}" for k, v in scenarios.DESCRIPTIONS.items()),
    )
    parser.add_argument(
        "-w",
        "--workload",
        action="extend",
        nargs="+",
        choices=workloads.WORKLOADS,
        metavar="WORKLOAD",
        help="workload(s) to run, one table each (default: build; the workloads are listed below)",
    )
    parser.add_argument(
        "-s",
        "--scenario",
        action="extend",
        nargs="+",
        choices=scenarios.SCENARIOS,
        metavar="SCENARIO",
        help="scenario(s) to run: one client's latency while others load a server this tool starts "
        "(--workers); with -s, workloads run only if -w is given (the scenarios are listed below)",
    )
    parser.add_argument(
        "-d", "--duration", type=float, default=5.0, help="seconds of timed window per configuration (default 5)"
    )
    parser.add_argument(
        "-n",
        "--requests",
        type=int,
        default=0,
        help="run this many requests in total per configuration instead of --duration (default 0: --duration decides)",
    )
    parser.add_argument(
        "-c", "--clients", type=int, default=2 * CPUS, help=f"client processes (default 2 x CPUs = {2 * CPUS})"
    )
    parser.add_argument(
        "--workers", type=int, default=CPUS, help=f"workers of the server this tool starts (default CPUs = {CPUS})"
    )
    parser.add_argument(
        "-e",
        "--endpoint",
        default=None,
        help="measure a running server (any compatible implementation), e.g. tcp://host:4507",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="in one run: the in-process service loop (per-core limit), 1 worker and "
        "--workers workers (plus --endpoint if given), with ratios",
    )
    parser.add_argument(
        "--baseline-rep",
        action="store_true",
        help="also run a bare single-process REP loop (always with --compare for version)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per client (default 20)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="client receive timeout in seconds; a timeout counts as a lost reply (default 15)",
    )
    parser.add_argument("--json", metavar="FILE", default=None, help="write the results as JSON ('-' = stdout)")
    parser.add_argument("--plain", action="store_true", help="plain-text table even when rich is installed")
    parser.add_argument("--no-progress", action="store_true", help="no live progress bar")
    add_curve_options(parser)
    return parser


@dataclass
class Config:
    """One column of the comparison: how to get a target, and how to label it."""

    label: str
    kind: str  # inprocess | server | endpoint | rep
    workers: int | None = None


def configurations(args: argparse.Namespace, workload: str) -> list[Config]:
    configs: list[Config] = []
    if args.compare and workload not in workloads.NEEDS_TEST_METHODS:
        configs.append(Config("in-process", "inprocess"))
        for n in dict.fromkeys((1, args.workers)):
            configs.append(Config(worker_label(n), "server", n))
    elif not args.endpoint:
        configs.append(Config(worker_label(args.workers), "server", args.workers))
    if args.baseline_rep or (args.compare and workload == "version"):
        configs.append(Config("bare REP", "rep"))
    if args.endpoint:
        configs.append(Config(args.endpoint, "endpoint"))
    return configs


def worker_label(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


class Runner:
    """Runs the configurations of each workload; frames are prepared once per (workload, handler)."""

    def __init__(
        self, args: argparse.Namespace, progress: Progress, curve: tuple[bytes, bytes, bytes] | None = None
    ) -> None:
        self.args = args
        self.progress = progress
        self.curve = curve  # keys for the --endpoint server (the servers this tool starts have none)
        self._frames: dict[tuple[str, str], list[bytes]] = {}

    def _keys(self, endpoint: str) -> tuple[bytes, bytes, bytes] | None:
        return self.curve if endpoint == self.args.endpoint else None

    def plan(self, workload: str, endpoint: str, handler: str) -> Plan:
        key = (workload, handler)
        if key not in self._frames:
            self._frames[key] = workloads.prepare(workload, handler)
        return Plan(
            endpoint=endpoint,
            frames=self._frames[key],
            duration=self.args.duration,
            requests=self.args.requests,
            warmup=self.args.warmup,
            timeout_ms=int(self.args.timeout * 1000),
            check_field_engine=workload == "build_ex",
            curve=self._keys(endpoint),
        )

    def _tick(self, label: str) -> Callable[[int, float], None]:
        by_requests = bool(self.args.requests)
        return self.progress.task(label, self.args.requests if by_requests else self.args.duration, by_requests)

    def _clients(
        self, workload: str, endpoint: str, label: str, server: ManagedServer | None = None
    ) -> tuple[RunResult, tuple[float, float] | None]:
        """Run the clients; for a server we started, also its CPU seconds (broker, workers) in the window."""
        handler = connect(endpoint, curve=self._keys(endpoint))
        tick = self._tick(label)
        before: list[tuple[float, float] | None] = []

        def on_progress(done: int, elapsed: float) -> None:
            if server is not None and not before:
                before.append(server.cpu_seconds())  # first call: the barrier has just released the clients
            tick(done, elapsed)

        result = run_clients(self.plan(workload, endpoint, handler), self.args.clients, on_progress)
        after = server.cpu_seconds() if server is not None else None
        if not before or before[0] is None or after is None:
            return result, None
        return result, (after[0] - before[0][0], after[1] - before[0][1])

    def run(self, workload: str, config: Config) -> Row:
        label = f"{workload}: {config.label}"
        if config.kind == "inprocess":
            from scapyrpc.wire.contract import API_MAJOR, API_MINOR, version_handler

            plan = self.plan(workload, "", version_handler(API_MAJOR, API_MINOR))
            return summarise(config.label, workload, run_inprocess(plan, self._tick(label)), None, in_process=True)
        cpu = None
        if config.kind == "server":
            extra = ("--test-methods",) if workload in workloads.NEEDS_TEST_METHODS else ()
            with ManagedServer(config.workers or 1, extra_args=extra) as server:
                result, cpu = self._clients(workload, server.endpoint, label, server)
        elif config.kind == "rep":
            with bare_rep() as endpoint:
                result, _ = self._clients(workload, endpoint, label)
        else:
            result, _ = self._clients(workload, config.label, label)
        return summarise(config.label, workload, result, config.workers, server_cpu=cpu)


def machine_busy(seconds: float = 0.5) -> float:
    """Share of all CPUs busy over a short sample (psutil), else the load average per CPU."""
    try:
        import psutil
    except ImportError:
        return os.getloadavg()[0] / CPUS
    busy: float = psutil.cpu_percent(interval=seconds)
    return busy / 100


def metadata(args: argparse.Namespace, load_at_start: float) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def dist(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "scapyrpc": dist("scapyrpc"),
        "scapy": dist("scapy"),
        "pyzmq": dist("pyzmq"),
        "python": platform.python_version(),
        "cpus": CPUS,
        "platform": platform.platform(),
        "cpu_busy_before_start": round(load_at_start, 3),
        "args": {k: v for k, v in vars(args).items() if k not in ("json",)},
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    args.scenario = list(dict.fromkeys(args.scenario or []))
    args.workload = list(dict.fromkeys(args.workload or ([] if args.scenario else ["build"])))
    for name in ("clients", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.duration <= 0 or args.requests < 0 or args.timeout <= 0 or args.warmup < 0:
        parser.error("--duration and --timeout must be positive, --requests and --warmup not negative")
    if args.requests and args.requests < args.clients:
        parser.error("--requests must be at least --clients")


def main(argv: list[str] | None = None, prog: str = "python -m scapyrpc.bench") -> int:
    """Run the benchmark; returns the exit code (2 for a user error, with a message, no traceback).

    `prog` is how help and errors name the command (`scapyrpc bench` from the console script).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    _validate(parser, args)
    curve = None
    if args.endpoint:
        try:
            if args.curve_server_key is not None:
                curve = client_keys(args.curve_server_key, args.curve_secret_key)
            connect(args.endpoint, curve=curve)  # fail fast, before anything is started
        except KeyFileError as exc:
            print(f"scapyrpc bench: error: {exc}", file=sys.stderr)
            return 2
        except BenchError as exc:
            print(f"scapyrpc bench: error: {args.endpoint}: {exc}", file=sys.stderr)
            return exc.code
    busy = machine_busy()
    if busy > 0.25:
        print(
            f"scapyrpc bench: warning: the CPUs were {busy:.0%} busy before starting; other processes "
            "will share the cores and lower every figure",
            file=sys.stderr,
        )
    progress = Progress(enabled=not args.no_progress)
    runner = Runner(args, progress, curve)
    results: list[tuple[str, list[Row]]] = []
    scenario_results: list[scenarios.ScenarioResult] = []
    try:
        for workload in args.workload:
            results.append((workload, [runner.run(workload, c) for c in configurations(args, workload)]))
        for name in args.scenario:
            scenario_results.append(scenarios.run(name, args.workers, args.duration, args.timeout))
    except BenchError as exc:
        progress.close()
        print(f"scapyrpc bench: error: {exc}", file=sys.stderr)
        return exc.code
    except LaunchError as exc:
        progress.close()
        print(f"scapyrpc bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.close()
        print("scapyrpc bench: interrupted", file=sys.stderr)
        return 130
    progress.close()
    return _report(args, results, busy, scenario_results)


def _report(
    args: argparse.Namespace,
    results: list[tuple[str, list[Row]]],
    load_at_start: float,
    scenario_results: list[scenarios.ScenarioResult] | None = None,
) -> int:
    window = f"{args.requests} requests" if args.requests else f"{args.duration:g} s"
    document = {"meta": metadata(args, load_at_start), "workloads": {}}
    for workload, rows in results:
        ratio_list = ratios(rows, args.workers, workloads.HOLD_SECONDS if workload == "hold" else None)
        title = (
            f"{workload} - {workloads.DESCRIPTIONS[workload]}\n"
            f"{window} per configuration, {args.clients} clients, {CPUS} CPUs"
        )
        render(title, rows, ratio_list, plain=args.plain)
        document["workloads"][workload] = to_json(rows, ratio_list)
    if scenario_results:
        scenarios.render(scenario_results)
        document["scenarios"] = scenarios.to_json(scenario_results)
    if args.json:
        text = json.dumps(document, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    failed = any(row.lost for _, rows in results for row in rows) or any(r.lost for r in scenario_results or ())
    return 1 if failed else 0
