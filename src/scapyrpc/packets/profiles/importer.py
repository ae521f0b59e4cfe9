"""`import_profile`: a TRex STL profile in JSON or YAML back into the editor's streams.

Each stream's packet is dissected as `reconstruct_pkt` dissects a frame (its `model` is the
packet result's layers, which `build_pkt` builds back into the same bytes) and its program
decompiled as `decompile_vm_raw` does (its `field_engine` compiles back to the same program).
Python profiles are never run.
"""

from __future__ import annotations

from typing import Any

from scapyrpc.packets import dissect, field_engine, model
from scapyrpc.packets.encoding import encode_base64
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.profiles import stream_json, text_formats
from scapyrpc.packets.profiles.streams import check_links, check_stream_count, fail, known_keys, member, obj

MAX_TEXT_CHARS = 16 * 1024 * 1024  # characters of profile text (a request is bounded too)


def import_profile(text: Any, options: Any = None) -> list[dict[str, Any]]:
    """The streams of a profile, in order, as the editor takes them back."""
    options = {} if options is None else obj(options, "options")
    known_keys(options, ("format",), "options")
    if not isinstance(text, str):
        raise fail("text", "must be the profile's text")
    if len(text) > MAX_TEXT_CHARS:
        raise fail("text", f"{len(text)} characters; a profile may be at most {MAX_TEXT_CHARS}")
    fmt = options.get("format")
    if fmt is None:
        fmt = text_formats.detect(text)
    elif fmt not in text_formats.FORMATS:
        raise fail("options.format", f"must be one of {', '.join(text_formats.FORMATS)}")
    data = text_formats.load(text, fmt)
    if not isinstance(data, list):
        raise fail("profile", "must be a list of streams, as TRex's STLProfile.to_json() writes it")
    check_stream_count(len(data), "profile")
    read = [stream_json.read(item, member("streams", index)) for index, item in enumerate(data)]
    check_links([stream.settings for stream in read])
    return [_editor_stream(stream) for stream in read]


def _editor_stream(stream: stream_json.ReadStream) -> dict[str, Any]:
    pkt, _ = model.reconstruct_packet(stream.binary, [])
    assert pkt is not None  # only a model that deletes the first layer gives no packet
    layers = dissect.packet_result(pkt, dissection=True, exact=True)["data"]
    try:
        program = field_engine.decompile(stream.vm)
    except ServiceError as exc:
        raise fail(stream.vm_where, str(exc)) from None
    settings = stream.settings.editor()
    return {
        "name": settings.pop("name"),
        "binary": encode_base64(stream.binary),
        "model": layers,
        "field_engine": program,
        **settings,
        "dropped": list(stream.dropped),
    }
