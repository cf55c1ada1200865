"""EventCenter / Worker / WorkerPool: a port of Ceph's ``test_async_driver.cc``.

PipeTest, FileEventExpansion and DispatchTest (ceph-messenger.md §9.2) plus time events,
``submit_to``, least-loaded worker selection, embedded mode and a cross-worker echo over
a socketpair. Synchronisation uses futures and ``threading.Event``, never sleeps; equal
time-event deadlines are produced by freezing ``loop.time`` while the events are created.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from asyncmsgr.aio.event_center import (
    EVENT_NONE,
    EVENT_READABLE,
    EVENT_WRITABLE,
    EventCenter,
    Worker,
    WorkerPool,
)

T = TypeVar("T")
WAIT = 5.0  # upper bound for one wait; tests normally finish in milliseconds
Loop = asyncio.AbstractEventLoop
MakePipe = Callable[[], tuple[int, int]]


def worker_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("msgr-worker-")]


async def wait_for(aw: Awaitable[T]) -> T:
    async with asyncio.timeout(WAIT):
        return await aw


def on_loop(test: Callable[[Loop, EventCenter], Awaitable[None]]) -> None:
    """``asyncio.run`` ``test(loop, center)``; the center is owned by the loop's thread."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        await test(loop, EventCenter(loop))
    asyncio.run(main())


async def iterations(n: int) -> None:
    """Let the running loop poll its selector ``n`` more times."""
    for _ in range(n):
        await asyncio.sleep(0)


@contextlib.contextmanager
def frozen_clock(loop: Loop, at: float) -> Iterator[None]:
    """``loop.time()`` returns ``at``: time events created meanwhile share deadlines."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(loop, "time", lambda: at)
        yield


@contextlib.contextmanager
def idle_loop() -> Iterator[tuple[Loop, EventCenter]]:
    """A loop that is not running, with a center owned by this thread; closed at exit."""
    loop = asyncio.new_event_loop()
    try:
        center = EventCenter(loop)
        center.set_owner()
        yield loop, center
    finally:
        loop.close()


def run_until_system_exit(loop: Loop) -> None:
    guard = loop.call_later(WAIT, loop.stop)  # fail instead of hanging
    with pytest.raises(SystemExit):
        loop.run_forever()
    guard.cancel()


def raised_in_thread(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` on a new thread; return what it raised, or None."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(WAIT)
    return raised[0] if raised else None


@pytest.fixture
def make_pipe() -> Iterator[MakePipe]:
    """``os.pipe()`` whose ends are closed after the test."""
    created: list[tuple[int, int]] = []

    def make() -> tuple[int, int]:
        created.append(os.pipe())
        return created[-1]

    yield make
    for r, w in created:
        os.close(r)
        os.close(w)


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2) as p:
        yield p


# -- file events (PipeTest) ------------------------------------------------------------


def test_pipe_readable_fires_then_not_after_delete(make_pipe: MakePipe) -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        assert center.in_thread()
        r, w = make_pipe()
        fired: list[int] = []
        got = loop.create_future()

        def on_read(fd: int) -> None:
            fired.append(fd)
            os.read(fd, 4096)
            if not got.done():
                got.set_result(None)

        center.create_file_event(r, EVENT_READABLE, on_read)
        assert center.file_event_mask(r) == EVENT_READABLE
        assert center.statistics().file_events == 1
        await iterations(3)
        assert fired == []  # nothing to read yet
        os.write(w, b"x")
        await wait_for(got)
        assert fired == [r]

        center.delete_file_event(r, EVENT_READABLE)
        assert center.file_event_mask(r) == EVENT_NONE
        assert center.statistics().file_events == 0
        os.write(w, b"more bytes")
        await iterations(5)
        assert fired == [r]
        center.delete_file_event(r, EVENT_READABLE)  # idempotent
        center.delete_file_event(12345, EVENT_READABLE | EVENT_WRITABLE)  # unknown fd

    on_loop(main)


def test_delete_in_same_iteration_suppresses_reported_callback(make_pipe: MakePipe) -> None:
    """Both pipes are reported ready together; the first callback deletes the other."""
    async def main(loop: Loop, center: EventCenter) -> None:
        (r1, w1), (r2, w2) = make_pipe(), make_pipe()
        fired: list[int] = []

        def on_read(fd: int) -> None:
            fired.append(fd)
            os.read(fd, 16)
            center.delete_file_event(r2 if fd == r1 else r1, EVENT_READABLE)
            center.delete_file_event(fd, EVENT_READABLE)

        center.create_file_event(r1, EVENT_READABLE, on_read)
        center.create_file_event(r2, EVENT_READABLE, on_read)
        os.write(w1, b"a")
        os.write(w2, b"b")
        await iterations(5)
        assert len(fired) == 1

    on_loop(main)


def test_socketpair_writable_and_readable_masks_are_independent() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        a, b = socket.socketpair()
        with a, b:
            a.setblocking(False)
            fd = a.fileno()
            got = {EVENT_READABLE: asyncio.Event(), EVENT_WRITABLE: asyncio.Event()}
            fds: set[int] = set()

            def make(kind: int) -> Callable[[int], None]:
                def cb(got_fd: int) -> None:
                    fds.add(got_fd)
                    if kind == EVENT_READABLE:
                        a.recv(4096)
                    got[kind].set()
                return cb

            center.create_file_event(fd, EVENT_WRITABLE, make(EVENT_WRITABLE))
            await wait_for(got[EVENT_WRITABLE].wait())
            center.create_file_event(fd, EVENT_READABLE, make(EVENT_READABLE))
            assert center.file_event_mask(fd) == EVENT_READABLE | EVENT_WRITABLE
            assert center.statistics().file_events == 1
            b.send(b"ping")
            await wait_for(got[EVENT_READABLE].wait())

            center.delete_file_event(fd, EVENT_READABLE)
            assert center.file_event_mask(fd) == EVENT_WRITABLE
            got[EVENT_READABLE].clear()
            got[EVENT_WRITABLE].clear()
            b.send(b"unread")
            await wait_for(got[EVENT_WRITABLE].wait())  # WRITABLE survived the delete
            await iterations(3)
            assert not got[EVENT_READABLE].is_set()

            center.delete_file_event(fd, EVENT_WRITABLE)
            assert center.statistics().file_events == 0
            got[EVENT_WRITABLE].clear()
            await iterations(5)
            assert not any(event.is_set() for event in got.values())
            assert fds == {fd}

    on_loop(main)


def test_recreating_a_file_event_replaces_its_callback(make_pipe: MakePipe) -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        r, w = make_pipe()
        calls: list[str] = []
        done = loop.create_future()

        def second(fd: int) -> None:
            calls.append("second")
            os.read(fd, 16)
            center.delete_file_event(fd, EVENT_READABLE)
            done.set_result(None)

        center.create_file_event(r, EVENT_READABLE, lambda fd: calls.append("first"))
        center.create_file_event(r, EVENT_READABLE, second)
        os.write(w, b"x")
        await wait_for(done)
        assert calls == ["second"]

    on_loop(main)


def test_file_event_bad_mask_wrong_thread_and_no_owner(make_pipe: MakePipe) -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        r, _ = make_pipe()
        for mask in (EVENT_NONE, 4, EVENT_READABLE | 8):
            with pytest.raises(ValueError, match="mask"):
                center.create_file_event(r, mask, lambda fd: None)
        assert center.statistics().file_events == 0
        for call in (lambda: center.create_file_event(r, EVENT_READABLE, lambda fd: None),
                     lambda: center.delete_file_event(r, EVENT_READABLE),
                     lambda: center.create_time_event(0, lambda i: None),
                     lambda: center.delete_time_event(1),
                     center.clear):
            exc = raised_in_thread(call)
            assert isinstance(exc, RuntimeError)
            assert "owner thread" in str(exc)
        assert center.in_thread()

        other = asyncio.new_event_loop()  # not running anywhere: its center has no owner
        try:
            idle = EventCenter(other, center_id=7)
            assert not idle.in_thread()
            with pytest.raises(RuntimeError, match="owner thread of event center 7"):
                idle.create_file_event(r, EVENT_READABLE, lambda fd: None)
            idle.set_owner()
            idle.create_file_event(r, EVENT_READABLE, lambda fd: None)
            idle.clear()
            assert idle.statistics().file_events == 0
        finally:
            other.close()

    on_loop(main)


# -- FileEventExpansion ----------------------------------------------------------------


def test_file_event_expansion_300_pipes(make_pipe: MakePipe) -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        pipes = [make_pipe() for _ in range(300)]
        fired: dict[int, int] = {}
        done = loop.create_future()

        def on_read(fd: int) -> None:
            fired[fd] = fired.get(fd, 0) + 1
            os.read(fd, 16)
            center.delete_file_event(fd, EVENT_READABLE)
            if len(fired) == len(pipes) and not done.done():
                done.set_result(None)

        for r, _ in pipes:
            center.create_file_event(r, EVENT_READABLE, on_read)
        assert center.statistics().file_events == 300
        for _, w in pipes:
            os.write(w, b"x")
        await wait_for(done)
        assert fired == {r: 1 for r, _ in pipes}
        assert center.statistics().file_events == 0

    on_loop(main)


# -- time events -----------------------------------------------------------------------


def test_time_events_fire_in_deadline_order() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        order: list[int] = []
        done = loop.create_future()
        delays = [30_000, 10_000, 0, 20_000, 5_000]
        by_id: dict[int, int] = {}

        def cb(event_id: int) -> None:
            order.append(by_id[event_id])
            if len(order) == len(delays):
                done.set_result(None)

        for delay in delays:
            by_id[center.create_time_event(delay, cb)] = delay
        assert center.statistics().time_events == len(delays)
        await wait_for(done)
        assert order == sorted(delays)
        assert center.statistics().time_events == 0

    on_loop(main)


def test_time_events_with_equal_deadline_fire_in_creation_order() -> None:
    """asyncio's timer heap does not keep ties in order; the center must."""
    async def main(loop: Loop, center: EventCenter) -> None:
        fired: list[int] = []
        done = loop.create_future()
        with frozen_clock(loop, loop.time()):
            ids = [center.create_time_event(1000, fired.append) for _ in range(20)]
            last = center.create_time_event(1000, lambda i: done.set_result(None))
        assert len(set(ids)) == 20
        await wait_for(done)
        assert fired == ids
        assert center.statistics().time_events == 0
        assert last > ids[-1]

    on_loop(main)


def test_delete_time_event_cancels_and_pending_count_drops() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        fired: list[int] = []
        done = loop.create_future()
        doomed = center.create_time_event(0, fired.append)
        early = center.create_time_event(1000, fired.append)
        late = center.create_time_event(5000, done.set_result)
        assert center.statistics().time_events == 3
        center.delete_time_event(doomed)
        assert center.statistics().time_events == 2
        center.delete_time_event(doomed)  # idempotent
        center.delete_time_event(999_999)  # unknown id
        assert center.statistics().time_events == 2
        assert await wait_for(done) == late
        assert fired == [early]
        assert center.statistics().time_events == 0
        center.delete_time_event(early)  # already fired: ignored

    on_loop(main)


def test_time_event_ids_unique_and_callback_may_delete_a_tied_event() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        ids = [center.create_time_event(50_000, lambda i: None) for _ in range(200)]
        assert len(set(ids)) == 200
        for event_id in ids:
            center.delete_time_event(event_id)
        assert center.statistics().time_events == 0

        fired: list[int] = []
        done = loop.create_future()
        with frozen_clock(loop, loop.time()):
            first = center.create_time_event(0, lambda i: center.delete_time_event(second))
            second = center.create_time_event(0, fired.append)
            third = center.create_time_event(0, lambda i: done.set_result(None))
        await wait_for(done)
        assert fired == []
        assert first not in ids
        assert len({first, second, third}) == 3
        with pytest.raises(ValueError, match="negative"):
            center.create_time_event(-1, fired.append)

    on_loop(main)


def test_raising_time_event_goes_to_exception_handler_and_tie_continues() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        handled: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, ctx: handled.append(ctx))
        done = loop.create_future()

        def boom(event_id: int) -> None:
            raise ZeroDivisionError(event_id)

        with frozen_clock(loop, loop.time()):
            center.create_time_event(0, boom)
            center.create_time_event(0, lambda i: done.set_result(None))
        await wait_for(done)
        assert len(handled) == 1
        assert isinstance(handled[0]["exception"], ZeroDivisionError)

    on_loop(main)


def test_system_exit_in_time_event_keeps_tied_events_and_clear_empties_a_firing_bucket(
        ) -> None:
    with idle_loop() as (loop, center):
        fired: list[int] = []

        def leave(event_id: int) -> None:
            raise SystemExit(event_id)

        frozen = loop.time()
        with frozen_clock(loop, frozen):
            ids = [center.create_time_event(0, fired.append),
                   center.create_time_event(0, leave),
                   center.create_time_event(0, fired.append),
                   center.create_time_event(0, fired.append)]
        run_until_system_exit(loop)
        assert fired == ids[:1]
        assert center.statistics().time_events == 2

        done = loop.create_future()
        with frozen_clock(loop, frozen + 0.001):
            center.create_time_event(0, lambda i: center.clear())
            center.create_time_event(0, fired.append)  # cleared by the previous one
        center.create_time_event(2000, fired.append)  # also cleared
        loop.call_later(0.02, done.set_result, None)
        loop.run_until_complete(done)
        assert fired == [ids[0], ids[2], ids[3]]
        assert center.statistics().time_events == 0


# -- external events (DispatchTest) ----------------------------------------------------


def test_dispatch_2_workers_x_2_threads_x_10000(pool: WorkerPool) -> None:
    per_thread = 10_000
    workers = pool.workers
    seen = {(w.worker_id, t): list[int]() for w in workers for t in (0, 1)}
    wrong_thread: list[str] = []
    remaining = {w.worker_id: 2 * per_thread for w in workers}  # each touched by 1 thread
    finished = {w.worker_id: threading.Event() for w in workers}
    refused: list[int] = []
    barrier = threading.Barrier(4)

    def make_cb(worker: Worker, t: int, i: int) -> Callable[[], None]:
        key, name = (worker.worker_id, t), worker.thread_name

        def cb() -> None:
            if threading.current_thread().name != name:
                wrong_thread.append(threading.current_thread().name)
            seen[key].append(i)
            remaining[key[0]] -= 1
            if remaining[key[0]] == 0:
                finished[key[0]].set()
        return cb

    def submitter(worker: Worker, t: int) -> None:
        callbacks = [make_cb(worker, t, i) for i in range(per_thread)]
        barrier.wait(WAIT)
        refused.extend(1 for cb in callbacks if not worker.center.dispatch_event_external(cb))

    threads = [threading.Thread(target=submitter, args=(w, t)) for w in workers for t in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT)
    assert all(event.wait(WAIT) for event in finished.values())
    assert not refused
    assert not wrong_thread
    for key, got in seen.items():
        assert got == list(range(per_thread)), key
    for w in workers:
        stats = w.center.statistics()
        assert stats.external_events_posted == stats.external_events_run == 2 * per_thread


def test_dispatch_from_owner_thread_is_fifo_and_never_inline() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        order: list[int] = []
        done = loop.create_future()
        for i in range(100):
            assert center.dispatch_event_external(functools.partial(order.append, i))
        assert center.dispatch_event_external(lambda: done.set_result(None))
        assert order == []  # queued, not run inline
        await wait_for(done)
        assert order == list(range(100))
        assert center.statistics().external_events_run == 101

        center.stop()
        assert center.stopped
        assert not center.dispatch_event_external(lambda: order.append(-1))
        await iterations(3)
        assert order == list(range(100))
        assert center.statistics().external_events_posted == 101

    on_loop(main)


def test_raising_external_event_is_reported_and_the_batch_continues() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        handled: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, ctx: handled.append(ctx))
        order: list[str] = []
        done = loop.create_future()

        def boom() -> None:
            order.append("boom")
            raise ZeroDivisionError("external")

        center.dispatch_event_external(boom)
        center.dispatch_event_external(lambda: order.append("after"))
        center.dispatch_event_external(lambda: done.set_result(None))
        await wait_for(done)
        assert order == ["boom", "after"]
        assert len(handled) == 1
        assert isinstance(handled[0]["exception"], ZeroDivisionError)

    on_loop(main)


def test_system_exit_in_external_event_keeps_the_rest_queued() -> None:
    with idle_loop() as (loop, center):
        order: list[int] = []

        def leave() -> None:
            raise SystemExit(3)

        center.dispatch_event_external(functools.partial(order.append, 1))
        center.dispatch_event_external(leave)
        center.dispatch_event_external(functools.partial(order.append, 2))
        run_until_system_exit(loop)
        assert order == [1]
        center.dispatch_event_external(functools.partial(order.append, 3))
        done = loop.create_future()
        center.dispatch_event_external(functools.partial(done.set_result, None))
        loop.run_until_complete(asyncio.wait_for(done, WAIT))
        assert order == [1, 2, 3]
        stats = center.statistics()
        assert stats.external_events_posted == stats.external_events_run == 5


# -- submit_to -------------------------------------------------------------------------


def test_submit_to_runs_inline_on_owner_thread() -> None:
    async def main(loop: Loop, center: EventCenter) -> None:
        ran: list[str] = []

        def job() -> int:
            ran.append("inline")
            return 42

        assert center.submit_to(job) == 42
        assert ran == ["inline"]
        assert center.statistics().external_events_posted == 0
        empty: dict[str, int] = {}
        with pytest.raises(KeyError):
            center.submit_to(lambda: empty["missing"])

    on_loop(main)


def test_submit_to_blocks_from_foreign_thread_and_propagates_errors(pool: WorkerPool) -> None:
    for worker in pool.workers:
        assert not worker.center.in_thread()
        assert worker.center.submit_to(lambda: threading.current_thread().name) == (
            f"msgr-worker-{worker.worker_id}")
        assert worker.center.submit_to(worker.center.in_thread)

    def fail() -> int:
        raise ZeroDivisionError("from the worker")

    center = pool.workers[0].center
    with pytest.raises(ZeroDivisionError, match="from the worker"):
        center.submit_to(fail)
    assert center.submit_to(lambda: 7) == 7  # the worker survived


def test_submit_to_always_async_returns_none_and_runs_later(pool: WorkerPool) -> None:
    center = pool.workers[1].center
    ran = threading.Event()
    where: list[str] = []

    def job() -> int:
        where.append(threading.current_thread().name)
        ran.set()
        return 5

    assert center.submit_to(job, always_async=True) is None
    assert ran.wait(WAIT)
    assert where == ["msgr-worker-1"]

    # on the owner thread, always_async still defers: the job has not run on return
    later = threading.Event()

    def on_worker() -> tuple[object, bool]:
        returned = center.submit_to(later.set, always_async=True)
        return returned, later.is_set()

    assert center.submit_to(on_worker) == (None, False)
    assert center.submit_to(later.is_set)  # FIFO: the deferred job ran before this one


def test_submit_to_on_stopped_center_raises() -> None:
    worker = Worker(3)
    worker.start()
    center = worker.center
    center.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        center.submit_to(lambda: 1)
    with pytest.raises(RuntimeError, match="stopped"):
        center.submit_to(lambda: 1, always_async=True)
    assert not center.dispatch_event_external(lambda: None)
    worker.stop()
    assert worker.center.loop.is_closed()


# -- Worker / WorkerPool ---------------------------------------------------------------


def test_worker_pool_range_check() -> None:
    for bad in (0, -1, 25, 100):
        with pytest.raises(ValueError, match=r"1\.\.24"):
            WorkerPool(bad)
    for good in (1, 24):
        p = WorkerPool(good)  # never started: stop() just closes the loops
        assert len(p.workers) == good
        p.stop()
        assert all(w.center.loop.is_closed() for w in p.workers)
    with idle_loop() as (loop, _), pytest.raises(ValueError, match="exclusive"):
        WorkerPool(1, embedded_loop=loop, loop_factory=asyncio.new_event_loop)


def test_worker_pool_least_loaded_selection() -> None:
    p = WorkerPool(3)
    try:
        assert [p.get_worker().worker_id for _ in range(3)] == [0, 1, 2]
        p.release_worker(p.workers[1])
        assert [w.references for w in p.workers] == [1, 0, 1]
        assert p.get_worker().worker_id == 1
        assert [p.get_worker().worker_id for _ in range(4)] == [0, 1, 2, 0]
        assert [w.references for w in p.workers] == [3, 2, 2]
        for _ in range(2):
            p.release_worker(p.workers[2])
        with pytest.raises(ValueError, match="no references"):
            p.release_worker(p.workers[2])
        stranger = Worker(9)
        with pytest.raises(ValueError, match="does not belong"):
            p.release_worker(stranger)
        stranger.stop()
        assert "references=[3, 2, 0]" in repr(p)
    finally:
        p.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        p.get_worker()


def test_worker_pool_start_stop_leaves_no_thread() -> None:
    assert worker_threads() == []
    p = WorkerPool(3)
    assert not p.embedded
    with p:
        assert sorted(worker_threads()) == ["msgr-worker-0", "msgr-worker-1", "msgr-worker-2"]
        assert all(w.running for w in p.workers)
        p.start()  # no-op while running
        assert "state=running" in repr(p)
    assert worker_threads() == []
    assert all(w.center.loop.is_closed() and not w.running for w in p.workers)
    p.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        p.start()
    assert "state=stopped" in repr(p)


def test_worker_stop_cancels_tasks_and_events_and_refuses_own_thread() -> None:
    worker = Worker(5)
    worker.start()
    center = worker.center
    cancelled = threading.Event()
    stop_errors: list[BaseException] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    def setup() -> None:
        # the task is owned by the worker's loop; Worker.stop() cancels and awaits it
        center.loop.create_task(forever())
        center.create_time_event(60_000_000, lambda i: None)
        try:
            worker.stop()
        except RuntimeError as exc:
            stop_errors.append(exc)

    center.submit_to(setup)
    assert center.statistics().time_events == 1
    assert len(stop_errors) == 1
    assert "own thread" in str(stop_errors[0])
    worker.stop()
    assert cancelled.is_set()
    assert center.statistics().time_events == 0
    assert worker_threads() == []
    worker.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        worker.start()


def test_worker_loop_factory_is_used() -> None:
    made: list[Loop] = []

    def factory() -> Loop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    with WorkerPool(2, loop_factory=factory) as p:
        assert [w.center.loop for w in p.workers] == made
        assert p.workers[0].center.submit_to(asyncio.get_running_loop) is made[0]


def test_embedded_pool_runs_on_callers_loop_and_leaves_it_open() -> None:
    main_thread = threading.current_thread().name

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with WorkerPool(5, embedded_loop=loop) as p:
            assert p.embedded
            assert len(p.workers) == 1
            worker = p.get_worker()
            assert worker.is_embedded
            assert worker.thread_name == main_thread
            assert worker.center.loop is loop
            assert worker.center.in_thread()
            assert worker_threads() == []
            ran = loop.create_future()
            assert worker.center.dispatch_event_external(
                lambda: ran.set_result(threading.current_thread().name))
            assert await wait_for(ran) == main_thread
            assert worker.center.submit_to(lambda: 3) == 3  # inline, no thread hop
            worker.center.create_time_event(60_000_000, lambda i: None)
            assert isinstance(raised_in_thread(p.stop), RuntimeError)  # not the loop's thread
            assert worker.running
        assert worker.center.statistics().time_events == 0  # stop() cleared it
        assert not worker.center.dispatch_event_external(lambda: None)
        assert not loop.is_closed()
        await asyncio.sleep(0)  # the caller's loop keeps working
        p.stop()  # idempotent
        assert not worker.running
        assert "embedded" in repr(worker)

    asyncio.run(main())
    assert worker_threads() == []


# -- cross-worker echo -----------------------------------------------------------------


class _Peer:
    """One socketpair end driven by file events on one worker's center."""

    def __init__(self, center: EventCenter, sock: socket.socket, *, echo: bool,
                 expect: int = 0) -> None:
        self.center, self.sock, self.echo, self.expect = center, sock, echo, expect
        self.out = bytearray()
        self.received = bytearray()
        self.threads: set[str] = set()
        self.done = threading.Event()

    def start(self) -> None:
        self.center.create_file_event(self.sock.fileno(), EVENT_READABLE, self.on_readable)

    def send(self, data: bytes) -> None:
        self.out += data
        self.center.create_file_event(self.sock.fileno(), EVENT_WRITABLE, self.on_writable)

    def on_readable(self, fd: int) -> None:
        self.threads.add(threading.current_thread().name)
        data = self.sock.recv(65536)
        if self.echo:
            self.send(data)
        else:
            self.received += data
            if len(self.received) >= self.expect:
                self.done.set()

    def on_writable(self, fd: int) -> None:
        self.threads.add(threading.current_thread().name)
        try:
            sent = self.sock.send(self.out)
        except BlockingIOError:
            return
        del self.out[:sent]
        if not self.out:
            self.center.delete_file_event(fd, EVENT_WRITABLE)

    def close(self) -> None:
        self.center.delete_file_event(self.sock.fileno(), EVENT_READABLE | EVENT_WRITABLE)


def test_two_workers_echo_over_a_socketpair(pool: WorkerPool) -> None:
    payload = os.urandom(512 * 1024)  # larger than the socket buffers: partial writes
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        b.setblocking(False)
        w0, w1 = pool.workers
        client = _Peer(w0.center, a, echo=False, expect=len(payload))
        server = _Peer(w1.center, b, echo=True)
        w1.center.submit_to(server.start)
        w0.center.submit_to(client.start)
        w0.center.submit_to(lambda: client.send(payload))
        assert client.done.wait(WAIT)
        w0.center.submit_to(client.close)
        w1.center.submit_to(server.close)
    assert bytes(client.received) == payload
    assert client.threads == {"msgr-worker-0"}
    assert server.threads == {"msgr-worker-1"}
    assert w0.center.statistics().file_events == 0
    assert w1.center.statistics().file_events == 0
