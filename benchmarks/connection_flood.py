"""Connection flood: what N idle connections do to a server, and whether it still serves.

Starts a server, opens --connections TCP connections to its port as fast as it can (each does
the ZMTP handshake of a DEALER, unless --raw), holds them for --hold seconds, then closes them.
Reports how many connected and how many were refused (a connect that does not complete within
--connect-timeout), the broker's CPU and RSS while they are held and after they are gone, and
whether a new client's get_version is answered during and after the flood.

    python benchmarks/connection_flood.py --connections 15000
    python benchmarks/connection_flood.py --connections 3000 --max-connections 1000
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import socket
import struct
import sys
import time

import psutil

from scapyrpc.client import ScapyClient
from scapyrpc.testing import ManagedServer

# ZMTP 3.0 NULL handshake of a DEALER: greeting, then the READY command. A peer that sends it is a
# complete ZeroMQ connection as far as the server can tell (it never answers heartbeats, though).
_READY = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
ZMTP_HANDSHAKE = (
    b"\xff"
    + b"\x00" * 8
    + b"\x7f"
    + b"\x03\x00"
    + b"NULL"
    + b"\x00" * 16
    + b"\x00"
    + b"\x00" * 31
    + b"\x04"
    + bytes([len(_READY)])
    + _READY
)


def flood(port: int, count: int, timeout: float, greet: bool) -> tuple[list[socket.socket], int]:
    """Open `count` connections (non-blocking, in waves); returns the connected ones and the refusals."""
    sel = selectors.DefaultSelector()
    connected: list[socket.socket] = []
    refused = 0
    pending: dict[socket.socket, float] = {}
    todo = count
    while todo or pending:
        while todo and len(pending) < 500:
            sock = socket.socket()
            sock.setblocking(False)
            try:
                sock.connect_ex(("127.0.0.1", port))
            except OSError:
                sock.close()
                refused += 1
                todo -= 1
                continue
            pending[sock] = time.monotonic() + timeout
            sel.register(sock, selectors.EVENT_WRITE)
            todo -= 1
        for key, _ in sel.select(0.05):
            sock = key.fileobj
            sel.unregister(sock)
            del pending[sock]
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                sock.close()
                refused += 1
                continue
            if greet:
                try:
                    sock.send(ZMTP_HANDSHAKE)
                except OSError:
                    pass
            connected.append(sock)
        now = time.monotonic()
        for sock, end in list(pending.items()):
            if now > end:
                sel.unregister(sock)
                del pending[sock]
                sock.close()
                refused += 1
    return connected, refused


def rtt(endpoint: str) -> float | None:
    try:
        t0 = time.monotonic()
        with ScapyClient(endpoint, timeout_ms=5000, handshake=False) as cli:
            cli.get_version()
        return time.monotonic() - t0
    except Exception:  # noqa: BLE001  (any failure: no answer)
        return None


def cpu_share(proc: psutil.Process, seconds: float) -> float:
    before = sum(proc.cpu_times()[:2])
    time.sleep(seconds)
    return (sum(proc.cpu_times()[:2]) - before) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=15000)
    parser.add_argument("--max-connections", type=int, default=0, help="passed to the server (0: its default)")
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--connect-timeout", type=float, default=1.0)
    parser.add_argument("--raw", action="store_true", help="plain TCP, no ZMTP handshake")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    extra = ("--max-connections", str(args.max_connections)) if args.max_connections else ()
    with ManagedServer(workers=1, extra_args=extra) as srv:
        broker = psutil.Process(srv.pid)
        rss0 = broker.memory_info().rss
        print(f"fd limit {hard}; broker RSS {rss0 / 2**20:.0f} MB; get_version {rtt(srv.endpoint) * 1000:.1f} ms")
        t0 = time.monotonic()
        conns, refused = flood(srv.port, args.connections, args.connect_timeout, not args.raw)
        print(f"{len(conns)} connected, {refused} refused, in {time.monotonic() - t0:.1f} s")
        time.sleep(0.5)
        held_cpu = cpu_share(broker, args.hold)
        during = rtt(srv.endpoint)
        print(
            f"held: broker CPU {held_cpu:.0%} of a core, RSS {broker.memory_info().rss / 2**20:.0f} MB, "
            f"get_version {'no answer' if during is None else f'{during * 1000:.1f} ms'} (existing clients: "
            f"a new connection {'is refused' if during is None else 'works'})"
        )
        for sock in conns:
            sock.close()
        time.sleep(1.0)
        after = rtt(srv.endpoint)
        print(
            f"after: broker CPU {cpu_share(broker, 1.0):.0%}, RSS {broker.memory_info().rss / 2**20:.0f} MB, "
            f"get_version {'no answer' if after is None else f'{after * 1000:.1f} ms'}"
        )
        log = srv.stderr_text()
        print("log:", *[line for line in log.splitlines() if "connections" in line][:4], sep="\n  ")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
