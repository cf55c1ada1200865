"""A socket-free world for the Objecter: hand-built OSDMaps, a fake messenger and mons.

* :func:`make_osdmap` builds a Pacific-shaped OSDMap in Python (one straw2 root of
  ``num_osds`` OSDs, a replicated rule ``chooseleaf firstn 0 type osd``, pools).
* :class:`FakeMessenger` hands out :class:`FakeConnection` objects that record the
  messages sent (encoded with the peer's features, as a real connection would);
  ``reset(con)`` makes the Objecter see a lossy connection fail.
* :class:`FakeMonClient` is what the Objecter uses of a MonClient (the monmap's
  fsid, ``sub_want``, ``get_version``, the messenger).
* :class:`World` ties them to an :class:`~asyncmsgr.osdc.objecter.Objecter` and
  plays the cluster: publishing maps (full or incremental MOSDMaps), answering ops.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.crush.map import (
    CrushMap,
    CrushRule,
    CrushRuleStep,
    CrushTunables,
    RuleOp,
    Straw2Bucket,
)
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import Message
from asyncmsgr.messages import MonMap, MOSDMap, MOSDOp, MOSDOpReply
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.mapcommon import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_IN,
    CEPH_OSD_UP,
    CEPH_OSDMAP_SORTBITWISE,
    CEPH_RELEASE_PACIFIC,
)
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import FLAG_HASHPSPOOL, PgPool
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.osdc.objecter import Objecter
from asyncmsgr.osdc.op import ObjecterOptions
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName, EntityType, UTime

FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")


def osd_addrs(osd: int, nonce: int = 1) -> EntityAddrVec:
    """A v2 address for ``osd.N`` (the nonce tells restarts apart)."""
    return EntityAddrVec.parse(f"[v2:127.0.0.1:{6800 + osd}/{nonce}]")


def make_crush(num_osds: int) -> CrushMap:
    """One straw2 root holding every OSD; rule 0 replicated, chooseleaf over OSDs."""
    items = tuple(range(num_osds))
    root = Straw2Bucket(id=-1, type=1, weight=0x10000 * num_osds, items=items,
                        item_weights=(0x10000,) * num_osds)
    rule = CrushRule(ruleset=0, type=1, min_size=1, max_size=10, steps=(
        CrushRuleStep(RuleOp.TAKE, -1), CrushRuleStep(RuleOp.CHOOSELEAF_FIRSTN, 0, 0),
        CrushRuleStep(RuleOp.EMIT)))
    return CrushMap(buckets=(root,), rules=(rule,), max_devices=num_osds,
                    type_map={0: "osd", 1: "root"},
                    name_map={-1: "default", **{i: f"osd.{i}" for i in items}},
                    rule_name_map={0: "replicated_rule"}, tunables=CrushTunables.optimal())


def make_pool(pg_num: int = 8, size: int = 3, flags: int = FLAG_HASHPSPOOL) -> PgPool:
    """A replicated pool."""
    return PgPool(size=size, min_size=max(1, size - 1), pg_num=pg_num, pgp_num=pg_num,
                  pg_num_target=pg_num, pgp_num_target=pg_num, pg_num_pending=pg_num,
                  flags=flags)


def make_osdmap(num_osds: int = 3, pools: dict[int, tuple[str, PgPool]] | None = None,
                epoch: int = 1) -> OSDMap:
    """Every OSD up and in, at ``epoch``, with ``pools`` (default: 1 ``test``)."""
    m = OSDMap()
    m.fsid = FSID
    m.epoch = epoch
    m.set_max_osd(num_osds)
    for o in range(num_osds):
        m.osd_state[o] = CEPH_OSD_EXISTS | CEPH_OSD_UP
        m.osd_weight[o] = CEPH_OSD_IN
        m.client_addrs[o] = osd_addrs(o)
    m.set_crush(make_crush(num_osds))
    for pid, (name, pool) in (pools or {1: ("test", make_pool())}).items():
        m.pools[pid] = pool
        m.pool_name[pid] = name
        m.pool_max = max(m.pool_max, pid)
    m.flags = CEPH_OSDMAP_SORTBITWISE
    m.require_osd_release = CEPH_RELEASE_PACIFIC
    return m


def copy_map(m: OSDMap) -> OSDMap:
    """An independent copy (through the codec)."""
    return OSDMap.decode(m.encode())


# -- the fake messenger -------------------------------------------------------------------


class FakeConnection(Connection):
    """A connection that records what is sent (encoded as for a Pacific peer)."""

    def __init__(self, msgr: FakeMessenger, peer_type: int, addrs: EntityAddrVec) -> None:
        self.msgr = msgr
        self._peer_type = peer_type
        self._peer_addrs = addrs
        self.sent: list[Message] = []
        self.marked_down = False

    def send_message(self, m: Message) -> None:
        m.prepare(CEPH_FEATURES_ALL)
        self.sent.append(m)
        self.msgr.sent.append((self, m))

    def send_keepalive(self) -> None:
        """Nothing."""

    def mark_down(self) -> None:
        self.marked_down = True

    def mark_disposable(self) -> None:
        """Nothing."""

    def is_connected(self) -> bool:
        return not self.marked_down

    @property
    def peer_type(self) -> int:
        return self._peer_type

    @property
    def peer_addrs(self) -> EntityAddrVec:
        return self._peer_addrs

    @property
    def peer_name(self) -> EntityName:
        return EntityName(EntityType.OSD, self.osd)

    @property
    def osd(self) -> int:
        """The OSD id the fake address stands for."""
        return int(self._peer_addrs.addrs[0].port) - 6800

    @property
    def features(self) -> int:
        return CEPH_FEATURES_ALL

    @property
    def is_loopback(self) -> bool:
        return False

    @property
    def is_anon(self) -> bool:
        return False

    @property
    def is_msgr2(self) -> bool:
        return True

    @property
    def last_keepalive(self) -> UTime:
        return UTime()

    @property
    def last_keepalive_ack(self) -> UTime:
        return UTime()

    def __repr__(self) -> str:
        return f"<FakeConnection {self.peer_addrs} down={self.marked_down}>"


class FakeMessenger:
    """What the Objecter uses of a Messenger."""

    def __init__(self) -> None:
        self.config = MessengerConfig()
        self.conns: dict[EntityAddrVec, FakeConnection] = {}
        self.sent: list[tuple[FakeConnection, Message]] = []
        self.dispatchers: list[Dispatcher] = []

    def set_policy(self, peer_type: int, policy: object) -> None:
        """Ignored."""

    def add_dispatcher_head(self, d: Dispatcher) -> None:
        self.dispatchers.insert(0, d)

    def connect_to(self, peer_type: int, addrs: EntityAddrVec) -> FakeConnection:
        con = self.conns.get(addrs)
        if con is None or con.marked_down:
            con = FakeConnection(self, peer_type, addrs)
            self.conns[addrs] = con
        return con


@dataclass
class FakeMonClient:
    """What the Objecter uses of a MonClient."""

    messenger: FakeMessenger = field(default_factory=FakeMessenger)
    monmap: MonMap = field(default_factory=lambda: MonMap(fsid=FSID))
    active_connection: Any = None
    subs: list[tuple[str, int, bool]] = field(default_factory=list)
    newest: int = 0
    version_calls: int = 0

    def sub_want(self, what: str, start: int = 0, *, onetime: bool = False) -> None:
        self.subs.append((what, start, onetime))

    async def get_version(self, what: str, *, timeout: float | None = None) -> tuple[int, int]:
        self.version_calls += 1
        return self.newest, 1


# -- the world ------------------------------------------------------------------------------


class World:
    """An Objecter connected to nothing but this object, which plays the cluster."""

    def __init__(self, osdmap: OSDMap | None = None, *,
                 options: ObjecterOptions | None = None) -> None:
        self.monc = FakeMonClient()
        self.osdmap = osdmap or make_osdmap()
        self.monc.newest = self.osdmap.epoch
        self.objecter = Objecter(self.monc, options=options)  # type: ignore[arg-type]

    @property
    def msgr(self) -> FakeMessenger:
        return self.monc.messenger

    async def start(self) -> None:
        """Start the Objecter and give it the current map (as the mon would)."""
        self.objecter.start()
        await asyncio.sleep(0)
        self.publish_full()

    def publish_full(self, m: OSDMap | None = None, *, source: Any = None) -> None:
        """Send ``m`` (default: the world's map) as a full-map MOSDMap."""
        m = m or self.osdmap
        msg = MOSDMap(fsid=m.fsid, maps={m.epoch: m.encode()}, oldest_map=1,
                      newest_map=m.epoch)
        self.deliver(msg, source)

    def publish_incs(self, incs: Iterable[Incremental], *, oldest: int = 1,
                     source: Any = None) -> None:
        """Apply ``incs`` to the world's map and send them in one MOSDMap."""
        blobs = {}
        for inc in incs:
            blobs[inc.epoch] = inc.encode()
            self.osdmap.apply_incremental(inc)
        self.monc.newest = self.osdmap.epoch
        msg = MOSDMap(fsid=self.osdmap.fsid, incremental_maps=blobs, oldest_map=oldest,
                      newest_map=self.osdmap.epoch)
        self.deliver(msg, source)

    def next_inc(self, **changes: Any) -> Incremental:
        """An incremental for the world map's next epoch."""
        return Incremental(fsid=self.osdmap.fsid, epoch=self.osdmap.epoch + 1, **changes)

    def deliver(self, m: Message, source: Any = None) -> None:
        """A message arrives from ``source`` (a connection; None: the monitor)."""
        m.connection = source
        encoded = m
        if not isinstance(m, MOSDOpReply):
            m.prepare(CEPH_FEATURES_ALL)
        self.objecter.ms_dispatch(encoded)

    # -- the OSDs -----------------------------------------------------------------------

    def ops_sent(self, osd: int | None = None) -> list[tuple[FakeConnection, MOSDOp]]:
        """MOSDOps sent so far (to ``osd.N`` only, if given), in order."""
        out = []
        for con, m in self.msgr.sent:
            if isinstance(m, MOSDOp) and (osd is None or con.osd == osd):
                out.append((con, m))
        return out

    def reply(self, con: FakeConnection, m: MOSDOp, result: int = 0, *,
              outs: list[OSDOp] | None = None, user_version: int = 1,
              retry_attempt: int | None = None) -> None:
        """The OSD behind ``con`` answers ``m``."""
        r = MOSDOpReply(oid=m.oid, pgid=m.pgid.pgid, flags=m.flags, result=result,
                        osdmap_epoch=m.osdmap_epoch,
                        ops=outs if outs is not None else [
                            OSDOp(o.op, o.flags, o.args, rval=min(result, 0))
                            for o in m.ops],
                        retry_attempt=m.retry_attempt if retry_attempt is None
                        else retry_attempt, user_version=user_version)
        r.tid = m.tid
        r.connection = con
        r.src = con.peer_name
        self.objecter.handle_osd_op_reply(r)

    def reset(self, con: FakeConnection) -> None:
        """The lossy connection failed."""
        con.marked_down = True
        self.objecter.ms_handle_reset(con)


def addr_of(osd: int) -> EntityAddr:
    """The address the fake map gives ``osd.N``."""
    return osd_addrs(osd).addrs[0]


#: Op flags and the pool (``test``, id 1) the tests use.
W = int(OsdFlag.WRITE)
R = int(OsdFlag.READ)
LOC = ObjectLocator(1)
#: Bound of one test's event loop (seconds).
TEST_TIMEOUT = 10


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``body`` in a fresh event loop, within :data:`TEST_TIMEOUT`."""
    async def main() -> None:
        await asyncio.wait_for(body(), TEST_TIMEOUT)
    asyncio.run(main())


def run_world(body: Callable[[World], Coroutine[Any, Any, None]],
              osdmap: OSDMap | None = None, *, options: ObjecterOptions | None = None) -> None:
    """Run ``body`` on a started :class:`World` (``osdmap``, ``options`` as its own)."""
    async def main() -> None:
        w = World(osdmap, options=options)
        await w.start()
        await body(w)
    run(main)


async def settle() -> None:
    """Let the loop run what the last step scheduled (a few turns)."""
    for _ in range(5):
        await asyncio.sleep(0)


__all__ = ["FSID", "LOC", "TEST_TIMEOUT", "FakeConnection", "FakeMessenger", "FakeMonClient",
           "R", "W", "World", "addr_of", "copy_map", "make_crush", "make_osdmap", "make_pool",
           "osd_addrs", "run", "run_world", "settle"]
