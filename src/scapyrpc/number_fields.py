"""Which Scapy fields hold numbers, and the integers the others would turn into bytes.

A string or packet field given an integer n does not refuse it: Scapy makes n bytes of
it (`bytes(n)`), and so does an ASN.1 string made of one. From a 20-byte request that
is a reply of gigabytes, so such integers are held to the generated-payload limit
(API.md section 9) wherever a client can put one: a field value of the packet model
(`values_in`) and a field keyword of a packet an EXPRESSION makes (`packet_expressions`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scapy.asn1.asn1 import ASN1_BOOLEAN, ASN1_INTEGER, ASN1_Object
from scapy.asn1fields import ASN1F_BOOLEAN, ASN1F_INTEGER
from scapy.fields import _BitField, _PacketField, Field, MultiFlagsField, StrField
from scapy.packet import Packet

from . import limits
from .errors import ServiceError
from .walk import declared_field, encoding_field

_NUMBER_FORMATS = frozenset("bBhHiIlLqQfd")  # struct formats of integer and float fields


@cache
def _holds_number(field_type: type, fmt: str) -> bool:
    if issubclass(field_type, _BitField):
        return not issubclass(field_type, MultiFlagsField)
    if issubclass(field_type, (StrField, _PacketField)):  # bytes and packets: `fmt` is Field's unused default
        return False
    return bool(fmt) and fmt[-1] in _NUMBER_FORMATS


def field_holds_number(fld: Field) -> bool:
    """Whether `fld` (already unwrapped) holds an integer or a float."""
    return _holds_number(type(fld), getattr(fld, "fmt", "") or "")


def takes_integers(layer: Packet | None, fld: Any) -> bool:
    """Whether `fld` of `layer` (None: as its class declares it) holds numbers, ASN.1 ones included."""
    actual = encoding_field(layer, fld) if layer is not None else declared_field(fld)
    return field_holds_number(actual) or isinstance(actual, (ASN1F_INTEGER, ASN1F_BOOLEAN))


def check_byte_counts(layer: Packet | None, fld: Any, value: Any, where: str) -> None:
    """Refuse an integer past the payload limit that `value` would hand to a field that does
    not hold numbers: at its top, in its lists, in ASN.1 values, or in the fields of the
    packets it holds. ServiceError names it and `where` it was given."""
    cap = limits.current().max_payload_bytes
    total = 0  # bytes all of them together would make: a list of many may not pass where one would not
    numeric: dict[tuple[int, int], bool] = {}  # takes_integers by (owner, field): a list's items share one
    stack: list[tuple[Packet | None, Any, Any]] = [(layer, fld, value)]
    while stack:
        owner, owner_fld, item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend((owner, owner_fld, x) for x in item)
        elif isinstance(item, Packet):
            for part in item.iterpayloads():
                stack.extend((part, part.get_field(name), v) for name, v in part.fields.items())
        elif isinstance(item, ASN1_Object) and not isinstance(item, (ASN1_INTEGER, ASN1_BOOLEAN)):
            stack.append((owner, None, item.val))
        elif isinstance(item, int) and not isinstance(item, bool) and item:
            if owner_fld is not None:  # None: inside an ASN.1 string, which makes n bytes of n
                key = (id(owner), id(owner_fld))
                if key not in numeric:
                    numeric[key] = takes_integers(owner, owner_fld)
                if numeric[key]:
                    continue
            total += abs(item)
            if abs(item) > cap:
                raise ServiceError(f"number {item} for {where} would make as many bytes (limit {cap})")
            if total > cap:
                raise ServiceError(f"the numbers for {where} would make {total} bytes or more (limit {cap})")
    if total:
        limits.spend_payload(total, where)
