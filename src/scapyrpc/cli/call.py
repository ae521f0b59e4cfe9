"""`scapyrpc call METHOD [PARAM ...]`: one request to a Scapy Server, as the GUI makes it.

It does the GUI's version handshake, puts the handler first where the GUI would, and
pretty-prints the result; `--hex` shows a packet result as an annotated hexdump instead, and
`--out FILE` writes a result's text (export_profile) or base64 file (write_pcap, a pcap
simulate_vm, get_template) into FILE. A parameter `@FILE` is that file's text (`@-`: standard
input), as import_profile takes a profile. An error reply is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from pathlib import Path
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
        "  scapyrpc call supported_methods all\n"
        '  scapyrpc call export_profile \'[{"model": [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]}]\' '
        '\'{"format": "python"}\' --out udp.py\n'
        "  scapyrpc call import_profile @profile.yaml",
    )
    parser.add_argument("method", metavar="METHOD", help="the method name, e.g. build_pkt")
    parser.add_argument(
        "params",
        metavar="PARAM",
        nargs="*",
        type=_param,
        help="one parameter each, as JSON; text that is not JSON and does not start "
        'with [ { or " is a string; @FILE is the text of FILE (@-: standard input) '
        "(the version handler is added for you)",
    )
    parser.add_argument("-e", "--endpoint", default=DEFAULT_ENDPOINT, help="the server to call")
    parser.add_argument("--timeout", type=seconds, default=10.0, help="seconds to wait for each reply")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--hex", action="store_true", help="print a packet result as a hexdump with its layer boundaries"
    )
    output.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="write the result's text (export_profile) or base64 file (write_pcap, simulate_vm's pcap, "
        "get_template) into FILE, decoded",
    )
    add_curve_options(parser)
    parser.set_defaults(run=run)


def _param(text: str) -> Any:
    if text.startswith("@"):
        return _file_text(text[1:])
    try:
        return json.loads(text)
    except ValueError as exc:
        if text.lstrip()[:1] in ("[", "{", '"'):
            raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text}") from None
        return text


def _file_text(name: str) -> str:
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None


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
    if args.out is not None:
        return _write(args, result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _payload(result: Any) -> bytes:
    """What --out writes: a result's `text`, or its file as base64 (the result itself, or its `pcap`)."""
    if isinstance(result, dict) and isinstance(result.get("text"), str):
        return str(result["text"]).encode("utf-8")
    encoded = result.get("pcap") if isinstance(result, dict) else result
    if isinstance(encoded, str):
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise ValueError("the result has no text or base64 file to write")


def _write(args: argparse.Namespace, result: Any) -> int:
    try:
        data = _payload(result)
        args.out.write_bytes(data)
    except ValueError as exc:
        return fail(f"call {args.method}", f"--out: {exc}")
    except OSError as exc:
        return fail(f"call {args.method}", f"--out: cannot write {args.out}: {exc.strerror or exc}")
    print(f"{args.out}: {len(data)} bytes")
    return 0
