"""`scapyrpc serve | worker | ping | call | bench`: the command line (also `python -m scapyrpc`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import call, ping
from .commands import HelpFormatter
from .limits import MiB
from .version import VersionAction


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the Scapy Server (broker + local workers)",
                           formatter_class=HelpFormatter)
    serve.add_argument("-p", "--scapy-port", "-s", dest="port", type=int, default=4507,
                       help="port to listen on (-s is the seed's spelling)")
    serve.add_argument("--bind", default="*", help="address to bind (* = all interfaces)")
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="local worker processes (0 = remote workers only)")
    serve.add_argument("--backend", default=None,
                       help="endpoint workers connect to, e.g. tcp://*:4508 for remote workers "
                            "(default: a private ipc:// endpoint)")
    serve.add_argument("--request-timeout", type=float, default=10.0, help="per-request deadline in seconds")
    serve.add_argument("--max-queue", type=int, default=1000, help="requests waiting for a worker before 'busy' (one client may hold at most half)")
    serve.add_argument("--max-request-bytes", type=int, default=16 * MiB, help="largest request accepted")
    serve.add_argument("--max-requests-per-worker", type=int, default=0, help="recycle a worker after N requests")
    serve.add_argument("--max-worker-rss-mb", type=int, default=0, help="recycle a worker above this memory")
    serve.add_argument("--max-payload-bytes", type=int, default=1 * MiB, help="largest generated payload")
    serve.add_argument("--max-pcap-bytes", type=int, default=64 * MiB, help="largest pcap accepted")
    serve.add_argument("--max-pcap-packets", type=int, default=100_000, help="most packets read from a pcap")
    serve.add_argument("--test-methods", action="store_true", help=argparse.SUPPRESS)
    _common(serve)


def _worker_parser(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser("worker", help="join a broker's pool from this host", formatter_class=HelpFormatter,
                            description="Serve a broker's requests from this host (the broker runs with "
                                        "--backend tcp://*:PORT); SIGTERM or Ctrl+C stops it after the "
                                        "request in hand.")
    worker.add_argument("--connect", required=True, help="the broker's worker endpoint, e.g. tcp://host:4508")
    worker.add_argument("--max-requests-per-worker", type=int, default=0,
                        help="start afresh after N requests (0 = never)")
    worker.add_argument("--max-worker-rss-mb", type=int, default=0,
                        help="start afresh once its memory is above MB after a request (0 = never)")
    worker.add_argument("--test-methods", action="store_true", help=argparse.SUPPRESS)
    _common(worker)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request and worker event")
    parser.add_argument("-l", "--log", metavar="FILE", default=None, help="also append logs to FILE")


def _setup_logging(verbose: bool, log_file: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=handlers,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        from .bench import main as bench_main

        return bench_main(argv[1:], prog="scapyrpc bench")
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "serve")  # `scapyrpc -p 4507` and `python -m scapyrpc` mean serve
    parser = argparse.ArgumentParser(prog="scapyrpc", description="scapyrpc: the TRex Scapy Server, rebuilt")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _worker_parser(sub)
    ping.add_parser(sub)
    call.add_parser(sub)
    sub.add_parser("bench", help="load-test a server (see `scapyrpc bench --help`)")
    args = parser.parse_args(argv)
    if hasattr(args, "run"):  # ping, call
        return args.run(args)
    try:
        _setup_logging(args.verbose, args.log)
    except OSError as exc:  # e.g. -l in a directory this user cannot write
        print(f"scapyrpc {args.command}: cannot open the log file {args.log}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    if args.command == "worker":
        return _run_worker(args)
    from .server import ScapyServer, ServerConfig

    config = ServerConfig(
        port=args.port, bind=args.bind, workers=args.workers, backend=args.backend,
        request_timeout=args.request_timeout, max_queue=args.max_queue,
        max_request_bytes=args.max_request_bytes, max_requests_per_worker=args.max_requests_per_worker,
        max_worker_rss_mb=args.max_worker_rss_mb, max_payload_bytes=args.max_payload_bytes,
        max_pcap_bytes=args.max_pcap_bytes, max_pcap_packets=args.max_pcap_packets,
        test_methods=args.test_methods,
    )
    import zmq

    try:
        return ScapyServer(config=config).activate()
    except (OSError, zmq.ZMQError) as exc:  # port taken, bad address
        print(f"scapyrpc: cannot serve on {config.frontend}: {exc}", file=sys.stderr)
        return 2


def _run_worker(args: argparse.Namespace) -> int:
    from .worker import WorkerOptions, run

    options = WorkerOptions(
        backend=args.connect,
        max_requests=args.max_requests_per_worker,
        max_rss_bytes=args.max_worker_rss_mb * MiB,
        reconnect=True,
        test_methods=args.test_methods,
        stop_on_interrupt=True,
    )
    while run(options) == "retired":  # a remote worker retired for recycling starts afresh
        continue
    return 0  # stopped by SIGTERM or Ctrl+C after answering the request in hand


if __name__ == "__main__":
    sys.exit(main())
