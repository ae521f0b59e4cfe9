"""Every registered layer class built with defaults: JSON-ready result, ServiceError at worst."""

from __future__ import annotations

import json

import pytest

from scapyrpc.packets import registry
from scapyrpc.packets.errors import ServiceError

registry.load()


def test_every_layer_builds_alone_and_after_ether(api):
    classes = registry.registry()
    names = sorted(classes)
    assert len(names) > 500
    built = refused = 0
    for name in names:
        for model in ([{"id": name}], [{"id": "Ether"}, {"id": name}]):
            try:
                result = api.build_pkt(model)
            except ServiceError:
                refused += 1
                continue
            text = json.dumps(result)  # no bytes or Python objects may leak
            assert json.loads(text)["binary"] == result["binary"]
            # a few classes dispatch to a subclass on construction (BGP -> BGPHeader)
            assert result["data"][-1]["id"] in classes, (name, result["data"][-1]["id"])
            for entry in result["data"]:
                for field in entry["fields"]:
                    assert isinstance(field["hvalue"], str), (name, field)
                    assert isinstance(field["offset"], int) and isinstance(field["length"], int), (name, field)
            built += 1
    assert built > refused * 10, (built, refused)


@pytest.mark.parametrize("name", ["Ether", "IP", "IPv6", "TCP", "UDP", "Dot1Q", "ARP", "DNS", "Raw", "Padding"])
def test_common_layers_build(name, api):
    result = api.build_pkt([{"id": name}])
    assert result["data"][0]["id"] == ("Raw" if name == "Padding" else name)


def test_every_multiple_type_field_takes_a_string_alone(api):
    """A MultipleTypeField picks its real field with a condition written by Scapy, which
    may read the underlayer; set on a layer with none, it must still be a clear answer."""
    from scapy.fields import MultipleTypeField

    tried = 0
    for name, cls in sorted(registry.registry().items()):
        for fld in cls.fields_desc:
            if not isinstance(fld, MultipleTypeField):
                continue
            for text in ("1", "IPv4"):
                tried += 1
                try:
                    api.build_pkt([{"id": name, "fields": [{"id": fld.name, "value": text}]}])
                except ServiceError:
                    pass
    assert tried > 50, tried
