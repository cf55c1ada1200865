"""A minimal RADOS test driver: the messenger, a MonClient and the OSD messages only.

Not an Objecter: placement comes from the real ``ceph osd map`` (the PG, the
object's full hash from ``raw_pgid`` and the acting primary) and the OSD's
address from ``ceph osd dump``; the osdmap epoch from MMonGetVersion. The
MonClient authenticates (cephx tickets for the OSD come with it); the driver then
opens a lossy client connection to the primary OSD on the same messenger and
sends MOSDOps, matching MOSDOpReplies by tid. MWatchNotify and mon replies
(MPoolOpReply, MStatfsReply, MGetPoolStatsReply) are collected too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from ceph_cluster import CephCluster

from asyncmsgr.auth.base import AuthClient, ModeOptions
from asyncmsgr.auth.cephx import CephxClient, Keyring
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import Message
from asyncmsgr.messages import MOSDOp, MOSDOpReply, MWatchNotify
from asyncmsgr.monc.client import MonClient, MonClientOptions
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.types import PG, SPG, ObjectLocator
from asyncmsgr.policy import Policy
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType, UTime

FAST = MonClientOptions(hunt_interval=0.5, ping_interval=0.5, ping_timeout=5.0,
                        mount_timeout=20.0)
#: Objecter's ``osd_client_op_priority``.
OSD_OP_PRIORITY = 63
WRITE_FLAGS = OsdFlag.ONDISK | OsdFlag.WRITE | OsdFlag.KNOWN_REDIR
READ_FLAGS = OsdFlag.ONDISK | OsdFlag.READ | OsdFlag.KNOWN_REDIR


def make_auth(cluster: CephCluster, method: str, mode: str) -> AuthClient:
    """client.admin with ``cephx`` or ``none``; msgr2 ``crc`` or ``secure`` everywhere."""
    modes = ModeOptions(mon_client=mode, client=mode)
    name = AuthName(EntityType.CLIENT, "admin")
    if method == "none":
        return AuthNoneClient(name, modes=modes)
    key = Keyring.from_file(str(cluster.keyring_path)).get(name)
    return CephxClient(name, key, clock=time.time, modes=modes)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where ``ceph osd map`` puts an object."""

    pool: int
    pgid: PG
    hash: int
    primary: int


def osd_map(cluster: CephCluster, pool: str, name: str, nspace: str = "") -> Placement:
    """``ceph osd map POOL NAME [NSPACE]``: the PG, the full hash and the primary."""
    args = ["osd", "map", pool, name] + ([nspace] if nspace else [])
    out = cluster.ceph_json(*args)
    assert isinstance(out, dict)
    raw = PG.parse(out["raw_pgid"])
    return Placement(int(out["pool_id"]), PG.parse(out["pgid"]), raw.seed,
                     int(out["acting_primary"]))


@dataclass
class _Collector(Dispatcher):
    replies: dict[int, asyncio.Future[MOSDOpReply]] = field(default_factory=dict)
    others: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    resets: int = 0

    def ms_dispatch(self, m: Message) -> bool:
        if isinstance(m, MOSDOpReply):
            fut = self.replies.get(m.tid)
            if fut is not None and not fut.done():
                fut.set_result(m)
            return True
        self.others.put_nowait(m)
        return True

    def ms_handle_reset(self, con: Connection) -> bool:
        self.resets += 1
        return False


class OsdDriver:
    """One client: a MonClient and lossy connections to OSDs on its messenger."""

    def __init__(self, cluster: CephCluster, *, method: str = "cephx", mode: str = "crc",
                 config: Any = None) -> None:
        self.cluster = cluster
        self.monc = MonClient([EntityAddrVec.parse(a) for a in cluster.mon_addrs],
                              auth_client=make_auth(cluster, method, mode), options=FAST,
                              config=config)
        self.collector = _Collector()
        self._tid = 0
        self.epoch = 0
        self._osd_addrs: dict[int, EntityAddrVec] = {}
        self._placements: dict[tuple[str, str, str], Placement] = {}

    async def __aenter__(self) -> Self:
        await self.monc.connect()
        msgr = self.monc.messenger
        msgr.set_policy(EntityType.OSD, Policy.lossy_client())
        msgr.add_dispatcher_tail(self.collector)
        self.epoch, _ = await self.monc.get_version("osdmap")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.monc.shutdown()

    def osd_connection(self, osd_id: int) -> Connection:
        """The (lossy) connection to ``osd.ID``'s public address (``ceph osd dump``,
        asked once per OSD: the CLI blocks the event loop while it runs)."""
        addrs = self._osd_addrs.get(osd_id)
        if addrs is None:
            addrs = EntityAddrVec.parse(self.cluster.osd_addrs(osd_id))
            self._osd_addrs[osd_id] = addrs
        return self.monc.messenger.connect_to(EntityType.OSD, addrs)

    def placement(self, pool: str, name: str, nspace: str = "") -> Placement:
        """:func:`osd_map`, asked once per object."""
        key = (pool, name, nspace)
        where = self._placements.get(key)
        if where is None:
            where = self._placements[key] = osd_map(self.cluster, pool, name, nspace)
        return where

    def next_tid(self) -> int:
        """A new tid for an op."""
        self._tid += 1
        return self._tid

    def make_op(self, where: Placement, oid: str, ops: Sequence[OSDOp], flags: int, *,
                nspace: str = "", key: str = "") -> MOSDOp:
        """An MOSDOp for object ``oid`` as the Objecter builds one."""
        m = MOSDOp(pgid=SPG(where.pgid), hash=where.hash, osdmap_epoch=self.epoch,
                   flags=flags, mtime=UTime.from_float(time.time()),
                   oloc=ObjectLocator(where.pool, key, nspace), oid=oid, ops=list(ops),
                   retry_attempt=0, features=CEPH_FEATURES_ALL)
        m.tid = self.next_tid()
        m.priority = OSD_OP_PRIORITY
        return m

    async def send(self, osd_id: int, m: MOSDOp, timeout: float = 20.0) -> MOSDOpReply:
        """Send ``m`` to ``osd.ID`` and wait for the reply with its tid."""
        fut: asyncio.Future[MOSDOpReply] = asyncio.get_running_loop().create_future()
        self.collector.replies[m.tid] = fut
        self.osd_connection(osd_id).send_message(m)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.collector.replies.pop(m.tid, None)

    async def do(self, pool: str, oid: str, ops: Sequence[OSDOp], flags: int, *,
                 nspace: str = "", key: str = "") -> MOSDOpReply:
        """Map with ``ceph osd map`` (the key when given), send to the primary, wait."""
        where = self.placement(pool, key or oid, nspace)
        return await self.send(where.primary, self.make_op(where, oid, ops, flags,
                                                           nspace=nspace, key=key))

    async def next_event(self, kind: type[Message], timeout: float = 20.0) -> Message:
        """The next collected message of ``kind`` (others are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                m = await self.collector.others.get()
                if isinstance(m, kind):
                    return m

    async def watch_event(self, timeout: float = 20.0) -> MWatchNotify:
        """The next MWatchNotify."""
        m = await self.next_event(MWatchNotify, timeout)
        assert isinstance(m, MWatchNotify)
        return m


__all__ = ["FAST", "READ_FLAGS", "WRITE_FLAGS", "OsdDriver", "Placement", "make_auth",
           "osd_map"]
