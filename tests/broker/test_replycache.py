"""The reply cache in process: what it keeps, under which key and version, what it gives back,
and its bound. (Over real sockets, for every cacheable method: test_reply_cache_wire.)"""

from __future__ import annotations

import json

import orjson
import pytest

from scapyrpc.broker.replycache import ENTRY_OVERHEAD, KEY_BYTES, ReplyCache, read
from scapyrpc.wire.jsonrpc import result_body

V1, V2 = "scapyrpc 1 scapy 2.8.0", "scapyrpc 2 scapy 2.8.0"


def request(request_id: object, method: str = "get_definitions", params: object = ("IP",)) -> bytes:
    body = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = list(params) if isinstance(params, tuple) else params
    try:
        return orjson.dumps(body)
    except TypeError:  # an id past 64 bits
        return json.dumps(body).encode()


def reply(request_id: object, result: object) -> bytes:
    return result_body(request_id, result)


def filled(cache: ReplyCache, version: str, body: bytes, result: object, method: str = "get_definitions") -> None:
    call = read(body)
    assert call is not None
    cache.fill(version, method, body, reply(call.request_id, result))


@pytest.mark.parametrize("request_id", ["a", "", "é\n\u2028", 0, -7, 2**63, 2**64 + 1, -(2**70), 1.5, 1e300, None])
def test_the_answer_is_the_reply_a_worker_writes_for_the_new_id(request_id: object) -> None:
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request("first"), {"IP": [1, 2, 3], "big": 2**100})
    call = read(request(request_id))
    assert call is not None
    assert cache.answer(call, [V1]) == reply(request_id, {"IP": [1, 2, 3], "big": 2**100})
    cache.check()


def test_a_request_without_id_is_answered_with_null_as_a_worker_does() -> None:
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request(1), True)
    call = read(b'{"jsonrpc":"2.0","method":"get_definitions","params":["IP"]}')
    assert call is not None and cache.answer(call, [V1]) == reply(None, True)


@pytest.mark.parametrize("request_id", [True, [1], {"a": 1}])
def test_an_id_a_worker_refuses_is_never_answered_here(request_id: object) -> None:
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request(1), True)
    assert read(request(request_id)) is None


def test_the_key_is_the_call_as_a_worker_reads_it() -> None:
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request(1, params=["IP"]), "ip")
    same = [
        b'{ "id" : 2, "jsonrpc":"2.0", "method":"get_definitions", "params": [ "IP" ] }',  # spacing, the id's place
        b'{"jsonrpc":"2.0","id":3,"method":"get_defin\\u0069tions","params":["\\u0049P"]}',  # escapes
    ]
    for body in same:
        call = read(body)
        assert call is not None and cache.answer(call, [V1]) == reply(call.request_id, "ip")
    other = [
        request(4, params=["TCP"]),
        request(4, params=["gCpT7kGF+TG7Jmm90XmxdQ==", "IP"]),  # the GUI's shape is a call of its own
        request(4, params=None),
        b'{"jsonrpc":"2.0","id":4,"method":"get_definitions","params":["IP"],"extra":1}',
        b'{"jsonrpc":"1.0","id":4,"method":"get_definitions","params":["IP"]}',  # the worker refuses it
        request(4, method="get_tree"),
        b'{"jsonrpc":"2.0","id":4,"params":["IP"],"method":"get_definitions"}',  # order: a key of its own
    ]
    for body in other:
        call = read(body)
        assert call is not None and cache.answer(call, [V1]) is None


def test_integers_past_64_bits_are_read_exactly() -> None:
    """orjson reads 2**64 and 2**64 + 1 as the same float: the key must not."""
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request(1, params=[2**64]), "first")
    call = read(request(2, params=[2**64 + 1]))
    assert call is not None and call.exact and cache.answer(call, [V1]) is None
    call = read(request(3, params=[2**64]))
    assert call is not None and cache.answer(call, [V1]) == reply(3, "first")


def test_entries_belong_to_the_version_that_made_them() -> None:
    cache = ReplyCache(1 << 20)
    filled(cache, V1, request(1), "from 1")
    call = read(request(2))
    assert call is not None
    assert cache.answer(call, [V2]) is None  # only workers of V2 in the pool
    assert cache.answer(call, []) is None
    filled(cache, V2, request(3), "from 2")
    assert cache.answer(call, [V2]) == reply(2, "from 2")
    assert cache.answer(call, [V1, V2]) == reply(2, "from 1")
    assert len(cache) == 2
    cache.check()


def test_what_is_not_a_workers_result_reply_to_that_request_is_not_kept() -> None:
    cache = ReplyCache(1 << 20)
    body = request("x")
    for wrong in (
        reply("y", True),  # another id
        b'{"jsonrpc":"2.0","id":"x","error":{"code":-32098,"message":"no"}}',
        b'{"jsonrpc":"2.0","id":"x","result":true',
        b"",
    ):
        cache.fill(V1, "get_definitions", body, wrong)
    cache.fill(V1, "get_tree", body, reply("x", True))  # the note names another method
    cache.fill(V1, "get_definitions", b"x" * (KEY_BYTES + 1), reply(None, True))
    assert len(cache) == 0 and cache.misses == {"get_definitions": 5, "get_tree": 1}


def test_the_cache_is_bounded_by_bytes_least_recently_used_first() -> None:
    result = "r" * 1000
    size = (
        len(read(request(0, params=["P0"])).key())
        + len(V1)
        + len(reply(0, result))
        - len(b'{"jsonrpc":"2.0","id":0,"result":')
    )
    cache = ReplyCache(3 * (size + ENTRY_OVERHEAD))
    for i in range(3):
        filled(cache, V1, request(i, params=[f"P{i}"]), result)
    assert len(cache) == 3 and cache.bytes == cache.max_bytes
    assert cache.answer(read(request(9, params=["P0"])), [V1]) is not None  # P0 is now the most recent
    filled(cache, V1, request(3, params=["P3"]), result)
    assert len(cache) == 3 and cache.evictions == 1
    assert cache.answer(read(request(9, params=["P1"])), [V1]) is None  # the least recently used went
    assert cache.answer(read(request(9, params=["P0"])), [V1]) is not None
    filled(cache, V1, request(4, params=["P4"]), "r" * cache.max_bytes)  # larger than the whole cache
    assert len(cache) == 3
    cache.check()


def test_a_large_reply_kept_from_a_view_of_the_frame() -> None:
    cache = ReplyCache(1 << 24)
    body = request("big", params=None)
    everything = {f"class{i}": list(range(50)) for i in range(2000)}
    cache.fill(V1, "get_definitions", body, memoryview(reply("big", everything)))
    call = read(request(5, params=None))
    assert call is not None and cache.answer(call, [V1]) == reply(5, everything)


def test_off_keeps_nothing() -> None:
    cache = ReplyCache(0)
    assert not cache.enabled
    filled(cache, V1, request(1), True)
    assert len(cache) == 0 and cache.misses == {}


def test_a_method_marked_pure_that_answers_differently_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    cache = ReplyCache(1 << 20)
    for result in ("one", "two", "three"):
        filled(cache, V1, request(1), result)
    assert [r.getMessage() for r in caplog.records] == [
        f"worker version {V1!r} answered get_definitions differently for the same request"
    ]
    assert cache.answer(read(request(2)), [V1]) == reply(2, "three")
