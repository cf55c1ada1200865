"""``OSDMap``: the cluster's OSDs, pools and placement state at one epoch.

:class:`OSDMap` holds every field of Pacific's map (codec in
:mod:`.osdmap_codec`), answers the questions a client asks (pools by id or
name, OSD existence/up/in, addresses, flags) and moves from epoch to epoch with
:meth:`OSDMap.apply_incremental` (``OSDMap::apply_incremental``), which refuses
an incremental that is not for the next epoch (:class:`EpochGap`): the caller
then asks the monitor for a full map.

Placement (object name to PG to OSDs) is in :mod:`.placement`; the methods
here that compute it delegate there. The CRUSH map is kept as the encoded bytes
(:attr:`OSDMap.crush_data`) and decoded on first use (:attr:`OSDMap.crush`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Self

from asyncmsgr.errors import AsyncmsgrError, DecodeError
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.messages._encoding import zero_uuid
from asyncmsgr.types import EntityAddr, EntityAddrVec, UTime

from . import placement
from .incremental import Incremental
from .mapcommon import (
    CEPH_OSD_AUTOOUT,
    CEPH_OSD_DEFAULT_PRIMARY_AFFINITY,
    CEPH_OSD_EXISTS,
    CEPH_OSD_IN,
    CEPH_OSD_NEW,
    CEPH_OSD_OUT,
    CEPH_OSD_STOP,
    CEPH_OSD_UP,
    CEPH_OSDMAP_FULL,
    CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS,
    CEPH_OSDMAP_PAUSERD,
    CEPH_OSDMAP_PAUSEWR,
    CEPH_OSDMAP_PGLOG_HARDLIMIT,
    CEPH_OSDMAP_RECOVERY_DELETES,
    CEPH_OSDMAP_REQUIRE_JEWEL,
    CEPH_OSDMAP_REQUIRE_KRAKEN,
    CEPH_RELEASE_JEWEL,
    CEPH_RELEASE_KRAKEN,
    CEPH_RELEASE_LUMINOUS,
    CEPH_RELEASE_NAUTILUS,
    CEPH_RELEASE_UNKNOWN,
    OsdInfo,
    OsdXInfo,
    UpmapItems,
    release_ge,
    release_gt,
)
from .osdmap_codec import decode_osdmap, encode_osdmap
from .pool import PgPool, SnapIntervals, intervals_subtract, intervals_union
from .types import PG, ObjectLocator

if TYPE_CHECKING:
    from asyncmsgr.crush.map import CrushMap


class EpochGap(AsyncmsgrError):
    """An incremental that does not follow the map's epoch: ask for a full map."""

    def __init__(self, have: int, got: int) -> None:
        super().__init__(f"incremental for epoch {got} does not follow epoch {have}")
        self.have = have
        self.got = got


class FsidMismatch(DecodeError):
    """An incremental for another cluster (its fsid differs from the map's)."""


class OSDMap:
    """Pacific's ``OSDMap``. Field names are Ceph's.

    Per-OSD vectors (``osd_state``, ``osd_weight``, the four address vectors,
    ``osd_info``, ``osd_xinfo``, ``osd_uuid``) are indexed by OSD id.
    ``osd_primary_affinity`` is None when the map carries none (every OSD at
    the default 1.0). Mutating a map by hand is allowed (tools do); call
    :meth:`invalidate` after changing ``crush_data`` directly.
    """

    def __init__(self) -> None:
        self.fsid: uuid.UUID = zero_uuid()
        self.epoch = 0
        self.created = UTime()
        self.modified = UTime()
        self.pools: dict[int, PgPool] = {}
        self.pool_name: dict[int, str] = {}
        self.pool_max = -1
        self.flags = 0
        self.max_osd = 0
        self.osd_state: list[int] = []
        self.osd_weight: list[int] = []
        self.client_addrs: list[EntityAddrVec] = []
        self.pg_temp: dict[PG, tuple[int, ...]] = {}
        self.primary_temp: dict[PG, int] = {}
        self.osd_primary_affinity: list[int] | None = None
        self.crush_data = b""
        self.erasure_code_profiles: dict[str, dict[str, str]] = {}
        self.pg_upmap: dict[PG, tuple[int, ...]] = {}
        self.pg_upmap_items: dict[PG, UpmapItems] = {}
        self.crush_version = 1
        self.new_removed_snaps: dict[int, SnapIntervals] = {}
        self.new_purged_snaps: dict[int, SnapIntervals] = {}
        self.last_up_change = UTime()
        self.last_in_change = UTime()
        self.hb_back_addrs: list[EntityAddrVec] = []
        self.osd_info: list[OsdInfo] = []
        self.blocklist: dict[EntityAddr, UTime] = {}
        self.cluster_addrs: list[EntityAddrVec] = []
        self.cluster_snapshot_epoch = 0
        self.cluster_snapshot = ""
        self.osd_uuid: list[uuid.UUID] = []
        self.osd_xinfo: list[OsdXInfo] = []
        self.hb_front_addrs: list[EntityAddrVec] = []
        self.nearfull_ratio = 0.0
        self.full_ratio = 0.0
        self.backfillfull_ratio = 0.0
        self.require_min_compat_client = CEPH_RELEASE_UNKNOWN
        self.require_osd_release = CEPH_RELEASE_UNKNOWN
        self.legacy_require_flags = False
        self.removed_snaps_queue: dict[int, SnapIntervals] = {}
        self.crush_node_flags: dict[int, int] = {}
        self.device_class_flags: dict[int, int] = {}
        self.stretch_mode_enabled = False
        self.stretch_bucket_count = 0
        self.degraded_stretch_mode = 0
        self.recovering_stretch_mode = 0
        self.stretch_mode_bucket = 0
        self.range_blocklist: dict[EntityAddr, UTime] = {}
        self.crc = 0
        self.crc_defined = False
        self._crush: CrushMap | None = None
        self._name_pool: dict[str, int] | None = None

    # -- codec -----------------------------------------------------------------------------

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode a full map (``OSDMap::decode``), verifying its crc.

        Raises DecodeError (:class:`~asyncmsgr.osd.osdmap_codec.BadMapCrc` for a
        crc mismatch, IncompatibleEncoding for encodings older than Luminous);
        the embedded CRUSH map is decoded too.
        """
        m = cls()
        decode_osdmap(m, data)
        m._crush = placement.decode_crush(m.crush_data)  # Ceph decodes it with the map
        return m

    def encode(self, features: int = CEPH_FEATURES_SUPPORTED_DEFAULT) -> bytes:
        """Encode as ``OSDMap::encode`` does for ``features``; updates :attr:`crc`."""
        return encode_osdmap(self, features)

    def invalidate(self) -> None:
        """Forget derived state (the decoded CRUSH map, the pool-name index)."""
        self._crush = None
        self._name_pool = None

    # -- CRUSH ------------------------------------------------------------------------------

    @property
    def crush(self) -> CrushMap:
        """The decoded CRUSH map (decoded once; raises DecodeError)."""
        if self._crush is None:
            self._crush = placement.decode_crush(self.crush_data)
        return self._crush

    def set_crush(self, crush: CrushMap) -> None:
        """Replace the CRUSH map (re-encoded into :attr:`crush_data`)."""
        self.crush_data = placement.encode_crush(crush)
        self._crush = crush

    # -- pools ------------------------------------------------------------------------------

    def get_pg_pool(self, pool: int) -> PgPool | None:
        """``get_pg_pool``: the pool, or None."""
        return self.pools.get(pool)

    def have_pg_pool(self, pool: int) -> bool:
        """``have_pg_pool``."""
        return pool in self.pools

    def lookup_pg_pool_name(self, name: str) -> int:
        """``lookup_pg_pool_name``: the pool id, or -ENOENT (-2)."""
        if self._name_pool is None:
            self._name_pool = {n: p for p, n in self.pool_name.items()}
        return self._name_pool.get(name, -2)

    def get_pool_name(self, pool: int) -> str | None:
        """``get_pool_name``: the name, or None."""
        return self.pool_name.get(pool)

    # -- OSDs -------------------------------------------------------------------------------

    def exists(self, osd: int) -> bool:
        """``exists``: the id is below max_osd and has CEPH_OSD_EXISTS."""
        return 0 <= osd < self.max_osd and bool(self.osd_state[osd] & CEPH_OSD_EXISTS)

    def is_up(self, osd: int) -> bool:
        """``is_up``: exists and CEPH_OSD_UP."""
        return self.exists(osd) and bool(self.osd_state[osd] & CEPH_OSD_UP)

    def is_down(self, osd: int) -> bool:
        """``is_down``."""
        return not self.is_up(osd)

    def get_weight(self, osd: int) -> int:
        """``get_weight``: the 16.16 reweight (0 = out)."""
        return self.osd_weight[osd]

    def get_weightf(self, osd: int) -> float:
        """``get_weightf``."""
        return self.osd_weight[osd] / CEPH_OSD_IN

    def is_in(self, osd: int) -> bool:
        """``is_in``: exists and weight is not 0."""
        return self.exists(osd) and self.osd_weight[osd] != CEPH_OSD_OUT

    def is_out(self, osd: int) -> bool:
        """``is_out``."""
        return not self.is_in(osd)

    def get_primary_affinity(self, osd: int) -> int:
        """``get_primary_affinity`` (16.16; the default is 1.0)."""
        if self.osd_primary_affinity is None:
            return CEPH_OSD_DEFAULT_PRIMARY_AFFINITY
        return self.osd_primary_affinity[osd]

    def get_addrs(self, osd: int) -> EntityAddrVec:
        """``get_addrs``: the OSD's public (client-facing) addresses."""
        if 0 <= osd < len(self.client_addrs):
            return self.client_addrs[osd]
        return EntityAddrVec()

    def get_up_osd_addrs(self, osd: int) -> EntityAddrVec | None:
        """The public addresses of an up OSD, or None if it is not up."""
        return self.get_addrs(osd) if self.is_up(osd) else None

    def get_num_osds(self) -> int:
        """Number of existing OSDs."""
        return sum(1 for o in range(self.max_osd) if self.osd_state[o] & CEPH_OSD_EXISTS)

    def get_num_up_osds(self) -> int:
        """Number of up OSDs."""
        return sum(1 for o in range(self.max_osd) if self.is_up(o))

    def get_num_in_osds(self) -> int:
        """Number of existing OSDs that are in."""
        return sum(1 for o in range(self.max_osd) if self.is_in(o))

    # -- flags ------------------------------------------------------------------------------

    def test_flag(self, flag: int) -> bool:
        """``test_flag``."""
        return bool(self.flags & flag)

    @property
    def pauserd(self) -> bool:
        """Reads are paused (CEPH_OSDMAP_PAUSERD)."""
        return bool(self.flags & CEPH_OSDMAP_PAUSERD)

    @property
    def pausewr(self) -> bool:
        """Writes are paused (CEPH_OSDMAP_PAUSEWR)."""
        return bool(self.flags & CEPH_OSDMAP_PAUSEWR)

    @property
    def full(self) -> bool:
        """The cluster-wide FULL flag (CEPH_OSDMAP_FULL; pools carry FLAG_FULL since Luminous)."""
        return bool(self.flags & CEPH_OSDMAP_FULL)

    # -- placement (see placement.py) -------------------------------------------------------

    def object_locator_to_pg(self, name: str, loc: ObjectLocator) -> PG:
        """``object_locator_to_pg``: the raw PG (full 32-bit seed) of an object.

        Raises KeyError for an unknown pool.
        """
        return placement.object_locator_to_pg(self, name, loc)

    def raw_pg_to_pg(self, pg: PG) -> PG:
        """``raw_pg_to_pg``: fold a raw PG's seed into ``[0, pg_num)``; KeyError if no pool."""
        return self.pools[pg.pool].raw_pg_to_pg(pg)

    def pg_to_up_acting_osds(self, pg: PG) -> tuple[list[int], int, list[int], int]:
        """``pg_to_up_acting_osds``: ``(up, up_primary, acting, acting_primary)``."""
        return placement.pg_to_up_acting_osds(self, pg)

    def pg_to_raw_osds(self, pg: PG) -> tuple[list[int], int]:
        """``pg_to_raw_osds``: the CRUSH result without nonexistent OSDs, and its primary."""
        return placement.pg_to_raw_osds(self, pg)

    # -- changes ----------------------------------------------------------------------------

    def set_max_osd(self, n: int) -> None:
        """``set_max_osd``: resize every per-OSD vector (new OSDs: out, no state)."""
        def fit(v: list[object], fill: object) -> None:
            del v[n:]
            v.extend([fill] * (n - len(v)))

        self.max_osd = n
        fit(self.osd_state, 0)  # type: ignore[arg-type]
        fit(self.osd_weight, CEPH_OSD_OUT)  # type: ignore[arg-type]
        fit(self.osd_info, OsdInfo())  # type: ignore[arg-type]
        fit(self.osd_xinfo, OsdXInfo())  # type: ignore[arg-type]
        for addrs in (self.client_addrs, self.cluster_addrs, self.hb_back_addrs,
                      self.hb_front_addrs):
            fit(addrs, EntityAddrVec())  # type: ignore[arg-type]
        fit(self.osd_uuid, zero_uuid())  # type: ignore[arg-type]
        if self.osd_primary_affinity is not None:
            fit(self.osd_primary_affinity,  # type: ignore[arg-type]
                CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)

    def set_weight(self, osd: int, w: int) -> None:
        """``set_weight``: a non-zero weight also marks the OSD as existing."""
        self.osd_weight[osd] = w
        if w:
            self.osd_state[osd] |= CEPH_OSD_EXISTS

    def set_primary_affinity(self, osd: int, a: int) -> None:
        """``set_primary_affinity`` (creates the vector at the defaults first)."""
        if self.osd_primary_affinity is None:
            self.osd_primary_affinity = [CEPH_OSD_DEFAULT_PRIMARY_AFFINITY] * self.max_osd
        self.osd_primary_affinity[osd] = a

    def apply_incremental(self, inc: Incremental) -> None:
        """``OSDMap::apply_incremental``: move to ``inc.epoch``.

        Raises :class:`EpochGap` unless ``inc.epoch == epoch + 1``,
        :class:`FsidMismatch` for another cluster's incremental, and DecodeError
        when the incremental names OSDs beyond ``max_osd`` or carries a bad CRUSH
        or full map (the map is unchanged in all these cases), or does not fit the
        map in another way (removing snaps that are not queued...: the map may
        then be partly updated; discard it).
        """
        if inc.epoch != self.epoch + 1:
            raise EpochGap(self.epoch, inc.epoch)
        if inc.epoch == 1:
            self.fsid = inc.fsid
        elif inc.fsid != self.fsid:
            raise FsidMismatch(f"incremental fsid {inc.fsid} != map fsid {self.fsid}")
        if inc.fullmap:
            full = type(self).decode(inc.fullmap)
            self.__dict__.update(full.__dict__)
            return
        _check_osd_ids(self, inc)
        crush = placement.decode_crush(inc.crush) if inc.crush else None
        self.epoch += 1
        self.modified = inc.modified
        try:
            _apply(self, inc, crush)
        except (IndexError, KeyError, ValueError) as exc:
            raise DecodeError(f"incremental {inc.epoch} does not fit the map: {exc}") from exc
        finally:
            self._name_pool = None


#: Largest ``new_max_osd`` accepted (Ceph's mon refuses far less: ``mon_max_osd``).
MAX_OSD_LIMIT = 1 << 20


def _check_osd_ids(m: OSDMap, inc: Incremental) -> None:
    """Refuse (before changing anything) an incremental naming OSDs past max_osd."""
    if inc.new_max_osd > MAX_OSD_LIMIT:
        raise DecodeError(f"incremental {inc.epoch}: new_max_osd {inc.new_max_osd} "
                          f"exceeds {MAX_OSD_LIMIT}")
    max_osd = inc.new_max_osd if inc.new_max_osd >= 0 else m.max_osd
    for name in ("new_up_client", "new_state", "new_weight", "new_primary_affinity",
                 "new_hb_back_up", "new_hb_front_up", "new_up_cluster", "new_up_thru",
                 "new_last_clean_interval", "new_lost", "new_xinfo", "new_uuid"):
        ids: dict[int, object] = getattr(inc, name)
        bad = [o for o in ids if not 0 <= o < max_osd]
        if bad:
            raise DecodeError(f"incremental {inc.epoch}: {name} names osd.{bad[0]} "
                              f"(max_osd {max_osd})")
    missing = [o for o in inc.new_up_client
               if o not in inc.new_hb_back_up or o not in inc.new_hb_front_up]
    if missing:
        raise DecodeError(f"incremental {inc.epoch}: osd.{missing[0]} up without "
                          "heartbeat addresses")


def _apply(m: OSDMap, inc: Incremental, crush: CrushMap | None) -> None:
    """The body of ``apply_incremental`` for a non-full incremental (Ceph's order)."""
    epoch = m.epoch
    if inc.new_flags >= 0:
        m.flags = inc.new_flags
        if m.flags & CEPH_OSDMAP_REQUIRE_KRAKEN:
            if not release_ge(m.require_osd_release, CEPH_RELEASE_KRAKEN):
                m.require_osd_release = CEPH_RELEASE_KRAKEN
        elif (m.flags & CEPH_OSDMAP_REQUIRE_JEWEL
              and not release_ge(m.require_osd_release, CEPH_RELEASE_JEWEL)):
            m.require_osd_release = CEPH_RELEASE_JEWEL
    if inc.new_max_osd >= 0:
        m.set_max_osd(inc.new_max_osd)
    if inc.new_pool_max != -1:
        m.pool_max = inc.new_pool_max
    for pid, pool in inc.new_pools.items():
        m.pools[pid] = pool.with_last_change(epoch)

    m.new_removed_snaps = dict(inc.new_removed_snaps)
    m.new_purged_snaps = dict(inc.new_purged_snaps)
    for pid, snaps in m.new_removed_snaps.items():
        m.removed_snaps_queue[pid] = intervals_union(m.removed_snaps_queue.get(pid, ()), snaps)
    for pid, snaps in m.new_purged_snaps.items():
        left = intervals_subtract(m.removed_snaps_queue[pid], snaps)
        if left:
            m.removed_snaps_queue[pid] = left
        else:
            del m.removed_snaps_queue[pid]

    if inc.new_last_up_change != UTime():
        m.last_up_change = inc.new_last_up_change
    if inc.new_last_in_change != UTime():
        m.last_in_change = inc.new_last_in_change

    for pid, name in inc.new_pool_names.items():
        m.pool_name[pid] = name
    for pid in inc.old_pools:
        m.pools.pop(pid, None)
        m.pool_name.pop(pid, None)

    for osd, w in inc.new_weight.items():
        m.set_weight(osd, w)
        if w:  # marked in: clear AUTOOUT and NEW, forget the old weight
            m.osd_state[osd] &= ~(CEPH_OSD_AUTOOUT | CEPH_OSD_NEW)
            x = m.osd_xinfo[osd]
            if x.old_weight:
                m.osd_xinfo[osd] = _replace_xinfo(x, old_weight=0)

    for osd, a in inc.new_primary_affinity.items():
        m.set_primary_affinity(osd, a)

    for name in inc.old_erasure_code_profiles:
        m.erasure_code_profiles.pop(name, None)
    for name, profile in inc.new_erasure_code_profiles.items():
        m.erasure_code_profiles[name] = dict(profile)

    for osd, state in inc.new_state.items():
        s = state if state else CEPH_OSD_UP
        if m.osd_state[osd] & CEPH_OSD_UP and s & CEPH_OSD_UP:
            m.osd_info[osd] = _replace_info(m.osd_info[osd], down_at=epoch)
            m.osd_xinfo[osd] = _replace_xinfo(m.osd_xinfo[osd], down_stamp=m.modified)
        if m.osd_state[osd] & CEPH_OSD_EXISTS and s & CEPH_OSD_EXISTS:
            # the OSD is destroyed: forget everything about it
            m.osd_uuid[osd] = zero_uuid()
            m.osd_info[osd] = OsdInfo()
            m.osd_xinfo[osd] = OsdXInfo()
            m.set_primary_affinity(osd, CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)
            m.client_addrs[osd] = EntityAddrVec()
            m.cluster_addrs[osd] = EntityAddrVec()
            m.hb_front_addrs[osd] = EntityAddrVec()
            m.hb_back_addrs[osd] = EntityAddrVec()
            m.osd_state[osd] = 0
        else:
            m.osd_state[osd] ^= s

    for osd, addrs in inc.new_up_client.items():
        m.osd_state[osd] |= CEPH_OSD_EXISTS | CEPH_OSD_UP
        m.osd_state[osd] &= ~CEPH_OSD_STOP
        m.client_addrs[osd] = addrs
        m.hb_back_addrs[osd] = inc.new_hb_back_up[osd]
        m.hb_front_addrs[osd] = inc.new_hb_front_up[osd]
        m.osd_info[osd] = _replace_info(m.osd_info[osd], up_from=epoch)
    for osd, addrs in inc.new_up_cluster.items():
        m.cluster_addrs[osd] = addrs

    for osd, thru in inc.new_up_thru.items():
        m.osd_info[osd] = _replace_info(m.osd_info[osd], up_thru=thru)
    for osd, (first, last) in inc.new_last_clean_interval.items():
        m.osd_info[osd] = _replace_info(
            m.osd_info[osd], last_clean_begin=first, last_clean_end=last)
    for osd, lost in inc.new_lost.items():
        m.osd_info[osd] = _replace_info(m.osd_info[osd], lost_at=lost)
    for osd, xinfo in inc.new_xinfo.items():
        m.osd_xinfo[osd] = xinfo
    for osd, u in inc.new_uuid.items():
        m.osd_uuid[osd] = u

    for pg, osds in inc.new_pg_temp.items():
        if osds:
            m.pg_temp[pg] = osds
        else:
            m.pg_temp.pop(pg, None)
    for pg, primary in inc.new_primary_temp.items():
        if primary == -1:
            m.primary_temp.pop(pg, None)
        else:
            m.primary_temp[pg] = primary

    for pg, osds in inc.new_pg_upmap.items():
        m.pg_upmap[pg] = osds
    for pg in inc.old_pg_upmap:
        m.pg_upmap.pop(pg, None)
    for pg, items in inc.new_pg_upmap_items.items():
        m.pg_upmap_items[pg] = items
    for pg in inc.old_pg_upmap_items:
        m.pg_upmap_items.pop(pg, None)

    m.blocklist.update(inc.new_blocklist)
    for addr in inc.old_blocklist:
        m.blocklist.pop(addr, None)
    m.range_blocklist.update(inc.new_range_blocklist)
    for addr in inc.old_range_blocklist:
        m.range_blocklist.pop(addr, None)

    for node, flags in inc.new_crush_node_flags.items():
        if flags:
            m.crush_node_flags[node] = flags
        else:
            m.crush_node_flags.pop(node, None)
    for cls_id, flags in inc.new_device_class_flags.items():
        if flags:
            m.device_class_flags[cls_id] = flags
        else:
            m.device_class_flags.pop(cls_id, None)

    if inc.cluster_snapshot:
        m.cluster_snapshot = inc.cluster_snapshot
        m.cluster_snapshot_epoch = inc.epoch
    else:
        m.cluster_snapshot = ""
        m.cluster_snapshot_epoch = 0

    if inc.new_nearfull_ratio >= 0:
        m.nearfull_ratio = inc.new_nearfull_ratio
    if inc.new_backfillfull_ratio >= 0:
        m.backfillfull_ratio = inc.new_backfillfull_ratio
    if inc.new_full_ratio >= 0:
        m.full_ratio = inc.new_full_ratio
    if release_gt(inc.new_require_min_compat_client, CEPH_RELEASE_UNKNOWN):
        m.require_min_compat_client = inc.new_require_min_compat_client
    if release_ge(inc.new_require_osd_release, CEPH_RELEASE_UNKNOWN):
        m.require_osd_release = inc.new_require_osd_release
        if release_ge(m.require_osd_release, CEPH_RELEASE_LUMINOUS):
            m.flags &= ~CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS
            m.flags |= CEPH_OSDMAP_RECOVERY_DELETES
        if release_ge(m.require_osd_release, CEPH_RELEASE_NAUTILUS):
            m.flags |= CEPH_OSDMAP_PGLOG_HARDLIMIT

    if crush is not None:
        m.crush_data = inc.crush
        m._crush = crush
        if release_ge(m.require_osd_release, CEPH_RELEASE_LUMINOUS):
            m.crush_version += 1
        if m.device_class_flags:
            classes = placement.crush_class_ids(m.crush)
            for cls_id in [c for c in m.device_class_flags if c not in classes]:
                del m.device_class_flags[cls_id]

    if inc.change_stretch_mode:
        m.stretch_mode_enabled = inc.stretch_mode_enabled
        m.stretch_bucket_count = inc.new_stretch_bucket_count
        m.degraded_stretch_mode = inc.new_degraded_stretch_mode
        m.recovering_stretch_mode = inc.new_recovering_stretch_mode
        m.stretch_mode_bucket = inc.new_stretch_mode_bucket


def _replace_info(i: OsdInfo, **kw: int) -> OsdInfo:
    return replace(i, **kw)


def _replace_xinfo(x: OsdXInfo, **kw: object) -> OsdXInfo:
    return replace(x, **kw)  # type: ignore[arg-type]


__all__ = ["MAX_OSD_LIMIT", "EpochGap", "FsidMismatch", "OSDMap"]
