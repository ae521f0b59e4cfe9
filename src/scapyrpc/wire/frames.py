"""The frames between the broker (ROUTER back end) and its workers (DEALER).

Worker -> broker (after the ROUTER's identity frame):
    READY     [b"R", pid, hostname, layout, version]
                                             joined the pool, idle; `layout` is VERSION (a worker
                                             speaking another frame layout is not given work);
                                             `version` (ASCII, at most 255 bytes) names what its
                                             answers depend on besides the request: scapyrpc's and
                                             Scapy's versions, its layers and settings (the broker
                                             keeps replies per version)
    HEARTBEAT [b"H", ident]                  worker `ident` is alive: sent every HEARTBEAT_INTERVAL,
                                             busy or not, from the worker's heartbeat socket
    REPLY     [kind + tag + n + note + body] kind is REPLY (stay), RETIRE (leaving after this
                                             reply: recycled) or SHUTDOWN (reply, then stop the server);
                                             `note` (n bytes, ASCII) is "METHOD OUTCOME", what the
                                             worker answered, for the broker's metrics and logs, or
                                             "METHOD ok cacheable": an answer fixed for the worker's
                                             version, which the broker may give again itself
    GONE      [b"G"]                         leaving now, nothing pending (stopped by a signal while idle)
Broker -> worker:
    REQUEST   [b"Q" + tag + body]            the client's envelope stays in the broker; b"q" for a
                                             request from beyond this host (the worker refuses
                                             shut_down in one, unless the server allows it)
    HEARTBEAT [b"H"]                         broker alive (idle workers reconnect when it stops)

`tag` is the broker's request number (TAG_BYTES bytes); kind, tag and body
travel as one frame, so a request or reply costs each side one frame after
the routing identity. The note names the method (one the worker has, or
`unknown`, or `invalid` when no request could be read) and the outcome (`ok`,
or the JSON-RPC error code), so the broker can count replies by method without
reading JSON; its values are bounded by the worker's method table. Which methods
are cacheable is the worker's decision (`packets/service.PURE`), and only for ok
outcomes. A reply whose tag is
no longer in flight (its deadline passed) is dropped. No frame carries Scapy objects:
the broker routes bytes and never imports Scapy.
"""

from typing import Any

__all__ = [
    "CACHEABLE",
    "GONE",
    "HEAD_BYTES",
    "HEARTBEAT",
    "HEARTBEAT_INTERVAL",
    "HEARTBEAT_LIVENESS",
    "READY",
    "REMOTE_REQUEST",
    "REPLY",
    "REPLY_KINDS",
    "REQUEST",
    "RETIRE",
    "SHUTDOWN",
    "VERSION",
    "cacheable",
    "note",
    "reply",
    "request",
    "split_reply",
]

READY = b"R"
HEARTBEAT = b"H"
REQUEST = b"Q"
REMOTE_REQUEST = b"q"
REPLY = b"P"
RETIRE = b"X"
SHUTDOWN = b"S"
GONE = b"G"

REPLY_KINDS = (REPLY, RETIRE, SHUTDOWN)
TAG_BYTES = 8
VERSION = b"4"  # 2: replies carry a note; 3: requests say whether they came from beyond this host;
# 4: READY carries the worker's version, notes may say "cacheable"
CACHEABLE = b" cacheable"  # ends the note of a reply the broker may keep

HEARTBEAT_INTERVAL = 1.0  # seconds
HEARTBEAT_LIVENESS = 3  # missed intervals before a peer counts as gone

HEAD_BYTES = 1 + TAG_BYTES


def request(tag: int, body: bytes, remote: bool = False) -> bytes:
    """The REQUEST frame for request `tag` (`remote`: from a peer beyond this host)."""
    return (REMOTE_REQUEST if remote else REQUEST) + tag.to_bytes(TAG_BYTES, "big") + body


def note(method: str, code: int, cacheable: bool = False) -> bytes:
    """A reply's note: `method` and its outcome (`ok` for code 0, else the error code), and whether
    the broker may keep the reply (only an ok one)."""
    flag = CACHEABLE if cacheable and not code else b""
    text = f"{method} {code or 'ok'}".encode("ascii", "replace")[: 255 - len(flag)] + flag
    return bytes((len(text),)) + text


def cacheable(note: bytes) -> tuple[bytes, bool]:
    """(the note as metrics and logs read it, "METHOD OUTCOME"; whether the reply may be kept)."""
    if note.endswith(CACHEABLE):
        return note[: -len(CACHEABLE)], True
    return note, False


def reply(kind: bytes, head: bytes, note: bytes, body: bytes) -> bytes:
    """A reply frame of `kind` to the request whose frame started with `head` (kind + tag);
    `note` as `note()` makes it."""
    return kind + head[1:HEAD_BYTES] + note + body


def split_reply(frame: Any) -> tuple[bytes, int, bytes, bytes | memoryview]:
    """(kind, tag, note text, body) of a reply frame (a zmq.Frame); a large body stays a view, not a copy."""
    if len(frame) < 65536:
        data = frame.bytes
        end = HEAD_BYTES + 1 + data[HEAD_BYTES]
        return data[:1], int.from_bytes(data[1:HEAD_BYTES], "big"), data[HEAD_BYTES + 1 : end], data[end:]
    view = frame.buffer
    end = HEAD_BYTES + 1 + view[HEAD_BYTES]
    return (bytes(view[:1]), int.from_bytes(view[1:HEAD_BYTES], "big"), bytes(view[HEAD_BYTES + 1 : end]), view[end:])
