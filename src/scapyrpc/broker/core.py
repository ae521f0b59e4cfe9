"""The broker's core, without I/O: the fair queue, the worker table and the job state machine.

`Scheduler` takes events — a request accepted, a worker's reply, a worker ready,
a heartbeat, a local process started or exited, `tick(now)`, `stop(now)` — and
queues actions (`actions.py`), which the shell takes with `drain()`: send a
request or a heartbeat to a worker, reply to a client (a worker's reply, or an
error the broker makes), start a local worker, kill or terminate a pid, stopped.
It reads no clock (every event carries `now`), opens no socket and never parses
a request: bodies are opaque bytes, clients opaque keys, routes whatever the
shell needs to answer.

A job (one accepted request) moves through these states:

    QUEUED ──dispatch──► RUNNING ─────reply────► ANSWERED
       │  ╲                 ▲    ╲───deadline──► EXPIRED
       │   ╲─dispatch─► EARLY┘     ╲─worker lost► FAILED
       │               (behind the running one)
       ╰─wait deadline, evicted, stopping, client gone──► FAILED

  and back to QUEUED from EARLY (its worker went) or RUNNING (the send to its
  worker failed): it never ran; to FAILED from EARLY or RUNNING when the stop
  gives up on it, or its client is gone when it would be requeued.

A worker (an entry of the pool table) and a local process:

    SERVING ──retire, deadline kill (local)──► EXITING
       │                                          │ exit seen, left, unreachable
       ├──retire (remote), left, unreachable, exit seen──► LEAVING ──grace──► GONE
       ╰──heartbeat timeout, re-registered (from any state but GONE)───────────▲

    STARTING ──READY──► READY ──exit──► EXITED
       ╰──startup timeout──► KILLED ──exit──► EXITED   (KILLED ──READY──► READY: they crossed)

Moves allowed (the tables of `states.py`; a test holds them to this list):
    JobState      QUEUED -> RUNNING, EARLY, FAILED
                  EARLY -> RUNNING, QUEUED, FAILED
                  RUNNING -> ANSWERED, EXPIRED, FAILED, QUEUED
    WorkerState   SERVING -> EXITING, LEAVING, GONE
                  EXITING -> LEAVING, GONE
                  LEAVING -> GONE
    ProcessState  STARTING -> READY, KILLED, EXITED
                  KILLED -> READY, EXITED
                  READY -> EXITED

Invariants (checked by `check()` in the tests):
  1. An accepted job is in exactly one place: the queue (QUEUED), one worker's
     `jobs` (RUNNING first, then EARLY), or nowhere once ANSWERED/EXPIRED/FAILED.
  2. A job leaves for a final state exactly once, through `_finish`, which emits
     its one reply (none when its client is gone).
  3. A worker holds at most 1 + PREFETCH jobs; only its first is RUNNING.
  4. Only a SERVING worker is given jobs; an EXITING one holds none. A worker is
     in the table until it is GONE, and has a departure reason once it leaves.
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

from scapyrpc.broker.actions import (
    Action,
    Kill,
    Ping,
    PoolReady,
    Refuse,
    Route,
    StartWorker,
    Stopped,
    Stopping,
    Terminate,
    ToClient,
    ToWorker,
    WorkerGone,
)
from scapyrpc.broker.fairqueue import FairQueue
from scapyrpc.broker.figures import Figures, Traffic
from scapyrpc.broker.reasons import Departure, Refusal, Restart
from scapyrpc.broker.replycache import CacheFigures
from scapyrpc.broker.states import Job, JobState, Process, ProcessState, Worker, WorkerState, move
from scapyrpc.config.options import BrokerConfig

__all__ = ["ReplyKind", "Scheduler"]

PREFETCH = 1  # requests a busy worker may hold beyond the one it runs
LEARNING = 0.25  # weight of the latest duration in a method's running average (`recent`)
OUTLIER = 2.0  # a duration counts in `recent` as at most this many times prefetch_cheap (one slow run is not a trend)
FORGET_EVERY = 1.0  # seconds between sweeps of what the queue keeps about clients gone quiet


class ReplyKind(enum.Enum):
    """What a worker does after the reply it sends (its reply frame's kind)."""

    STAY = "stay"
    RETIRE = "retire"  # it exits: recycled
    SHUTDOWN = "shut down"  # the reply is to shut_down: the server stops


def _refusal(job: Job, reason: Refusal, detail: float = 0) -> Refuse:
    return Refuse(job.route, job.body, reason, detail, job.accepted)


class Scheduler:
    """The broker's decisions; see the module docstring for the states and invariants."""

    def __init__(self, config: BrokerConfig, local_workers: int = 0) -> None:
        self.config = config
        self.local_workers = local_workers
        self.queue: FairQueue[Job] = FairQueue(config.fair_share_halflife)
        self.workers: dict[bytes, Worker] = {}  # every worker not GONE, by identity
        self.versions: dict[str, int] = {}  # SERVING workers by version (the reply cache serves these)
        self.recent: dict[str, float] = {}  # label -> seconds its requests ran lately (running average)
        self.idle: deque[Worker] = deque()  # least recently used first; may hold stale entries
        self.inflight: dict[int, Job] = {}  # EARLY and RUNNING jobs by tag
        self.procs: dict[int, Process] = {}  # local processes not EXITED, by pid
        self.starting = 0  # StartWorker actions not yet answered by started/start_failed
        self.stopping = False
        self.stopped = False
        self.shutdown_requested = False
        self.served = 0
        self.refused: dict[Refusal, int] = dict.fromkeys(Refusal, 0)
        self.restarts: dict[Restart, int] = {}
        self.gone: dict[tuple[Departure, bool], int] = {}  # (reason, local) -> workers
        self._outbox: list[Action] = []
        self._tag = 0
        self._start_failures = 0  # consecutive local workers that died before READY
        self._next_start = 0.0  # no StartWorker before this (back-off)
        self._next_ping = 0.0
        self._next_forget = 0.0
        self._drain_until = math.inf
        self._terminating_since = math.inf
        self._pool_ready = local_workers == 0
        if self._pool_ready:
            self._outbox.append(PoolReady())  # nothing to wait for

    def drain(self) -> list[Action]:
        """The actions queued since the last call, to perform in order (performing them may
        feed events that queue more: call again until it returns nothing)."""
        actions, self._outbox = self._outbox, []
        return actions

    # ---- clients -------------------------------------------------------------------------

    def request(
        self, client: bytes, route: Route, body: bytes, size: int, now: float, remote: bool = False, label: str = ""
    ) -> None:
        """A request arrived (`size`: every byte of it, envelope included; `remote`: passed on to
        the worker with it; `label`: what kind of request it is, for how long such requests ran
        lately, e.g. its method; "" if unknown)."""
        config = self.config
        if self.stopping:
            return self._refuse(Refuse(route, body, Refusal.STOPPING, 0, now))
        if size > config.max_request_bytes:
            return self._refuse(Refuse(route, body, Refusal.TOO_LARGE, size, now))
        self._tag += 1
        job = Job(self._tag, client, route, body, size, now, remote, entered=now, label=label)
        idle = self.idle
        while idle:  # an idle worker takes it before any bound counts it
            worker = idle.popleft()
            if self._is_idle(worker):
                self._send(worker, job, now)
                return
        if not self._admit(job, now):
            return self._refuse(Refuse(route, body, Refusal.BUSY, 0, now))
        self.queue.push(job)
        self._dispatch(now)

    def _admit(self, job: Job, now: float) -> bool:
        """Room in the queue for `job`, evicting the heaviest holder's newest requests if it must."""
        config, queue = self.config, self.queue
        held = queue.held(job.client)
        while queue.count >= config.max_queue or queue.bytes + job.size > config.max_queued_bytes:
            if held >= queue.most_held() or job.size > config.max_queued_bytes:
                return False
            evicted = queue.pop_newest_of_heaviest()
            assert evicted is not None and evicted.client != job.client
            self._finish(evicted, JobState.FAILED, now, _refusal(evicted, Refusal.BUSY))
        return True

    def client_gone(self, client: bytes, now: float) -> None:
        """A client that cannot be answered any more (a closed WebSocket): drop what it waits for."""
        for job in self.queue.pop_client(client):
            job.route = None
            self._finish(job, JobState.FAILED, now, None)
        for job in self.inflight.values():
            if job.client == client:
                job.route = None

    # ---- workers -------------------------------------------------------------------------

    def ready(self, ident: bytes, pid: int, host: str, this_host: bool, now: float, version: str = "") -> None:
        """Worker `ident` (process `pid` on `host`, this host or not; of `version`, opaque here)
        joined and is idle."""
        old = self.workers.get(ident)
        if old is not None:
            self._lose(old, now, Departure.REREGISTERED)
        worker = Worker(ident, pid, host, this_host, now, now, version=version)
        self.workers[ident] = worker
        self.versions[version] = self.versions.get(version, 0) + 1
        proc = self.procs.get(pid) if this_host else None
        if proc is not None:
            self._adopt(proc, worker, now)
        self.idle.append(worker)
        self._dispatch(now)

    def _adopt(self, proc: Process, worker: Worker, now: float) -> None:
        """`worker` is process `proc` of our pool (READY and the pool's report may come in either order)."""
        if proc.worker is not None and proc.worker is not worker:
            self._lose(proc.worker, now, Departure.REREGISTERED)
        proc.worker = worker
        if proc.state is not ProcessState.READY:
            move(proc, ProcessState.READY, now)
        worker.local = True
        self._start_failures = 0
        if self._terminating_since < math.inf:
            self._outbox.append(Terminate(proc.pid))
        if not self._pool_ready and self._in_pool()[0] >= self.local_workers:
            self._pool_ready = True
            self._outbox.append(PoolReady())

    def heartbeat(self, ident: bytes, now: float) -> None:
        """Worker `ident` is alive."""
        worker = self.workers.get(ident)
        if worker is not None:
            worker.last_seen = now

    def reply(
        self, ident: bytes, tag: int, body: bytes | memoryview, kind: ReplyKind, now: float, note: bytes = b""
    ) -> None:
        """Worker `ident` answered request `tag`, and says what it does next (`kind`); `note`:
        what it says the reply is (opaque here, passed on with the reply)."""
        worker = self.workers.get(ident)
        if worker is None:
            return  # from before a restart, or dropped after its grace: nobody waits for it
        worker.last_seen = now
        jobs = worker.jobs
        if jobs and jobs[0].tag == tag:
            job = jobs.popleft()
            self.served += 1
            if job.label:
                ran, seen = min(now - job.entered, OUTLIER * self.config.prefetch_cheap), self.recent.get(job.label)
                self.recent[job.label] = ran if seen is None else seen + LEARNING * (ran - seen)
            answer = (
                ToClient(job.route, body, job.accepted, note, worker.pid, job.body, worker.version)
                if job.route is not None
                else None
            )
            self._finish(job, JobState.ANSWERED, now, answer)
            if jobs:  # the request handed early starts now
                move(jobs[0], JobState.RUNNING, now)
        elif tag in worker.stale:
            worker.stale.discard(tag)  # a late reply: already answered, or requeued and run elsewhere
        if kind is ReplyKind.RETIRE:
            self._retire(worker, now)
        elif not jobs and worker.state is WorkerState.SERVING and not worker.stale:
            self.idle.append(worker)
        if kind is ReplyKind.SHUTDOWN:
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
        self._leave(worker, now, Departure.UNREACHABLE)
        self._dispatch(now)

    def left(self, ident: bytes, now: float) -> None:
        """Worker `ident` is leaving (stopped by a signal while idle). It says so only when it has
        read no request since its last reply, so whatever it was handed never ran: requeued."""
        worker = self.workers.get(ident)
        if worker is not None:
            self._requeue_early(worker, now)
            self._leave(worker, now, Departure.LEFT)
            self._dispatch(now)

    # ---- local processes -----------------------------------------------------------------

    def started(self, pid: int, now: float) -> None:
        """The pool started process `pid` for a StartWorker action."""
        self.starting = max(0, self.starting - 1)
        proc = self.procs[pid] = Process(pid, now)
        for worker in self.workers.values():
            if worker.pid == pid and worker.this_host and worker.state is WorkerState.SERVING:
                self._adopt(proc, worker, now)  # it said READY before the pool reported it
                return
        if self._terminating_since < math.inf:
            self._outbox.append(Terminate(pid))

    def start_failed(self, now: float) -> None:
        """The pool could not (or, stopping, will not) start a process for a StartWorker action."""
        self.starting = max(0, self.starting - 1)
        if self.stopping:
            return self._check_stopped(now)
        self._start_failures += 1
        self._next_start = now + self._backoff()
        self._restarted(Restart.START_FAILED)

    def exited(self, pid: int, now: float) -> None:
        """Local process `pid` has exited (and was reaped)."""
        proc = self.procs.pop(pid, None)
        if proc is None:
            return
        served = proc.state is ProcessState.READY
        move(proc, ProcessState.EXITED, now)
        if not served:  # died before READY: maybe a worker that cannot start
            self._start_failures += 1
            self._next_start = now + self._backoff()
            self._restarted(Restart.DIED_STARTING)
            self._respawn(now)
            return self._check_stopped(now)
        worker = proc.worker
        self._restarted(Restart.RETIRED if worker is not None and worker.why is Departure.RETIRED else Restart.EXITED)
        if worker is not None and worker.state is not WorkerState.GONE:
            self._leave(worker, now, Departure.EXITED)
        self._respawn(now)
        self._check_stopped(now)

    # ---- time ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Deadlines, liveness, heartbeats, graces, respawns, the stop sequence."""
        config = self.config
        timeout, grace = config.request_timeout, config.exit_grace
        silence = config.heartbeat_interval * config.heartbeat_liveness
        for worker in list(self.workers.values()):
            if worker.state is WorkerState.LEAVING and worker.entered + grace <= now:
                self._lose(worker, now)
            elif now - worker.last_seen > silence:
                if worker.local:
                    self._outbox.append(Kill(worker.pid))
                self._lose(worker, now, Departure.SILENT)
            elif worker.jobs and worker.jobs[0].entered + timeout <= now:
                self._expire(worker, now)
        for job in self.queue.pop_expired(lambda job: job.entered + timeout <= now):
            self._finish(job, JobState.FAILED, now, _refusal(job, Refusal.NO_WORKER, timeout))
        if now >= self._next_ping:
            self._next_ping = now + config.heartbeat_interval
            self._outbox.extend(Ping(ident) for ident in self.workers)
        for proc in self.procs.values():
            if proc.state is ProcessState.STARTING and now - proc.entered > config.startup_timeout:
                self._outbox.append(Kill(proc.pid))  # its exit comes as `exited`
                move(proc, ProcessState.KILLED, now)
        if now >= self._next_forget:
            self._next_forget = now + FORGET_EVERY
            self.queue.forget(now)
        self._respawn(now)
        if self.stopping:
            self._stop_step(now)
        self._dispatch(now)

    def stop(self, now: float) -> None:
        """Graceful stop: refuse new requests, finish queued and running ones, then end the pool."""
        if self.stopping:
            return
        self.stopping = True
        self._outbox.append(Stopping())
        drain = self.config.drain_timeout
        self._drain_until = now + (self.config.request_timeout + 1.0 if drain is None else drain)
        self._stop_step(now)

    # ---- queries -------------------------------------------------------------------------

    def figures(self, traffic: Traffic, reply_cache: CacheFigures | None = None) -> Figures:
        """The core now, with the shell's `traffic` and `reply_cache` (copies); safe to call from
        another thread."""
        local, remote = self._in_pool()
        queue = self.queue
        return Figures(
            pool_size=self.local_workers,
            local=local,
            remote=remote,
            in_flight=len(self.inflight),
            queued=queue.count,
            queued_bytes=queue.bytes,
            served=self.served,
            stopping=self.stopping,
            refused=self.refused.copy(),
            restarts=self.restarts.copy(),
            gone=self.gone.copy(),
            traffic=traffic,
            reply_cache=reply_cache or CacheFigures(),
        )

    def check(self) -> None:
        """Assert the invariants of the module docstring (for tests)."""
        seen: set[int] = set()
        for job in self.queue:
            assert job.state is JobState.QUEUED and job.worker is None, job
            assert job.tag not in seen
            seen.add(job.tag)
        for ident, worker in self.workers.items():
            assert worker.ident == ident and worker.state is not WorkerState.GONE, worker
            assert (worker.why is None) == (worker.state is WorkerState.SERVING), worker
            assert len(worker.jobs) <= 1 + PREFETCH, worker
            assert not (worker.jobs and worker.state is WorkerState.EXITING), worker
            for i, job in enumerate(worker.jobs):
                assert job.worker is worker and job.tag not in seen, job
                assert job.state is (JobState.RUNNING if i == 0 else JobState.EARLY), job
                assert self.inflight.get(job.tag) is job
                seen.add(job.tag)
            assert not (worker.stale and worker.jobs), worker  # a stale worker is given nothing
        for worker in self.idle:
            assert worker.state is WorkerState.GONE or self.workers[worker.ident] is worker, worker
        for pid, proc in self.procs.items():
            assert proc.pid == pid and proc.state is not ProcessState.EXITED, proc
            assert proc.worker is None or (proc.worker.local and self.workers.get(proc.worker.ident) is proc.worker)
        assert set(self.inflight) == seen - {job.tag for job in self.queue}
        assert self.queue.count == sum(1 for _ in self.queue)
        in_flight: dict[bytes, int] = {}
        for job in self.inflight.values():
            in_flight[job.client] = in_flight.get(job.client, 0) + 1
        assert self.queue.in_flight() == in_flight, (self.queue.in_flight(), in_flight)
        versions: dict[str, int] = {}
        for worker in self.workers.values():
            if worker.state is WorkerState.SERVING:
                versions[worker.version] = versions.get(worker.version, 0) + 1
        assert self.versions == versions, (self.versions, versions)

    # ---- internals -----------------------------------------------------------------------

    def _in_pool(self) -> tuple[int, int]:
        """Workers that may be handed requests (SERVING): how many local, how many remote."""
        local = remote = 0
        for worker in list(self.workers.values()):  # one C-level copy: figures() may run in another thread
            if worker.state is WorkerState.SERVING:
                if worker.local:
                    local += 1
                else:
                    remote += 1
        return local, remote

    def _is_idle(self, worker: Worker) -> bool:
        return not worker.jobs and worker.state is WorkerState.SERVING and not worker.stale

    def _dispatch(self, now: float) -> None:
        """Idle workers first (least recently used), each taking the request the fair queue serves
        next. Then, while requests still wait, a busy worker whose running request is young gets
        its next one early, to start the moment it replies, only when that is cheap to wait
        behind: both its running request and the next are of kinds that ran at most
        `prefetch_cheap` lately; or no other client is waiting (the next request is of the client
        whose request it runs, and only that client waits: one client's pipeline). A request of
        a client with nothing running then waits at most for the rest of one running request (and
        a cheap one handed before it came)."""
        queue = self.queue
        if not queue.count:
            return
        idle = self.idle
        while idle and queue.count:
            worker = idle.popleft()
            if self._is_idle(worker):
                self._send(worker, self._pop(), now)
        if not queue.count:
            return
        config, recent = self.config, self.recent
        window, cheap = config.prefetch_window, config.prefetch_cheap
        for worker in self.workers.values():
            jobs = worker.jobs
            if not (0 < len(jobs) < 1 + PREFETCH and worker.state is WorkerState.SERVING):
                continue
            running = jobs[0]
            if now - running.entered >= window:
                continue
            following = queue.peek()
            assert following is not None  # queue.count is not 0
            alone = queue.clients == 1 and following.client == running.client
            if not alone and (
                recent.get(running.label, math.inf) > cheap or recent.get(following.label, math.inf) > cheap
            ):
                continue  # not cheap to wait behind: it waits for a free worker
            self._send(worker, self._pop(), now)
            if not queue.count:
                return

    def _pop(self) -> Job:
        job = self.queue.pop()
        assert job is not None  # callers look at queue.count first
        return job

    def _send(self, worker: Worker, job: Job, now: float) -> None:
        job.worker = worker
        move(job, JobState.EARLY if worker.jobs else JobState.RUNNING, now)
        worker.jobs.append(job)
        self.inflight[job.tag] = job
        self.queue.began(job.client)
        self._outbox.append(ToWorker(worker.ident, job.tag, job.body, job.remote))

    def _finish(self, job: Job, state: JobState, now: float, reply: ToClient | Refuse | None) -> None:
        """The one way out of QUEUED/EARLY/RUNNING (invariant 2). The caller has already
        taken the job out of the queue or its worker's list."""
        if job.state is JobState.RUNNING:
            self.queue.ended(job.client, now - job.entered, now)
        elif job.state is JobState.EARLY:
            self.queue.ended(job.client, 0.0, now)
        move(job, state, now)
        self.inflight.pop(job.tag, None)
        job.worker = None
        if reply is None or job.route is None:
            return
        if type(reply) is Refuse:
            self._refuse(reply)
        else:
            self._outbox.append(reply)

    def _refuse(self, refusal: Refuse) -> None:
        self.refused[refusal.reason] += 1
        self._outbox.append(refusal)

    def _requeue(self, jobs: list[Job], now: float) -> None:
        """Requests that never ran go back to the front of their clients' queues (invariant 5),
        to wait a full deadline again: another request's failure must not cost them theirs."""
        live = []
        for job in jobs:
            if job.route is None:  # its client is gone
                self._finish(job, JobState.FAILED, now, None)
                continue
            self.inflight.pop(job.tag, None)
            job.worker = None
            self.queue.ended(job.client, 0.0, now)  # it never ran
            move(job, JobState.QUEUED, now)
            live.append(job)
        self.queue.push_front(live)

    def _expire(self, worker: Worker, now: float) -> None:
        job = worker.jobs.popleft()
        self._finish(job, JobState.EXPIRED, now, _refusal(job, Refusal.DEADLINE, self.config.request_timeout))
        if not worker.local:  # it cannot be killed: busy until it has answered all it was handed,
            worker.stale.update(early.tag for early in worker.jobs)  # replies dropped
            worker.stale.add(job.tag)
        self._requeue_early(worker, now)  # the early ones run elsewhere (on a remote worker: twice)
        if worker.local:
            self._outbox.append(Kill(worker.pid))  # its exit is reported by the pool
            self._leave(worker, now, Departure.DEADLINE, until_exit=True)

    def _requeue_early(self, worker: Worker, now: float) -> None:
        """Every job left on `worker` (none of them started) goes back to the queue."""
        early = list(worker.jobs)
        worker.jobs.clear()
        self._requeue(early, now)

    def _retire(self, worker: Worker, now: float) -> None:
        """It exits without reading what else it was sent; a local one is dropped when its exit is
        seen, plus the grace."""
        self._requeue_early(worker, now)
        self._leave(worker, now, Departure.RETIRED, until_exit=worker.local)

    def _leave(self, worker: Worker, now: float, why: Departure, until_exit: bool = False) -> None:
        """`worker` is given nothing more; it is dropped when its grace ends, counted from now, or
        (`until_exit`: a local process we wait for) from when its exit is seen. The first reason
        given is the one reported."""
        if worker.why is None:
            worker.why = why
        state = worker.state
        if state is WorkerState.SERVING:
            self._unserve(worker)
            move(worker, WorkerState.EXITING if until_exit else WorkerState.LEAVING, now)
        elif state is WorkerState.EXITING and not until_exit:
            move(worker, WorkerState.LEAVING, now)

    def _lose(self, worker: Worker, now: float, why: Departure | None = None) -> None:
        """A worker is gone (for `why`, unless it was already leaving for a reason): its running
        request fails, the ones it had not begun are requeued."""
        if worker.state is WorkerState.GONE:
            return
        del self.workers[worker.ident]
        reason = worker.why = worker.why or why
        assert reason is not None
        if worker.state is WorkerState.SERVING:
            self._unserve(worker)
        move(worker, WorkerState.GONE, now)
        key = (reason, worker.local)
        self.gone[key] = self.gone.get(key, 0) + 1
        self._outbox.append(WorkerGone(worker.pid, worker.host, reason, worker.local))
        if worker.jobs:
            running = worker.jobs.popleft()
            self._finish(running, JobState.FAILED, now, _refusal(running, Refusal.WORKER_LOST))
            self._requeue_early(worker, now)
        for proc in self.procs.values():
            if proc.worker is worker:
                proc.worker = None
        self._dispatch(now)

    def _unserve(self, worker: Worker) -> None:
        """`worker` leaves SERVING: one fewer of its version in the pool."""
        left = self.versions[worker.version] - 1
        if left:
            self.versions[worker.version] = left
        else:
            del self.versions[worker.version]

    def _backoff(self) -> float:
        """Delay before starting a worker after `_start_failures` consecutive failed starts."""
        failures = self._start_failures
        return 0.0 if failures < 3 else min(0.25 * 2 ** (failures - 3), 5.0)

    def _restarted(self, reason: Restart) -> None:
        self.restarts[reason] = self.restarts.get(reason, 0) + 1

    def _respawn(self, now: float) -> None:
        if self.stopping:
            return
        missing = self.local_workers - len(self.procs) - self.starting
        if missing > 0 and now >= self._next_start:
            if self._start_failures >= 3:
                missing = 1  # backing off: one at a time
            self.starting += missing
            self._outbox.extend(StartWorker() for _ in range(missing))

    def _stop_step(self, now: float) -> None:
        if self.stopped:
            return
        if self._terminating_since == math.inf:
            if not any(self._in_pool()) or now >= self._drain_until:  # nobody to serve them, or out of time
                for job in self.queue.pop_all():
                    self._finish(job, JobState.FAILED, now, _refusal(job, Refusal.STOPPING))
            if (self.queue.count or self.inflight) and now < self._drain_until:
                return
            for worker in list(self.workers.values()):
                while worker.jobs:
                    job = worker.jobs.popleft()
                    self._finish(job, JobState.FAILED, now, _refusal(job, Refusal.STOPPING))
            self._terminating_since = now
            self._outbox.extend(Terminate(pid) for pid in self.procs)
        elif now - self._terminating_since > self.config.terminate_timeout:
            self._outbox.extend(Kill(pid) for pid in self.procs)
            if now - self._terminating_since > 2 * self.config.terminate_timeout:
                self.procs.clear()  # unkillable, or never started: give up waiting
                self.starting = 0
        self._check_stopped(now)

    def _check_stopped(self, now: float) -> None:
        if self._terminating_since < math.inf and not self.procs and not self.starting and not self.stopped:
            self.stopped = True
            self._outbox.append(Stopped(self.shutdown_requested))
