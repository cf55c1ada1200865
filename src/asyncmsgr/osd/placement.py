"""Placement: object name to PG to OSDs, exactly as Pacific's ``OSDMap`` computes it.

The chain (``src/osd/OSDMap.cc``), one function per Ceph function:

1. :func:`object_locator_to_pg`: the pool's ``hash_key`` of the locator key (or
   the name), with the namespace joined by 0x1f, is the raw PG's seed (a locator
   ``hash`` >= 0 is used as the seed directly);
2. ``pg_pool_t::raw_pg_to_pg`` folds the seed into ``[0, pg_num)``
   (``ceph_stable_mod``); ``raw_pg_to_pps`` gives CRUSH's input;
3. :func:`_pg_to_raw_osds`: ``crush_do_rule`` with the pool's rule (Pacific
   looks it up with ``find_rule(ruleset, type, size)``), the OSD reweights and the
   pool's choose args; nonexistent OSDs are removed (replicated: compacted;
   erasure: kept as ``CRUSH_ITEM_NONE`` holes);
4. :func:`_apply_upmap`: ``pg_upmap`` (ignored if a target is out), then
   ``pg_upmap_items`` replacements;
5. :func:`_raw_to_up_osds`: down OSDs dropped (or holes), the first left is the up
   primary, then :func:`_apply_primary_affinity` may pick another;
6. :func:`_get_temp_osds`: ``pg_temp`` and ``primary_temp`` override the acting
   set and primary; without them acting = up.

Public entry points (what the Objecter calls, also as :class:`OSDMap` methods):
:func:`object_locator_to_pg`, :func:`pg_to_up_acting_osds`, :func:`pg_to_raw_osds`.
Sets are lists of OSD ids; :data:`CRUSH_ITEM_NONE` marks an EC hole; a primary of
-1 means none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.hash import CRUSH_HASH_RJENKINS1, crush_hash32_2
from asyncmsgr.crush.map import CRUSH_ITEM_NONE, CrushMap
from asyncmsgr.crush.mapper import crush_do_rule
from asyncmsgr.types import Buffer

from .mapcommon import (
    CEPH_OSD_DEFAULT_PRIMARY_AFFINITY,
    CEPH_OSD_EXISTS,
    CEPH_OSD_MAX_PRIMARY_AFFINITY,
    CEPH_OSD_UP,
)
from .pool import PgPool
from .types import PG, ObjectLocator

if TYPE_CHECKING:
    from .osdmap import OSDMap


def decode_crush(data: Buffer) -> CrushMap:
    """Decode the OSDMap's embedded CRUSH map (raises DecodeError)."""
    return decode_crush_map(data)


def encode_crush(crush: CrushMap) -> bytes:
    """Encode a CRUSH map as the OSDMap embeds it."""
    return encode_crush_map(crush)


def crush_class_ids(crush: CrushMap) -> set[int]:
    """The device class ids the CRUSH map defines."""
    return set(crush.class_name)


# -- object -> PG --------------------------------------------------------------------------


def object_locator_to_pg(m: OSDMap, name: str, loc: ObjectLocator) -> PG:
    """``OSDMap::object_locator_to_pg``: the raw PG of ``name`` under ``loc``.

    The seed is the full 32-bit hash; fold it with ``raw_pg_to_pg``. Raises
    KeyError when the pool does not exist (Ceph's -ENOENT).
    """
    pool = m.pools[loc.pool]
    if loc.hash >= 0:
        return PG(loc.pool, loc.hash & 0xFFFFFFFF)
    return PG(loc.pool, pool.hash_key(loc.key or name, loc.nspace))


# -- PG -> OSDs ----------------------------------------------------------------------------


def _exists(m: OSDMap, osd: int) -> bool:
    return 0 <= osd < m.max_osd and bool(m.osd_state[osd] & CEPH_OSD_EXISTS)


def _is_up(m: OSDMap, osd: int) -> bool:
    return 0 <= osd < m.max_osd and (m.osd_state[osd] & (CEPH_OSD_EXISTS | CEPH_OSD_UP)) == (
        CEPH_OSD_EXISTS | CEPH_OSD_UP)


def _find_rule(crush: CrushMap, pool: PgPool) -> int:
    """Pacific's ``find_rule(crush_rule, type, size)``, cached on the CRUSH map."""
    rules = crush.cached("osdmap.find_rule")
    if rules is None:
        rules = {}
        crush.set_cached("osdmap.find_rule", rules)
    key = (pool.crush_rule, pool.type, pool.size)
    ruleno = rules.get(key)
    if ruleno is None:
        ruleno = rules[key] = crush.find_rule(pool.crush_rule, pool.type, pool.size)
    assert isinstance(ruleno, int)
    return ruleno


def _pg_to_raw_osds(m: OSDMap, pool: PgPool, pg: PG) -> tuple[list[int], int]:
    """``_pg_to_raw_osds``: CRUSH's answer minus nonexistent OSDs, and the pps."""
    pps = pool.raw_pg_to_pps(pg)
    crush = m.crush
    ruleno = _find_rule(crush, pool)
    osds: list[int] = []
    if ruleno >= 0:
        osds = crush_do_rule(crush, ruleno, pps, pool.size, m.osd_weight,
                             crush.choose_args_get_with_fallback(pg.pool))
    _remove_nonexistent_osds(m, pool, osds)
    return osds, pps


def _remove_nonexistent_osds(m: OSDMap, pool: PgPool, osds: list[int]) -> None:
    """``_remove_nonexistent_osds``: compact (replicated) or punch holes (EC)."""
    if pool.can_shift_osds:
        osds[:] = [o for o in osds if _exists(m, o)]
    else:
        for i, o in enumerate(osds):
            if not _exists(m, o):
                osds[i] = CRUSH_ITEM_NONE


def _pick_primary(osds: list[int]) -> int:
    """``_pick_primary``: the first OSD that is not a hole, else -1."""
    for o in osds:
        if o != CRUSH_ITEM_NONE:
            return o
    return -1


def _target_out(m: OSDMap, osd: int) -> bool:
    """An explicit mapping's target that is a valid OSD marked out."""
    return osd != CRUSH_ITEM_NONE and 0 <= osd < m.max_osd and m.osd_weight[osd] == 0


def _apply_upmap(m: OSDMap, pool: PgPool, raw_pg: PG, raw: list[int]) -> None:
    """``_apply_upmap``: ``pg_upmap`` then ``pg_upmap_items`` (Pacific)."""
    pg = pool.raw_pg_to_pg(raw_pg)
    explicit = m.pg_upmap.get(pg)
    if explicit is not None:
        if any(_target_out(m, o) for o in explicit):
            return  # reject the whole explicit mapping
        raw[:] = explicit
    items = m.pg_upmap_items.get(pg)
    if items is None:
        return
    for osd_from, osd_to in items:
        exists = False
        pos = -1
        for i, o in enumerate(raw):
            if o == osd_to:
                exists = True
                break
            if o == osd_from and pos < 0 and not _target_out(m, osd_to):
                pos = i
        if not exists and pos >= 0:
            raw[pos] = osd_to


def _raw_to_up_osds(m: OSDMap, pool: PgPool, raw: list[int]) -> list[int]:
    """``_raw_to_up_osds``: drop down OSDs (replicated) or make them holes (EC)."""
    if pool.can_shift_osds:
        return [o for o in raw if _is_up(m, o)]
    return [o if _is_up(m, o) else CRUSH_ITEM_NONE for o in raw]


def _apply_primary_affinity(
    m: OSDMap, seed: int, pool: PgPool, osds: list[int], primary: int
) -> int:
    """``_apply_primary_affinity``: maybe choose another primary; returns it.

    An OSD with affinity ``a`` < 1.0 is skipped when ``hash(seed, osd) >> 16 >= a``
    (kept as a fallback). Replicated sets move the new primary to the front.
    """
    aff = m.osd_primary_affinity
    if aff is None:
        return primary
    if not any(o != CRUSH_ITEM_NONE and aff[o] != CEPH_OSD_DEFAULT_PRIMARY_AFFINITY
               for o in osds):
        return primary
    pos = -1
    for i, o in enumerate(osds):
        if o == CRUSH_ITEM_NONE:
            continue
        a = aff[o]
        if (a < CEPH_OSD_MAX_PRIMARY_AFFINITY
                and (crush_hash32_2(CRUSH_HASH_RJENKINS1, seed, o) >> 16) >= a):
            if pos < 0:
                pos = i  # a fallback, but keep looking
        else:
            pos = i
            break
    if pos < 0:
        return primary
    primary = osds[pos]
    if pool.can_shift_osds and pos > 0:
        del osds[pos]
        osds.insert(0, primary)
    return primary


def _get_temp_osds(m: OSDMap, pool: PgPool, raw_pg: PG) -> tuple[list[int], int]:
    """``_get_temp_osds``: the pg_temp set (down OSDs dropped or holes) and primary."""
    pg = pool.raw_pg_to_pg(raw_pg)
    temp: list[int] = []
    for o in m.pg_temp.get(pg, ()):
        if _is_up(m, o):
            temp.append(o)
        elif not pool.can_shift_osds:
            temp.append(CRUSH_ITEM_NONE)
    primary = m.primary_temp.get(pg, -1)
    if pg not in m.primary_temp and temp:
        primary = _pick_primary(temp)
    return temp, primary


def pg_to_raw_osds(m: OSDMap, pg: PG) -> tuple[list[int], int]:
    """``pg_to_raw_osds``: (raw set, first non-hole OSD); ``([], -1)`` without the pool."""
    pool = m.pools.get(pg.pool)
    if pool is None:
        return [], -1
    raw, _ = _pg_to_raw_osds(m, pool, pg)
    return raw, _pick_primary(raw)


def pg_to_raw_up(m: OSDMap, pg: PG) -> tuple[list[int], int]:
    """``pg_to_raw_up``: the up set and primary, ignoring pg_temp/primary_temp."""
    pool = m.pools.get(pg.pool)
    if pool is None:
        return [], -1
    raw, pps = _pg_to_raw_osds(m, pool, pg)
    _apply_upmap(m, pool, pg, raw)
    up = _raw_to_up_osds(m, pool, raw)
    primary = _apply_primary_affinity(m, pps, pool, up, _pick_primary(raw))
    return up, primary


def pg_to_up_acting_osds(m: OSDMap, pg: PG) -> tuple[list[int], int, list[int], int]:
    """``pg_to_up_acting_osds``: ``(up, up_primary, acting, acting_primary)``.

    ``pg`` may carry a raw (unfolded) seed. Without the pool, everything is
    empty / -1.
    """
    return pg_to_raw_up_acting_osds(m, pg)[2:]


def pg_to_raw_up_acting_osds(
    m: OSDMap, pg: PG
) -> tuple[list[int], int, list[int], int, list[int], int]:
    """``(raw, raw_primary, up, up_primary, acting, acting_primary)`` with one CRUSH run.

    ``raw`` is :func:`pg_to_raw_osds`'s answer, the rest
    :func:`pg_to_up_acting_osds`'s (what ``osdmaptool --test-map-pgs-dump-all``
    prints).
    """
    pool = m.pools.get(pg.pool)
    if pool is None:
        return [], -1, [], -1, [], -1
    acting, acting_primary = _get_temp_osds(m, pool, pg)
    raw, pps = _pg_to_raw_osds(m, pool, pg)
    mapped = list(raw)
    _apply_upmap(m, pool, pg, mapped)
    up = _raw_to_up_osds(m, pool, mapped)
    up_primary = _apply_primary_affinity(m, pps, pool, up, _pick_primary(up))
    if not acting:
        acting = list(up)
        if acting_primary == -1:
            acting_primary = up_primary
    return raw, _pick_primary(raw), up, up_primary, acting, acting_primary


def pg_to_acting_osds(m: OSDMap, pg: PG) -> tuple[list[int], int]:
    """``pg_to_acting_osds``: (acting set, acting primary)."""
    _, _, acting, primary = pg_to_up_acting_osds(m, pg)
    return acting, primary


__all__ = [
    "CRUSH_ITEM_NONE",
    "crush_class_ids",
    "decode_crush",
    "encode_crush",
    "object_locator_to_pg",
    "pg_to_acting_osds",
    "pg_to_raw_osds",
    "pg_to_raw_up",
    "pg_to_raw_up_acting_osds",
    "pg_to_up_acting_osds",
]
