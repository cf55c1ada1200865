"""Ceph's ``PrioritizedQueue`` (``src/common/PrioritizedQueue.h``), the dispatch queue's store.

Theory of operation
-------------------

Items are filed under a *priority* and a *class* (the dispatch queue uses the
connection id as the class; id 0 is reserved for code items and local delivery).
Each priority holds a :class:`SubQueue`: one FIFO per class, served **round-robin,
one item per class in turn**, the classes visited in ascending key order (Ceph keeps
them in a ``std::map`` with a ``cur`` iterator). So order is FIFO only per
(priority, class).

There are two parts:

* the **strict** part (:meth:`PrioritizedQueue.enqueue_strict`): whenever it is not
  empty, the highest priority in it is served first, always;
* the **token-bucket** part (:meth:`PrioritizedQueue.enqueue`), used only when the
  strict part is empty. Every item has a cost, clamped to
  ``[min_cost, max_tokens_per_subqueue]``. After each dequeue from this part, the cost
  of the served item is distributed as tokens to every sub-queue, in proportion to its
  priority: ``priority * cost // total_priority + 1`` each, capped at
  ``max_tokens_per_subqueue``. A dequeue serves the first sub-queue whose front item
  costs strictly less than its tokens (and takes those tokens), scanning priorities
  **in ascending order** as Ceph does (the comment in Ceph says "behave like a strict
  priority queue among all subqueues that are eligible", but the loop starts at
  ``queue.begin()``, the lowest priority; we keep Ceph's behaviour). When no
  sub-queue can pay, the highest priority is served. So a low priority is never
  starved: its tokens grow with every dequeue until it can pay.

The dispatch queue puts messages with priority >= ``CEPH_MSG_PRIO_LOW`` (64) and
code items in the strict part, lower priorities in the token-bucket part with the
message data length as cost.

This module is a plain data structure: no locks, no clock, no I/O. The caller
serialises access.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

#: Ceph's ``ms_pq_max_tokens_per_priority`` default.
DEFAULT_MAX_TOKENS_PER_PRIORITY = 16777216
#: Ceph's ``ms_pq_min_cost`` default.
DEFAULT_MIN_COST = 65536


class SubQueue(Generic[T]):
    """One priority: a FIFO per class, served round-robin in class-key order, and tokens.

    Mirrors Ceph's ``PrioritizedQueue::SubQueue``: ``cur`` names the class served
    next; after a pop it moves to the next class key (wrapping round), so every class
    gets one item per turn.
    """

    __slots__ = ("_cur", "_keys", "_len", "_q", "max_tokens", "tokens")

    def __init__(self, max_tokens: int) -> None:
        self._q: dict[int, deque[tuple[int, T]]] = {}
        self._keys: list[int] = []  # sorted class keys present in _q
        self._cur = 0  # index into _keys of the class served next
        self._len = 0
        self.tokens = 0
        """Tokens accumulated (token-bucket part only)."""
        self.max_tokens = max_tokens
        """Cap on :attr:`tokens`."""

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len != 0

    def put_tokens(self, t: int) -> None:
        """Add ``t`` tokens, saturating at :attr:`max_tokens`."""
        self.tokens = min(self.tokens + t, self.max_tokens)

    def take_tokens(self, t: int) -> None:
        """Remove ``t`` tokens, saturating at 0."""
        self.tokens = self.tokens - t if self.tokens > t else 0

    def _fifo(self, cl: int) -> deque[tuple[int, T]]:
        fifo = self._q.get(cl)
        if fifo is None:
            fifo = self._q[cl] = deque()
            pos = bisect_left(self._keys, cl)
            self._keys.insert(pos, cl)
            # keep ``cur`` on the same class (std::map iterators are stable)
            if len(self._keys) > 1 and pos <= self._cur:
                self._cur += 1
        return fifo

    def enqueue(self, cl: int, cost: int, item: T) -> None:
        """Append ``item`` to class ``cl``."""
        self._fifo(cl).append((cost, item))
        self._len += 1

    def enqueue_front(self, cl: int, cost: int, item: T) -> None:
        """Prepend ``item`` to class ``cl``."""
        self._fifo(cl).appendleft((cost, item))
        self._len += 1

    def front_cost(self) -> int:
        """The cost of the item :meth:`pop_front` would return."""
        return self._q[self._keys[self._cur]][0][0]

    def pop_front(self) -> T:
        """Pop the front item of the current class and move on to the next class."""
        key = self._keys[self._cur]
        fifo = self._q[key]
        _cost, item = fifo.popleft()
        self._len -= 1
        if fifo:
            self._cur += 1
        else:
            del self._q[key]
            del self._keys[self._cur]  # the next class slides into ``cur``
        if self._cur >= len(self._keys):
            self._cur = 0
        return item

    def remove_by_class(self, cl: int) -> list[T]:
        """Remove and return every item of class ``cl``, in queue order."""
        fifo = self._q.pop(cl, None)
        if fifo is None:
            return []
        pos = bisect_left(self._keys, cl)
        del self._keys[pos]
        if pos < self._cur:
            self._cur -= 1
        if self._cur >= len(self._keys):
            self._cur = 0
        self._len -= len(fifo)
        return [item for _cost, item in fifo]

    def remove_by_filter(self, pred: Callable[[T], bool]) -> list[T]:
        """Remove and return every item for which ``pred`` is true, in class order."""
        removed: list[T] = []
        for cl in list(self._keys):
            fifo = self._q[cl]
            keep: deque[tuple[int, T]] = deque()
            for entry in fifo:
                if pred(entry[1]):
                    removed.append(entry[1])
                else:
                    keep.append(entry)
            if keep:
                self._q[cl] = keep
            else:
                self.remove_by_class(cl)
                continue
            self._len -= len(fifo) - len(keep)
        return removed

    def __iter__(self) -> Iterator[T]:
        """Every item, class by class (not in dequeue order)."""
        for cl in self._keys:
            for _cost, item in self._q[cl]:
                yield item


class PrioritizedQueue(Generic[T]):
    """Ceph's ``PrioritizedQueue<T, K>`` with integer class keys (see the module docstring).

    Args:
        max_tokens_per_subqueue: ``ms_pq_max_tokens_per_priority``; also the cost cap.
        min_cost: ``ms_pq_min_cost``; the cost floor.
    """

    __slots__ = ("_high", "_len", "_low", "_total_priority", "max_tokens_per_subqueue",
                 "min_cost")

    def __init__(self, max_tokens_per_subqueue: int = DEFAULT_MAX_TOKENS_PER_PRIORITY,
                 min_cost: int = DEFAULT_MIN_COST) -> None:
        if max_tokens_per_subqueue <= 0:
            raise ValueError("max_tokens_per_subqueue must be positive")
        if min_cost < 0:
            raise ValueError("min_cost must not be negative")
        self.max_tokens_per_subqueue = max_tokens_per_subqueue
        self.min_cost = min_cost
        self._high: dict[int, SubQueue[T]] = {}  # strict part
        self._low: dict[int, SubQueue[T]] = {}  # token-bucket part
        self._total_priority = 0
        self._len = 0

    # -- size -----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len != 0

    def empty(self) -> bool:
        """True when nothing is queued."""
        return self._len == 0

    def length_by_priority(self) -> dict[int, int]:
        """Queued items per priority (both parts added up), highest priority first."""
        depth: dict[int, int] = {}
        for part in (self._high, self._low):
            for prio, sq in part.items():
                depth[prio] = depth.get(prio, 0) + len(sq)
        return dict(sorted(depth.items(), reverse=True))

    def __iter__(self) -> Iterator[T]:
        """Every queued item (not in dequeue order)."""
        for part in (self._high, self._low):
            for sq in part.values():
                yield from sq

    # -- enqueue --------------------------------------------------------------------

    def enqueue_strict(self, cl: int, priority: int, item: T) -> None:
        """Queue ``item`` in the strict part (served before anything of lower priority)."""
        sq = self._high.get(priority)
        if sq is None:
            sq = self._high[priority] = SubQueue(0)
        sq.enqueue(cl, 0, item)
        self._len += 1

    def enqueue_strict_front(self, cl: int, priority: int, item: T) -> None:
        """Like :meth:`enqueue_strict`, at the front of the class's FIFO."""
        sq = self._high.get(priority)
        if sq is None:
            sq = self._high[priority] = SubQueue(0)
        sq.enqueue_front(cl, 0, item)
        self._len += 1

    def _clamp(self, cost: int) -> int:
        return min(max(cost, self.min_cost), self.max_tokens_per_subqueue)

    def _create_queue(self, priority: int) -> SubQueue[T]:
        sq = self._low.get(priority)
        if sq is None:
            self._total_priority += priority
            sq = self._low[priority] = SubQueue(self.max_tokens_per_subqueue)
        return sq

    def enqueue(self, cl: int, priority: int, cost: int, item: T) -> None:
        """Queue ``item`` in the token-bucket part with ``cost`` (clamped)."""
        self._create_queue(priority).enqueue(cl, self._clamp(cost), item)
        self._len += 1

    def enqueue_front(self, cl: int, priority: int, cost: int, item: T) -> None:
        """Like :meth:`enqueue`, at the front of the class's FIFO."""
        self._create_queue(priority).enqueue_front(cl, self._clamp(cost), item)
        self._len += 1

    # -- dequeue --------------------------------------------------------------------

    def _remove_queue(self, priority: int) -> None:
        del self._low[priority]
        self._total_priority -= priority

    def _distribute_tokens(self, cost: int) -> None:
        total = self._total_priority
        if total == 0:
            return
        for prio, sq in self._low.items():
            sq.put_tokens(prio * cost // total + 1)

    def dequeue(self) -> T:
        """Remove and return the next item.

        Raises:
            IndexError: the queue is empty.
        """
        if not self._len:
            raise IndexError("dequeue from an empty PrioritizedQueue")
        self._len -= 1
        if self._high:
            prio = max(self._high)
            sq = self._high[prio]
            item = sq.pop_front()
            if not sq:
                del self._high[prio]
            return item
        # Token-bucket part, ascending priority like Ceph's ``queue.begin()`` loop.
        for prio in sorted(self._low):
            sq = self._low[prio]
            cost = sq.front_cost()
            if cost < sq.tokens:
                sq.take_tokens(cost)
                item = sq.pop_front()
                if not sq:
                    self._remove_queue(prio)
                self._distribute_tokens(cost)
                return item
        # Nobody can pay: strict order on the highest priority.
        prio = max(self._low)
        sq = self._low[prio]
        cost = sq.front_cost()
        item = sq.pop_front()
        if not sq:
            self._remove_queue(prio)
        self._distribute_tokens(cost)
        return item

    # -- removal --------------------------------------------------------------------

    def remove_by_class(self, cl: int) -> list[T]:
        """Remove and return every item of class ``cl`` (Ceph's ``remove_by_class``).

        Items come back token-bucket part first, then strict, each by ascending
        priority; within one priority in FIFO order.
        """
        out: list[T] = []
        for prio in sorted(self._low):
            sq = self._low[prio]
            out.extend(sq.remove_by_class(cl))
            if not sq:
                self._remove_queue(prio)
        for prio in sorted(self._high):
            sq = self._high[prio]
            out.extend(sq.remove_by_class(cl))
            if not sq:
                del self._high[prio]
        self._len -= len(out)
        return out

    def remove_by_filter(self, pred: Callable[[T], bool]) -> list[T]:
        """Remove and return every item for which ``pred`` is true."""
        out: list[T] = []
        for prio in sorted(self._low):
            sq = self._low[prio]
            out.extend(sq.remove_by_filter(pred))
            if not sq:
                self._remove_queue(prio)
        for prio in sorted(self._high):
            sq = self._high[prio]
            out.extend(sq.remove_by_filter(pred))
            if not sq:
                del self._high[prio]
        self._len -= len(out)
        return out

    def clear(self) -> list[T]:
        """Remove and return everything."""
        return self.remove_by_filter(lambda _item: True)


__all__ = [
    "DEFAULT_MAX_TOKENS_PER_PRIORITY",
    "DEFAULT_MIN_COST",
    "PrioritizedQueue",
    "SubQueue",
]
