"""A packet result as a hexdump with a header line at each layer boundary (from the layers' offsets)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

__all__ = ["annotated_hexdump"]

ROW = 16


def is_packet_result(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("binary"), str) and isinstance(value.get("data"), list)


def annotated_hexdump(result: Any) -> str:
    """One packet result, or a list of them (read_pcap's result), as annotated hex rows.

    Raises ValueError when `result` is not a packet result.
    """
    if isinstance(result, list) and result and all(is_packet_result(r) for r in result):
        return "\n\n".join(f"packet {n}\n{_dump(r)}" for n, r in enumerate(result, 1))
    if is_packet_result(result):
        return _dump(result)
    raise ValueError("the result is not a packet (a packet result has 'binary' and 'data')")


def _dump(result: dict[str, Any]) -> str:
    try:
        frame = base64.b64decode(result["binary"], validate=True)
    except binascii.Error:
        raise ValueError("the packet's 'binary' is not base64") from None
    width = max(4, len(f"{len(frame):x}"))
    layers = [layer for layer in result["data"] if isinstance(layer, dict)]
    starts = [_offset(layer, len(frame)) for layer in layers]
    first = next((s for s in starts if s is not None), len(frame))
    lines = [f"{len(frame)} bytes"]
    if first > 0:
        lines.append(f"(before the first layer)  {_span(0, first)}")
        lines += _rows(frame, 0, first, width)
    for i, (layer, start) in enumerate(zip(layers, starts)):
        title = str(layer.get("id", "?"))
        if layer.get("name") not in (None, "", title):
            title += f" ({layer['name']})"
        if start is None:
            lines.append(f"{title}  (offset {layer.get('offset')!r} is not in the frame)")
            continue
        end = next((s for s in starts[i + 1 :] if s is not None and s >= start), len(frame))
        lines.append(f"{title}  {_span(start, end)}")
        lines += _rows(frame, start, end, width)
    return "\n".join(lines)


def _offset(layer: dict[str, Any], size: int) -> int | None:
    offset = layer.get("offset")
    return offset if isinstance(offset, int) and not isinstance(offset, bool) and 0 <= offset <= size else None


def _span(start: int, end: int) -> str:
    count = end - start
    if count == 0:
        return f"at {start}, no bytes"
    return f"bytes {start}-{end - 1} ({count} byte{'s' if count != 1 else ''})"


def _rows(frame: bytes, start: int, end: int, width: int) -> list[str]:
    rows = []
    for at in range(start, end, ROW):
        chunk = frame[at : min(at + ROW, end)]
        left, right = chunk[: ROW // 2].hex(" "), chunk[ROW // 2 :].hex(" ")
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        rows.append(f"  {at:0{width}x}  {left:<23}  {right:<23}  |{text}|")
    return rows
