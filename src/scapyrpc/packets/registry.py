"""Scapy, loaded once per process and made safe for a packet server.

`load()` imports Scapy and the contrib layers we ship, turns off neighbour
resolution (a server must never emit ARP/ND traffic while building), and pins
the EtherType names so they do not depend on the host's /etc/ethertypes.
Every other module asks this one for layer classes by name.
"""

from __future__ import annotations

import importlib
import logging
import random
import socket
from functools import cache
from typing import TYPE_CHECKING, Any

from scapyrpc.packets.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["SEED_ETHER_TYPES", "layer_class", "load", "registry"]

CONTRIB_MODULES = (
    "mpls",
    "lldp",
    "gtp",
    "gtp_v2",
    "nsh",
    "bfd",
    "ospf",
    "eigrp",
    "erspan",
    "geneve",
    "bier",
    "cdp",
    "rsvp",
    "ldp",
    "pim",
    "lacp",
    "isis",
    "bgp",
    "macsec",
    "roce",
    "pfcp",
    "mac_control",
    "vqp",
    "send",
    "ikev2",
    "ripng",
    "dtp",
    "slowprot",
    "carp",
    "oam",
    "stamp",
    "coap",
    "mqtt",
)

# The seed document's Ether.type / Dot1Q.type `values_dict`, kept host-independent.
SEED_ETHER_TYPES = {
    "ATMMPOA": 34892,
    "RAW_FR": 25945,
    "DNA_DL": 24577,
    "ATMFATE": 34948,
    "ATALK": 32923,
    "BPQ": 2303,
    "X25": 2053,
    "PPP_DISC": 34915,
    "DEC": 24576,
    "n_802_1Q": 33024,
    "PPP_SES": 34916,
    "TEB": 25944,
    "SCA": 24583,
    "PPP": 34827,
    "FR_ARP": 2056,
    "CUST": 24582,
    "ARP": 2054,
    "DNA_RC": 24578,
    "NetBEUI": 33169,
    "AARP": 33011,
    "DIAG": 24581,
    "IPv4": 2048,
    "DNA_RT": 24579,
    "IPv6": 34525,
    "LAT": 24580,
    "IPX": 33079,
    "LOOP": 36864,
}


@cache
def load() -> None:
    """Import Scapy and prepare it for serving; idempotent and cheap after the first call."""
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    logging.getLogger("scapy.loading").setLevel(logging.ERROR)
    state = random.getstate()
    random.seed(0)  # a few layers draw a default from the RNG at import (GTP's IE_IMSI): the same in every process
    try:
        import scapy.all  # noqa: F401  (registers every standard layer)

        for name in CONTRIB_MODULES:
            try:
                importlib.import_module("scapy.contrib." + name)
            except Exception:  # a contrib that cannot load here is simply not offered
                logging.getLogger("scapyrpc.packets").debug("contrib %s not loaded", name, exc_info=True)
    finally:
        random.setstate(state)
    from scapy.config import conf

    conf.neighbor.resolvers.clear()
    conf.verb = 0
    _no_name_resolution()
    _cheaper_ipv4_pseudoheader()
    _no_endless_encodings()
    _pin_ether_types()


def _no_name_resolution() -> None:
    """Host names in address fields fail at once instead of sending DNS queries."""
    from scapy.base_classes import Net

    def name2addr(cls: type[Net], name: str) -> str:
        try:
            infos = socket.getaddrinfo(name, None, cls.family, 0, 0, socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise ServiceError(f"'{name}' is not an address (host names are not resolved)") from None
        return next(str(addr[0]) for family, _, _, _, addr in infos if family == cls.family)

    Net.name2addr = classmethod(name2addr)  # type: ignore[method-assign, assignment]


def _no_endless_encodings() -> None:
    """Two Scapy loops never end for a negative number (`x >>= 1` stays at -1): a BER number
    (an OID arc such as "1.3.-1") and the names of a flags value. A client must not be able to
    hold a worker until its deadline with a few bytes: both refuse the value instead."""
    import scapy.asn1.ber as ber
    from scapy.fields import FlagValue

    encode = ber.BER_num_enc

    def BER_num_enc(ll: int, size: int = 1) -> bytes:  # noqa: N802 (Scapy's name)
        if ll < 0:
            raise ber.BER_Encoding_Error(f"negative number {ll} cannot be BER-encoded")
        return encode(ll, size)

    ber.BER_num_enc = BER_num_enc
    names = FlagValue.__str__

    def flag_names(self: FlagValue) -> str:
        if self.value < 0:
            raise ValueError(f"negative flags value {self.value}")
        return names(self)

    FlagValue.__str__ = flag_names  # type: ignore[method-assign]


def _cheaper_ipv4_pseudoheader() -> None:
    """Scapy copies the whole IP layer and its payload for every TCP/UDP checksum only to
    swap `dst` for a source-route's last hop; the same header without the copy."""
    import struct

    import scapy.layers.inet as inet

    def in4_pseudoheader(proto: int, u: Any, plen: int) -> bytes:
        if u.len is not None:
            if u.ihl is None:
                olen = sum(len(x) for x in u.options)
                ihl = 5 + olen // 4 + (1 if olen % 4 else 0)
            else:
                ihl = u.ihl
            length = max(u.len - 4 * ihl, 0)
        else:
            length = plen
        dst = u.dst
        routes = [opt for opt in u.options if isinstance(opt, (inet.IPOption_LSRR, inet.IPOption_SSRR))]
        if len(routes) == 1 and len(routes[0].routers):
            dst = routes[0].routers[-1]
        return struct.pack(
            "!4s4sHH", socket.inet_pton(socket.AF_INET, u.src), socket.inet_pton(socket.AF_INET, dst), proto, length
        )

    inet.in4_pseudoheader = in4_pseudoheader


def _pin_ether_types() -> None:
    """Give every EtherType enum the same names on every host (docs/api.md, Packet model).

    Scapy's own bundled table plus the seed's names replace whatever the host's
    /etc/ethertypes said, in ETHER_TYPES and in every enum field built from it.
    """
    from scapy.data import ETHER_TYPES, load_ethertypes
    from scapy.fields import EnumField

    from scapyrpc.packets.unwrap import declared_field

    fixed = {int(v): str(n) for v, n in load_ethertypes("/nonexistent/ethertypes").d.items()}
    fixed.update({value: name for name, value in SEED_ETHER_TYPES.items()})
    ETHER_TYPES.d.clear()
    ETHER_TYPES.d.update(fixed)
    names = {name: value for value, name in fixed.items()}
    for cls in packet_subclasses():
        for fld in getattr(cls, "fields_desc", ()):
            field = declared_field(fld)
            if not isinstance(field, EnumField):
                continue
            # Scapy makes both tables or neither (none for a MultiEnumField or a callable enum)
            i2s, s2i = getattr(field, "i2s", None), getattr(field, "s2i", None)
            if isinstance(i2s, dict) and isinstance(s2i, dict) and i2s.get(0x86DD) == "IPv6":
                i2s.clear()
                i2s.update(fixed)
                s2i.clear()
                s2i.update(names)


def packet_subclasses() -> list[type[Packet]]:
    """Every Packet subclass known right now (transitively), in a stable order."""
    from scapy.packet import Packet

    seen: dict[type, None] = {}
    stack = list(reversed(Packet.__subclasses__()))
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen[cls] = None
        stack.extend(reversed(cls.__subclasses__()))
    return list(seen)


@cache
def registry() -> dict[str, type[Packet]]:
    """Layer classes by class name; on a name clash the standard layers win over contrib."""
    load()
    from scapy.config import conf

    by_name: dict[str, type[Packet]] = {}
    candidates = list(conf.layers) + packet_subclasses()
    for cls in sorted(candidates, key=_priority):
        fieldless = not getattr(cls, "fields_desc", None) and cls.__name__ not in ("Raw", "Padding", "NoPayload")
        if fieldless and cls.__name__.startswith("_"):
            continue
        by_name.setdefault(cls.__name__, cls)
    by_name.pop("NoPayload", None)
    return by_name


def _priority(cls: type) -> int:
    module = cls.__module__
    if module.startswith("scapy.layers."):
        return 0
    if module.startswith("scapy.packet"):
        return 0
    if module.startswith("scapy.contrib."):
        return 1
    return 2


def layer_class(name: str) -> type[Packet]:
    """The Scapy class called `name`; unknown names are a client error."""
    if not isinstance(name, str):
        raise ServiceError(f"layer id must be a string, got {type(name).__name__}")
    try:
        return registry()[name]
    except KeyError:
        raise ServiceError(f"unknown protocol '{name}'") from None
