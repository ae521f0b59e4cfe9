"""Random interleavings of every event the broker's core takes: every accepted request gets
exactly one reply, and no request is ever on two workers at once.

`Shell` plays the broker's I/O shell against pretend processes and workers; a hypothesis
state machine and a seeded storm of events drive it."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from scapyrpc.broker.actions import Kill, Refuse, StartWorker, Stopped, Terminate, ToClient
from scapyrpc.broker.core import ReplyKind, Scheduler
from scapyrpc.config.options import BrokerConfig

CLIENTS = (b"A", b"B", b"C", b"ws:1")
SIZES = (1, 50, 100, 151)  # 151: over max_request_bytes
LABELS = ("build", "pcap", "")  # what kind of request: their durations are learned as answers come
CHEAP = (math.inf, 0.002)  # prefetch_cheap: every young request cheap to wait behind, or by their durations
STEPS = (0.001, 0.01, 0.03, 0.1, 0.3, 1.1, 3.5)


class Shell:
    """Performs the core's actions; every event takes plain integers so any driver can pick."""

    def __init__(self, local: int, remote: int, prefetch: float, cheap: float = math.inf) -> None:
        self.s = Scheduler(
            BrokerConfig(
                request_timeout=1.0,
                max_queue=5,
                max_queued_bytes=400,
                max_request_bytes=150,
                prefetch_window=prefetch,
                prefetch_cheap=cheap,
                fair_share_halflife=2.0,
                exit_grace=0.2,
                startup_timeout=2.0,
                drain_timeout=3.0,
                terminate_timeout=0.5,
            ),
            local,
        )
        self.now = 0.0
        self.replies: Counter[int] = Counter()
        self.asked: dict[int, bytes] = {}  # route -> client
        self.gone: set[bytes] = set()
        self.next_pid = 100
        self.alive: set[int] = set()  # local processes the pool reported, not yet exited
        self.unreported: set[int] = set()  # started, but the pool has not told the core yet
        self.ready_pids: set[int] = set()
        self.remote = 0
        self.stopped = False
        self.tick(0)
        for _ in range(remote):
            self.join_remote()

    def flush(self) -> None:
        while actions := self.s.drain():
            for action in actions:
                if isinstance(action, (ToClient, Refuse)):
                    self.replies[action.route] += 1
                elif isinstance(action, StartWorker):
                    self.next_pid += 1
                    self.unreported.add(self.next_pid)
                elif isinstance(action, (Kill, Terminate)) and action.pid in self.alive:
                    self.alive.discard(action.pid)
                    self.s.exited(action.pid, self.now)
                elif isinstance(action, Stopped):
                    self.stopped = True

    def check(self) -> None:
        self.s.check()
        assert all(n == 1 for n in self.replies.values()), self.replies

    # ---- events ------------------------------------------------------------------------

    def request(self, client: int, size: int, label: int = 0) -> None:
        route = len(self.asked) + 1
        self.asked[route] = CLIENTS[client % len(CLIENTS)]
        kind = LABELS[label % len(LABELS)]
        self.s.request(self.asked[route], route, b"req", SIZES[size % len(SIZES)], self.now, label=kind)
        self.flush()

    def starting(self) -> list[int]:
        return sorted((self.alive | self.unreported) - self.ready_pids)

    def report(self, pick: int) -> None:
        """The pool tells the core a pid it started (maybe after that worker said READY)."""
        pid = sorted(self.unreported)[pick % len(self.unreported)]
        self.unreported.discard(pid)
        self.alive.add(pid)
        self.s.started(pid, self.now)
        self.flush()

    def ready_local(self, pick: int) -> None:
        pid = self.starting()[pick % len(self.starting())]
        self.ready_pids.add(pid)
        self.s.ready(f"L{pid}".encode(), pid, "here", True, self.now)
        self.flush()

    def join_remote(self) -> None:
        self.remote += 1
        self.s.ready(f"R{self.remote}".encode(), 10_000 + self.remote, "there", False, self.now)
        self.flush()

    def busy(self) -> list:
        return [w for w in self.s.workers.values() if w.jobs or w.stale]

    def answer(self, pick: int, retiring: bool, shutdown: bool) -> None:
        worker = self.busy()[pick % len(self.busy())]
        tag = worker.jobs[0].tag if worker.jobs else min(worker.stale)
        kind = ReplyKind.SHUTDOWN if shutdown else ReplyKind.RETIRE if retiring else ReplyKind.STAY
        self.s.reply(worker.ident, tag, b"ok", kind, self.now)
        self.flush()

    def process_dies(self, pick: int) -> None:
        pid = sorted(self.alive)[pick % len(self.alive)]
        self.alive.discard(pid)
        self.s.exited(pid, self.now)
        self.flush()

    def send_fails(self, pick: int) -> None:
        worker = list(self.s.workers.values())[pick % len(self.s.workers)]
        self.s.unreachable(worker.ident, worker.jobs[-1].tag if worker.jobs else 0, self.now)
        self.flush()

    def heartbeats(self) -> None:
        for ident in self.s.workers:
            self.s.heartbeat(ident, self.now)

    def client_goes(self, client: int) -> None:
        self.gone.add(CLIENTS[client % len(CLIENTS)])
        self.s.client_gone(CLIENTS[client % len(CLIENTS)], self.now)
        self.flush()

    def tick(self, step: int) -> None:
        self.now += STEPS[step % len(STEPS)] if step else 0.0
        self.s.tick(self.now)
        self.flush()

    def stop(self) -> None:
        self.s.stop(self.now)
        self.flush()

    def finish(self) -> None:
        """Stop, let every worker answer and every process exit: then each request has had its reply."""
        self.stop()
        for _ in range(200):
            if self.stopped:
                break
            while self.unreported:
                self.report(0)
            for worker in list(self.s.workers.values()):
                if worker.jobs:
                    self.s.reply(worker.ident, worker.jobs[0].tag, b"ok", ReplyKind.STAY, self.now)
            self.now += 0.25
            self.s.tick(self.now)
            self.flush()
        assert self.stopped
        self.check()
        assert not self.s.inflight and not self.s.queue.count
        unanswered = [
            route for route, client in self.asked.items() if client not in self.gone and not self.replies[route]
        ]
        assert not unanswered  # a gone client may miss replies; nobody else may


class Broker(RuleBasedStateMachine):
    @initialize(
        local=st.integers(0, 3),
        remote=st.integers(0, 2),
        prefetch=st.sampled_from([0.05, 10.0, 0.0]),
        cheap=st.sampled_from(CHEAP),
    )
    def setup(self, local: int, remote: int, prefetch: float, cheap: float) -> None:
        self.shell = Shell(local, remote, prefetch, cheap)

    @rule(
        client=st.integers(0, 3),
        sizes=st.lists(st.integers(0, 3), min_size=1, max_size=4),
        label=st.integers(0, len(LABELS) - 1),
    )
    def request(self, client: int, sizes: list[int], label: int) -> None:
        for size in sizes:
            self.shell.request(client, size, label)

    @precondition(lambda self: self.shell.starting())
    @rule(pick=st.integers(0, 9))
    def ready_local(self, pick: int) -> None:
        self.shell.ready_local(pick)

    @rule()
    def join_remote(self) -> None:
        self.shell.join_remote()

    @precondition(lambda self: self.shell.unreported)
    @rule(pick=st.integers(0, 9))
    def report(self, pick: int) -> None:
        self.shell.report(pick)

    @precondition(lambda self: self.shell.busy())
    @rule(pick=st.integers(0, 9), retiring=st.integers(0, 4), shutdown=st.integers(0, 20))
    def answer(self, pick: int, retiring: int, shutdown: int) -> None:
        self.shell.answer(pick, retiring == 0, shutdown == 0)

    @precondition(lambda self: self.shell.alive)
    @rule(pick=st.integers(0, 9))
    def process_dies(self, pick: int) -> None:
        self.shell.process_dies(pick)

    @precondition(lambda self: self.shell.s.workers)
    @rule(pick=st.integers(0, 9))
    def send_fails(self, pick: int) -> None:
        self.shell.send_fails(pick)

    @precondition(lambda self: self.shell.s.workers)
    @rule()
    def heartbeats(self) -> None:
        self.shell.heartbeats()

    @rule(client=st.integers(0, 3))
    def client_goes(self, client: int) -> None:
        self.shell.client_goes(client)

    @rule(step=st.integers(1, len(STEPS)))
    def tick(self, step: int) -> None:
        self.shell.tick(step)

    @precondition(lambda self: not self.shell.s.stopping)
    @rule()
    def stop(self) -> None:
        self.shell.stop()

    @invariant()
    def consistent(self) -> None:
        self.shell.check()

    def teardown(self) -> None:
        self.shell.finish()


TestBrokerCore = Broker.TestCase
TestBrokerCore.settings = settings(max_examples=60, stateful_step_count=100, deadline=None)


@pytest.mark.parametrize("block", range(4))
def test_event_storms(block: int) -> None:
    """Long seeded runs of random events (hypothesis favours short ones)."""
    for seed in range(block * 25, block * 25 + 25):
        rng = random.Random(seed)
        shell = Shell(rng.randint(0, 3), rng.randint(0, 2), rng.choice([0.05, 10.0, 0.0]), rng.choice(CHEAP))
        for _ in range(250):
            r = rng.random
            choice = rng.randrange(10)
            if choice <= 2:
                shell.request(rng.randrange(4), rng.randrange(4), rng.randrange(len(LABELS)))
            elif choice == 3 and shell.busy():
                shell.answer(rng.randrange(9), r() < 0.15, r() < 0.01)
            elif choice == 4 and shell.unreported and r() < 0.5:
                shell.report(rng.randrange(9))
            elif choice == 4 and shell.starting():
                shell.ready_local(rng.randrange(9))
            elif choice == 5:
                if r() < 0.1:
                    shell.join_remote()
                elif shell.alive and r() < 0.3:
                    shell.process_dies(rng.randrange(9))
                elif shell.s.workers and r() < 0.1:
                    shell.send_fails(rng.randrange(9))
                elif r() < 0.05:
                    shell.client_goes(rng.randrange(4))
            elif choice == 6:
                shell.heartbeats()
            elif choice == 7 and not shell.s.stopping and r() < 0.02:
                shell.stop()
            else:
                shell.tick(rng.randrange(1, len(STEPS) + 1))
            shell.check()
        shell.finish()
