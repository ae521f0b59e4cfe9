"""What crosses a socket, written once: the broker<->worker frames (`frames`), JSON-RPC envelopes,
errors and id peeking (`jsonrpc`), the client contract (`contract`), CurveZMQ keys (`curve`) and
endpoints and addresses (`endpoints`). Nothing here imports Scapy."""
