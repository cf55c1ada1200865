"""RADOS object operations: ``ceph_osd_op`` and the ``OSDOp`` value (``rados.h``).

An MOSDOp carries a vector of operations. Each is a packed 38-byte
``ceph_osd_op`` on the wire: ``le16 op`` (:class:`OsdOpCode`), ``le32 flags``
(:class:`OsdOpFlag`), a 28-byte union whose meaning depends on the op
(extent, xattr, cls, pgls, watch, notify, alloc hint ...) and ``le32
payload_len``. The op's input bytes (write data, xattr names and values, omap
keys ...) travel in the message's data segment, concatenated in op order, each
op's ``payload_len`` saying how much is its own; an MOSDOpReply does the same with
each op's output (``OSDOp::merge_osd_op_vector_in_data`` / ``split_*``).

:class:`OSDOp` keeps the union as its 28 raw bytes, so a decoded op re-encodes
byte for byte whatever the op; typed views (:attr:`OSDOp.extent`,
:attr:`OSDOp.xattr`, :attr:`OSDOp.watch` ...) read it. Constructors for the
operations a RADOS client needs (:func:`read`, :func:`writefull`,
:func:`omap_get_vals`, :func:`pgnls`, :func:`watch`, :func:`call` ...) build ops
the way librados' ``ObjectOperation`` does; their output decoders live in
:mod:`asyncmsgr.osd.op_data`. :func:`format_op` prints an op as Ceph's
``operator<<(ostream&, const OSDOp&)`` does (``writefull 0~12 in=12b``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import NamedTuple

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd.op_data import (
    push_notify_ack_input,
    push_notify_input,
    push_omap_get_keys_input,
    push_omap_get_vals_input,
    push_omap_key_set,
    push_omap_map,
)
from asyncmsgr.osd.types import HObject, push_hobject, snap_str
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

# -- op codes ----------------------------------------------------------------------------

CEPH_OSD_OP_MODE = 0xF000
CEPH_OSD_OP_MODE_RD = 0x1000
CEPH_OSD_OP_MODE_WR = 0x2000
CEPH_OSD_OP_MODE_RMW = 0x3000
CEPH_OSD_OP_MODE_SUB = 0x4000
CEPH_OSD_OP_MODE_CACHE = 0x8000

CEPH_OSD_OP_TYPE = 0x0F00
CEPH_OSD_OP_TYPE_DATA = 0x0200
CEPH_OSD_OP_TYPE_ATTR = 0x0300
CEPH_OSD_OP_TYPE_EXEC = 0x0400
CEPH_OSD_OP_TYPE_PG = 0x0500

_RD_DATA = CEPH_OSD_OP_MODE_RD | CEPH_OSD_OP_TYPE_DATA
_WR_DATA = CEPH_OSD_OP_MODE_WR | CEPH_OSD_OP_TYPE_DATA
_RMW_DATA = CEPH_OSD_OP_MODE_RMW | CEPH_OSD_OP_TYPE_DATA
_CACHE_DATA = CEPH_OSD_OP_MODE_CACHE | CEPH_OSD_OP_TYPE_DATA
_RD_ATTR = CEPH_OSD_OP_MODE_RD | CEPH_OSD_OP_TYPE_ATTR
_WR_ATTR = CEPH_OSD_OP_MODE_WR | CEPH_OSD_OP_TYPE_ATTR
_RD_PG = CEPH_OSD_OP_MODE_RD | CEPH_OSD_OP_TYPE_PG


class OsdOpCode(IntEnum):
    """``CEPH_OSD_OP_*`` as Pacific defines them (``__CEPH_FORALL_OSD_OPS``).

    ``OsdOpCode.READ`` is Ceph's ``CEPH_OSD_OP_READ``; :data:`OSD_OP_NAMES` has
    the printed names (``read``, ``omap-get-vals`` ...).
    """

    READ = _RD_DATA | 1
    STAT = _RD_DATA | 2
    MAPEXT = _RD_DATA | 3
    CHECKSUM = _RD_DATA | 31
    MASKTRUNC = _RD_DATA | 4
    SPARSE_READ = _RD_DATA | 5
    NOTIFY = _RD_DATA | 6
    NOTIFY_ACK = _RD_DATA | 7
    ASSERT_VER = _RD_DATA | 8
    LIST_WATCHERS = _RD_DATA | 9
    LIST_SNAPS = _RD_DATA | 10
    SYNC_READ = _RD_DATA | 11
    WRITE = _WR_DATA | 1
    WRITEFULL = _WR_DATA | 2
    TRUNCATE = _WR_DATA | 3
    ZERO = _WR_DATA | 4
    DELETE = _WR_DATA | 5
    APPEND = _WR_DATA | 6
    STARTSYNC = _WR_DATA | 7
    SETTRUNC = _WR_DATA | 8
    TRIMTRUNC = _WR_DATA | 9
    TMAPUP = _RMW_DATA | 10
    TMAPPUT = _WR_DATA | 11
    TMAPGET = _RD_DATA | 12
    CREATE = _WR_DATA | 13
    ROLLBACK = _WR_DATA | 14
    WATCH = _WR_DATA | 15
    OMAPGETKEYS = _RD_DATA | 17
    OMAPGETVALS = _RD_DATA | 18
    OMAPGETHEADER = _RD_DATA | 19
    OMAPGETVALSBYKEYS = _RD_DATA | 20
    OMAPSETVALS = _WR_DATA | 21
    OMAPSETHEADER = _WR_DATA | 22
    OMAPCLEAR = _WR_DATA | 23
    OMAPRMKEYS = _WR_DATA | 24
    OMAPRMKEYRANGE = _WR_DATA | 44
    OMAP_CMP = _RD_DATA | 25
    COPY_FROM = _WR_DATA | 26
    COPY_FROM2 = _WR_DATA | 45
    UNDIRTY = _WR_DATA | 28
    ISDIRTY = _RD_DATA | 29
    COPY_GET = _RD_DATA | 30
    CACHE_FLUSH = _CACHE_DATA | 31
    CACHE_EVICT = _CACHE_DATA | 32
    CACHE_TRY_FLUSH = _CACHE_DATA | 33
    TMAP2OMAP = _RMW_DATA | 34
    SETALLOCHINT = _WR_DATA | 35
    CACHE_PIN = _WR_DATA | 36
    CACHE_UNPIN = _WR_DATA | 37
    WRITESAME = _WR_DATA | 38
    CMPEXT = _RD_DATA | 32
    SET_REDIRECT = _WR_DATA | 39
    SET_CHUNK = _CACHE_DATA | 40
    TIER_PROMOTE = _WR_DATA | 41
    UNSET_MANIFEST = _WR_DATA | 42
    TIER_FLUSH = _CACHE_DATA | 43
    TIER_EVICT = _CACHE_DATA | 44
    GETXATTR = _RD_ATTR | 1
    GETXATTRS = _RD_ATTR | 2
    CMPXATTR = _RD_ATTR | 3
    SETXATTR = _WR_ATTR | 1
    SETXATTRS = _WR_ATTR | 2
    RESETXATTRS = _WR_ATTR | 3
    RMXATTR = _WR_ATTR | 4
    PULL = CEPH_OSD_OP_MODE_SUB | 1
    PUSH = CEPH_OSD_OP_MODE_SUB | 2
    BALANCEREADS = CEPH_OSD_OP_MODE_SUB | 3
    UNBALANCEREADS = CEPH_OSD_OP_MODE_SUB | 4
    SCRUB = CEPH_OSD_OP_MODE_SUB | 5
    SCRUB_RESERVE = CEPH_OSD_OP_MODE_SUB | 6
    SCRUB_UNRESERVE = CEPH_OSD_OP_MODE_SUB | 7
    SCRUB_MAP = CEPH_OSD_OP_MODE_SUB | 9
    CALL = CEPH_OSD_OP_MODE_RD | CEPH_OSD_OP_TYPE_EXEC | 1
    PGLS = _RD_PG | 1
    PGLS_FILTER = _RD_PG | 2
    PG_HITSET_LS = _RD_PG | 3
    PG_HITSET_GET = _RD_PG | 4
    PGNLS = _RD_PG | 5
    PGNLS_FILTER = _RD_PG | 6
    SCRUBLS = _RD_PG | 7


_SPECIAL_NAMES = {
    "SPARSE_READ": "sparse-read", "NOTIFY_ACK": "notify-ack", "ASSERT_VER": "assert-version",
    "LIST_WATCHERS": "list-watchers", "LIST_SNAPS": "list-snaps", "SYNC_READ": "sync_read",
    "OMAPGETKEYS": "omap-get-keys", "OMAPGETVALS": "omap-get-vals",
    "OMAPGETHEADER": "omap-get-header", "OMAPGETVALSBYKEYS": "omap-get-vals-by-keys",
    "OMAPSETVALS": "omap-set-vals", "OMAPSETHEADER": "omap-set-header",
    "OMAPCLEAR": "omap-clear", "OMAPRMKEYS": "omap-rm-keys",
    "OMAPRMKEYRANGE": "omap-rm-key-range", "OMAP_CMP": "omap-cmp",
    "SETALLOCHINT": "set-alloc-hint", "WRITESAME": "write-same",
    "BALANCEREADS": "balance-reads", "UNBALANCEREADS": "unbalance-reads",
}

#: ``ceph_osd_op_name``: printed name of every op code.
OSD_OP_NAMES: dict[int, str] = {
    code: _SPECIAL_NAMES.get(code.name, code.name.lower().replace("_", "-"))
    for code in OsdOpCode
}


def ceph_osd_op_name(op: int) -> str:
    """``ceph_osd_op_name``: ``read``, ``omap-get-vals`` ...; ``???`` when unknown."""
    return OSD_OP_NAMES.get(op, "???")


def op_type_data(op: int) -> bool:
    """``ceph_osd_op_type_data``."""
    return (op & CEPH_OSD_OP_TYPE) == CEPH_OSD_OP_TYPE_DATA


def op_type_attr(op: int) -> bool:
    """``ceph_osd_op_type_attr``."""
    return (op & CEPH_OSD_OP_TYPE) == CEPH_OSD_OP_TYPE_ATTR


def op_type_exec(op: int) -> bool:
    """``ceph_osd_op_type_exec``."""
    return (op & CEPH_OSD_OP_TYPE) == CEPH_OSD_OP_TYPE_EXEC


def op_type_pg(op: int) -> bool:
    """``ceph_osd_op_type_pg``."""
    return (op & CEPH_OSD_OP_TYPE) == CEPH_OSD_OP_TYPE_PG


def op_mode_read(op: int) -> bool:
    """``ceph_osd_op_mode_read`` (CALL's RD bit is not a read)."""
    return bool(op & CEPH_OSD_OP_MODE_RD) and op != OsdOpCode.CALL


def op_mode_modify(op: int) -> bool:
    """``ceph_osd_op_mode_modify``."""
    return bool(op & CEPH_OSD_OP_MODE_WR)


# -- flags ---------------------------------------------------------------------------------


class OsdFlag(IntFlag):
    """``CEPH_OSD_FLAG_*``: flags of a whole MOSDOp (and its reply)."""

    ACK = 0x0001
    ONNVRAM = 0x0002
    ONDISK = 0x0004
    RETRY = 0x0008
    READ = 0x0010
    WRITE = 0x0020
    ORDERSNAP = 0x0040
    PEERSTAT_OLD = 0x0080
    BALANCE_READS = 0x0100
    PARALLELEXEC = 0x0200
    PGOP = 0x0400
    EXEC = 0x0800
    EXEC_PUBLIC = 0x1000
    LOCALIZE_READS = 0x2000
    RWORDERED = 0x4000
    IGNORE_CACHE = 0x8000
    SKIPRWLOCKS = 0x10000
    IGNORE_OVERLAY = 0x20000
    FLUSH = 0x40000
    MAP_SNAP_CLONE = 0x80000
    ENFORCE_SNAPC = 0x100000
    REDIRECTED = 0x200000
    KNOWN_REDIR = 0x400000
    FULL_TRY = 0x800000
    FULL_FORCE = 0x1000000
    IGNORE_REDIRECT = 0x2000000
    RETURNVEC = 0x4000000
    SUPPORTSPOOLEIO = 0x8000000


_OSD_FLAG_NAMES: dict[int, str] = {
    OsdFlag.ACK: "ack", OsdFlag.ONNVRAM: "onnvram", OsdFlag.ONDISK: "ondisk",
    OsdFlag.RETRY: "retry", OsdFlag.READ: "read", OsdFlag.WRITE: "write",
    OsdFlag.ORDERSNAP: "ordersnap", OsdFlag.PEERSTAT_OLD: "peerstat_old",
    OsdFlag.BALANCE_READS: "balance_reads", OsdFlag.PARALLELEXEC: "parallelexec",
    OsdFlag.PGOP: "pgop", OsdFlag.EXEC: "exec", OsdFlag.EXEC_PUBLIC: "exec_public",
    OsdFlag.LOCALIZE_READS: "localize_reads", OsdFlag.RWORDERED: "rwordered",
    OsdFlag.IGNORE_CACHE: "ignore_cache", OsdFlag.SKIPRWLOCKS: "skiprwlocks",
    OsdFlag.IGNORE_OVERLAY: "ignore_overlay", OsdFlag.FLUSH: "flush",
    OsdFlag.MAP_SNAP_CLONE: "map_snap_clone", OsdFlag.ENFORCE_SNAPC: "enforce_snapc",
    OsdFlag.REDIRECTED: "redirected", OsdFlag.KNOWN_REDIR: "known_if_redirected",
    OsdFlag.FULL_TRY: "full_try", OsdFlag.FULL_FORCE: "full_force",
    OsdFlag.IGNORE_REDIRECT: "ignore_redirect", OsdFlag.RETURNVEC: "returnvec",
    OsdFlag.SUPPORTSPOOLEIO: "supports_pool_eio",
}


class OsdOpFlag(IntFlag):
    """``CEPH_OSD_OP_FLAG_*``: flags of one op."""

    EXCL = 0x1
    FAILOK = 0x2
    FADVISE_RANDOM = 0x4
    FADVISE_SEQUENTIAL = 0x8
    FADVISE_WILLNEED = 0x10
    FADVISE_DONTNEED = 0x20
    FADVISE_NOCACHE = 0x40
    WITH_REFERENCE = 0x80
    BYPASS_CLEAN_CACHE = 0x100


_OP_FLAG_NAMES: dict[int, str] = {
    OsdOpFlag.EXCL: "excl", OsdOpFlag.FAILOK: "failok",
    OsdOpFlag.FADVISE_RANDOM: "fadvise_random",
    OsdOpFlag.FADVISE_SEQUENTIAL: "fadvise_sequential",
    OsdOpFlag.FADVISE_WILLNEED: "favise_willneed",  # sic, as Ceph prints it
    OsdOpFlag.FADVISE_DONTNEED: "fadvise_dontneed",
    OsdOpFlag.FADVISE_NOCACHE: "fadvise_nocache",
    OsdOpFlag.WITH_REFERENCE: "with_reference",
    OsdOpFlag.BYPASS_CLEAN_CACHE: "bypass_clean_cache",
}


def _flag_string(flags: int, names: Mapping[int, str]) -> str:
    parts = [names.get(1 << i, "???") for i in range(32) if flags & (1 << i)]
    return "+".join(parts) if parts else "-"


def ceph_osd_flag_string(flags: int) -> str:
    """``ceph_osd_flag_string``: ``ondisk+write+known_if_redirected`` or ``-``."""
    return _flag_string(flags, _OSD_FLAG_NAMES)


def ceph_osd_op_flag_string(flags: int) -> str:
    """``ceph_osd_op_flag_string``: ``excl+failok`` or ``-``."""
    return _flag_string(flags, _OP_FLAG_NAMES)


class WatchOp(IntEnum):
    """``CEPH_OSD_WATCH_OP_*`` (odd numbers, so pre-Giant OSDs never see UNWATCH)."""

    UNWATCH = 0
    LEGACY_WATCH = 1
    WATCH = 3
    RECONNECT = 5
    PING = 7


_WATCH_OP_NAMES: dict[int, str] = {
    WatchOp.UNWATCH: "unwatch", WatchOp.WATCH: "watch", WatchOp.RECONNECT: "reconnect",
    WatchOp.PING: "ping"}


def ceph_osd_watch_op_name(op: int) -> str:
    """``ceph_osd_watch_op_name`` (legacy-watch prints ``???``, as in Ceph)."""
    return _WATCH_OP_NAMES.get(op, "???")


class WatchEvent(IntEnum):
    """``CEPH_WATCH_EVENT_*``: the opcode of an MWatchNotify."""

    NOTIFY = 1
    NOTIFY_COMPLETE = 2
    DISCONNECT = 3


_WATCH_EVENT_NAMES: dict[int, str] = {
    WatchEvent.NOTIFY: "notify", WatchEvent.NOTIFY_COMPLETE: "notify_complete",
    WatchEvent.DISCONNECT: "disconnect"}


def ceph_watch_event_name(event: int) -> str:
    """``ceph_watch_event_name``."""
    return _WATCH_EVENT_NAMES.get(event, "???")


class CmpXattrOp(IntEnum):
    """``CEPH_OSD_CMPXATTR_OP_*``."""

    EQ = 1
    NE = 2
    GT = 3
    GTE = 4
    LT = 5
    LTE = 6


class CmpXattrMode(IntEnum):
    """``CEPH_OSD_CMPXATTR_MODE_*``: compare as bytes or as a u64."""

    STRING = 1
    U64 = 2


class AllocHintFlag(IntFlag):
    """``CEPH_OSD_ALLOC_HINT_FLAG_*``."""

    SEQUENTIAL_WRITE = 1
    RANDOM_WRITE = 2
    SEQUENTIAL_READ = 4
    RANDOM_READ = 8
    APPEND_ONLY = 16
    IMMUTABLE = 32
    SHORTLIVED = 64
    LONGLIVED = 128
    COMPRESSIBLE = 256
    INCOMPRESSIBLE = 512


class BackoffOp(IntEnum):
    """``CEPH_OSD_BACKOFF_OP_*``."""

    BLOCK = 1
    ACK_BLOCK = 2
    UNBLOCK = 3


_BACKOFF_OP_NAMES: dict[int, str] = {
    BackoffOp.BLOCK: "block", BackoffOp.ACK_BLOCK: "ack-block", BackoffOp.UNBLOCK: "unblock"}


def ceph_osd_backoff_op_name(op: int) -> str:
    """``ceph_osd_backoff_op_name``."""
    return _BACKOFF_OP_NAMES.get(op, "???")


# -- the ceph_osd_op union -----------------------------------------------------------------

#: Size of the union in ``ceph_osd_op``.
OSD_OP_ARGS_LEN = 28
#: Size of one encoded ``ceph_osd_op``.
OSD_OP_LEN = 38
ZERO_ARGS = bytes(OSD_OP_ARGS_LEN)

_OP_HEAD = struct.Struct("<HI")
_OP_TAIL = struct.Struct("<I")
_EXTENT = struct.Struct("<QQQI")
_XATTR = struct.Struct("<IIBB")
_CLS = struct.Struct("<BBBI")
_PGLS = struct.Struct("<QI")
_U64 = struct.Struct("<Q")
_WATCH = struct.Struct("<QQBII")
_ASSERT_VER = struct.Struct("<QQ")
_COPY_FROM = struct.Struct("<QQBI")
_TIMESPEC = struct.Struct("<II")
_ALLOC_HINT = struct.Struct("<QQI")


def _args(st: struct.Struct, *values: int) -> bytes:
    return st.pack(*values).ljust(OSD_OP_ARGS_LEN, b"\0")


class Extent(NamedTuple):
    """``ceph_osd_op.extent``."""

    offset: int
    length: int
    truncate_size: int = 0
    truncate_seq: int = 0


class XattrArgs(NamedTuple):
    """``ceph_osd_op.xattr``: lengths of name and value in the op's input."""

    name_len: int
    value_len: int
    cmp_op: int = 0
    cmp_mode: int = 0


class ClsArgs(NamedTuple):
    """``ceph_osd_op.cls``: class and method name lengths, input length."""

    class_len: int
    method_len: int
    argc: int
    indata_len: int


class PglsArgs(NamedTuple):
    """``ceph_osd_op.pgls``: most entries wanted (Ceph's ``count``), epoch the
    listing started in."""

    max_entries: int
    start_epoch: int


class WatchArgs(NamedTuple):
    """``ceph_osd_op.watch``."""

    cookie: int
    ver: int
    op: int
    gen: int
    timeout: int


class AllocHint(NamedTuple):
    """``ceph_osd_op.alloc_hint``."""

    expected_object_size: int
    expected_write_size: int
    flags: int = 0


@dataclass(frozen=True, slots=True)
class OSDOp:
    """One object operation: the ``ceph_osd_op``, its input and output and result.

    ``args`` is the raw 28-byte union (read it through the typed properties).
    ``indata`` travels in an MOSDOp's data segment and ``outdata`` in an
    MOSDOpReply's; ``rval`` is the op's own result in a reply.
    """

    op: int
    flags: int = 0
    args: bytes = ZERO_ARGS
    indata: Buffer = b""
    outdata: Buffer = b""
    rval: int = 0

    def __post_init__(self) -> None:
        if len(self.args) != OSD_OP_ARGS_LEN:
            raise ValueError(f"ceph_osd_op union is {OSD_OP_ARGS_LEN} bytes, "
                             f"got {len(self.args)}")

    @property
    def name(self) -> str:
        """Ceph's printed name of the op code."""
        return ceph_osd_op_name(self.op)

    @property
    def extent(self) -> Extent:
        """The union as ``extent`` (read, write, truncate, zero ...)."""
        return Extent._make(_EXTENT.unpack_from(self.args))

    @property
    def xattr(self) -> XattrArgs:
        """The union as ``xattr``."""
        return XattrArgs._make(_XATTR.unpack_from(self.args))

    @property
    def cls(self) -> ClsArgs:
        """The union as ``cls`` (CALL)."""
        return ClsArgs._make(_CLS.unpack_from(self.args))

    @property
    def pgls(self) -> PglsArgs:
        """The union as ``pgls`` (PGLS, PGNLS)."""
        return PglsArgs._make(_PGLS.unpack_from(self.args))

    @property
    def snapid(self) -> int:
        """The union as ``snap`` (ROLLBACK) or ``copy_get.max``/``notify.cookie``."""
        v: int = _U64.unpack_from(self.args)[0]
        return v

    @property
    def watch(self) -> WatchArgs:
        """The union as ``watch``."""
        return WatchArgs._make(_WATCH.unpack_from(self.args))

    @property
    def notify_cookie(self) -> int:
        """``notify.cookie``."""
        return self.snapid

    @property
    def assert_ver(self) -> int:
        """``assert_ver.ver``."""
        v: int = _ASSERT_VER.unpack_from(self.args)[1]
        return v

    @property
    def alloc_hint(self) -> AllocHint:
        """The union as ``alloc_hint``."""
        return AllocHint._make(_ALLOC_HINT.unpack_from(self.args))

    def with_outdata(self, outdata: Buffer, rval: int = 0) -> OSDOp:
        """A copy carrying a reply's output and result."""
        return OSDOp(self.op, self.flags, self.args, self.indata, outdata, rval)

    def __str__(self) -> str:
        return format_op(self)


def pull_osd_op(r: Reader) -> tuple[OSDOp, int]:
    """One packed ``ceph_osd_op``; returns the op (no data yet) and its payload_len."""
    raw = r.pull_view(OSD_OP_LEN)
    op, flags = _OP_HEAD.unpack_from(raw)
    (payload_len,) = _OP_TAIL.unpack_from(raw, 34)
    return OSDOp(op, flags, bytes(raw[6:34])), payload_len


def push_osd_op(w: Writer, op: OSDOp, payload_len: int) -> None:
    """One packed ``ceph_osd_op`` with the given payload_len."""
    w.push_bytes(_OP_HEAD.pack(op.op & 0xFFFF, op.flags & 0xFFFFFFFF))
    w.push_bytes(op.args)
    w.push_u32(payload_len)


def split_payloads(ops: Sequence[tuple[OSDOp, int]], data: memoryview, *,
                   out: bool) -> list[OSDOp]:
    """``split_osd_op_vector_{in,out}_data``: give each op its ``payload_len`` bytes.

    Slices of ``data`` become each op's ``indata`` (or ``outdata`` when ``out``),
    without copying. Raises DecodeError when the lengths exceed the data segment.
    """
    total = sum(n for _, n in ops)
    if total > len(data):
        raise DecodeError(f"op payload lengths ({total} bytes) exceed the data segment "
                          f"({len(data)} bytes)")
    result: list[OSDOp] = []
    pos = 0
    for op, n in ops:
        chunk = data[pos:pos + n]
        pos += n
        if not n:
            result.append(op)
        elif out:
            result.append(OSDOp(op.op, op.flags, op.args, b"", chunk, op.rval))
        else:
            result.append(OSDOp(op.op, op.flags, op.args, chunk, b"", op.rval))
    return result


# -- printing ----------------------------------------------------------------------------

_EXTENT_PRINTED = frozenset({
    OsdOpCode.READ, OsdOpCode.SPARSE_READ, OsdOpCode.SYNC_READ, OsdOpCode.WRITE,
    OsdOpCode.WRITEFULL, OsdOpCode.ZERO, OsdOpCode.APPEND, OsdOpCode.MAPEXT,
    OsdOpCode.CMPEXT})


def _text(b: Buffer) -> str:
    return bytes(b).decode("utf-8", "replace")


def format_op(op: OSDOp) -> str:
    """The op as Ceph prints an ``OSDOp`` (``read 0~4096``, ``getxattr color (4)``)."""
    code = op.op
    out = [ceph_osd_op_name(code)]
    if op_type_data(code):
        out.append(_format_data_op(op))
    elif op_type_attr(code):
        x = op.xattr
        if x.name_len and len(op.indata):
            out.append(" " + _text(op.indata[:x.name_len]))
        if x.value_len:
            out.append(f" ({x.value_len})")
        if code == OsdOpCode.CMPXATTR:
            out.append(f" op {x.cmp_op} mode {x.cmp_mode}")
    elif op_type_exec(code):
        c = op.cls
        if c.class_len and len(op.indata):
            method = op.indata[c.class_len:c.class_len + c.method_len]
            out.append(f" {_text(op.indata[:c.class_len])}.{_text(method)}")
    elif op_type_pg(code):
        if code in (OsdOpCode.PGLS, OsdOpCode.PGLS_FILTER, OsdOpCode.PGNLS,
                    OsdOpCode.PGNLS_FILTER):
            out.append(f" start_epoch {op.pgls.start_epoch}")
        elif code == OsdOpCode.PG_HITSET_GET:
            sec, nsec = _TIMESPEC.unpack_from(op.args)
            out.append(f" {sec}.{nsec:09d}")
    if len(op.indata):
        out.append(f" in={len(op.indata)}b")
    if len(op.outdata):
        out.append(f" out={len(op.outdata)}b")
    return "".join(out)


def _format_data_op(op: OSDOp) -> str:
    code = op.op
    if code == OsdOpCode.ASSERT_VER:
        return f" v{op.assert_ver}"
    if code == OsdOpCode.TRUNCATE:
        return f" {op.extent.offset}"
    if code in (OsdOpCode.MASKTRUNC, OsdOpCode.TRIMTRUNC):
        e = op.extent
        return f" {e.truncate_seq}@{_s64(e.truncate_size)}"
    if code == OsdOpCode.ROLLBACK:
        return f" {snap_str(op.snapid)}"
    if code == OsdOpCode.WATCH:
        w = op.watch
        gen = f" gen {w.gen}" if w.gen else ""
        return f" {ceph_osd_watch_op_name(w.op)} cookie {w.cookie}{gen}"
    if code == OsdOpCode.NOTIFY:
        return f" cookie {op.notify_cookie}"
    if code == OsdOpCode.COPY_GET:
        return f" max {op.snapid}"
    if code == OsdOpCode.COPY_FROM:
        return f" ver {_COPY_FROM.unpack_from(op.args)[1]}"
    if code == OsdOpCode.SETALLOCHINT:
        h = op.alloc_hint
        return f" object_size {h.expected_object_size} write_size {h.expected_write_size}"
    if code in _EXTENT_PRINTED:
        e = op.extent
        text = f" {e.offset}~{e.length}"
        if e.truncate_seq:
            text += f" [{e.truncate_seq}@{_s64(e.truncate_size)}]"
        if op.flags:
            text += f" [{ceph_osd_op_flag_string(op.flags)}]"
        return text
    return ""


def _s64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def format_ops(ops: Iterable[OSDOp]) -> str:
    """A vector of ops as Ceph prints one: ``[set-alloc-hint ...,write 0~4096]``."""
    return "[" + ",".join(format_op(op) for op in ops) + "]"


# -- constructors (librados' ObjectOperation) ----------------------------------------------


def _extent_op(code: int, offset: int, length: int, data: Buffer = b"", *,
               flags: int = 0, truncate_size: int = 0, truncate_seq: int = 0) -> OSDOp:
    return OSDOp(code, flags, _args(_EXTENT, offset, length, truncate_size, truncate_seq),
                 data)


def read(offset: int, length: int, *, flags: int = 0, truncate_size: int = 0,
         truncate_seq: int = 0) -> OSDOp:
    """READ ``length`` bytes at ``offset`` (0 reads to the end of the object)."""
    return _extent_op(OsdOpCode.READ, offset, length, flags=flags,
                      truncate_size=truncate_size, truncate_seq=truncate_seq)


def sparse_read(offset: int, length: int, *, flags: int = 0) -> OSDOp:
    """SPARSE_READ: output is the extent map and the data (``decode_sparse_read``)."""
    return _extent_op(OsdOpCode.SPARSE_READ, offset, length, flags=flags)


def stat() -> OSDOp:
    """STAT: output is size and mtime (``decode_stat``)."""
    return OSDOp(OsdOpCode.STAT)


def write(offset: int, data: Buffer, *, flags: int = 0) -> OSDOp:
    """WRITE ``data`` at ``offset``."""
    return _extent_op(OsdOpCode.WRITE, offset, len(data), data, flags=flags)


def writefull(data: Buffer, *, flags: int = 0) -> OSDOp:
    """WRITEFULL: replace the object's data with ``data``."""
    return _extent_op(OsdOpCode.WRITEFULL, 0, len(data), data, flags=flags)


def append(data: Buffer) -> OSDOp:
    """APPEND ``data`` to the object."""
    return _extent_op(OsdOpCode.APPEND, 0, len(data), data)


def truncate(size: int) -> OSDOp:
    """TRUNCATE the object to ``size`` bytes."""
    return _extent_op(OsdOpCode.TRUNCATE, size, 0)


def zero(offset: int, length: int) -> OSDOp:
    """ZERO ``length`` bytes at ``offset``."""
    return _extent_op(OsdOpCode.ZERO, offset, length)


def create(exclusive: bool) -> OSDOp:
    """CREATE the object; ``exclusive`` fails with EEXIST when it exists."""
    return OSDOp(OsdOpCode.CREATE, OsdOpFlag.EXCL if exclusive else 0)


def remove() -> OSDOp:
    """DELETE the object."""
    return OSDOp(OsdOpCode.DELETE)


def _name_bytes(name: str | bytes) -> bytes:
    return name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name


def _xattr_op(code: int, name: str | bytes, value: Buffer = b"", cmp_op: int = 0,
              cmp_mode: int = 0) -> OSDOp:
    key = _name_bytes(name)
    return OSDOp(code, 0, _args(_XATTR, len(key), len(value), cmp_op, cmp_mode),
                 key + bytes(value))


def getxattr(name: str | bytes) -> OSDOp:
    """GETXATTR: output is the value's bytes (ENODATA when absent)."""
    return _xattr_op(OsdOpCode.GETXATTR, name)


def getxattrs() -> OSDOp:
    """GETXATTRS: output is every xattr (``decode_xattrs``)."""
    return OSDOp(OsdOpCode.GETXATTRS)


def setxattr(name: str | bytes, value: Buffer) -> OSDOp:
    """SETXATTR ``name`` = ``value``."""
    return _xattr_op(OsdOpCode.SETXATTR, name, value)


def rmxattr(name: str | bytes) -> OSDOp:
    """RMXATTR ``name``."""
    return _xattr_op(OsdOpCode.RMXATTR, name)


def cmpxattr(name: str | bytes, cmp_op: int, value: Buffer | int,
             mode: int = CmpXattrMode.STRING) -> OSDOp:
    """CMPXATTR: fail the op vector (ECANCELED) unless ``xattr OP value`` holds.

    With ``mode`` U64 the value is an integer compared numerically (encoded u64).
    """
    if mode == CmpXattrMode.U64:
        if not isinstance(value, int):
            raise TypeError("a U64 comparison needs an int value")
        raw: Buffer = _U64.pack(value)
    elif isinstance(value, int):
        raise TypeError("a STRING comparison needs a bytes value")
    else:
        raw = value
    return _xattr_op(OsdOpCode.CMPXATTR, name, raw, cmp_op, mode)


def omap_get_keys(start_after: str = "", max_return: int = 512) -> OSDOp:
    """OMAPGETKEYS after ``start_after`` (output: ``decode_omap_keys``)."""
    w = Writer()
    push_omap_get_keys_input(w, start_after, max_return)
    return OSDOp(OsdOpCode.OMAPGETKEYS, indata=w.getvalue())


def omap_get_vals(start_after: str = "", filter_prefix: str = "",
                  max_return: int = 512) -> OSDOp:
    """OMAPGETVALS after ``start_after`` with keys starting ``filter_prefix``."""
    w = Writer()
    push_omap_get_vals_input(w, start_after, max_return, filter_prefix)
    return OSDOp(OsdOpCode.OMAPGETVALS, indata=w.getvalue())


def omap_get_vals_by_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPGETVALSBYKEYS: the values of ``keys`` that exist."""
    w = Writer()
    push_omap_key_set(w, keys)
    return OSDOp(OsdOpCode.OMAPGETVALSBYKEYS, indata=w.getvalue())


def omap_get_header() -> OSDOp:
    """OMAPGETHEADER: output is the header's bytes."""
    return OSDOp(OsdOpCode.OMAPGETHEADER)


def omap_set(values: Mapping[str, Buffer]) -> OSDOp:
    """OMAPSETVALS: set these keys."""
    w = Writer()
    push_omap_map(w, values)
    return OSDOp(OsdOpCode.OMAPSETVALS, indata=w.getvalue())


def omap_set_header(header: Buffer) -> OSDOp:
    """OMAPSETHEADER."""
    return OSDOp(OsdOpCode.OMAPSETHEADER, indata=bytes(header))


def omap_rm_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPRMKEYS."""
    w = Writer()
    push_omap_key_set(w, keys)
    return OSDOp(OsdOpCode.OMAPRMKEYS, indata=w.getvalue())


def omap_clear() -> OSDOp:
    """OMAPCLEAR: remove every key and the header."""
    return OSDOp(OsdOpCode.OMAPCLEAR)


def set_alloc_hint(expected_object_size: int, expected_write_size: int,
                   flags: int = 0) -> OSDOp:
    """SETALLOCHINT (``rados bench`` sends one before each write)."""
    return OSDOp(OsdOpCode.SETALLOCHINT, 0,
                 _args(_ALLOC_HINT, expected_object_size, expected_write_size, flags))


def assert_version(ver: int) -> OSDOp:
    """ASSERT_VER: fail unless the object's user version is ``ver``."""
    return OSDOp(OsdOpCode.ASSERT_VER, 0, _args(_ASSERT_VER, 0, ver))


def watch(cookie: int, op: int = WatchOp.WATCH, *, timeout: int = 0, gen: int = 0) -> OSDOp:
    """WATCH with a watch op: WATCH, RECONNECT, PING (with ``gen``) or UNWATCH."""
    return OSDOp(OsdOpCode.WATCH, 0, _args(_WATCH, cookie, 0, op, gen, timeout))


def unwatch(cookie: int) -> OSDOp:
    """WATCH op UNWATCH."""
    return watch(cookie, WatchOp.UNWATCH)


def watch_ping(cookie: int, gen: int) -> OSDOp:
    """WATCH op PING for registration generation ``gen``."""
    return watch(cookie, WatchOp.PING, gen=gen)


def list_watchers() -> OSDOp:
    """LIST_WATCHERS (output: ``decode_list_watchers``)."""
    return OSDOp(OsdOpCode.LIST_WATCHERS)


def notify(cookie: int, payload: Buffer, timeout: int, *, prot_ver: int = 1) -> OSDOp:
    """NOTIFY the object's watchers (output: the notify id, ``decode_notify_id``)."""
    w = Writer()
    push_notify_input(w, prot_ver, timeout, payload)
    return OSDOp(OsdOpCode.NOTIFY, 0, _args(_U64, cookie), w.getvalue())


def notify_ack(notify_id: int, cookie: int, reply: Buffer = b"") -> OSDOp:
    """NOTIFY_ACK a notification received on watch ``cookie``."""
    w = Writer()
    push_notify_ack_input(w, notify_id, cookie, reply)
    return OSDOp(OsdOpCode.NOTIFY_ACK, indata=w.getvalue())


def call(cls: str, method: str, indata: Buffer = b"") -> OSDOp:
    """CALL ``cls.method`` of an object class with ``indata`` (output: its reply)."""
    c = _name_bytes(cls)
    m = _name_bytes(method)
    if len(c) > 255 or len(m) > 255:
        raise ValueError("class and method names are at most 255 bytes")
    return OSDOp(OsdOpCode.CALL, 0, _args(_CLS, len(c), len(m), 0, len(indata)),
                 c + m + bytes(indata))


def pgnls(count: int, cursor: HObject, start_epoch: int, *,
          filter_data: Buffer | None = None) -> OSDOp:
    """PGNLS (or PGNLS_FILTER): list up to ``count`` objects of a PG from ``cursor``.

    Send it with :data:`OsdFlag.PGOP` on the PG's hash (no object name); the
    output is a ``pg_nls_response_t`` (``decode_pgnls``), and the reply's result
    is 1 once the PG is exhausted. ``filter_data`` is a ``pg.filter`` argument.
    """
    w = Writer()
    code = OsdOpCode.PGNLS
    if filter_data is not None:
        code = OsdOpCode.PGNLS_FILTER
        w.push_string("pg")
        w.push_string("filter")
        w.push_bytes(filter_data)
    push_hobject(w, cursor)
    return OSDOp(code, 0, _args(_PGLS, count, start_epoch), w.getvalue())


__all__ = [
    "OSD_OP_ARGS_LEN",
    "OSD_OP_LEN",
    "OSD_OP_NAMES",
    "ZERO_ARGS",
    "AllocHint",
    "AllocHintFlag",
    "BackoffOp",
    "ClsArgs",
    "CmpXattrMode",
    "CmpXattrOp",
    "Extent",
    "OSDOp",
    "OsdFlag",
    "OsdOpCode",
    "OsdOpFlag",
    "PglsArgs",
    "WatchArgs",
    "WatchEvent",
    "WatchOp",
    "XattrArgs",
    "append",
    "assert_version",
    "call",
    "ceph_osd_backoff_op_name",
    "ceph_osd_flag_string",
    "ceph_osd_op_flag_string",
    "ceph_osd_op_name",
    "ceph_osd_watch_op_name",
    "ceph_watch_event_name",
    "cmpxattr",
    "create",
    "format_op",
    "format_ops",
    "getxattr",
    "getxattrs",
    "list_watchers",
    "notify",
    "notify_ack",
    "omap_clear",
    "omap_get_header",
    "omap_get_keys",
    "omap_get_vals",
    "omap_get_vals_by_keys",
    "omap_rm_keys",
    "omap_set",
    "omap_set_header",
    "op_mode_modify",
    "op_mode_read",
    "op_type_attr",
    "op_type_data",
    "op_type_exec",
    "op_type_pg",
    "pgnls",
    "pull_osd_op",
    "push_osd_op",
    "read",
    "remove",
    "rmxattr",
    "set_alloc_hint",
    "setxattr",
    "sparse_read",
    "split_payloads",
    "stat",
    "truncate",
    "unwatch",
    "watch",
    "watch_ping",
    "write",
    "writefull",
    "zero",
]
