"""`python -m scapyrpc.bench`: the load test users size a scapyrpc deployment with.

See `python -m scapyrpc.bench --help` and benchmarks/README.md.
"""

from __future__ import annotations

from scapyrpc.bench.cli import main

__all__ = ["main"]
