"""Run a server under a child subreaper and report what it leaves behind (used by test_supervision).

    python tests/reaper_probe.py ACTION [server args...]

ACTION is sigterm, sigint, shutdown or kill9. Orphans of the server (a child it did not reap
before exiting, or a worker still running after a kill -9) are re-parented to this process, so
they can be seen and timed. Prints one JSON object: the server's exit code, the pids it had, how
long its descendants took to disappear, and any that remained (pid, name, status).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import psutil

from scapyrpc.client import ScapyClient
from scapyrpc.pool import procctl
from scapyrpc.testing import ManagedServer


def main(action: str, args: list[str]) -> dict:
    assert procctl.become_subreaper()
    srv = ManagedServer(workers=2, extra_args=tuple(args))
    with ScapyClient(srv.endpoint, timeout_ms=20000) as cli:
        cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])
        tree = {p.pid: p.name() for p in psutil.Process(srv.pid).children(recursive=True)}
        started = time.monotonic()
        if action == "shutdown":
            cli.shut_down()
        else:
            os.kill(srv.pid, {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT, "kill9": signal.SIGKILL}[action])
    code = srv.proc.wait(30)
    left_at_exit = [(p.pid, p.name(), p.status()) for p in psutil.Process().children()]
    while psutil.Process().children() and time.monotonic() - started < 10:
        procctl.reap()
        time.sleep(0.01)
    gone_after = time.monotonic() - started
    procctl.reap()
    srv.stop()
    return {
        "code": code,
        "tree": tree,
        "left_at_exit": left_at_exit,
        "gone_after": gone_after,
        "left_after_10s": [(p.pid, p.name()) for p in psutil.Process().children()],
        "stderr": srv.stderr_text()[-2000:],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
