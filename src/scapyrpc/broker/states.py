"""The records the broker's core keeps (jobs, workers, local processes), the states each moves
through, and the one function that moves them.

Each kind of record has an enum of states and a table of the moves allowed from each state;
`move` is the only place a record's state changes, and an illegal move raises `IllegalMove`
(a bug in the core, never a client's doing). Moving also stamps `entered`, the time the record
entered its state, which is all a state's clock needs:

    job     QUEUED   its wait for a worker ends at entered + request_timeout (then `no_worker`)
            RUNNING  its run ends at entered + request_timeout (then `deadline`)
            EARLY    no clock: it starts when the request before it on its worker is answered
    worker  LEAVING  dropped at entered + exit_grace (a last reply may still be crossing)
            EXITING  no clock: a local process killed or retiring; LEAVING once its exit is seen
    process STARTING killed if still starting past entered + startup_timeout

The diagrams are in `core.py`; the tables below are the truth (tests hold the two together).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from scapyrpc.broker.actions import Route
from scapyrpc.broker.reasons import Departure

__all__ = [
    "JOB_MOVES",
    "PROCESS_MOVES",
    "WORKER_MOVES",
    "IllegalMove",
    "Job",
    "JobState",
    "Process",
    "ProcessState",
    "Stateful",
    "Worker",
    "WorkerState",
    "move",
]


class JobState(enum.Enum):
    moves: tuple[JobState, ...]  # where it may go: JOB_MOVES[state]

    QUEUED = "queued"
    EARLY = "handed early"
    RUNNING = "running"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"


class WorkerState(enum.Enum):
    moves: tuple[WorkerState, ...]  # WORKER_MOVES[state]

    SERVING = "serving"  # in the pool: may be handed requests
    EXITING = "exiting"  # leaving: a local process killed or retiring, its exit not yet seen
    LEAVING = "leaving"  # leaving: dropped when its grace ends
    GONE = "gone"  # out of the pool (reported with WorkerGone)


class ProcessState(enum.Enum):
    moves: tuple[ProcessState, ...]  # PROCESS_MOVES[state]

    STARTING = "starting"  # started, has not said READY
    KILLED = "killed"  # killed for taking too long to start
    READY = "ready"  # said READY at least once: a later death is not a failed start
    EXITED = "exited"


S = TypeVar("S", JobState, WorkerState, ProcessState)

_J, _W, _P = JobState, WorkerState, ProcessState

JOB_MOVES: Mapping[JobState, tuple[JobState, ...]] = {
    _J.QUEUED: (_J.RUNNING, _J.EARLY, _J.FAILED),  # dispatched; wait deadline, evicted, stopping, client gone
    _J.EARLY: (_J.RUNNING, _J.QUEUED, _J.FAILED),  # the one before it answered; requeued; stopping
    _J.RUNNING: (_J.ANSWERED, _J.EXPIRED, _J.FAILED, _J.QUEUED),  # QUEUED: its send failed, it never ran
    _J.ANSWERED: (),
    _J.EXPIRED: (),
    _J.FAILED: (),
}

WORKER_MOVES: Mapping[WorkerState, tuple[WorkerState, ...]] = {
    _W.SERVING: (_W.EXITING, _W.LEAVING, _W.GONE),
    _W.EXITING: (_W.LEAVING, _W.GONE),  # GONE: silent before its exit was seen, or re-registered
    _W.LEAVING: (_W.GONE,),
    _W.GONE: (),
}

PROCESS_MOVES: Mapping[ProcessState, tuple[ProcessState, ...]] = {
    _P.STARTING: (_P.READY, _P.KILLED, _P.EXITED),
    _P.KILLED: (_P.READY, _P.EXITED),  # READY: it said so while the kill was on its way
    _P.READY: (_P.EXITED,),
    _P.EXITED: (),
}


def _attach(table: Mapping[S, tuple[S, ...]]) -> None:
    """Give each state its moves, for `move` to read without hashing an enum (a Python-level call)."""
    for state, moves in table.items():
        state.moves = moves


_attach(JOB_MOVES)
_attach(WORKER_MOVES)
_attach(PROCESS_MOVES)


class IllegalMove(RuntimeError):
    """A move its state's table does not allow."""


class Stateful(Protocol[S]):
    state: S
    entered: float


def move(record: Stateful[S], state: S, now: float) -> None:
    """Move `record` to `state` at time `now`, if its table allows it; else raise IllegalMove."""
    if state not in record.state.moves:
        raise IllegalMove(f"{type(state).__name__}: {record.state.name} -> {state.name} ({record!r})")
    record.state = state
    record.entered = now


@dataclass(eq=False, slots=True)
class Job:
    """One accepted request."""

    tag: int
    client: bytes
    route: Route  # None once the client is gone: the reply is dropped
    body: bytes
    size: int
    accepted: float  # when the request arrived
    remote: bool = False  # from a peer beyond this host (opaque here: the worker acts on it)
    label: str = ""  # what kind of request (the shell's: its method), for how long such ran lately
    state: JobState = JobState.QUEUED
    entered: float = 0.0  # when it entered its state (QUEUED: `accepted`)
    worker: Worker | None = None  # while EARLY or RUNNING


@dataclass(eq=False, slots=True)
class Worker:
    """A worker in the pool table (a local process of ours, or a remote one), by its identity."""

    ident: bytes
    pid: int
    host: str
    this_host: bool
    entered: float  # when it entered its state (SERVING: when it said READY)
    last_seen: float
    local: bool = False  # a process of our pool (we can kill it, its exit is reported)
    version: str = ""  # what its answers depend on (from READY; opaque to the core)
    state: WorkerState = WorkerState.SERVING
    why: Departure | None = None  # why it is leaving (the first reason given): None while SERVING
    jobs: deque[Job] = field(default_factory=deque)  # RUNNING first, then EARLY
    stale: set[int] = field(default_factory=set)  # tags a remote worker still runs after a deadline


@dataclass(eq=False, slots=True)
class Process:
    """A local worker process started for the pool."""

    pid: int
    entered: float  # when it entered its state (STARTING: when the pool reported it)
    state: ProcessState = ProcessState.STARTING
    worker: Worker | None = None  # its pool entry while it has one
