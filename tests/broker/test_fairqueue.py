"""The fair queue against a plain model of its rule: the next request is the oldest of the client
with the fewest requests in flight, then the least worker time lately, then the longest wait for
its turn. Random operations, the queue's heap and the model's scan must agree at every pop."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from scapyrpc.broker.fairqueue import FairQueue

CLIENTS = (b"A", b"B", b"C", b"D", b"E")


@dataclass(eq=False)
class Item:
    client: bytes
    size: int
    name: int


class Model:
    """The rule written as a scan over every waiting client."""

    def __init__(self, halflife: float) -> None:
        self.halflife = halflife
        self.queues: dict[bytes, list[Item]] = {}
        self.turn: dict[bytes, int] = {}
        self.running: dict[bytes, int] = {}
        self.used: dict[bytes, float] = {}  # decayed to time 0's scale, as the queue keeps them
        self.next_turn = 0

    def _new_turn(self, client: bytes) -> None:
        self.next_turn += 1
        self.turn[client] = self.next_turn

    def push(self, item: Item) -> None:
        if item.client not in self.queues:
            self.queues[item.client] = []
            self._new_turn(item.client)
        self.queues[item.client].append(item)

    def push_front(self, item: Item) -> None:
        if item.client not in self.queues:
            self.queues[item.client] = []
            self._new_turn(item.client)
        self.queues[item.client].insert(0, item)

    def pop(self) -> Item | None:
        if not self.queues:
            return None
        client = min(self.queues, key=lambda c: (self.running.get(c, 0), self.used.get(c, 0.0), self.turn[c]))
        item = self.queues[client].pop(0)
        self._taken(client)
        if client in self.queues:
            self._new_turn(client)
        return item

    def remove(self, item: Item) -> None:
        self.queues[item.client].remove(item)
        self._taken(item.client)

    def _taken(self, client: bytes) -> None:
        if not self.queues[client]:
            del self.queues[client]
            del self.turn[client]

    def began(self, client: bytes) -> None:
        self.running[client] = self.running.get(client, 0) + 1

    def ended(self, client: bytes, seconds: float, now: float) -> None:
        self.running[client] -= 1
        if seconds:
            self.used[client] = self.used.get(client, 0.0) + seconds * 2 ** (now / self.halflife)

    def forget(self, now: float) -> None:
        """Clients neither waiting nor running, their time decayed below a millisecond: as new."""
        for client, used in list(self.used.items()):
            quiet = client not in self.queues and not self.running.get(client)
            if quiet and used * 2 ** (-now / self.halflife) < 0.001:
                del self.used[client]


@pytest.mark.parametrize("seed", range(40))
def test_the_queue_serves_as_its_rule_says(seed: int) -> None:
    rng = random.Random(seed)
    queue: FairQueue[Item] = FairQueue(halflife=5.0)
    model = Model(5.0)
    now = 0.0
    names = iter(range(1_000_000))
    in_flight: list[Item] = []
    for _ in range(600):
        op = rng.randrange(10)
        client = rng.choice(CLIENTS)
        if op <= 2:
            item = Item(client, rng.randrange(1, 100), next(names))
            queue.push(item)
            model.push(item)
        elif op == 3 and in_flight:  # given back: it never ran
            item = in_flight.pop(rng.randrange(len(in_flight)))
            queue.ended(item.client, 0.0, now)
            model.ended(item.client, 0.0, now)
            queue.push_front([item])
            model.push_front(item)
        elif op <= 6:
            expected = model.pop()
            assert queue.peek() is expected
            assert queue.pop() is expected
            if expected is not None:
                queue.began(expected.client)
                model.began(expected.client)
                in_flight.append(expected)
        elif op == 7 and in_flight:
            item = in_flight.pop(rng.randrange(len(in_flight)))
            seconds = rng.choice((0.0, 0.001, 0.5, 2.0))
            queue.ended(item.client, seconds, now)
            model.ended(item.client, seconds, now)
        elif op == 8:
            gone = queue.pop_client(client) if rng.random() < 0.5 else [queue.pop_newest_of_heaviest()]
            for item in gone:
                if item is not None:
                    model.remove(item)
        else:
            now += rng.choice((0.01, 0.3, 2.0))
            queue.forget(now)
            model.forget(now)
        assert queue.count == sum(len(q) for q in model.queues.values())
        assert queue.in_flight() == {c: n for c, n in model.running.items() if n}
    while (item := model.pop()) is not None:
        assert queue.pop() is item
    assert queue.pop() is None and queue.count == 0 and queue.bytes == 0


def test_stored_times_are_scaled_back_before_they_grow_past_a_float() -> None:
    queue: FairQueue[Item] = FairQueue(halflife=1.0)
    queue.push(Item(b"A", 1, 0))
    queue.began(b"A")  # it keeps an entry while running
    for step in range(1, 3001):  # 3000 half-lives: 2**3000 would overflow a float
        queue.ended(b"A", 1.0, float(step))
        queue.began(b"A")
        queue.forget(float(step))
    assert queue.used(b"A", 3000.0) == pytest.approx(2.0)  # a second a second, halving every second
    assert queue.pop() is not None


def test_clients_gone_quiet_are_forgotten() -> None:
    queue: FairQueue[Item] = FairQueue(halflife=1.0)
    for i, client in enumerate((b"A", b"B")):
        queue.push(Item(client, 1, i))
        queue.pop()
        queue.began(client)
        queue.ended(client, 1.0, 0.0)
    queue.push(Item(b"B", 1, 2))  # B waits again: kept whatever its time
    queue.forget(20.0)  # 2**-20 s of worker time left each
    assert queue.used(b"A", 20.0) == 0.0 and queue.used(b"B", 20.0) > 0.0
