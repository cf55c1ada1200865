"""Build and change the fake cluster's OSDMap and CRUSH map in code (sans-I/O).

What ``ceph-mon`` plus ``ceph osd create`` and ``ceph osd pool create`` would
leave in a Pacific map, made directly (like ``osdmaptool --createsimple``, which
the osdmap package does not offer):

* :func:`build_crush`: ``root default`` > ``host NAME`` > the OSDs (straw2,
  device class ``hdd``, CRUSH weight 1.0 per TiB of the OSD's size, optimal
  tunables) and rule 0 ``replicated_rule``: ``take default``, ``choose firstn 0
  type osd``, ``emit`` (the rule a cluster built with ``osd_crush_chooseleaf_type
  = 0`` gets, so every PG of a size-N pool lands on N distinct fake OSDs);
* :func:`new_osdmap`: epoch 1 with the OSDs existing, in and down, the flags,
  ratios, releases and ``default`` erasure-code profile of a Pacific mon;
* :func:`mark_up` / :func:`mark_down` / :func:`set_in`, :func:`create_pool`,
  :func:`remove_pool`, :func:`set_pool`: changes, each made on a map moved to
  the next epoch with :func:`next_epoch`.

Time is an input (``now``, a :class:`~asyncmsgr.types.UTime`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Final

from asyncmsgr.crush.map import (
    CRUSH_RULE_TYPE_REPLICATED,
    CrushMap,
    CrushRule,
    CrushRuleStep,
    CrushTunables,
    RuleOp,
    Straw2Bucket,
)
from asyncmsgr.osd.mapcommon import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_IN,
    CEPH_OSD_OUT,
    CEPH_OSD_UP,
    CEPH_OSDMAP_PGLOG_HARDLIMIT,
    CEPH_OSDMAP_PURGED_SNAPDIRS,
    CEPH_OSDMAP_RECOVERY_DELETES,
    CEPH_OSDMAP_SORTBITWISE,
    CEPH_RELEASE_LUMINOUS,
    CEPH_RELEASE_PACIFIC,
)
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import (
    FLAG_HASHPSPOOL,
    PG_AUTOSCALE_ON,
    TYPE_REPLICATED,
    PgPool,
)
from asyncmsgr.types import EntityAddrVec, UTime

#: CRUSH type names of a default map (``CrushWrapper::set_type_name`` order).
CRUSH_TYPES: Final = ("osd", "host", "chassis", "rack", "row", "pdu", "pod", "room",
                      "datacenter", "zone", "region", "root")
ROOT_TYPE: Final = 11
HOST_TYPE: Final = 1
#: A device's CRUSH weight is its size in TiB (16.16 fixed point).
TIB: Final = 1 << 40
#: Flags of a fresh Pacific map: sortbitwise, recovery_deletes, purged_snapdirs,
#: pglog_hardlimit (``flags_num`` 5799936).
PACIFIC_MAP_FLAGS: Final = (CEPH_OSDMAP_SORTBITWISE | CEPH_OSDMAP_RECOVERY_DELETES
                            | CEPH_OSDMAP_PURGED_SNAPDIRS | CEPH_OSDMAP_PGLOG_HARDLIMIT)
#: ``osd_pool_default_*`` values (Pacific) the fake uses unless told otherwise.
DEFAULT_PG_NUM: Final = 32
DEFAULT_EC_PROFILE: Final = {"k": "2", "m": "2", "plugin": "jerasure",
                             "technique": "reed_sol_van"}
#: ``pg_pool_t`` defaults a mon fills in (``cache_target_*_ratio_micro``).
_CACHE_DIRTY_MICRO = 400000
_CACHE_DIRTY_HIGH_MICRO = 600000
_CACHE_FULL_MICRO = 800000
#: Pool names Ceph refuses (``OSDMonitor::prepare_new_pool``).
_MAX_POOL_NAME = 256


def crush_weight(size_bytes: int) -> int:
    """The 16.16 CRUSH weight of a device of ``size_bytes`` (at least 1)."""
    return max(1, size_bytes * 0x10000 // TIB)


def build_crush(num_osds: int, *, host: str = "localhost",
                osd_size: int = TIB) -> CrushMap:
    """The CRUSH map of ``num_osds`` OSDs under one host (see the module docstring)."""
    if num_osds < 1:
        raise ValueError("a fake cluster needs at least one OSD")
    w = crush_weight(osd_size)
    osds = tuple(range(num_osds))
    host_bucket = Straw2Bucket(id=-2, type=HOST_TYPE, weight=w * num_osds, items=osds,
                               item_weights=(w,) * num_osds)
    root = Straw2Bucket(id=-1, type=ROOT_TYPE, weight=w * num_osds, items=(-2,),
                        item_weights=(w * num_osds,))
    rule = CrushRule(ruleset=0, type=CRUSH_RULE_TYPE_REPLICATED, min_size=1, max_size=10,
                     steps=(CrushRuleStep(RuleOp.TAKE, -1),
                            CrushRuleStep(RuleOp.CHOOSE_FIRSTN, 0, 0),
                            CrushRuleStep(RuleOp.EMIT)))
    names = {o: f"osd.{o}" for o in osds}
    names[-1] = "default"
    names[-2] = host
    return CrushMap(buckets=(root, host_bucket), rules=(rule,), max_devices=num_osds,
                    type_map=dict(enumerate(CRUSH_TYPES)), name_map=names,
                    rule_name_map={0: "replicated_rule"}, tunables=CrushTunables.optimal(),
                    class_map=dict.fromkeys(osds, 0), class_name={0: "hdd"})


def osd_uuid(fsid: uuid.UUID, osd: int) -> uuid.UUID:
    """A stable uuid for ``osd.N`` of the cluster ``fsid``."""
    return uuid.UUID(int=(fsid.int & ~0xFFFFFFFF) | (osd + 1))


def new_osdmap(fsid: uuid.UUID, num_osds: int, now: UTime, *, host: str = "localhost",
               osd_size: int = TIB) -> OSDMap:
    """Epoch 1: ``num_osds`` OSDs that exist and are in but not up yet."""
    m = OSDMap()
    m.fsid = fsid
    m.epoch = 1
    m.created = m.modified = now
    m.flags = PACIFIC_MAP_FLAGS
    m.pool_max = 0  # the first pool is pool 1, as on a real cluster
    m.set_max_osd(num_osds)
    for osd in range(num_osds):
        m.osd_state[osd] = CEPH_OSD_EXISTS
        m.osd_weight[osd] = CEPH_OSD_IN
        m.osd_uuid[osd] = osd_uuid(fsid, osd)
    m.set_crush(build_crush(num_osds, host=host, osd_size=osd_size))
    m.erasure_code_profiles = {"default": dict(DEFAULT_EC_PROFILE)}
    m.nearfull_ratio = 0.85
    m.backfillfull_ratio = 0.90
    m.full_ratio = 0.95
    m.require_min_compat_client = CEPH_RELEASE_LUMINOUS
    m.require_osd_release = CEPH_RELEASE_PACIFIC
    m.last_up_change = m.last_in_change = now
    return m


def next_epoch(m: OSDMap, now: UTime) -> None:
    """Move to the next epoch (``modified`` = ``now``) before changing the map."""
    m.epoch += 1
    m.modified = now


def mark_up(m: OSDMap, osd: int, addrs: EntityAddrVec, features: int, now: UTime) -> None:
    """``osd.N`` booted at ``addrs`` (public, cluster and heartbeat addresses alike)."""
    m.osd_state[osd] |= CEPH_OSD_EXISTS | CEPH_OSD_UP
    for vec in (m.client_addrs, m.cluster_addrs, m.hb_back_addrs, m.hb_front_addrs):
        vec[osd] = addrs
    info = m.osd_info[osd]
    m.osd_info[osd] = replace(info, up_from=m.epoch, up_thru=m.epoch)
    m.osd_xinfo[osd] = replace(m.osd_xinfo[osd], features=features,
                               last_purged_snaps_scrub=now)
    m.last_up_change = now


def mark_down(m: OSDMap, osd: int, now: UTime) -> None:
    """``osd.N`` is down (it keeps its addresses, as Ceph's map does)."""
    if m.osd_state[osd] & CEPH_OSD_UP:
        m.osd_state[osd] &= ~CEPH_OSD_UP
        m.osd_info[osd] = replace(m.osd_info[osd], down_at=m.epoch)
        m.osd_xinfo[osd] = replace(m.osd_xinfo[osd], down_stamp=now)
        m.last_up_change = now


def set_in(m: OSDMap, osd: int, is_in: bool, now: UTime) -> None:
    """Mark ``osd.N`` in (weight 1.0) or out (weight 0)."""
    m.osd_weight[osd] = CEPH_OSD_IN if is_in else CEPH_OSD_OUT
    m.last_in_change = now


def default_min_size(size: int) -> int:
    """``osd_pool_default_min_size`` 0: ``size - size / 2``."""
    return size - size // 2


def check_pool_name(name: str) -> str | None:
    """Why Ceph refuses a pool name, or None."""
    if not name:
        return "pool name must not be empty"
    if len(name.encode()) > _MAX_POOL_NAME:
        return f"pool name is longer than {_MAX_POOL_NAME} bytes"
    return None


def create_pool(m: OSDMap, name: str, now: UTime, *, pg_num: int = DEFAULT_PG_NUM,
                pgp_num: int = 0, size: int = 3, min_size: int = 0,
                application: str = "") -> int:
    """Add a replicated pool at the current epoch; returns its id.

    ``size`` is capped by the number of OSDs, as a usable test pool must be.
    Raises ValueError for a taken name.
    """
    if m.lookup_pg_pool_name(name) >= 0:
        raise ValueError(f"pool '{name}' already exists")
    pool_id = m.pool_max + 1
    pgp = pgp_num or pg_num
    apps: dict[str, dict[str, str]] = {application: {}} if application else {}
    m.pools[pool_id] = PgPool(
        type=TYPE_REPLICATED, size=size, min_size=min_size or default_min_size(size),
        crush_rule=0, object_hash=2, pg_num=pg_num, pgp_num=pgp, last_change=m.epoch,
        flags=FLAG_HASHPSPOOL, cache_target_dirty_ratio_micro=_CACHE_DIRTY_MICRO,
        cache_target_dirty_high_ratio_micro=_CACHE_DIRTY_HIGH_MICRO,
        cache_target_full_ratio_micro=_CACHE_FULL_MICRO, create_time=now,
        pg_num_target=pg_num, pgp_num_target=pgp, pg_num_pending=pg_num,
        pg_autoscale_mode=PG_AUTOSCALE_ON, application_metadata=apps)
    m.pool_name[pool_id] = name
    m.pool_max = pool_id
    m.invalidate()
    return pool_id


def remove_pool(m: OSDMap, pool_id: int) -> None:
    """Delete a pool from the map."""
    m.pools.pop(pool_id, None)
    m.pool_name.pop(pool_id, None)
    m.invalidate()


def set_pool(m: OSDMap, pool_id: int, pool: PgPool) -> None:
    """Replace a pool's parameters (``last_change`` set to the current epoch)."""
    m.pools[pool_id] = pool.with_last_change(m.epoch)


__all__ = [
    "CRUSH_TYPES",
    "DEFAULT_PG_NUM",
    "PACIFIC_MAP_FLAGS",
    "TIB",
    "build_crush",
    "check_pool_name",
    "create_pool",
    "crush_weight",
    "default_min_size",
    "mark_down",
    "mark_up",
    "new_osdmap",
    "next_epoch",
    "osd_uuid",
    "remove_pool",
    "set_in",
    "set_pool",
]
