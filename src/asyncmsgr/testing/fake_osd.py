"""Fake OSDs: object I/O from memory, answered the way a Pacific primary answers.

A :class:`FakeOSD` is a Messenger named ``osd.N`` bound on 127.0.0.1 with
cephx (its own service tickets: authorizers are verified with the cluster's
KeyServer, as a real OSD verifies the tickets the mon issued) or auth none,
and this dispatcher. MOSDOps are taken on the fast-dispatch path:

* an op from a client whose map is older than the cluster's gets the current
  map first (MOSDMap, once per connection and epoch: ``maybe_share_map``);
* an op for a pool that does not exist is answered -ENOENT; an op sent to an
  OSD that is not the PG's acting primary is dropped, as Ceph drops misdirected
  ops (the client resends on its next map); while the OSD is down it answers
  nothing;
* PG ops (PGNLS) list a PG's objects; object ops run in
  :mod:`asyncmsgr.testing.fake_osd_ops` against the cluster's shared
  :class:`~asyncmsgr.testing.fake_store.ObjectStore`;
* op hooks (:meth:`~asyncmsgr.testing.fake_cluster.FakeCluster.add_op_hook`)
  may fail, delay or drop any op first.

Watches and notifies are kept by a :class:`WatchService` shared by the OSDs of
a cluster: NOTIFY sends MWatchNotify(NOTIFY) to every connected watcher, then
NOTIFY_COMPLETE (the acks and the timed-out watchers in the data segment) to the
notifier once every watcher acked or the notify timed out (-ETIMEDOUT). A
watcher whose connection resets is forgotten after its watch timeout unless it
reconnects.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from asyncmsgr.auth.base import AuthServer
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import DecodeError
from asyncmsgr.message import CEPH_MSG_PRIO_DEFAULT, Message, RawMessage
from asyncmsgr.messages.osd_op import MOSDOp
from asyncmsgr.messages.watch import MWatchNotify
from asyncmsgr.messenger import Messenger
from asyncmsgr.osd.op_codes import (
    CEPH_OSD_OP_TYPE,
    CEPH_OSD_OP_TYPE_PG,
    OsdFlag,
    WatchEvent,
    WatchOp,
)
from asyncmsgr.osd.op_data import (
    NotifyResult,
    WatchItem,
    decode_notify_ack_input,
    decode_notify_input,
    push_list_watchers_output,
    push_notify_result,
)
from asyncmsgr.osd.ops import OSDOp
from asyncmsgr.osd.types import PG, EVersion
from asyncmsgr.policy import Policy
from asyncmsgr.testing.fake_osd_ops import OpContext, OpError, execute
from asyncmsgr.testing.fake_osd_reply import execute_pg_op, make_reply
from asyncmsgr.testing.fake_store import ObjectKey
from asyncmsgr.types import EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.buffer import Writer

if TYPE_CHECKING:
    from asyncmsgr.testing.fake_cluster import FakeCluster

logger = logging.getLogger(__name__)
#: ``tuple.__new__``: builds a NamedTuple without its Python-level ``__new__``.
_new_tuple = tuple.__new__

#: ``osd_client_watch_timeout`` / ``osd_default_notify_timeout`` (seconds).
OSD_CLIENT_WATCH_TIMEOUT = 30
OSD_DEFAULT_NOTIFY_TIMEOUT = 30
_ONDISK = int(OsdFlag.ONDISK)
_ACK_ONDISK = int(OsdFlag.ACK) | _ONDISK
_PG_OP_MASK = CEPH_OSD_OP_TYPE
_PG_OP_TYPE = CEPH_OSD_OP_TYPE_PG


class OpRequest(NamedTuple):
    """What an op hook sees of an MOSDOp (read-only)."""

    osd: int
    pool: int
    pool_name: str
    nspace: str
    oid: str
    """The object name ("" for a PG op)."""
    ops: tuple[str, ...]
    """The ops' printed names (``writefull``, ``omap-get-vals`` ...)."""
    write: bool
    """The op vector asks to write (the MOSDOp's WRITE flag)."""
    client: EntityName
    message: MOSDOp


class OpFault(NamedTuple):
    """An op hook's decision (None from a hook means "run the op")."""

    result: int | None = None
    """Answer with this negative errno instead of running the op."""
    drop: bool = False
    """Never answer (as a misdirected op or a lost message)."""
    delay: float = 0.0
    """Seconds to wait before running (or failing) the op."""


OpHook = Callable[[OpRequest], "OpFault | None"]


@dataclass(slots=True)
class Watch:
    """One watch on an object."""

    name: EntityName
    cookie: int
    timeout: int
    con: Connection | None
    """None while the watcher's connection is down."""
    expiry: asyncio.TimerHandle | None = None


@dataclass(slots=True)
class PendingNotify:
    """A notify waiting for its watchers' acks."""

    notify_id: int
    con: Connection
    cookie: int
    notifier_gid: int
    ver: int
    waiting: set[tuple[int, int]]
    acks: dict[tuple[int, int], bytes] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


WatchKey = tuple[int, ObjectKey]


class WatchService:
    """Every watch and pending notify of a cluster (shared by its OSDs)."""

    def __init__(self) -> None:
        self.watches: dict[WatchKey, dict[tuple[EntityName, int], Watch]] = {}
        self.notifies: dict[int, PendingNotify] = {}
        self._next_notify = 0

    def watchers(self, obj: WatchKey) -> list[Watch]:
        """The watches of an object."""
        return list(self.watches.get(obj, {}).values())

    def watch(self, obj: WatchKey, name: EntityName, cookie: int, timeout: int,
              con: Connection, reconnect: bool) -> None:
        """Register (or reconnect) a watch; OpError(-ENOTCONN) for reconnecting an
        unknown one."""
        ws = self.watches.setdefault(obj, {})
        w = ws.get((name, cookie))
        if w is None:
            if reconnect:
                raise OpError(-errno.ENOTCONN)
            ws[(name, cookie)] = Watch(name, cookie, timeout or OSD_CLIENT_WATCH_TIMEOUT, con)
            return
        if w.expiry is not None:
            w.expiry.cancel()
            w.expiry = None
        w.con = con

    def ping(self, obj: WatchKey, name: EntityName, cookie: int) -> None:
        """A watch ping: OpError(-ENOTCONN) unless the watch is registered and connected."""
        w = self.watches.get(obj, {}).get((name, cookie))
        if w is None or w.con is None:
            raise OpError(-errno.ENOTCONN)

    def unwatch(self, obj: WatchKey, name: EntityName, cookie: int) -> None:
        """Remove a watch (no error if absent)."""
        ws = self.watches.get(obj)
        if ws is None:
            return
        w = ws.pop((name, cookie), None)
        if w is not None and w.expiry is not None:
            w.expiry.cancel()
        if not ws:
            del self.watches[obj]

    def drop_object(self, obj: WatchKey) -> None:
        """The object was deleted: its watches end."""
        for w in self.watches.pop(obj, {}).values():
            if w.expiry is not None:
                w.expiry.cancel()

    def connection_reset(self, con: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """A client connection went away: its watches expire after their timeout."""
        for obj, ws in list(self.watches.items()):
            for key, w in list(ws.items()):
                if w.con is con:
                    w.con = None
                    w.expiry = loop.call_later(w.timeout, self.unwatch, obj, *key)

    def next_notify_id(self, epoch: int) -> int:
        """Ceph's notify ids: ``epoch << 32 | counter``."""
        nid = (epoch << 32) | (self._next_notify & 0xFFFFFFFF)
        self._next_notify += 1
        return nid

    def finish(self, notify_id: int) -> None:
        """Send NOTIFY_COMPLETE for a pending notify (acks, timeouts) and forget it."""
        n = self.notifies.pop(notify_id, None)
        if n is None:
            return
        if n.timer is not None:
            n.timer.cancel()
        timeouts = frozenset(n.waiting)
        w = Writer()
        push_notify_result(w, NotifyResult(dict(n.acks), timeouts))
        done = MWatchNotify(opcode=WatchEvent.NOTIFY_COMPLETE, cookie=n.cookie, ver=n.ver,
                            notify_id=n.notify_id,
                            return_code=-errno.ETIMEDOUT if timeouts else 0,
                            notifier_gid=n.notifier_gid)
        done.data = w.getvalue()
        done.priority = CEPH_MSG_PRIO_DEFAULT
        n.con.send_message(done)


@dataclass(slots=True)
class _Session:
    """Per client connection: the last map epoch shared with it, the op hooks."""

    hooks: OsdOpHooks
    map_epoch: int = 0


class FakeOSD(Dispatcher):
    """One fake OSD (a bound Messenger plus this dispatcher)."""

    def __init__(self, osd_id: int, cluster: FakeCluster) -> None:
        self.id = osd_id
        self.cluster = cluster
        self.messenger: Messenger | None = None
        self.up = False
        self.ops = 0
        """MOSDOps answered."""
        self.dropped = 0
        """MOSDOps dropped (misdirected, down, or by a hook)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self.name = EntityName(EntityType.OSD, osd_id)

    @property
    def addrs(self) -> EntityAddrVec:
        """The bound addresses."""
        assert self.messenger is not None
        return self.messenger.my_addrs

    async def start(self, bind: str, config: MessengerConfig | None,
                    auth_server: AuthServer | None, nonce: int) -> None:
        """Bind ``bind`` (an address vector) and start answering."""
        self._loop = asyncio.get_running_loop()
        msgr = Messenger.create(self.name, config=config, auth_server=auth_server, nonce=nonce)
        msgr.set_policy(EntityType.CLIENT, Policy.stateless_server())
        msgr.add_dispatcher_head(self)
        await msgr.bindv(bind)
        msgr.start()
        self.messenger = msgr
        self.up = True

    async def stop(self) -> None:
        """Shut the messenger down (clients see their sessions reset)."""
        self.up = False
        msgr, self.messenger = self.messenger, None
        if msgr is not None:
            msgr.shutdown()
            await msgr.wait()

    # -- dispatcher --------------------------------------------------------------------

    def ms_can_fast_dispatch_any(self) -> bool:
        """MOSDOps are answered inline on the I/O loop."""
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        """MOSDOp only."""
        return type(m) is MOSDOp

    def ms_fast_dispatch(self, m: Message) -> None:
        """Answer an MOSDOp (see the module docstring)."""
        assert isinstance(m, MOSDOp)
        try:
            self._handle_op(m)
        except DecodeError as exc:
            logger.warning("osd.%d: bad op %s: %s", self.id, m.describe(), exc)

    def ms_dispatch(self, m: Message) -> bool:
        """Anything else from clients is ignored (a real OSD logs and drops it)."""
        return m.type in (MOSDOp.TYPE, 61)  # CEPH_MSG_OSD_BACKOFF acks need no answer

    def ms_handle_reset(self, con: Connection) -> bool:
        """A client went away: its watches start to expire."""
        if self._loop is not None:
            self.cluster.watches.connection_reset(con, self._loop)
        return False

    def ms_handle_remote_reset(self, con: Connection) -> None:
        """Same as a reset."""
        self.ms_handle_reset(con)

    # -- ops ----------------------------------------------------------------------------

    def _handle_op(self, m: MOSDOp) -> None:
        con = m.connection
        if con is None or not self.up:
            self.dropped += 1
            return
        cluster = self.cluster
        osdmap = cluster.osdmap
        epoch = osdmap.epoch
        sess = con.priv
        if sess is None or sess.__class__ is not _Session:
            sess = con.priv = _Session(hooks=OsdOpHooks(cluster, self, con))
        if m.osdmap_epoch < epoch and sess.map_epoch < epoch:
            sess.map_epoch = epoch
            con.send_message(cluster.osdmap_message(con.features))
        pgid = m.pgid.pgid
        pool = osdmap.pools.get(pgid.pool)
        if pool is None:
            self._send(con, self._error_reply(m, -errno.ENOENT, epoch))
            return
        pgop = False
        for op in m.ops:  # OpInfo::set_pg_op
            if op.op & _PG_OP_MASK == _PG_OP_TYPE:
                pgop = True
        h = m.hash
        mask = pool.pg_num_mask
        seed = h & mask if h & mask < pool.pg_num else h & (mask >> 1)  # ceph_stable_mod
        if seed != pgid.seed:  # the client's map places it elsewhere
            pgid = PG(pgid.pool, seed)
        if cluster.primary(pgid) != self.id:
            self.dropped += 1
            logger.info("osd.%d: misdirected %s (primary is osd.%d)", self.id, m.describe(),
                        cluster.primary(pgid))
            return
        if cluster.op_hooks:
            fault = self._ask_hooks(m, pgid.pool)
            if fault is not None:
                if fault.drop:
                    self.dropped += 1
                    return
                if fault.delay > 0 and self._loop is not None:
                    self._loop.call_later(fault.delay, self._run_faulted, m, pgid, pgop, fault)
                    return
                if fault.result is not None:
                    self._send(con, self._error_reply(m, fault.result, epoch))
                    return
        self._run(m, pgid, pgop)

    def _run_faulted(self, m: MOSDOp, pgid: PG, pgop: bool, fault: OpFault) -> None:
        con = m.connection
        if con is None or not self.up:
            return
        if fault.result is not None:
            self._send(con, self._error_reply(m, fault.result, self.cluster.osdmap.epoch))
        else:
            self._run(m, pgid, pgop)

    def _run(self, m: MOSDOp, pgid: PG, pgop: bool) -> None:
        con = m.connection
        assert con is not None
        cluster = self.cluster
        pg = cluster.store.pg(pgid)
        epoch = cluster.osdmap.epoch
        if pgop:
            reply = self._pg_op(m, pg.pgid, epoch)
        else:
            loc = m.oloc
            key = _new_tuple(ObjectKey, (loc.nspace, loc.key, m.oid))
            obj = pg.objects.get(key)
            sess = con.priv
            hooks = sess.hooks if sess.__class__ is _Session else OsdOpHooks(cluster, self, con)
            reply = execute(OpContext(m, pg, key, m.hash, obj, epoch, cluster.now), hooks)
            if obj is not None and cluster.watches.watches and key not in pg.objects:
                cluster.watches.drop_object((pgid.pool, key))
        self.ops += 1
        con.send_message(reply)

    def _send(self, con: Connection, reply: RawMessage) -> None:
        self.ops += 1
        con.send_message(reply)

    def _ask_hooks(self, m: MOSDOp, pool_id: int) -> OpFault | None:
        cluster = self.cluster
        req = OpRequest(self.id, pool_id, cluster.osdmap.pool_name.get(pool_id, ""),
                        m.oloc.nspace, m.oid, tuple(op.name for op in m.ops),
                        bool(m.flags & OsdFlag.WRITE), m.src, m)
        for hook in list(cluster.op_hooks):
            fault = hook(req)
            if fault is not None:
                return fault
        return None

    @staticmethod
    def _error_reply(m: MOSDOp, result: int, epoch: int) -> RawMessage:
        """``reply_op_error``: the ops echoed, ONDISK only, versions zero."""
        return make_reply(m, result, m.ops, m.flags & _ONDISK, epoch, EVersion(), 0)

    def _pg_op(self, m: MOSDOp, pgid: PG, epoch: int) -> RawMessage:
        """PG ops (PGNLS) on the PG's store."""
        pool = self.cluster.osdmap.pools[pgid.pool]
        return execute_pg_op(m, self.cluster.store.pg(pgid), pool.pg_num, epoch)


class OsdOpHooks:
    """The executor's hooks for one op: watches, notifies, object classes."""

    __slots__ = ("cluster", "con", "osd")

    def __init__(self, cluster: FakeCluster, osd: FakeOSD, con: Connection) -> None:
        self.cluster = cluster
        self.osd = osd
        self.con = con

    def do_watch(self, ctx: OpContext, op: OSDOp) -> None:
        """WATCH: watch, reconnect, ping or unwatch."""
        w = op.watch
        obj = (ctx.pg.pgid.pool, ctx.key)
        svc = self.cluster.watches
        name = ctx.m.src
        if w.op == WatchOp.PING:
            svc.ping(obj, name, w.cookie)
        elif w.op == WatchOp.UNWATCH:
            svc.unwatch(obj, name, w.cookie)
        elif w.op in (WatchOp.WATCH, WatchOp.LEGACY_WATCH, WatchOp.RECONNECT):
            svc.watch(obj, name, w.cookie, w.timeout, self.con, w.op == WatchOp.RECONNECT)
        else:
            raise OpError(-errno.EINVAL)

    def do_notify(self, ctx: OpContext, op: OSDOp) -> bytes:
        """NOTIFY: send the event to every connected watcher; reply the notify id."""
        try:
            inp = decode_notify_input(op.indata)
        except DecodeError:
            raise OpError(-errno.EINVAL) from None
        svc = self.cluster.watches
        obj = ctx.need()
        notify_id = svc.next_notify_id(ctx.epoch)
        watchers = svc.watchers((ctx.pg.pgid.pool, ctx.key))
        gid = ctx.m.src.num
        n = PendingNotify(notify_id, self.con, op.notify_cookie, gid, obj.user_version,
                          {(w.name.num, w.cookie) for w in watchers})
        svc.notifies[notify_id] = n
        for w in watchers:
            if w.con is None:
                continue
            ev = MWatchNotify(opcode=WatchEvent.NOTIFY, cookie=w.cookie, ver=obj.user_version,
                              notify_id=notify_id, bl=bytes(inp.payload), notifier_gid=gid)
            ev.priority = CEPH_MSG_PRIO_DEFAULT
            w.con.send_message(ev)
        loop = asyncio.get_running_loop()
        if n.waiting:
            n.timer = loop.call_later(inp.timeout or OSD_DEFAULT_NOTIFY_TIMEOUT,
                                      svc.finish, notify_id)
        else:
            loop.call_soon(svc.finish, notify_id)  # after the op reply
        w8 = Writer()
        w8.push_u64(notify_id)
        return w8.getvalue()

    def do_notify_ack(self, ctx: OpContext, op: OSDOp) -> None:
        """NOTIFY_ACK: record the watcher's reply; complete the notify when all acked."""
        try:
            ack = decode_notify_ack_input(op.indata)
        except DecodeError:
            raise OpError(-errno.EINVAL) from None
        svc = self.cluster.watches
        n = svc.notifies.get(ack.notify_id)
        if n is None:
            return  # late ack: the notify already finished
        who = (ctx.m.src.num, ack.cookie)
        n.waiting.discard(who)
        n.acks[who] = ack.reply
        if not n.waiting:
            asyncio.get_running_loop().call_soon(svc.finish, ack.notify_id)

    def list_watchers(self, ctx: OpContext) -> bytes:
        """LIST_WATCHERS: ``obj_list_watch_response_t``."""
        items = []
        for w in self.cluster.watches.watchers((ctx.pg.pgid.pool, ctx.key)):
            con = w.con
            addr = con.peer_addr if con is not None else self.con.peer_addr
            items.append(WatchItem(w.name, w.cookie, w.timeout, addr))
        w8 = Writer()
        push_list_watchers_output(w8, items, self.con.features)
        return w8.getvalue()

    def call(self, ctx: OpContext, cls: str, method: str, indata: bytes) -> bytes:
        """CALL: a registered object class method, else EOPNOTSUPP."""
        entry = self.cluster.cls_methods.get((cls, method))
        if entry is None:
            raise OpError(-errno.EOPNOTSUPP)
        return entry.call(ctx, indata)

    def is_write_call(self, cls: str, method: str) -> bool:
        """Whether a registered method writes."""
        entry = self.cluster.cls_methods.get((cls, method))
        return entry is not None and entry.write


__all__ = [
    "OSD_CLIENT_WATCH_TIMEOUT",
    "OSD_DEFAULT_NOTIFY_TIMEOUT",
    "FakeOSD",
    "OpFault",
    "OpHook",
    "OpRequest",
    "OsdOpHooks",
    "PendingNotify",
    "Watch",
    "WatchService",
]
