"""The packet side: pure functions over Scapy, no transport. `service` is the method table; the
model goes in through `model` and `values_in`, results come out of `dissect` and `values_out`."""
