"""benchmarks/soak.py, briefly: it finds the workers to kill, and every request of both its
GUI-like and its hostile client is answered while they are killed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import soak  # noqa: E402


def test_a_short_soak_kills_workers_and_loses_no_reply(capsys: pytest.CaptureFixture[str]) -> None:
    code = soak.main(["--duration", "4", "--clients", "2", "--kill-every", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    killed, started = map(int, re.search(r"workers: (\d+) killed, (\d+) started, 0 exited without", out).groups())
    # The last kill's replacement may still be starting when the counts are taken; that the pool is
    # whole again is the last line's "workers at the end".
    assert killed >= 2 and started >= killed - 1, out
    gui = re.search(r"GUI-like clients: +sent (\d+), received (\d+)", out).groups()
    hostile = re.search(r"hostile client: +sent (\d+), received (\d+)", out).groups()
    assert gui[0] == gui[1] and int(gui[0]) > 0, out
    assert hostile[0] == hostile[1] and int(hostile[0]) > 0, out
    assert "unexpected replies: 0" in out and "workers at the end: 2 of 2" in out
