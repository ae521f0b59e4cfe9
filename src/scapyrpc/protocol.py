"""The frames between the broker (ROUTER back end) and its workers (DEALER).

Worker -> broker (after the ROUTER's identity frame):
    READY     [b"R", pid, hostname]          joined the pool, idle
    HEARTBEAT [b"H", ident]                  worker `ident` is alive: sent every HEARTBEAT_INTERVAL,
                                             busy or not, from the worker's heartbeat socket
    REPLY     [kind + tag, body]             kind is REPLY (stay), RETIRE (leaving after this
                                             reply: recycled) or SHUTDOWN (reply, then stop the server)
    GONE      [b"G"]                         leaving now, nothing pending (stopped by a signal while idle)
Broker -> worker:
    REQUEST   [b"Q" + tag, body]             the client's envelope stays in the broker
    HEARTBEAT [b"H"]                         broker alive (idle workers reconnect when it stops)

`tag` is the broker's request number (TAG_BYTES bytes, joined to the kind
byte so a request or reply is one frame shorter); a reply whose tag is no
longer in flight (its deadline passed) is dropped. No frame carries Scapy objects:
the broker routes bytes and never imports Scapy.
"""

READY = b"R"
HEARTBEAT = b"H"
REQUEST = b"Q"
REPLY = b"P"
RETIRE = b"X"
SHUTDOWN = b"S"
GONE = b"G"

REPLY_KINDS = (REPLY, RETIRE, SHUTDOWN)
TAG_BYTES = 8

HEARTBEAT_INTERVAL = 1.0  # seconds
HEARTBEAT_LIVENESS = 3  # missed intervals before a peer counts as gone
