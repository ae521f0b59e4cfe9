"""The broker's core, without I/O: the fair queue, the worker table and the job state machine.

`Scheduler` takes events — a request accepted, a worker's reply, a worker ready,
a heartbeat, a local process started or exited, `tick(now)`, `stop(now)` — and
appends actions to `outbox`: send a request or a heartbeat to a worker, reply to
a client (a worker's reply, or an error the broker makes), start a local worker,
kill or terminate a pid, stopped. It reads no clock (every event carries `now`),
opens no socket and never parses a request: bodies are opaque bytes, clients
opaque keys, routes whatever the shell needs to answer.

A job (one accepted request) moves through these states:

    QUEUED ──dispatch──► RUNNING ─────reply────► ANSWERED
       │  ╲                 ▲    ╲───deadline──► EXPIRED
       │   ╲─dispatch─► EARLY┘     ╲─worker lost► FAILED
       │               (behind the running one,
       │                requeued if its worker goes)
       ╰─wait deadline, evicted, stopping, client gone──► FAILED

Invariants (checked by `check()` in the tests):
  1. An accepted job is in exactly one place: the queue (QUEUED), one worker's
     `jobs` (RUNNING first, then EARLY), or nowhere once ANSWERED/EXPIRED/FAILED.
  2. A job leaves for a final state exactly once, through `_finish`, which emits
     its one reply (none when its client is gone).
  3. A worker holds at most 1 + PREFETCH jobs; only its first is RUNNING, and
     only a RUNNING job's deadline is finite.
  4. A worker that is `leaving` (retiring, exited, unreachable) is given nothing.
  5. A request that never ran is never failed for its worker's sake: EARLY jobs
     of a lost, expired, retiring or leaving worker, and a request whose send
     failed, go back to the front of the queue. (A remote worker cannot be
     killed: after a deadline it still runs what it was handed early, so such a
     request may run twice; its `stale` tags are dropped when answered, and it is
     given nothing until it has answered them all.)
  6. Local processes = `procs` + `starting`; while not stopping, a death is
     replaced: at once if the worker had served, with back-off if it died
     before saying READY (a worker that cannot start must not spin).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scapyrpc.config.options import BrokerConfig
from scapyrpc.broker.fairqueue import FairQueue


class State(enum.Enum):
    QUEUED = "queued"
    EARLY = "handed early"
    RUNNING = "running"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"


# ---- actions (what the shell must do, in order) -------------------------------------------


class ToWorker(NamedTuple):
    """Send request `tag` with `body` to worker `ident` (`remote`: from beyond this host)."""

    ident: bytes
    tag: int
    body: bytes
    remote: bool = False


class Ping(NamedTuple):
    """Send a heartbeat to worker `ident`."""

    ident: bytes


@dataclass(slots=True)
class ToClient:
    """Deliver a worker's reply `body` on `route`. The rest describes the reply for metrics and
    logs and is not compared: when the request was accepted, the worker's note on it (see
    `protocol.py`) and the worker's pid."""

    route: Any
    body: bytes
    accepted: float = field(default=0.0, compare=False)
    note: bytes = field(default=b"", compare=False)
    pid: int = field(default=0, compare=False)


@dataclass(slots=True)
class Refuse:
    """Answer the request `body` on `route` with a broker-made error; `reason` is one of
    REASONS, `detail` what the message needs (a size, a method is peeked from `body`);
    `accepted` (not compared) when the request arrived."""

    route: Any
    body: bytes
    reason: str
    detail: float = 0
    accepted: float = field(default=0.0, compare=False)


class StartWorker(NamedTuple):
    """Start one local worker process; report it with `started` (or `start_failed`)."""


class Kill(NamedTuple):
    """SIGKILL local process `pid`."""

    pid: int


class Terminate(NamedTuple):
    """SIGTERM local process `pid` (the server is stopping)."""

    pid: int


class WorkerGone(NamedTuple):
    """Worker process `pid` on `host` left the pool, for `reason` (to log and count)."""

    pid: int
    host: str
    reason: str
    local: bool


class PoolReady(NamedTuple):
    """Every local worker has said READY once (emitted once)."""


class Stopping(NamedTuple):
    """The stop has begun (emitted once): new requests are refused from now on."""


class Stopped(NamedTuple):
    """Nothing is left to answer and every local process has exited (or was given up on)."""

    shutdown_requested: bool


REASONS = ("busy", "too_large", "stopping", "deadline", "no_worker", "worker_lost")


# ---- settings and records -----------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Job:
    tag: int
    client: bytes
    route: Any  # None once the client is gone: the reply is dropped
    body: bytes
    size: int
    deadline: float  # QUEUED: end of the wait; RUNNING: end of the run; EARLY: inf
    accepted: float  # when the request arrived
    remote: bool = False  # from a peer beyond this host (opaque here: the worker acts on it)
    state: State = State.QUEUED
    worker: Worker | None = None


@dataclass(eq=False, slots=True)
class Worker:
    ident: bytes
    pid: int
    host: str
    local: bool  # a process of our pool (we can kill it, its exit is reported)
    this_host: bool
    last_seen: float
    jobs: deque[Job] = field(default_factory=deque)  # RUNNING first, then EARLY
    started: float = 0.0  # when jobs[0] began running
    leaving: bool = False
    gone_at: float = math.inf  # when a leaving worker is dropped (its grace ends)
    why: str = ""  # why it is leaving
    stale: set[int] = field(default_factory=set)  # tags a remote worker still runs after a deadline


@dataclass(eq=False, slots=True)
class Process:
    """A local worker process started for the pool."""

    pid: int
    started: float
    worker: Worker | None = None  # its pool entry while it has one
    ready: bool = False  # said READY at least once: a later death is not a failed start
    killed: bool = False


PREFETCH = 1  # requests a busy worker may hold beyond the one it runs


def _refuse(job: Job, reason: str, detail: float = 0) -> Refuse:
    return Refuse(job.route, job.body, reason, detail, job.accepted)


class Scheduler:
    """The broker's decisions; see the module docstring for the states and invariants."""

    def __init__(self, config: BrokerConfig, local_workers: int = 0) -> None:
        self.config = config
        self.local_workers = local_workers
        self.outbox: list[Any] = []
        self.queue: FairQueue[Job] = FairQueue()
        self.workers: dict[bytes, Worker] = {}
        self.idle: deque[Worker] = deque()  # least recently used first; may hold stale entries
        self.inflight: dict[int, Job] = {}  # EARLY and RUNNING jobs by tag
        self.procs: dict[int, Process] = {}
        self.starting = 0  # StartWorker actions not yet answered by started/start_failed
        self.stopping = False
        self.stopped = False
        self.shutdown_requested = False
        self.served = 0
        self.restarts: dict[str, int] = {}
        self._tag = 0
        self._start_failures = 0  # consecutive local workers that died before READY
        self._next_start = 0.0  # no StartWorker before this (back-off)
        self._next_ping = 0.0
        self._drain_until = math.inf
        self._terminating_since = math.inf
        self._pool_ready = local_workers == 0
        if self._pool_ready:
            self.outbox.append(PoolReady())  # nothing to wait for

    # ---- clients -------------------------------------------------------------------------

    def request(self, client: bytes, route: Any, body: bytes, size: int, now: float, remote: bool = False) -> None:
        """A request arrived (`size`: every byte of it, envelope included; `remote`: passed on to
        the worker with it)."""
        config = self.config
        if self.stopping:
            self.outbox.append(Refuse(route, body, "stopping", 0, now))
            return
        if size > config.max_request_bytes:
            self.outbox.append(Refuse(route, body, "too_large", size, now))
            return
        self._tag += 1
        job = Job(self._tag, client, route, body, size, now + config.request_timeout, now, remote)
        idle = self.idle
        while idle:  # an idle worker takes it before any bound counts it
            worker = idle.popleft()
            if self._is_idle(worker):
                self._send(worker, job, now)
                return
        if not self._admit(job):
            self.outbox.append(Refuse(route, body, "busy", 0, now))
            return
        self.queue.push(job)
        self._dispatch(now)

    def _admit(self, job: Job) -> bool:
        """Room in the queue for `job`, evicting the heaviest holder's newest requests if it must."""
        config, queue = self.config, self.queue
        held = queue.held(job.client)
        while queue.count >= config.max_queue or queue.bytes + job.size > config.max_queued_bytes:
            if held >= queue.most_held() or job.size > config.max_queued_bytes:
                return False
            evicted = queue.pop_newest_of_heaviest()
            assert evicted is not None and evicted.client != job.client
            self._finish(evicted, State.FAILED, _refuse(evicted, "busy"))
        return True

    def client_gone(self, client: bytes) -> None:
        """A client that cannot be answered any more (a closed WebSocket): drop what it waits for."""
        for job in self.queue.pop_client(client):
            job.route = None
            self._finish(job, State.FAILED, None)
        for job in self.inflight.values():
            if job.client == client:
                job.route = None

    # ---- workers -------------------------------------------------------------------------

    def ready(self, ident: bytes, pid: int, host: str, this_host: bool, now: float) -> None:
        """Worker `ident` (process `pid` on `host`, this host or not) joined and is idle."""
        old = self.workers.get(ident)
        if old is not None:
            self._lose(old, now, "re-registered")
        worker = Worker(ident, pid, host, False, this_host, now)
        self.workers[ident] = worker
        proc = self.procs.get(pid) if this_host else None
        if proc is not None:
            self._adopt(proc, worker)
        self.idle.append(worker)
        self._dispatch(now)

    def _adopt(self, proc: Process, worker: Worker) -> None:
        """`worker` is process `proc` of our pool (READY and the pool's report may come in either order)."""
        if proc.worker is not None and proc.worker is not worker:
            self._lose(proc.worker, worker.last_seen, "re-registered")
        proc.worker = worker
        proc.ready = True
        worker.local = True
        self._start_failures = 0
        if self._terminating_since < math.inf:
            self.outbox.append(Terminate(proc.pid))
        if not self._pool_ready and self._local_ready() >= self.local_workers:
            self._pool_ready = True
            self.outbox.append(PoolReady())

    def heartbeat(self, ident: bytes, now: float) -> None:
        worker = self.workers.get(ident)
        if worker is not None:
            worker.last_seen = now

    def reply(self, ident: bytes, tag: int, body: bytes, retiring: bool, shutdown: bool, now: float,
              note: bytes = b"") -> None:
        """Worker `ident` answered request `tag`; `retiring`: it exits after this reply; `note`:
        what it says the reply is (opaque here, passed on with the reply)."""
        worker = self.workers.get(ident)
        if worker is None:
            return  # from before a restart, or dropped after its grace: nobody waits for it
        worker.last_seen = now
        jobs = worker.jobs
        if jobs and jobs[0].tag == tag:
            job = jobs.popleft()
            self.served += 1
            answer = ToClient(job.route, body, job.accepted, note, worker.pid) if job.route is not None else None
            self._finish(job, State.ANSWERED, answer)
            if jobs:  # the request handed early starts now
                nxt = jobs[0]
                nxt.state = State.RUNNING
                nxt.deadline = now + self.config.request_timeout
                worker.started = now
        elif tag in worker.stale:
            worker.stale.discard(tag)  # a late reply: already answered, or requeued and run elsewhere
        if retiring:
            self._retire(worker, now)
        elif not jobs and not worker.leaving and not worker.stale:
            self.idle.append(worker)
        if shutdown:
            self.shutdown_requested = True
            self.stop(now)
        elif self.stopping:
            self._stop_step(now)
        self._dispatch(now)

    def unreachable(self, ident: bytes, tag: int, now: float) -> None:
        """A send to worker `ident` failed (it disconnected): request `tag` (0: a heartbeat) and
        every one handed to it after that never left. Those before it did: when the grace ends,
        the running one fails and the others are requeued, as for any lost worker."""
        worker = self.workers.get(ident)
        if worker is None:
            return
        job = self.inflight.get(tag)
        if job is not None and job.worker is worker:
            jobs = worker.jobs
            never_left = [jobs.pop() for _ in range(len(jobs) - jobs.index(job))]
            self._requeue(never_left[::-1], now)
        self._leave(worker, now + self.config.exit_grace, "unreachable")
        self._dispatch(now)

    def left(self, ident: bytes, now: float) -> None:
        """Worker `ident` is leaving (stopped by a signal while idle). It says so only when it has
        read no request since its last reply, so whatever it was handed never ran: requeued."""
        worker = self.workers.get(ident)
        if worker is not None:
            self._requeue_early(worker, now)
            self._leave(worker, now + self.config.exit_grace, "left")
            self._dispatch(now)

    # ---- local processes -----------------------------------------------------------------

    def started(self, pid: int, now: float) -> None:
        """The pool started process `pid` for a StartWorker action."""
        self.starting = max(0, self.starting - 1)
        proc = self.procs[pid] = Process(pid, now)
        for worker in self.workers.values():
            if worker.pid == pid and worker.this_host and not worker.leaving:
                self._adopt(proc, worker)  # it said READY before the pool reported it
                return
        if self._terminating_since < math.inf:
            self.outbox.append(Terminate(pid))

    def start_failed(self, now: float) -> None:
        """The pool could not (or, stopping, will not) start a process for a StartWorker action."""
        self.starting = max(0, self.starting - 1)
        if self.stopping:
            return self._check_stopped(now)
        self._start_failures += 1
        self._next_start = now + self._backoff()
        self._restart_reason("start failed")

    def exited(self, pid: int, now: float) -> None:
        """Local process `pid` has exited (and was reaped)."""
        proc = self.procs.pop(pid, None)
        if proc is None:
            return
        if not proc.ready:  # died before READY: maybe a worker that cannot start
            self._start_failures += 1
            self._next_start = now + self._backoff()
            self._restart_reason("died starting")
            self._respawn(now)
            return self._check_stopped(now)
        worker = proc.worker
        self._restart_reason("retired" if worker is not None and worker.why == "retired" else "exited")
        if worker is not None and self.workers.get(worker.ident) is worker:
            self._leave(worker, now + self.config.exit_grace, "process exited")
        self._respawn(now)
        self._check_stopped(now)

    # ---- time ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Deadlines, liveness, heartbeats, graces, respawns, the stop sequence."""
        config = self.config
        for worker in list(self.workers.values()):
            if worker.gone_at <= now:
                self._lose(worker, now, worker.why)
            elif now - worker.last_seen > config.heartbeat_interval * config.heartbeat_liveness:
                if worker.local:
                    self.outbox.append(Kill(worker.pid))
                self._lose(worker, now, "heartbeat timeout")
            elif worker.jobs and worker.jobs[0].deadline <= now:
                self._expire(worker, now)
        for job in self.queue.pop_expired(lambda job: job.deadline <= now):
            self._finish(job, State.FAILED, _refuse(job, "no_worker", config.request_timeout))
        if now >= self._next_ping:
            self._next_ping = now + config.heartbeat_interval
            self.outbox.extend(Ping(ident) for ident in self.workers)
        for proc in self.procs.values():
            if not proc.ready and not proc.killed and now - proc.started > config.startup_timeout:
                self.outbox.append(Kill(proc.pid))  # its exit comes as `exited`
                proc.killed = True
        self._respawn(now)
        if self.stopping:
            self._stop_step(now)
        self._dispatch(now)

    def stop(self, now: float) -> None:
        """Graceful stop: refuse new requests, finish queued and running ones, then end the pool."""
        if self.stopping:
            return
        self.stopping = True
        self.outbox.append(Stopping())
        drain = self.config.drain_timeout
        self._drain_until = now + (self.config.request_timeout + 1.0 if drain is None else drain)
        self._stop_step(now)

    # ---- queries -------------------------------------------------------------------------

    def pool_size(self) -> int:
        """Workers that can take requests."""
        return sum(1 for w in self.workers.values() if not w.leaving)

    def check(self) -> None:
        """Assert the invariants of the module docstring (for tests)."""
        seen: set[int] = set()
        for job in self.queue:
            assert job.state is State.QUEUED and job.worker is None, job
            assert job.tag not in seen
            seen.add(job.tag)
        for worker in self.workers.values():
            assert len(worker.jobs) <= 1 + PREFETCH, worker
            for i, job in enumerate(worker.jobs):
                assert job.worker is worker and job.tag not in seen, job
                assert job.state is (State.RUNNING if i == 0 else State.EARLY), job
                assert (job.deadline < math.inf) == (i == 0), job
                assert self.inflight.get(job.tag) is job
                seen.add(job.tag)
            if worker.leaving:
                assert not worker.jobs or worker.gone_at < math.inf, worker
            assert not (worker.stale and worker.jobs), worker  # a stale worker is given nothing
        assert set(self.inflight) == seen - {job.tag for job in self.queue}
        assert self.queue.count == sum(1 for _ in self.queue)

    # ---- internals -----------------------------------------------------------------------

    def _is_idle(self, worker: Worker) -> bool:
        return not worker.jobs and not worker.leaving and not worker.stale and self.workers.get(worker.ident) is worker

    def _local_ready(self) -> int:
        return sum(1 for w in self.workers.values() if w.local and not w.leaving)

    def _dispatch(self, now: float) -> None:
        """Idle workers first (least recently used); then, while requests still wait, each busy
        worker whose request is young gets its next one, to start the moment it replies."""
        queue = self.queue
        if not queue.count:
            return
        idle = self.idle
        while idle and queue.count:
            worker = idle.popleft()
            if self._is_idle(worker):
                self._send(worker, queue.pop(), now)  # type: ignore[arg-type]
        if not queue.count:
            return
        window = self.config.prefetch_window
        for worker in self.workers.values():
            if 0 < len(worker.jobs) < 1 + PREFETCH and not worker.leaving and now - worker.started < window:
                self._send(worker, queue.pop(), now)  # type: ignore[arg-type]
                if not queue.count:
                    return

    def _send(self, worker: Worker, job: Job, now: float) -> None:
        job.worker = worker
        if worker.jobs:
            job.state = State.EARLY
            job.deadline = math.inf  # its clock starts when the one before it is answered
        else:
            job.state = State.RUNNING
            job.deadline = now + self.config.request_timeout
            worker.started = now
        worker.jobs.append(job)
        self.inflight[job.tag] = job
        self.outbox.append(ToWorker(worker.ident, job.tag, job.body, job.remote))

    def _finish(self, job: Job, state: State, action: Any) -> None:
        """The one way out of QUEUED/EARLY/RUNNING (invariant 2). The caller has already
        taken the job out of the queue or its worker's list."""
        job.state = state
        self.inflight.pop(job.tag, None)
        job.worker = None
        if action is not None and job.route is not None:
            self.outbox.append(action)

    def _requeue(self, jobs: list[Job], now: float) -> None:
        """Requests that never ran go back to the front of their clients' queues (invariant 5),
        to wait a full deadline again: another request's failure must not cost them theirs."""
        live = []
        for job in jobs:
            self.inflight.pop(job.tag, None)
            job.worker = None
            if job.route is None:  # its client is gone
                self._finish(job, State.FAILED, None)
                continue
            job.state = State.QUEUED
            job.deadline = now + self.config.request_timeout
            live.append(job)
        self.queue.push_front(live)

    def _expire(self, worker: Worker, now: float) -> None:
        job = worker.jobs.popleft()
        self._finish(job, State.EXPIRED, _refuse(job, "deadline", self.config.request_timeout))
        if not worker.local:  # it cannot be killed: busy until it has answered all it was handed,
            worker.stale.update(early.tag for early in worker.jobs)  # replies dropped
            worker.stale.add(job.tag)
        self._requeue_early(worker, now)  # the early ones run elsewhere (on a remote worker: twice)
        if worker.local:
            self.outbox.append(Kill(worker.pid))  # its exit is reported by the pool
            self._leave(worker, math.inf, "deadline")

    def _requeue_early(self, worker: Worker, now: float) -> None:
        """Every job left on `worker` (none of them started) goes back to the queue."""
        early = list(worker.jobs)
        worker.jobs.clear()
        self._requeue(early, now)

    def _retire(self, worker: Worker, now: float) -> None:
        """It exits without reading what else it was sent."""
        self._requeue_early(worker, now)
        if worker.local:
            self._leave(worker, math.inf, "retired")  # dropped when its exit is seen, plus the grace
        else:
            self._leave(worker, now + self.config.exit_grace, "retired")

    def _leave(self, worker: Worker, gone_at: float, why: str) -> None:
        worker.leaving = True
        worker.gone_at = min(worker.gone_at, gone_at)
        worker.why = worker.why or why

    def _lose(self, worker: Worker, now: float, why: str) -> None:
        """A worker is gone: its running request fails, the ones it had not begun are requeued."""
        if self.workers.get(worker.ident) is worker:
            del self.workers[worker.ident]
            self.outbox.append(WorkerGone(worker.pid, worker.host, worker.why or why, worker.local))
        worker.leaving = True
        if worker.jobs:
            running = worker.jobs.popleft()
            self._finish(running, State.FAILED, _refuse(running, "worker_lost"))
            self._requeue_early(worker, now)
        for proc in self.procs.values():
            if proc.worker is worker:
                proc.worker = None
        self._dispatch(now)

    def _backoff(self) -> float:
        """Delay before starting a worker after `_start_failures` consecutive failed starts."""
        failures = self._start_failures
        return 0.0 if failures < 3 else min(0.25 * 2 ** (failures - 3), 5.0)

    def _restart_reason(self, reason: str) -> None:
        self.restarts[reason] = self.restarts.get(reason, 0) + 1

    def _respawn(self, now: float) -> None:
        if self.stopping:
            return
        missing = self.local_workers - len(self.procs) - self.starting
        if missing > 0 and now >= self._next_start:
            if self._start_failures >= 3:
                missing = 1  # backing off: one at a time
            self.starting += missing
            self.outbox.extend(StartWorker() for _ in range(missing))

    def _stop_step(self, now: float) -> None:
        if self.stopped:
            return
        if self._terminating_since == math.inf:
            if not self.pool_size() or now >= self._drain_until:  # nobody to serve them, or out of time
                for job in self.queue.pop_all():
                    self._finish(job, State.FAILED, _refuse(job, "stopping"))
            if (self.queue.count or self.inflight) and now < self._drain_until:
                return
            for worker in list(self.workers.values()):
                while worker.jobs:
                    job = worker.jobs.popleft()
                    self._finish(job, State.FAILED, _refuse(job, "stopping"))
            self._terminating_since = now
            self.outbox.extend(Terminate(pid) for pid in self.procs)
        elif now - self._terminating_since > self.config.terminate_timeout:
            self.outbox.extend(Kill(pid) for pid in self.procs)
            if now - self._terminating_since > 2 * self.config.terminate_timeout:
                self.procs.clear()  # unkillable, or never started: give up waiting
                self.starting = 0
        self._check_stopped(now)

    def _check_stopped(self, now: float) -> None:
        if self._terminating_since < math.inf and not self.procs and not self.starting and not self.stopped:
            self.stopped = True
            self.outbox.append(Stopped(self.shutdown_requested))
