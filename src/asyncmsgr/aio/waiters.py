"""What callers of an AsyncConnection await: acks of their messages, the session.

:meth:`AsyncConnection.wait_acked <asyncmsgr.aio.connection.AsyncConnection.wait_acked>`
and :meth:`~asyncmsgr.aio.connection.AsyncConnection.wait_connected` may be
awaited on any event loop; their futures are registered and settled on the
connection's owning thread, through :func:`settle_threadsafe`. A
:class:`SessionWaiters` holds them for one connection and is driven by the
protocol events the connection handles (``MessagesAcked``, ``MessagesDropped``,
``Connected``/``Accepted``, ``RemoteReset``, ``Stopped``).
"""

from __future__ import annotations

import asyncio

from asyncmsgr.errors import ConnectionClosed
from asyncmsgr.message import Message


class SessionWaiters:
    """The ack and connect waiters of one connection (owning thread only)."""

    __slots__ = ("_acks", "_connected", "acked_seq")

    def __init__(self) -> None:
        self.acked_seq = 0
        """The highest seq the peer acknowledged in this session."""
        self._acks: dict[int, list[asyncio.Future[None]]] = {}
        self._connected: list[asyncio.Future[None]] = []

    def add_ack_waiter(self, m: Message, fut: asyncio.Future[None]) -> None:
        """Settle ``fut`` when ``m`` is acknowledged or discarded."""
        self._acks.setdefault(id(m), []).append(fut)

    def add_connect_waiter(self, fut: asyncio.Future[None]) -> None:
        """Settle ``fut`` when the session is established or the connection stops."""
        self._connected.append(fut)

    def acked(self, messages: tuple[Message, ...]) -> None:
        """The peer acknowledged ``messages``: their waiters resolve."""
        for m in messages:
            self.acked_seq = max(self.acked_seq, m.seq)
            for fut in self._acks.pop(id(m), ()):
                settle_threadsafe(fut, None)

    def discarded(self, messages: tuple[Message, ...]) -> None:
        """``messages`` were dropped unsent or unacked: ConnectionClosed."""
        for m in messages:
            for fut in self._acks.pop(id(m), ()):
                settle_threadsafe(fut, ConnectionClosed("message discarded"))

    def fail_acks(self, exc: BaseException) -> None:
        """Every ack waiter fails with ``exc``."""
        waiters, self._acks = self._acks, {}
        for futs in waiters.values():
            for fut in futs:
                settle_threadsafe(fut, exc)

    def wake_connected(self, exc: BaseException | None) -> None:
        """Every connect waiter resolves (``exc`` None) or fails with ``exc``."""
        waiters, self._connected = self._connected, []
        for fut in waiters:
            settle_threadsafe(fut, exc)


def _settle(fut: asyncio.Future[None], exc: BaseException | None) -> None:
    if not fut.done():
        if exc is None:
            fut.set_result(None)
        else:
            fut.set_exception(exc)


def settle_threadsafe(fut: asyncio.Future[None], exc: BaseException | None) -> None:
    """Resolve ``fut`` (or fail it with ``exc``) on its own loop, from any thread;
    nothing if it is settled already or its loop is closed."""
    loop = fut.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _settle(fut, exc)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_settle, fut, exc)


__all__ = ["SessionWaiters", "settle_threadsafe"]
