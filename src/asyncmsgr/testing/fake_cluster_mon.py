"""The fake cluster's monitor side: auth database, subscriptions, pool ops, commands.

:class:`ClusterMonBackend` is the :class:`~asyncmsgr.testing.fake_mon.MonBackend`
the cluster's :class:`~asyncmsgr.testing.fake_mon.FakeMon` instances use:

* ``osdmap`` subscriptions get the current full map (MOSDMap, oldest = newest =
  the current epoch, so an Objecter that is behind jumps straight to it) and,
  unless ONETIME, every later epoch; ``mgrmap`` gets an MMgrMap with no manager;
* MMonGetVersion reports the current (and oldest kept) epoch of a map;
* MPoolOp creates and deletes pools (librados' ``create_pool``/``delete_pool``),
  MStatfs reports the usage, MGetPoolStats answers without per-pool statistics
  (as a Pacific mon without a ceph-mgr does);
* MMonCommand goes to the cluster's command table (``get_command_descriptions``
  included), MCommand (``tell mon.X``) to its tell table.

:class:`AuthDb` holds the entities (key and caps) behind ``ceph auth`` and the
cephx :class:`ClusterKeyServer` (a KeyServer reading it).
"""

from __future__ import annotations

import base64
import errno
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncmsgr.auth.cephx import KeyServer
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.connection import Connection
from asyncmsgr.message import Message, RawMessage
from asyncmsgr.messages import (
    MMonCommand,
    MMonCommandAck,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonSubscribe,
)
from asyncmsgr.messages.mon import SubscribeItem
from asyncmsgr.messages.pool import (
    CephStatfs,
    MGetPoolStats,
    MGetPoolStatsReply,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
    PoolOp,
)
from asyncmsgr.testing.fake_mon_commands import CommandError, CommandRequest, parse_command
from asyncmsgr.testing.fake_mon_dumps import usage
from asyncmsgr.types import AuthName, EntityAddrVec, EntityName, UTime
from asyncmsgr.wire.buffer import Writer
from asyncmsgr.wire.codecs import push_entity_addrvec, push_utime

if TYPE_CHECKING:
    from asyncmsgr.testing.fake_cluster import FakeCluster
    from asyncmsgr.testing.fake_mon import FakeMon

logger = logging.getLogger(__name__)

#: ``MSG_MGR_MAP``.
MSG_MGR_MAP = 0x704
#: ``CEPH_SUBSCRIBE_ONETIME``.
CEPH_SUBSCRIBE_ONETIME = 1


class AuthDb:
    """Entities: name -> (base64 key, caps by service)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._entities: dict[str, tuple[str, dict[str, str]]] = {}

    def new_key(self) -> str:
        """A fresh random key (base64, as ``ceph-authtool --gen-key``)."""
        return CryptoKey.aes(self._rng.randbytes(16)).to_base64()

    def add(self, name: str, caps: dict[str, str], key: str | None = None,
            key_from: bytes = b"") -> str:
        """Add or replace an entity; returns its key. ``key_from`` is a keyring
        (``auth add -i FILE``) whose first ``key = ...`` line is taken."""
        if key is None and key_from:
            for line in key_from.decode("utf-8", "replace").splitlines():
                k, _, v = line.strip().partition("=")
                if k.strip() == "key":
                    key = v.strip()
                    break
        key = key or self.new_key()
        AuthName.parse(name)  # ValueError for a malformed name
        self._entities[name] = (key, dict(caps))
        return key

    def get(self, name: str) -> tuple[str, dict[str, str]] | None:
        """``(key, caps)`` or None."""
        e = self._entities.get(name)
        return (e[0], dict(e[1])) if e is not None else None

    def remove(self, name: str) -> bool:
        """Delete an entity; False if absent."""
        return self._entities.pop(name, None) is not None

    def entries(self) -> list[tuple[str, str, dict[str, str]]]:
        """``(name, key, caps)`` of every entity, in Ceph's order (by type, then name)."""
        def order(n: str) -> tuple[int, str]:
            kind = n.split(".", 1)[0]
            return ({"mon": 0, "osd": 1, "mds": 2, "client": 3, "mgr": 4}.get(kind, 5), n)
        return [(n, k, dict(c)) for n, (k, c) in sorted(self._entities.items(),
                                                         key=lambda e: order(e[0]))]


class ClusterKeyServer(KeyServer):
    """A cephx KeyServer whose entities are the cluster's :class:`AuthDb`."""

    def __init__(self, db: AuthDb, *, clock: Callable[[], float], rng: random.Random) -> None:
        super().__init__(None, clock=clock, rng=rng)
        self.db = db

    def get_secret(self, name: AuthName | str) -> CryptoKey | None:
        """The entity's key from the database."""
        e = self.db.get(str(name))
        return CryptoKey.from_base64(e[0]) if e is not None else None

    def get_caps(self, name: AuthName | str, service: str) -> str | None:
        """The entity's cap string for ``service``."""
        e = self.db.get(str(name))
        return e[1].get(service) if e is not None else None


def mgrmap_message() -> RawMessage:
    """MMgrMap of a cluster without a manager (``MgrMap::encode`` v12 as Pacific
    16.2.15 writes it, epoch 1)."""
    w = Writer()
    with w.versioned(12, 6):
        w.push_u32(1)  # epoch
        push_entity_addrvec(w, EntityAddrVec(), 0xFFFFFFFFFFFFFFFF)  # active_addrs
        w.push_u64(0)  # active_gid
        w.push_bool(False)  # available
        w.push_string("")  # active_name
        w.push_u32(0)  # standbys
        w.push_u32(0)  # modules
        w.push_u32(0)  # services
        w.push_u32(0)  # available_modules
        push_utime(w, UTime())  # active_change
        w.push_u32(0)  # always_on_modules
        w.push_u64(0)  # active_mgr_features
        w.push_u32(0)  # last_failure_osd_epoch
        w.push_u32(0)  # clients (addresses)
        w.push_u32(0)  # clients (names, v12)
    m = RawMessage(raw_type=MSG_MGR_MAP, front=w.getvalue())
    m.version = m.compat_version = 1
    return m


@dataclass(slots=True)
class _Sub:
    start: int
    onetime: bool


class ClusterMonBackend:
    """The cluster's answers to what a bare fake mon does not know."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.subs: dict[Connection, dict[str, _Sub]] = {}

    # -- MonBackend ----------------------------------------------------------------------

    def subscribe(self, mon: FakeMon, con: Connection, m: MMonSubscribe) -> None:
        """Note osdmap/mgrmap subscriptions and answer what is due now."""
        mine = self.subs.setdefault(con, {})
        for what, item in m.what.items():
            if what in ("osdmap", "mgrmap"):
                mine[what] = _Sub(item.start, bool(item.flags & CEPH_SUBSCRIBE_ONETIME))
        self._send_due(con, mine)
        if not mine:
            self.subs.pop(con, None)

    def _send_due(self, con: Connection, mine: dict[str, _Sub]) -> None:
        epoch = self.cluster.osdmap.epoch
        sub = mine.get("osdmap")
        if sub is not None and sub.start <= epoch:
            con.send_message(self.cluster.osdmap_message(con.features))
            if sub.onetime:
                del mine["osdmap"]
            else:
                sub.start = epoch + 1
        sub = mine.get("mgrmap")
        if sub is not None and sub.start <= 1:
            con.send_message(mgrmap_message())
            if sub.onetime:
                del mine["mgrmap"]
            else:
                sub.start = 2

    def publish_osdmap(self) -> None:
        """A new epoch: send it to every subscriber waiting for it."""
        for con, mine in list(self.subs.items()):
            if not con.is_connected():
                del self.subs[con]
                continue
            self._send_due(con, mine)
            if not mine:
                del self.subs[con]

    def mon_dispatch(self, mon: FakeMon, m: Message) -> bool:
        """Commands, versions, pool ops, statfs."""
        con = m.connection
        if con is None:
            return False
        if isinstance(m, MMonCommand):
            self._command(mon, con, m)
        elif isinstance(m, MMonGetVersion):
            self._version(con, m)
        elif isinstance(m, MPoolOp):
            self._pool_op(con, m)
        elif isinstance(m, MStatfs):
            self._statfs(con, m)
        elif isinstance(m, MGetPoolStats):
            reply = MGetPoolStatsReply(fsid=self.cluster.fsid, per_pool=True)
            reply.tid = m.tid
            con.send_message(reply)
        else:
            return False
        return True

    def tell(self, mon: FakeMon, cmd: list[str], inbuf: bytes) -> tuple[int, str, bytes]:
        """``tell mon.X``."""
        try:
            args = parse_command(cmd)
        except CommandError as exc:
            return exc.r, exc.rs, b""
        req = CommandRequest(args, inbuf, self.cluster, mon.name)
        return tuple(self.cluster.tell_commands.dispatch(req))  # type: ignore[return-value]

    def client_config(self, name: EntityName) -> dict[str, str]:
        """The options the config database gives ``name``."""
        return self.cluster.config_for(str(name))

    # -- messages -----------------------------------------------------------------------

    def _command(self, mon: FakeMon, con: Connection, m: MMonCommand) -> None:
        mon.commands.append(list(m.cmd))
        if mon.handler is not None:
            r, rs, out = mon.handler(list(m.cmd), bytes(m.data))
        else:
            try:
                args = parse_command(list(m.cmd))
                res = self.cluster.commands.dispatch(
                    CommandRequest(args, bytes(m.data), self.cluster, mon.name))
                r, rs, out = res.r, res.rs, res.out
            except CommandError as exc:
                r, rs, out = exc.r, exc.rs, b""
        ack = MMonCommandAck(r=r, rs=rs, cmd=list(m.cmd), data=out)
        ack.tid = m.tid
        con.send_message(ack)

    def _version(self, con: Connection, m: MMonGetVersion) -> None:
        if m.what == "osdmap":
            newest = oldest = self.cluster.osdmap.epoch
        else:
            newest = oldest = 1
        con.send_message(MMonGetVersionReply(handle=m.handle, map_version=newest,
                                             oldest_version=oldest))

    def _pool_op(self, con: Connection, m: MPoolOp) -> None:
        c = self.cluster
        code = 0
        if m.op == PoolOp.CREATE:
            if c.osdmap.lookup_pg_pool_name(m.name) >= 0:
                code = -errno.EEXIST
            else:
                c.create_pool(m.name)
        elif m.op == PoolOp.DELETE:
            name = c.osdmap.get_pool_name(m.pool)
            if name is None:
                code = -errno.ENOENT
            else:
                c.delete_pool(name)
        else:
            code = -errno.EOPNOTSUPP
        reply = MPoolOpReply(fsid=c.fsid, reply_code=code, epoch=c.osdmap.epoch)
        reply.tid = m.tid
        con.send_message(reply)

    def _statfs(self, con: Connection, m: MStatfs) -> None:
        objects, _stored, raw, total = usage(self.cluster.view())
        st = CephStatfs(kb=total >> 10, kb_used=raw >> 10, kb_avail=(total - raw) >> 10,
                        num_objects=objects)
        reply = MStatfsReply(fsid=self.cluster.fsid, map_version=self.cluster.osdmap.epoch,
                             st=st)
        reply.tid = m.tid
        con.send_message(reply)


def random_key(rng: random.Random) -> str:
    """A base64 cephx key."""
    return CryptoKey.aes(rng.randbytes(16)).to_base64()


def b64(data: bytes) -> str:
    """Base64 text."""
    return base64.b64encode(data).decode()


__all__ = [
    "CEPH_SUBSCRIBE_ONETIME",
    "MSG_MGR_MAP",
    "AuthDb",
    "ClusterKeyServer",
    "ClusterMonBackend",
    "SubscribeItem",
    "mgrmap_message",
    "random_key",
]
