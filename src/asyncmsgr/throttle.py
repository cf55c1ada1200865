"""A counting throttle with Ceph's semantics (``src/common/Throttle.{h,cc}``).

:class:`Throttle` keeps a ``current`` count against a ``max`` budget. Ceph's names
are kept (``get_or_fail``, ``take``, ``put``, ``reset_max``, ``past_midpoint``,
``should_wait``) next to the asyncio API (``await acquire(c)``,
``acquire_nowait(c)`` raising :class:`~asyncmsgr.errors.WouldBlock`,
``release(c)``).

Rules, as in Ceph:

* ``max == 0`` means unlimited: nothing ever waits.
* A request larger than ``max`` is let through once ``current <= max``
  (``_should_wait``): this avoids a deadlock, so a throttle never bounds the size
  of one request; separate caps must do that.
* Waiters are served strictly in FIFO order; ``get_or_fail`` fails while anyone
  waits, so it cannot overtake them.
* Putting back more than is held is a bug (Ceph asserts): :class:`ValueError`.

One difference: Ceph does not count at all while ``max == 0``; here the count is
always kept, so statistics stay meaningful and ``reset_max`` from 0 is safe.

Thread safety: every method may be called from any thread. A waiter's future is
completed on its own event loop (``call_soon_threadsafe``), so a ``put`` from a
worker thread running another loop wakes it. The budget is handed to the first
waiter by the thread that frees it; a waiter cancelled after being handed the
budget gives it back, so cancellation never leaks budget.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from asyncmsgr.errors import WouldBlock


@dataclass(frozen=True, kw_only=True, slots=True)
class ThrottleStatistics:
    """A snapshot of a :class:`Throttle`, with the fields of Ceph's throttle logger."""

    name: str
    """The throttle's name (the perf logger is ``throttle-<name>``)."""
    val: int
    """Units currently held (``current``)."""
    max: int
    """The budget; 0 means unlimited."""
    waiters: int
    """Acquirers currently waiting."""
    get_started: int
    """``acquire`` calls, counted before any wait."""
    get: int
    """Successful gets: completed ``acquire`` plus successful ``get_or_fail``."""
    get_sum: int
    """Units obtained by those gets."""
    get_or_fail_fail: int
    """``get_or_fail`` / ``acquire_nowait`` calls refused."""
    get_or_fail_success: int
    """``get_or_fail`` / ``acquire_nowait`` calls granted."""
    take: int
    """``take`` calls."""
    take_sum: int
    """Units taken by ``take``."""
    put: int
    """Non-zero ``put`` / ``release`` calls."""
    put_sum: int
    """Units put back."""
    wait: float
    """Total seconds spent waiting in ``acquire`` (completed waits)."""
    wait_count: int
    """Number of ``acquire`` calls that had to wait and completed."""


class _Waiter:
    __slots__ = ("c", "fut", "granted", "loop")

    def __init__(self, c: int, loop: asyncio.AbstractEventLoop,
                 fut: asyncio.Future[None]) -> None:
        self.c = c
        self.loop = loop
        self.fut = fut
        self.granted = False


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Throttle:
    """Counting semaphore with a max, as Ceph's ``Throttle``.

    Args:
        name: used in statistics and as perf logger ``throttle-<name>``.
        max: the budget, ``>= 0``; 0 means unlimited.
        clock: monotonic seconds, used to time waits (injectable for tests).
    """

    __slots__ = (
        "_clock", "_count", "_get", "_get_or_fail_fail", "_get_or_fail_success",
        "_get_started", "_get_sum", "_lock", "_max", "_name", "_put", "_put_sum",
        "_take", "_take_sum", "_wait_count", "_wait_sum", "_waiters",
    )

    def __init__(self, name: str, max: int, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        _check_count(max, "max")
        self._name = name
        self._max = max
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: deque[_Waiter] = deque()
        self._get_started = 0
        self._get = 0
        self._get_sum = 0
        self._get_or_fail_fail = 0
        self._get_or_fail_success = 0
        self._take = 0
        self._take_sum = 0
        self._put = 0
        self._put_sum = 0
        self._wait_sum = 0.0
        self._wait_count = 0

    def __repr__(self) -> str:
        return f"<Throttle {self._name!r} {self._count}/{self._max} waiters={len(self._waiters)}>"

    @property
    def name(self) -> str:
        """The throttle's name."""
        return self._name

    @property
    def perf_name(self) -> str:
        """The perf logger name, ``throttle-<name>`` (as ``ceph daemon perf dump``)."""
        return f"throttle-{self._name}"

    @property
    def current(self) -> int:
        """Units currently held (Ceph ``get_current``)."""
        return self._count

    @property
    def max(self) -> int:
        """The budget; 0 means unlimited (Ceph ``get_max``)."""
        return self._max

    def should_wait(self, c: int) -> bool:
        """Ceph's ``_should_wait(c)``: would a request of ``c`` units have to wait?

        Ignores queued waiters (``get_or_fail`` also fails while anyone waits).
        """
        m = self._max
        cur = self._count
        return bool(m) and ((c <= m and cur + c > m) or (c >= m and cur > m))

    def past_midpoint(self) -> bool:
        """``current >= max / 2`` (Ceph ``past_midpoint``)."""
        return self._count >= self._max / 2

    # --- Ceph API -------------------------------------------------------------

    def get_or_fail(self, c: int = 1) -> bool:
        """Take ``c`` units if that needs no wait and nobody is waiting.

        Returns:
            True if taken, False otherwise (nothing changes then).
        """
        if type(c) is not int or c < 0:
            _check_count(c, "c")
        with self._lock:
            m = self._max
            if self._waiters or (m and ((c <= m and self._count + c > m)
                                        or (c >= m and self._count > m))):
                self._get_or_fail_fail += 1
                return False
            self._count += c
            self._get_or_fail_success += 1
            self._get += 1
            self._get_sum += c
            return True

    def take(self, c: int = 1) -> int:
        """Take ``c`` units unconditionally (may exceed max); returns the new count."""
        _check_count(c, "c")
        with self._lock:
            self._count += c
            self._take += 1
            self._take_sum += c
            return self._count

    def put(self, c: int = 1) -> int:
        """Give back ``c`` units, waking waiters that now fit; returns the new count.

        Raises:
            ValueError: ``c`` is negative or more than is held (a caller bug).
        """
        if type(c) is not int or c < 0:
            _check_count(c, "c")
        with self._lock:
            if c > self._count:
                raise ValueError(
                    f"throttle {self._name!r}: put({c}) with only {self._count} held")
            if c:
                self._count -= c
                self._put += 1
                self._put_sum += c
                if self._waiters:
                    self._wake_locked()
            return self._count

    def reset_max(self, m: int) -> None:
        """Change the budget (0 = unlimited) and wake waiters that now fit."""
        _check_count(m, "max")
        with self._lock:
            if m == self._max:
                return
            self._max = m
            self._wake_locked()

    # --- asyncio API ----------------------------------------------------------

    async def acquire(self, c: int = 1) -> None:
        """Take ``c`` units, waiting (FIFO behind earlier waiters) until they fit.

        Cancellation while waiting takes nothing (budget handed over at the same
        moment is given back).
        """
        _check_count(c, "c")
        loop = asyncio.get_running_loop()
        with self._lock:
            self._get_started += 1
            if not self._waiters and not self.should_wait(c):
                self._count += c
                self._get += 1
                self._get_sum += c
                return
            waiter = _Waiter(c, loop, loop.create_future())
            self._waiters.append(waiter)
        start = self._clock()
        try:
            await waiter.fut
        except BaseException:
            with self._lock:
                if waiter.granted:
                    self._count -= c
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                self._wake_locked()
            raise
        waited = self._clock() - start
        with self._lock:
            self._get += 1
            self._get_sum += c
            self._wait_sum += waited
            self._wait_count += 1

    def acquire_nowait(self, c: int = 1) -> None:
        """Take ``c`` units now, as :meth:`get_or_fail`.

        Raises:
            WouldBlock: it would have to wait (or others are waiting).
        """
        if not self.get_or_fail(c):
            raise WouldBlock(
                f"throttle {self._name!r}: {c} more than {self._max} allows "
                f"({self._count} held, {len(self._waiters)} waiting)")

    def release(self, c: int = 1) -> int:
        """Same as :meth:`put`."""
        return self.put(c)

    # --- statistics -----------------------------------------------------------

    def statistics(self) -> ThrottleStatistics:
        """An immutable snapshot of the state and counters."""
        with self._lock:
            return ThrottleStatistics(
                name=self._name, val=self._count, max=self._max,
                waiters=len(self._waiters), get_started=self._get_started,
                get=self._get, get_sum=self._get_sum,
                get_or_fail_fail=self._get_or_fail_fail,
                get_or_fail_success=self._get_or_fail_success,
                take=self._take, take_sum=self._take_sum,
                put=self._put, put_sum=self._put_sum,
                wait=self._wait_sum, wait_count=self._wait_count,
            )

    def perf_schema(self) -> dict[str, dict[str, object]]:
        """The throttle logger as ``ceph daemon ... perf schema`` describes it."""
        from asyncmsgr.perf import THROTTLE_COUNTERS  # noqa: PLC0415  (admin socket only)

        return {spec.name: spec.ceph_schema() for spec in THROTTLE_COUNTERS}

    def perf_dump(self) -> dict[str, object]:
        """The throttle logger as ``ceph daemon ... perf dump`` prints it."""
        s = self.statistics()
        return {
            "val": s.val,
            "max": s.max,
            "get_started": s.get_started,
            "get": s.get,
            "get_sum": s.get_sum,
            "get_or_fail_fail": s.get_or_fail_fail,
            "get_or_fail_success": s.get_or_fail_success,
            "take": s.take,
            "take_sum": s.take_sum,
            "put": s.put,
            "put_sum": s.put_sum,
            "wait": {
                "avgcount": s.wait_count,
                "sum": s.wait,
                "avgtime": s.wait / s.wait_count if s.wait_count else 0.0,
            },
        }

    # --- internals ------------------------------------------------------------

    def _wake_locked(self) -> None:
        """Hand budget to waiters at the head of the queue that now fit."""
        waiters = self._waiters
        while waiters:
            waiter = waiters[0]
            if self.should_wait(waiter.c):
                return
            waiters.popleft()
            waiter.granted = True
            self._count += waiter.c
            try:
                if _running_loop() is waiter.loop:
                    _resolve(waiter.fut)
                else:
                    waiter.loop.call_soon_threadsafe(_resolve, waiter.fut)
            except RuntimeError:  # the waiter's loop is closed: it will never run
                self._count -= waiter.c


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _check_count(c: int, what: str) -> None:
    if isinstance(c, bool) or not isinstance(c, int):
        raise TypeError(f"{what} must be an int, got {type(c).__name__}")
    if c < 0:
        raise ValueError(f"{what} must be >= 0, got {c}")


__all__ = ["Throttle", "ThrottleStatistics"]
