"""What the `scapyrpc` subcommands for humans share: help that shows defaults, the default
endpoint, a seconds option, and one clear line (never a traceback) when something fails."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypedDict

__all__ = [
    "DEFAULT_ENDPOINT",
    "CurveOptions",
    "HelpFormatter",
    "add_curve_options",
    "answered",
    "curve_options",
    "fail",
    "seconds",
]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:4507"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, except the ones that say nothing (None, off switches)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600 seconds: {text!r}")
    return value


def add_curve_options(parser: argparse.ArgumentParser) -> None:
    """--curve-server-key / --curve-secret-key: talk to a server that requires CurveZMQ."""
    parser.add_argument(
        "--curve-server-key", metavar="FILE", default=None, help="the server's NAME.key: talk CurveZMQ to it"
    )
    parser.add_argument(
        "--curve-secret-key",
        metavar="FILE",
        default=None,
        help="our NAME.key_secret (default: a throwaway pair, if the server admits any client)",
    )


class CurveOptions(TypedDict):
    """ScapyClient's CurveZMQ keyword arguments, as the options give them."""

    curve_server_key: str | None
    curve_secret_key: str | None


def curve_options(args: argparse.Namespace) -> CurveOptions:
    """ScapyClient keyword arguments for the CurveZMQ options."""
    return {"curve_server_key": args.curve_server_key, "curve_secret_key": args.curve_secret_key}


def fail(command: str, message: str, code: int = 1) -> int:
    """Print `scapyrpc COMMAND: message` to stderr and return the exit code."""
    print(f"scapyrpc {command}: {message}", file=sys.stderr)
    return code


def answered(command: str, endpoint: str, timeout: float, talk: Callable[[], int]) -> int:
    """Run `talk` (a conversation with the server); every way the server can fail to answer
    becomes one line on stderr and exit 1 (2 for an endpoint that is not one)."""
    import zmq

    from scapyrpc.client import ScapyRpcError, ScapyTimeout
    from scapyrpc.wire.curve import KeyFileError

    try:
        return talk()
    except KeyFileError as err:
        return fail(command, str(err), 2)
    except ScapyTimeout:
        return fail(command, f"no reply from {endpoint} within {timeout:g} s")
    except ScapyRpcError as err:
        return fail(command, f"{err.code} {err.message}" if err.code else err.message)
    except zmq.ZMQError as err:
        return fail(command, f"cannot connect to {endpoint!r}: {err}", 2)
    except (ValueError, KeyError, TypeError, AttributeError):  # a reply that is not JSON-RPC from a Scapy Server
        return fail(command, f"{endpoint} did not answer like a Scapy Server")
