"""Walking Scapy structures: the layers of a packet, and the field behind a declared field.

Scapy wraps fields in containers (`Emph` for display, `ConditionalField`,
`MayEnd`, `MultipleTypeField` whose real field depends on the packet). Which
unwrapping is right depends on the question, so each variant is named for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scapy.fields import Emph, MultipleTypeField, _FieldContainer

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["declared_field", "encoding_field", "layer_list", "unemphasised_field"]

# A container's inner field is never itself deeper than this; a cycle would be a Scapy bug.
_MAX_CONTAINERS = 16


def layer_list(pkt: Packet | None) -> list[Packet]:
    """`pkt` and each of its payloads, outside-in (empty for None)."""
    return [] if pkt is None else list(pkt.iterpayloads())


def encoding_field(layer: Packet, fld: Any) -> Any:
    """The field that encodes `fld` in this `layer`: every container removed, and a
    MultipleTypeField resolved for the layer's current values (its default alternative
    when Scapy's own condition cannot be evaluated, e.g. it reads a missing underlayer)."""
    for _ in range(_MAX_CONTAINERS):
        if isinstance(fld, MultipleTypeField):
            try:
                fld = fld._find_fld_pkt(layer)
            except Exception:
                fld = fld.dflt
        elif isinstance(fld, _FieldContainer):
            fld = fld.fld
        else:
            break
    return fld


def declared_field(fld: Any) -> Any:
    """The field a class declares, without a packet: every container removed, and a
    MultipleTypeField taken as its default alternative (what definitions describe)."""
    for _ in range(_MAX_CONTAINERS):
        if not isinstance(fld, _FieldContainer):
            break
        fld = fld.dflt if isinstance(fld, MultipleTypeField) else fld.fld
    return fld


def unemphasised_field(fld: Any) -> Any:
    """`fld` without its display-only `Emph` wrapper: same bytes, same position. Other
    containers change whether or how the field is encoded, so they are kept."""
    while isinstance(fld, Emph):
        fld = fld.fld
    return fld
