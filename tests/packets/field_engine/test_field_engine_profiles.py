"""Every Field Engine example out as a TRex profile (JSON, YAML, Python) and back: the same packet
and the same compiled program (tests/profile_checks.py says how each is checked)."""

from __future__ import annotations

import base64

import pytest
from test_field_engine_examples import EXAMPLES, MORE, ref_packet

from scapyrpc.packets import service
from scapyrpc.packets.expressions.scapy_dialect import render
from scapyrpc.packets.profiles.export import MAX_CACHE

from profile_checks import expected, python_round_trip, round_trip

CASES = [(c[0], c[1], c[2], None) for c in EXAMPLES] + [(c[0], c[1], c[2], c[3]) for c in MORE]
TOO_LARGE_A_CACHE = {case[0] for case in CASES if int(case[2].get("cache_size", 0)) > MAX_CACHE}


def model_of(pkt) -> list[dict]:
    """The packet model of a Scapy packet: the fields it sets, as values the model takes."""
    model = []
    for layer in pkt.iterpayloads():
        fields = []
        for name, value in layer.fields.items():
            if isinstance(value, bytes):
                value = {"vtype": "BYTES", "base64": base64.b64encode(value).decode("ascii")}
            elif not isinstance(value, (str, int)):
                value = {"vtype": "EXPRESSION", "expr": render(value)}
            fields.append({"id": name, "value": value})
        model.append({"id": type(layer).__name__, "fields": fields})
    return model


def stream(instructions: list, gp: dict, pkt) -> dict:
    packet = pkt if pkt is not None else ref_packet()
    return {"model": model_of(packet), "field_engine": {"instructions": instructions, "global_parameters": gp}}


@pytest.mark.parametrize(
    "case_id, instructions, gp, pkt", [c for c in CASES if c[0] not in TOO_LARGE_A_CACHE], ids=lambda v: str(v)[:40]
)
def test_every_example_goes_out_and_back(case_id: str, instructions: list, gp: dict, pkt) -> None:
    one = stream(instructions, gp, pkt)
    assert expected(one)[0] == bytes(pkt if pkt is not None else ref_packet())  # the example's own packet
    round_trip([one])
    python_round_trip([one])


def test_all_examples_in_one_profile() -> None:
    streams = [stream(*case[1:]) for case in CASES if case[0] not in TOO_LARGE_A_CACHE]
    assert len(round_trip(streams)) == len(streams)
    python_round_trip(streams)


def test_a_cache_trex_cannot_hold_is_refused() -> None:
    """TRex's server reads a program's cache size as 16 bits: a profile with more would not start."""
    (case,) = [c for c in CASES if c[0] in TOO_LARGE_A_CACHE]
    with pytest.raises(Exception, match=r"streams\[0\]\.field_engine\.global_parameters\.cache_size: TRex takes"):
        service.export_profile([stream(*case[1:])], {"format": "json"})
