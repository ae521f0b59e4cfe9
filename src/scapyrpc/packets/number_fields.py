"""Which Scapy fields hold numbers, and the integers the others would turn into bytes.

A string or packet field given an integer n does not refuse it: Scapy makes n bytes of
it (`bytes(n)`), and so does an ASN.1 string made of one. From a 20-byte request that
is a reply of gigabytes, so such integers are held to the generated-payload limit
wherever a client can put one: a field value of the packet model (`values_in`) and a
field keyword of a packet an EXPRESSION makes (`packet_expressions`).

Only those integers count. Whether an integer at some place in a value becomes that many
bytes is asked of Scapy itself: the field encodes the value with two small numbers in
that place, and the integer is a byte count when the encoding grows by their difference.
So a TCP Timestamp, an MSS or a DHCP lease time (numbers inside option tuples) never
count, while `Raw.load = n`, `DNS.qd = [n]` or a TCP-AO option of n do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from scapy.asn1.asn1 import ASN1_BOOLEAN, ASN1_INTEGER, ASN1_Object
from scapy.asn1fields import ASN1F_BOOLEAN, ASN1F_INTEGER
from scapy.fields import Field, MultiFlagsField, StrField, _BitField, _PacketField
from scapy.packet import Packet

from scapyrpc.packets import limits
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.unwrap import declared_field, encoding_field

__all__ = ["check_byte_counts", "field_holds_number"]

_NUMBER_FORMATS = frozenset("bBhHiIlLqQfd")  # struct formats of integer and float fields

# Two probe numbers whose difference is a multiple of any field's alignment padding.
_PROBE_LOW, _PROBE_HIGH = 16, 48
_MAX_PROBE_CACHE = 4096


@cache
def _holds_number(field_type: type, fmt: str) -> bool:
    if issubclass(field_type, _BitField):
        return not issubclass(field_type, MultiFlagsField)
    if issubclass(field_type, (StrField, _PacketField)):  # bytes and packets: `fmt` is Field's unused default
        return False
    return bool(fmt) and fmt[-1] in _NUMBER_FORMATS


def field_holds_number(fld: Field[Any, Any]) -> bool:
    """Whether `fld` (already unwrapped) holds an integer or a float."""
    return _holds_number(type(fld), getattr(fld, "fmt", "") or "")


def takes_integers(layer: Packet | None, fld: Any) -> bool:
    """Whether `fld` of `layer` (None: as its class declares it) holds numbers, ASN.1 ones included."""
    actual = encoding_field(layer, fld) if layer is not None else declared_field(fld)
    return field_holds_number(actual) or isinstance(actual, (ASN1F_INTEGER, ASN1F_BOOLEAN))


# ---------------------------------------------------------------- asking Scapy


def _encoded_sizes(layer: Packet | None, fld: Any, value: Any) -> tuple[int | None, int | None]:
    """Sizes of `value` as `fld` converts it (`i2m`) and as it writes it (`addfield`)."""
    try:
        internal = fld.any2i(layer, value)
    except Exception:
        return None, None
    sizes: list[int | None] = []
    encoders: tuple[Callable[[], Any], ...] = (
        lambda: fld.i2m(layer, internal),
        lambda: fld.addfield(layer, b"", internal),
    )
    for encode in encoders:
        try:
            out = encode()
        except Exception:
            out = None
        sizes.append(len(out) if isinstance(out, (bytes, bytearray)) else None)
    return sizes[0], sizes[1]


def _grows_by_count(layer: Packet | None, fld: Any, make: Callable[[int], Any]) -> bool | None:
    """Whether `make(n)` given to `fld` encodes to n more bytes as n grows (n is a byte count);
    None when the field cannot encode the probes at all."""
    low = _encoded_sizes(layer, fld, make(_PROBE_LOW))
    high = _encoded_sizes(layer, fld, make(_PROBE_HIGH))
    step = _PROBE_HIGH - _PROBE_LOW
    pairs = [(a, b) for a, b in zip(low, high) if a is not None and b is not None]
    if not pairs:
        return None
    return any(b - a == step for a, b in pairs)


_probes: dict[tuple[int, Any], tuple[Any, bool | None]] = {}


def _is_byte_count(layer: Packet | None, fld: Any, shape: Any, make: Callable[[int], Any], unknown: bool) -> bool:
    """`_grows_by_count`, remembered per field and value shape (the field is kept with its
    answer, so its id is never reused for another field while the entry lives); `unknown`
    when the field cannot encode the probes."""
    key = (id(fld), shape)
    known = _probes.get(key)
    if known is not None and known[0] is fld:
        answer = known[1]
    else:
        answer = _grows_by_count(layer, fld, make)
        if len(_probes) >= _MAX_PROBE_CACHE:
            _probes.clear()
        _probes[key] = (fld, answer)
    return unknown if answer is None else answer


def _shape(item: Any) -> Any:
    """What a structured list item looks like apart from its integers (which it varies)."""
    if isinstance(item, bool) or item is None or isinstance(item, (str, float)):
        return item
    if isinstance(item, int):
        return "#"
    if isinstance(item, (bytes, bytearray)):
        return ("bytes", len(item))
    if isinstance(item, (list, tuple)):
        return (type(item).__name__, tuple(_shape(x) for x in item))
    return type(item).__name__


def _int_paths(item: Any, path: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], int]]:
    """(path, integer) of every integer inside a tuple or list item."""
    if isinstance(item, int) and not isinstance(item, bool):
        return [(path, item)]
    if isinstance(item, (list, tuple)):
        found = []
        for i, x in enumerate(item):
            found.extend(_int_paths(x, path + (i,)))
        return found
    return []


def _with_ints(item: Any, path: tuple[int, ...], n: int, here: tuple[int, ...] = ()) -> Any:
    """`item` with the integer at `path` set to n and every other integer set to 0."""
    if isinstance(item, int) and not isinstance(item, bool):
        return n if here == path else 0
    if isinstance(item, (list, tuple)):
        return type(item)(_with_ints(x, path, n, here + (i,)) for i, x in enumerate(item))
    return item


# ---------------------------------------------------------------- the check


def check_byte_counts(layer: Packet | None, fld: Any, value: Any, where: str) -> None:
    """Refuse an integer past the payload limit that `value` would hand to a field as a byte
    count: at its top, among the items of a list, inside a list item, in ASN.1 values, or in
    the fields of the packets it holds. ServiceError names it and `where` it was given."""
    if fld is None:
        return
    counts: list[int] = []
    stack: list[tuple[Packet | None, Any, Any]] = [(layer, fld, value)]
    while stack:
        owner, owner_fld, item = stack.pop()
        if isinstance(item, Packet):
            for part in item.iterpayloads():
                stack.extend((part, part.get_field(name), v) for name, v in part.fields.items())
        elif isinstance(item, ASN1_Object) and not isinstance(item, (ASN1_INTEGER, ASN1_BOOLEAN)):
            counts.extend(abs(n) for _, n in _int_paths(item.val) if n)  # an ASN.1 string makes n bytes of n
        elif isinstance(item, int) and not isinstance(item, bool):
            if (
                item
                and not takes_integers(owner, owner_fld)
                and _is_byte_count(owner, _encoder(owner, owner_fld), "#", lambda n: n, unknown=True)
            ):
                counts.append(abs(item))
        elif isinstance(item, (list, tuple)):
            _list_counts(owner, owner_fld, item, stack, counts)
    _spend(counts, where)


def _encoder(layer: Packet | None, fld: Any) -> Any:
    return encoding_field(layer, fld) if layer is not None else declared_field(fld)


def _list_counts(
    owner: Packet | None,
    owner_fld: Any,
    items: list[Any] | tuple[Any, ...],
    stack: list[tuple[Packet | None, Any, Any]],
    counts: list[int],
) -> None:
    """Byte counts among a list value's items; packets among them are checked field by field."""
    enc = _encoder(owner, owner_fld)
    for item in items:
        if isinstance(item, (Packet, ASN1_Object)):
            stack.append((owner, owner_fld, item))
        elif isinstance(item, int) and not isinstance(item, bool):
            if item and _is_byte_count(owner, enc, "[#]", lambda n: [n], unknown=True):
                counts.append(abs(item))
        elif isinstance(item, (list, tuple)):
            shape = _shape(item)
            for path, n in _int_paths(item):
                if n and _is_byte_count(owner, enc, (shape, path), _varying(item, path), unknown=False):
                    counts.append(abs(n))
            stack.extend((owner, owner_fld, x) for x in item if isinstance(x, (Packet, ASN1_Object)))


def _varying(item: list[Any] | tuple[Any, ...], path: tuple[int, ...]) -> Callable[[int], list[Any]]:
    """`make` for `_is_byte_count`: [`item` with the integer at `path` set to k, the others to 0]."""
    return lambda k: [_with_ints(item, path, k)]


def _spend(counts: list[int], where: str) -> None:
    cap = limits.current().max_payload_bytes
    total = 0  # bytes all of them together would make: a list of many may not pass where one would not
    for n in counts:
        if n > cap:
            raise ServiceError(f"number {n} for {where} would make as many bytes (limit {cap})")
        total += n
        if total > cap:
            raise ServiceError(f"the numbers for {where} would make {total} bytes or more (limit {cap})")
    if total:
        limits.spend_payload(total, where)
