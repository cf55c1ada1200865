"""RADOS op codes and flags with Ceph's printed names (``rados.h``, ``ceph_strings.cc``).

* :class:`OsdOpCode` (``CEPH_OSD_OP_*``, ``OsdOpCode.READ`` is ``CEPH_OSD_OP_READ``)
  and :data:`OSD_OP_NAMES` / :func:`ceph_osd_op_name` (``read``, ``omap-get-vals``);
  the mode and type classifiers (``ceph_osd_op_type_data`` ...);
* :class:`OsdFlag` (``CEPH_OSD_FLAG_*``, a whole op vector's flags) and
  :class:`OsdOpFlag` (``CEPH_OSD_OP_FLAG_*``, one op's), printed by
  :func:`ceph_osd_flag_string` / :func:`ceph_osd_op_flag_string`;
* watch ops, watch events, xattr comparisons, allocation hints, backoff ops.

Everything here is re-exported by :mod:`asyncmsgr.osd.ops`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, IntFlag

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


__all__ = [
    "CEPH_OSD_OP_MODE",
    "CEPH_OSD_OP_MODE_CACHE",
    "CEPH_OSD_OP_MODE_RD",
    "CEPH_OSD_OP_MODE_RMW",
    "CEPH_OSD_OP_MODE_SUB",
    "CEPH_OSD_OP_MODE_WR",
    "CEPH_OSD_OP_TYPE",
    "CEPH_OSD_OP_TYPE_ATTR",
    "CEPH_OSD_OP_TYPE_DATA",
    "CEPH_OSD_OP_TYPE_EXEC",
    "CEPH_OSD_OP_TYPE_PG",
    "OSD_OP_NAMES",
    "AllocHintFlag",
    "BackoffOp",
    "CmpXattrMode",
    "CmpXattrOp",
    "OsdFlag",
    "OsdOpCode",
    "OsdOpFlag",
    "WatchEvent",
    "WatchOp",
    "ceph_osd_backoff_op_name",
    "ceph_osd_flag_string",
    "ceph_osd_op_flag_string",
    "ceph_osd_op_name",
    "ceph_osd_watch_op_name",
    "ceph_watch_event_name",
    "op_mode_modify",
    "op_mode_read",
    "op_type_attr",
    "op_type_data",
    "op_type_exec",
    "op_type_pg",
]
