"""Dispatchers (Ceph's ``Dispatcher`` and the ``ms_deliver_*`` walks of
``src/msg/{Dispatcher.h,Messenger.h}``); the queue is :mod:`asyncmsgr.dispatch`.

* :class:`Dispatcher` is what users subclass. Every method has Ceph's name and a
  default. Normal-path handlers (``ms_dispatch``, ``ms_handle_connect``,
  ``ms_handle_accept``, ``ms_handle_reset``, ``ms_handle_remote_reset``,
  ``ms_handle_refused``) may be plain functions or ``async def``. Fast-path handlers
  (``ms_can_fast_dispatch_any``, ``ms_can_fast_dispatch``, ``ms_fast_dispatch``,
  ``ms_fast_preprocess``, ``ms_handle_fast_connect``, ``ms_handle_fast_accept``) must
  be synchronous: they run inline on the I/O loop that read the message, must be
  quick, may run before the connect/accept callbacks were seen and after the
  connection was marked down.
* :class:`DispatcherChain` holds the two ordered lists a Messenger keeps
  (``dispatchers`` and ``fast_dispatchers``) and walks them like Ceph's
  ``ms_deliver_*``.

Error policy: an exception raised by a user handler is logged with its traceback
(``logger.exception`` on ``asyncmsgr.ms.dispatch``) and the walk goes on as
documented per method; :class:`UnhandledMessage` (``die_on_unhandled``, Ceph's
``ms_die_on_unhandled_msg`` assert) is the one that escapes on purpose.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.message import Message

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection

logger = logging.getLogger("asyncmsgr.ms.dispatch")


class UnhandledMessage(AsyncmsgrError, AssertionError):
    """No dispatcher handled a message and ``die_on_unhandled`` is set.

    Ceph's ``ceph_assert(!ms_die_on_unhandled_msg)`` in ``ms_deliver_dispatch``.
    """

    def __init__(self, m: Message) -> None:
        super().__init__(f"unhandled message {m!r} from {m.src}")
        self.message = m


# -- Dispatcher ------------------------------------------------------------------------


class Dispatcher:
    """Base class of message consumers (Ceph's ``Dispatcher``, Pacific).

    Override what you need. Methods typed ``X | Awaitable[X]`` may be written as
    ``def`` or ``async def``; async ones are awaited on the dispatch task, one at a
    time, so order is kept. The fast-path methods must be plain ``def``
    (:meth:`DispatcherChain.add_head` / ``add_tail`` raise :class:`TypeError`
    otherwise).
    """

    require_authorizer: bool = True
    """msgr v1: False accepts connect messages without an authorizer (Ceph's
    monitor tolerates clients that authenticate later, with MAuth)."""

    def ms_dispatch(self, m: Message) -> bool | Awaitable[bool]:
        """Handle ``m`` on the dispatch task; return True if handled.

        Dispatchers are walked in list order until one returns True. Default:
        not handled.
        """
        return False

    def ms_can_fast_dispatch_any(self) -> bool:
        """True to join the fast-dispatch list (asked once, when added)."""
        return False

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        """True if :meth:`ms_fast_dispatch` takes ``m``. Synchronous; may be called
        several times per message (also at send time)."""
        return False

    def ms_fast_dispatch(self, m: Message) -> None:
        """Handle ``m`` inline on the I/O loop. Synchronous and quick.

        Only called when :meth:`ms_can_fast_dispatch` said yes; the default raises
        :class:`NotImplementedError` (Ceph aborts).
        """
        raise NotImplementedError(f"{type(self).__name__} does not fast-dispatch")

    def ms_fast_preprocess(self, m: Message) -> None:
        """Called inline for every received message, in receipt order per connection,
        before the fast/normal decision. Synchronous."""

    def ms_handle_connect(self, con: Connection) -> Awaitable[None] | None:
        """An outgoing session was established or re-established (dispatch task)."""

    def ms_handle_fast_connect(self, con: Connection) -> None:
        """Like :meth:`ms_handle_connect`, inline on the I/O loop. Synchronous."""

    def ms_handle_accept(self, con: Connection) -> Awaitable[None] | None:
        """An incoming session was accepted or re-established (dispatch task)."""

    def ms_handle_fast_accept(self, con: Connection) -> None:
        """Like :meth:`ms_handle_accept`, inline on the I/O loop. Synchronous."""

    def ms_handle_reset(self, con: Connection) -> bool | Awaitable[bool]:
        """A lossy connection failed or was closed, messages possibly lost.

        Return True to stop the walk. Default: False.
        """
        return False

    def ms_handle_remote_reset(self, con: Connection) -> Awaitable[None] | None:
        """The peer reset the session (every dispatcher is told)."""

    def ms_handle_refused(self, con: Connection) -> bool | Awaitable[bool]:
        """A connect attempt got ECONNREFUSED. Return True to stop the walk."""
        return False


#: Methods that run inline on an I/O loop and so must not be coroutine functions.
SYNC_ONLY_METHODS = (
    "ms_can_fast_dispatch_any",
    "ms_can_fast_dispatch",
    "ms_fast_dispatch",
    "ms_fast_preprocess",
    "ms_handle_fast_connect",
    "ms_handle_fast_accept",
)


def _check_sync(d: Dispatcher) -> None:
    for name in SYNC_ONLY_METHODS:
        if inspect.iscoroutinefunction(getattr(d, name)):
            raise TypeError(f"{type(d).__name__}.{name} must be synchronous: "
                            "it runs inline on the I/O loop")


async def _await_bool(res: bool | Awaitable[bool]) -> bool:
    if isinstance(res, bool):
        return res
    if isinstance(res, Awaitable):
        return bool(await res)
    return bool(res)  # tolerate a truthy non-bool from a sync handler


# -- DispatcherChain -------------------------------------------------------------------


class DispatcherChain:
    """The Messenger's ordered dispatcher lists and Ceph's ``ms_deliver_*`` walks.

    The lists are copy-on-write tuples: adding a dispatcher while another thread
    walks is safe (the walk sees the old list). A handler that raises is logged
    with its traceback and the walk continues as documented per method; for the
    walks that stop at the first True (dispatch, reset, refused) a raising handler
    counts as True (it took the event and failed with it).
    """

    __slots__ = ("_dispatchers", "_fast_dispatchers", "_lock", "preprocessors")

    def __init__(self) -> None:
        self._dispatchers: tuple[Dispatcher, ...] = ()
        self._fast_dispatchers: tuple[Dispatcher, ...] = ()
        #: The fast dispatchers that override ``ms_fast_preprocess`` (the default
        #: does nothing, so :meth:`fast_preprocess` may be skipped when empty).
        self.preprocessors: tuple[Dispatcher, ...] = ()
        self._lock = threading.Lock()

    # -- membership -------------------------------------------------------------------

    def _add(self, d: Dispatcher, *, head: bool) -> None:
        _check_sync(d)
        fast = d.ms_can_fast_dispatch_any()
        with self._lock:
            if d in self._dispatchers:
                raise ValueError(f"{d!r} is already a dispatcher")
            if head:
                self._dispatchers = (d, *self._dispatchers)
                if fast:
                    self._fast_dispatchers = (d, *self._fast_dispatchers)
            else:
                self._dispatchers = (*self._dispatchers, d)
                if fast:
                    self._fast_dispatchers = (*self._fast_dispatchers, d)
            self.preprocessors = tuple(
                f for f in self._fast_dispatchers
                if type(f).ms_fast_preprocess is not Dispatcher.ms_fast_preprocess)

    def add_head(self, d: Dispatcher) -> None:
        """Put ``d`` first (``add_dispatcher_head``); also first of the fast list if
        ``d.ms_can_fast_dispatch_any()``.

        Raises:
            TypeError: a fast-path method of ``d`` is a coroutine function.
            ValueError: ``d`` was already added.
        """
        self._add(d, head=True)

    def add_tail(self, d: Dispatcher) -> None:
        """Put ``d`` last (``add_dispatcher_tail``); also last of the fast list if
        ``d.ms_can_fast_dispatch_any()``. Raises as :meth:`add_head`."""
        self._add(d, head=False)

    @property
    def dispatchers(self) -> tuple[Dispatcher, ...]:
        """Every dispatcher, in walk order."""
        return self._dispatchers

    @property
    def fast_dispatchers(self) -> tuple[Dispatcher, ...]:
        """The dispatchers whose ``ms_can_fast_dispatch_any()`` was true, in walk order."""
        return self._fast_dispatchers

    # -- fast path (synchronous, inline on the I/O loop) --------------------------------

    def can_fast_dispatch(self, m: Message) -> bool:
        """True if any fast dispatcher's ``ms_can_fast_dispatch(m)`` is true (one that
        raises counts as no)."""
        for d in self._fast_dispatchers:
            try:
                if d.ms_can_fast_dispatch(m):
                    return True
            except Exception:
                logger.exception("%r.ms_can_fast_dispatch(%r) raised", d, m)
        return False

    def fast_dispatch(self, m: Message) -> bool:
        """``ms_fast_dispatch(m)`` on the first fast dispatcher that can take it.

        Returns:
            True if one took it (even if it raised; that is logged). False if none
            could (Ceph aborts); that is logged as an error and the message is
            dropped by the caller.
        """
        for d in self._fast_dispatchers:
            try:
                can = d.ms_can_fast_dispatch(m)
            except Exception:
                logger.exception("%r.ms_can_fast_dispatch(%r) raised", d, m)
                continue
            if can:
                try:
                    d.ms_fast_dispatch(m)
                except Exception:
                    logger.exception("%r.ms_fast_dispatch(%r) raised", d, m)
                return True
        logger.error("ms_fast_dispatch: no fast dispatcher takes %r; dropped", m)
        return False

    def fast_preprocess(self, m: Message) -> None:
        """``ms_fast_preprocess(m)`` on every fast dispatcher, in order."""
        for d in self._fast_dispatchers:
            try:
                d.ms_fast_preprocess(m)
            except Exception:
                logger.exception("%r.ms_fast_preprocess(%r) raised", d, m)

    def fast_connect(self, con: Connection) -> None:
        """``ms_handle_fast_connect(con)`` on every fast dispatcher, in order."""
        for d in self._fast_dispatchers:
            try:
                d.ms_handle_fast_connect(con)
            except Exception:
                logger.exception("%r.ms_handle_fast_connect(%r) raised", d, con)

    def fast_accept(self, con: Connection) -> None:
        """``ms_handle_fast_accept(con)`` on every fast dispatcher, in order."""
        for d in self._fast_dispatchers:
            try:
                d.ms_handle_fast_accept(con)
            except Exception:
                logger.exception("%r.ms_handle_fast_accept(%r) raised", d, con)

    # -- normal path (awaited on the dispatch task) -------------------------------------

    async def deliver_dispatch(self, m: Message, *, die_on_unhandled: bool = False) -> bool:
        """Walk ``ms_dispatch(m)`` until one returns True (``ms_deliver_dispatch``).

        A raising handler counts as handled. If none handles ``m``, log
        "unhandled message" at debug level and return False.

        Raises:
            UnhandledMessage: none handled ``m`` and ``die_on_unhandled`` is set.
        """
        for d in self._dispatchers:
            try:
                res = d.ms_dispatch(m)
                if not isinstance(res, bool):
                    res = await _await_bool(res)
                if res:
                    return True
            except Exception:
                logger.exception("%r.ms_dispatch(%r) raised", d, m)
                return True
        if die_on_unhandled:
            raise UnhandledMessage(m)
        logger.debug("ms_deliver_dispatch: unhandled message %r from %s", m, m.src)
        return False

    async def _deliver_all(
        self, what: str, con: Connection,
        call: Callable[[Dispatcher, Connection], Awaitable[None] | None],
    ) -> None:
        for d in self._dispatchers:
            try:
                res = call(d, con)
                if isinstance(res, Awaitable):
                    await res
            except Exception:
                logger.exception("%r.%s(%r) raised", d, what, con)

    async def _deliver_until(
        self, what: str, con: Connection,
        call: Callable[[Dispatcher, Connection], bool | Awaitable[bool]],
    ) -> bool:
        for d in self._dispatchers:
            try:
                res = call(d, con)
                if not isinstance(res, bool):
                    res = await _await_bool(res)
                if res:
                    return True
            except Exception:
                logger.exception("%r.%s(%r) raised", d, what, con)
                return True
        return False

    async def deliver_connect(self, con: Connection) -> None:
        """``ms_handle_connect(con)`` on every dispatcher, in order."""
        await self._deliver_all("ms_handle_connect", con,
                                lambda d, c: d.ms_handle_connect(c))

    async def deliver_accept(self, con: Connection) -> None:
        """``ms_handle_accept(con)`` on every dispatcher, in order."""
        await self._deliver_all("ms_handle_accept", con,
                                lambda d, c: d.ms_handle_accept(c))

    async def deliver_remote_reset(self, con: Connection) -> None:
        """``ms_handle_remote_reset(con)`` on every dispatcher, in order."""
        await self._deliver_all("ms_handle_remote_reset", con,
                                lambda d, c: d.ms_handle_remote_reset(c))

    async def deliver_reset(self, con: Connection) -> bool:
        """``ms_handle_reset(con)`` until one returns True; returns whether one did."""
        return await self._deliver_until("ms_handle_reset", con,
                                         lambda d, c: d.ms_handle_reset(c))

    async def deliver_refused(self, con: Connection) -> bool:
        """``ms_handle_refused(con)`` until one returns True; returns whether one did."""
        return await self._deliver_until("ms_handle_refused", con,
                                         lambda d, c: d.ms_handle_refused(c))


__all__ = ["SYNC_ONLY_METHODS", "Dispatcher", "DispatcherChain", "UnhandledMessage"]
