"""Whether a peer's address is this host: loopback, as ZeroMQ's Peer-Address or aiohttp's
`request.remote` write it. Only loopback counts; this host's other addresses do not."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8, ::1, or an IPv4-mapped IPv6 loopback (`::ffff:127.0.0.1`)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
