"""The installed version of scapyrpc and of what it runs on, for `get_version` and `scapyrpc --version`."""

from __future__ import annotations

import argparse
import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["PACKAGE_VERSION", "VersionAction", "answers_version"]


def distribution_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # scapyrpc run from a source tree
        return "0+unknown"


PACKAGE_VERSION = distribution_version("scapyrpc")


def answers_version() -> str:
    """What a worker's answers depend on besides their requests: scapyrpc's version and the
    version of the Scapy it imported (workers send it in READY; the broker keeps the replies it
    may give again per such version). Imports Scapy: for workers only."""
    import scapy

    return f"scapyrpc {PACKAGE_VERSION} scapy {scapy.VERSION}"


def describe() -> str:
    """One line an operator can paste into a bug report."""
    return (
        f"scapyrpc {PACKAGE_VERSION} (scapy {distribution_version('scapy')}, "
        f"pyzmq {distribution_version('pyzmq')}, Python {platform.python_version()})"
    )


class VersionAction(argparse.Action):
    """`--version`: print `describe()` and exit (looked up only when asked for)."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str = argparse.SUPPRESS,
        default: str = argparse.SUPPRESS,
        help: str = "show the versions and exit",
    ) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(describe())
        parser.exit()
