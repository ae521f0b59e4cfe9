"""The `scapyrpc` command line: serve, worker, keygen, ping, call, bench."""

from scapyrpc.cli.main import main

__all__ = ["main"]
