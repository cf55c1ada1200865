"""Shared pieces of the messenger integration tests (real sockets on 127.0.0.1).

The port of Ceph's ``src/test/msgr/test_msgr.cc`` fixture:

* :func:`run` is the ``asyncio.run`` wrapper every test uses. It installs a loop
  exception handler and a logging handler that record anything escaping to the
  event loop (also on the worker threads' loops, which log to ``asyncio``) or
  logged at ERROR by asyncmsgr, and fails the test if something did.
* :class:`FakeDispatcher` is Ceph's ``FakeDispatcher``: it keeps a
  :class:`Session` in ``con.priv`` counting messages per connection (dropped on
  ``ms_handle_reset``/``ms_handle_remote_reset``, so a new session counts from 0),
  fast-dispatches MPing when asked, and as a server echoes an MPing.
* :func:`msgr_pair` makes a bound server (``osd.0``, stateless_server by default)
  and a started client (``client.-1``, lossy_client by default), like Ceph's
  ``SetUp``, and on exit shuts both down and checks their dispatch queues are
  empty (Ceph's ``TearDown``).
* ``protocol`` (``"v2"`` or ``"v1"``, :data:`PROTOCOLS`) picks the address the
  server binds (:func:`bind_addr`): a client connecting to a v1-only addrvec
  speaks msgr v1, so one parameter runs a test over either protocol.

Waiting is always on events (:meth:`Recorder.wait_until`), never on fixed sleeps:
dispatcher callbacks may run on worker threads, so every record wakes the test's
loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.auth.base import AuthClient, AuthServer
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityType

#: Both threading models; the core tests run under each.
EMBEDDED_MODES = [True, False]
EMBEDDED_IDS = ["embedded", "threaded"]

#: The wire protocols the session suites run over (the server's bind address).
PROTOCOLS = ["v2", "v1"]


def bind_addr(protocol: str) -> str:
    """The address to bind for ``protocol``: ``v2:127.0.0.1:0`` or ``v1:127.0.0.1:0``."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    return f"{protocol}:127.0.0.1:0"


def reconnects_sent(con: Connection) -> int:
    """Session reconnect attempts ``con`` made as a client.

    msgr2 counts its SESSION_RECONNECT frames; msgr v1 has no reconnect message
    of its own: a reconnect is a connect message with connect_seq > 0, which the
    machine counts as the interceptor step SEND_RECONNECT.
    """
    core = as_async(con).core
    counts = core.handshake_counts
    if core.proto_type == 1:
        return counts.get("SEND_RECONNECT", 0)
    return counts.get("send_SESSION_RECONNECT", 0)


#: Loggers whose ERROR records fail a test (the default loop exception handler of
#: the worker threads' loops logs to "asyncio").
_WATCHED_LOGGERS = ("asyncio", "asyncmsgr")


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run(test: Callable[[], Coroutine[Any, Any, None]], *, timeout: float = 20.0) -> None:
    """Run ``test()`` in a new event loop; fail if anything leaked to a loop.

    Exceptions that reach the loop's exception handler (a callback or task that
    raised) and ERROR records of the ``asyncio``/``asyncmsgr`` loggers are
    collected and make the test fail after ``test()`` returned.
    """
    leaked: list[dict[str, Any]] = []
    collector = _ErrorCollector()
    loggers = [logging.getLogger(name) for name in _WATCHED_LOGGERS]
    for lg in loggers:
        lg.addHandler(collector)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, ctx: leaked.append(ctx))
        await asyncio.wait_for(test(), timeout)

    try:
        asyncio.run(main(), debug=True)
    finally:
        for lg in loggers:
            lg.removeHandler(collector)
    assert not leaked, f"exceptions leaked to the event loop: {leaked}"
    assert not collector.records, "errors logged: " + "; ".join(
        f"{r.name}: {r.getMessage()}" for r in collector.records)


def make_config(embedded: bool = True, **overrides: Any) -> MessengerConfig:
    """Ceph's test_msgr ``main()`` settings (``ms_max_backoff=1``), two workers."""
    base = MessengerConfig(asyncmsgr_embedded=embedded, ms_async_op_threads=2,
                           ms_max_backoff=1.0, ms_initial_backoff=0.05,
                           ms_die_on_bad_msg=True, ms_die_on_old_message=True)
    return base.replace(**overrides) if overrides else base


class Recorder:
    """Thread-safe records plus a way for the test loop to wait for a condition."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Wake :meth:`wait_until` (from any thread)."""
        loop = self._loop
        if loop is None:  # nobody waited yet: the predicate is checked first anyway
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._changed.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._changed.set)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0,
                         what: str = "condition", *, poll: float | None = None) -> None:
        """Return once ``predicate()`` holds; TimeoutError after ``timeout`` s.

        Woken by :meth:`changed`; with ``poll`` the predicate is also re-checked
        that often, for state no callback reports (e.g. a worker thread
        unregistering a connection). The first call binds the recorder to the
        running loop (the test's).
        """
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                if predicate():
                    return
                if poll is None:
                    await self._changed.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), poll)
        try:
            await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}") from None


@dataclass
class Session:
    """Ceph's ``Session``: per-connection message count, kept in ``con.priv``."""

    count: int = 0
    received: list[Message] = field(default_factory=list)


class FakeDispatcher(Dispatcher):
    """Ceph's FakeDispatcher: counts per connection, fast-dispatches MPing on demand,
    and as a server replies to every message with an MPing (same data)."""

    def __init__(self, *, is_server: bool, fast_ping: bool = True,
                 slow: Callable[[Message], Awaitable[None]] | None = None) -> None:
        self.rec = Recorder()
        self.is_server = is_server
        self.fast_ping = fast_ping
        self.slow = slow
        self.got: list[Message] = []
        self.preprocessed: list[Message] = []
        self.fast: list[tuple[Message, str]] = []
        self.queued: list[tuple[Message, str]] = []
        self.connects: list[Connection] = []
        self.accepts: list[Connection] = []
        self.resets: list[Connection] = []
        self.remote_resets: list[Connection] = []
        self.refused: list[Connection] = []
        self.dispatch_task: asyncio.Task[Any] | None = None

    # -- helpers -------------------------------------------------------------------

    def _session(self, con: Connection) -> Session:
        with self.rec._lock:
            s = con.priv
            if not isinstance(s, Session):
                s = con.priv = Session()
            return s

    def _got(self, m: Message, where: list[tuple[Message, str]]) -> None:
        con = m.connection
        assert con is not None
        s = self._session(con)
        with self.rec._lock:
            s.count += 1
            s.received.append(m)
            self.got.append(m)
            where.append((m, threading.current_thread().name))
        if self.is_server and not con.is_loopback:
            con.send_message(MPing(data=m.data))
        self.rec.changed()

    def count(self) -> int:
        """Messages received so far."""
        with self.rec._lock:
            return len(self.got)

    async def wait_count(self, n: int, timeout: float = 5.0) -> None:
        """Wait until ``n`` messages were received."""
        await self.rec.wait_until(lambda: self.count() >= n, timeout,
                                  f"{n} messages (have {self.count()})")

    async def wait_for(self, what: list[Any], n: int = 1, timeout: float = 5.0) -> None:
        """Wait until the list ``what`` (one of the event lists) has ``n`` entries."""
        await self.rec.wait_until(lambda: len(what) >= n, timeout,
                                  f"{n} events (have {len(what)})")

    # -- Dispatcher ------------------------------------------------------------------

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return self.fast_ping and m.type == MPing.TYPE

    def ms_fast_preprocess(self, m: Message) -> None:
        with self.rec._lock:
            self.preprocessed.append(m)

    def ms_fast_dispatch(self, m: Message) -> None:
        self._got(m, self.fast)

    async def ms_dispatch(self, m: Message) -> bool:
        self.dispatch_task = asyncio.current_task()
        if self.slow is not None:
            await self.slow(m)
        self._got(m, self.queued)
        return True

    def ms_handle_fast_connect(self, con: Connection) -> None:
        self._session(con)

    def ms_handle_fast_accept(self, con: Connection) -> None:
        self._session(con)

    def _event(self, where: list[Connection], con: Connection) -> None:
        with self.rec._lock:
            where.append(con)
        self.rec.changed()

    def ms_handle_connect(self, con: Connection) -> None:
        self._event(self.connects, con)

    def ms_handle_accept(self, con: Connection) -> None:
        self._event(self.accepts, con)

    def ms_handle_reset(self, con: Connection) -> bool:
        with self.rec._lock:
            con.priv = None  # the session is gone (Ceph drops the Session too)
        self._event(self.resets, con)
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        with self.rec._lock:
            con.priv = None
        self._event(self.remote_resets, con)

    def ms_handle_refused(self, con: Connection) -> bool:
        self._event(self.refused, con)
        return True


def as_async(con: Connection) -> AsyncConnection:
    """``con`` as the socket connection it must be."""
    assert isinstance(con, AsyncConnection), con
    return con


def session_of(con: Connection) -> Session:
    """The FakeDispatcher session of ``con`` (asserts there is one)."""
    s = con.priv
    assert isinstance(s, Session), f"{con!r} has no session"
    return s


@dataclass
class Pair:
    """A server and a client messenger with their FakeDispatchers."""

    server: Messenger
    client: Messenger
    sd: FakeDispatcher
    cd: FakeDispatcher
    config: MessengerConfig
    protocol: str = "v2"

    async def connect(self, *, anon: bool = False, timeout: float = 5.0) -> AsyncConnection:
        """``connect_to`` the server and wait until the session is up."""
        con = as_async(self.client.connect_to(EntityType.OSD, self.server.my_addrs,
                                              anon=anon))
        await asyncio.wait_for(con.wait_connected(), timeout)
        return con


async def make_server(config: MessengerConfig, *, policy: Policy | None = None,
                      dispatcher: FakeDispatcher | None = None,
                      addr: str | None = None, name: str = "osd.0",
                      auth_server: AuthServer | None = None,
                      protocol: str = "v2") -> tuple[Messenger, FakeDispatcher]:
    """A bound, started server messenger (stateless_server by default), bound to
    ``addr``, by default :func:`bind_addr` of ``protocol``."""
    addr = addr or bind_addr(protocol)
    server = Messenger.create(name, config=config, auth_server=auth_server)
    server.set_default_policy(policy or Policy.stateless_server())
    if addr.startswith("["):
        await server.bindv(addr)
    else:
        await server.bind(addr)
    sd = dispatcher or FakeDispatcher(is_server=True)
    server.add_dispatcher_head(sd)
    server.start()
    return server, sd


async def make_client(config: MessengerConfig, *, policy: Policy | None = None,
                      dispatcher: FakeDispatcher | None = None,
                      name: str = "client.-1",
                      auth_client: AuthClient | None = None) -> tuple[Messenger,
                                                                       FakeDispatcher]:
    """A started client messenger (lossy_client by default), not bound."""
    client = Messenger.create(name, config=config, auth_client=auth_client)
    client.set_default_policy(policy or Policy.lossy_client())
    cd = dispatcher or FakeDispatcher(is_server=False)
    client.add_dispatcher_head(cd)
    client.start()
    return client, cd


async def stop(*msgrs: Messenger, check_empty: bool = True) -> None:
    """Shut the messengers down and wait; Ceph's TearDown checks queues are empty."""
    for m in msgrs:
        m.shutdown()
    for m in msgrs:
        await asyncio.wait_for(m.wait(), 10)
        if check_empty:
            assert m.get_dispatch_queue_len() == 0


@asynccontextmanager
async def msgr_pair(*, embedded: bool = True, server_policy: Policy | None = None,
                    client_policy: Policy | None = None,
                    config: MessengerConfig | None = None,
                    sd: FakeDispatcher | None = None, cd: FakeDispatcher | None = None,
                    server_addr: str | None = None,
                    auth_client: AuthClient | None = None,
                    auth_server: AuthServer | None = None,
                    protocol: str = "v2") -> AsyncIterator[Pair]:
    """Ceph's fixture: server ``osd.0`` and client ``client.-1``, torn down on exit.

    The server binds ``server_addr``, by default :func:`bind_addr` of ``protocol``.
    """
    cfg = config or make_config(embedded)
    server, sd = await make_server(cfg, policy=server_policy, dispatcher=sd,
                                   addr=server_addr, auth_server=auth_server,
                                   protocol=protocol)
    try:
        client, cd = await make_client(cfg, policy=client_policy, dispatcher=cd,
                                       auth_client=auth_client)
    except BaseException:
        await stop(server)
        raise
    try:
        yield Pair(server, client, sd, cd, cfg, protocol)
    finally:
        await stop(client, server)
