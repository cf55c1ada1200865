"""Ceph's ``EventCenter`` / ``Worker`` / ``NetworkStack`` on top of asyncio event loops.

Ceph (``src/msg/async/Event.{h,cc}``, ``Stack.{h,cc}``) runs ``ms_async_op_threads``
worker threads, each looping over one ``EventCenter``: file events (epoll), time events
(a multimap by expiry), and an external-event queue fed from other threads. Here:

* :class:`EventCenter` maps that API onto one :class:`asyncio.AbstractEventLoop`: file
  events are ``loop.add_reader`` / ``loop.add_writer``, time events are ``loop.call_at``
  (grouped per deadline so ties fire in creation order), external events go to a locked
  FIFO drained by one scheduled callback; as in Ceph, a post wakes the loop only when no
  drain is pending (``loop.call_soon`` from the owner thread, ``call_soon_threadsafe``
  from others).
* :class:`Worker` owns a center whose loop runs on a thread named ``msgr-worker-<id>``,
  or wraps the caller's loop (*embedded* mode: no thread, no hops).
* :class:`WorkerPool` is the ``NetworkStack``: N workers, least-loaded assignment.

Rules: file and time events may only be touched on the center's owner thread (the one
running its loop); :meth:`EventCenter.dispatch_event_external` and
:meth:`EventCenter.submit_to` are the only thread-safe entry points. Exceptions raised by
callbacks go to the loop's exception handler (logged), never to the caller, except for a
blocking :meth:`EventCenter.submit_to`, which re-raises in the calling thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, TypeVar, overload

__all__ = [
    "EVENT_NONE",
    "EVENT_READABLE",
    "EVENT_WRITABLE",
    "MAX_WORKERS",
    "EventCenter",
    "EventCenterStatistics",
    "Worker",
    "WorkerPool",
    "loop_name",
    "uvloop_factory",
]

T = TypeVar("T")

EVENT_NONE = 0
"""No event (Ceph ``EVENT_NONE``)."""
EVENT_READABLE = 1
"""The fd is readable (Ceph ``EVENT_READABLE``)."""
EVENT_WRITABLE = 2
"""The fd is writable (Ceph ``EVENT_WRITABLE``)."""
_EVENT_ALL = EVENT_READABLE | EVENT_WRITABLE

MAX_WORKERS = 24
"""Upper bound of ``ms_async_op_threads`` (Ceph ``MAX_EVENTCENTER``)."""

_DEFAULT_JOIN_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EventCenterStatistics:
    """An immutable snapshot of an :class:`EventCenter`'s counters."""

    center_id: int
    """The center's id (the worker id)."""
    file_events: int
    """File descriptors with at least one registered event."""
    time_events: int
    """Time events created and neither fired nor deleted yet."""
    external_events_posted: int
    """External events queued so far (including ``submit_to`` posts)."""
    external_events_run: int
    """External events run so far; ``posted - run`` are still queued."""
    stopped: bool
    """Whether :meth:`EventCenter.stop` was called."""


class _TimeBucket:
    """Time events sharing one deadline, in creation order, behind one timer handle."""

    __slots__ = ("events", "handle", "when")

    def __init__(self, when: float) -> None:
        self.when = when
        self.events: dict[int, Callable[[int], None]] = {}
        self.handle: asyncio.TimerHandle | None = None


class EventCenter:
    """Ceph's ``EventCenter`` over one asyncio event loop.

    The *owner thread* is the thread that runs ``loop``. It is bound at construction when
    ``loop`` is the running loop of the constructing thread, else by :meth:`set_owner`
    (a :class:`Worker` calls it from its thread). Until then no thread is the owner: file
    and time events raise :class:`RuntimeError`, and ``submit_to`` always posts.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, center_id: int = 0) -> None:
        self._loop = loop
        self._center_id = center_id
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        self._owner: int | None = threading.get_ident() if running is loop else None
        # fd -> EVENT_* mask currently registered with the loop
        self._file_events: dict[int, int] = {}
        # time event id -> its bucket; buckets (not yet firing) by deadline (loop.time())
        self._time_events: dict[int, _TimeBucket] = {}
        self._time_buckets: dict[float, _TimeBucket] = {}
        self._next_time_id = 1
        # guards _stopped, _external, _drain_scheduled, _external_posted
        self._lock = threading.Lock()
        self._stopped = False
        self._external: deque[Callable[[], object]] = deque()
        self._drain_scheduled = False
        self._external_posted = 0
        self._external_run = 0  # only written on the loop's thread

    def __repr__(self) -> str:
        return (f"<EventCenter id={self._center_id} file_events={len(self._file_events)}"
                f" time_events={len(self._time_events)} stopped={self._stopped}>")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this center schedules on."""
        return self._loop

    @property
    def center_id(self) -> int:
        """The center's id (Ceph's ``center_id``, equal to the worker id)."""
        return self._center_id

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped

    def set_owner(self) -> None:
        """Bind the center to the calling thread, which must be the one running the loop."""
        self._owner = threading.get_ident()

    def in_thread(self) -> bool:
        """Whether the calling thread is the center's owner thread."""
        return self._owner == threading.get_ident()

    def _check_thread(self, what: str) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError(
                f"{what} must be called on the owner thread of event center "
                f"{self._center_id} (called from {threading.current_thread().name!r})"
            )

    def statistics(self) -> EventCenterStatistics:
        """A snapshot of the counters; safe from any thread (values may be a little stale)."""
        return EventCenterStatistics(
            center_id=self._center_id,
            file_events=len(self._file_events),
            time_events=len(self._time_events),
            external_events_posted=self._external_posted,
            external_events_run=self._external_run,
            stopped=self._stopped,
        )

    # -- file events -------------------------------------------------------------------

    def create_file_event(self, fd: int, mask: int, callback: Callable[[int], None]) -> None:
        """Call ``callback(fd)`` whenever ``fd`` is readable and/or writable (level-triggered).

        Bits of ``mask`` add to those already registered for ``fd``; registering a bit
        again replaces its callback. Readable callbacks run before writable ones for one
        readiness report. Delete the events before closing ``fd``.

        Raises:
            ValueError: ``mask`` is not a non-empty combination of EVENT_READABLE/WRITABLE.
            RuntimeError: not called on the owner thread.
            OSError / PermissionError: the loop's selector refused the fd (e.g. a regular
                file under epoll); nothing is registered then.
        """
        self._check_thread("create_file_event")
        if mask & ~_EVENT_ALL or not mask & _EVENT_ALL:
            raise ValueError(f"invalid file event mask {mask:#x}")
        old = self._file_events.get(fd, EVENT_NONE)
        if mask & EVENT_READABLE:
            self._loop.add_reader(fd, callback, fd)
        if mask & EVENT_WRITABLE:
            try:
                self._loop.add_writer(fd, callback, fd)
            except BaseException:
                if mask & EVENT_READABLE and not old & EVENT_READABLE:
                    self._loop.remove_reader(fd)
                raise
        self._file_events[fd] = old | mask

    def delete_file_event(self, fd: int, mask: int) -> None:
        """Stop the ``mask`` events of ``fd``; other bits stay. Idempotent.

        A callback whose readiness was already reported in the current loop iteration
        does not run after this call.

        Raises:
            RuntimeError: not called on the owner thread.
        """
        self._check_thread("delete_file_event")
        old = self._file_events.get(fd, EVENT_NONE)
        gone = old & mask
        if gone & EVENT_READABLE:
            self._loop.remove_reader(fd)
        if gone & EVENT_WRITABLE:
            self._loop.remove_writer(fd)
        new = old & ~mask
        if new:
            self._file_events[fd] = new
        else:
            self._file_events.pop(fd, None)

    def file_event_mask(self, fd: int) -> int:
        """The EVENT_* bits registered for ``fd`` (EVENT_NONE if none)."""
        return self._file_events.get(fd, EVENT_NONE)

    # -- time events -------------------------------------------------------------------

    def create_time_event(self, delay_us: int, callback: Callable[[int], None]) -> int:
        """Call ``callback(id)`` once, ``delay_us`` microseconds from now; return the id.

        Ids are unique per center. Events fire in deadline order; events with the same
        deadline fire in creation order.

        Raises:
            ValueError: ``delay_us`` is negative.
            RuntimeError: not called on the owner thread.
        """
        self._check_thread("create_time_event")
        if delay_us < 0:
            raise ValueError(f"negative time event delay {delay_us} us")
        event_id = self._next_time_id
        self._next_time_id += 1
        when = self._loop.time() + delay_us / 1_000_000
        bucket = self._time_buckets.get(when)
        if bucket is None:
            bucket = _TimeBucket(when)
            bucket.handle = self._loop.call_at(when, self._fire_time_bucket, when)
            self._time_buckets[when] = bucket
        bucket.events[event_id] = callback
        self._time_events[event_id] = bucket
        return event_id

    def delete_time_event(self, event_id: int) -> None:
        """Cancel time event ``event_id``; fired, deleted or unknown ids are ignored.

        Raises:
            RuntimeError: not called on the owner thread.
        """
        self._check_thread("delete_time_event")
        bucket = self._time_events.pop(event_id, None)
        if bucket is None:
            return
        del bucket.events[event_id]
        # a bucket that is firing has left _time_buckets already; its loop skips the id
        if not bucket.events and self._time_buckets.get(bucket.when) is bucket:
            del self._time_buckets[bucket.when]
            if bucket.handle is not None:
                bucket.handle.cancel()

    def _fire_time_bucket(self, when: float) -> None:
        bucket = self._time_buckets.pop(when, None)
        if bucket is None:
            return
        events = bucket.events
        try:
            # a callback may delete a later event of this bucket: pop one at a time
            while events:
                event_id = next(iter(events))
                callback = events.pop(event_id)
                del self._time_events[event_id]
                try:
                    callback(event_id)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._loop.call_exception_handler({
                        "message": f"exception in time event {event_id} callback {callback!r}",
                        "exception": exc,
                    })
        finally:
            if events:  # SystemExit/KeyboardInterrupt escaped: the rest fire on the next run
                self._requeue_time_bucket(bucket)

    def _requeue_time_bucket(self, bucket: _TimeBucket) -> None:
        existing = self._time_buckets.get(bucket.when)
        if existing is None:
            bucket.handle = self._loop.call_at(bucket.when, self._fire_time_bucket, bucket.when)
            self._time_buckets[bucket.when] = bucket
            return
        existing.events = bucket.events | existing.events  # older events first
        for event_id in bucket.events:
            self._time_events[event_id] = existing

    # -- external events ---------------------------------------------------------------

    def _post(self, callback: Callable[[], object]) -> bool:
        # Ceph's scheme: one locked queue, and the loop is woken (one call_soon_threadsafe,
        # i.e. one self-pipe write) only when no drain is scheduled yet.
        with self._lock:
            if self._stopped or self._loop.is_closed():
                return False
            self._external.append(callback)
            self._external_posted += 1
            if not self._drain_scheduled:
                if self._owner == threading.get_ident():
                    self._loop.call_soon(self._drain_external)
                else:
                    self._loop.call_soon_threadsafe(self._drain_external)
                self._drain_scheduled = True
        return True

    def _drain_external(self) -> None:
        """Run the external events queued so far (later posts schedule another drain)."""
        with self._lock:
            batch, self._external = self._external, deque()
            self._drain_scheduled = False
        while batch:
            callback = batch.popleft()
            self._external_run += 1
            try:
                callback()
            except (SystemExit, KeyboardInterrupt):
                with self._lock:  # keep the rest, in order, for whoever runs the loop next
                    batch.extend(self._external)
                    self._external = batch
                    if batch and not self._drain_scheduled:
                        self._loop.call_soon_threadsafe(self._drain_external)
                        self._drain_scheduled = True
                raise
            except BaseException as exc:
                self._loop.call_exception_handler({
                    "message": f"exception in external event {callback!r}",
                    "exception": exc,
                })

    def dispatch_event_external(self, callback: Callable[[], None]) -> bool:
        """Queue ``callback()`` to run on the owner thread; safe from any thread.

        Callbacks run in FIFO order (per posting thread; across threads in the order the
        posts happened), never inline; each drain runs the batch queued when it starts,
        so I/O callbacks interleave with a long stream of posts. A callback queued
        before :meth:`stop` runs before a :class:`Worker` stops its loop.

        Returns:
            True if queued; False (and nothing queued) if the center is stopped or its
            loop is closed.
        """
        return self._post(callback)

    @overload
    def submit_to(self, fn: Callable[[], T], *, always_async: Literal[False] = False) -> T: ...
    @overload
    def submit_to(self, fn: Callable[[], T], *, always_async: Literal[True]) -> None: ...
    @overload
    def submit_to(self, fn: Callable[[], T], *, always_async: bool) -> T | None: ...

    def submit_to(self, fn: Callable[[], T], *, always_async: bool = False) -> T | None:
        """Run ``fn`` on the owner thread (Ceph ``EventCenter::submit_to``).

        * owner thread, not ``always_async``: run inline, return its result.
        * other thread, not ``always_async``: post, block the calling thread until it ran,
          return its result or re-raise its exception. There is no timeout: a worker
          not started yet runs it once started, and two threads blocking on each
          other's centers deadlock, as in Ceph.
        * ``always_async``: post and return None at once; an exception goes to the
          loop's exception handler.

        Raises:
            RuntimeError: the call would post and the center is stopped (or its loop
                closed); ``fn`` does not run.
        """
        if not always_async and self._owner == threading.get_ident():
            return fn()
        if always_async:
            if not self._post(fn):
                raise RuntimeError(f"event center {self._center_id} is stopped")
            return None
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn()
            except BaseException as exc:
                future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                future.set_result(result)

        if not self._post(run):
            raise RuntimeError(f"event center {self._center_id} is stopped")
        return future.result()

    # -- life cycle --------------------------------------------------------------------

    def stop(self) -> None:
        """Refuse further external events and posts; safe from any thread, idempotent.

        Already queued external events still run if the loop keeps running. File and
        time events are left alone (see :meth:`clear`).
        """
        with self._lock:
            self._stopped = True

    def clear(self) -> None:
        """Delete every file event and cancel every time event.

        Raises:
            RuntimeError: not called on the owner thread.
        """
        self._check_thread("clear")
        for fd in list(self._file_events):
            self.delete_file_event(fd, _EVENT_ALL)
        for bucket in self._time_events.values():
            bucket.events.clear()  # also empties a bucket that is firing right now
            if bucket.handle is not None:
                bucket.handle.cancel()
        self._time_buckets.clear()
        self._time_events.clear()


def uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """``uvloop.new_event_loop`` when uvloop is installed, else None (asyncio's loop)."""
    try:
        import uvloop  # noqa: PLC0415 - optional, imported only when asked for
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` for a uvloop loop, else ``asyncio``."""
    return "uvloop" if type(loop).__module__.partition(".")[0] == "uvloop" else "asyncio"


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's tasks and let them finish (as :func:`asyncio.run` does)."""
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({
                "message": "unhandled exception in a task cancelled by Worker.stop()",
                "exception": task.exception(),
                "task": task,
            })


class Worker:
    """One Ceph ``Worker``: an :class:`EventCenter` and the thread running its loop.

    Threaded (default): a new loop from ``loop_factory`` (``asyncio.new_event_loop`` if
    None; pass e.g. ``uvloop.new_event_loop``) runs on thread ``msgr-worker-<id>``
    between :meth:`start` and :meth:`stop`; :meth:`stop` closes it. The thread is a
    daemon so a forgotten :meth:`stop` cannot hang interpreter exit; still call it.

    Embedded (:meth:`embedded`): wraps the caller's loop on the calling thread; no
    thread is started and the loop is never closed.

    ``references`` counts the connections assigned to this worker; :class:`WorkerPool`
    maintains it under its lock.
    """

    def __init__(
        self,
        worker_id: int = 0,
        *,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
        embedded_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Create a stopped worker (``embedded_loop`` and ``loop_factory`` are exclusive).

        Raises:
            ValueError: both ``loop_factory`` and ``embedded_loop`` given, or
                ``embedded_loop`` is closed.
        """
        if embedded_loop is not None:
            if loop_factory is not None:
                raise ValueError("loop_factory and embedded_loop are mutually exclusive")
            if embedded_loop.is_closed():
                raise ValueError("embedded_loop is closed")
            loop = embedded_loop
        else:
            loop = (loop_factory or asyncio.new_event_loop)()
        self.references = 0
        self._worker_id = worker_id
        self._embedded = embedded_loop is not None
        self._center = EventCenter(loop, worker_id)
        if self._embedded:
            self._center.set_owner()
            self._thread_name = threading.current_thread().name
        else:
            self._thread_name = f"msgr-worker-{worker_id}"
        self._lock = threading.Lock()
        self._state = _State.NEW
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._rx_scratch: bytearray | None = None

    def rx_scratch(self, size: int) -> bytearray:
        """The receive buffer shared by the connections this worker runs (one at a
        time, on its thread): at least ``size`` bytes, allocated on first use."""
        buf = self._rx_scratch
        if buf is None or len(buf) < size:
            buf = self._rx_scratch = bytearray(size)
        return buf

    @classmethod
    def embedded(cls, loop: asyncio.AbstractEventLoop, worker_id: int = 0) -> Self:
        """A worker on ``loop``, which runs (or will run) on the calling thread."""
        return cls(worker_id, embedded_loop=loop)

    def __repr__(self) -> str:
        kind = "embedded" if self._embedded else "threaded"
        return (f"<Worker id={self._worker_id} {kind} state={self._state.value}"
                f" references={self.references}>")

    @property
    def worker_id(self) -> int:
        """The worker's id (the ``N`` of ``msgr-worker-N``)."""
        return self._worker_id

    @property
    def center(self) -> EventCenter:
        """The worker's event center."""
        return self._center

    @property
    def is_embedded(self) -> bool:
        """Whether this worker wraps the caller's loop instead of owning a thread."""
        return self._embedded

    @property
    def running(self) -> bool:
        """Whether :meth:`start` succeeded and :meth:`stop` was not called."""
        return self._state is _State.RUNNING

    @property
    def thread_name(self) -> str:
        """The thread callbacks run on: ``msgr-worker-<id>``, or the embedding thread."""
        return self._thread_name

    def start(self) -> None:
        """Start the loop thread and return once the loop runs; no-op while running.

        Raises:
            RuntimeError: the worker was stopped, or the loop failed to start.
        """
        with self._lock:
            if self._state is _State.NEW:
                if not self._embedded:
                    thread = threading.Thread(
                        target=self._run, name=self.thread_name, daemon=True)
                    self._thread = thread
                    thread.start()
                self._state = _State.RUNNING
            elif self._state is not _State.RUNNING:
                raise RuntimeError(f"worker {self._worker_id} is {self._state.value}")
        if self._thread is not None:
            self._ready.wait()
            if self._failure is not None:
                raise RuntimeError(
                    f"worker {self._worker_id} loop failed") from self._failure

    def _run(self) -> None:
        loop = self._center.loop
        try:
            asyncio.set_event_loop(loop)
            self._center.set_owner()
            loop.call_soon(self._ready.set)
            loop.run_forever()
        except BaseException as exc:
            self._failure = exc
        finally:
            self._ready.set()
            if not loop.is_running():  # else another thread runs it: not ours to close
                try:
                    self._center.clear()
                    _cancel_all_tasks(loop)
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.run_until_complete(loop.shutdown_default_executor())
                finally:
                    asyncio.set_event_loop(None)
                    loop.close()

    def stop(self, timeout: float | None = _DEFAULT_JOIN_TIMEOUT) -> None:
        """Stop the worker; idempotent.

        Threaded: refuse new external events, let the queued ones run, stop the loop,
        delete file/time events, cancel remaining tasks, close the loop and join the
        thread. Embedded: refuse new external events and delete file/time events; the
        caller's loop keeps running and is not closed.

        Raises:
            RuntimeError: called from the worker's own thread (threaded), or not from
                the loop's thread (embedded); or the loop thread failed (cause chained).
            TimeoutError: the thread did not finish within ``timeout`` seconds (a
                callback blocks); calling ``stop()`` again keeps waiting.
        """
        thread = self._thread
        if thread is not None and thread is threading.current_thread():
            raise RuntimeError("a worker cannot be stopped from its own thread")
        if self._embedded and self._state is not _State.STOPPED and not self._center.in_thread():
            raise RuntimeError("an embedded worker must be stopped on its loop's thread")
        with self._lock:
            state = self._state
            if state is _State.STOPPED:
                return
            self._state = _State.STOPPING
        self._center.stop()
        if self._embedded:
            self._center.clear()
        elif thread is None:  # never started: the loop never ran
            self._center.loop.close()
        else:
            if state is _State.RUNNING:
                # RuntimeError: the loop is already closed, the thread is exiting
                with contextlib.suppress(RuntimeError):
                    self._center.loop.call_soon_threadsafe(self._center.loop.stop)
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(
                    f"worker {self._worker_id} did not stop within {timeout} s")
        with self._lock:
            self._state = _State.STOPPED
        if self._failure is not None:
            raise RuntimeError(f"worker {self._worker_id} loop failed") from self._failure


class WorkerPool:
    """Ceph's ``NetworkStack``: a fixed set of workers with least-loaded assignment.

    ``WorkerPool(n)`` runs ``n`` threaded workers (``ms_async_op_threads``, 1..24).
    ``WorkerPool(n, embedded_loop=loop)`` has a single embedded worker on ``loop`` and
    ignores ``n``: everything runs on the caller's loop with no thread hops.
    """

    def __init__(
        self,
        num_workers: int = 3,
        *,
        embedded_loop: asyncio.AbstractEventLoop | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        """Create the (not yet started) workers.

        Raises:
            ValueError: ``num_workers`` outside 1..24 (threaded mode), or both
                ``embedded_loop`` and ``loop_factory`` given.
        """
        self._lock = threading.Lock()
        self._state = _State.NEW
        if embedded_loop is not None:
            if loop_factory is not None:
                raise ValueError("loop_factory and embedded_loop are mutually exclusive")
            self._workers: tuple[Worker, ...] = (Worker.embedded(embedded_loop),)
            return
        if not 1 <= num_workers <= MAX_WORKERS:
            raise ValueError(
                f"num_workers (ms_async_op_threads) must be in 1..{MAX_WORKERS}, "
                f"got {num_workers}")
        workers: list[Worker] = []
        try:
            for worker_id in range(num_workers):
                workers.append(Worker(worker_id, loop_factory=loop_factory))
        except BaseException:
            for worker in workers:
                worker.stop()
            raise
        self._workers = tuple(workers)

    def __repr__(self) -> str:
        refs = [w.references for w in self._workers]
        return (f"<WorkerPool workers={len(self._workers)} embedded={self.embedded}"
                f" state={self._state.value} references={refs}>")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def workers(self) -> tuple[Worker, ...]:
        """The workers, indexed by worker id."""
        return self._workers

    @property
    def embedded(self) -> bool:
        """Whether the pool is a single embedded worker on the caller's loop."""
        return self._workers[0].is_embedded

    def start(self) -> None:
        """Start every worker; no-op while running. On failure the pool is stopped.

        Raises:
            RuntimeError: the pool was stopped, or a worker failed to start.
        """
        with self._lock:
            if self._state is _State.RUNNING:
                return
            if self._state is not _State.NEW:
                raise RuntimeError(f"worker pool is {self._state.value}")
            self._state = _State.RUNNING
        try:
            for worker in self._workers:
                worker.start()
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float | None = _DEFAULT_JOIN_TIMEOUT) -> None:
        """Stop every worker (see :meth:`Worker.stop`); idempotent.

        Every worker is asked to stop even if one fails; the first error is raised.
        """
        with self._lock:
            self._state = _State.STOPPED
        first: BaseException | None = None
        for worker in self._workers:
            try:
                worker.stop(timeout)
            except BaseException as exc:
                first = first or exc
        if first is not None:
            raise first

    def get_worker(self) -> Worker:
        """Pick the worker with the fewest references (ties: lowest id), add one.

        Raises:
            RuntimeError: the pool is stopped.
        """
        with self._lock:
            if self._state is _State.STOPPED:
                raise RuntimeError("worker pool is stopped")
            worker = min(self._workers, key=lambda w: w.references)
            worker.references += 1
            return worker

    def release_worker(self, worker: Worker) -> None:
        """Drop one reference taken by :meth:`get_worker`.

        Raises:
            ValueError: ``worker`` is not in this pool or has no references.
        """
        with self._lock:
            if worker not in self._workers:
                raise ValueError(f"{worker!r} does not belong to this pool")
            if worker.references <= 0:
                raise ValueError(f"{worker!r} has no references to release")
            worker.references -= 1
