"""``OSDMap::Incremental``: the difference from epoch N-1 to N, and its codec.

Layout (Pacific)::

    ENCODE_START(8, 7)                        wrapper
      ENCODE_START(8, 1)                      client-usable data
        fsid, epoch, modified, new_pool_max, new_flags, fullmap, crush,
        new_max_osd, new_pools, new_pool_names, old_pools, new_up_client,
        new_state, new_weight, new_pg_temp, new_primary_temp,
        new_primary_affinity, new_erasure_code_profiles,
        old_erasure_code_profiles, new_pg_upmap, old_pg_upmap,
        new_pg_upmap_items, old_pg_upmap_items, new_removed_snaps,
        new_purged_snaps, new_last_up_change, new_last_in_change
      ENCODE_START(9, 1)                      osd-only data (10: stretch, 11: ranges)
        new_hb_back_up, new_up_thru, new_last_clean_interval, new_lost,
        new_blocklist, old_blocklist, new_up_cluster, cluster_snapshot,
        new_uuid, new_xinfo, new_hb_front_up, encode_features, ratios,
        new_require_min_compat_client, new_require_osd_release,
        new_crush_node_flags, new_device_class_flags, [stretch], [ranges]
      u32 inc_crc                             crc32c(-1) of the bytes before it and
      u32 full_crc                            then of the 4 bytes of full_crc

``full_crc`` is the crc of the full map this incremental produces; a client that
applies the incremental compares its re-encoded map against it. Applying lives
in :meth:`asyncmsgr.osd.osdmap.OSDMap.apply_incremental`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Self

from asyncmsgr.errors import EncodeError, IncompatibleEncoding
from asyncmsgr.features import (
    CEPH_FEATUREMASK_SERVER_LUMINOUS,
    CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS,
    CEPH_FEATUREMASK_SERVER_OCTOPUS,
    CEPH_FEATURES_SUPPORTED_DEFAULT,
    has_feature,
)
from asyncmsgr.messages._encoding import pull_string_list, push_string_list, zero_uuid
from asyncmsgr.types import EntityAddr, EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_utime, pull_uuid, push_utime, push_uuid

from .mapcommon import (
    CEPH_RELEASE_NONE,
    ZERO_TIME,
    OsdXInfo,
    UpmapItems,
    pull_addr_list,
    pull_addr_map,
    pull_addrvec_map,
    pull_float,
    pull_int_map,
    pull_osd_list,
    pull_osd_xinfo,
    pull_pg_map,
    pull_pg_set,
    pull_upmap_items,
    push_addr_list,
    push_addr_map,
    push_addrvec_map,
    push_float,
    push_int_map,
    push_osd_list,
    push_osd_xinfo,
    push_pg_map,
    push_pg_set,
    push_upmap_items,
)
from .osdmap_codec import (
    check_crc,
    fill_crc,
    pull_crc_wrapper,
    pull_ec_profiles,
    pull_flag_map,
    pull_pool_map,
    pull_pool_names,
    pull_snap_queue,
    push_flag_map,
    push_pool_names,
    push_snap_queue,
)
from .pool import PgPool, SnapIntervals, push_app_metadata, push_pg_pool
from .types import PG


@dataclass(kw_only=True, eq=False, slots=True)
class Incremental:
    """``OSDMap::Incremental``. Field names are Ceph's; -1 (or 0xFF for releases)
    means "unchanged" where Ceph uses it so."""

    fsid: uuid.UUID = field(default_factory=zero_uuid)
    epoch: int = 0
    modified: UTime = ZERO_TIME
    new_pool_max: int = -1
    new_flags: int = -1
    fullmap: bytes = b""
    """A whole encoded OSDMap replacing the current one (the mon sends it on a gap)."""
    crush: bytes = b""
    """A new encoded CRUSH map."""
    new_max_osd: int = -1
    new_pools: dict[int, PgPool] = field(default_factory=dict)
    new_pool_names: dict[int, str] = field(default_factory=dict)
    old_pools: tuple[int, ...] = ()
    new_up_client: dict[int, EntityAddrVec] = field(default_factory=dict)
    new_state: dict[int, int] = field(default_factory=dict)
    """OSD id to the state bits to XOR in (0 means CEPH_OSD_UP)."""
    new_weight: dict[int, int] = field(default_factory=dict)
    new_pg_temp: dict[PG, tuple[int, ...]] = field(default_factory=dict)
    """An empty list removes the PG's pg_temp."""
    new_primary_temp: dict[PG, int] = field(default_factory=dict)
    """-1 removes the PG's primary_temp."""
    new_primary_affinity: dict[int, int] = field(default_factory=dict)
    new_erasure_code_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    old_erasure_code_profiles: tuple[str, ...] = ()
    new_pg_upmap: dict[PG, tuple[int, ...]] = field(default_factory=dict)
    old_pg_upmap: tuple[PG, ...] = ()
    new_pg_upmap_items: dict[PG, UpmapItems] = field(default_factory=dict)
    old_pg_upmap_items: tuple[PG, ...] = ()
    new_removed_snaps: dict[int, SnapIntervals] = field(default_factory=dict)
    new_purged_snaps: dict[int, SnapIntervals] = field(default_factory=dict)
    new_last_up_change: UTime = ZERO_TIME
    new_last_in_change: UTime = ZERO_TIME
    # osd-only
    new_hb_back_up: dict[int, EntityAddrVec] = field(default_factory=dict)
    new_up_thru: dict[int, int] = field(default_factory=dict)
    new_last_clean_interval: dict[int, tuple[int, int]] = field(default_factory=dict)
    new_lost: dict[int, int] = field(default_factory=dict)
    new_blocklist: dict[EntityAddr, UTime] = field(default_factory=dict)
    old_blocklist: tuple[EntityAddr, ...] = ()
    new_up_cluster: dict[int, EntityAddrVec] = field(default_factory=dict)
    cluster_snapshot: str = ""
    new_uuid: dict[int, uuid.UUID] = field(default_factory=dict)
    new_xinfo: dict[int, OsdXInfo] = field(default_factory=dict)
    new_hb_front_up: dict[int, EntityAddrVec] = field(default_factory=dict)
    encode_features: int = 0
    """The features the mon encoded with (written as the ``features`` argument)."""
    new_nearfull_ratio: float = -1.0
    new_full_ratio: float = -1.0
    new_backfillfull_ratio: float = -1.0
    new_require_min_compat_client: int = CEPH_RELEASE_NONE
    new_require_osd_release: int = CEPH_RELEASE_NONE
    new_crush_node_flags: dict[int, int] = field(default_factory=dict)
    new_device_class_flags: dict[int, int] = field(default_factory=dict)
    change_stretch_mode: bool = False
    new_stretch_bucket_count: int = 0
    new_degraded_stretch_mode: int = 0
    new_recovering_stretch_mode: int = 0
    new_stretch_mode_bucket: int = 0
    stretch_mode_enabled: bool = False
    new_range_blocklist: dict[EntityAddr, UTime] = field(default_factory=dict)
    old_range_blocklist: tuple[EntityAddr, ...] = ()
    inc_crc: int = 0
    full_crc: int = 0
    have_crc: bool = False
    """The encoding carried crcs (struct v8); ``full_crc`` is then meaningful."""

    # -- codec -------------------------------------------------------------------------

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> Self:
        """``OSDMap::Incremental::decode``; verifies ``inc_crc``. Raises DecodeError."""
        struct_v, body, _outer, start, end, _ = pull_crc_wrapper(data, "OSDMap::Incremental")
        inc = cls()
        inc._decode_client(body)
        inc._decode_osd_only(body)
        if struct_v >= 8:
            crc_at = body.pos
            inc.inc_crc = body.pull_u32()
            tail_at = body.pos
            inc.full_crc = body.pull_u32()
            inc.have_crc = True
            check_crc(data, start, crc_at, tail_at, end, inc.inc_crc, "OSDMap::Incremental")
        return inc

    def _decode_client(self, r: Reader) -> None:
        v, b = r.pull_versioned(8, "Incremental client data")
        self.fsid = pull_uuid(b)
        self.epoch = b.pull_u32()
        self.modified = pull_utime(b)
        self.new_pool_max = b.pull_s64()
        self.new_flags = b.pull_s32()
        self.fullmap = b.pull_blob()
        self.crush = b.pull_blob()
        self.new_max_osd = b.pull_s32()
        self.new_pools = pull_pool_map(b)  # type: ignore[assignment]
        self.new_pool_names = pull_pool_names(b)
        self.old_pools = tuple(b.pull_list(Reader.pull_s64, 8))
        self.new_up_client = pull_addrvec_map(b, "new_up_client")
        if v >= 5:
            self.new_state = pull_int_map(b, Reader.pull_s32, Reader.pull_u32, 8, "new_state")
        else:
            self.new_state = pull_int_map(b, Reader.pull_s32, Reader.pull_u8, 5, "new_state")
        self.new_weight = pull_int_map(b, Reader.pull_s32, Reader.pull_u32, 8, "new_weight")
        self.new_pg_temp = pull_pg_map(b, pull_osd_list, 4)
        self.new_primary_temp = pull_pg_map(b, Reader.pull_s32, 4)
        if v >= 2:
            self.new_primary_affinity = pull_int_map(
                b, Reader.pull_s32, Reader.pull_u32, 8, "new_primary_affinity")
        if v >= 3:
            self.new_erasure_code_profiles = pull_ec_profiles(b)
            self.old_erasure_code_profiles = tuple(pull_string_list(b))
        if v >= 4:
            self.new_pg_upmap = pull_pg_map(b, pull_osd_list, 4)
            self.old_pg_upmap = pull_pg_set(b)
            self.new_pg_upmap_items = pull_pg_map(b, pull_upmap_items, 4)
            self.old_pg_upmap_items = pull_pg_set(b)
        if v >= 6:
            self.new_removed_snaps = pull_snap_queue(b, "new_removed_snaps")
            self.new_purged_snaps = pull_snap_queue(b, "new_purged_snaps")
        if v >= 8:
            self.new_last_up_change = pull_utime(b)
            self.new_last_in_change = pull_utime(b)

    def _decode_osd_only(self, r: Reader) -> None:
        v, b = r.pull_versioned(11, "Incremental osd-only data")
        self.new_hb_back_up = pull_addrvec_map(b, "new_hb_back_up")
        self.new_up_thru = pull_int_map(b, Reader.pull_s32, Reader.pull_u32, 8, "new_up_thru")
        self.new_last_clean_interval = pull_int_map(
            b, Reader.pull_s32, _pull_epoch_pair, 12, "new_last_clean_interval")
        self.new_lost = pull_int_map(b, Reader.pull_s32, Reader.pull_u32, 8, "new_lost")
        self.new_blocklist = pull_addr_map(b, "new_blocklist")
        self.old_blocklist = pull_addr_list(b, "old_blocklist")
        self.new_up_cluster = pull_addrvec_map(b, "new_up_cluster")
        self.cluster_snapshot = b.pull_string()
        self.new_uuid = pull_int_map(b, Reader.pull_s32, pull_uuid, 20, "new_uuid")
        self.new_xinfo = pull_int_map(b, Reader.pull_s32, pull_osd_xinfo, 10, "new_xinfo")
        self.new_hb_front_up = pull_addrvec_map(b, "new_hb_front_up")
        self.encode_features = b.pull_u64() if v >= 2 else 0
        if v >= 3:
            self.new_nearfull_ratio = pull_float(b)
            self.new_full_ratio = pull_float(b)
        if v >= 4:
            self.new_backfillfull_ratio = pull_float(b)
        if v == 5:
            b.pull_string()  # string-based new_require_min_compat_client
        if v >= 6:
            self.new_require_min_compat_client = b.pull_u8()
            self.new_require_osd_release = b.pull_u8()
        else:
            raise IncompatibleEncoding(f"Incremental: pre-Luminous osd-only data v{v}")
        if v >= 8:
            self.new_crush_node_flags = pull_flag_map(b, "new_crush_node_flags")
        if v >= 9:
            self.new_device_class_flags = pull_flag_map(b, "new_device_class_flags")
        if v >= 10:
            self.change_stretch_mode = b.pull_bool()
            self.new_stretch_bucket_count = b.pull_u32()
            self.new_degraded_stretch_mode = b.pull_u32()
            self.new_recovering_stretch_mode = b.pull_u32()
            self.new_stretch_mode_bucket = b.pull_s32()
            self.stretch_mode_enabled = b.pull_bool()
        if v >= 11:
            self.new_range_blocklist = pull_addr_map(b, "new_range_blocklist")
            self.old_range_blocklist = pull_addr_list(b, "old_range_blocklist")

    def encode(self, features: int | None = None) -> bytes:
        """``OSDMap::Incremental::encode``; sets ``inc_crc``. Raises EncodeError.

        ``features`` defaults to :attr:`encode_features` (what a decoded
        incremental was encoded with, so re-encoding is byte-identical), else
        Pacific's full set. Luminous+ feature sets only (client-usable v8/v6/v5,
        osd-only v9/v6).
        """
        if features is None:
            features = self.encode_features or CEPH_FEATURES_SUPPORTED_DEFAULT
        if not has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS):
            raise EncodeError("Incremental: pre-Luminous encodings are not supported")
        w = Writer()
        start = len(w)
        with w.versioned(8, 7):
            self._encode_client(w, features)
            self._encode_osd_only(w, features)
            crc_at = len(w)
            w.push_u32(0)
            tail_at = len(w)
            w.push_u32(self.full_crc)
        self.inc_crc = fill_crc(w, start, crc_at, tail_at)
        self.have_crc = True
        return w.getvalue()

    def _encode_client(self, w: Writer, features: int) -> None:
        v = 8
        if not has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC):
            v = 5
        elif not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
            v = 6
        with w.versioned(v, 1):
            push_uuid(w, self.fsid)
            w.push_u32(self.epoch)
            push_utime(w, self.modified)
            w.push_s64(self.new_pool_max)
            w.push_s32(self.new_flags)
            w.push_blob(self.fullmap)
            w.push_blob(self.crush)
            w.push_s32(self.new_max_osd)
            w.push_u32(len(self.new_pools))
            for pid in sorted(self.new_pools):
                w.push_s64(pid)
                push_pg_pool(w, self.new_pools[pid], features)
            push_pool_names(w, self.new_pool_names)
            w.push_list(sorted(set(self.old_pools)), Writer.push_s64)
            push_addrvec_map(w, self.new_up_client, features, as_addr=v < 7)
            push_int_map(w, self.new_state, Writer.push_s32, Writer.push_u32)
            push_int_map(w, self.new_weight, Writer.push_s32, Writer.push_u32)
            push_pg_map(w, self.new_pg_temp, push_osd_list)
            push_pg_map(w, self.new_primary_temp, Writer.push_s32)
            push_int_map(w, self.new_primary_affinity, Writer.push_s32, Writer.push_u32)
            push_app_metadata(w, self.new_erasure_code_profiles)
            push_string_list(w, self.old_erasure_code_profiles)
            push_pg_map(w, self.new_pg_upmap, push_osd_list)
            push_pg_set(w, self.old_pg_upmap)
            push_pg_map(w, self.new_pg_upmap_items, push_upmap_items)
            push_pg_set(w, self.old_pg_upmap_items)
            if v >= 6:
                push_snap_queue(w, self.new_removed_snaps)
                push_snap_queue(w, self.new_purged_snaps)
            if v >= 8:
                push_utime(w, self.new_last_up_change)
                push_utime(w, self.new_last_in_change)

    def _encode_osd_only(self, w: Writer, features: int) -> None:
        v = 9
        if not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
            v = 6
        if self.change_stretch_mode:
            v = max(v, 10)
        if self.new_range_blocklist or self.old_range_blocklist:
            v = max(v, 11)
        octopus = has_feature(features, CEPH_FEATUREMASK_SERVER_OCTOPUS)
        with w.versioned(v, 1):
            push_addrvec_map(w, self.new_hb_back_up, features, as_addr=v < 7)
            push_int_map(w, self.new_up_thru, Writer.push_s32, Writer.push_u32)
            push_int_map(w, self.new_last_clean_interval, Writer.push_s32, _push_epoch_pair)
            push_int_map(w, self.new_lost, Writer.push_s32, Writer.push_u32)
            push_addr_map(w, self.new_blocklist, features)
            push_addr_list(w, self.old_blocklist, features)
            push_addrvec_map(w, self.new_up_cluster, features, as_addr=v < 7)
            w.push_string(self.cluster_snapshot)
            push_int_map(w, self.new_uuid, Writer.push_s32, push_uuid)
            push_int_map(w, self.new_xinfo, Writer.push_s32,
                         lambda w_, x: push_osd_xinfo(w_, x, octopus))
            push_addrvec_map(w, self.new_hb_front_up, features, as_addr=v < 7)
            w.push_u64(features)
            push_float(w, self.new_nearfull_ratio)
            push_float(w, self.new_full_ratio)
            push_float(w, self.new_backfillfull_ratio)
            w.push_u8(self.new_require_min_compat_client)
            w.push_u8(self.new_require_osd_release)
            if v >= 8:
                push_flag_map(w, self.new_crush_node_flags)
            if v >= 9:
                push_flag_map(w, self.new_device_class_flags)
            if v >= 10:
                w.push_bool(self.change_stretch_mode)
                w.push_u32(self.new_stretch_bucket_count)
                w.push_u32(self.new_degraded_stretch_mode)
                w.push_u32(self.new_recovering_stretch_mode)
                w.push_s32(self.new_stretch_mode_bucket)
                w.push_bool(self.stretch_mode_enabled)
            if v >= 11:
                push_addr_map(w, self.new_range_blocklist, features)
                push_addr_list(w, self.old_range_blocklist, features)


def _pull_epoch_pair(r: Reader) -> tuple[int, int]:
    first = r.pull_u32()
    return first, r.pull_u32()


def _push_epoch_pair(w: Writer, p: tuple[int, int]) -> None:
    w.push_u32(p[0])
    w.push_u32(p[1])


__all__ = ["Incremental"]
