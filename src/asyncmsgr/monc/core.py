"""Ceph's MonClient without I/O: hunting, session set-up, requests by tid, ticks.

:class:`MonClientCore` holds every decision of a monitor client and drives a
:class:`MonLink`, the few operations its I/O layer provides (dial a monitor,
send, mark down, report). Two drivers use it: the asyncio
:class:`~asyncmsgr.monc.client.MonClient` on a Messenger, and the blocking
one-shot :class:`~asyncmsgr.monc.sync.SyncMonClient` behind ``asyncmsgr ceph``.
Like the protocol machines, the core never reads a clock (``now`` and
``wall_now`` are inputs), never blocks and imports no asyncio or socket.

The rules (Ceph's ``MonClient``):

* **Hunting**: :meth:`MonClientCore.reopen_session` dials
  ``mon_client_hunt_parallel`` monitors at once (the monmap's, else
  ``mon_host``; those that failed us since the last session last), msgr2 where
  the monitor has a v2 address and msgr v1 otherwise (``asyncmsgr_connect_msgr``
  may force one; monitors without an address of that protocol are skipped). The
  first to be authenticated wins; the others are marked down. Without a winner
  after ``mon_client_hunt_interval`` times a multiplier (growing by
  ``mon_client_hunt_interval_backoff`` up to
  ``mon_client_hunt_interval_max_multiple``) another set is dialled.
* **Authentication**: msgr2 connections authenticate in the handshake (the link
  reports refusals with :meth:`MonClientCore.auth_refused`); msgr v1 ones send
  MAuth first (:class:`~asyncmsgr.monc.auth.V1MonAuth`). Once every monitor
  dialled has refused, the attempt ends with :class:`MonAuthError`.
* **Session set-up**: the winner gets MMonGetMap and MMonSubscribe (``monmap``
  always, plus what was asked); the session is usable once its first monmap
  arrived (commands carry the fsid): outstanding requests are sent then.
* **Requests** (MMonCommand, MMonGetVersion) carry tids and are re-sent on
  every new session until answered.
* **Tick**: hunting deadlines, a KEEPALIVE2 every ``mon_client_ping_interval``,
  a new hunt after ``mon_client_ping_timeout`` without an ack, cephx ticket
  renewal (one MAuth at a time, again after 5 s).
* **Service tickets** on demand: :meth:`MonClientCore.request_tickets` asks at
  once for a missing one (a manager's, which the tick's renewal leaves alone as
  Ceph's ``need_tickets`` does) before the driver dials that service.
* **Cluster log** (``log-debug``, ``log-info``, ``log-sec``, ``log-warn``,
  ``log-error`` subscriptions): each MLog newer than the last one seen is kept
  in ``maps["log"]`` and announced with ``map_received("log")``; the
  subscription then starts after its version (``RadosClient::handle_log``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.errors import AuthFailed, DecodeError
from asyncmsgr.lazylog import get_logger
from asyncmsgr.message import Message, RawMessage
from asyncmsgr.messages import (
    CEPH_SUBSCRIBE_ONETIME,
    MAuth,
    MAuthReply,
    MConfig,
    MLog,
    MMgrMap,
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
from asyncmsgr.monc.auth import TicketRenewer, V1MonAuth
from asyncmsgr.monc.common import (
    CommandResult,
    MonAuthError,
    MonClientClosed,
    MonClientError,
    MonClientOptions,
    MonTimeout,
    dial_target,
    mgrmap_epoch,
    osdmap_epochs,
)
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import EntityAddr, EntityAddrVec

logger = get_logger("asyncmsgr.monc.client")

CEPH_AUTH_CEPHX = 2
MSG_OSD_MAP = 41
MSG_MGR_MAP = 0x704
#: Seconds before a ticket renewal MAuth without an answer is sent again.
RENEW_RETRY = 5.0

# -- what the core drives --------------------------------------------------------------

C = TypeVar("C", bound=Hashable)
"""A connection handle of the driver (an AsyncConnection, a socket wrapper...)."""
W = TypeVar("W")
"""What a driver waits on for a request (a future, a slot)."""
W_contra = TypeVar("W_contra", contravariant=True)


class MonLink(Protocol[C, W_contra]):
    """The I/O a :class:`MonClientCore` asks its driver for; every call returns at once."""

    def dial(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int) -> C:
        """Open an anonymous lossy connection to monitor ``addrs`` at ``target``
        (``protocol`` 2 or 1); messages sent before it is up are queued."""
        ...

    def send(self, con: C, m: Message) -> None:
        """Queue ``m`` on ``con``."""
        ...

    def send_keepalive(self, con: C) -> None:
        """Queue a KEEPALIVE2 on ``con``."""
        ...

    def last_keepalive_ack(self, con: C) -> object:
        """The stamp of the last KEEPALIVE2_ACK ``con`` received."""
        ...

    def mark_down(self, con: C) -> None:
        """Close ``con`` for good (no reset is reported for it)."""
        ...

    def session_established(self, con: C, global_id: int) -> None:
        """``con`` won the hunt; ``global_id`` (> 0) names us from now on."""
        ...

    def session_ready(self) -> None:
        """The session's first monmap arrived: it is usable."""
        ...

    def session_lost(self) -> None:
        """The session is gone; hunting again."""
        ...

    def connect_failed(self, err: MonAuthError) -> None:
        """Every monitor refused us (or none can be dialled): the attempt failed."""
        ...

    def request_done(self, waiter: W_contra, value: object) -> None:
        """A request was answered (``value``: CommandResult or (newest, oldest))."""
        ...

    def map_received(self, what: str) -> None:
        """A map (``monmap``, ``config``, ``osdmap``, ``mgrmap``), cluster log
        entries (``log``: the MLog is in ``maps["log"]``) or new service tickets
        (``tickets``) arrived."""
        ...


class Request(MutableRecord, Generic[W]):
    """An outstanding command or version query (re-sent on every new session)."""

    tid: int
    build: Callable[[int], Message]
    """Builds the message for tid ``tid`` (the current fsid each time)."""
    waiter: W

    __slots__ = ("build", "tid", "waiter")

    def __init__(self, tid: int, build: Callable[[int], Message], waiter: W) -> None:
        self.tid = tid
        self.build = build
        self.waiter = waiter


class HuntRound(MutableRecord, Generic[C]):
    """One set of monitors dialled at once."""

    conns: dict[C, EntityAddrVec]
    """The connections still in the round, to their monitor's addresses."""
    failed: list[AuthFailed]
    """Refusals seen in this round."""
    deadline: float
    v1: dict[C, V1MonAuth]
    """msgr v1 connections whose MAuth exchange is under way."""
    refused: dict[C, AuthFailed]
    """msgr v1 connections the monitor refused (marked down, kept in ``conns``)."""

    __slots__ = ("conns", "deadline", "failed", "refused", "v1")

    def __init__(self, deadline: float) -> None:
        self.conns = {}
        self.failed = []
        self.deadline = deadline
        self.v1 = {}
        self.refused = {}

    def all_refused(self) -> bool:
        """A refusal was seen and no connection is left that could still win."""
        return bool(self.failed) and all(c in self.refused for c in self.conns)


# -- the core --------------------------------------------------------------------------


class MonClientCore(Generic[C, W]):
    """The state and decisions of one monitor client (see the module docstring).

    ``auth_client`` authenticates every session; ``connect_msgr`` is the
    messenger's ``asyncmsgr_connect_msgr``. The driver calls the ``handle_*``
    methods as things happen on its connections and :meth:`tick` when
    :meth:`tick`'s last answer is due.
    """

    def __init__(self, mon_addrs: Sequence[EntityAddrVec], *, link: MonLink[C, W],
                 auth_client: AuthClient, options: MonClientOptions | None = None,
                 connect_msgr: str = "any", rng: random.Random | None = None) -> None:
        if not mon_addrs:
            raise MonClientError("no monitors specified to connect to.")
        self.initial_addrs = tuple(mon_addrs)
        self.link = link
        self.auth_client = auth_client
        self.options = options or MonClientOptions()
        self.connect_msgr = connect_msgr
        self.rng = rng or random.Random()
        self.monmap: MonMap | None = None
        self.config_values: dict[str, str] = {}
        self.maps: dict[str, Message] = {}
        self.global_id = 0
        self.subs: dict[str, SubscribeItem] = {"monmap": SubscribeItem(0, 0)}
        self.active: C | None = None
        """The connection of the current session."""
        self.hunt: HuntRound[C] | None = None
        self.have_monmap = False
        """The current session received its first monmap (requests may go out)."""
        self.auth_error: MonAuthError | None = None
        self.closing = False
        self.requests: dict[int, Request[W]] = {}
        self.last_tid = 0
        self._multiplier = 1.0
        self._failed: set[EntityAddrVec] = set()
        """Monitors that failed us since the last session (dialled last while hunting)."""
        self._active_addrs = EntityAddrVec()
        self._last_ping = 0.0
        self._last_ack_seen: object = None
        self._last_ack_at = 0.0
        self._renew_sent = 0.0
        self.log_version = 0
        """Version of the last MLog taken."""
        #: Sessions established.
        self.sessions = 0
        #: Hunts started.
        self.hunts = 0
        #: Ticket renewals asked for (MAuth sent).
        self.renewals = 0

    # -- starting and stopping -----------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin (or retry, after a refusal) connecting, unless a session or a hunt
        is already under way."""
        if self.active is None and self.hunt is None and not self.closing:
            self.auth_error = None
            self.reopen_session(now)

    def close(self) -> list[Request[W]]:
        """Stop for good: mark every connection down; returns the requests that will
        never be answered (the driver fails their waiters)."""
        self.closing = True
        self._drop_hunt()
        if self.active is not None:
            self.link.mark_down(self.active)
            self.active = None
        pending = list(self.requests.values())
        self.requests.clear()
        return pending

    # -- requests ------------------------------------------------------------------------

    def command_builder(self, cmd: str | Mapping[str, object] | Sequence[str],
                        inbuf: bytes = b"") -> Callable[[int], Message]:
        """How to build the MMonCommand for ``cmd`` (a JSON string, a mapping dumped
        to JSON, or a list of JSON strings) with a given tid."""
        if isinstance(cmd, str):
            parts = [cmd]
        elif isinstance(cmd, Mapping):
            parts = [json.dumps(dict(cmd))]
        else:
            parts = list(cmd)

        def build(tid: int) -> Message:
            m = MMonCommand(cmd=parts, data=inbuf)
            m.tid = tid
            if self.monmap is not None:
                m.fsid = self.monmap.fsid
            return m
        return build

    @staticmethod
    def version_builder(what: str) -> Callable[[int], Message]:
        """How to build the MMonGetVersion for map ``what`` with a given tid."""
        def build(tid: int) -> Message:
            return MMonGetVersion(what=what, handle=tid)
        return build

    def submit(self, build: Callable[[int], Message], waiter: W) -> Request[W]:
        """Register a request and send it now if the session is usable."""
        if self.closing:
            raise MonClientClosed("monitor client shut down")
        self.last_tid += 1
        req = Request(self.last_tid, build, waiter)
        self.requests[req.tid] = req
        if self.active is not None and self.have_monmap:
            self.link.send(self.active, build(req.tid))
        return req

    def forget(self, tid: int) -> None:
        """The waiter gave up (timeout, cancel): never complete or re-send ``tid``."""
        self.requests.pop(tid, None)

    def _complete(self, tid: int, value: object) -> None:
        req = self.requests.pop(tid, None)
        if req is not None:
            self.link.request_done(req.waiter, value)

    # -- subscriptions -------------------------------------------------------------------

    def sub_want(self, what: str, start: int = 0, *, onetime: bool = False) -> None:
        """Subscribe to map ``what`` from epoch ``start`` (sent now if connected)."""
        self.subs[what] = SubscribeItem(start, CEPH_SUBSCRIBE_ONETIME if onetime else 0)
        self._renew_subs()

    def sub_unwant(self, what: str) -> None:
        """Forget a subscription (takes effect on the next session)."""
        self.subs.pop(what, None)

    def _renew_subs(self) -> None:
        con = self.active
        if con is None or not self.subs:
            return
        self.link.send(con, MMonSubscribe(what=dict(self.subs), hostname=self.options.hostname))

    # -- hunting -------------------------------------------------------------------------

    def hunt_candidates(self) -> list[EntityAddrVec]:
        """The monitors (monmap, else mon_host) we have a protocol for."""
        if self.monmap is not None and self.monmap.ranks:
            addrs = [av for _, _, av in self.monmap.rank_entries()]
        else:
            addrs = list(self.initial_addrs)
        return [av for av in addrs if self._dialable(av)]

    def _dialable(self, av: EntityAddrVec) -> bool:
        try:
            dial_target(av, self.connect_msgr)
        except ValueError:
            return False
        return True

    def reopen_session(self, now: float) -> None:
        """Drop the current session (if any) and dial a fresh set of monitors."""
        if self.closing:
            return
        self.link.session_lost()
        if self.active is not None:
            self._failed.add(self._active_addrs)
            self.link.mark_down(self.active)
            self.active = None
        self._drop_hunt()
        candidates = self.hunt_candidates()
        if not candidates:
            self._fail(MonClientError(
                f"no monitor address to connect to (asyncmsgr_connect_msgr="
                f"{self.connect_msgr}): {', '.join(str(a) for a in self.initial_addrs)}"))
            return
        fresh = [av for av in candidates if av not in self._failed]
        candidates = fresh or candidates
        self.rng.shuffle(candidates)
        picked = candidates[:max(1, self.options.hunt_parallel)]
        hunt: HuntRound[C] = HuntRound(now + self.options.hunt_interval * self._multiplier)
        self.hunt = hunt
        self.hunts += 1
        logger.info("hunting: waiting for a monitor among %s (round %d, "
                    "%.1f s)", ", ".join(str(a) for a in picked), self.hunts,
                    self.options.hunt_interval * self._multiplier)
        v1: list[C] = []
        for av in picked:
            target, protocol = dial_target(av, self.connect_msgr)
            con = self.link.dial(av, target, protocol)
            hunt.conns[con] = av
            if protocol == 1:
                v1.append(con)
        for con in v1:  # all dialled first: a refusal counts them all
            if self.hunt is hunt:
                self._start_v1_auth(hunt, con)

    def _start_v1_auth(self, hunt: HuntRound[C], con: C) -> None:
        """Queue MAuth(protocol 0) on a new msgr v1 connection (sent once it is up)."""
        epoch = self.monmap.epoch if self.monmap is not None else 0
        try:
            exchange = V1MonAuth(self.auth_client, epoch)
        except AuthFailed as exc:
            self._v1_refused(hunt, con, exc)
            return
        hunt.v1[con] = exchange
        self.link.send(con, exchange.hello())

    def _v1_auth_reply(self, hunt: HuntRound[C], con: C, m: MAuthReply, now: float) -> None:
        """One MAuthReply of a hunting v1 connection: answer, or win, or give up."""
        exchange = hunt.v1[con]
        try:
            nxt = exchange.handle(m)
        except AuthFailed as exc:
            self._v1_refused(hunt, con, exc)
            return
        if nxt is not None:
            self.link.send(con, nxt)
            return
        del hunt.v1[con]
        exchange.adopt()
        self._finish_hunting(con, now, exchange.global_id)

    def _v1_refused(self, hunt: HuntRound[C], con: C, exc: AuthFailed) -> None:
        hunt.v1.pop(con, None)
        hunt.refused[con] = exc
        hunt.failed.append(exc)
        self.link.mark_down(con)
        logger.warning("authentication with %s failed: %s", hunt.conns.get(con),
                       exc)
        if hunt.all_refused():
            self._fail(MonAuthError(str(exc), exc.result, msgr_v1=True))

    def _drop_hunt(self) -> None:
        hunt, self.hunt = self.hunt, None
        if hunt is not None:
            for con in hunt.conns:
                self.link.mark_down(con)

    def _finish_hunting(self, con: C, now: float, global_id: int = 0) -> None:
        hunt = self.hunt
        assert hunt is not None
        self._active_addrs = hunt.conns.pop(con)
        self._drop_hunt()
        self.active = con
        self._multiplier = 1.0
        self._failed.clear()
        self.sessions += 1
        gid = global_id or getattr(self.auth_client, "global_id", 0)
        if isinstance(gid, int) and gid > 0:
            self.global_id = gid
        self._last_ping = now
        self._last_ack_seen = self.link.last_keepalive_ack(con)
        self._last_ack_at = now
        logger.info("session established with %s (global_id %d)",
                    self._active_addrs, self.global_id)
        self.link.session_established(con, self.global_id)
        self.have_monmap = False
        self.link.send(con, MMonGetMap())
        self._renew_subs()

    def _session_usable(self) -> None:
        """The first monmap of a session arrived: requests can carry the fsid."""
        con = self.active
        if con is None or self.have_monmap:
            return
        self.have_monmap = True
        for req in list(self.requests.values()):
            self.link.send(con, req.build(req.tid))
        self.link.session_ready()

    def auth_refused(self, err: AuthFailed) -> None:
        """A msgr2 handshake of the current hunt was refused (or its reply could not
        be decrypted)."""
        hunt = self.hunt
        if hunt is None:
            return
        hunt.failed.append(err)
        logger.warning("authentication failed: %s", err)
        if len(hunt.failed) >= len(hunt.conns):
            self._fail(MonAuthError(str(err), err.result))

    def _fail(self, err: MonClientError) -> None:
        self.auth_error = err if isinstance(err, MonAuthError) else MonAuthError(str(err), -22)
        self._drop_hunt()
        self.link.connect_failed(self.auth_error)

    # -- connection events ---------------------------------------------------------------

    def handle_connect(self, con: C, *, msgr2: bool, now: float) -> bool:
        """``con`` finished its handshake. The first msgr2 one of the hunt wins (a
        msgr v1 one still has to authenticate with MAuth). Returns False when
        ``con`` is not ours (a stale hunting connection: the driver closes it)."""
        hunt = self.hunt
        if hunt is not None and con in hunt.conns:
            if msgr2:
                self._finish_hunting(con, now)
            return True
        return con is self.active

    def handle_reset(self, con: C, now: float) -> bool:
        """``con`` failed: forget it; hunt again if it was the session. False when
        it is not one of ours."""
        hunt = self.hunt
        if hunt is not None and con in hunt.conns:
            del hunt.conns[con]
            hunt.v1.pop(con, None)
            if hunt.refused and hunt.all_refused():
                last = hunt.failed[-1]
                v1 = any(last is e for e in hunt.refused.values())
                self._fail(MonAuthError(str(last), last.result, msgr_v1=v1))
            return True
        if con is self.active:
            logger.info("session with %s reset, hunting", self._active_addrs)
            self._failed.add(self._active_addrs)
            self.active = None
            self.reopen_session(now)
            return True
        return False

    @property
    def hunt_exhausted(self) -> bool:
        """Hunting, and every connection of the round is gone: tick early."""
        return self.hunt is not None and not self.hunt.conns

    def handle_message(self, con: C, m: Message, now: float) -> bool:
        """A message from a monitor; False when it is not for the monitor client."""
        if con is not self.active:
            hunt = self.hunt
            if isinstance(m, MAuthReply) and hunt is not None and con in hunt.v1:
                self._v1_auth_reply(hunt, con, m, now)
                return True
            return isinstance(m, MMonMap | MConfig | MMonCommandAck | MMonGetVersionReply
                              | MAuthReply | MMgrMap | MLog)
        if isinstance(m, MMonCommandAck):
            self._complete(m.tid, CommandResult(m.r, m.rs, bytes(m.data)))
        elif isinstance(m, MMonMap):
            self._handle_monmap(m)
        elif isinstance(m, MConfig):
            self.config_values = dict(m.config)
            self._got_map("config", m, 0)
        elif isinstance(m, MMonGetVersionReply):
            self._complete(m.handle, (m.map_version, m.oldest_version))
        elif isinstance(m, MAuthReply):
            self._handle_auth_reply(m)
        elif m.type == MSG_OSD_MAP:  # MOSDMap, or raw where it is not registered
            self._got_map("osdmap", m, self.epoch_of("osdmap", m))
        elif isinstance(m, MMgrMap) or (isinstance(m, RawMessage) and m.type == MSG_MGR_MAP):
            self._got_map("mgrmap", m, self.epoch_of("mgrmap", m))
        elif isinstance(m, MLog):
            self._handle_log(m)
        else:
            return False
        return True

    def epoch_of(self, what: str, m: Message) -> int:
        """The epoch of map message ``m`` (0 when it does not decode)."""
        try:
            if what == "osdmap":
                return osdmap_epochs(m)[1]
            if what == "mgrmap":
                return mgrmap_epoch(m)
            if what == "monmap" and self.monmap is not None:
                return self.monmap.epoch
        except DecodeError:
            logger.warning("undecodable %s message", what)
        return 0

    def _handle_monmap(self, m: MMonMap) -> None:
        try:
            monmap = m.decode_monmap()
        except DecodeError as exc:
            logger.warning("bad monmap: %s", exc)
            return
        self.monmap = monmap
        self._got_map("monmap", m, monmap.epoch)
        self._session_usable()

    def _handle_auth_reply(self, m: MAuthReply) -> None:
        self._renew_sent = 0.0
        auth = self.auth_client
        if m.result < 0 or not isinstance(auth, TicketRenewer):
            logger.warning("ticket renewal refused: %d %s", m.result,
                           m.result_msg)
            return
        try:
            auth.handle_ticket_reply(bytes(m.result_bl))
        except (AuthFailed, DecodeError) as exc:
            logger.warning("bad ticket reply: %s", exc)
            return
        self.link.map_received("tickets")

    def _handle_log(self, m: MLog) -> None:
        version = m.paxos.version
        if version <= self.log_version:
            return
        self.log_version = version
        for what, item in list(self.subs.items()):
            if what.startswith("log-"):
                self.subs[what] = SubscribeItem(version + 1, item.flags)
        self.maps["log"] = m
        self.link.map_received("log")

    def _got_map(self, what: str, m: Message, epoch: int) -> None:
        self.maps[what] = m
        item = self.subs.get(what)
        if item is not None:
            if item.flags & CEPH_SUBSCRIBE_ONETIME:
                del self.subs[what]
            elif epoch:
                self.subs[what] = SubscribeItem(max(item.start, epoch + 1), item.flags)
        self.link.map_received(what)

    # -- the tick ------------------------------------------------------------------------

    def tick(self, now: float, wall_now: float) -> float:
        """Hunting deadlines, keepalives, ticket renewal; seconds until the next tick."""
        opts = self.options
        if self.hunt is not None:
            if now >= self.hunt.deadline:
                logger.info("hunting: no monitor of %s answered within %.1f s "
                            "(round %d); trying again",
                            ", ".join(str(a) for a in self.hunt.conns.values()),
                            opts.hunt_interval * self._multiplier, self.hunts)
                self._failed.update(self.hunt.conns.values())
                self._multiplier = min(self._multiplier * opts.hunt_interval_backoff,
                                       opts.hunt_interval_max_multiple)
                self.reopen_session(now)
            hunt = self.hunt
            return max(0.01, hunt.deadline - now) if hunt is not None else opts.hunt_interval
        con = self.active
        if con is None:
            if self.auth_error is None and not self.closing:
                self.reopen_session(now)
            return opts.hunt_interval
        ack = self.link.last_keepalive_ack(con)
        if ack != self._last_ack_seen:
            self._last_ack_seen = ack
            self._last_ack_at = now
        if opts.ping_timeout > 0 and now - self._last_ack_at > opts.ping_timeout:
            logger.warning("no keepalive ack from %s for %.1f s, hunting",
                           self._active_addrs, now - self._last_ack_at)
            self.reopen_session(now)
            return opts.hunt_interval
        if now - self._last_ping >= opts.ping_interval:
            self.link.send_keepalive(con)
            self._last_ping = now
        self._check_tickets(con, now, wall_now)
        return max(0.01, min(opts.ping_interval - (now - self._last_ping), 1.0))

    def request_tickets(self, service_id: int, now: float, wall_now: float) -> bool:
        """Ask now for the service tickets we want when ``service_id``'s is missing
        (one MAuth at a time). True when its ticket is there (or not needed: no
        cephx, or the client does not want it)."""
        auth = self.auth_client
        ticket_for = getattr(auth, "ticket_for", None)
        want = getattr(auth, "want_keys", 0)
        if not isinstance(auth, TicketRenewer) or ticket_for is None \
                or not want & service_id or ticket_for(service_id, wall_now) is not None:
            return True
        con = self.active
        if con is not None and (not self._renew_sent or now - self._renew_sent >= RENEW_RETRY):
            self._send_ticket_request(con, now)
        return False

    def _send_ticket_request(self, con: C, now: float) -> None:
        auth = self.auth_client
        assert isinstance(auth, TicketRenewer)
        self._renew_sent = now
        self.renewals += 1
        epoch = self.monmap.epoch if self.monmap is not None else 0
        self.link.send(con, MAuth(protocol=CEPH_AUTH_CEPHX,
                                  auth_payload=auth.build_ticket_request(),
                                  monmap_epoch=epoch))

    def _check_tickets(self, con: C, now: float, wall_now: float) -> None:
        """Ask for tickets due for renewal (one MAuth at a time; again after 5 s)."""
        auth = self.auth_client
        if not isinstance(auth, TicketRenewer) or not auth.need_tickets(wall_now):
            return
        if self._renew_sent and now - self._renew_sent < RENEW_RETRY:
            return
        self._send_ticket_request(con, now)

    def describe_candidates(self) -> str:
        """The monitors a hunt would dial, for error messages."""
        return ", ".join(str(a) for a in self.hunt_candidates())


__all__ = [
    "CommandResult",
    "HuntRound",
    "MonAuthError",
    "MonClientClosed",
    "MonClientCore",
    "MonClientError",
    "MonClientOptions",
    "MonLink",
    "MonTimeout",
    "Request",
    "dial_target",
    "mgrmap_epoch",
    "osdmap_epochs",
]
