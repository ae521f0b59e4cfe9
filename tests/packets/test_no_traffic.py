"""Building never emits network traffic: no ARP/ND for a missing Ether.dst, no DNS for names."""

from __future__ import annotations

import socket

import pytest

from scapyrpc.packets import service
from scapyrpc.packets.errors import ServiceError


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any socket, send or name lookup during the test is recorded and refused."""
    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args: object, **kwargs: object) -> None:
            attempts.append(what)
            raise OSError(f"network use during a build: {what}")

        return blocked

    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(
        host: object, port: object, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> object:
        if flags & socket.AI_NUMERICHOST:  # parses an address literal; never asks a resolver
            return real_getaddrinfo(host, port, family, type, proto, flags)
        return refuse("getaddrinfo")()

    service.warm_up()  # Scapy loaded and caches built before the network is cut
    monkeypatch.setattr(socket, "socket", refuse("socket"))
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    import scapy.sendrecv as sendrecv
    from scapy.config import conf

    for name in ("srp1", "srp", "sr1", "sr", "sendp", "send"):
        monkeypatch.setattr(sendrecv, name, refuse(name))
    monkeypatch.setattr(conf, "L2socket", refuse("L2socket"))
    monkeypatch.setattr(conf, "L3socket", refuse("L3socket"))
    return attempts


@pytest.mark.parametrize(
    "model",
    [
        [{"id": "Ether"}, {"id": "IP", "fields": [{"id": "dst", "value": "8.8.8.8"}]}],
        [{"id": "Ether"}, {"id": "IP", "fields": [{"id": "dst", "value": "8.8.8.8"}]}, {"id": "TCP"}],
        [{"id": "Ether"}, {"id": "IPv6", "fields": [{"id": "dst", "value": "2001:4860:4860::8888"}]}, {"id": "UDP"}],
        [{"id": "Ether"}, {"id": "ARP", "fields": [{"id": "pdst", "value": "192.0.2.1"}]}],
        [
            {"id": "Ether"},
            {"id": "Dot1Q"},
            {"id": "IP", "fields": [{"id": "dst", "value": "203.0.113.9"}]},
            {"id": "ICMP"},
        ],
    ],
)
def test_build_sends_nothing(no_network: list[str], model: list) -> None:
    result = service.build_pkt(model)
    assert result["binary"]
    assert no_network == []
    ether_dst = next(f for f in result["data"][0]["fields"] if f["id"] == "dst")
    assert ether_dst["value"] == "ff:ff:ff:ff:ff:ff"  # no next-hop MAC was looked up


def test_reconstruct_sends_nothing(no_network: list[str]) -> None:
    built = service.build_pkt([{"id": "Ether"}, {"id": "IP", "fields": [{"id": "dst", "value": "8.8.8.8"}]}])
    result = service.reconstruct_pkt(built["binary"], [{"id": "Ether", "fields": [{"id": "dst", "value": ""}]}])
    assert result["binary"] and no_network == []


@pytest.mark.parametrize(
    "model",
    [
        [{"id": "Ether"}, {"id": "IP", "fields": [{"id": "dst", "value": "example.com"}]}],
        [
            {"id": "Ether"},
            {"id": "IP", "fields": [{"id": "dst", "value": {"vtype": "EXPRESSION", "expr": "'example.com'"}}]},
        ],
        [{"id": "Ether"}, {"id": "IPv6", "fields": [{"id": "dst", "value": "example.com"}]}],
    ],
)
def test_host_names_are_refused_without_lookup(no_network: list[str], model: list) -> None:
    with pytest.raises(ServiceError):
        service.build_pkt(model)
    assert [a for a in no_network if a in ("getaddrinfo", "gethostbyname")] == []
