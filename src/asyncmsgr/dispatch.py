"""The dispatch queue (Ceph's ``DispatchQueue``, ``src/msg/DispatchQueue.cc``); the
dispatchers it delivers to are :mod:`asyncmsgr.dispatcher` (re-exported here).

* :class:`DispatchQueue` is Ceph's ``DispatchQueue`` on asyncio: a
  :class:`~asyncmsgr.pqueue.PrioritizedQueue` keyed by connection id, one dispatch
  task (Ceph's ``ms_dispatch`` thread) and local delivery (Ceph's ``ms_local``
  thread, here callbacks on the queue's loop), plus the dispatch throttle
  ``msgr_dispatch_throttler-<name>``.

Ordering rules (Ceph's, see ``ceph-messenger.md`` §5):

* Messages of one connection at one priority come out in FIFO order.
* A higher priority overtakes a lower one: priorities >= ``CEPH_MSG_PRIO_LOW`` (64)
  are strict; lower ones share a token bucket weighted by cost (the data length),
  only while nothing strict is queued.
* Within a priority, connections are served round-robin, one message each.
* Code items (connect, accept, remote reset, reset, refused) are queued at
  ``CEPH_MSG_PRIO_HIGHEST`` (255) under id 0, so they overtake queued messages.

Error policy: an exception raised by a user handler never kills the queue. It is
logged with its traceback (``logger.exception`` on ``asyncmsgr.dispatch``) and the
walk goes on as documented per method. The only exception that escapes on purpose
is :class:`UnhandledMessage` (``die_on_unhandled``, Ceph's
``ms_die_on_unhandled_msg`` assert): it ends the dispatch task and is re-raised by
:meth:`DispatchQueue.wait_empty` and :meth:`DispatchQueue.shutdown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from asyncmsgr.dispatcher import (
    SYNC_ONLY_METHODS,
    Dispatcher,
    DispatcherChain,
    UnhandledMessage,
)
from asyncmsgr.message import CEPH_MSG_PRIO_HIGHEST, CEPH_MSG_PRIO_LOW, Message
from asyncmsgr.pqueue import DEFAULT_MAX_TOKENS_PER_PRIORITY, DEFAULT_MIN_COST, PrioritizedQueue
from asyncmsgr.throttle import Throttle

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection

logger = logging.getLogger("asyncmsgr.ms.dispatch")
#: Ceph logs each message it dispatches (``<== ...``) at debug_ms 1 (Python INFO;
#: see asyncmsgr.log).
_MSG_LEVEL = logging.INFO

#: The dispatch task yields to the event loop at least this often (seconds) while
#: it has work, so synchronous handlers cannot starve the I/O on the same loop.
_YIELD_INTERVAL = 0.001
#: Local deliveries handled per event-loop callback before yielding.
_LOCAL_BATCH = 64


# -- DispatchQueue ---------------------------------------------------------------------


class DispatchCode(IntEnum):
    """Code items (Ceph's ``D_CONNECT`` ... ``D_CONN_REFUSED``), queued under id 0."""

    CONNECT = 1
    ACCEPT = 2
    BAD_REMOTE_RESET = 3
    BAD_RESET = 4
    CONN_REFUSED = 5


@dataclass(eq=False, slots=True)
class _Item:
    """One queue entry: a message, or a code with its connection (Ceph's QueueItem)."""

    message: Message | None
    code: DispatchCode | None
    con: Connection | None


@dataclass(frozen=True, kw_only=True, slots=True)
class DispatchQueueStatistics:
    """A snapshot of a :class:`DispatchQueue`."""

    name: str
    """The queue's name (the messenger's)."""
    queued: int
    """Items waiting in the priority queue (messages and code items)."""
    depth_by_priority: Mapping[int, int]
    """Items waiting per priority, highest first."""
    local_pending: int
    """Local deliveries not yet pre-processed."""
    dispatching: bool
    """True while the dispatch task runs a handler."""
    enqueued: int
    """Messages accepted by :meth:`DispatchQueue.enqueue` (including local ones)."""
    dispatched: int
    """Messages delivered on the dispatch task."""
    fast_dispatched: int
    """Messages delivered through :meth:`DispatchQueue.fast_dispatch`."""
    local_delivered: int
    """Messages taken by :meth:`DispatchQueue.local_delivery`."""
    codes_delivered: int
    """Code items (connect, accept, resets, refused) delivered."""
    discarded: int
    """Messages dropped: :meth:`DispatchQueue.discard_queue`, shutdown, or after it."""
    throttle_current: int
    """Bytes held in the dispatch throttle."""
    throttle_max: int
    """The dispatch throttle's budget (0 = unlimited)."""
    running: bool
    """The dispatch task exists and has not finished."""
    stopped: bool
    """:meth:`DispatchQueue.shutdown` was called (or the task failed)."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class DispatchQueue:
    """Ceph's ``DispatchQueue`` on asyncio: priority queue, dispatch task, local delivery.

    Args:
        chain: the dispatchers to deliver to.
        throttle_bytes: ``ms_dispatch_throttle_bytes``, the budget of
            :attr:`throttle` (0 = unlimited).
        name: the messenger's name; the throttle is ``msgr_dispatch_throttler-<name>``.
        pq_max_tokens_per_priority: ``ms_pq_max_tokens_per_priority``.
        pq_min_cost: ``ms_pq_min_cost``.
        die_on_unhandled: ``ms_die_on_unhandled_msg``: an unhandled message raises
            :class:`UnhandledMessage` and ends the dispatch task.

    Threads: :meth:`enqueue`, :meth:`local_delivery`, the ``queue_*`` methods,
    :meth:`discard_queue`, :meth:`fast_dispatch`, :meth:`dispatch_throttle_release`,
    :meth:`get_queue_len`, :meth:`get_max_age` and :meth:`statistics` may be called
    from any thread. The coroutine methods and :meth:`start` (without ``loop``)
    belong to the queue's loop.

    The dispatch throttle is taken by the receiving connection
    (``throttle.get_or_fail(n)``, recorded in ``m.dispatch_throttle_size``); the
    queue gives it back once the message is dispatched or dropped, and calls
    ``m.release_throttles()`` for the policy throttles at the same moments.

    Life cycle: construct, :meth:`start`, feed, ``await`` :meth:`shutdown`. Items
    may be queued before :meth:`start`; they are dispatched once it runs.
    """

    def __init__(
        self,
        chain: DispatcherChain,
        *,
        throttle_bytes: int,
        name: str,
        pq_max_tokens_per_priority: int = DEFAULT_MAX_TOKENS_PER_PRIORITY,
        pq_min_cost: int = DEFAULT_MIN_COST,
        die_on_unhandled: bool = False,
    ) -> None:
        self._chain = chain
        self._name = name
        self._die_on_unhandled = die_on_unhandled
        self._throttle = Throttle(f"msgr_dispatch_throttler-{name}", throttle_bytes)
        self._lock = threading.Lock()
        # Guarded by _lock:
        self._pq: PrioritizedQueue[_Item] = PrioritizedQueue(pq_max_tokens_per_priority,
                                                             pq_min_cost)
        self._arrivals: dict[_Item, float] = {}  # Ceph's marrival: item -> recv stamp
        self._local: deque[tuple[Message, int]] = deque()
        self._local_scheduled = False
        self._waiter: asyncio.Future[None] | None = None  # the idle dispatch task's
        self._wake_pending = False
        self._stopping = False
        self._enqueued = 0
        self._fast_dispatched = 0
        self._local_delivered = 0
        self._discarded = 0
        # Loop side:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._current: _Item | None = None
        self._empty_waiters: list[asyncio.Future[None]] = []
        self._failure: BaseException | None = None
        self._failure_raised = False
        self._dispatched = 0
        self._codes_delivered = 0
        self._ids = itertools.count(1)
        self._code_handlers: dict[DispatchCode, Callable[[Connection], Awaitable[object]]] = {
            DispatchCode.CONNECT: chain.deliver_connect,
            DispatchCode.ACCEPT: chain.deliver_accept,
            DispatchCode.BAD_REMOTE_RESET: chain.deliver_remote_reset,
            DispatchCode.BAD_RESET: chain.deliver_reset,
            DispatchCode.CONN_REFUSED: chain.deliver_refused,
        }

    def __repr__(self) -> str:
        return f"<DispatchQueue {self._name!r} queued={self.get_queue_len()}>"

    # -- properties -------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The queue's name."""
        return self._name

    @property
    def chain(self) -> DispatcherChain:
        """The dispatchers delivered to."""
        return self._chain

    @property
    def throttle(self) -> Throttle:
        """The dispatch throttle ``msgr_dispatch_throttler-<name>``."""
        return self._throttle

    def get_id(self) -> int:
        """A fresh connection id (>= 1; 0 is reserved for code items and local
        delivery), as Ceph's ``DispatchQueue::get_id``. Thread-safe."""
        return next(self._ids)

    # -- life cycle -------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Create the dispatch task on ``loop`` (default: the running loop).

        ``loop`` may belong to another thread; the task is then created there.

        Raises:
            RuntimeError: already started, shut down, or no loop given or running.
        """
        running = _running_loop()
        if loop is None:
            if running is None:
                raise RuntimeError("DispatchQueue.start() needs a running loop or loop=")
            loop = running
        with self._lock:
            if self._stopping:
                raise RuntimeError(f"dispatch queue {self._name!r} is shut down")
            if self._loop is not None:
                raise RuntimeError(f"dispatch queue {self._name!r} already started")
            self._loop = loop
            run_local = bool(self._local) and not self._local_scheduled
            self._local_scheduled = self._local_scheduled or run_local
        if loop is running:
            self._loop_thread = threading.get_ident()
            self._create_task()
            if run_local:
                loop.call_soon(self._run_local)
        else:
            loop.call_soon_threadsafe(self._create_task)
            if run_local:
                loop.call_soon_threadsafe(self._run_local)

    def _create_task(self) -> None:
        self._loop_thread = threading.get_ident()
        if self._stopping or self._task is not None:
            return
        assert self._loop is not None
        self._task = self._loop.create_task(self._run(), name=f"ms_dispatch-{self._name}")

    async def shutdown(self) -> None:
        """Stop: refuse new items, discard what is queued (releasing throttles), let
        the handler in progress finish, and await the dispatch task. Idempotent.

        If ``shutdown`` itself is cancelled the dispatch task is cancelled too.

        Raises:
            UnhandledMessage: (or any other error) that ended the dispatch task,
                once.
        """
        waiter = self._stop_and_discard()
        if waiter is not None:
            self._wake(waiter)
        task = self._task
        try:
            if task is not None and not task.done():
                try:
                    await asyncio.wait([task])
                except asyncio.CancelledError:
                    task.cancel()
                    raise
        finally:
            self._resolve_empty_waiters()
        if task is not None and not self._failure_raised:
            self._failure_raised = True
            if not task.cancelled() and (exc := task.exception()) is not None:
                raise exc

    # -- feeding (any thread) ----------------------------------------------------------

    def _take_waiter_locked(self) -> asyncio.Future[None] | None:
        """With the lock held: the idle task's future to wake, at most once per wait."""
        waiter = self._waiter
        if waiter is None or self._wake_pending:
            return None
        self._wake_pending = True
        return waiter

    def _on_loop_thread(self) -> bool:
        return self._loop_thread == threading.get_ident()

    def _wake(self, waiter: asyncio.Future[None]) -> None:
        if self._on_loop_thread():
            _resolve(waiter)
            return
        loop = self._loop
        assert loop is not None
        with contextlib.suppress(RuntimeError):  # loop closed: nobody dispatches any more
            loop.call_soon_threadsafe(_resolve, waiter)

    def enqueue(self, m: Message, priority: int, conn_id: int) -> None:
        """Queue ``m`` of connection ``conn_id`` for the dispatch task.

        ``priority >= CEPH_MSG_PRIO_LOW`` goes to the strict part, lower priorities
        to the token bucket with cost ``len(m.data)``. After :meth:`shutdown` the
        message is dropped and its throttles released.
        """
        item = _Item(m, None, None)
        stamp = m.recv_stamp or time.monotonic()
        with self._lock:
            if self._stopping:
                self._discarded += 1
                waiter = None
                dropped = True
            else:
                dropped = False
                self._arrivals[item] = stamp
                if priority >= CEPH_MSG_PRIO_LOW:
                    self._pq.enqueue_strict(conn_id, priority, item)
                else:
                    self._pq.enqueue(conn_id, priority, len(m.data), item)
                self._enqueued += 1
                waiter = self._take_waiter_locked()
        if dropped:
            logger.debug("dispatch queue %r stopped, dropping %r", self._name, m)
            self.release_message(m)
        elif waiter is not None:
            self._wake(waiter)

    def _queue_code(self, code: DispatchCode, con: Connection) -> None:
        with self._lock:
            if self._stopping:
                return
            self._pq.enqueue_strict(0, CEPH_MSG_PRIO_HIGHEST,
                                    _Item(None, code, con))
            waiter = self._take_waiter_locked()
        if waiter is not None:
            self._wake(waiter)

    def queue_connect(self, con: Connection) -> None:
        """Queue ``ms_handle_connect(con)`` (``D_CONNECT``, id 0, priority 255)."""
        self._queue_code(DispatchCode.CONNECT, con)

    def queue_accept(self, con: Connection) -> None:
        """Queue ``ms_handle_accept(con)`` (``D_ACCEPT``)."""
        self._queue_code(DispatchCode.ACCEPT, con)

    def queue_remote_reset(self, con: Connection) -> None:
        """Queue ``ms_handle_remote_reset(con)`` (``D_BAD_REMOTE_RESET``)."""
        self._queue_code(DispatchCode.BAD_REMOTE_RESET, con)

    def queue_reset(self, con: Connection) -> None:
        """Queue ``ms_handle_reset(con)`` (``D_BAD_RESET``)."""
        self._queue_code(DispatchCode.BAD_RESET, con)

    def queue_refused(self, con: Connection) -> None:
        """Queue ``ms_handle_refused(con)`` (``D_CONN_REFUSED``)."""
        self._queue_code(DispatchCode.CONN_REFUSED, con)

    def local_delivery(self, m: Message, priority: int) -> None:
        """Deliver ``m`` sent to ourselves (the loopback path; Ceph's ``ms_local``).

        Stamps ``recv_stamp``/``throttle_stamp``/``recv_complete_stamp`` now, then
        on the queue's loop (soon, in call order): ``fast_preprocess``, then
        :meth:`fast_dispatch` if a fast dispatcher takes it, else
        ``enqueue(m, priority, 0)``. So local messages are pre-processed in the
        order given; a fast-dispatched one can overtake earlier ones still queued;
        queued ones share id 0 with code items and keep FIFO order per priority.
        Before :meth:`start` they wait; after :meth:`shutdown` they are dropped.
        """
        now = time.monotonic()
        m.recv_stamp = m.throttle_stamp = m.recv_complete_stamp = now
        with self._lock:
            if self._stopping:
                self._discarded += 1
                dropped = True
                schedule = False
            else:
                dropped = False
                self._local.append((m, priority))
                self._local_delivered += 1
                schedule = self._loop is not None and not self._local_scheduled
                if schedule:
                    self._local_scheduled = True
        if dropped:
            self.release_message(m)
        elif schedule:
            loop = self._loop
            assert loop is not None
            if self._on_loop_thread():
                loop.call_soon(self._run_local)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._run_local)

    def _run_local(self) -> None:
        """On the loop: handle up to a batch of local deliveries, reschedule if more."""
        for _ in range(_LOCAL_BATCH):
            with self._lock:
                if self._stopping or not self._local:
                    self._local_scheduled = False
                    break
                m, priority = self._local.popleft()
            self._chain.fast_preprocess(m)
            if self._chain.can_fast_dispatch(m):
                self.fast_dispatch(m)
            else:
                self.enqueue(m, priority, 0)
        else:
            assert self._loop is not None
            self._loop.call_soon(self._run_local)
            return
        self._notify_if_empty()

    # -- dispatching -------------------------------------------------------------------

    def _pre_dispatch(self, m: Message) -> int:
        """Stamp ``dispatch_stamp``; take over ``dispatch_throttle_size`` (cleared)."""
        m.dispatch_stamp = time.monotonic()
        msize = m.dispatch_throttle_size
        m.dispatch_throttle_size = 0
        if logger.isEnabledFor(_MSG_LEVEL):
            logger.log(_MSG_LEVEL, "<== %s %d ==== %r ==== %d+%d+%d con %r", m.src, m.seq, m,
                       len(m.front), len(m.middle), len(m.data), m.connection)
        return msize

    def _post_dispatch(self, m: Message, msize: int) -> None:
        """Release the dispatch throttle, then the policy throttles."""
        self.dispatch_throttle_release(msize)
        try:
            m.release_throttles()
        except Exception:
            logger.exception("release hook of %r raised", m)

    def release_message(self, m: Message) -> None:
        """Give back every throttle a dropped message holds (dispatch and policy)."""
        msize = m.dispatch_throttle_size
        m.dispatch_throttle_size = 0
        self._post_dispatch(m, msize)

    def dispatch_throttle_release(self, n: int) -> None:
        """Give ``n`` bytes back to the dispatch throttle (no-op for 0)."""
        if n:
            self._throttle.put(n)

    def fast_dispatch(self, m: Message) -> bool:
        """Deliver ``m`` inline on the calling thread (Ceph's ``fast_dispatch``).

        ``pre_dispatch`` (stamp, take over the dispatch throttle size), the chain's
        ``fast_dispatch``, ``post_dispatch`` (release the dispatch throttle, then
        ``m.release_throttles()``). Callers check :meth:`DispatcherChain.can_fast_dispatch`
        first.

        Returns:
            False if no fast dispatcher took ``m`` (logged; ``m`` is dropped).
        """
        msize = self._pre_dispatch(m)
        try:
            taken = self._chain.fast_dispatch(m)
        finally:
            self._post_dispatch(m, msize)
        with self._lock:
            self._fast_dispatched += 1
        return taken

    def deliver(self, m: Message, conn_id: int) -> float:
        """A message received on connection ``conn_id`` (``m.connection`` set):
        ``fast_preprocess``, then :meth:`fast_dispatch` if a fast dispatcher takes
        it (each asked once), else :meth:`enqueue` at ``m.priority``. Returns the
        seconds spent fast-dispatching (0.0 if queued)."""
        chain = self._chain
        if chain.preprocessors:
            chain.fast_preprocess(m)
        for d in chain.fast_dispatchers:
            try:
                can = d.ms_can_fast_dispatch(m)
            except Exception:
                logger.exception("%r.ms_can_fast_dispatch(%r) raised", d, m)
                continue
            if can:
                start = time.monotonic()
                self.fast_dispatch_to(d, m, start)
                return time.monotonic() - start
        self.enqueue(m, m.priority, conn_id)
        return 0.0

    def fast_dispatch_to(self, d: Dispatcher, m: Message, now: float) -> None:
        """:meth:`fast_dispatch` to ``d``, whose ``ms_can_fast_dispatch(m)`` said
        yes; ``now`` is the dispatch stamp."""
        m.dispatch_stamp = now
        msize = m.dispatch_throttle_size
        m.dispatch_throttle_size = 0
        if logger.isEnabledFor(_MSG_LEVEL):
            logger.log(_MSG_LEVEL, "<== %s %d ==== %r ==== %d+%d+%d con %r", m.src, m.seq, m,
                       len(m.front), len(m.middle), len(m.data), m.connection)
        try:
            d.ms_fast_dispatch(m)
        except Exception:
            logger.exception("%r.ms_fast_dispatch(%r) raised", d, m)
        finally:
            if msize:
                self._throttle.put(msize)
            if m.release_hook is not None:
                try:
                    m.release_throttles()
                except Exception:
                    logger.exception("release hook of %r raised", m)
        with self._lock:
            self._fast_dispatched += 1

    async def _dispatch_item(self, item: _Item) -> None:
        m = item.message
        if m is None:
            assert item.code is not None
            assert item.con is not None
            await self._code_handlers[item.code](item.con)
            self._codes_delivered += 1
            return
        msize = self._pre_dispatch(m)
        try:
            await self._chain.deliver_dispatch(m, die_on_unhandled=self._die_on_unhandled)
        finally:
            self._post_dispatch(m, msize)
            self._dispatched += 1

    async def _run(self) -> None:
        """The dispatch task (Ceph's ``DispatchQueue::entry``)."""
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        deadline = loop.time() + _YIELD_INTERVAL
        try:
            while True:
                with self._lock:
                    if self._stopping:
                        return
                    if self._pq:
                        item = self._pq.dequeue()
                        if item.message is not None:
                            self._arrivals.pop(item, None)
                        self._current = item
                        waiter = None
                    else:
                        waiter = self._waiter = loop.create_future()
                if waiter is not None:
                    self._notify_if_empty()
                    try:
                        await waiter
                    finally:
                        with self._lock:
                            self._waiter = None
                            self._wake_pending = False
                    deadline = loop.time() + _YIELD_INTERVAL
                    continue
                try:
                    await self._dispatch_item(item)
                finally:
                    self._current = None
                if loop.time() >= deadline:
                    await asyncio.sleep(0)
                    deadline = loop.time() + _YIELD_INTERVAL
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self._failure = exc
                logger.critical("dispatch queue %r: dispatch task failed: %r",
                                self._name, exc)
                self._stop_and_discard()
            raise
        finally:
            self._resolve_empty_waiters()

    def _stop_and_discard(self) -> asyncio.Future[None] | None:
        """Set the stop flag, drop everything queued or pending local delivery
        (releasing throttles); return the idle task's future to wake, if any."""
        with self._lock:
            self._stopping = True
            dropped = [item.message for item in self._pq.clear() if item.message is not None]
            dropped.extend(m for m, _prio in self._local)
            self._local.clear()
            self._arrivals.clear()
            self._discarded += len(dropped)
            waiter = self._take_waiter_locked()
        for m in dropped:
            self.release_message(m)
        return waiter

    # -- waiting ---------------------------------------------------------------------

    def _is_empty(self) -> bool:
        with self._lock:
            return (not self._pq and self._current is None and not self._local
                    and not self._local_scheduled)

    def _notify_if_empty(self) -> None:
        if self._empty_waiters and self._is_empty():
            self._resolve_empty_waiters()

    def _resolve_empty_waiters(self) -> None:
        waiters, self._empty_waiters = self._empty_waiters, []
        for fut in waiters:
            _resolve(fut)

    async def wait_empty(self) -> None:
        """Wait until nothing is queued, nothing is being dispatched and no local
        delivery is pending. Call on the queue's loop.

        Raises:
            UnhandledMessage: (or another error) ended the dispatch task.
            RuntimeError: the queue was never started, or its task was cancelled
                with work left.
        """
        loop = asyncio.get_running_loop()
        while True:
            if self._failure is not None:
                raise self._failure
            if self._is_empty() or self._stopping:
                return
            if self._loop is None:
                raise RuntimeError(f"dispatch queue {self._name!r} is not started")
            if self._task is not None and self._task.done():
                raise RuntimeError(f"dispatch queue {self._name!r}: dispatch task ended")
            fut: asyncio.Future[None] = loop.create_future()
            self._empty_waiters.append(fut)
            await fut

    drain = wait_empty

    # -- introspection ----------------------------------------------------------------

    def get_queue_len(self) -> int:
        """Items waiting in the priority queue (``get_dispatch_queue_len``)."""
        with self._lock:
            return len(self._pq)

    def get_max_age(self, now: float) -> float:
        """Seconds since the oldest queued message's ``recv_stamp`` (0 if none).

        ``now`` is ``time.monotonic()``; a message without a ``recv_stamp`` counts
        from its enqueue time. Like Ceph's ``marrival``; O(queue length).
        """
        with self._lock:
            if not self._arrivals:
                return 0.0
            return now - min(self._arrivals.values())

    def statistics(self) -> DispatchQueueStatistics:
        """An immutable snapshot."""
        with self._lock:
            queued = len(self._pq)
            depth = self._pq.length_by_priority()
            local_pending = len(self._local)
            enqueued = self._enqueued
            fast = self._fast_dispatched
            local = self._local_delivered
            discarded = self._discarded
            stopping = self._stopping
        task = self._task
        return DispatchQueueStatistics(
            name=self._name,
            queued=queued,
            depth_by_priority=MappingProxyType(depth),
            local_pending=local_pending,
            dispatching=self._current is not None,
            enqueued=enqueued,
            dispatched=self._dispatched,
            fast_dispatched=fast,
            local_delivered=local,
            codes_delivered=self._codes_delivered,
            discarded=discarded,
            throttle_current=self._throttle.current,
            throttle_max=self._throttle.max,
            running=task is not None and not task.done(),
            stopped=stopping,
        )

    # -- discarding ------------------------------------------------------------------

    def discard_queue(self, conn_id: int) -> int:
        """Drop every queued message of ``conn_id`` (on mark down or session reset),
        releasing its dispatch throttle and calling ``m.release_throttles()``.

        Returns:
            The number of messages dropped.

        Raises:
            ValueError: ``conn_id`` is 0 (code items and local delivery are never
                discarded; Ceph asserts).
        """
        if conn_id == 0:
            raise ValueError("id 0 (code items, local delivery) is never discarded")
        with self._lock:
            removed = self._pq.remove_by_class(conn_id)
            for item in removed:
                del self._arrivals[item]
            self._discarded += len(removed)
        for item in removed:
            assert item.message is not None
            self.release_message(item.message)
        return len(removed)


__all__ = [
    "SYNC_ONLY_METHODS",
    "DispatchCode",
    "DispatchQueue",
    "DispatchQueueStatistics",
    "Dispatcher",
    "DispatcherChain",
    "UnhandledMessage",
]
