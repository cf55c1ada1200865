"""Ceph's MonClient on asyncio: hunt, authenticate, subscribe, commands, versions.

:class:`MonClient` keeps one session with one monitor of the cluster, as Ceph's
``MonClient`` does:

* **Hunting**: ``mon_client_hunt_parallel`` monitors are dialled at once, each on
  its own anonymous lossy connection: msgr2 when the monitor has a v2 address,
  msgr v1 otherwise (the messenger's ``asyncmsgr_connect_msgr`` may force one;
  monitors without an address of that protocol are skipped). The first to be
  authenticated wins and the others are marked down. Without a winner after
  ``mon_client_hunt_interval`` (times a back-off multiplier that grows by
  ``mon_client_hunt_interval_backoff`` up to
  ``mon_client_hunt_interval_max_multiple``) another set is tried.
* **Authentication** (cephx or none): over msgr2 the handshake runs the auth
  client, wrapped so that a refusal (AUTH_BAD_METHOD) or a reply that cannot be
  decrypted is reported; over msgr v1 the connection carries no authorizer and
  the MAuth / MAuthReply exchange (:class:`~asyncmsgr.monc.auth.V1MonAuth`) runs
  first, before any other message. Either way :meth:`MonClient.connect` ends
  with :class:`MonAuthError` once every monitor dialled has refused. Tickets are
  renewed over the session with MAuth (cephx ``GET_PRINCIPAL_SESSION_KEY``) when
  the auth client says they are due.
* **Subscriptions** (``monmap`` always; ``config``, ``osdmap``, ``mgrmap`` ... as
  asked) are sent on every new session with ``start`` = the next epoch wanted;
  one-time ones are dropped once a map arrives.
* **Commands** (MMonCommand) and **version queries** (MMonGetVersion) wait for
  their reply by tid; outstanding ones are re-sent on the next session.
* **Keepalive**: a KEEPALIVE2 every ``mon_client_ping_interval``; no ack for
  ``mon_client_ping_timeout`` → the session is dropped and hunting starts again.

All methods are called on the event loop that ran :meth:`MonClient.connect`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import AsyncmsgrError, AuthFailed, DecodeError
from asyncmsgr.message import Message, RawMessage
from asyncmsgr.messages import (
    CEPH_SUBSCRIBE_ONETIME,
    MAuth,
    MAuthReply,
    MConfig,
    MMonCommand,
    MMonCommandAck,
    MMonGetMap,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MonMap,
    SubscribeItem,
)
from asyncmsgr.messenger import Messenger
from asyncmsgr.monc.auth import MonAuthAdapter, TicketRenewer, V1MonAuth
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.buffer import Reader

logger = logging.getLogger(__name__)

CEPH_AUTH_CEPHX = 2
MSG_OSD_MAP = 41
MSG_MGR_MAP = 0x704
_RENEW_RETRY = 5.0

# -- errors ----------------------------------------------------------------------------


class MonClientError(AsyncmsgrError):
    """The monitor client could not do what was asked."""


class MonAuthError(MonClientError):
    """Every monitor dialled refused our credentials; ``result`` is a negative errno.

    ``msgr_v1``: the refusal came in an MAuthReply (msgr v1), whose ``result`` is
    the monitor's own (librados returns it as is; over msgr2 it reports EACCES).
    """

    def __init__(self, message: str, result: int = -13, *, msgr_v1: bool = False) -> None:
        super().__init__(message)
        self.result = result
        self.msgr_v1 = msgr_v1


class MonTimeout(MonClientError, TimeoutError):
    """No monitor session (or no reply) within the time allowed."""


class MonClientClosed(MonClientError):
    """The client was shut down while the operation waited."""


# -- options and results ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MonClientOptions:
    """The ``mon_client_*`` options (Ceph's defaults)."""

    hunt_interval: float = 3.0
    """``mon_client_hunt_interval``: seconds before trying other monitors."""
    hunt_parallel: int = 3
    """``mon_client_hunt_parallel``: monitors dialled at once."""
    hunt_interval_backoff: float = 1.5
    """``mon_client_hunt_interval_backoff``: multiplier growth per failed hunt."""
    hunt_interval_max_multiple: float = 10.0
    """``mon_client_hunt_interval_max_multiple``."""
    ping_interval: float = 10.0
    """``mon_client_ping_interval``: seconds between keepalives."""
    ping_timeout: float = 30.0
    """``mon_client_ping_timeout``: no keepalive ack for this long → new session."""
    mount_timeout: float = 300.0
    """``client_mount_timeout``: longest :meth:`MonClient.connect` waits."""
    op_timeout: float = 0.0
    """``rados_mon_op_timeout``: default command timeout (0: none)."""
    hostname: str = ""
    """Sent in MMonSubscribe."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """An MMonCommandAck: ``r`` (0 or -errno), status text ``rs``, output ``outbuf``."""

    r: int
    rs: str
    outbuf: bytes

    def json(self) -> Any:
        """``outbuf`` parsed as JSON."""
        return json.loads(self.outbuf)


# -- map decoding for subscriptions ----------------------------------------------------


def osdmap_epochs(m: Message) -> tuple[int, int]:
    """(first, last) epochs carried by an MOSDMap; raises DecodeError."""
    r = Reader(bytes(m.front))
    r.pull_view(16)  # fsid
    epochs: list[int] = []
    for _ in range(2):  # incremental_maps, maps
        for _ in range(r.pull_count(8, "MOSDMap maps")):
            epochs.append(r.pull_u32())
            r.pull_blob_view()
    if not epochs:
        return 0, 0
    return min(epochs), max(epochs)


def mgrmap_epoch(m: Message) -> int:
    """The epoch of the MgrMap an MMgrMap carries; raises DecodeError."""
    r = Reader(bytes(m.front))
    r.pull_view(6)  # ENCODE_START: struct_v, compat, length
    return r.pull_u32()


# -- the client ------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    """An outstanding command or version query (re-sent on a new session)."""

    build: Callable[[], Message]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Hunt:
    conns: dict[Connection, EntityAddrVec] = field(default_factory=dict)
    failed: list[AuthFailed] = field(default_factory=list)
    deadline: float = 0.0
    v1: dict[Connection, V1MonAuth] = field(default_factory=dict)
    """msgr v1 connections whose MAuth exchange is under way."""
    refused: dict[Connection, AuthFailed] = field(default_factory=dict)
    """msgr v1 connections the monitor refused (marked down, kept in ``conns``)."""

    def all_refused(self) -> bool:
        """A refusal was seen and no connection is left that could still win."""
        return bool(self.failed) and all(c in self.refused for c in self.conns)


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
        self.initial_addrs = tuple(mon_addrs)
        self.options = options or MonClientOptions()
        self.auth_client = auth_client
        self._auth = MonAuthAdapter(auth_client, self._report_auth_error)
        self._own_messenger = messenger is None
        if messenger is None:
            messenger = Messenger.create(EntityName(EntityType.CLIENT, -1), config=config)
        self.messenger = messenger
        messenger.auth_client = self._auth
        messenger.set_policy(EntityType.MON, Policy.lossy_client())
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self.monmap: MonMap | None = None
        self.config_values: dict[str, str] = {}
        self.maps: dict[str, Message] = {}
        self.global_id = 0
        self._subs: dict[str, SubscribeItem] = {"monmap": SubscribeItem(0, 0)}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active: Connection | None = None
        self._hunt: _Hunt | None = None
        self._multiplier = 1.0
        self._failed: set[EntityAddrVec] = set()
        """Monitors that failed us since the last session (avoided while hunting)."""
        self._session_ready = asyncio.Event()
        self._auth_error: MonAuthError | None = None
        self._auth_error_event = asyncio.Event()
        self._map_event = asyncio.Event()
        self._pending: dict[int, _Pending] = {}
        self._last_tid = 0
        self._tick_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_ping = 0.0
        self._last_ack_seen: object = None
        self._last_ack_at = 0.0
        self._closing = False
        self._have_monmap = False
        #: Sessions established (counted for tests and metrics).
        self.sessions = 0
        #: Hunts started.
        self.hunts = 0
        #: Ticket renewals asked for (MAuth sent).
        self.renewals = 0
        self._renew_sent = 0.0

    # -- life cycle ----------------------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> None:
        """Start the messenger, hunt and authenticate; return once a session is up.

        Raises :class:`MonAuthError` when the monitors refuse our credentials and
        :class:`MonTimeout` after ``timeout`` (default ``client_mount_timeout``).
        """
        self._loop = asyncio.get_running_loop()
        msgr = self.messenger
        if self not in msgr.chain.dispatchers:
            if self._own_messenger:
                msgr.start()
            msgr.add_dispatcher_head(self)
        if self._tick_task is None:
            self._tick_task = asyncio.create_task(self._tick_loop(),
                                                  name="monclient-tick")
        if self._active is None and self._hunt is None:
            self._auth_error = None  # a new attempt after a refusal
            self._auth_error_event.clear()
            self._reopen_session()
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
        if self._auth_error is not None:
            raise self._auth_error
        if self._closing:
            raise MonClientClosed("monitor client shut down")
        raise MonTimeout(f"timed out after {timeout:g} s connecting to the monitors "
                         f"{', '.join(str(a) for a in self._hunt_candidates())}")

    async def shutdown(self) -> None:
        """Fail outstanding operations, close the session and (if ours) the messenger."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(MonClientClosed("monitor client shut down"))
        self._pending.clear()
        self._auth_error_event.set()
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        self._drop_hunt()
        if self._active is not None:
            self._active.mark_down()
            self._active = None
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
        return self._active is not None

    @property
    def active_connection(self) -> Connection | None:
        """The connection of the current session."""
        return self._active

    # -- operations ----------------------------------------------------------------------

    async def command(self, cmd: str | Mapping[str, object] | Sequence[str],
                      inbuf: bytes = b"", *, timeout: float | None = None) -> CommandResult:
        """Send an MMonCommand and return its ack (``r`` may be negative).

        ``cmd``: a JSON string, a mapping (dumped to JSON) or a list of JSON strings.
        """
        if isinstance(cmd, str):
            parts = [cmd]
        elif isinstance(cmd, Mapping):
            parts = [json.dumps(dict(cmd))]
        else:
            parts = list(cmd)

        def build() -> Message:
            fsid = self.monmap.fsid if self.monmap is not None else None
            m = MMonCommand(cmd=parts, data=inbuf)
            if fsid is not None:
                m.fsid = fsid
            return m

        result: CommandResult = await self._request(build, timeout)
        return result

    async def get_version(self, what: str, *, timeout: float | None = None) -> tuple[int, int]:
        """(newest, oldest) epochs of map ``what`` (``osdmap``, ``mdsmap``, ...)."""
        def build() -> Message:
            return MMonGetVersion(what=what)

        got: tuple[int, int] = await self._request(build, timeout, handle=True)
        return got

    async def _request(self, build: Callable[[], Message], timeout: float | None,
                       *, handle: bool = False) -> Any:
        if self._closing:
            raise MonClientClosed("monitor client shut down")
        loop = asyncio.get_running_loop()
        self._last_tid += 1
        tid = self._last_tid

        def build_with_tid() -> Message:
            m = build()
            if handle:
                assert isinstance(m, MMonGetVersion)
                m.handle = tid
            else:
                m.tid = tid
            return m

        pending = _Pending(build_with_tid, loop.create_future())
        self._pending[tid] = pending
        if self._active is not None and self._have_monmap:
            self._active.send_message(build_with_tid())
        limit = self.options.op_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit or None):
                return await pending.future
        except TimeoutError:
            raise MonTimeout(f"no reply from the monitors within {limit:g} s") from None
        finally:
            self._pending.pop(tid, None)

    def sub_want(self, what: str, start: int = 0, *, onetime: bool = False) -> None:
        """Subscribe to map ``what`` from epoch ``start`` (sent now if connected)."""
        self._subs[what] = SubscribeItem(start, CEPH_SUBSCRIBE_ONETIME if onetime else 0)
        self._renew_subs()

    def sub_unwant(self, what: str) -> None:
        """Forget a subscription (takes effect on the next session)."""
        self._subs.pop(what, None)

    async def wait_for_map(self, what: str, *, min_epoch: int = 0,
                           timeout: float | None = None) -> Message:
        """The latest ``what`` map message once one with epoch ≥ ``min_epoch`` arrived."""
        async with asyncio.timeout(timeout):
            while True:
                m = self.maps.get(what)
                if m is not None and self._epoch_of(what, m) >= min_epoch:
                    return m
                self._map_event.clear()
                await self._map_event.wait()

    # -- hunting -------------------------------------------------------------------------

    def _hunt_candidates(self) -> list[EntityAddrVec]:
        """The monitors (monmap, else mon_host) the messenger has a protocol for."""
        if self.monmap is not None and self.monmap.ranks:
            addrs = [av for _, _, av in self.monmap.rank_entries()]
        else:
            addrs = list(self.initial_addrs)
        return [av for av in addrs if self._dialable(av)]

    def _dialable(self, av: EntityAddrVec) -> bool:
        try:
            self.messenger.pick_target(av)
        except ValueError:
            return False
        return True

    def _reopen_session(self) -> None:
        """Drop the current session (if any) and dial a fresh set of monitors."""
        if self._closing:
            return
        self._session_ready.clear()
        if self._active is not None:
            self._failed.add(self._active.peer_addrs)
            self._active.mark_down()
            self._active = None
        self._drop_hunt()
        candidates = self._hunt_candidates()
        if not candidates:
            want = self.messenger.config.asyncmsgr_connect_msgr
            self._fail_auth(MonClientError(
                "no monitor address to connect to (asyncmsgr_connect_msgr="
                f"{want}): {', '.join(str(a) for a in self.initial_addrs)}"))
            return
        fresh = [av for av in candidates if av not in self._failed]
        candidates = fresh or candidates
        self._rng.shuffle(candidates)
        picked = candidates[:max(1, self.options.hunt_parallel)]
        hunt = _Hunt(deadline=self._clock() + self.options.hunt_interval * self._multiplier)
        self._hunt = hunt
        self.hunts += 1
        logger.info("monclient: hunting for a monitor among %s",
                    ", ".join(str(a) for a in picked))
        for av in picked:
            conn = self.messenger.connect_to(EntityType.MON, av, anon=True)
            hunt.conns[conn] = av
        for conn in list(hunt.conns):  # all dialled first: a refusal counts them all
            if not conn.is_msgr2 and self._hunt is hunt:
                self._start_v1_auth(hunt, conn)
        self._wake.set()

    def _start_v1_auth(self, hunt: _Hunt, con: Connection) -> None:
        """Queue MAuth(protocol 0) on a new msgr v1 connection (sent once it is up)."""
        epoch = self.monmap.epoch if self.monmap is not None else 0
        try:
            exchange = V1MonAuth(self.auth_client, epoch)
        except AuthFailed as exc:
            self._v1_refused(hunt, con, exc)
            return
        hunt.v1[con] = exchange
        con.send_message(exchange.hello())

    def _v1_auth_reply(self, hunt: _Hunt, con: Connection, m: MAuthReply) -> None:
        """One MAuthReply of a hunting v1 connection: answer, or win, or give up."""
        exchange = hunt.v1[con]
        try:
            nxt = exchange.handle(m)
        except AuthFailed as exc:
            self._v1_refused(hunt, con, exc)
            return
        if nxt is not None:
            con.send_message(nxt)
            return
        del hunt.v1[con]
        exchange.adopt()
        self._finish_hunting(con, exchange.global_id)

    def _v1_refused(self, hunt: _Hunt, con: Connection, exc: AuthFailed) -> None:
        hunt.v1.pop(con, None)
        hunt.refused[con] = exc
        hunt.failed.append(exc)
        con.mark_down()
        logger.warning("monclient: authentication with %s failed: %s", con.peer_addrs, exc)
        if hunt.all_refused():
            self._fail_auth(MonAuthError(str(exc), exc.result, msgr_v1=True))

    def _drop_hunt(self) -> None:
        hunt, self._hunt = self._hunt, None
        if hunt is not None:
            for conn in hunt.conns:
                conn.mark_down()

    def _finish_hunting(self, con: Connection, global_id: int = 0) -> None:
        hunt = self._hunt
        assert hunt is not None
        del hunt.conns[con]
        self._drop_hunt()
        self._active = con
        self._multiplier = 1.0
        self._failed.clear()
        self.sessions += 1
        gid = global_id or getattr(self.auth_client, "global_id", 0)
        if isinstance(gid, int) and gid > 0:
            self.global_id = gid
            self.messenger.set_myname(EntityName(EntityType.CLIENT, gid))
        now = self._clock()
        self._last_ping = now
        self._last_ack_seen = con.last_keepalive_ack
        self._last_ack_at = now
        logger.info("monclient: session established with %s (global_id %d)",
                    con.peer_addrs, self.global_id)
        self._have_monmap = False
        con.send_message(MMonGetMap())
        self._renew_subs()

    def _session_usable(self) -> None:
        """The first monmap of a session arrived: commands can carry the fsid."""
        con = self._active
        if con is None or self._have_monmap:
            return
        self._have_monmap = True
        for pending in self._pending.values():
            if not pending.future.done():
                con.send_message(pending.build())
        self._session_ready.set()

    def _report_auth_error(self, err: AuthFailed) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(self._on_auth_error, err)

    def _on_auth_error(self, err: AuthFailed) -> None:
        hunt = self._hunt
        if hunt is None:
            return
        hunt.failed.append(err)
        logger.warning("monclient: authentication failed: %s", err)
        if len(hunt.failed) >= len(hunt.conns):
            self._fail_auth(MonAuthError(str(err), err.result))

    def _fail_auth(self, err: MonClientError) -> None:
        if isinstance(err, MonAuthError):
            self._auth_error = err
        else:
            self._auth_error = MonAuthError(str(err), -22)
        self._drop_hunt()
        self._auth_error_event.set()

    # -- the tick ------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while not self._closing:
            delay = self._tick()
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _tick(self) -> float:
        """One tick; returns seconds until the next one."""
        now = self._clock()
        opts = self.options
        if self._hunt is not None:
            if now >= self._hunt.deadline:
                self._failed.update(self._hunt.conns.values())
                self._multiplier = min(self._multiplier * opts.hunt_interval_backoff,
                                       opts.hunt_interval_max_multiple)
                self._reopen_session()
            hunt = self._hunt
            return max(0.01, hunt.deadline - now) if hunt is not None else opts.hunt_interval
        con = self._active
        if con is None:
            if self._auth_error is None and not self._closing:
                self._reopen_session()
            return opts.hunt_interval
        ack = con.last_keepalive_ack
        if ack != self._last_ack_seen:
            self._last_ack_seen = ack
            self._last_ack_at = now
        if opts.ping_timeout > 0 and now - self._last_ack_at > opts.ping_timeout:
            logger.warning("monclient: no keepalive ack from %s for %.1f s, hunting",
                           con.peer_addrs, now - self._last_ack_at)
            self._reopen_session()
            return opts.hunt_interval
        if now - self._last_ping >= opts.ping_interval:
            con.send_keepalive()
            self._last_ping = now
        self._check_tickets(con, now)
        return max(0.01, min(opts.ping_interval - (now - self._last_ping), 1.0))

    def _check_tickets(self, con: Connection, now: float) -> None:
        """Ask for tickets due for renewal (one MAuth at a time; again after 5 s)."""
        auth = self.auth_client
        if not isinstance(auth, TicketRenewer) or not auth.need_tickets(self._wall_clock()):
            return
        if self._renew_sent and now - self._renew_sent < _RENEW_RETRY:
            return
        self._renew_sent = now
        self.renewals += 1
        epoch = self.monmap.epoch if self.monmap is not None else 0
        con.send_message(MAuth(protocol=CEPH_AUTH_CEPHX,
                               auth_payload=auth.build_ticket_request(),
                               monmap_epoch=epoch))

    # -- dispatch ------------------------------------------------------------------------

    def ms_handle_connect(self, con: Connection) -> None:
        """A dialled monitor finished its handshake: the first msgr2 one wins (a
        msgr v1 one still has to authenticate, see :meth:`_v1_auth_reply`)."""
        hunt = self._hunt
        if hunt is not None and con in hunt.conns:
            if con.is_msgr2:
                self._finish_hunting(con)
        elif con.peer_type == EntityType.MON and con is not self._active \
                and con.is_anon:  # a hunting connection of an earlier round
            con.mark_down()

    def ms_handle_reset(self, con: Connection) -> bool:
        """The session's connection failed: hunt again."""
        hunt = self._hunt
        if hunt is not None and con in hunt.conns:
            del hunt.conns[con]
            hunt.v1.pop(con, None)
            if hunt.refused and hunt.all_refused():
                last = hunt.failed[-1]
                v1 = any(last is e for e in hunt.refused.values())
                self._fail_auth(MonAuthError(str(last), last.result, msgr_v1=v1))
            elif not hunt.conns:
                self._wake.set()
            return True
        if con is self._active:
            logger.info("monclient: session with %s reset, hunting", con.peer_addrs)
            self._failed.add(con.peer_addrs)
            self._active = None
            self._reopen_session()
            return True
        return False

    def ms_dispatch(self, m: Message) -> bool:
        """Handle the monitor's messages; others go to the next dispatcher."""
        con = m.connection
        if con is not None and con is not self._active:
            hunt = self._hunt
            if isinstance(m, MAuthReply) and hunt is not None and con in hunt.v1:
                self._v1_auth_reply(hunt, con, m)
                return True
            return isinstance(m, (MMonMap, MConfig, MMonCommandAck, MMonGetVersionReply,
                                  MAuthReply))
        if isinstance(m, MMonMap):
            self._handle_monmap(m)
        elif isinstance(m, MConfig):
            self.config_values = dict(m.config)
            self._got_map("config", m, 0)
        elif isinstance(m, MMonCommandAck):
            self._complete(m.tid, CommandResult(m.r, m.rs, bytes(m.data)))
        elif isinstance(m, MMonGetVersionReply):
            self._complete(m.handle, (m.map_version, m.oldest_version))
        elif isinstance(m, MAuthReply):
            self._handle_auth_reply(m)
        elif m.type == MSG_OSD_MAP:  # MOSDMap, or raw where it is not registered
            self._got_map("osdmap", m, self._epoch_of("osdmap", m))
        elif isinstance(m, RawMessage) and m.type == MSG_MGR_MAP:
            self._got_map("mgrmap", m, self._epoch_of("mgrmap", m))
        else:
            return False
        return True

    def _epoch_of(self, what: str, m: Message) -> int:
        try:
            if what == "osdmap":
                return osdmap_epochs(m)[1]
            if what == "mgrmap":
                return mgrmap_epoch(m)
            if what == "monmap" and self.monmap is not None:
                return self.monmap.epoch
        except DecodeError:
            logger.warning("monclient: undecodable %s message", what)
        return 0

    def _handle_monmap(self, m: MMonMap) -> None:
        try:
            monmap = m.decode_monmap()
        except DecodeError as exc:
            logger.warning("monclient: bad monmap: %s", exc)
            return
        self.monmap = monmap
        self._got_map("monmap", m, monmap.epoch)
        self._session_usable()

    def _handle_auth_reply(self, m: MAuthReply) -> None:
        self._renew_sent = 0.0
        auth = self.auth_client
        if m.result < 0 or not isinstance(auth, TicketRenewer):
            logger.warning("monclient: ticket renewal refused: %d %s", m.result,
                           m.result_msg)
            return
        try:
            auth.handle_ticket_reply(bytes(m.result_bl))
        except (AuthFailed, DecodeError) as exc:
            logger.warning("monclient: bad ticket reply: %s", exc)

    def _got_map(self, what: str, m: Message, epoch: int) -> None:
        self.maps[what] = m
        item = self._subs.get(what)
        if item is not None:
            if item.flags & CEPH_SUBSCRIBE_ONETIME:
                del self._subs[what]
            elif epoch:
                self._subs[what] = SubscribeItem(max(item.start, epoch + 1), item.flags)
        self._map_event.set()

    def _complete(self, tid: int, value: object) -> None:
        pending = self._pending.get(tid)
        if pending is not None and not pending.future.done():
            pending.future.set_result(value)

    def _renew_subs(self) -> None:
        con = self._active
        if con is None or not self._subs:
            return
        con.send_message(MMonSubscribe(what=dict(self._subs),
                                       hostname=self.options.hostname))


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
