"""`scapyrpc serve | worker | bench`: the command line (also `python -m scapyrpc`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .limits import MiB


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the Scapy Server (broker + local workers)")
    serve.add_argument("-p", "--scapy-port", "-s", dest="port", type=int, default=4507,
                       help="port to listen on (default 4507; -s is the seed's spelling)")
    serve.add_argument("--bind", default="*", help="address to bind (default: all interfaces)")
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="local worker processes (default: number of CPUs; 0 = remote workers only)")
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
    _http_arguments(serve)
    _common(serve)


def _http_arguments(serve: argparse.ArgumentParser) -> None:
    """The HTTP gateway and browser editor (off by default)."""
    serve.add_argument("--http", dest="http_port", type=int, default=None, metavar="PORT",
                       help="serve the browser editor, POST /rpc and a WebSocket on PORT")
    serve.add_argument("--http-bind", default="127.0.0.1", help="address for --http (default 127.0.0.1)")
    serve.add_argument("--http-token", default=None,
                       help="token every HTTP request must carry (required beyond loopback)")


def _worker_parser(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser("worker", help="join a broker's pool from this host")
    worker.add_argument("--connect", required=True, help="the broker's worker endpoint, e.g. tcp://host:4508")
    worker.add_argument("--max-requests-per-worker", type=int, default=0)
    worker.add_argument("--max-worker-rss-mb", type=int, default=0)
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

        return bench_main(argv[1:])
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")  # `scapyrpc -p 4507` and `python -m scapyrpc` mean serve
    parser = argparse.ArgumentParser(prog="scapyrpc", description="scapyrpc: the TRex Scapy Server, rebuilt")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _worker_parser(sub)
    sub.add_parser("bench", help="load-test a server (see `scapyrpc bench --help`)")
    args = parser.parse_args(argv)
    if getattr(args, "http_port", None) is not None and not args.http_token:
        from .http_gateway import is_loopback

        if not is_loopback(args.http_bind):
            parser.error(f"--http-bind {args.http_bind} is beyond loopback: --http-token is required")
    _setup_logging(args.verbose, args.log)
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
        http_port=args.http_port, http_bind=args.http_bind, http_token=args.http_token,
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
    )
    while True:  # a remote worker retired for recycling starts afresh
        run(options)
        if not (options.max_requests or options.max_rss_bytes):
            return 0


if __name__ == "__main__":
    sys.exit(main())
