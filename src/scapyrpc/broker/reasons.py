"""Why the broker answered a request itself, why a worker left the pool, why a local process
was replaced: each reason once, with the texts that name it.

A reason's `label` is what logs and metrics show (the `reason` label of `scapyrpc_refused`,
`scapyrpc_workers_gone` and `scapyrpc_worker_restarts`); a refusal also carries the message its
client reads. Operators' dashboards and the docs rely on these texts: they do not change.
"""

from __future__ import annotations

import enum

__all__ = ["Departure", "Refusal", "Restart"]


class Refusal(enum.Enum):
    """A request the broker answered with an error of its own. `template` is the client's
    message, formatted with `n` (the refusal's detail: a size or seconds), `limit` (the request
    size limit) and `method` (peeked from the request)."""

    BUSY = ("busy", "server busy, try again later")
    TOO_LARGE = ("too_large", "request of {n:.0f} bytes exceeds the limit of {limit} bytes")
    STOPPING = ("stopping", "server is shutting down")
    DEADLINE = ("deadline", "request deadline of {n:g} s exceeded while handling {method}")
    NO_WORKER = ("no_worker", "no worker became available within {n:g} s")
    WORKER_LOST = ("worker_lost", "worker lost while handling {method}")

    def __init__(self, label: str, template: str) -> None:
        self.label = label
        self.template = template
        self.names_method = "{method}" in template


class Departure(enum.Enum):
    """Why a worker left the pool; `routine`: logged at info, not as a warning."""

    RETIRED = ("retired", True)  # recycled after a reply (`X` frame)
    LEFT = ("left", True)  # stopped by a signal while idle (`G` frame)
    EXITED = ("process exited", False)
    SILENT = ("heartbeat timeout", False)
    DEADLINE = ("deadline", False)  # killed for a request past its deadline
    UNREACHABLE = ("unreachable", False)  # a send to it failed
    REREGISTERED = ("re-registered", False)  # its identity or process said READY again

    def __init__(self, label: str, routine: bool) -> None:
        self.label = label
        self.routine = routine


class Restart(enum.Enum):
    """Why a local worker process was replaced."""

    RETIRED = "retired"
    EXITED = "exited"
    DIED_STARTING = "died starting"  # exited before it said READY
    START_FAILED = "start failed"  # the pool could not start it

    def __init__(self, label: str) -> None:
        self.label = label
