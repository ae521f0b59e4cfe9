"""The state tables of the broker's core: an illegal move raises, every state is reached, every
allowed move is taken by the event storms, and the core's docstring lists exactly the tables."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping

import pytest
import test_scheduler_stateful as stateful

from scapyrpc.broker import core, states
from scapyrpc.broker.core import Scheduler
from scapyrpc.broker.reasons import Restart
from scapyrpc.broker.states import (
    JOB_MOVES,
    PROCESS_MOVES,
    WORKER_MOVES,
    IllegalMove,
    Job,
    JobState,
    Process,
    ProcessState,
    Worker,
    WorkerState,
    move,
)
from scapyrpc.config.options import BrokerConfig

TABLES: dict[type[enum.Enum], Mapping] = {JobState: JOB_MOVES, WorkerState: WORKER_MOVES, ProcessState: PROCESS_MOVES}
INITIAL = {JobState: JobState.QUEUED, WorkerState: WorkerState.SERVING, ProcessState: ProcessState.STARTING}


def allowed() -> Iterator[tuple[enum.Enum, enum.Enum]]:
    for table in TABLES.values():
        for old, news in table.items():
            for new in news:
                yield old, new


def record_in(state: enum.Enum) -> Job | Worker | Process:
    if isinstance(state, JobState):
        return Job(1, b"c", None, b"", 0, 0.0, state=state)
    if isinstance(state, WorkerState):
        return Worker(b"w", 1, "here", True, 0.0, 0.0, state=state)
    return Process(1, 0.0, state=state)


@pytest.mark.parametrize("kind", list(TABLES), ids=lambda kind: kind.__name__)
def test_every_table_covers_its_states_and_only_them(kind: type[enum.Enum]) -> None:
    table = TABLES[kind]
    assert set(table) == set(kind)
    assert all(isinstance(new, kind) for news in table.values() for new in news)
    assert all(state.moves == table[state] for state in kind)  # what `move` reads


@pytest.mark.parametrize("kind", list(TABLES), ids=lambda kind: kind.__name__)
def test_every_state_is_reachable_from_the_first(kind: type[enum.Enum]) -> None:
    table = TABLES[kind]
    reached, frontier = {INITIAL[kind]}, [INITIAL[kind]]
    while frontier:
        for new in table[frontier.pop()]:
            if new not in reached:
                reached.add(new)
                frontier.append(new)
    assert reached == set(kind)


def test_every_illegal_move_raises_and_changes_nothing() -> None:
    for kind, table in TABLES.items():
        for old in kind:
            for new in kind:
                record = record_in(old)
                if new in table[old]:
                    move(record, new, 5.0)
                    assert record.state is new and record.entered == 5.0
                else:
                    with pytest.raises(IllegalMove, match=f"{old.name} -> {new.name}"):
                        move(record, new, 5.0)
                    assert record.state is old and record.entered == 0.0


def test_the_event_storms_take_every_allowed_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """All but one: a process killed for a slow start whose READY crossed the kill (below)."""
    taken: set[tuple[enum.Enum, enum.Enum]] = set()

    def recording(record: states.Stateful, state: enum.Enum, now: float) -> None:
        taken.add((record.state, state))
        move(record, state, now)

    monkeypatch.setattr(core, "move", recording)
    for block in range(4):
        stateful.test_event_storms(block)
    assert set(allowed()) - taken == {(ProcessState.KILLED, ProcessState.READY)}
    assert taken <= set(allowed())


def test_a_ready_that_crossed_the_startup_kill_counts_as_served() -> None:
    s = Scheduler(BrokerConfig(startup_timeout=1.0), local_workers=1)
    s.tick(0.0)
    s.started(7, 0.0)
    s.tick(1.5)
    assert s.procs[7].state is ProcessState.KILLED
    s.ready(b"w", 7, "here", True, 1.6)
    assert s.procs[7].state is ProcessState.READY and s.workers[b"w"].local
    s.exited(7, 1.7)
    s.check()
    assert s.restarts == {Restart.EXITED: 1}  # not a failed start: it said READY


def test_the_docstring_lists_exactly_the_tables() -> None:
    doc = core.__doc__ or ""
    listed: set[tuple[str, str]] = set()
    kind = ""
    for line in doc[doc.index("Moves allowed") : doc.index("Invariants")].splitlines()[1:]:
        match = re.fullmatch(r"\s+(?:(\w+State)\s+)?(\w+) -> ([\w, ]+)", line)
        if match is None:
            continue
        kind = match[1] or kind
        listed |= {(f"{kind}.{match[2]}", f"{kind}.{new}") for new in match[3].split(", ")}
    assert listed == {
        (f"{type(old).__name__}.{old.name}", f"{type(new).__name__}.{new.name}") for old, new in allowed()
    }
