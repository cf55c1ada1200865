"""Pool management and cluster statistics, client <-> mon (Pacific layouts).

librados creates and deletes pools with MPoolOp (not mon commands), and asks
for usage with MStatfs (``rados df`` totals, ``get_cluster_stats``) and
MGetPoolStats (``rados df`` per pool). Fronts:

* MPoolOp (49, v4/2): PaxosServiceMessage header, ``uuid fsid, u32 pool, u32 op,
  u64 auid (unused, 0), u64 snapid, string name, u8 pad, s16 crush_rule``
  (v<2 put the name after the pool; v3 had the rule in the pad byte);
* MPoolOpReply (48, v1): header, ``uuid fsid, u32 reply_code, u32 epoch, bool
  has_data [, bufferlist response_data]`` (``reply_code`` is a negative errno);
* MStatfs (13, v2/1): header, ``uuid fsid``, v2 ``optional<s64> data_pool``;
* MStatfsReply (14, v1): ``ceph_mon_statfs_reply`` (raw): ``uuid fsid, u64
  version, u64 kb, u64 kb_used, u64 kb_avail, u64 num_objects`` (no paxos header);
* MGetPoolStats (58, v1): header, ``uuid fsid, list<string> pools``;
* MGetPoolStatsReply (59, v2/1): header, ``uuid fsid, map<string, pool_stat_t>``,
  v2 ``bool per_pool``. ``pool_stat_t`` is kept as its raw versioned encoding
  (:class:`RawStruct`); without a ceph-mgr the mon sends none.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import Any, NamedTuple, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import STRING_MIN, ZERO_UUID, push_sorted_map
from asyncmsgr.messages.osd_op_common import cpp_strerror
from asyncmsgr.messages.paxos import (
    DEFAULT_PAXOS_HEADER,
    PaxosHeader,
    pull_paxos_header,
    push_paxos_header,
)
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_uuid, push_uuid


class PoolOp(IntEnum):
    """``POOL_OP_*``."""

    CREATE = 0x01
    DELETE = 0x02
    AUID_CHANGE = 0x03
    CREATE_SNAP = 0x11
    DELETE_SNAP = 0x12
    CREATE_UNMANAGED_SNAP = 0x21
    DELETE_UNMANAGED_SNAP = 0x22


_POOL_OP_NAMES: dict[int, str] = {
    PoolOp.CREATE: "create", PoolOp.DELETE: "delete", PoolOp.AUID_CHANGE: "auid change",
    PoolOp.CREATE_SNAP: "create snap", PoolOp.DELETE_SNAP: "delete snap",
    PoolOp.CREATE_UNMANAGED_SNAP: "create unmanaged snap",
    PoolOp.DELETE_UNMANAGED_SNAP: "delete unmanaged snap",
}


def ceph_pool_op_name(op: int) -> str:
    """``ceph_pool_op_name``."""
    return _POOL_OP_NAMES.get(op, "???")


@register_message
class MPoolOp(Message):
    """``MPoolOp``: create or delete a pool (or a pool snapshot) by name or id."""

    TYPE = 49  # CEPH_MSG_POOLOP
    HEAD_VERSION = 4
    COMPAT_VERSION = 2

    paxos: PaxosHeader
    fsid: uuid.UUID
    pool: int
    """Pool id (u32; 0 for a create)."""
    op: int
    auid: int
    snapid: int
    name: str
    """Pool name (create), snapshot name, or Ceph's ``delete`` for a delete."""
    crush_rule: int
    """s16; 0 picks the default replicated rule."""
    pad: int

    __slots__ = ("auid", "crush_rule", "fsid", "name", "op", "pad", "paxos", "pool", "snapid")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, pool: int = 0, op: int = PoolOp.CREATE,
                 auid: int = 0, snapid: int = 0, name: str = "", crush_rule: int = 0,
                 pad: int = 0, **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.pool = pool
        self.op = op
        self.auid = auid
        self.snapid = snapid
        self.name = name
        self.crush_rule = crush_rule
        self.pad = pad

    def encode_payload(self, features: int) -> None:
        """Front v4."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        w.push_u32(self.pool)
        w.push_u32(self.op)
        w.push_u64(self.auid)
        w.push_u64(self.snapid)
        w.push_string(self.name)
        w.push_u8(self.pad)
        w.push_s16(self.crush_rule)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse v1-v4 (the rule is -1 before v3, the pad byte in v3)."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        pool = front.pull_u32()
        name = front.pull_string() if header.version < 2 else ""
        op = front.pull_u32()
        auid = front.pull_u64()
        snapid = front.pull_u64()
        if header.version >= 2:
            name = front.pull_string()
        pad = 0
        crush_rule = -1
        if header.version >= 3:
            pad = front.pull_u8()
            crush_rule = front.pull_s16() if header.version >= 4 else pad
        return cls(paxos=paxos, fsid=fsid, pool=pool, op=op, auid=auid, snapid=snapid,
                   name=name, crush_rule=crush_rule, pad=pad)

    def describe(self) -> str:
        """As Ceph logs it: ``pool_op(create pool 0 tid 1 name p1 v0) v4``."""
        return (f"pool_op({ceph_pool_op_name(self.op)} pool {self.pool} tid {self.tid} "
                f"name {self.name} v{self.paxos.version}) v{self.version}")


@register_message
class MPoolOpReply(Message):
    """``MPoolOpReply``: the result of an MPoolOp (same tid) and the osdmap epoch."""

    TYPE = 48  # CEPH_MSG_POOLOP_REPLY
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    reply_code: int
    """0 or a negative errno (sent as u32)."""
    epoch: int
    """The osdmap epoch that has the change: wait for it before using the pool."""
    response_data: bytes | None
    """Extra reply bytes (a created snapshot's id), when sent."""

    __slots__ = ("epoch", "fsid", "paxos", "reply_code", "response_data")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, reply_code: int = 0, epoch: int = 0,
                 response_data: bytes | None = None, **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.reply_code = reply_code
        self.epoch = epoch
        self.response_data = response_data

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        w.push_u32(self.reply_code & 0xFFFFFFFF)
        w.push_u32(self.epoch)
        w.push_bool(self.response_data is not None)
        if self.response_data is not None:
            w.push_blob(self.response_data)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        code = front.pull_s32()
        epoch = front.pull_u32()
        response = front.pull_blob() if front.pull_bool() else None
        return cls(paxos=paxos, fsid=fsid, reply_code=code, epoch=epoch,
                   response_data=response)

    def describe(self) -> str:
        """As Ceph logs it: ``pool_op_reply(tid 1 (0) Success v11) v1``."""
        return (f"pool_op_reply(tid {self.tid} {cpp_strerror(-self.reply_code)} "
                f"v{self.paxos.version}) v{self.version}")


@register_message
class MStatfs(Message):
    """``MStatfs``: ask the mon for the cluster's (or one data pool's) usage."""

    TYPE = 13  # CEPH_MSG_STATFS
    HEAD_VERSION = 2
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    data_pool: int | None

    __slots__ = ("data_pool", "fsid", "paxos")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, data_pool: int | None = None,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.data_pool = data_pool

    def encode_payload(self, features: int) -> None:
        """Front v2."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        w.push_optional(self.data_pool, Writer.push_s64)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front (the pool from v2)."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        pool = front.pull_optional(Reader.pull_s64) if header.version >= 2 else None
        return cls(paxos=paxos, fsid=fsid, data_pool=pool)

    def describe(self) -> str:
        """As Ceph logs it: ``statfs(2 pool -1 v0) v2``."""
        pool = -1 if self.data_pool is None else self.data_pool
        return f"statfs({self.tid} pool {pool} v{self.paxos.version}) v{self.version}"


class CephStatfs(NamedTuple):
    """``ceph_statfs``: cluster usage in KiB and the number of objects."""

    kb: int = 0
    kb_used: int = 0
    kb_avail: int = 0
    num_objects: int = 0


_NO_STATFS = CephStatfs()


@register_message
class MStatfsReply(Message):
    """``MStatfsReply``: ``ceph_mon_statfs_reply`` (fsid, osdmap version, usage)."""

    TYPE = 14  # CEPH_MSG_STATFS_REPLY
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    fsid: uuid.UUID
    map_version: int
    """Ceph's ``h.version``: the osdmap epoch of the figures."""
    st: CephStatfs

    __slots__ = ("fsid", "map_version", "st")

    def __init__(self, *, fsid: uuid.UUID = ZERO_UUID, map_version: int = 0,
                 st: CephStatfs = _NO_STATFS, **base: Any) -> None:
        Message.__init__(self, **base)
        self.fsid = fsid
        self.map_version = map_version
        self.st = st

    def encode_payload(self, features: int) -> None:
        """Build the 56-byte front."""
        w = Writer()
        push_uuid(w, self.fsid)
        w.push_u64(self.map_version)
        for v in self.st:
            w.push_u64(v)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        fsid = pull_uuid(front)
        version = front.pull_u64()
        st = CephStatfs(front.pull_u64(), front.pull_u64(), front.pull_u64(),
                        front.pull_u64())
        return cls(fsid=fsid, map_version=version, st=st)

    def describe(self) -> str:
        """As Ceph logs it: ``statfs_reply(2) v1``."""
        return f"statfs_reply({self.tid}) v{self.version}"


@register_message
class MGetPoolStats(Message):
    """``MGetPoolStats``: ask the mon for the usage of named pools."""

    TYPE = 58  # MSG_GETPOOLSTATS
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    pools: list[str]

    __slots__ = ("fsid", "paxos", "pools")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, pools: list[str] | None = None,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.pools = [] if pools is None else pools

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        w.push_list(self.pools, Writer.push_string)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        pools = front.pull_list(Reader.pull_string, STRING_MIN)
        return cls(paxos=paxos, fsid=fsid, pools=pools)

    def describe(self) -> str:
        """As Ceph logs it: ``getpoolstats(1 [test] v0) v1``."""
        return (f"getpoolstats({self.tid} [{','.join(self.pools)}] v{self.paxos.version})"
                f" v{self.version}")


class RawStruct(NamedTuple):
    """A versioned struct kept as it was encoded (``ENCODE_START`` header + body)."""

    struct_v: int
    compat_v: int
    body: bytes


def pull_raw_struct(r: Reader) -> RawStruct:
    """``u8 struct_v, u8 compat, u32 len`` + ``len`` bytes, not interpreted."""
    struct_v = r.pull_u8()
    compat = r.pull_u8()
    return RawStruct(struct_v, compat, r.pull_blob())


def push_raw_struct(w: Writer, s: RawStruct) -> None:
    """The struct exactly as it was read."""
    w.push_u8(s.struct_v)
    w.push_u8(s.compat_v)
    w.push_blob(s.body)


@register_message
class MGetPoolStatsReply(Message):
    """``MGetPoolStatsReply``: pool name -> ``pool_stat_t`` (raw) and ``per_pool``."""

    TYPE = 59  # MSG_GETPOOLSTATSREPLY
    HEAD_VERSION = 2
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    pool_stats: dict[str, RawStruct]
    per_pool: bool
    """The OSDs account per pool (Nautilus+ stores), so usage is not estimated."""

    __slots__ = ("fsid", "paxos", "per_pool", "pool_stats")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, pool_stats: dict[str, RawStruct] | None = None,
                 per_pool: bool = False, **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.pool_stats = {} if pool_stats is None else pool_stats
        self.per_pool = per_pool

    def encode_payload(self, features: int) -> None:
        """Front v2."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        push_sorted_map(w, self.pool_stats, push_raw_struct)
        w.push_bool(self.per_pool)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front (``per_pool`` from v2)."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        stats = front.pull_map(Reader.pull_string, pull_raw_struct, STRING_MIN + 6)
        per_pool = front.pull_bool() if header.version >= 2 else False
        return cls(paxos=paxos, fsid=fsid, pool_stats=stats, per_pool=per_pool)

    def describe(self) -> str:
        """As Ceph logs it: ``getpoolstatsreply(1 per_pool v1) v2``."""
        per_pool = " per_pool" if self.per_pool else ""
        return (f"getpoolstatsreply({self.tid}{per_pool} v{self.paxos.version})"
                f" v{self.version}")


__all__ = [
    "CephStatfs",
    "MGetPoolStats",
    "MGetPoolStatsReply",
    "MPoolOp",
    "MPoolOpReply",
    "MStatfs",
    "MStatfsReply",
    "PoolOp",
    "RawStruct",
    "ceph_pool_op_name",
    "pull_raw_struct",
    "push_raw_struct",
]
