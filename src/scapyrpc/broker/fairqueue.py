"""The broker's waiting room: one FIFO per client, a fair share of worker time, bounded in count and bytes.

Which client is served next: the one with the fewest requests in flight (handed to a worker and
not yet answered), so a client with nothing running goes before every client whose requests are
being served; among those, the one that has had the least worker time lately (seconds its
requests ran, decaying by half every `halflife` seconds); among equals, the one waiting longest
for its turn. A client's own requests are served in order. The core tells the queue when a
request of a client begins (`began`) and ends (`ended`, with the seconds it ran).

When it is full, a request is let in only by evicting the newest request of the client holding
the most (and only if that client holds more than the newcomer): a client with few requests
waiting is never turned away while another holds many, however many identities the heavy one
uses. Items are anything with `client: bytes` and `size: int` attributes (the core's `Job`).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["FairQueue", "Queued"]


class Queued(Protocol):
    client: bytes
    size: int


T = TypeVar("T", bound=Queued)

FORGET_SECONDS = 0.001  # a client neither waiting nor running is forgotten once its decayed time is below this
REBASE_AT = 64.0  # half-lives after which stored worker times are scaled back (a float holds 2**1023)


class FairQueue(Generic[T]):
    """Per-client FIFOs served by (requests in flight, recent worker time, turn); O(log n) push and pop,
    O(1) heaviest-holder look-up."""

    def __init__(self, halflife: float = 10.0) -> None:
        self.halflife = halflife
        self._queues: dict[bytes, deque[T]] = {}
        self._heap: list[tuple[int, float, int, bytes]] = []  # (in flight, worker time, turn, client)
        self._turn: dict[bytes, int] = {}  # waiting client -> the turn of its one live heap entry
        self._next_turn = 0
        self._running: dict[bytes, int] = {}  # client -> requests in flight (only > 0)
        self._used: dict[bytes, float] = {}  # client -> worker seconds, scaled by 2**((t - _base) / halflife)
        self._base = 0.0
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

    @property
    def clients(self) -> int:
        """How many clients have requests waiting."""
        return len(self._queues)

    def running(self, client: bytes) -> int:
        """How many requests of `client` are in flight."""
        return self._running.get(client, 0)

    def in_flight(self) -> dict[bytes, int]:
        """Requests in flight by client (a copy, for the core's invariant check)."""
        return dict(self._running)

    def used(self, client: bytes, now: float) -> float:
        """Worker seconds of `client`, decayed to `now`."""
        return self._used.get(client, 0.0) * math.pow(2.0, (self._base - now) / self.halflife)

    # ---- what the core tells it ---------------------------------------------------------

    def began(self, client: bytes) -> None:
        """A request of `client` was handed to a worker."""
        self._running[client] = self._running.get(client, 0) + 1
        self._reschedule(client)

    def ended(self, client: bytes, seconds: float, now: float) -> None:
        """A request of `client` in flight ended (answered, failed, or given back) after running
        `seconds` on its worker (0: it never ran)."""
        left = self._running[client] - 1
        if left:
            self._running[client] = left
        else:
            del self._running[client]
        if seconds > 0:
            self._used[client] = self._used.get(client, 0.0) + seconds * math.pow(
                2.0, (now - self._base) / self.halflife
            )
        self._reschedule(client)

    def forget(self, now: float) -> None:
        """Drop what is kept about clients neither waiting nor running whose worker time has decayed
        away, and scale stored times back when they grow large (call now and then)."""
        scale = math.pow(2.0, (self._base - now) / self.halflife)
        used = self._used
        for client in [c for c, u in used.items() if u * scale < FORGET_SECONDS]:
            if client not in self._queues and client not in self._running:
                del used[client]
        if (now - self._base) / self.halflife > REBASE_AT:
            for client in used:
                used[client] *= scale
            self._base = now
            self._rebuild()

    # ---- the queue ----------------------------------------------------------------------

    def push(self, item: T) -> None:
        """Append at the back of its client's FIFO."""
        queue = self._queues.get(item.client)
        if queue is None:
            queue = self._queues[item.client] = deque()
            queue.append(item)
            self._schedule(item.client)
        else:
            queue.append(item)
        self._grew(item)

    def push_front(self, items: list[T]) -> None:
        """Put items taken back (oldest first) at the front of their clients' FIFOs."""
        for item in reversed(items):
            queue = self._queues.get(item.client)
            if queue is None:
                queue = self._queues[item.client] = deque()
                queue.append(item)
                self._schedule(item.client)
            else:
                queue.appendleft(item)
            self._grew(item)

    def peek(self) -> T | None:
        """The request `pop` would return, left in place."""
        client = self._top()
        return None if client is None else self._queues[client][0]

    def pop(self) -> T | None:
        """The oldest request of the client to serve next (see the module docstring), or None."""
        client = self._top()
        if client is None:
            return None
        heapq.heappop(self._heap)  # its entry, at the top
        queue = self._queues[client]
        item = queue.popleft()
        self._shrank(item, queue)
        if queue:
            self._schedule(client)  # behind the clients that were equal to it: its turn is taken
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
        for queue in list(self._queues.values()):
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

    def _schedule(self, client: bytes) -> None:
        """Give waiting `client` a new heap entry at its current priority, the last of its equals."""
        self._next_turn += 1
        self._turn[client] = turn = self._next_turn
        heapq.heappush(self._heap, (self._running.get(client, 0), self._used.get(client, 0.0), turn, client))
        if len(self._heap) > 2 * len(self._turn) + 64:
            self._rebuild()

    def _reschedule(self, client: bytes) -> None:
        """`client`'s priority changed: a new entry if it is waiting (keeping its turn among equals)."""
        turn = self._turn.get(client)
        if turn is not None:
            heapq.heappush(self._heap, (self._running.get(client, 0), self._used.get(client, 0.0), turn, client))
            if len(self._heap) > 2 * len(self._turn) + 64:
                self._rebuild()

    def _top(self) -> bytes | None:
        """The client to serve next; stale heap entries (superseded, or of a client no longer
        waiting) are dropped on the way."""
        heap, turns, running, used = self._heap, self._turn, self._running, self._used
        while heap:
            n, u, turn, client = heap[0]
            if turns.get(client) == turn and n == running.get(client, 0) and u == used.get(client, 0.0):
                return client
            heapq.heappop(heap)
        return None

    def _rebuild(self) -> None:
        running, used = self._running, self._used
        self._heap = [(running.get(c, 0), used.get(c, 0.0), turn, c) for c, turn in self._turn.items()]
        heapq.heapify(self._heap)

    def _grew(self, item: T) -> None:
        self.count += 1
        self.bytes += item.size
        held = len(self._queues[item.client])
        self._move(item.client, held - 1, held)
        if held > self._most:
            self._most = held

    def _shrank(self, item: T, queue: deque[T]) -> None:
        self.count -= 1
        self.bytes -= item.size
        held = len(queue)
        self._move(item.client, held + 1, held)
        if not queue:
            del self._queues[item.client]
            del self._turn[item.client]
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
