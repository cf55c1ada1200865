"""Ceph's MonClient on asyncio: hunt, authenticate, subscribe, commands, versions.

:class:`MonClient` keeps one session with one monitor of the cluster, as Ceph's
``MonClient`` does. Its decisions (hunting order and rounds, authentication
refusals, session set-up, requests by tid, keepalives, ticket renewal) are
those of :class:`~asyncmsgr.monc.core.MonClientCore`, shared with the blocking
one-shot client of ``asyncmsgr ceph`` (:mod:`asyncmsgr.monc.sync`); this module
drives that core on a :class:`~asyncmsgr.messenger.Messenger`:

* every hunting connection is an anonymous lossy connection of the messenger,
  so the first one ready wins without a registry race;
* over msgr2 the handshake runs the auth client, wrapped
  (:class:`~asyncmsgr.monc.auth.MonAuthAdapter`) so that a refusal
  (AUTH_BAD_METHOD) or a reply that cannot be decrypted is reported to the
  core; over msgr v1 the MAuth exchange runs in messages;
* requests wait on futures; the tick runs as one task;
* replies are fast-dispatched: when the messenger reads them on this client's
  own loop (embedded mode), MMonCommandAck, MMonGetVersionReply, MMonMap,
  MConfig and MAuthReply reach the core inline, without the dispatch queue's
  extra loop turn (and a won hunt is seen at ``ms_handle_fast_connect``); on a
  worker thread they take the dispatch queue to this loop, as before.

All methods are called on the event loop that ran :meth:`MonClient.connect`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import AuthFailed
from asyncmsgr.message import Message
from asyncmsgr.messages import (
    MAuthReply,
    MConfig,
    MMonCommandAck,
    MMonGetVersionReply,
    MMonMap,
    MonMap,
    SubscribeItem,
)
from asyncmsgr.messenger import Messenger
from asyncmsgr.monc.auth import MonAuthAdapter
from asyncmsgr.monc.core import (
    CommandResult,
    MonAuthError,
    MonClientClosed,
    MonClientCore,
    MonClientError,
    MonClientOptions,
    MonTimeout,
    Request,
    mgrmap_epoch,
    osdmap_epochs,
)
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName, EntityType

_Future = asyncio.Future[Any]
#: What the client always consumes, so it may take it on the fast path.
_FAST_TYPES = (MMonCommandAck, MMonGetVersionReply, MMonMap, MConfig, MAuthReply)


class MonClient(Dispatcher):
    """A session with the monitors of one cluster (Ceph's ``MonClient``).

    ``mon_addrs`` are the initial monitor addresses (``mon_host``); once a monmap
    arrives its addresses are used for hunting. ``auth_client`` authenticates
    every session (cephx or none). Without ``messenger`` the client makes and
    owns one (an embedded client messenger named ``client.?``).
    """

    def __init__(self, mon_addrs: Sequence[EntityAddrVec], *, auth_client: AuthClient,
                 config: MessengerConfig | None = None,
                 options: MonClientOptions | None = None,
                 messenger: Messenger | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        if not mon_addrs:
            raise MonClientError("no monitors specified to connect to.")
        self._own_messenger = messenger is None
        if messenger is None:
            messenger = Messenger.create(EntityName(EntityType.CLIENT, -1), config=config)
        self.messenger = messenger
        self.core: MonClientCore[Connection, _Future] = MonClientCore(
            mon_addrs, link=self, auth_client=auth_client, options=options,
            connect_msgr=messenger.config.asyncmsgr_connect_msgr, rng=rng)
        self.auth_client = auth_client
        messenger.auth_client = MonAuthAdapter(auth_client, self._report_auth_error)
        messenger.set_policy(EntityType.MON, Policy.lossy_client())
        self._clock = clock
        self._wall_clock = wall_clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        """The thread of :attr:`_loop`: fast dispatch only happens on it."""
        self._session_ready = asyncio.Event()
        self._auth_error_event = asyncio.Event()
        self._map_event = asyncio.Event()
        self._tick_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._dialed: weakref.WeakSet[Connection] = weakref.WeakSet()
        """The connections the core dialled (a stale one is closed when it connects)."""
        self._map_listeners: list[Callable[[str], None]] = []

    # -- what the core knows -------------------------------------------------------------

    @property
    def initial_addrs(self) -> tuple[EntityAddrVec, ...]:
        """The monitors given at construction (``mon_host``)."""
        return self.core.initial_addrs

    @property
    def options(self) -> MonClientOptions:
        """The ``mon_client_*`` options."""
        return self.core.options

    @property
    def monmap(self) -> MonMap | None:
        """The latest monmap."""
        return self.core.monmap

    @property
    def config_values(self) -> dict[str, str]:
        """The last MConfig's options (with a ``config`` subscription)."""
        return self.core.config_values

    @property
    def maps(self) -> dict[str, Message]:
        """The latest map message of each kind received."""
        return self.core.maps

    @property
    def global_id(self) -> int:
        """Our global id once authenticated (0 before)."""
        return self.core.global_id

    @property
    def sessions(self) -> int:
        """Sessions established (for tests and metrics)."""
        return self.core.sessions

    @property
    def hunts(self) -> int:
        """Hunts started."""
        return self.core.hunts

    @property
    def renewals(self) -> int:
        """Ticket renewals asked for (MAuth sent)."""
        return self.core.renewals

    @property
    def _pending(self) -> dict[int, Request[_Future]]:
        return self.core.requests

    # -- life cycle ----------------------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> None:
        """Start the messenger, hunt and authenticate; return once a session is up.

        Raises :class:`MonAuthError` when the monitors refuse our credentials and
        :class:`MonTimeout` after ``timeout`` (default ``client_mount_timeout``).
        """
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        msgr = self.messenger
        if self not in msgr.chain.dispatchers:
            if self._own_messenger:
                msgr.start()
            msgr.add_dispatcher_head(self)
        if self._tick_task is None:
            self._tick_task = asyncio.create_task(self._tick_loop(),
                                                  name="monclient-tick")
        core = self.core
        if core.active is None and core.hunt is None:
            self._auth_error_event.clear()  # a new attempt after a refusal
            core.start(self._clock())
            self._wake.set()
        await self._wait_session(self.options.mount_timeout if timeout is None else timeout)

    async def _wait_session(self, timeout: float) -> None:
        ready = asyncio.ensure_future(self._session_ready.wait())
        failed = asyncio.ensure_future(self._auth_error_event.wait())
        try:
            await asyncio.wait({ready, failed}, timeout=timeout or None,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            failed.cancel()
        if self._session_ready.is_set():
            return
        if self.core.auth_error is not None:
            raise self.core.auth_error
        if self.core.closing:
            raise MonClientClosed("monitor client shut down")
        raise MonTimeout(f"timed out after {timeout:g} s connecting to the monitors "
                         f"{self.core.describe_candidates()}")

    async def shutdown(self) -> None:
        """Fail outstanding operations, close the session and (if ours) the messenger."""
        if self.core.closing:
            return
        self._wake.set()
        for req in self.core.close():
            if not req.waiter.done():
                req.waiter.set_exception(MonClientClosed("monitor client shut down"))
        self._auth_error_event.set()
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        if self._own_messenger:
            self.messenger.shutdown()
            await self.messenger.wait()

    async def __aenter__(self) -> MonClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    @property
    def is_connected(self) -> bool:
        """True while a session with a monitor is up."""
        return self.core.active is not None

    @property
    def active_connection(self) -> Connection | None:
        """The connection of the current session."""
        return self.core.active

    # -- operations ----------------------------------------------------------------------

    async def command(self, cmd: str | Mapping[str, object] | Sequence[str],
                      inbuf: bytes = b"", *, timeout: float | None = None) -> CommandResult:
        """Send an MMonCommand and return its ack (``r`` may be negative).

        ``cmd``: a JSON string, a mapping (dumped to JSON) or a list of JSON strings.
        """
        result: CommandResult = await self._request(self.core.command_builder(cmd, inbuf),
                                                    timeout)
        return result

    async def get_version(self, what: str, *, timeout: float | None = None) -> tuple[int, int]:
        """(newest, oldest) epochs of map ``what`` (``osdmap``, ``mdsmap``, ...)."""
        got: tuple[int, int] = await self._request(self.core.version_builder(what), timeout)
        return got

    async def _request(self, build: Callable[[int], Message], timeout: float | None) -> Any:
        future: _Future = asyncio.get_running_loop().create_future()
        req = self.core.submit(build, future)
        limit = self.options.op_timeout if timeout is None else timeout
        try:
            if not limit:
                return await future
            async with asyncio.timeout(limit):
                return await future
        except TimeoutError:
            raise MonTimeout(f"no reply from the monitors within {limit:g} s") from None
        finally:
            self.core.forget(req.tid)

    def sub_want(self, what: str, start: int = 0, *, onetime: bool = False) -> None:
        """Subscribe to map ``what`` from epoch ``start`` (sent now if connected)."""
        self.core.sub_want(what, start, onetime=onetime)

    def add_map_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(what)`` on this loop whenever a map (``log``: an MLog;
        ``tickets``: new service tickets) arrives."""
        self._map_listeners.append(listener)

    async def wait_for_ticket(self, service_id: int, *, timeout: float | None = None) -> None:
        """Ask the monitors for service tickets when ``service_id``'s is missing and
        wait for it (returns at once without cephx). Raises TimeoutError."""
        async with asyncio.timeout(timeout):
            while not self.core.request_tickets(service_id, self._clock(), self._wall_clock()):
                self._map_event.clear()
                await self._map_event.wait()

    def sub_unwant(self, what: str) -> None:
        """Forget a subscription (takes effect on the next session)."""
        self.core.sub_unwant(what)

    @property
    def _subs(self) -> dict[str, SubscribeItem]:
        return self.core.subs

    async def wait_for_map(self, what: str, *, min_epoch: int = 0,
                           timeout: float | None = None) -> Message:
        """The latest ``what`` map message once one with epoch ≥ ``min_epoch`` arrived."""
        async with asyncio.timeout(timeout):
            while True:
                m = self.maps.get(what)
                if m is not None and self.core.epoch_of(what, m) >= min_epoch:
                    return m
                self._map_event.clear()
                await self._map_event.wait()

    # -- MonLink: what the core asks of the messenger ------------------------------------

    def dial(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int) -> Connection:
        """An anonymous lossy connection (the messenger picks the same target)."""
        con = self.messenger.connect_to(EntityType.MON, addrs, anon=True)
        self._dialed.add(con)
        return con

    def send(self, con: Connection, m: Message) -> None:
        """Queue ``m`` on ``con``."""
        con.send_message(m)

    def send_keepalive(self, con: Connection) -> None:
        """Queue a KEEPALIVE2."""
        con.send_keepalive()

    def last_keepalive_ack(self, con: Connection) -> object:
        """The stamp of the last KEEPALIVE2_ACK."""
        return con.last_keepalive_ack

    def mark_down(self, con: Connection) -> None:
        """Close ``con``."""
        con.mark_down()

    def session_established(self, con: Connection, global_id: int) -> None:
        """Name the messenger ``client.<global_id>``."""
        if global_id > 0:
            self.messenger.set_myname(EntityName(EntityType.CLIENT, global_id))

    def session_ready(self) -> None:
        """Wake :meth:`connect`."""
        self._session_ready.set()

    def session_lost(self) -> None:
        """Hunting again: :meth:`connect` waits for the next session."""
        self._session_ready.clear()

    def connect_failed(self, err: MonAuthError) -> None:
        """Wake :meth:`connect` with the error."""
        self._auth_error_event.set()

    def request_done(self, waiter: _Future, value: object) -> None:
        """Settle the request's future."""
        if not waiter.done():
            waiter.set_result(value)

    def map_received(self, what: str) -> None:
        """Wake :meth:`wait_for_map` and tell the map listeners."""
        self._map_event.set()
        for listener in self._map_listeners:
            listener(what)

    def _report_auth_error(self, err: AuthFailed) -> None:
        """A msgr2 handshake refusal, reported on the messenger's worker: hop to our loop."""
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(self.core.auth_refused, err)

    # -- the tick ------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while not self.core.closing:
            delay = self.core.tick(self._clock(), self._wall_clock())
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    # -- dispatch ------------------------------------------------------------------------

    def ms_handle_connect(self, con: Connection) -> None:
        """A dialled monitor finished its handshake: the first msgr2 one wins (a
        msgr v1 one still has to authenticate with MAuth)."""
        ours = self.core.handle_connect(con, msgr2=con.is_msgr2, now=self._clock())
        if not ours and con in self._dialed:
            con.mark_down()  # a hunting connection of an earlier round

    def ms_handle_reset(self, con: Connection) -> bool:
        """The session's connection failed: hunt again."""
        ours = self.core.handle_reset(con, self._clock())
        if ours:
            self._wake.set()  # a new hunt, or none left in this one: tick now
        return ours

    def ms_dispatch(self, m: Message) -> bool:
        """Handle the monitor's messages; others go to the next dispatcher."""
        con = m.connection
        if con is None:
            return False
        return self.core.handle_message(con, m, self._clock())

    def ms_can_fast_dispatch_any(self) -> bool:
        """Replies may be taken inline (see :meth:`ms_can_fast_dispatch`)."""
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        """A monitor-client message read on this client's own thread."""
        return (isinstance(m, _FAST_TYPES) and m.connection is not None
                and threading.get_ident() == self._loop_thread)

    def ms_fast_dispatch(self, m: Message) -> None:
        """:meth:`ms_dispatch`, inline on the loop that read ``m`` (ours)."""
        self.ms_dispatch(m)

    def ms_handle_fast_connect(self, con: Connection) -> None:
        """A won hunt, seen inline when the handshake finished on our thread."""
        if threading.get_ident() == self._loop_thread and con.is_msgr2:
            self.core.handle_connect(con, msgr2=True, now=self._clock())


__all__ = [
    "CommandResult",
    "MonAuthError",
    "MonClient",
    "MonClientClosed",
    "MonClientError",
    "MonClientOptions",
    "MonTimeout",
    "mgrmap_epoch",
    "osdmap_epochs",
]
