"""`scapyrpc serve | worker | ping | call | bench`: the command line (also `python -m scapyrpc`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from scapyrpc.cli import call, ping
from scapyrpc.cli.client_options import fail
from scapyrpc.config import sources
from scapyrpc.config.options import RemoteWorkerConfig, ServerConfig
from scapyrpc.ops import logs
from scapyrpc.version import VersionAction

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """A usage error is one line (the usage of `serve` alone is a screenful), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _serve_parser(sub: argparse._SubParsersAction[Any]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the Scapy Server (broker + local workers)",
        description="Run the Scapy Server. Every option can also be set by a SCAPYRPC_<OPTION> "
        "environment variable (SCAPYRPC_MAX_QUEUE=500) or in a --config file "
        "(max-queue = 500); an option wins over a variable, a variable over the file.",
    )
    sources.add_arguments(serve, ServerConfig)


def _worker_parser(sub: argparse._SubParsersAction[Any]) -> None:
    worker = sub.add_parser(
        "worker",
        help="join a broker's pool from this host",
        description="Serve a broker's requests from this host (the broker runs with "
        "--backend tcp://*:PORT); SIGTERM or Ctrl+C stops it after the "
        "request in hand.",
    )
    sources.add_arguments(worker, RemoteWorkerConfig)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "serve")  # `scapyrpc -p 4507` and `python -m scapyrpc` mean serve
    parser = _Parser(prog="scapyrpc", description="scapyrpc: the TRex Scapy Server, rebuilt")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _worker_parser(sub)
    ping.add_parser(sub)
    call.add_parser(sub)
    keygen = sub.add_parser("keygen", help="write a CurveZMQ key pair (NAME.key, NAME.key_secret) into DIR")
    keygen.add_argument("directory", metavar="DIR")
    keygen.add_argument("--name", default="scapyrpc", help="file name of the pair (default: scapyrpc)")
    keygen.set_defaults(run=_keygen)
    sub.add_parser("bench", add_help=False, help="load-test a server (see `scapyrpc bench --help`)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":  # its own options and help: `scapyrpc bench --help`
        from scapyrpc.bench import main as bench_main

        return bench_main(rest, prog="scapyrpc bench")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if hasattr(args, "run"):  # ping, call, keygen
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    command = args.command
    try:
        resolved = sources.resolve(
            ServerConfig if command == "serve" else RemoteWorkerConfig, args, os.environ, command
        )
    except sources.SettingsError as exc:
        return fail(command, str(exc), 2)
    for warning in resolved.warnings:
        print(f"scapyrpc {command}: warning: {warning}", file=sys.stderr)
    if args.print_config:
        print(sources.render(resolved, command))
        return 0
    config = resolved.config
    try:
        logs.configure(config.log)
    except OSError as exc:  # e.g. -l in a directory this user cannot write
        return fail(command, f"cannot open the log file {config.log.log_file}: {exc.strerror or exc}", 2)
    if command == "worker":
        return _run_worker(config)
    return _serve(config)


def _serve(config: ServerConfig) -> int:
    from scapyrpc.gateway.app import GatewayConfigError, check_options
    from scapyrpc.ops.metrics import MetricsError
    from scapyrpc.server import ScapyServer

    try:
        check_options(config.http)
    except GatewayConfigError as exc:
        return fail("serve", str(exc), 2)
    import zmq

    from scapyrpc.wire.curve import KeyFileError

    try:
        return ScapyServer(config=config).activate()
    except (KeyFileError, MetricsError) as exc:
        return fail("serve", str(exc), 2)
    except (OSError, zmq.ZMQError) as exc:  # port taken, bad address
        return fail("serve", f"cannot serve on {config.frontend}: {exc}", 2)


def _keygen(args: argparse.Namespace) -> int:
    from scapyrpc.wire.curve import keygen

    try:
        public, secret = keygen(args.directory, args.name)
    except OSError as exc:
        return fail("keygen", f"cannot write into {args.directory}: {exc.strerror or exc}", 2)
    print(f"public key (give it to peers): {public}\nsecret key (keep it):         {secret}")
    return 0


def _run_worker(config: RemoteWorkerConfig) -> int:
    from scapyrpc.wire import curve
    from scapyrpc.worker.main import WorkerOptions, run

    worker_keys = None
    try:
        if (config.curve_server_key is None) != (config.curve_secret_key is None):
            raise curve.KeyFileError("--curve-server-key and --curve-secret-key go together")
        if config.curve_server_key is not None and config.curve_secret_key is not None:
            worker_keys = (curve.public_key(config.curve_server_key), *curve.key_pair(config.curve_secret_key))
    except curve.KeyFileError as exc:
        return fail("worker", str(exc), 2)
    options = WorkerOptions(
        backend=config.connect, config=config.worker, reconnect=True, stop_on_interrupt=True, curve=worker_keys
    )
    while run(options) == "retired":  # a remote worker retired for recycling starts afresh
        continue
    return 0  # stopped by SIGTERM or Ctrl+C after answering the request in hand


if __name__ == "__main__":
    sys.exit(main())
