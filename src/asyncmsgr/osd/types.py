"""Small RADOS value types and their codecs (Ceph ``src/osd/osd_types.h``).

* :class:`PG` ``pg_t`` (pool, placement seed; printed ``1.6`` with the seed in hex),
  :class:`SPG` ``spg_t`` (a PG and an erasure-code shard, ``1.6s2``);
* :class:`ObjectLocator` ``object_locator_t`` (pool, locator key, namespace, hash);
* :class:`OsdReqId` ``osd_reqid_t`` (the client's entity name, tid, incarnation);
* :class:`EVersion` ``eversion_t`` (epoch, version; 12 raw bytes on the wire);
* :class:`HObject` ``hobject_t`` (the OSD's object id: pool, namespace, key, name,
  snap, 32-bit hash), with Ceph's printed form ``1:61bc53c3:::myobj:head``;
* :func:`ceph_stable_mod` and :func:`pg_num_mask` (how a hash becomes a PG seed).

Each codec is a ``pull_x(Reader)``/``push_x(Writer, x)`` pair. Values are
NamedTuples: they are dictionary keys (``pg_temp`` maps) and sort as Ceph's
``operator<`` does (``pg_t`` by pool then seed, ``eversion_t`` by epoch then
version). Only Pacific-era encodings are decoded: a struct older than the one that
introduced its length header raises :class:`~asyncmsgr.errors.IncompatibleEncoding`.
"""

from __future__ import annotations

from typing import NamedTuple

from asyncmsgr.errors import DecodeError, IncompatibleEncoding
from asyncmsgr.types import EntityName
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_entity_name, push_entity_name

#: ``CEPH_NOSNAP``: the head object (``snapid_t`` -2).
CEPH_NOSNAP = (1 << 64) - 2
#: ``CEPH_SNAPDIR``: the snap directory pseudo-object (``snapid_t`` -1).
CEPH_SNAPDIR = (1 << 64) - 1
#: ``shard_id_t::NO_SHARD``: replicated pools have no shard.
NO_SHARD = -1
#: ``INT64_MIN``: the pool of ``hobject_t``'s minimum.
_POOL_MIN = -(1 << 63)


def ceph_stable_mod(x: int, b: int, bmask: int) -> int:
    """``ceph_stable_mod``: ``x`` mod ``b`` that moves few values when ``b`` grows.

    ``bmask`` is ``2^n - 1`` for the smallest ``2^n >= b`` (:func:`pg_num_mask`).
    """
    if (x & bmask) < b:
        return x & bmask
    return x & (bmask >> 1)


def cbits(v: int) -> int:
    """Number of significant bits of ``v`` (``cbits`` in ``include/intarith.h``)."""
    return v.bit_length()


def pg_num_mask(pg_num: int) -> int:
    """``pg_pool_t::calc_pg_masks``: ``(1 << cbits(pg_num - 1)) - 1``."""
    return (1 << cbits(pg_num - 1)) - 1


def _versioned(r: Reader, known_v: int, min_v: int, what: str) -> tuple[int, Reader]:
    """DECODE_START for structs whose legacy (length-less) forms predate Pacific."""
    struct_v, body = r.pull_versioned(known_v, what)
    if struct_v < min_v:
        raise IncompatibleEncoding(f"{what}: struct_v {struct_v} predates v{min_v}")
    return struct_v, body


# -- pg_t / spg_t ----------------------------------------------------------------------


class PG(NamedTuple):
    """``pg_t``: a placement group of a pool, by its seed (``ps``)."""

    pool: int
    seed: int

    def __str__(self) -> str:
        return f"{self.pool}.{self.seed:x}"

    @classmethod
    def parse(cls, text: str) -> PG:
        """Parse ``POOL.SEED`` with the seed in hex (``1.1f``); raises ValueError."""
        pool, sep, seed = text.partition(".")
        if not sep or not pool.isdigit() or not seed:
            raise ValueError(f"bad pgid {text!r}")
        return cls(int(pool), int(seed, 16))


def pull_pg(r: Reader) -> PG:
    """``pg_t``: u8 version (1), u64 pool, u32 seed, s32 preferred (ignored)."""
    v = r.pull_u8()
    if v != 1:
        raise DecodeError(f"pg_t: unknown version {v}")
    pool = r.pull_u64()
    seed = r.pull_u32()
    r.pull_s32()
    return PG(pool, seed)


def push_pg(w: Writer, pg: PG) -> None:
    """``pg_t``, with ``preferred`` -1 as Ceph writes it."""
    w.push_u8(1)
    w.push_u64(pg.pool)
    w.push_u32(pg.seed)
    w.push_s32(-1)


class SPG(NamedTuple):
    """``spg_t``: a PG and, in an erasure-coded pool, the shard."""

    pgid: PG
    shard: int = NO_SHARD

    def __str__(self) -> str:
        return str(self.pgid) if self.shard == NO_SHARD else f"{self.pgid}s{self.shard}"


def pull_spg(r: Reader) -> SPG:
    """``spg_t`` (versioned 1/1): pg_t, s8 shard."""
    _, body = r.pull_versioned(1, "spg_t")
    return SPG(pull_pg(body), body.pull_s8())


def push_spg(w: Writer, spg: SPG) -> None:
    """``spg_t`` (versioned 1/1)."""
    with w.versioned(1, 1):
        push_pg(w, spg.pgid)
        w.push_s8(spg.shard)


# -- object_locator_t --------------------------------------------------------------------


class ObjectLocator(NamedTuple):
    """``object_locator_t``: where an object is placed (pool, key or hash, namespace).

    ``key`` replaces the name for placement; ``hash`` (>= 0) gives the placement
    hash directly. Ceph refuses a locator with both set.
    """

    pool: int
    key: str = ""
    nspace: str = ""
    hash: int = -1


def pull_object_locator(r: Reader) -> ObjectLocator:
    """``object_locator_t`` (v6, compat 3; Pacific writes v6)."""
    struct_v, body = _versioned(r, 6, 3, "object_locator_t")
    pool = body.pull_s64()
    body.pull_s32()  # preferred, always -1
    key = body.pull_string()
    nspace = body.pull_string() if struct_v >= 5 else ""
    hash_ = body.pull_s64() if struct_v >= 6 else -1
    if hash_ != -1 and key:
        raise DecodeError("object_locator_t: both a key and a hash are set")
    return ObjectLocator(pool, key, nspace, hash_)


def push_object_locator(w: Writer, loc: ObjectLocator) -> None:
    """``object_locator_t`` v6; compat 6 when a hash is set (``ENCODE_FINISH_NEW_COMPAT``)."""
    if loc.hash != -1 and loc.key:
        raise ValueError("object_locator_t cannot have both a key and a hash")
    with w.versioned(6, 6 if loc.hash != -1 else 3):
        w.push_s64(loc.pool)
        w.push_s32(-1)
        w.push_string(loc.key)
        w.push_string(loc.nspace)
        w.push_s64(loc.hash)


# -- osd_reqid_t / eversion_t ----------------------------------------------------------


class OsdReqId(NamedTuple):
    """``osd_reqid_t``: a request's identity (client name, tid, incarnation)."""

    name: EntityName
    tid: int
    inc: int = 0

    def __str__(self) -> str:
        return f"{self.name}.{self.inc}:{self.tid}"


def pull_osd_reqid(r: Reader) -> OsdReqId:
    """``osd_reqid_t`` (versioned 2/2): entity_name_t, u64 tid, s32 inc."""
    _, body = _versioned(r, 2, 2, "osd_reqid_t")
    name = pull_entity_name(body)
    return OsdReqId(name, body.pull_u64(), body.pull_s32())


def push_osd_reqid(w: Writer, reqid: OsdReqId) -> None:
    """``osd_reqid_t`` (versioned 2/2)."""
    with w.versioned(2, 2):
        push_entity_name(w, reqid.name)
        w.push_u64(reqid.tid)
        w.push_s32(reqid.inc)


class EVersion(NamedTuple):
    """``eversion_t``: (epoch, version), ordered like Ceph's; printed ``epoch'version``."""

    epoch: int = 0
    version: int = 0

    def __str__(self) -> str:
        return f"{self.epoch}'{self.version}"


def pull_eversion(r: Reader) -> EVersion:
    """``eversion_t``: u64 version then u32 epoch (12 raw bytes, no header)."""
    version = r.pull_u64()
    return EVersion(r.pull_u32(), version)


def push_eversion(w: Writer, v: EVersion) -> None:
    """``eversion_t``: u64 version, u32 epoch."""
    w.push_u64(v.version)
    w.push_u32(v.epoch)


# -- hobject_t ---------------------------------------------------------------------------


def reverse_bits(v: int) -> int:
    """``hobject_t::_reverse_bits`` of a 32-bit value (the bitwise sort key)."""
    return int(f"{v & 0xFFFFFFFF:032b}"[::-1], 2)


def _escaped(s: str) -> str:
    """``append_out_escaped``: control, non-ASCII, ``%``, ``:`` and ``/`` as ``%xx``."""
    out = []
    for b in s.encode("utf-8", "surrogateescape"):
        if b <= 32 or b >= 127 or b in b"%:/":
            out.append(f"%{b:02x}")
        else:
            out.append(chr(b))
    return "".join(out)


def snap_str(snap: int) -> str:
    """``snapid_t``'s printed form: ``head``, ``snapdir`` or hex."""
    if snap == CEPH_NOSNAP:
        return "head"
    if snap == CEPH_SNAPDIR:
        return "snapdir"
    return f"{snap:x}"


class HObject(NamedTuple):
    """``hobject_t``: an object as the OSD names it (placement hash included).

    ``max`` marks the end of the object space (listing cursors); the minimum is
    :meth:`min`.
    """

    oid: str = ""
    key: str = ""
    snap: int = 0
    hash: int = 0
    max: bool = False
    nspace: str = ""
    pool: int = _POOL_MIN

    @classmethod
    def min(cls) -> HObject:
        """``hobject_t()``: before every object."""
        return cls()

    @classmethod
    def get_max(cls) -> HObject:
        """``hobject_t::get_max()``: after every object."""
        return cls(max=True)

    def __str__(self) -> str:
        if self == HObject():
            return "MIN"
        if self.max:
            return "MAX"
        return (f"{self.pool}:{reverse_bits(self.hash):08x}:{_escaped(self.nspace)}:"
                f"{_escaped(self.key)}:{_escaped(self.oid)}:{snap_str(self.snap)}")


def pull_hobject(r: Reader) -> HObject:
    """``hobject_t`` (v4, compat 3): key, oid, snap, hash, max, nspace, pool."""
    struct_v, body = _versioned(r, 4, 3, "hobject_t")
    key = body.pull_string()
    oid = body.pull_string()
    snap = body.pull_u64()
    hash_ = body.pull_u32()
    max_ = body.pull_bool()
    nspace = ""
    pool = _POOL_MIN
    if struct_v >= 4:
        nspace = body.pull_string()
        pool = body.pull_s64()
        # Hammer wrote the minimum's pool as -1 (Ceph's hobject_t::decode fixes it up).
        if pool == -1 and snap == 0 and hash_ == 0 and not max_ and not oid:
            pool = _POOL_MIN
    return HObject(oid, key, snap, hash_, max_, nspace, pool)


def push_hobject(w: Writer, h: HObject) -> None:
    """``hobject_t`` v4 / compat 3."""
    with w.versioned(4, 3):
        w.push_string(h.key)
        w.push_string(h.oid)
        w.push_u64(h.snap)
        w.push_u32(h.hash)
        w.push_bool(h.max)
        w.push_string(h.nspace)
        w.push_s64(h.pool)


__all__ = [
    "CEPH_NOSNAP",
    "CEPH_SNAPDIR",
    "NO_SHARD",
    "PG",
    "SPG",
    "EVersion",
    "HObject",
    "ObjectLocator",
    "OsdReqId",
    "cbits",
    "ceph_stable_mod",
    "pg_num_mask",
    "pull_eversion",
    "pull_hobject",
    "pull_object_locator",
    "pull_osd_reqid",
    "pull_pg",
    "pull_spg",
    "push_eversion",
    "push_hobject",
    "push_object_locator",
    "push_osd_reqid",
    "push_pg",
    "push_spg",
    "reverse_bits",
    "snap_str",
]
