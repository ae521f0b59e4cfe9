"""`scapyrpc call METHOD [PARAM ...]`: one request to a Scapy Server, as the GUI makes it.

It does the GUI's version handshake, puts the handler first where the GUI would, and
pretty-prints the result; `--hex` shows a packet result as an annotated hexdump instead.
An error reply is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from scapyrpc.cli.client_options import (
    DEFAULT_ENDPOINT,
    HelpFormatter,
    add_curve_options,
    answered,
    curve_options,
    fail,
    seconds,
)

__all__ = ["add_parser"]


class _ExamplesFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the help, and the examples' lines kept as written."""


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "call",
        help="call one method and print its result",
        formatter_class=_ExamplesFormatter,
        description="Call METHOD with the handshake and handler the GUI uses; print the result as JSON.",
        epilog="examples:\n"
        '  scapyrpc call build_pkt \'[{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}]\' --hex\n'
        '  scapyrpc call get_template \'{"id": "IPv4/TCP"}\'\n'
        "  scapyrpc call supported_methods all",
    )
    parser.add_argument("method", metavar="METHOD", help="the method name, e.g. build_pkt")
    parser.add_argument(
        "params",
        metavar="PARAM",
        nargs="*",
        type=_param,
        help="one parameter each, as JSON; text that is not JSON and does not start "
        'with [ { or " is a string (the version handler is added for you)',
    )
    parser.add_argument("-e", "--endpoint", default=DEFAULT_ENDPOINT, help="the server to call")
    parser.add_argument("--timeout", type=seconds, default=10.0, help="seconds to wait for each reply")
    parser.add_argument(
        "--hex", action="store_true", help="print a packet result as a hexdump with its layer boundaries"
    )
    add_curve_options(parser)
    parser.set_defaults(run=run)


def _param(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        if text.lstrip()[:1] in ("[", "{", '"'):
            raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text}") from None
        return text


def run(args: argparse.Namespace) -> int:
    return answered(f"call {args.method}", args.endpoint, args.timeout, lambda: _call(args))


def _call(args: argparse.Namespace) -> int:
    from scapyrpc.cli.hexdump import annotated_hexdump
    from scapyrpc.client import ScapyClient

    with ScapyClient(args.endpoint, timeout_ms=max(1, round(args.timeout * 1000)), **curve_options(args)) as cli:
        result = cli.invoke(args.method, args.params)
    if args.hex:
        try:
            print(annotated_hexdump(result))
        except ValueError as exc:
            return fail(f"call {args.method}", f"--hex: {exc}")
        return 0
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
