"""Throttle: Ceph's semantics (Throttle.cc), FIFO waiters, cancellation, threads, counters."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest

from asyncmsgr.errors import WouldBlock
from asyncmsgr.throttle import Throttle

CEPH_FIELDS = ["val", "max", "get_started", "get", "get_sum", "get_or_fail_fail",
               "get_or_fail_success", "take", "take_sum", "put", "put_sum", "wait"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    """Let every ready callback and task run."""
    for _ in range(5):
        await asyncio.sleep(0)


# --- Ceph semantics ---------------------------------------------------------------

@pytest.mark.parametrize(("held", "c", "waits"), [
    (0, 5, False),
    (5, 5, False),    # exactly reaches max
    (6, 5, True),     # would exceed max
    (0, 10, False),
    (0, 15, False),   # larger than max, let through while current <= max
    (10, 15, False),  # current == max: still let through
    (11, 15, True),   # current above max: wait
    (11, 10, True),
    (3, 0, False),
    (11, 0, True),    # even nothing waits while above max (c <= m and cur + c > m)
])
def test_should_wait_table(held: int, c: int, waits: bool) -> None:
    t = Throttle("t", 10)
    t.take(held)
    assert t.should_wait(c) is waits
    assert t.get_or_fail(c) is not waits


def test_max_zero_is_unlimited() -> None:
    t = Throttle("t", 0)
    assert not t.should_wait(1 << 40)
    assert t.get_or_fail(1 << 40)
    assert t.get_or_fail(1 << 40)
    assert t.current == 2 << 40  # unlike Ceph, the count is kept
    t.acquire_nowait(5)
    assert t.put((2 << 40) + 5) == 0
    assert t.past_midpoint()  # Ceph: count >= max / 2


def test_oversize_request_allowed_when_under_max() -> None:
    t = Throttle("t", 10)
    assert t.get_or_fail(15)
    assert t.current == 15
    assert not t.get_or_fail(1)
    assert not t.get_or_fail(15)
    assert t.put(15) == 0


def test_oversize_rule_exactly() -> None:
    t = Throttle("t", 10)
    t.take(3)
    # Ceph: (c <= m && cur + c > m) || (c >= m && cur > m): 15 > m, cur 3 <= m -> go
    assert t.should_wait(15) is False
    assert t.get_or_fail(15)
    assert t.current == 18


def test_get_or_fail_counts() -> None:
    t = Throttle("t", 10)
    assert t.get_or_fail(4)
    assert t.get_or_fail(6)
    assert not t.get_or_fail(1)
    assert not t.get_or_fail(2)
    s = t.statistics()
    assert (s.get_or_fail_success, s.get_or_fail_fail) == (2, 2)
    assert (s.get, s.get_sum, s.val) == (2, 10, 10)
    assert s.get_started == 0  # only acquire counts get_started, as Ceph's get()
    with pytest.raises(WouldBlock, match="'t'"):
        t.acquire_nowait(1)
    assert t.statistics().get_or_fail_fail == 3
    assert t.release(10) == 0
    t.acquire_nowait(10)
    assert t.statistics().get_or_fail_success == 3


def test_take_put_reset_max_midpoint() -> None:
    t = Throttle("t", 10)
    assert t.take(25) == 25  # unconditional
    assert t.past_midpoint()
    assert t.put(20) == 5
    assert t.past_midpoint()  # 5 >= 10 / 2
    assert t.put(1) == 4
    assert not t.past_midpoint()
    assert t.put(0) == 4
    s = t.statistics()
    assert (s.take, s.take_sum, s.put, s.put_sum) == (1, 25, 2, 21)  # put(0) not counted
    with pytest.raises(ValueError, match="only 4 held"):
        t.put(5)
    assert t.current == 4
    t.reset_max(2)
    assert t.max == 2
    assert not t.get_or_fail(1)
    assert t.statistics().max == 2


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_counts_rejected(bad: int) -> None:
    t = Throttle("t", 10)
    for call in (t.get_or_fail, t.take, t.put, t.acquire_nowait, t.release, t.reset_max):
        with pytest.raises(ValueError):
            call(bad)
    with pytest.raises(ValueError):
        Throttle("t", bad)
    with pytest.raises(TypeError):
        t.take(True)
    with pytest.raises(TypeError):
        t.take(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        asyncio.run(t.acquire(bad))


# --- asyncio waiters --------------------------------------------------------------

def test_acquire_immediate_and_wait() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        await t.acquire(6)
        assert t.current == 6
        task = asyncio.create_task(t.acquire(6))
        await settle()
        assert not task.done()
        assert t.statistics().waiters == 1
        t.release(6)
        await asyncio.wait_for(task, 5)
        assert t.current == 6
        assert t.statistics().waiters == 0

    asyncio.run(main())


def test_acquire_is_fifo() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(8)
        order: list[str] = []

        async def want(tag: str, c: int) -> None:
            await t.acquire(c)
            order.append(tag)

        tasks = []
        for tag, c in (("A", 5), ("B", 1), ("C", 5)):
            tasks.append(asyncio.create_task(want(tag, c)))
            await settle()
        # B and get_or_fail(1) would fit (8 + 1 <= 10) but must not overtake A
        assert order == []
        assert not t.get_or_fail(1)
        t.put(8)  # A (5) and B (1) fit; C (5) would make 11
        await settle()
        assert order == ["A", "B"]
        assert t.current == 6
        t.put(5)  # A's units: C fits now
        await settle()
        assert order == ["A", "B", "C"]
        assert t.current == 6
        await asyncio.gather(*tasks)

    asyncio.run(main())


def test_big_waiter_at_front_blocks_small_ones() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(10)
        big = asyncio.create_task(t.acquire(8))
        await settle()
        small = asyncio.create_task(t.acquire(1))
        await settle()
        t.put(1)  # 9 held: small would fit, big would not
        await settle()
        assert not big.done()
        assert not small.done()
        t.put(9)
        await settle()
        assert big.done()
        assert small.done()
        assert t.current == 9

    asyncio.run(main())


def test_oversize_waiter_goes_when_under_max() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(11)
        task = asyncio.create_task(t.acquire(50))
        await settle()
        assert not task.done()
        t.put(1)  # current 10 <= max: the 50 goes through
        await settle()
        assert task.done()
        assert t.current == 60

    asyncio.run(main())


def test_reset_max_wakes_waiters() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(10)
        task = asyncio.create_task(t.acquire(5))
        await settle()
        assert not task.done()
        t.reset_max(15)
        await settle()
        assert task.done()
        assert t.current == 15
        t.reset_max(0)
        await asyncio.wait_for(t.acquire(100), 5)  # unlimited now

    asyncio.run(main())


def test_cancel_while_waiting_leaks_nothing() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(10)
        task = asyncio.create_task(t.acquire(5))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert t.current == 10
        assert t.statistics().waiters == 0
        assert t.put(10) == 0
        t.acquire_nowait(10)  # the whole budget is there

    asyncio.run(main())


def test_cancel_after_grant_gives_budget_back() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(10)
        task = asyncio.create_task(t.acquire(5))
        await settle()
        t.put(10)  # hands 5 to the waiter ...
        assert t.current == 5
        task.cancel()  # ... which is cancelled before it resumes
        with pytest.raises(asyncio.CancelledError):
            await task
        assert t.current == 0
        s = t.statistics()
        assert (s.get, s.get_sum, s.waiters) == (0, 0, 0)

    asyncio.run(main())


def test_cancelling_the_front_waiter_unblocks_the_next() -> None:
    async def main() -> None:
        t = Throttle("t", 10)
        t.take(10)
        big = asyncio.create_task(t.acquire(8))
        await settle()
        small = asyncio.create_task(t.acquire(1))
        await settle()
        t.put(1)
        await settle()
        assert not small.done()
        big.cancel()
        await settle()
        assert small.done()
        assert big.cancelled()
        assert t.current == 10

    asyncio.run(main())


def test_timeout_leaks_nothing() -> None:
    async def main() -> None:
        t = Throttle("t", 4)
        t.take(4)
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await t.acquire(2)
        assert t.current == 4
        assert t.statistics().waiters == 0
        assert t.statistics().get_started == 3

    asyncio.run(main())


def test_many_waiters_all_served_budget_conserved() -> None:
    async def main() -> None:
        t = Throttle("t", 7)
        done = 0

        async def worker(c: int) -> None:
            nonlocal done
            for _ in range(20):
                await t.acquire(c)
                assert t.current <= 7 + 9  # at most one oversize request beyond max
                await asyncio.sleep(0)
                t.release(c)
            done += 1

        await asyncio.gather(*(worker(c) for c in (1, 2, 3, 5, 7, 9)))
        assert done == 6
        assert t.current == 0
        s = t.statistics()
        assert s.get == 120
        assert s.put == 120
        assert s.get_sum == s.put_sum == 20 * (1 + 2 + 3 + 5 + 7 + 9)

    asyncio.run(main())


# --- threads ----------------------------------------------------------------------

class LoopThread:
    """A thread running its own event loop until stopped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_put_from_another_thread_wakes_waiter() -> None:
    t = Throttle("t", 10)
    t.take(10)
    worker = LoopThread()
    try:
        future = asyncio.run_coroutine_threadsafe(t.acquire(4), worker.loop)
        wait_until(lambda: t.statistics().waiters == 1)
        assert not future.done()
        t.put(10)  # from this thread, which runs no loop
        future.result(5)
        assert t.current == 4
    finally:
        worker.stop()


def test_put_from_another_loop_wakes_waiter() -> None:
    t = Throttle("t", 10)
    t.take(10)
    worker = LoopThread()
    try:
        future = asyncio.run_coroutine_threadsafe(t.acquire(4), worker.loop)
        wait_until(lambda: t.statistics().waiters == 1)

        async def releaser() -> None:
            t.release(10)  # a running loop, but not the waiter's
            await asyncio.sleep(0)

        asyncio.run(releaser())
        future.result(5)
        assert t.current == 4
    finally:
        worker.stop()


def test_waiters_on_two_loops_stay_fifo() -> None:
    t = Throttle("t", 2)
    t.take(2)
    a, b = LoopThread(), LoopThread()
    order: list[str] = []
    lock = threading.Lock()

    async def want(tag: str) -> None:
        await t.acquire(2)
        with lock:
            order.append(tag)

    try:
        fa = asyncio.run_coroutine_threadsafe(want("a"), a.loop)
        wait_until(lambda: t.statistics().waiters == 1)
        fb = asyncio.run_coroutine_threadsafe(want("b"), b.loop)
        wait_until(lambda: t.statistics().waiters == 2)
        t.put(2)
        fa.result(5)
        assert not fb.done()
        assert order == ["a"]
        t.put(2)
        fb.result(5)
        assert order == ["a", "b"]
    finally:
        a.stop()
        b.stop()


def test_concurrent_threads_conserve_budget() -> None:
    t = Throttle("t", 5)
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(2000):
                if t.get_or_fail(2):
                    assert t.current <= 5
                    t.put(2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors
    assert t.current == 0
    s = t.statistics()
    assert s.get_or_fail_success + s.get_or_fail_fail == 8000
    assert s.put == s.get_or_fail_success


# --- counters ---------------------------------------------------------------------

def test_perf_dump_names_and_wait_time() -> None:
    clock = FakeClock()

    async def main() -> Throttle:
        t = Throttle("msgr_dispatch_throttler-client", 10, clock=clock)
        await t.acquire(10)
        task = asyncio.create_task(t.acquire(3))
        await settle()
        clock.now += 2.5
        t.release(10)
        await task
        t.take(7)
        assert not t.get_or_fail(1)
        return t

    t = asyncio.run(main())
    assert t.perf_name == "throttle-msgr_dispatch_throttler-client"
    assert t.name == "msgr_dispatch_throttler-client"
    dump = t.perf_dump()
    assert list(dump) == CEPH_FIELDS
    assert dump["val"] == 10
    assert dump["max"] == 10
    assert dump["get_started"] == 2
    assert dump["get"] == 2
    assert dump["get_sum"] == 13
    assert dump["get_or_fail_fail"] == 1
    assert dump["get_or_fail_success"] == 0
    assert (dump["take"], dump["take_sum"]) == (1, 7)
    assert (dump["put"], dump["put_sum"]) == (1, 10)
    assert dump["wait"] == {"avgcount": 1, "sum": 2.5, "avgtime": 2.5}
    s = t.statistics()
    assert (s.wait, s.wait_count) == (2.5, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.val = 0  # type: ignore[misc]
    assert Throttle("x", 1).perf_dump()["wait"] == {"avgcount": 0, "sum": 0.0, "avgtime": 0.0}


def test_repr() -> None:
    t = Throttle("bytes", 10)
    t.take(3)
    assert repr(t) == "<Throttle 'bytes' 3/10 waiters=0>"
