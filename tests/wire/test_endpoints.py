"""Endpoints parsed in one place, with one rule for what is this host."""

from __future__ import annotations

import pytest

from scapyrpc.wire import endpoints


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1"])
def test_loopback_names_and_addresses_are_this_host(host: str) -> None:
    assert endpoints.is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "192.0.2.2",
        "::",
        "0.0.0.0",
        "fd00::2",
        "::ffff:10.0.0.1",
        "example.com",
        "localhost.example",
        "",
        "*",
    ],
)
def test_other_addresses_and_names_are_not(host: str) -> None:
    assert not endpoints.is_loopback(host)


@pytest.mark.parametrize(
    "text, parsed, this_host",
    [
        ("tcp://*:4507", ("tcp", "*", "4507"), False),
        ("tcp://0.0.0.0:4507", ("tcp", "0.0.0.0", "4507"), False),
        ("tcp://127.0.0.1:*", ("tcp", "127.0.0.1", "*"), True),
        ("tcp://[::1]:4508", ("tcp", "::1", "4508"), True),
        ("tcp://[fd00::2]:4508", ("tcp", "fd00::2", "4508"), False),
        ("tcp://localhost:80", ("tcp", "localhost", "80"), True),
        ("ipc:///run/scapyrpc/backend", ("ipc", "/run/scapyrpc/backend", ""), True),
        ("inproc://workers", ("inproc", "workers", ""), True),
    ],
)
def test_parse(text: str, parsed: tuple[str, str, str], this_host: bool) -> None:
    endpoint = endpoints.parse(text)
    assert tuple(endpoint) == parsed
    assert endpoint.this_host_only is this_host
    assert endpoints.parse(str(endpoint)) == endpoint


@pytest.mark.parametrize("text", ["4507", "tcp://host", "tcp://host:port", "udp://1.2.3.4:5"])
def test_a_bad_endpoint_is_named(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace("[", r"\[")):
        endpoints.parse(text)


@pytest.mark.parametrize(
    "bound, local",
    [
        ("tcp://0.0.0.0:4508", "tcp://127.0.0.1:4508"),
        ("tcp://[::]:4508", "tcp://[::1]:4508"),
        ("tcp://10.1.2.3:4508", "tcp://10.1.2.3:4508"),
        ("ipc:///tmp/x", "ipc:///tmp/x"),
    ],
)
def test_reachable_locally(bound: str, local: str) -> None:
    assert endpoints.reachable_locally(bound) == local


@pytest.mark.parametrize(
    "host, port, text",
    [
        ("*", 4507, "tcp://*:4507"),
        ("::", 0, "tcp://[::]:*"),
        ("[::1]", "4508", "tcp://[::1]:4508"),
        ("127.0.0.1", None, "tcp://127.0.0.1:*"),
    ],
)
def test_tcp(host: str, port: object, text: str) -> None:
    assert endpoints.tcp(host, port) == text
