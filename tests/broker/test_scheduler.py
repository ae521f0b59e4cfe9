"""The broker's core with a fake clock: dispatch, prefetch, requeue, grace, fairness, deadlines,
recycling, supervision and the bounds, each as the actions the core asks the shell to perform."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scapyrpc.broker.actions import Kill, Ping, PoolReady, Refuse, StartWorker, Stopped, Terminate, ToClient, ToWorker
from scapyrpc.broker.core import ReplyKind, Scheduler
from scapyrpc.broker.figures import Traffic
from scapyrpc.broker.reasons import Refusal, Restart
from scapyrpc.broker.states import JobState
from scapyrpc.config.options import BrokerConfig


class Core:
    """A Scheduler, a fake clock, and the actions it emitted since the last look. Unless a test
    says otherwise, a young request is cheap to wait behind whatever it is (`prefetch_cheap`
    infinite): the tests of when a worker is handed a request early say otherwise."""

    def __init__(self, local_workers: int = 0, **config: Any) -> None:
        config.setdefault("prefetch_cheap", math.inf)
        self.s = Scheduler(BrokerConfig(**config), local_workers)
        self.s.drain()
        self.now = 0.0
        self.routes: dict[str, object] = {}

    def take(self, kind: type | None = None) -> list:
        out = [a for a in self.s.drain() if kind is None or isinstance(a, kind)]
        self.s.check()
        return out

    def at(self, now: float) -> None:
        self.now = now
        self.s.tick(now)

    def ask(self, name: str, client: bytes = b"c", size: int = 10, label: str = "") -> None:
        self.s.request(client, name, name.encode(), size, self.now, label=label)

    def worker(self, ident: bytes, pid: int = 0, local: bool = False) -> None:
        if local:
            self.s.started(pid, self.now)
        self.s.ready(ident, pid, "here", local, self.now)

    def answer(self, ident: bytes, tag: int, body: bytes = b"ok", kind: ReplyKind = ReplyKind.STAY) -> None:
        self.s.reply(ident, tag, body, kind, self.now)


def sent(actions: list) -> list[tuple[bytes, bytes]]:
    """(worker, request body) for every ToWorker."""
    return [(a.ident, a.body) for a in actions if isinstance(a, ToWorker)]


def tags(actions: list) -> dict[bytes, int]:
    return {a.body: a.tag for a in actions if isinstance(a, ToWorker)}


def refused(actions: list) -> list[tuple[str, Refusal]]:
    return [(a.route, a.reason) for a in actions if isinstance(a, Refuse)]


def test_idle_worker_takes_a_request_and_its_reply_goes_back() -> None:
    core = Core()
    core.worker(b"w1")
    core.ask("a")
    out = core.take()
    assert sent(out) == [(b"w1", b"a")]
    core.answer(b"w1", tags(out)[b"a"], b"reply-a")
    assert core.take() == [ToClient("a", b"reply-a")]
    assert core.s.served == 1


def test_requests_wait_for_a_worker() -> None:
    core = Core()
    core.ask("a")
    core.ask("b", client=b"d")
    assert core.take() == []
    core.worker(b"w1")  # takes a, and b early: it is young
    assert sent(core.take()) == [(b"w1", b"a"), (b"w1", b"b")]


def test_idle_workers_are_used_least_recently_used_first() -> None:
    core = Core()
    core.worker(b"w1")
    core.worker(b"w2")
    core.ask("a")
    t = tags(core.take())
    core.answer(b"w1", t[b"a"])
    core.take()
    core.ask("b")
    assert sent(core.take()) == [(b"w2", b"b")]  # w1 served last, so w2 is next


def test_busy_young_worker_is_handed_the_next_request_early() -> None:
    core = Core(prefetch_window=0.05)
    core.worker(b"w1")
    core.ask("a")
    t = tags(core.take())
    core.at(0.01)
    core.ask("b")
    out = core.take()
    assert sent(out) == [(b"w1", b"b")]
    job_b = core.s.inflight[tags(out)[b"b"]]
    assert job_b.state is JobState.EARLY
    core.at(0.5)
    core.answer(b"w1", t[b"a"])
    assert job_b.state is JobState.RUNNING and job_b.entered == 0.5  # its deadline counts from now


def test_busy_old_worker_gets_nothing_early() -> None:
    core = Core(prefetch_window=0.05)
    core.worker(b"w1")
    core.ask("a")
    core.take()
    core.at(0.2)
    core.ask("b")
    assert sent(core.take()) == []
    assert core.s.queue.count == 1


def test_running_request_past_its_deadline_is_answered_and_its_local_worker_killed() -> None:
    core = Core(request_timeout=2.0, local_workers=2)
    core.take()
    core.worker(b"w1", pid=101, local=True)
    core.worker(b"w2", pid=102, local=True)
    core.take()
    core.ask("slow")
    core.at(0.01)
    core.ask("quick", client=b"d")
    out = core.take()
    assert sent(out) == [(b"w1", b"slow"), (b"w2", b"quick")]
    core.at(0.02)
    core.ask("early", client=b"e")  # handed early to w1 or w2 (both young)
    core.take()
    core.answer(b"w2", tags(out)[b"quick"])
    core.take()
    core.at(2.01)
    out = core.take()
    assert ("slow", Refusal.DEADLINE) in refused(out)
    assert Kill(101) in out
    core.s.exited(101, 2.02)
    core.at(2.03)
    assert StartWorker() in core.take()


def test_request_handed_early_to_an_expiring_worker_is_served_elsewhere() -> None:
    core = Core(request_timeout=1.0)
    core.worker(b"w1")
    core.ask("slow")
    core.ask("quick", client=b"d")
    assert sent(core.take()) == [(b"w1", b"slow"), (b"w1", b"quick")]
    core.worker(b"w2")  # joins while w1 holds both
    assert core.take() == []
    core.at(1.5)
    out = core.take()
    assert refused(out) == [("slow", Refusal.DEADLINE)]
    assert sent(out) == [(b"w2", b"quick")]


def test_remote_worker_past_deadline_stays_busy_until_its_late_reply() -> None:
    core = Core(request_timeout=1.0)
    core.worker(b"r1", pid=7)
    core.ask("slow")
    t = tags(core.take())
    core.at(1.5)
    assert refused(core.take()) == [("slow", Refusal.DEADLINE)]
    core.ask("next")
    assert sent(core.take()) == []  # still busy with the expired one
    core.answer(b"r1", t[b"slow"], b"late")
    out = core.take()
    assert not any(isinstance(a, ToClient) for a in out)  # the late reply is dropped
    assert sent(out) == [(b"r1", b"next")]


def test_dead_worker_gets_a_grace_for_its_last_reply() -> None:
    core = Core(local_workers=1, exit_grace=0.5)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.ask("a")
    t = tags(core.take())
    core.s.exited(5, 0.1)
    core.at(0.2)
    assert StartWorker() in core.take()  # replaced at once
    core.answer(b"w1", t[b"a"], b"in-flight")
    assert core.take() == [ToClient("a", b"in-flight")]
    core.at(1.0)
    assert refused(core.take()) == []


def test_dead_worker_loses_its_running_request_and_requeues_the_early_one() -> None:
    core = Core(local_workers=2, exit_grace=0.5)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.ask("a")
    core.ask("b", client=b"d")
    assert sent(core.take()) == [(b"w1", b"a"), (b"w1", b"b")]
    core.s.exited(5, 0.1)
    core.at(0.7)
    out = core.take()
    assert refused(out) == [("a", Refusal.WORKER_LOST)]
    assert core.s.queue.count == 1  # b waits for a worker, it was never started
    core.worker(b"w2", pid=6, local=True)
    assert sent(core.take()) == [(b"w2", b"b")]


def test_retiring_worker_delivers_its_last_reply_and_gives_back_the_rest() -> None:
    core = Core(local_workers=1)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.ask("a")
    core.ask("b", client=b"d")
    t = tags(core.take())
    core.answer(b"w1", t[b"a"], b"last", kind=ReplyKind.RETIRE)
    out = core.take()
    assert out == [ToClient("a", b"last")]
    assert core.s.queue.count == 1
    core.s.exited(5, 0.1)
    core.at(0.2)
    assert StartWorker() in core.take()
    core.at(2.0)
    assert refused(core.take()) == []
    assert core.s.restarts == {Restart.RETIRED: 1}


def test_round_robin_across_clients_fifo_within_one() -> None:
    core = Core()
    for i in range(3):
        core.ask(f"a{i}", client=b"A")
    core.ask("b0", client=b"B")
    core.worker(b"w1")
    order = [a for a in core.take() if isinstance(a, ToWorker)]
    for answered in range(4):
        core.answer(b"w1", order[answered].tag)
        order += [a for a in core.take() if isinstance(a, ToWorker)]
    assert [a.body for a in order] == [b"a0", b"b0", b"a1", b"a2"]


def test_full_queue_evicts_the_heaviest_holders_newest_for_a_light_client() -> None:
    core = Core(max_queue=4)
    for i in range(4):
        core.ask(f"h{i}", client=b"H")
    core.ask("h4", client=b"H")
    assert refused(core.take()) == [("h4", Refusal.BUSY)]  # the heaviest itself is refused
    core.ask("light", client=b"L")
    assert refused(core.take()) == [("h3", Refusal.BUSY)]  # its newest makes room
    assert core.s.queue.held(b"L") == 1


def test_many_identities_cannot_lock_out_a_light_client() -> None:
    core = Core(max_queue=6)
    for i in range(3):
        core.ask(f"a{i}", client=b"A")
        core.ask(f"b{i}", client=b"B")
    core.take()
    core.ask("light", client=b"L")
    assert refused(core.take()) == [("b2", Refusal.BUSY)]
    core.ask("light2", client=b"L")
    assert refused(core.take()) == [("a2", Refusal.BUSY)]
    core.ask("light3", client=b"L")  # now A, B and L hold 2 each: no one is heavier
    assert refused(core.take()) == [("light3", Refusal.BUSY)]


def test_queued_bytes_are_bounded_too() -> None:
    core = Core(max_queued_bytes=100)
    core.ask("big", client=b"H", size=80)
    core.ask("big2", client=b"H", size=30)
    assert refused(core.take()) == [("big2", Refusal.BUSY)]
    core.ask("small", client=b"L", size=30)
    assert refused(core.take()) == [("big", Refusal.BUSY)]
    core.ask("huge", client=b"M", size=101)
    assert refused(core.take()) == [("huge", Refusal.BUSY)]


def test_too_large_request_is_refused_with_its_size() -> None:
    core = Core(max_request_bytes=100)
    core.ask("x", size=101)
    out = core.take()
    assert out == [Refuse("x", b"x", Refusal.TOO_LARGE, 101)]


def test_request_nobody_takes_is_answered_at_its_deadline() -> None:
    core = Core(request_timeout=1.0)
    core.ask("a")
    core.at(0.99)
    assert core.take() == []
    core.at(1.0)
    assert refused(core.take()) == [("a", Refusal.NO_WORKER)]


def test_requeued_request_waits_a_full_deadline_again() -> None:
    core = Core(request_timeout=1.0, exit_grace=0.1, local_workers=1)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.ask("run")
    core.ask("early", client=b"d")
    core.ask("behind", client=b"d")
    core.take()
    core.at(0.5)
    core.s.exited(5, 0.5)
    core.at(0.65)
    assert refused(core.take()) == [("run", Refusal.WORKER_LOST)]
    core.at(1.0)
    assert refused(core.take()) == [("behind", Refusal.NO_WORKER)]  # accepted at 0: its wait is over
    core.at(1.6)
    assert refused(core.take()) == []  # "early" was requeued at 0.65
    core.at(1.66)
    assert refused(core.take()) == [("early", Refusal.NO_WORKER)]


def test_workers_that_die_starting_are_restarted_with_back_off() -> None:
    core = Core(local_workers=1)
    core.at(0.0)
    assert core.take() == [StartWorker()]
    starts = [0.0]
    for pid in range(10, 17):
        core.s.started(pid, core.now)
        core.s.exited(pid, core.now)
        while StartWorker() not in core.take():
            core.at(round(core.now + 0.05, 2))
        starts.append(core.now)
    gaps = [round(b - a, 2) for a, b in zip(starts, starts[1:])]
    assert gaps[:2] == [0.0, 0.0]  # the first failures are retried at once
    assert gaps[2:] == [0.25, 0.5, 1.0, 2.0, 4.0]  # then backing off, doubling
    core.s.started(99, core.now)
    core.s.ready(b"w", 99, "here", True, core.now)
    core.s.exited(99, core.now)
    core.at(core.now)
    assert StartWorker() in core.take()  # a worker that said READY reset the back-off


def test_death_after_serving_is_replaced_at_once_however_often() -> None:
    core = Core(local_workers=1)
    core.take()
    for pid in range(10, 20):
        core.s.started(pid, core.now)
        core.s.ready(f"w{pid}".encode(), pid, "here", True, core.now)
        core.s.exited(pid, core.now)
        core.at(core.now + 0.01)
        assert StartWorker() in core.take()


def test_local_process_that_never_says_ready_is_killed() -> None:
    core = Core(local_workers=1, startup_timeout=5.0)
    core.at(0)
    core.take()
    core.s.started(42, 0)
    core.at(5.1)
    assert Kill(42) in core.take()
    core.at(5.2)
    assert Kill(42) not in core.take()


def test_silent_worker_is_lost_and_a_local_one_killed() -> None:
    core = Core(local_workers=1, heartbeat_interval=1.0, heartbeat_liveness=3)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.worker(b"r1", pid=6)
    core.ask("a")
    core.take()
    for t in (1.0, 2.0, 3.0):
        core.at(t)
        core.s.heartbeat(b"r1", t)
        assert Ping(b"w1") in core.take()
    core.at(3.01)
    out = core.take()
    assert Kill(5) in out and ("a", Refusal.WORKER_LOST) in refused(out)
    assert set(core.s.workers) == {b"r1"}


def test_pool_ready_once_every_local_worker_said_ready() -> None:
    core = Core(local_workers=2)
    core.worker(b"w1", pid=1, local=True)
    assert PoolReady() not in core.take()
    core.worker(b"w2", pid=2, local=True)
    assert PoolReady() in core.take()
    core.worker(b"w3", pid=3, local=True)
    assert PoolReady() not in core.take()


def test_stop_finishes_work_then_terminates_and_waits_for_every_process() -> None:
    core = Core(local_workers=2, terminate_timeout=3.0)
    core.take()
    core.worker(b"w1", pid=1, local=True)
    core.worker(b"w2", pid=2, local=True)
    core.ask("a")
    t = tags(core.take())
    core.s.stop(1.0)
    core.ask("late")
    out = core.take()
    assert refused(out) == [("late", Refusal.STOPPING)]
    assert not any(isinstance(a, Terminate) for a in out)
    core.answer(b"w1", t[b"a"])
    out = core.take()
    assert ToClient("a", b"ok") in out
    assert {a.pid for a in out if isinstance(a, Terminate)} == {1, 2}
    core.s.exited(1, 1.1)
    core.at(4.2)
    assert Kill(2) in core.take()
    core.s.exited(2, 4.3)
    assert core.take() == [Stopped(False)]


def test_stop_gives_up_on_requests_past_the_drain_bound() -> None:
    core = Core(drain_timeout=1.0)
    core.worker(b"r1")
    core.ask("stuck")
    core.take()
    core.s.stop(0.0)
    core.at(1.01)
    out = core.take()
    assert refused(out) == [("stuck", Refusal.STOPPING)]
    assert Stopped(False) in out


def test_shutdown_reply_is_delivered_then_the_server_stops() -> None:
    core = Core()
    core.worker(b"r1")
    core.ask("shut_down")
    t = tags(core.take())
    core.answer(b"r1", t[b"shut_down"], b"bye", kind=ReplyKind.SHUTDOWN)
    out = core.take()
    assert out[0] == ToClient("shut_down", b"bye")
    assert Stopped(True) in out


def test_a_gone_client_gets_nothing_and_holds_nothing() -> None:
    core = Core()
    core.worker(b"w1")
    core.ask("running", client=b"G")
    core.ask("queued", client=b"G")
    core.at(1.0)
    t = tags(core.take())
    core.s.client_gone(b"G", core.now)
    assert core.s.queue.count == 0
    core.answer(b"w1", t[b"running"])
    assert core.take() == []


def test_unreachable_worker_gives_the_request_back() -> None:
    core = Core()
    core.worker(b"w1")
    core.ask("a")
    t = tags(core.take())
    core.s.unreachable(b"w1", t[b"a"], 0.0)
    figures = core.s.figures(Traffic())
    assert figures.queued == 1 and figures.local + figures.remote == 0
    core.worker(b"w2")
    assert sent(core.take()) == [(b"w2", b"a")]


def test_no_worker_at_all_while_stopping_answers_queued_requests() -> None:
    core = Core()
    core.ask("a")
    core.s.stop(0.0)
    out = core.take()
    assert refused(out) == [("a", Refusal.STOPPING)]
    assert Stopped(False) in out


def test_ready_before_the_pool_reports_the_pid_is_still_a_local_worker() -> None:
    core = Core(local_workers=1, request_timeout=1.0)
    core.s.ready(b"w1", 77, "here", True, 0.0)  # READY crossed the sockets before the zygote's report
    assert PoolReady() not in core.take()
    core.s.started(77, 0.0)
    assert PoolReady() in core.take()
    core.ask("slow")
    core.take()
    core.at(1.5)
    assert Kill(77) in core.take()  # local: killed at its deadline, not left running


def test_remote_worker_past_deadline_runs_what_it_was_handed_early_but_its_reply_is_dropped() -> None:
    """Its early request is already in its socket: it runs it after the expired one. The request is
    served elsewhere meanwhile; the remote worker stays busy until it has answered both."""
    core = Core(request_timeout=1.0)
    core.worker(b"r1", pid=7)
    core.ask("slow")
    core.ask("early", client=b"d")
    t = tags(core.take())
    assert set(t) == {b"slow", b"early"}
    core.at(1.5)
    assert refused(core.take()) == [("slow", Refusal.DEADLINE)]
    core.worker(b"r2", pid=8)
    out = core.take()
    assert sent(out) == [(b"r2", b"early")]
    retag = tags(out)[b"early"]
    core.answer(b"r1", t[b"slow"], b"late")
    core.ask("next", client=b"e")
    assert sent(core.take()) == [(b"r2", b"next")]  # r1 is still running the early one
    core.answer(b"r1", t[b"early"], b"twice")
    assert [a for a in core.take() if isinstance(a, ToClient)] == []  # dropped: it was requeued
    core.answer(b"r2", retag, b"once")
    assert ToClient("early", b"once") in core.take()
    assert core.s._is_idle(core.s.workers[b"r1"])


def test_a_worker_that_left_idle_gives_back_what_it_never_read() -> None:
    """GONE comes only from a worker that read nothing since its last reply: a request handed to
    it meanwhile never ran and is served elsewhere, not failed."""
    core = Core(exit_grace=0.5)
    core.worker(b"w1")
    core.ask("crossing")
    assert sent(core.take()) == [(b"w1", b"crossing")]
    core.s.left(b"w1", 0.1)
    assert core.s.queue.count == 1 and refused(core.take()) == []
    core.worker(b"w2")
    assert sent(core.take()) == [(b"w2", b"crossing")]
    core.at(1.0)
    assert refused(core.take()) == []


def test_unreachable_worker_keeps_what_had_left_before_the_failed_send() -> None:
    """The running request had been delivered: it fails as for any lost worker (it may be what
    killed the worker, and must not be retried on worker after worker); the one whose send
    failed never left and is requeued."""
    core = Core(exit_grace=0.5)
    core.worker(b"w1")
    core.ask("delivered")
    core.ask("undelivered", client=b"d")
    t = tags(core.take())
    core.s.unreachable(b"w1", t[b"undelivered"], 0.0)
    assert core.s.queue.count == 1
    core.at(0.6)
    assert refused(core.take()) == [("delivered", Refusal.WORKER_LOST)]
    core.worker(b"w2")
    assert sent(core.take()) == [(b"w2", b"undelivered")]


def test_stop_does_not_wait_for_starts_the_pool_gave_up() -> None:
    """Stopping while the pool cannot start a worker (no zygote): its give-up ends the stop."""
    core = Core(local_workers=2)
    core.at(0.0)
    assert core.take().count(StartWorker()) == 2
    core.s.stop(0.0)
    assert Stopped(False) not in core.take()
    core.s.start_failed(0.1)
    core.s.start_failed(0.1)
    assert core.take() == [Stopped(False)]
    assert core.s.restarts == {}  # not counted as restarts: nothing was wanted any more


def test_stop_gives_up_on_starts_never_answered() -> None:
    core = Core(local_workers=1, terminate_timeout=1.0)
    core.at(0.0)
    assert core.take() == [StartWorker()]
    core.s.stop(0.0)
    core.at(1.5)
    assert Stopped(False) not in core.take()
    core.at(2.5)
    assert Stopped(False) in core.take()


def test_a_deadline_kill_is_not_counted_as_retiring() -> None:
    core = Core(local_workers=1, request_timeout=1.0)
    core.take()
    core.worker(b"w1", pid=5, local=True)
    core.ask("slow")
    core.take()
    core.at(1.5)
    assert Kill(5) in core.take()
    core.s.exited(5, 1.6)
    assert core.s.restarts == {Restart.EXITED: 1}


# ---- a fair share of worker time -------------------------------------------------------------


def test_a_client_with_nothing_running_goes_before_clients_being_served() -> None:
    core = Core(prefetch_window=0.0)
    core.worker(b"w1")
    for i in range(3):
        core.ask(f"h{i}", client=b"H")
    core.ask("g0", client=b"G")
    t = tags(core.take())  # w1 runs h0
    core.at(0.01)
    core.ask("light", client=b"L")
    core.worker(b"w2")
    assert sent(core.take()) == [(b"w2", b"g0")]  # G and L have nothing running: G came first
    core.answer(b"w2", core.s.workers[b"w2"].jobs[0].tag)
    assert sent(core.take()) == [(b"w2", b"light")]  # before H's h1, asked earlier: H has h0 running
    core.answer(b"w1", t[b"h0"])
    assert sent(core.take()) == [(b"w1", b"h1")]


def test_among_clients_running_as_many_the_one_with_less_worker_time_goes_first() -> None:
    core = Core(prefetch_window=0.0)
    core.worker(b"w1")
    core.ask("a-long", client=b"A")
    t = tags(core.take())
    core.at(2.0)  # A's request ran 2 s
    core.ask("a-next", client=b"A")
    core.ask("b-first", client=b"B")  # arrives after A's
    core.answer(b"w1", t[b"a-long"])
    out = sent(core.take())
    assert out == [(b"w1", b"b-first")]  # neither has anything running: B has had no worker time
    assert core.s.queue.used(b"A", 2.0) == 2.0


def test_worker_time_counts_half_after_the_half_life() -> None:
    core = Core(prefetch_window=0.0, fair_share_halflife=10.0, heartbeat_liveness=100)
    core.worker(b"w1")
    for client, seconds, start in ((b"A", 4.0, 0.0), (b"B", 3.0, 4.0)):
        core.at(start)
        core.ask(client.decode(), client=client)
        tag = tags(core.take())[client]
        core.at(start + seconds)
        core.answer(b"w1", tag)
        core.take()
    queue = core.s.queue
    assert queue.used(b"A", 7.0) == pytest.approx(4.0 * 2 ** (-0.3)) and queue.used(b"B", 7.0) == 3.0
    assert queue.used(b"A", 17.0) == pytest.approx(4.0 * 2 ** (-1.3))  # 10 s later: half of it


def test_a_busy_worker_gets_a_request_early_only_when_both_are_cheap() -> None:
    core = Core(prefetch_cheap=0.001, prefetch_window=0.05)
    core.worker(b"w1")

    def learn(label: str, seconds: float) -> None:  # a request of that kind ran that long
        core.ask(f"learn-{label}", client=b"X", label=label)
        tag = tags(core.take())[f"learn-{label}".encode()]
        core.at(core.now + seconds)
        core.answer(b"w1", tag)
        core.take()

    learn("build", 0.0004)
    learn("pcap", 0.48)
    assert core.s.recent == {"build": 0.0004, "pcap": 0.002}  # a duration counts as 2 x prefetch_cheap at most
    core.ask("b1", client=b"A", label="build")
    core.ask("b2", client=b"B", label="build")
    assert sent(core.take()) == [(b"w1", b"b1"), (b"w1", b"b2")]  # cheap behind cheap: early
    for tag in list(core.s.inflight):
        core.answer(b"w1", tag)
    core.take()
    core.ask("b3", client=b"A", label="build")
    core.ask("p1", client=b"B", label="pcap")
    assert sent(core.take()) == [(b"w1", b"b3")]  # a heavy request is not handed behind a cheap one
    core.answer(b"w1", next(iter(core.s.inflight)))
    assert sent(core.take()) == [(b"w1", b"p1")]
    core.ask("b4", client=b"A", label="build")
    assert sent(core.take()) == []  # nor a cheap one behind a heavy one
    core.ask("u1", client=b"C")
    assert core.s.queue.count == 2  # nor anything of a kind never seen


def test_a_clients_own_pipeline_is_handed_early_when_no_other_client_waits() -> None:
    core = Core(prefetch_cheap=0.001, prefetch_window=0.05)
    core.worker(b"w1")
    core.s.recent.update(pcap=0.48)  # heavy: never cheap to wait behind
    core.ask("p1", client=b"D", label="pcap")
    core.ask("p2", client=b"D", label="pcap")
    t = tags(core.take())
    assert list(t) == [b"p1", b"p2"]  # only D waits: its next request is handed early
    core.ask("p3", client=b"D", label="pcap")
    assert sent(core.take()) == []  # one early at most
    core.at(0.1)
    core.ask("q1", client=b"E", label="pcap")
    core.at(0.48)
    core.answer(b"w1", t[b"p1"])  # p2 starts: young, but E waits too, so D's p3 is not handed early
    assert sent(core.take()) == []
    core.at(0.96)
    core.answer(b"w1", t[b"p2"])
    assert sent(core.take()) == [(b"w1", b"q1")]  # E has nothing running: before D's p3
    assert [job.body for job in core.s.queue] == [b"p3"]  # not handed early behind q1: D is not alone


def test_a_method_that_turned_slow_stops_being_handed_early() -> None:
    core = Core(prefetch_cheap=0.001)
    core.worker(b"w1")
    durations = [0.0002, 0.0002, 0.01, 0.01, 0.01]
    for seconds in durations:
        core.ask("b", label="build")
        core.at(core.now + seconds)
        core.answer(b"w1", next(iter(core.s.inflight)))
        core.take()
    assert core.s.recent["build"] > 0.001  # a running average: a few slow runs are enough
    core.ask("b1", client=b"A", label="build")
    core.ask("b2", client=b"B", label="build")
    assert sent(core.take()) == [(b"w1", b"b1")]


def test_one_slow_run_of_a_cheap_method_does_not_stop_early_hand_over() -> None:
    core = Core(prefetch_cheap=0.001)
    core.worker(b"w1")
    for seconds in [0.0002, 0.0002, 0.0002, 0.5]:  # the last one stalled (a pause of the machine)
        core.ask("b", label="build")
        core.at(core.now + seconds)
        core.answer(b"w1", next(iter(core.s.inflight)))
        core.take()
    assert core.s.recent["build"] <= 0.001  # it counted as 2 x prefetch_cheap, not as 0.5 s
    core.ask("b1", client=b"A", label="build")
    core.ask("b2", client=b"B", label="build")
    assert sent(core.take()) == [(b"w1", b"b1"), (b"w1", b"b2")]


def test_a_light_client_waits_at_most_for_the_rest_of_one_heavy_request() -> None:
    """Four clients keep heavy requests queued (0.48 s of work apiece) on two workers; a light
    client (one request at a time, as a REQ socket) asks a cheap request 0.05 s after each reply:
    each starts at the next reply of either worker, never behind a heavy request handed early,
    and the heavy clients share the workers' time evenly. (Until every flooder has had worker
    time it is as light as the light client, and they take turns.)"""
    heavy, light = 0.48, 0.0005
    core = Core(prefetch_cheap=0.001, prefetch_window=0.05, request_timeout=60.0)
    core.worker(b"w1")
    core.worker(b"w2")
    core.s.recent.update(pcap=heavy, build=light)  # what earlier replies taught it
    flooders = (b"H1", b"H2", b"H3", b"H4")
    for i in range(40):
        for client in flooders:
            core.ask(f"{client.decode()}-{i}", client=client, label="pcap")
    finish: dict[bytes, float] = {}  # worker -> when its running request ends
    waits: list[float] = []
    asked_at: float | None = None  # the light client's request waiting for a worker
    next_light = 1.0  # once every flooder has had worker time (before, they are as light as it is)

    def dispatched() -> None:
        nonlocal asked_at
        for action in core.take():
            if isinstance(action, ToWorker):
                job = core.s.inflight[action.tag]
                assert job.state is JobState.RUNNING  # nothing is ever handed early here
                finish[action.ident] = core.now + (light if job.label == "build" else heavy)
                if job.client == b"L":
                    assert asked_at is not None
                    waits.append(core.now - asked_at)
                    asked_at = None

    dispatched()
    while core.now < 15.0:
        worker = min(finish, key=finish.__getitem__)
        if next_light < finish[worker]:
            core.at(next_light)
            core.ask(f"light-{len(waits)}", client=b"L", label="build")
            asked_at, next_light = core.now, float("inf")
        else:
            core.at(finish.pop(worker))
            job = core.s.workers[worker].jobs[0]
            core.answer(worker, job.tag)
            if job.client == b"L":
                next_light = core.now + 0.05
        dispatched()
    assert len(waits) > 20
    assert max(waits) <= heavy  # the rest of one running request, at most
    used = [core.s.queue.used(client, core.now) for client in flooders]
    assert max(used) - min(used) <= heavy  # the heavy ones share the workers evenly
