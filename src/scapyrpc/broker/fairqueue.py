"""The broker's waiting room: one FIFO per client, served round-robin, bounded in count and bytes.

When it is full, a request is let in only by evicting the newest request of the
client holding the most (and only if that client holds more than the newcomer):
a client with few requests waiting is never turned away while another holds
many, however many identities the heavy one uses. Items are anything with
`client: bytes` and `size: int` attributes (the core's `Job`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["FairQueue", "Queued"]


class Queued(Protocol):
    client: bytes
    size: int


T = TypeVar("T", bound=Queued)


class FairQueue(Generic[T]):
    """Per-client FIFOs with round-robin turns; O(1) push, pop and heaviest-holder look-up."""

    def __init__(self) -> None:
        self._queues: dict[bytes, deque[T]] = {}
        self._turns: deque[bytes] = deque()  # clients with something queued, next to serve first
        self._holders: dict[int, dict[bytes, None]] = {}  # k -> clients holding exactly k (insertion-ordered)
        self._most = 0  # the largest k with holders
        self.count = 0
        self.bytes = 0

    def __iter__(self) -> Iterator[T]:
        for queue in self._queues.values():
            yield from queue

    def held(self, client: bytes) -> int:
        """How many requests `client` has waiting."""
        queue = self._queues.get(client)
        return len(queue) if queue is not None else 0

    def most_held(self) -> int:
        """How many requests the heaviest holder has waiting."""
        return self._most

    def push(self, item: T) -> None:
        """Append at the back of its client's FIFO."""
        queue = self._queue_for(item.client, first=False)
        queue.append(item)
        self._grew(item)

    def push_front(self, items: list[T]) -> None:
        """Put items taken back (oldest first) at the front of their clients' FIFOs, their turn next."""
        for item in reversed(items):
            queue = self._queue_for(item.client, first=True)
            queue.appendleft(item)
            self._grew(item)

    def pop(self) -> T | None:
        """The oldest request of the client whose turn it is, or None when empty."""
        if not self._turns:
            return None
        client = self._turns.popleft()
        queue = self._queues[client]
        item = queue.popleft()
        if queue:
            self._turns.append(client)
        self._shrank(item, queue, in_turns=False)
        return item

    def pop_newest_of_heaviest(self) -> T | None:
        """The newest request of the client holding the most (the most recent to reach that count)."""
        if not self._most:
            return None
        client = next(reversed(self._holders[self._most]))
        queue = self._queues[client]
        item = queue.pop()
        self._shrank(item, queue)
        return item

    def pop_expired(self, expired: Callable[[T], bool]) -> list[T]:
        """Remove every item for which `expired(item)` holds (requeued items at the front of a
        FIFO may expire later than those behind them, so every item is looked at)."""
        gone: list[T] = []
        for client in list(self._turns):
            queue = self._queues[client]
            for item in [item for item in queue if expired(item)]:
                queue.remove(item)
                self._shrank(item, queue)
                gone.append(item)
        return gone

    def pop_client(self, client: bytes) -> list[T]:
        """Remove everything `client` has waiting."""
        queue = self._queues.get(client)
        gone: list[T] = []
        while queue:
            item = queue.popleft()
            self._shrank(item, queue)
            gone.append(item)
        return gone

    def pop_all(self) -> list[T]:
        gone: list[T] = []
        while (item := self.pop()) is not None:
            gone.append(item)
        return gone

    # ---- bookkeeping -------------------------------------------------------------------

    def _queue_for(self, client: bytes, first: bool) -> deque[T]:
        queue = self._queues.get(client)
        if queue is None:
            queue = self._queues[client] = deque()
            if first:
                self._turns.appendleft(client)
            else:
                self._turns.append(client)
        return queue

    def _grew(self, item: T) -> None:
        self.count += 1
        self.bytes += item.size
        held = len(self._queues[item.client])
        self._move(item.client, held - 1, held)
        if held > self._most:
            self._most = held

    def _shrank(self, item: T, queue: deque[T], in_turns: bool = True) -> None:
        self.count -= 1
        self.bytes -= item.size
        held = len(queue)
        self._move(item.client, held + 1, held)
        if not queue:
            del self._queues[item.client]
            if in_turns:
                self._turns.remove(item.client)
        while self._most and not self._holders.get(self._most):
            self._most -= 1

    def _move(self, client: bytes, old: int, new: int) -> None:
        if old:
            holders = self._holders[old]
            del holders[client]
            if not holders:
                del self._holders[old]
        if new:
            self._holders.setdefault(new, {})[client] = None
