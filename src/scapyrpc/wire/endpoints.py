"""ZeroMQ endpoints and peer addresses, parsed in one place with one rule for "this host".

An endpoint is `tcp://HOST:PORT` (HOST a name, an IPv4 address, `[IPv6]`, or `*` for every
interface; PORT a number or `*` for any free one), `ipc://PATH` or `inproc://NAME`. A peer is
this host when its address is loopback: `localhost`, 127.0.0.0/8, `::1`, or an IPv4-mapped IPv6
loopback (`::ffff:127.0.0.1`), as ZeroMQ's Peer-Address and aiohttp's `request.remote` write
them; this host's other addresses do not count. ipc and inproc endpoints are this host.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

__all__ = ["Endpoint", "is_loopback", "parse", "reachable_locally", "tcp"]

_WILDCARDS = {"*": "0.0.0.0", "": "0.0.0.0"}
_LOOPBACK_OF = {"0.0.0.0": "127.0.0.1", "::": "::1"}


class Endpoint(NamedTuple):
    """A parsed endpoint; `host` and `port` are empty for ipc and inproc."""

    transport: str
    host: str = ""
    port: str = ""

    def __str__(self) -> str:
        if self.transport != "tcp":
            return f"{self.transport}://{self.host}"
        return tcp(self.host, self.port)

    @property
    def bind_address(self) -> str:
        """The address a socket binds for this endpoint (`*` is every IPv4 interface)."""
        return _WILDCARDS.get(self.host, self.host)

    @property
    def this_host_only(self) -> bool:
        """Whether only this host can reach it: ipc, inproc, or tcp on a loopback address."""
        return self.transport != "tcp" or is_loopback(self.host)

    def with_port(self, port: int | str) -> Endpoint:
        return self._replace(port=str(port))


def tcp(host: str, port: int | str) -> str:
    """`tcp://HOST:PORT`, an IPv6 host in brackets; a port of 0 or nothing is `*` (any free one)."""
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    return f"tcp://{shown}:{port if port not in (0, '0', '', None) else '*'}"


def parse(text: str) -> Endpoint:
    """The transport, host and port of an endpoint; ValueError names what is wrong with it."""
    transport, sep, rest = text.partition("://")
    if not sep:
        raise ValueError(f"{text!r} is not an endpoint (tcp://HOST:PORT, ipc://PATH)")
    if transport in ("ipc", "inproc"):
        return Endpoint(transport, rest)
    if transport != "tcp":
        raise ValueError(f"{text!r}: unknown transport {transport!r} (tcp, ipc or inproc)")
    host, colon, port = rest.rpartition(":")
    if not colon or not (port == "*" or port.isdigit()):
        raise ValueError(f"{text!r} has no port (tcp://HOST:PORT)")
    return Endpoint("tcp", host.strip("[]"), port)


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback name or address (the module's one rule for this host)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def reachable_locally(bound: str) -> str:
    """Where a process on this host connects to reach an endpoint bound on every interface."""
    endpoint = parse(bound)
    loopback = _LOOPBACK_OF.get(endpoint.bind_address) if endpoint.transport == "tcp" else None
    return str(endpoint._replace(host=loopback)) if loopback else bound
