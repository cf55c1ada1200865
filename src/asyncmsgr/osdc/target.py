"""Op targeting, sans-I/O: where an op goes in a given OSDMap and whether it must be resent.

Ceph's ``Objecter::_calc_target`` (``src/osdc/Objecter.cc``, Pacific) as a pure
function of an :class:`~asyncmsgr.osd.osdmap.OSDMap` and an :class:`OpTarget`
(``op_target_t``), which it updates in place:

1. the base pool must exist (else :attr:`RecalcResult.POOL_DNE`) and not have
   FLAG_EIO (:attr:`RecalcResult.POOL_EIO`);
2. tiering: reads go to the pool's ``read_tier``, writes to its ``write_tier``
   (unless IGNORE_OVERLAY);
3. the raw PG (``object_locator_to_pg``, or the precalculated PG of a PG op), folded
   by ``pg_num``, is mapped to ``up``/``acting`` and the acting primary (cached per
   epoch in a :class:`PgMappingCache`);
4. the op must be resent (:attr:`RecalcResult.NEED_RESEND`) when the raw PG or the
   acting primary (or its rank in the acting set) changed (``is_pg_changed``), when
   it was paused and no longer is, when the pool asks for it
   (``last_force_op_resend``), when its PG split or merged, or — for linger ops,
   ``any_change`` — on any new interval (``PastIntervals::is_new_interval``);
5. :func:`target_should_be_paused`: reads under PAUSERD, writes under PAUSEWR, and
   writes that respect FULL while the cluster or the pool is full.

Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from asyncmsgr.features import feature_mask
from asyncmsgr.osd.mapcommon import (
    CEPH_OSDMAP_FULL,
    CEPH_OSDMAP_PAUSERD,
    CEPH_OSDMAP_PAUSEWR,
    CEPH_OSDMAP_RECOVERY_DELETES,
    CEPH_OSDMAP_SORTBITWISE,
    CEPH_RELEASE_LUMINOUS,
    release_ge,
)
from asyncmsgr.osd.ops import OsdFlag
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import FLAG_EIO, FLAG_FULL, PgPool
from asyncmsgr.osd.types import (
    CEPH_NOSNAP,
    NO_SHARD,
    PG,
    SPG,
    HObject,
    ObjectLocator,
    cbits,
    ceph_stable_mod,
)

from .hashing import object_hash

_READ = int(OsdFlag.READ)
_WRITE = int(OsdFlag.WRITE)
_RWORDERED = int(OsdFlag.RWORDERED)
_IGNORE_OVERLAY = int(OsdFlag.IGNORE_OVERLAY)
_FULL_TRY_FORCE = int(OsdFlag.FULL_TRY | OsdFlag.FULL_FORCE)
_NO_PG = PG(-1, 0)
_NO_SPG = SPG(_NO_PG)
_NO_LOC = ObjectLocator(-1)
_RESEND_ON_SPLIT = feature_mask("RESEND_ON_SPLIT")
_PAUSE_OR_FULL = CEPH_OSDMAP_PAUSERD | CEPH_OSDMAP_PAUSEWR | CEPH_OSDMAP_FULL


class RecalcResult(IntEnum):
    """``RECALC_OP_TARGET_*``: what :func:`calc_target` concluded."""

    NO_ACTION = 0
    NEED_RESEND = 1
    POOL_DNE = 2
    POOL_EIO = 3


class PgMapping(NamedTuple):
    """``pg_mapping_t``: a PG's up and acting sets and primaries at one epoch."""

    up: tuple[int, ...]
    up_primary: int
    acting: tuple[int, ...]
    acting_primary: int


class PgMappingCache:
    """``Objecter::pg_mappings``: mappings of the current epoch, keyed by folded PG.

    :meth:`lookup` computes (CRUSH, upmaps, temps, affinity) once per PG and
    epoch; a new epoch empties the cache.
    """

    __slots__ = ("_epoch", "_map", "hits", "misses")

    def __init__(self) -> None:
        self._epoch = -1
        self._map: dict[PG, PgMapping] = {}
        self.hits = 0
        self.misses = 0

    def lookup(self, osdmap: OSDMap, pg: PG) -> PgMapping:
        """The mapping of folded PG ``pg`` in ``osdmap`` (cached for its epoch)."""
        if self._epoch != osdmap.epoch:
            self._map.clear()
            self._epoch = osdmap.epoch
        got = self._map.get(pg)
        if got is not None:
            self.hits += 1
            return got
        self.misses += 1
        up, up_primary, acting, acting_primary = osdmap.pg_to_up_acting_osds(pg)
        got = PgMapping(tuple(up), up_primary, tuple(acting), acting_primary)
        self._map[pg] = got
        return got

    def clear(self) -> None:
        """Forget everything (``prune_pg_mapping``)."""
        self._map.clear()
        self._epoch = -1


@dataclass(slots=True, eq=False)
class OpTarget:
    """``op_target_t``: what an op is aimed at and where it was last sent.

    ``base_*`` is what the caller asked for; ``target_*`` the same after tiering.
    ``pgid`` is the raw PG (the full object hash as seed); ``actual_pgid`` the
    folded PG (and EC shard) the op is sent to, on ``osd`` (-1: none, the op
    waits on the homeless session). Fields below ``osd`` record the mapping
    the last resend decision was made on.
    """

    flags: int
    """CEPH_OSD_FLAG_* of the op (READ/WRITE/PGOP/FULL_TRY ...)."""
    base_oid: str
    base_oloc: ObjectLocator
    precalc_pgid: bool = False
    """A PG op (PGNLS): ``base_pgid`` is the target, there is no object name."""
    base_pgid: PG = _NO_PG
    target_oid: str = ""
    target_oloc: ObjectLocator = _NO_LOC
    pgid: PG = _NO_PG
    actual_pgid: SPG = _NO_SPG
    osd: int = -1
    epoch: int = 0
    """Epoch of the map the target was last computed in."""
    paused: bool = False
    pool_ever_existed: bool = False
    last_force_resend: int = 0
    used_replica: bool = False
    pg_num: int = 0
    pg_num_mask: int = 0
    pg_num_pending: int = 0
    up: tuple[int, ...] = ()
    up_primary: int = -1
    acting: tuple[int, ...] = ()
    acting_primary: int = -1
    size: int = -1
    min_size: int = -1
    sort_bitwise: bool = False
    recovery_deletes: bool = False

    def respects_full(self) -> bool:
        """``respects_full``: a write without FULL_TRY/FULL_FORCE waits while full."""
        return bool(self.flags & (_WRITE | _RWORDERED)) and not self.flags & _FULL_TRY_FORCE

    def object_hash(self) -> int:
        """The full 32-bit placement hash of the target (the PG's seed for a PG op)."""
        if self.target_oloc.hash >= 0:
            return self.target_oloc.hash & 0xFFFFFFFF
        return self.pgid.seed

    def get_hobj(self) -> HObject:
        """``get_hobj``: the target as the OSD names it."""
        loc = self.target_oloc
        return HObject(self.target_oid, loc.key, CEPH_NOSNAP, self.object_hash(), False,
                       loc.nspace, loc.pool)


def target_should_be_paused(osdmap: OSDMap, t: OpTarget, *, honor_full: bool = True) -> bool:
    """``target_should_be_paused``: PAUSERD/PAUSEWR, or a full cluster/pool for writes."""
    flags = osdmap.flags
    if not flags & _PAUSE_OR_FULL and not (t.flags & _WRITE and honor_full):
        return False
    pausewr = bool(flags & CEPH_OSDMAP_PAUSEWR)
    if not pausewr and honor_full and t.respects_full():
        pool = osdmap.pools.get(t.base_oloc.pool)
        pausewr = bool(flags & CEPH_OSDMAP_FULL) or (
            pool is not None and bool(pool.flags & FLAG_FULL))
    return bool(t.flags & _READ and flags & CEPH_OSDMAP_PAUSERD) or bool(
        t.flags & _WRITE and pausewr)


def osdmap_full_flag(osdmap: OSDMap, *, honor_full: bool = True) -> bool:
    """``_osdmap_full_flag``: the cluster-wide FULL flag (when honoured)."""
    return honor_full and bool(osdmap.flags & CEPH_OSDMAP_FULL)


def pool_full(pool: PgPool | None, *, honor_full: bool = True) -> bool:
    """``_osdmap_pool_full``: the pool has FLAG_FULL (when honoured)."""
    return honor_full and pool is not None and bool(pool.flags & FLAG_FULL)


def has_pool_full(osdmap: OSDMap, *, honor_full: bool = True) -> bool:
    """``_osdmap_has_pool_full``: any pool is full."""
    return honor_full and any(p.flags & FLAG_FULL for p in osdmap.pools.values())


def pool_full_map(osdmap: OSDMap, previous: dict[int, bool] | None = None, *,
                  honor_full: bool = True) -> dict[int, bool]:
    """``update_pool_full_map``: per pool, full now or (in ``previous``) before."""
    out = dict(previous or {})
    for pid, pool in osdmap.pools.items():
        out[pid] = pool_full(pool, honor_full=honor_full) or out.get(pid, False)
    return out


# -- pg_t split and merge (src/osd/osd_types.cc) -------------------------------------------


def pg_is_split(seed: int, old_pg_num: int, new_pg_num: int) -> bool:
    """``pg_t::is_split``: does PG ``seed`` get children going from old to new pg_num?"""
    if seed >= old_pg_num or new_pg_num <= old_pg_num:
        return False
    old_bits = cbits(old_pg_num)
    old_mask = (1 << old_bits) - 1
    n = 1
    while True:
        s = (n << (old_bits - 1)) | seed
        n += 1
        if s < old_pg_num or s == seed:
            continue
        if s >= new_pg_num:
            return False
        if ceph_stable_mod(s, old_pg_num, old_mask) == seed:
            return True


def pg_is_merge_source(seed: int, old_pg_num: int, new_pg_num: int) -> bool:
    """``pg_t::is_merge_source``: PG ``seed`` disappears into a parent."""
    return new_pg_num <= seed < old_pg_num


def pg_is_merge_target(seed: int, old_pg_num: int, new_pg_num: int) -> bool:
    """``pg_t::is_merge_target``: PG ``seed`` absorbs children."""
    return new_pg_num < old_pg_num and pg_is_split(seed, new_pg_num, old_pg_num)


def _rank(osd: int, acting: tuple[int, ...]) -> int:
    """``OSDMap::calc_pg_rank``."""
    try:
        return acting.index(osd)
    except ValueError:
        return -1


def is_pg_changed(old_primary: int, old_acting: tuple[int, ...], new_primary: int,
                  new_acting: tuple[int, ...], any_change: bool) -> bool:
    """``Objecter::is_pg_changed``: primary (or its rank) changed, or any change."""
    if not old_acting and not new_acting:
        changed = False
    elif not old_acting or not new_acting or old_primary != new_primary:
        changed = True
    else:
        changed = _rank(old_primary, old_acting) != _rank(new_primary, new_acting)
    return changed or (any_change and old_acting != new_acting)


def is_new_interval(t: OpTarget, m: PgMapping, size: int, min_size: int, pg_num: int,
                    pg_num_pending: int, sort_bitwise: bool, recovery_deletes: bool,
                    prev_seed: int) -> bool:
    """``PastIntervals::is_new_interval`` between ``t``'s last mapping and ``m``."""
    old_n, old_pending = t.pg_num, t.pg_num_pending
    return (t.acting_primary != m.acting_primary or t.acting != m.acting
            or t.up_primary != m.up_primary or t.up != m.up
            or t.min_size != min_size or t.size != size
            or pg_is_split(prev_seed, old_n, pg_num)
            or pg_is_merge_source(prev_seed, old_pending, pg_num_pending)
            or pg_is_merge_source(prev_seed, pg_num_pending, old_pending)
            or pg_is_merge_source(prev_seed, old_n, pg_num)
            or pg_is_merge_target(prev_seed, old_pending, pg_num_pending)
            or pg_is_merge_target(prev_seed, pg_num_pending, old_pending)
            or pg_is_merge_target(prev_seed, old_n, pg_num)
            or t.sort_bitwise != sort_bitwise
            or t.recovery_deletes != recovery_deletes)


def _object_pg(t: OpTarget, pool: PgPool) -> PG:
    """``object_locator_to_pg`` for the target (the name hash is cached)."""
    loc = t.target_oloc
    if loc.hash >= 0:
        return PG(loc.pool, loc.hash & 0xFFFFFFFF)
    return PG(loc.pool, object_hash(pool.object_hash, loc.key or t.target_oid, loc.nspace))


def calc_target(osdmap: OSDMap, t: OpTarget, cache: PgMappingCache, *,
                any_change: bool = False, honor_full: bool = True) -> RecalcResult:
    """``Objecter::_calc_target``: aim ``t`` at ``osdmap``; say whether to resend.

    Updates ``t`` in place (``epoch``, ``paused``, and on a change the PG, the
    sets, ``osd`` ...). ``any_change`` (linger ops) also resends on any new
    interval. ``t.osd`` is -1 when the pool does not exist or the PG has no
    acting primary.
    """
    t.epoch = osdmap.epoch
    pools = osdmap.pools
    pi = pools.get(t.base_oloc.pool)
    if pi is None:
        t.osd = -1
        return RecalcResult.POOL_DNE
    if pi.flags & FLAG_EIO:
        return RecalcResult.POOL_EIO

    force_resend = False
    if osdmap.epoch == pi.last_force_op_resend:
        if t.last_force_resend < pi.last_force_op_resend:
            t.last_force_resend = pi.last_force_op_resend
            force_resend = True
        elif t.last_force_resend == 0:
            force_resend = True

    t.target_oid = t.base_oid
    t.target_oloc = t.base_oloc
    if not t.flags & _IGNORE_OVERLAY:
        tier = -1
        if t.flags & _READ and pi.read_tier >= 0:
            tier = pi.read_tier
        if t.flags & _WRITE and pi.write_tier >= 0:
            tier = pi.write_tier
        if tier >= 0:
            t.target_oloc = t.target_oloc._replace(pool=tier)
            pi = pools.get(tier)
            if pi is None:
                t.osd = -1
                return RecalcResult.POOL_DNE

    pgid = t.base_pgid if t.precalc_pgid else _object_pg(t, pi)
    t.pool_ever_existed = True

    size, min_size = pi.size, pi.min_size
    pg_num, pg_num_mask, pg_num_pending = pi.pg_num, pi.pg_num_mask, pi.pg_num_pending
    actual = PG(pgid.pool, ceph_stable_mod(pgid.seed, pg_num, pg_num_mask))
    m = cache.lookup(osdmap, actual)
    sort_bitwise = bool(osdmap.flags & CEPH_OSDMAP_SORTBITWISE)
    recovery_deletes = bool(osdmap.flags & CEPH_OSDMAP_RECOVERY_DELETES)
    prev_seed = ceph_stable_mod(pgid.seed, t.pg_num, t.pg_num_mask) if t.pg_num else 0
    if any_change and is_new_interval(t, m, size, min_size, pg_num, pg_num_pending,
                                      sort_bitwise, recovery_deletes, prev_seed):
        force_resend = True

    should_pause = target_should_be_paused(osdmap, t, honor_full=honor_full)
    unpaused = t.paused and not should_pause
    t.paused = should_pause

    legacy_change = t.pgid != pgid or is_pg_changed(
        t.acting_primary, t.acting, m.acting_primary, m.acting,
        t.used_replica or any_change)
    split_or_merge = bool(t.pg_num) and (
        pg_is_split(prev_seed, t.pg_num, pg_num)
        or pg_is_merge_source(prev_seed, t.pg_num, pg_num)
        or pg_is_merge_target(prev_seed, t.pg_num, pg_num))

    if legacy_change or split_or_merge or force_resend:
        t.pgid = pgid
        t.acting = m.acting
        t.acting_primary = m.acting_primary
        t.up_primary = m.up_primary
        t.up = m.up
        t.size = size
        t.min_size = min_size
        t.pg_num = pg_num
        t.pg_num_mask = pg_num_mask
        t.pg_num_pending = pg_num_pending
        shard = NO_SHARD
        if pi.is_erasure and m.acting_primary >= 0:
            shard = _rank(m.acting_primary, m.acting)
        t.actual_pgid = SPG(actual, shard)
        t.sort_bitwise = sort_bitwise
        t.recovery_deletes = recovery_deletes
        t.used_replica = False
        t.osd = m.acting_primary
    if legacy_change or unpaused or force_resend:
        return RecalcResult.NEED_RESEND
    if split_or_merge and (
            release_ge(osdmap.require_osd_release, CEPH_RELEASE_LUMINOUS)
            or _primary_resends_on_split(osdmap, m.acting_primary)):
        return RecalcResult.NEED_RESEND
    return RecalcResult.NO_ACTION


def _primary_resends_on_split(osdmap: OSDMap, osd: int) -> bool:
    """The OSD's xinfo features include RESEND_ON_SPLIT."""
    if not 0 <= osd < len(osdmap.osd_xinfo):
        return False
    return bool(osdmap.osd_xinfo[osd].features & _RESEND_ON_SPLIT)


__all__ = [
    "OpTarget",
    "PgMapping",
    "PgMappingCache",
    "RecalcResult",
    "calc_target",
    "has_pool_full",
    "is_new_interval",
    "is_pg_changed",
    "osdmap_full_flag",
    "pg_is_merge_source",
    "pg_is_merge_target",
    "pg_is_split",
    "pool_full",
    "pool_full_map",
    "target_should_be_paused",
]
