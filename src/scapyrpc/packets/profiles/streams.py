"""A TRex stream's settings as the editor sends them (`export_profile`'s `streams[i]`) and as
`import_profile` returns them: checked value by value, each error naming where it is
(`streams[2].mode.pps: must be a number`), with TRex's own defaults and ranges.

`Mode` is a stream's transmit mode; `Stream` the rest of its settings; `check_links` the
profile-wide rules (names unique, `next` names a stream, a continuous stream has no next).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scapyrpc.packets.errors import ServiceError

U32 = 0xFFFFFFFF
MODE_TYPES = ("continuous", "single_burst", "multi_burst")
RATE_TYPES = ("pps", "bps_L1", "bps_L2", "percentage")  # TRex's STLTXMode units
MAC_DST_MODES = (0, 1, 2)  # TRex's STLStreamDstMAC_CFG_FILE, _PKT, _ARP
BURST_KEYS = {"single_burst": ("total_pkts",), "multi_burst": ("pkts_per_burst", "ibg", "count")}
MAX_STREAMS = 1000  # streams in a profile, exported or imported
MIN_PACKET, MAX_PACKET = 14, 9 * 1024 + 22  # the packet sizes TRex's server takes (bytes, without FCS)

Path = Callable[[str], str]  # a member's key -> where it is, for error messages


def fail(where: str, message: str) -> ServiceError:
    return ServiceError(f"{where}: {message}")


def shown(value: Any) -> str:
    """A client's value in a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def member(where: str, key: str | int) -> str:
    """The path of a member: `streams[2]` + `mode` -> `streams[2].mode`; + 0 -> `streams[2][0]`."""
    return f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"


def check_stream_count(count: int, where: str) -> None:
    if count > MAX_STREAMS:
        raise fail(where, f"{count} streams; a profile may hold at most {MAX_STREAMS}")


def packet_size(binary: bytes, where: str) -> None:
    if not MIN_PACKET <= len(binary) <= MAX_PACKET:
        sizes = f"{MIN_PACKET} to {MAX_PACKET} bytes"
        raise fail(where, f"the packet's length is {len(binary)}; TRex sends packets of {sizes}")


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, "must be an object")
    return value


def known_keys(value: dict[str, Any], allowed: tuple[str, ...] | frozenset[str], where: str) -> None:
    for key in value:
        if key not in allowed:
            raise fail(where, f"unknown key {shown(key)} (known: {', '.join(sorted(allowed))})")


def number(value: Any, where: str, *, positive: bool = False, maximum: float | None = None) -> int | float:
    """A JSON number (not a boolean), finite, at least 0 (above 0 when `positive`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(where, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(where, "must be a number")
    if value < 0 or (positive and value == 0):
        raise fail(where, "must be more than 0" if positive else "must not be negative")
    if maximum is not None and value > maximum:
        raise fail(where, f"must be at most {maximum:g}")
    return value


def integer(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(where, "must be an integer")
    if not low <= value <= high:
        raise fail(where, f"must be an integer from {low} to {high}")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(where, "must be true or false")
    return value


def stream_name(value: Any, where: str) -> str | int | None:
    """A stream's name or next: text or an integer (TRex's pcap profiles number them), or null."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise fail(where, "must be text, an integer or null")
    return value


@dataclass(frozen=True)
class Mode:
    """How a stream sends: TRex's STLTXCont, STLTXSingleBurst or STLTXMultiBurst, and its rate."""

    type: str = "continuous"
    rate_type: str = "pps"
    rate: int | float = 1
    total_pkts: int = 1
    pkts_per_burst: int = 1
    ibg: int | float = 0.0  # microseconds between bursts
    count: int = 1

    @classmethod
    def read(cls, value: Any, where: str, trex_form: bool = False) -> Mode:
        """From the editor's `{"type", "pps" | "bps_L1" | ..., burst keys}`, or (`trex_form`)
        from TRex's `{"type", "rate": {"type", "value"}, burst keys}`."""
        value = obj(value, where)
        kind = value.get("type", "continuous")
        if kind not in MODE_TYPES:
            raise fail(member(where, "type"), f"must be one of {', '.join(MODE_TYPES)}")
        burst = _burst(value, kind, where)
        if not trex_form:
            known_keys(value, ("type", *RATE_TYPES, *BURST_KEYS["single_burst"], *BURST_KEYS["multi_burst"]), where)
            given = [key for key in RATE_TYPES if key in value]
            if len(given) > 1:
                raise fail(where, f"give one rate, not {' and '.join(given)}")
            rate_type = given[0] if given else "pps"
            rate = value.get(rate_type, 1)
            rate_where = member(where, rate_type)
        else:
            rate_where = member(where, "rate")
            rate_obj = obj(value.get("rate", {"type": "pps", "value": 1}), rate_where)
            if rate_obj.get("type") not in RATE_TYPES:
                raise fail(member(rate_where, "type"), f"must be one of {', '.join(RATE_TYPES)}")
            rate_type = rate_obj["type"]
            rate = rate_obj.get("value")
            rate_where = member(rate_where, "value")
        maximum = 100 if rate_type == "percentage" else None
        return cls(kind, rate_type, number(rate, rate_where, positive=True, maximum=maximum), **burst)

    def editor(self) -> dict[str, Any]:
        """The editor's form, as `read` takes it."""
        return {"type": self.type, self.rate_type: self.rate, **{key: getattr(self, key) for key in self._burst()}}

    def trex(self) -> dict[str, Any]:
        """TRex's mode JSON, as STLTXMode.to_json() writes it."""
        return {"rate": {"type": self.rate_type, "value": self.rate}, "type": self.type} | {
            key: getattr(self, key) for key in self._burst()
        }

    def _burst(self) -> tuple[str, ...]:
        return BURST_KEYS.get(self.type, ())


def _burst(value: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    """The burst settings of a mode of type `kind` (those of other types are not read)."""
    out: dict[str, Any] = {}
    for key in BURST_KEYS.get(kind, ()):
        if key not in value:
            continue
        if key == "ibg":
            out[key] = number(value[key], member(where, key))
        else:
            out[key] = integer(value[key], member(where, key), 0 if key == "count" else 1, U32)
    return out


@dataclass(frozen=True)
class Stream:
    """A stream's settings other than its packet and program."""

    name: str | int | None = None
    mode: Mode = Mode()
    isg: int | float = 0.0  # microseconds before the first packet
    next: str | int | None = None
    self_start: bool = True
    random_seed: int = 0  # 0: TRex seeds the stream's random values itself
    mac_src_override_by_pkt: bool | None = None  # None: as TRex decides it for the packet
    mac_dst_override_mode: int | None = None

    @classmethod
    def read(cls, value: dict[str, Any], where: str | Path, trex_form: bool = False) -> Stream:
        """The settings among `value`'s keys (each optional); `where` is the object's path, or
        a function giving each member's; `trex_form`: the mode is TRex's."""
        at: Path = (lambda key: member(where, key)) if isinstance(where, str) else where
        out: dict[str, Any] = {}
        for key in ("name", "next"):
            if key in value:
                out[key] = stream_name(value[key], at(key))
        if value.get("mode") is not None:
            out["mode"] = Mode.read(value["mode"], at("mode"), trex_form)
        if "isg" in value:
            out["isg"] = number(value["isg"], at("isg"))
        if "self_start" in value:
            out["self_start"] = boolean(value["self_start"], at("self_start"))
        if value.get("random_seed") is not None:
            out["random_seed"] = integer(value["random_seed"], at("random_seed"), 0, U32)
        if value.get("mac_src_override_by_pkt") is not None:
            out["mac_src_override_by_pkt"] = boolean(value["mac_src_override_by_pkt"], at("mac_src_override_by_pkt"))
        if value.get("mac_dst_override_mode") is not None:
            key = "mac_dst_override_mode"
            out[key] = integer(value[key], at(key), 0, max(MAC_DST_MODES))
        return cls(**out)

    def editor(self) -> dict[str, Any]:
        """The settings as `import_profile` returns them (and `export_profile` takes them)."""
        return {
            "name": self.name,
            "mode": self.mode.editor(),
            "isg": self.isg,
            "next": self.next,
            "self_start": self.self_start,
            "random_seed": self.random_seed,
            "mac_src_override_by_pkt": self.mac_src_override_by_pkt,
            "mac_dst_override_mode": self.mac_dst_override_mode,
        }


def check_links(streams: list[Stream], where: str = "streams") -> None:
    """TRex's rules between streams: names unique, each `next` names a stream of the profile,
    and a continuous stream never ends, so it has no next."""
    names: dict[str | int, int] = {}
    for index, stream in enumerate(streams):
        if stream.name is not None:
            if stream.name in names:
                at = member(member(where, index), "name")
                raise fail(at, f"{shown(stream.name)} is also the name of stream {names[stream.name]}")
            names[stream.name] = index
    for index, stream in enumerate(streams):
        if stream.next is None:
            continue
        at = member(member(where, index), "next")
        if stream.mode.type == "continuous":
            raise fail(at, "a continuous stream never ends, so it cannot have a next stream")
        if stream.next not in names:
            raise fail(at, f"no stream is named {shown(stream.next)}")
