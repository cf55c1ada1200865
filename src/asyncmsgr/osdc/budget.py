"""The Objecter's in-flight budget: ``objecter_inflight_ops`` and ``..._op_bytes``.

Ceph takes one unit of the ops throttle and the op's budget bytes
(:func:`~asyncmsgr.osdc.op.calc_op_budget`) of the bytes throttle before an op is
submitted, and gives both back when it completes (``_take_op_budget`` /
``put_op_budget_bytes``). :class:`OpBudget` is the pair of throttles for one
event loop: no locks, FIFO waiters, Ceph's ``Throttle::_should_wait`` rule (an
op bigger than the whole budget goes alone once nothing else is held), and a
:meth:`OpBudget.statistics` snapshot. Not thread-safe: the Objecter's loop only.

A waiter is a coroutine (:meth:`OpBudget.take`) or a callback
(:meth:`OpBudget.wait`, what ``aio_operate`` uses: no task per waiting op); both
queue in the same FIFO and are granted in order as budget comes back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import NamedTuple


class BudgetStatistics(NamedTuple):
    """A snapshot of an :class:`OpBudget`."""

    ops: int
    """Ops holding budget."""
    bytes: int
    """Budget bytes held."""
    max_ops: int
    """``objecter_inflight_ops`` (0: no limit)."""
    max_bytes: int
    """``objecter_inflight_op_bytes`` (0: no limit)."""
    waiters: int
    """Submitters waiting for budget."""
    waits: int
    """Submitters that had to wait, ever."""


def _should_wait(cur: int, c: int, m: int) -> bool:
    """``Throttle::_should_wait``."""
    return bool(m) and ((c <= m and cur + c > m) or (c >= m and cur > m))


class BudgetWaiter:
    """One queued request for budget (:meth:`OpBudget.cancel` withdraws it)."""

    __slots__ = ("granted", "nbytes", "on_grant")

    def __init__(self, nbytes: int, on_grant: Callable[[], None] | asyncio.Future[None]) -> None:
        self.nbytes = nbytes
        self.on_grant: Callable[[], None] | asyncio.Future[None] | None = on_grant
        """Called (or, a future, resolved) once the budget is taken for it."""
        self.granted = False

    @property
    def pending(self) -> bool:
        """Still queued (neither granted nor cancelled)."""
        return self.on_grant is not None and not self.granted


class OpBudget:
    """Two throttles (ops, bytes) taken and given back together."""

    __slots__ = ("_waiters", "_waits", "bytes", "max_bytes", "max_ops", "ops")

    def __init__(self, max_ops: int, max_bytes: int) -> None:
        if max_ops < 0 or max_bytes < 0:
            raise ValueError("budget limits must be >= 0")
        self.max_ops = max_ops
        self.max_bytes = max_bytes
        self.ops = 0
        self.bytes = 0
        self._waiters: deque[BudgetWaiter] = deque()
        self._waits = 0

    def _fits(self, nbytes: int) -> bool:
        return not (_should_wait(self.ops, 1, self.max_ops)
                    or _should_wait(self.bytes, nbytes, self.max_bytes))

    def try_take(self, nbytes: int) -> bool:
        """Take one op and ``nbytes`` now if nobody waits and they fit."""
        if self._waiters or not self._fits(nbytes):
            return False
        self.ops += 1
        self.bytes += nbytes
        return True

    async def take(self, nbytes: int) -> None:
        """Take one op and ``nbytes``, waiting (FIFO) until they fit.

        Cancelled while waiting: nothing is taken.
        """
        if nbytes < 0:
            raise ValueError("negative budget")
        if self.try_take(nbytes):
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        w = self._queue(nbytes, fut)
        try:
            await fut
        except BaseException:
            if not self.cancel(w):
                self.put(nbytes)  # granted as we were cancelled: give it back
            raise

    def wait(self, nbytes: int, on_grant: Callable[[], None]) -> BudgetWaiter:
        """Queue for one op and ``nbytes`` (FIFO); ``on_grant()`` runs once they are
        taken, from the :meth:`put` that freed them. Use after :meth:`try_take`
        said no; :meth:`cancel` withdraws the request."""
        if nbytes < 0:
            raise ValueError("negative budget")
        return self._queue(nbytes, on_grant)

    def _queue(self, nbytes: int,
               on_grant: Callable[[], None] | asyncio.Future[None]) -> BudgetWaiter:
        w = BudgetWaiter(nbytes, on_grant)
        self._waiters.append(w)
        self._waits += 1
        return w

    def cancel(self, w: BudgetWaiter) -> bool:
        """Withdraw a queued request (nothing taken); False if already granted."""
        if w.granted:
            return False
        w.on_grant = None
        self._wake()  # it may have held up the ones behind it
        return True

    def put(self, nbytes: int) -> None:
        """Give back one op and ``nbytes``; wake the waiters that now fit."""
        if self.ops < 1 or nbytes > self.bytes:
            raise ValueError(f"budget put(1, {nbytes}) with {self.ops}/{self.bytes} held")
        self.ops -= 1
        self.bytes -= nbytes
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        w = self._waiters
        while w:
            head = w[0]
            grant = head.on_grant
            if grant is None or (isinstance(grant, asyncio.Future) and grant.done()):
                w.popleft()
                continue
            if not self._fits(head.nbytes):
                return
            w.popleft()
            self.ops += 1
            self.bytes += head.nbytes
            head.granted = True
            if isinstance(grant, asyncio.Future):
                grant.set_result(None)
            else:
                grant()

    def statistics(self) -> BudgetStatistics:
        """A snapshot."""
        return BudgetStatistics(self.ops, self.bytes, self.max_ops, self.max_bytes,
                                sum(1 for w in self._waiters if w.pending), self._waits)


__all__ = ["BudgetStatistics", "BudgetWaiter", "OpBudget"]
