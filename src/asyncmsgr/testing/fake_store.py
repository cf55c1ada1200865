"""The fake cluster's objects, in memory, grouped the way OSDs group them (sans-I/O).

:class:`ObjectStore` holds every pool's placement groups (:class:`PGStore`);
each PG holds its head objects (:class:`StoredObject`: data, xattrs, omap and
its header, mtime, user version) and the PG's log position (``last_update``,
``last_user_version``), which write replies report as Ceph's do. All fake OSDs
of a cluster share one store: a PG's data does not move when its primary does,
as if every replica were in sync.

An object is identified by ``(namespace, locator key, name)``
(:data:`ObjectKey`); its PG comes from its 32-bit placement hash. PGs list their
objects in ``hobject_t``'s bitwise order (reversed hash, namespace, effective
key, name) for PGNLS (:meth:`PGStore.list_from`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from asyncmsgr.osd.pool import PgPool
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, EVersion, HObject, ceph_stable_mod, reverse_bits
from asyncmsgr.types import UTime

_NO_VERSION = EVersion()
_NO_TIME = UTime()
#: ``tuple.__new__``: builds a NamedTuple without its Python-level ``__new__``.
_new_tuple = tuple.__new__
#: ``osd_max_pgls``: the most objects one PGNLS returns.
OSD_MAX_PGLS = 1024


class ObjectKey(NamedTuple):
    """An object's identity within a pool."""

    nspace: str
    key: str
    """The locator key ("" when the name places the object)."""
    oid: str


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def sort_key(k: ObjectKey, hash_: int) -> tuple[int, bytes, bytes, bytes]:
    """``hobject_t``'s bitwise order for a head object of one pool."""
    return (reverse_bits(hash_), _b(k.nspace), _b(k.key or k.oid), _b(k.oid))


def hobject_sort_key(h: HObject) -> tuple[int, int, bytes, bytes, bytes, int]:
    """The same order for any ``hobject_t`` (a listing cursor); MAX sorts last."""
    if h.max:
        return (1, 0, b"", b"", b"", 0)
    return (0, reverse_bits(h.hash), _b(h.nspace), _b(h.key or h.oid), _b(h.oid), h.snap)


class StoredObject:
    """One head object: data, user xattrs (by name; Ceph stores them with a ``_``
    prefix no client sees), omap and its header, mtime, user version, and its
    32-bit placement hash (``hobject_t::get_hash``)."""

    __slots__ = ("data", "hash", "mtime", "omap", "omap_header", "user_version", "xattrs")

    def __init__(self, hash: int, data: bytearray | None = None,
                 xattrs: dict[str, bytes] | None = None, omap: dict[str, bytes] | None = None,
                 omap_header: bytes = b"", mtime: UTime = _NO_TIME,
                 user_version: int = 0) -> None:
        self.hash = hash
        self.data = bytearray() if data is None else data
        self.xattrs: dict[str, bytes] = {} if xattrs is None else xattrs
        self.omap: dict[str, bytes] = {} if omap is None else omap
        self.omap_header = omap_header
        self.mtime = mtime
        self.user_version = user_version

    def copy(self) -> StoredObject:
        """A deep copy (the undo state of a compound write)."""
        return StoredObject(self.hash, bytearray(self.data), dict(self.xattrs),
                            dict(self.omap), self.omap_header, self.mtime, self.user_version)

    def __repr__(self) -> str:
        return (f"StoredObject(hash={self.hash:#x}, size={len(self.data)}, "
                f"xattrs={len(self.xattrs)}, omap={len(self.omap)}, uv={self.user_version})")


@dataclass(slots=True)
class PGStore:
    """One placement group: its objects and log position."""

    pgid: PG
    objects: dict[ObjectKey, StoredObject] = field(default_factory=dict)
    last_update: EVersion = _NO_VERSION
    last_user_version: int = 0
    _sorted: list[tuple[tuple[int, bytes, bytes, bytes], ObjectKey]] | None = None

    def get(self, key: ObjectKey) -> StoredObject | None:
        """The object, or None."""
        return self.objects.get(key)

    def put(self, key: ObjectKey, obj: StoredObject) -> None:
        """Create or replace an object."""
        if key not in self.objects:
            self._sorted = None
        self.objects[key] = obj

    def remove(self, key: ObjectKey) -> None:
        """Delete an object (if present)."""
        if self.objects.pop(key, None) is not None:
            self._sorted = None

    def next_version(self, epoch: int) -> EVersion:
        """Advance the PG log by one entry at ``epoch`` (every write, failed or not)."""
        self.last_update = v = _new_tuple(EVersion, (epoch, self.last_update[1] + 1))
        return v

    def list_from(self, cursor: HObject, count: int
                  ) -> tuple[list[tuple[ObjectKey, StoredObject]], ObjectKey | None]:
        """Up to ``count`` objects at or after ``cursor`` in hobject order, and the key
        of the next one (None when the PG is exhausted)."""
        if self._sorted is None:
            self._sorted = sorted((sort_key(k, o.hash), k) for k, o in self.objects.items())
        start = hobject_sort_key(cursor)
        if start[0]:
            return [], None
        lo, hi = 0, len(self._sorted)
        bound = start[1:5]
        while lo < hi:  # first entry whose key is >= the cursor's (heads sort after snaps)
            mid = (lo + hi) // 2
            if self._sorted[mid][0] < bound:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self._sorted) and self._sorted[lo][0] == bound and start[5] > CEPH_NOSNAP:
            lo += 1
        picked = self._sorted[lo:lo + count]
        out = [(k, self.objects[k]) for _, k in picked]
        nxt = self._sorted[lo + count][1] if lo + count < len(self._sorted) else None
        return out, nxt

    def __len__(self) -> int:
        return len(self.objects)


class ObjectStore:
    """Every pool's PGs (created on first use)."""

    def __init__(self) -> None:
        self._pools: dict[int, dict[int, PGStore]] = {}

    def pg(self, pgid: PG) -> PGStore:
        """The PG's store (empty if new)."""
        pgs = self._pools.get(pgid.pool)
        if pgs is None:
            pgs = self._pools[pgid.pool] = {}
        st = pgs.get(pgid.seed)
        if st is None:
            st = pgs[pgid.seed] = PGStore(pgid)
        return st

    def drop_pool(self, pool: int) -> None:
        """Forget a deleted pool's objects."""
        self._pools.pop(pool, None)

    def pool_pgs(self, pool: int) -> list[PGStore]:
        """The PGs of a pool that hold or held objects."""
        return list(self._pools.get(pool, {}).values())

    def objects(self, pool: int) -> Iterator[tuple[ObjectKey, StoredObject]]:
        """Every object of a pool (any order)."""
        for pg in self._pools.get(pool, {}).values():
            yield from pg.objects.items()

    def pool_usage(self, pool: int) -> tuple[int, int]:
        """``(objects, bytes)`` stored in a pool."""
        n = size = 0
        for pg in self._pools.get(pool, {}).values():
            n += len(pg.objects)
            size += sum(len(o.data) for o in pg.objects.values())
        return n, size

    def resplit(self, pool: int, info: PgPool) -> None:
        """Move a pool's objects to the PGs of its new ``pg_num``."""
        old = self._pools.pop(pool, {})
        for pg in old.values():
            for key, obj in pg.objects.items():
                seed = ceph_stable_mod(obj.hash, info.pg_num, info.pg_num_mask)
                dest = self.pg(PG(pool, seed))
                dest.put(key, obj)
                dest.last_update = max(dest.last_update, pg.last_update)
                dest.last_user_version = max(dest.last_user_version, pg.last_user_version)


def pg_hobj_end(pgid: PG, pg_num: int) -> HObject:
    """``pg_t::get_hobj_end``: the first hobject after the PG in bitwise order."""
    bits = pg_split_bits(pgid.seed, pg_num)
    rev_start = reverse_bits(pgid.seed)
    rev_end = (rev_start | (0xFFFFFFFF >> bits)) + 1
    if rev_end >= 1 << 32:
        return HObject.get_max()
    return HObject(snap=CEPH_NOSNAP, hash=reverse_bits(rev_end), pool=pgid.pool)


def pg_hobj_start(pgid: PG) -> HObject:
    """``pg_t::get_hobj_start``."""
    return HObject(snap=0, hash=pgid.seed, pool=pgid.pool)


def pg_split_bits(seed: int, pg_num: int) -> int:
    """``pg_t::get_split_bits``: how many hash bits address this PG."""
    if pg_num == 1:
        return 0
    p = pg_num.bit_length()
    low = 1 << (p - 1)
    return p if seed % low < pg_num % low else p - 1


__all__ = [
    "OSD_MAX_PGLS",
    "ObjectKey",
    "ObjectStore",
    "PGStore",
    "StoredObject",
    "hobject_sort_key",
    "pg_hobj_end",
    "pg_hobj_start",
    "pg_split_bits",
    "sort_key",
]
