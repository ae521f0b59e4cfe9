"""Replies the broker gives itself: answers a worker said are fixed for its version.

A worker marks a reply cacheable in its note (`wire/frames.py`) when its method is pure (the
answer depends only on the params and on the worker's version: `packets/service.PURE`) and the
outcome is ok; errors are never marked. The broker keeps such a reply under the worker's version
(sent in READY) and the request without its id, and answers the same request again without a
worker, with the new request's id put in. That is the same bytes a worker would have sent: a
worker writes every result reply as `RESULT_HEAD + id + RESULT_MID + result + "}"`, its result
part never depending on the id (`wire/jsonrpc.result_body`), and the id here is read and written
as the worker reads and writes it.

The key is the request as a worker reads it (orjson; the standard library when an integer may
pass 64 bits, as `worker/rpc` does), without its id, written again: two requests share an entry
only when a worker reads them as the same call (the params, the method, the handler or its
absence and every other member of the envelope). Only requests up to KEY_BYTES are looked up.
A request whose id a worker would refuse is not answered here.

Versions: a reply is kept under the version of the worker that made it and given only while a
worker of that version is in the pool (`Scheduler.versions`), so a worker of another scapyrpc
or Scapy version never fills or serves another's entries. Bounded by bytes, least recently used
entries going first; 0 bytes turns the cache off. Sans I/O: the shell asks and fills it.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from scapyrpc.wire.jsonrpc import RESULT_HEAD, RESULT_MID, id_json, is_request_id, long_integer_in, maybe_rounded

__all__ = ["CacheFigures", "Call", "ReplyCache", "read"]

log = logging.getLogger("scapyrpc.broker")

KEY_BYTES = 16 * 1024  # larger requests are neither looked up nor kept
ENTRY_OVERHEAD = 200  # bytes an entry costs beyond its key and reply (tuple, dict slot, objects)
MAX_METHODS = 1000  # distinct method names counted apart (a worker's method table is far smaller)


@dataclass(slots=True)
class Call:
    """A request as a worker reads it, its id taken out."""

    method: str
    request_id: Any
    rest: dict[str, Any]  # the request without its id
    exact: bool  # read by the standard library (integers past 64 bits kept exact)

    def key(self) -> bytes:
        """The request without its id, written again (the same text for the same call)."""
        if not self.exact:
            return orjson.dumps(self.rest)
        try:
            return orjson.dumps(self.rest)
        except TypeError:  # an integer past 64 bits: the standard library writes it exactly
            return json.dumps(self.rest, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read(body: bytes) -> Call | None:
    """The call in `body` as a worker reads it, or None when it is too large, not a request
    object, or its id is one a worker refuses (never answered from the cache)."""
    if len(body) > KEY_BYTES:
        return None
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:  # not JSON, or JSON orjson refuses (1e999): the worker's affair
        return None
    if type(request) is not dict:
        return None
    exact = long_integer_in(body) or maybe_rounded(request.get("id"))
    if exact:
        try:  # orjson took it, so it is UTF-8 without NaN or lone surrogates: only numbers differ
            request = json.loads(body)
        except (ValueError, RecursionError):
            return None
    request_id = request.pop("id", None)
    method = request.get("method")
    if type(method) is not str or not is_request_id(request_id):
        return None
    return Call(method, request_id, request, exact)


@dataclass(frozen=True, slots=True)
class CacheFigures:
    """The reply cache at one moment (`Figures.reply_cache`)."""

    max_bytes: int = 0
    bytes: int = 0
    entries: int = 0
    evictions: int = 0
    hits: dict[str, int] = field(default_factory=dict)  # method -> requests answered from the cache
    misses: dict[str, int] = field(default_factory=dict)  # method -> cacheable replies a worker had to make


class ReplyCache:
    """Bytes-bounded LRU of result replies, by (worker version, request without its id)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.enabled = max_bytes > 0
        self.bytes = 0
        self.evictions = 0
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}
        self._entries: OrderedDict[tuple[str, bytes], tuple[str, bytes]] = OrderedDict()  # -> (method, tail)
        self._methods: dict[str, int] = {}  # method -> entries: requests of other methods skip the key
        self._differed: set[str] = set()  # methods already logged for answers that changed

    def __len__(self) -> int:
        return len(self._entries)

    def answer(self, call: Call, versions: Iterable[str]) -> bytes | None:
        """The reply a worker of one of `versions` (those in the pool, preferred first) would make
        to `call`, if one is kept; counts the hit."""
        if call.method not in self._methods:
            return None
        key = call.key()
        entries = self._entries
        for version in versions:
            entry = entries.get((version, key))
            if entry is not None:
                entries.move_to_end((version, key))
                self._count(self.hits, call.method)
                return RESULT_HEAD + id_json(call.request_id) + RESULT_MID + entry[1]
        return None

    def fill(self, version: str, method: str, request: bytes, reply: bytes | memoryview) -> None:
        """Keep `reply`, which a worker of `version` marked cacheable, made for `request` (a miss:
        the cache could not answer it). A reply not shaped as a worker's result reply to that
        request, or larger than the whole cache, is not kept."""
        if not self.enabled:
            return
        self._count(self.misses, method)
        call = read(request)
        if call is None or call.method != method:
            return
        head = RESULT_HEAD + id_json(call.request_id) + RESULT_MID
        if len(reply) <= len(head) or reply[: len(head)] != head or reply[-1:] != b"}":
            return
        tail = bytes(reply[len(head) :])
        key = (version, call.key())
        size = len(key[0]) + len(key[1]) + len(tail) + ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._forget(key, old)
            if old[1] != tail and method not in self._differed:  # a method marked pure that is not
                self._differed.add(method)
                log.warning("worker version %r answered %s differently for the same request", version, method)
        self._entries[key] = (method, tail)
        self._methods[method] = self._methods.get(method, 0) + 1
        self.bytes += size
        while self.bytes > self.max_bytes:
            oldest, entry = self._entries.popitem(last=False)
            self._forget(oldest, entry)
            self.evictions += 1

    def figures(self) -> CacheFigures:
        return CacheFigures(
            self.max_bytes, self.bytes, len(self._entries), self.evictions, dict(self.hits), dict(self.misses)
        )

    def check(self) -> None:
        """Assert the bookkeeping (for tests)."""
        sizes = sum(len(v) + len(k) + len(t) + ENTRY_OVERHEAD for (v, k), (_, t) in self._entries.items())
        assert sizes == self.bytes <= max(self.max_bytes, 0), (sizes, self.bytes)
        methods: dict[str, int] = {}
        for method, _ in self._entries.values():
            methods[method] = methods.get(method, 0) + 1
        assert methods == self._methods, (methods, self._methods)

    def _forget(self, key: tuple[str, bytes], entry: tuple[str, bytes]) -> None:
        self.bytes -= len(key[0]) + len(key[1]) + len(entry[1]) + ENTRY_OVERHEAD
        method = entry[0]
        left = self._methods[method] - 1
        if left:
            self._methods[method] = left
        else:
            del self._methods[method]

    @staticmethod
    def _count(counts: dict[str, int], method: str) -> None:
        if method in counts or len(counts) < MAX_METHODS:
            counts[method] = counts.get(method, 0) + 1
