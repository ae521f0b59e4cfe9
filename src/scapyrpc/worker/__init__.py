"""A worker process: a DEALER that turns request bytes into reply bytes (`rpc`) with the packet
service, and a heartbeat thread (`main`)."""
