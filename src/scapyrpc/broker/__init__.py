"""The broker: one process, no Scapy. A sans-I/O core (`core`, `fairqueue`) inside an asyncio
shell (`shell`) that owns the sockets; the connection limit (`connections`) and the private ipc
directory (`rundir`)."""
