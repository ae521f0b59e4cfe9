"""The broker: one process, no Scapy. A sans-I/O core (`core`: the scheduler; `states`: its
records and their state tables; `actions`: what it asks for; `reasons`: why it refused or lost
something; `fairqueue`: the waiting room) inside an asyncio shell (`shell`) that owns the
sockets; what observers see (`figures`); the connection limit (`connections`) and the private
ipc directory (`rundir`)."""
