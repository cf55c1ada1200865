"""An in-process stand-in for Ceph monitors, for MonClient tests without a cluster.

:class:`FakeMonCluster` binds ``n`` messengers named ``mon.0`` ... on 127.0.0.1,
each answering the monitor client protocol the way a Pacific mon does for a
client: MMonGetMap and a ``monmap`` subscription → MMonMap (all mons of the
cluster), a ``config`` subscription → MConfig, MMonGetVersion → a reply,
MMonCommand → :attr:`FakeMon.handler`'s ``(r, rs, outbuf)`` (default: ``status``,
``version``, ``health``, ``mon dump`` with JSON output, ``-EINVAL`` otherwise).
Client sessions are lossy (``stateless_server``), as on a real mon.

``msgr`` picks what the mons bind: ``"v2"`` (default), ``"v1"`` or ``"v2+v1"``.
Over msgr v1 a client connects without an authorizer (the dispatcher's
``require_authorizer`` is False, as a monitor's) and authenticates with MAuth:
a :class:`~asyncmsgr.auth.cephx.CephxAuthServer` answers through
:meth:`~asyncmsgr.auth.cephx.CephxAuthServer.handle_mauth` (cephx, or none when
it allows it, and ticket renewals), any other auth server with auth none when
its methods list it. Anything but a subscription a v1 client sends before it is
authenticated is dropped (counted in :attr:`FakeMon.dropped`).
When a v1 client's MAuth exchange completes the mon pushes MMonMap (if the
client's monmap is older) and answers the subscriptions the client sent ahead of
the reply (librados pipelines ``config`` and ``monmap``: MConfig), as a Pacific
mon does (``AuthMonitor::prep_auth``); anything else sent early is dropped. The monmap carries
Pacific's persistent features and ``min_mon_release`` 16, so librados sends
``tell mon.X`` as an MCommand on a connection of its own (answered by
:attr:`FakeMonCluster.backend`'s tell handler, else ``version`` only).

By default each mon runs one worker thread, so :meth:`FakeMon.freeze` can stall it
the way SIGSTOP stalls a daemon: nothing is read, answered or acknowledged until
:meth:`FakeMon.thaw`; ``threaded=False`` runs them on the caller's loop instead.

A :class:`MonBackend` (the whole fake cluster of :mod:`asyncmsgr.testing.fake_cluster`)
may take over what a bare set of mons cannot answer: commands, other map
subscriptions (osdmap, mgrmap), pool operations and statistics.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from asyncmsgr.auth.base import AuthServer
from asyncmsgr.auth.cephx.server import CephxAuthServer, MonSession
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import DecodeError
from asyncmsgr.frames.v2 import AUTH_NONE
from asyncmsgr.message import Message
from asyncmsgr.messages import (
    MAuth,
    MAuthReply,
    MCommand,
    MCommandReply,
    MConfig,
    MMonCommand,
    MMonCommandAck,
    MMonGetMap,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MonInfo,
    MonMap,
)
from asyncmsgr.messages.monmap import CephRelease, ElectionStrategy
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityName, EntityType, UTime
from asyncmsgr.wire.buffer import Reader, pull_u32_item

logger = logging.getLogger(__name__)

FAKE_FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000fa4e")
FAKE_VERSION = "ceph version 16.2.15 (asyncmsgr fake mon) pacific (stable)"

CommandHandler = Callable[[list[str], bytes], tuple[int, str, bytes]]
#: ``ceph::features::mon`` bits a Pacific quorum has committed to (kraken ... pacific,
#: elector-pinging): ``MonMap.persistent_features`` of a Pacific cluster.
PACIFIC_MON_FEATURES = 0xFF
#: What the fake mons bind.
FakeMsgr = Literal["v2", "v1", "v2+v1"]
_BIND = {"v2": "v2:127.0.0.1:0", "v1": "v1:127.0.0.1:0",
         "v2+v1": "[v2:127.0.0.1:0,v1:127.0.0.1:0]"}


@dataclass(slots=True)
class _ClientAuth:
    """A client connection's MAuth state (kept in ``con.priv``)."""

    cephx: MonSession | None = None
    authenticated: bool = False
    early_subs: list[MMonSubscribe] = field(default_factory=list)
    """Subscriptions sent before the MAuth exchange completed (librados pipelines
    them); answered once it does."""


@dataclass
class FakeMon(Dispatcher):
    """One fake monitor (a bound Messenger plus this dispatcher)."""

    rank: int
    cluster: FakeMonCluster
    messenger: Messenger | None = None
    handler: CommandHandler | None = None
    commands: list[list[str]] = field(default_factory=list)
    """Every command received (also from connections that then failed)."""
    config: dict[str, str] = field(default_factory=dict)
    mauths: list[tuple[int, int]] = field(default_factory=list)
    """``(protocol, result)`` of every MAuth received and its reply."""
    dropped: int = 0
    """Messages dropped because a v1 client sent them before authenticating."""
    auth_server: AuthServer | None = None
    _thawed: threading.Event = field(default_factory=threading.Event)

    require_authorizer = False  # msgr v1 clients authenticate later, with MAuth

    @property
    def name(self) -> str:
        """``a``, ``b``, ... as in a monmap."""
        return chr(ord("a") + self.rank)

    @property
    def addrs(self) -> EntityAddrVec:
        """The bound address vector."""
        assert self.messenger is not None
        return self.messenger.my_addrs

    async def start(self, config: MessengerConfig | None,
                    auth_server: AuthServer | None, msgr: FakeMsgr = "v2", *,
                    threaded: bool = True, bind: str | None = None) -> None:
        """Bind free ports on 127.0.0.1 (``msgr``: which protocols; ``bind``: an
        address vector with fixed ports instead) and start.

        The nonce is 0, as a real mon's, so ``-m v1:IP:PORT`` (nonce 0) reaches it:
        a msgr v1 client refuses a server whose banner names another nonce.
        ``threaded`` runs the mon's I/O on a worker thread of its own (needed by
        :meth:`freeze`), else on the caller's loop.
        """
        cfg = config or MessengerConfig()
        if threaded:
            cfg = cfg.replace(asyncmsgr_embedded=False, ms_async_op_threads=1)
        messenger = Messenger.create(EntityName(EntityType.MON, self.rank), config=cfg,
                                     auth_server=auth_server, nonce=0)
        messenger.set_policy(EntityType.CLIENT, Policy.stateless_server())
        messenger.add_dispatcher_head(self)
        await messenger.bindv(bind or _BIND[msgr])
        messenger.start()
        self.auth_server = messenger.auth_server
        self.messenger = messenger

    def freeze(self, timeout: float = 10.0) -> None:
        """Stall the mon's worker thread (no reads, replies or keepalive acks).

        Returns once the worker is stalled, so nothing sent to the mon after
        the call is read before :meth:`thaw` (the stall is a callback queued to
        the worker, which may first serve I/O already readable).

        Raises:
            RuntimeError: the mon runs on the caller's thread (``threaded=False``).
            TimeoutError: the worker did not stall within ``timeout`` seconds
                (the mon is thawed again).
        """
        assert self.messenger is not None
        self._thawed.clear()
        stalled = threading.Semaphore(0)

        def stall() -> None:
            stalled.release()
            self._thawed.wait()

        workers = self.messenger.workers
        for worker in workers:
            if worker.center.in_thread():
                raise RuntimeError("freeze() needs a threaded mon (start(threaded=True))")
            if not worker.center.dispatch_event_external(stall):
                raise RuntimeError("the mon's worker is stopped")
        for _ in workers:
            if not stalled.acquire(timeout=timeout):
                self.thaw()
                raise TimeoutError(f"the mon's worker did not stall within {timeout:g} s")

    def thaw(self) -> None:
        """Let a frozen mon run again."""
        self._thawed.set()

    async def stop(self) -> None:
        """Shut the messenger down (clients see their sessions reset)."""
        self.thaw()
        msgr, self.messenger = self.messenger, None
        if msgr is not None:
            msgr.shutdown()
            await msgr.wait()

    def ms_dispatch(self, m: Message) -> bool:
        """Answer as a mon answers a client."""
        con = m.connection
        if con is None:
            return False
        if isinstance(m, MAuth):
            self._handle_mauth(con, m)
            return True
        if not con.is_msgr2 and not self._authenticated(con):
            st = con.priv
            if isinstance(m, MMonSubscribe) and isinstance(st, _ClientAuth) and \
                    len(st.early_subs) < 8:
                st.early_subs.append(m)
                return True
            self.dropped += 1
            logger.info("fake mon.%s: %r from an unauthenticated v1 client dropped",
                        self.name, m)
            return True
        backend = self.cluster.backend
        if isinstance(m, MMonGetMap):
            con.send_message(MMonMap.from_monmap(self.cluster.monmap()))
        elif isinstance(m, MMonSubscribe):
            if "monmap" in m.what:
                con.send_message(MMonMap.from_monmap(self.cluster.monmap()))
            if "config" in m.what:
                con.send_message(self._config_message(con))
            if backend is not None:
                backend.subscribe(self, con, m)
        elif backend is not None and backend.mon_dispatch(self, m):
            pass
        elif isinstance(m, MCommand):
            self._handle_tell(con, m)
        elif isinstance(m, MMonGetVersion):
            con.send_message(MMonGetVersionReply(handle=m.handle, map_version=1,
                                                 oldest_version=1))
        elif isinstance(m, MMonCommand):
            self.commands.append(list(m.cmd))
            handler = self.handler or self.cluster.default_handler
            r, rs, out = handler(list(m.cmd), bytes(m.data))
            ack = MMonCommandAck(r=r, rs=rs, cmd=list(m.cmd), data=out)
            ack.tid = m.tid
            con.send_message(ack)
        else:
            return False
        return True

    def _config_message(self, con: Connection) -> MConfig:
        backend = self.cluster.backend
        if backend is not None:
            return MConfig(config=backend.client_config(con.peer_name))
        return MConfig(config=dict(self.config))

    def _handle_tell(self, con: Connection, m: MCommand) -> None:
        """``tell mon.X``: an MCommand answered with an MCommandReply (same tid)."""
        self.commands.append(list(m.cmd))
        backend = self.cluster.backend
        if backend is not None:
            r, rs, out = backend.tell(self, list(m.cmd), bytes(m.data))
        else:
            r, rs, out = self.cluster.default_tell(list(m.cmd))
        reply = MCommandReply(r=r, rs=rs)
        reply.data = out
        reply.tid = m.tid
        con.send_message(reply)

    @staticmethod
    def _authenticated(con: Connection) -> bool:
        st = con.priv
        return isinstance(st, _ClientAuth) and st.authenticated

    def _handle_mauth(self, con: Connection, m: MAuth) -> None:
        """Answer MAuth as a mon's AuthMonitor does (one MAuthReply each)."""
        st = con.priv
        if not isinstance(st, _ClientAuth):
            st = con.priv = _ClientAuth()
        server = self.auth_server
        if isinstance(server, CephxAuthServer):
            res = server.handle_mauth(st.cephx, m.protocol, bytes(m.auth_payload))
            st.cephx = res.session
            reply = MAuthReply(protocol=res.protocol, result=res.result,
                               global_id=res.global_id, result_bl=res.result_bl)
            done = res.protocol == AUTH_NONE or (
                res.session is not None and res.session.authenticated)
        else:
            reply = self._none_mauth(m)
            done = True
        if reply.result == 0 and done and not st.authenticated:
            st.authenticated = True
            self.mauths.append((m.protocol, reply.result))
            con.send_message(reply)
            # AuthMonitor::prep_auth: the latest monmap, then the subscriptions the
            # client sent ahead of the reply (ConfigMonitor::check_sub: its config)
            monmap = self.cluster.monmap()
            if m.monmap_epoch < monmap.epoch:
                con.send_message(MMonMap.from_monmap(monmap))
            early, st.early_subs = st.early_subs, []
            for sub in early:
                self.ms_dispatch(sub)
            return
        self.mauths.append((m.protocol, reply.result))
        con.send_message(reply)

    def _none_mauth(self, m: MAuth) -> MAuthReply:
        """Auth none: the hello must offer it and the auth server allow it."""
        allowed = self.auth_server is not None and AUTH_NONE in \
            self.auth_server.get_supported_auth_methods(EntityType.CLIENT)[0]
        if m.protocol != 0:
            return MAuthReply(protocol=m.protocol, result=-errno.EINVAL)
        try:
            r = Reader(bytes(m.auth_payload))
            r.pull_u8()
            methods = r.pull_list(pull_u32_item, 4)
        except DecodeError:
            return MAuthReply(result=-errno.EINVAL)
        if not allowed or AUTH_NONE not in methods:
            return MAuthReply(result=-errno.EOPNOTSUPP)
        return MAuthReply(protocol=AUTH_NONE, global_id=self.cluster.next_global_id())


class MonBackend(Protocol):
    """What a richer cluster answers for its mons (see :class:`FakeMonCluster`)."""

    def mon_dispatch(self, mon: FakeMon, m: Message) -> bool:
        """Handle a message the bare mon does not (True: handled)."""
        ...

    def subscribe(self, mon: FakeMon, con: Connection, m: MMonSubscribe) -> None:
        """Note the subscriptions other than monmap and config (osdmap, mgrmap)."""

    def tell(self, mon: FakeMon, cmd: list[str], inbuf: bytes) -> tuple[int, str, bytes]:
        """Answer ``tell mon.X`` (an MCommand)."""
        ...

    def client_config(self, name: EntityName) -> dict[str, str]:
        """The MConfig options for a client."""
        ...


class FakeMonCluster:
    """``n`` fake mons sharing one monmap; ``async with`` starts and stops them.

    ``backend`` answers what bare mons cannot (commands, osdmap subscriptions,
    pool operations, tell); ``threaded`` gives each mon a worker thread (needed
    by :meth:`FakeMon.freeze`); ``binds`` gives each mon fixed addresses.
    """

    def __init__(self, n: int = 1, *, config: MessengerConfig | None = None,
                 auth_server_factory: Callable[[], AuthServer] | None = None,
                 msgr: FakeMsgr = "v2", backend: MonBackend | None = None,
                 threaded: bool = True, binds: Sequence[str] | None = None,
                 fsid: uuid.UUID = FAKE_FSID, created: UTime | None = None) -> None:
        if msgr not in _BIND:
            raise ValueError(f"msgr must be one of {', '.join(_BIND)}, not {msgr!r}")
        if binds is not None and len(binds) != n:
            raise ValueError(f"{n} mons need {n} bind addresses, got {len(binds)}")
        self.mons = [FakeMon(rank, self) for rank in range(n)]
        self.config = config
        self.auth_server_factory = auth_server_factory
        self.msgr: FakeMsgr = msgr
        self.fsid = fsid
        self.backend = backend
        self.threaded = threaded
        self.binds = list(binds) if binds is not None else None
        self.created = created or UTime()
        self._global_ids = itertools.count(8192)

    def next_global_id(self) -> int:
        """A global_id no client of this cluster had (auth none over MAuth)."""
        return next(self._global_ids)

    async def start(self) -> None:
        """Start every mon."""
        for mon in self.mons:
            server = self.auth_server_factory() if self.auth_server_factory else None
            bind = self.binds[mon.rank] if self.binds is not None else None
            await mon.start(self.config, server, self.msgr, threaded=self.threaded, bind=bind)

    async def stop(self) -> None:
        """Stop every mon still running."""
        for mon in self.mons:
            await mon.stop()

    async def __aenter__(self) -> FakeMonCluster:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def addrs(self) -> list[EntityAddrVec]:
        """Every mon's addresses (for ``mon_host``)."""
        return [mon.addrs for mon in self.mons if mon.messenger is not None]

    def monmap(self) -> MonMap:
        """The monmap every mon serves (running mons only)."""
        infos = {mon.name: MonInfo(name=mon.name, public_addrs=mon.addrs)
                 for mon in self.mons if mon.messenger is not None}
        return MonMap(fsid=self.fsid, epoch=1, mon_info=infos, ranks=tuple(infos),
                      last_changed=self.created, created=self.created,
                      persistent_features=PACIFIC_MON_FEATURES,
                      min_mon_release=CephRelease.PACIFIC, strategy=ElectionStrategy.CLASSIC)

    def default_tell(self, cmd: Sequence[str]) -> tuple[int, str, bytes]:
        """``tell mon.X version``; -EINVAL otherwise."""
        try:
            req = json.loads(cmd[0]) if cmd else {}
        except ValueError:
            return -22, "invalid JSON command", b""
        if req.get("prefix") == "version":
            out = {"version": "16.2.15", "release": "pacific", "release_type": "stable"}
            return 0, "", json.dumps(out).encode()
        return -22, f"unrecognized command prefix {req.get('prefix')!r}", b""

    def default_handler(self, cmd: Sequence[str], inbuf: bytes) -> tuple[int, str, bytes]:
        """``status``, ``version``, ``health``, ``mon dump``; -EINVAL otherwise."""
        try:
            req = json.loads(cmd[0]) if cmd else {}
        except ValueError:
            return -22, "invalid JSON command", b""
        prefix = req.get("prefix")
        names = [mon.name for mon in self.mons if mon.messenger is not None]
        if prefix == "status":
            out: object = {"fsid": str(self.fsid), "health": {"status": "HEALTH_OK"},
                           "quorum_names": names}
        elif prefix == "version":
            out = {"version": FAKE_VERSION}
        elif prefix == "health":
            out = {"status": "HEALTH_OK", "checks": {}, "mutes": []}
        elif prefix == "mon dump":
            out = {"epoch": 1, "fsid": str(self.fsid),
                   "mons": [{"rank": i, "name": n} for i, n in enumerate(names)]}
            return 0, "dumped monmap epoch 1", json.dumps(out).encode()
        else:
            return -22, f"unrecognized command prefix {prefix!r}", b""
        return 0, "", json.dumps(out).encode()


__all__ = ["FAKE_FSID", "FAKE_VERSION", "PACIFIC_MON_FEATURES", "FakeMon", "FakeMonCluster",
           "FakeMsgr", "MonBackend"]
