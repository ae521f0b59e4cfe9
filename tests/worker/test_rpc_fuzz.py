"""Any JSON a client may send, to any method: one JSON reply, and never an 'Unknown Error'.

An Unknown Error (-32096) means a client mistake reached code that did not expect it; every
such mistake must be a clear -32098/-32097/-32603 instead.
"""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapyrpc.packets import registry, service
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER

registry.load()
service.warm_up()

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
LAYERS = ["Ether", "IP", "TCP", "UDP", "Raw", "Dot1Q", "IPv6", "DNS", "ARP", "ICMP", "BOOTP", "DHCP"]
FIELDS = ["dst", "src", "type", "ttl", "flags", "options", "load", "sport", "dport", "len", "chksum", "qd", "vlan", "x"]
VALUE = (
    JSON
    | st.sampled_from([{"vtype": v} for v in ("UNDEFINED", "RANDOM", "BYTES", "EXPRESSION", "OBJECT", "MACHINE", "?")])
    | st.builds(
        lambda g, n: {"vtype": "BYTES", "generate": g, "size": n},
        st.sampled_from(["random_bytes", "random_ascii", "template", "template_code", "?"]),
        st.integers(-5, 5000),
    )
    | st.builds(lambda e: {"vtype": "EXPRESSION", "expr": e}, st.text(max_size=30))
)
LAYER = st.fixed_dictionaries(
    {"id": st.sampled_from(LAYERS)},
    optional={
        "fields": st.lists(st.fixed_dictionaries({"id": st.sampled_from(FIELDS), "value": VALUE}), max_size=3),
        "delete": st.booleans(),
    },
)
PARAM = st.lists(LAYER, max_size=4) | JSON | st.just("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
METHODS = sorted(set(service.METHODS) - {"shut_down"})


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(METHODS), st.lists(PARAM, max_size=4), st.booleans())
def test_any_params_get_a_clear_reply(method: str, params: list, gui_shape: bool) -> None:
    if gui_shape:
        params = [GUI_HANDLER, *params]
    body = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "f", "method": method, "params": params})).body
    reply = orjson.loads(body)
    assert reply["id"] == "f"
    assert ("result" in reply) != ("error" in reply)
    if "error" in reply:
        assert reply["error"]["code"] in (-32098, -32097, -32603), reply
