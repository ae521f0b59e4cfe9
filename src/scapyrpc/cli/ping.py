"""`scapyrpc ping`: is a Scapy Server answering? Exit 0 with its version and the round trip, else 1.

What the container HEALTHCHECK runs: `get_version` goes through the broker to a worker, so
a server whose workers are all gone does not pass.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from scapyrpc.cli.client_options import (
    DEFAULT_ENDPOINT,
    CurveOptions,
    HelpFormatter,
    add_curve_options,
    answered,
    curve_options,
    seconds,
)

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "ping",
        help="check that a server answers (exit 0) or not (exit 1)",
        description="Send get_version; print the server's version and the round trip.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-e", "--endpoint", default=DEFAULT_ENDPOINT, help="the server to ask")
    parser.add_argument("--timeout", type=seconds, default=3.0, help="seconds to wait for the reply")
    add_curve_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return answered(
        "ping", args.endpoint, args.timeout, lambda: _ping(args.endpoint, args.timeout, curve_options(args))
    )


def _ping(endpoint: str, timeout: float, curve: CurveOptions) -> int:
    from scapyrpc.client import ScapyClient

    with ScapyClient(endpoint, timeout_ms=max(1, round(timeout * 1000)), handshake=False, **curve) as cli:
        start = time.perf_counter()
        version = cli.get_version()
        elapsed = time.perf_counter() - start
    built_by = version.get("built_by") or "a Scapy Server"
    print(f"{endpoint}: {built_by}, API {version['version']}, {elapsed * 1000:.1f} ms")
    return 0
