"""The zygote: a process that has imported Scapy and built every cache, and forks warm workers.

Started by the pool (`python -m scapyrpc.pool.zygote BROKER_PID` with its control
socket on descriptor 3, whose first line is the workers' spec in JSON: where
to connect, their configuration, keys, and the broker's logging, which the
zygote sets up before forking so every worker logs alike). It says `ready`,
then forks a worker for each byte it reads and answers with the worker's pid.
Each worker is forked twice so that it is orphaned at once and re-parented
to the broker (a child subreaper): the
broker is then its parent, reaps it and watches it by pid, and the zygote
dying costs no worker anything. The zygote never creates a ZeroMQ context, so
no worker inherits a socket.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
from typing import Any

from scapyrpc.pool import procctl

__all__ = ["CONTROL_FD", "READY"]

CONTROL_FD = 3
READY = b"ready\n"


def main(argv: list[str]) -> int:
    broker_pid = int(argv[0])
    procctl.set_name("scapyrpc-zygote")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the broker's to handle
    if not procctl.die_with_parent(broker_pid):
        return 0
    control = socket.socket(fileno=CONTROL_FD)
    with control.makefile("rb", buffering=0) as first_line:
        spec = json.loads(first_line.readline())
    _configure_logging(spec["log"])
    from scapyrpc.packets import service

    service.warm_up()  # Scapy loaded and every cache built, once, before any fork

    gc.freeze()  # forked workers then never touch these pages to count references
    control.sendall(READY)
    while True:
        try:
            orders = control.recv(64)
        except OSError:
            return 0
        if not orders:  # the broker closed its end: stop
            return 0
        answer = b"".join(_fork_worker(broker_pid, spec, control) for _ in orders)
        control.sendall(answer)


def _configure_logging(log: dict[str, Any]) -> None:
    """The broker's logging in this process and the workers it forks; stderr only if the file will not open."""
    from scapyrpc.config.options import LogConfig, from_mapping
    from scapyrpc.ops import logs

    config = from_mapping(LogConfig, log)
    try:
        logs.configure(config)
    except OSError as exc:
        logs.configure(dataclasses.replace(config, log_file=None))
        logging.getLogger("scapyrpc.pool").warning(
            "workers log to stderr only: cannot open %s: %s", config.log_file, exc
        )


def _fork_worker(broker_pid: int, spec: dict[str, Any], control: socket.socket) -> bytes:
    """Fork twice; the grandchild becomes the worker. Returns b"PID\\n" or b"error ...\\n"."""
    read_end, write_end = os.pipe()
    try:
        child = os.fork()
    except OSError as exc:
        os.close(read_end)
        os.close(write_end)
        return f"error {exc}\n".encode()
    if child == 0:  # the short-lived middle process
        status = 1
        # SIGTERM waits (blocked, not lost) until the worker's handler is in place (worker.run):
        # a worker stopped while it starts still leaves as a worker does, with exit 0
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            os.close(read_end)
            worker = os.fork()
            if worker == 0:
                os.close(write_end)
                control.close()
                status = _become_worker(broker_pid, spec)
            else:
                os.write(write_end, str(worker).encode())
                status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)  # never back into the zygote's loop
    os.close(write_end)
    pid = b""
    while chunk := os.read(read_end, 32):
        pid += chunk
    os.close(read_end)
    os.waitpid(child, 0)
    return pid + b"\n" if pid else b"error fork of the worker failed\n"


def _become_worker(broker_pid: int, spec: dict[str, Any]) -> int:
    """In the grandchild: wait to be adopted by the broker, then serve until told to stop."""
    end = time.monotonic() + 5.0
    while os.getppid() != broker_pid:  # the middle process is exiting; the subreaper adopts us
        if time.monotonic() > end or os.getppid() == 1:
            return 1  # not adopted: the broker is gone
        time.sleep(0.0005)
    if not procctl.die_with_parent(broker_pid):
        return 1
    procctl.set_name("scapyrpc-worker")
    from scapyrpc.config.options import WorkerConfig, from_mapping
    from scapyrpc.worker.main import WorkerOptions, run

    curve = tuple(key.encode() for key in spec["curve"]) if spec["curve"] else None
    run(WorkerOptions(backend=spec["backend"], config=from_mapping(WorkerConfig, spec["config"]), curve=curve))
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
