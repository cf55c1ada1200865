"""The full OSDMap encoding (``OSDMap::encode`` / ``OSDMap::decode``, Pacific).

Layout::

    ENCODE_START(8, 7)                        wrapper
      ENCODE_START(9, 1)                      client-usable data
        fsid, epoch, created, modified, pools, pool_name, pool_max, flags,
        max_osd, osd_state, osd_weight, client_addrs, pg_temp, primary_temp,
        osd_primary_affinity, crush (bufferlist), erasure_code_profiles,
        pg_upmap, pg_upmap_items, crush_version, new_removed_snaps,
        new_purged_snaps, last_up_change, last_in_change
      ENCODE_START(9, 1)                      osd-only data (10: stretch mode, 11: ranges)
        hb_back_addrs, osd_info, blocklist, cluster_addrs,
        cluster_snapshot_epoch, cluster_snapshot, osd_uuid, osd_xinfo,
        hb_front_addrs, nearfull/full/backfillfull ratios,
        require_min_compat_client, require_osd_release, removed_snaps_queue,
        crush_node_flags, device_class_flags, [stretch fields], [range_blocklist]
      u32 crc                                 crc32c(-1) of everything before it
                                              (from the wrapper's first byte)

Older feature sets get the client-usable versions 7 (Mimic) and 6 (Luminous) and
osd-only versions 6 and 5, with addresses written as single legacy addresses
before v8/v7; pre-Luminous encodings raise EncodeError. Decoding accepts every
struct version from the wrapper's v7 on; the classic (pre-v7) maps raise
IncompatibleEncoding.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import TYPE_CHECKING

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import (
    CEPH_FEATUREMASK_SERVER_LUMINOUS,
    CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS,
    CEPH_FEATUREMASK_SERVER_OCTOPUS,
    has_feature,
)
from asyncmsgr.wire.buffer import U32, Reader, Writer
from asyncmsgr.wire.codecs import pull_utime, pull_uuid, push_utime, push_uuid
from asyncmsgr.wire.crc32c import ceph_crc32c

from .mapcommon import (
    CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS,
    CEPH_OSDMAP_PGLOG_HARDLIMIT,
    CEPH_OSDMAP_RECOVERY_DELETES,
    CEPH_OSDMAP_REQUIRE_JEWEL,
    CEPH_OSDMAP_REQUIRE_KRAKEN,
    CEPH_OSDMAP_REQUIRE_LUMINOUS,
    CEPH_RELEASE_JEWEL,
    CEPH_RELEASE_KRAKEN,
    CEPH_RELEASE_LUMINOUS,
    CEPH_RELEASE_NAUTILUS,
    CEPH_RELEASE_UNKNOWN,
    OSD_INFO_SIZE,
    pull_addr_map,
    pull_addrvec_vector,
    pull_float,
    pull_int_map,
    pull_osd_info,
    pull_osd_list,
    pull_osd_xinfo,
    pull_pg_map,
    pull_u32_vector,
    pull_upmap_items,
    push_addr_map,
    push_addrvec_vector,
    push_float,
    push_int_map,
    push_osd_info,
    push_osd_list,
    push_osd_xinfo,
    push_pg_map,
    push_u32_vector,
    push_upmap_items,
    release_ge,
)
from .pool import (
    pull_app_metadata,
    pull_intervals,
    pull_pg_pool,
    push_app_metadata,
    push_intervals,
    push_pg_pool,
)

if TYPE_CHECKING:
    from .osdmap import OSDMap


class BadMapCrc(DecodeError):
    """An OSDMap or incremental whose stored crc32c does not match its bytes."""


# -- shared small codecs -----------------------------------------------------------------


def pull_pool_map(r: Reader) -> dict[int, object]:
    """``map<int64_t, pg_pool_t>``."""
    return pull_int_map(r, Reader.pull_s64, pull_pg_pool, 8 + 6, "pools")


def pull_pool_names(r: Reader) -> dict[int, str]:
    """``map<int64_t, string>``."""
    return pull_int_map(r, Reader.pull_s64, Reader.pull_string, 12, "pool_name")


def push_pool_names(w: Writer, m: dict[int, str]) -> None:
    """``map<int64_t, string>``."""
    push_int_map(w, m, Writer.push_s64, Writer.push_string)


def pull_snap_queue(r: Reader, what: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """``map<int64_t, snap_interval_set_t>``."""
    return pull_int_map(r, Reader.pull_s64, pull_intervals, 12, what)


def push_snap_queue(w: Writer, m: dict[int, tuple[tuple[int, int], ...]]) -> None:
    """``map<int64_t, snap_interval_set_t>``."""
    push_int_map(w, m, Writer.push_s64, push_intervals)


def pull_flag_map(r: Reader, what: str) -> dict[int, int]:
    """``map<int32_t, uint32_t>``."""
    return pull_int_map(r, Reader.pull_s32, Reader.pull_u32, 8, what)


def push_flag_map(w: Writer, m: dict[int, int]) -> None:
    """``map<int32_t, uint32_t>``."""
    push_int_map(w, m, Writer.push_s32, Writer.push_u32)


def pull_ec_profiles(r: Reader) -> dict[str, dict[str, str]]:
    """``map<string, map<string, string>>``."""
    return pull_app_metadata(r)


def client_version(features: int) -> int:
    """Client-usable struct version ``OSDMap::encode`` writes (Pacific: 9)."""
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS):
        raise EncodeError("OSDMap: pre-Luminous encodings are not supported")
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC):
        return 6
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
        return 7
    return 9


def osd_only_version(features: int, stretch: bool, ranges: bool) -> int:
    """Osd-only struct version (9; at least 10 in stretch mode, 11 with ranges)."""
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS):
        raise EncodeError("OSDMap: pre-Luminous encodings are not supported")
    v = 9
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC):
        v = 5
    elif not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
        v = 6
    if stretch:
        v = max(v, 10)
    if ranges:
        v = max(v, 11)
    return v


def pull_crc_wrapper(data: bytes | bytearray | memoryview, what: str,
                     ) -> tuple[int, Reader, Reader, int, int, int]:
    """Open the (8, 7) wrapper; return (struct_v, body, outer, start, end, body_start).

    ``outer`` is positioned after the wrapper.
    """
    outer = Reader(data)
    start = outer.pos
    if outer.remaining < 1:
        raise DecodeError(f"{what}: empty")
    struct_v, body = outer.pull_versioned(8, what)
    if struct_v < 7:
        raise IncompatibleEncoding(f"{what}: classic encoding v{struct_v} is not supported")
    return struct_v, body, outer, start, outer.pos, body.pos


def check_crc(
    data: bytes | bytearray | memoryview, start: int, crc_at: int, tail_at: int, end: int,
    stored: int, what: str,
) -> None:
    """Verify ``crc32c(-1)`` of ``[start, crc_at)`` then ``[tail_at, end)``."""
    mv = memoryview(data)
    actual = ceph_crc32c(0xFFFFFFFF, mv[start:crc_at])
    if tail_at < end:
        actual = ceph_crc32c(actual, mv[tail_at:end])
    if actual != stored:
        raise BadMapCrc(f"{what}: bad crc, actual {actual} != expected {stored}")


def fill_crc(w: Writer, start: int, crc_at: int, tail_at: int) -> int:
    """Compute and patch the crc at ``crc_at`` (``crc32c(-1)`` of front, then tail)."""
    buf = w.buffer
    mv = memoryview(buf)
    crc = ceph_crc32c(0xFFFFFFFF, mv[start:crc_at])
    if tail_at < len(buf):
        crc = ceph_crc32c(crc, mv[tail_at:])
    mv.release()
    U32.pack_into(buf, crc_at, crc)
    return crc


# -- decode ----------------------------------------------------------------------------------


def decode_osdmap(m: OSDMap, data: bytes | bytearray | memoryview) -> None:
    """Fill ``m`` from an encoded full map (``OSDMap::decode``); raises DecodeError."""
    struct_v, body, _outer, start, end, _ = pull_crc_wrapper(data, "OSDMap")
    _decode_client(m, body)
    _decode_osd_only(m, body)
    if struct_v >= 8:
        crc_at = body.pos
        m.crc = body.pull_u32()
        tail_at = body.pos
        check_crc(data, start, crc_at, tail_at, end, m.crc, "OSDMap")
        m.crc_defined = True
    else:
        m.crc, m.crc_defined = 0, False
    _check_vectors(m)
    _post_decode_flags(m)


def _check_vectors(m: OSDMap) -> None:
    """Every per-OSD vector covers ``max_osd`` (Ceph would index past the end)."""
    if m.max_osd < 0:
        raise DecodeError(f"OSDMap: negative max_osd {m.max_osd}")
    vectors: dict[str, Sized] = {
        "osd_state": m.osd_state, "osd_weight": m.osd_weight, "osd_info": m.osd_info,
        "osd_xinfo": m.osd_xinfo, "osd_uuid": m.osd_uuid, "client_addrs": m.client_addrs,
        "cluster_addrs": m.cluster_addrs, "hb_back_addrs": m.hb_back_addrs,
        "hb_front_addrs": m.hb_front_addrs,
    }
    if m.osd_primary_affinity is not None:
        vectors["osd_primary_affinity"] = m.osd_primary_affinity
    for name, v in vectors.items():
        if len(v) < m.max_osd:
            raise DecodeError(f"OSDMap: {name} has {len(v)} entries for max_osd {m.max_osd}")


def _decode_client(m: OSDMap, r: Reader) -> None:
    v, b = r.pull_versioned(10, "OSDMap client data")
    m.fsid = pull_uuid(b)
    m.epoch = b.pull_u32()
    m.created = pull_utime(b)
    m.modified = pull_utime(b)
    m.pools = pull_pool_map(b)  # type: ignore[assignment]
    m.pool_name = pull_pool_names(b)
    m.pool_max = b.pull_s32()
    m.flags = b.pull_u32()
    m.max_osd = b.pull_s32()
    if v >= 5:
        m.osd_state = pull_u32_vector(b, "osd_state")
    else:
        n = b.pull_count(1, "osd_state")
        m.osd_state = list(b.pull_bytes(n))
    m.osd_weight = pull_u32_vector(b, "osd_weight")
    m.client_addrs = pull_addrvec_vector(b, "client_addrs")
    m.pg_temp = pull_pg_map(b, pull_osd_list, 4)
    m.primary_temp = pull_pg_map(b, Reader.pull_s32, 4)
    if v >= 2:
        aff = pull_u32_vector(b, "osd_primary_affinity")
        m.osd_primary_affinity = aff if aff else None
    else:
        m.osd_primary_affinity = None
    m.crush_data = b.pull_blob()
    m.erasure_code_profiles = pull_ec_profiles(b) if v >= 3 else {}
    if v >= 4:
        m.pg_upmap = pull_pg_map(b, pull_osd_list, 4)
        m.pg_upmap_items = pull_pg_map(b, pull_upmap_items, 4)
    else:
        m.pg_upmap, m.pg_upmap_items = {}, {}
    if v >= 6:
        m.crush_version = b.pull_s32()
    if v >= 7:
        m.new_removed_snaps = pull_snap_queue(b, "new_removed_snaps")
        m.new_purged_snaps = pull_snap_queue(b, "new_purged_snaps")
    if v >= 9:
        m.last_up_change = pull_utime(b)
        m.last_in_change = pull_utime(b)
    if v >= 10:
        raise IncompatibleEncoding("OSDMap: pg_upmap_primaries (Reef) are not supported")


def _decode_osd_only(m: OSDMap, r: Reader) -> None:
    v, b = r.pull_versioned(11, "OSDMap osd-only data")
    m.hb_back_addrs = pull_addrvec_vector(b, "hb_back_addrs")
    n = b.pull_count(OSD_INFO_SIZE, "osd_info")
    m.osd_info = [pull_osd_info(b) for _ in range(n)]
    m.blocklist = pull_addr_map(b, "blocklist")
    m.cluster_addrs = pull_addrvec_vector(b, "cluster_addrs")
    m.cluster_snapshot_epoch = b.pull_u32()
    m.cluster_snapshot = b.pull_string()
    n = b.pull_count(16, "osd_uuid")
    m.osd_uuid = [pull_uuid(b) for _ in range(n)]
    n = b.pull_count(6, "osd_xinfo")
    m.osd_xinfo = [pull_osd_xinfo(b) for _ in range(n)]
    m.hb_front_addrs = pull_addrvec_vector(b, "hb_front_addrs")
    if v >= 2:
        m.nearfull_ratio = pull_float(b)
        m.full_ratio = pull_float(b)
    else:
        m.nearfull_ratio = m.full_ratio = 0.0
    m.backfillfull_ratio = pull_float(b) if v >= 3 else 0.0
    if v == 4:
        b.pull_string()  # string-based require_min_compat_client (never in Pacific maps)
    if v >= 5:
        m.require_min_compat_client = b.pull_u8()
        m.require_osd_release = b.pull_u8()
        m.legacy_require_flags = False
    else:
        m.legacy_require_flags = True
    if v >= 6:
        m.removed_snaps_queue = pull_snap_queue(b, "removed_snaps_queue")
    m.crush_node_flags = pull_flag_map(b, "crush_node_flags") if v >= 8 else {}
    m.device_class_flags = pull_flag_map(b, "device_class_flags") if v >= 9 else {}
    if v >= 10:
        m.stretch_mode_enabled = b.pull_bool()
        m.stretch_bucket_count = b.pull_u32()
        m.degraded_stretch_mode = b.pull_u32()
        m.recovering_stretch_mode = b.pull_u32()
        m.stretch_mode_bucket = b.pull_s32()
    else:
        m.stretch_mode_enabled = False
        m.stretch_bucket_count = m.degraded_stretch_mode = 0
        m.recovering_stretch_mode = m.stretch_mode_bucket = 0
    m.range_blocklist = pull_addr_map(b, "range_blocklist") if v >= 11 else {}


def _post_decode_flags(m: OSDMap) -> None:
    """The flag fix-ups ``OSDMap::decode`` makes after reading the release fields."""
    if not m.legacy_require_flags:
        if release_ge(m.require_osd_release, CEPH_RELEASE_NAUTILUS):
            m.flags |= CEPH_OSDMAP_PGLOG_HARDLIMIT
        if release_ge(m.require_osd_release, CEPH_RELEASE_LUMINOUS):
            m.flags &= ~CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS
            m.flags |= CEPH_OSDMAP_RECOVERY_DELETES
        return
    if m.flags & CEPH_OSDMAP_REQUIRE_LUMINOUS:
        m.require_osd_release = CEPH_RELEASE_LUMINOUS
        m.flags &= ~CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS
        m.flags |= CEPH_OSDMAP_RECOVERY_DELETES
    elif m.flags & CEPH_OSDMAP_REQUIRE_KRAKEN:
        m.require_osd_release = CEPH_RELEASE_KRAKEN
    elif m.flags & CEPH_OSDMAP_REQUIRE_JEWEL:
        m.require_osd_release = CEPH_RELEASE_JEWEL
    else:
        m.require_osd_release = CEPH_RELEASE_UNKNOWN
    m.legacy_require_flags = False


# -- encode ----------------------------------------------------------------------------------


def encode_osdmap(m: OSDMap, features: int) -> bytes:
    """``OSDMap::encode`` with ``features``; sets ``m.crc``. Raises EncodeError."""
    w = Writer()
    start = len(w)
    with w.versioned(8, 7):
        _encode_client(m, w, features)
        _encode_osd_only(m, w, features)
        crc_at = len(w)
        w.push_u32(0)
        tail_at = len(w)
    m.crc = fill_crc(w, start, crc_at, tail_at)
    m.crc_defined = True
    return w.getvalue()


def _encode_client(m: OSDMap, w: Writer, features: int) -> None:
    v = client_version(features)
    with w.versioned(v, 1):
        push_uuid(w, m.fsid)
        w.push_u32(m.epoch)
        push_utime(w, m.created)
        push_utime(w, m.modified)
        w.push_u32(len(m.pools))
        for pid in sorted(m.pools):
            w.push_s64(pid)
            push_pg_pool(w, m.pools[pid], features)
        push_pool_names(w, m.pool_name)
        w.push_s32(m.pool_max)
        w.push_u32(m.flags)
        w.push_s32(m.max_osd)
        push_u32_vector(w, m.osd_state)
        push_u32_vector(w, m.osd_weight)
        push_addrvec_vector(w, m.client_addrs, features, as_addr=v < 8)
        push_pg_map(w, m.pg_temp, push_osd_list)
        push_pg_map(w, m.primary_temp, Writer.push_s32)
        push_u32_vector(w, m.osd_primary_affinity or [])
        w.push_blob(m.crush_data)
        push_app_metadata(w, m.erasure_code_profiles)
        push_pg_map(w, m.pg_upmap, push_osd_list)
        push_pg_map(w, m.pg_upmap_items, push_upmap_items)
        w.push_s32(m.crush_version)
        if v >= 7:
            push_snap_queue(w, m.new_removed_snaps)
            push_snap_queue(w, m.new_purged_snaps)
        if v >= 9:
            push_utime(w, m.last_up_change)
            push_utime(w, m.last_in_change)


def _encode_osd_only(m: OSDMap, w: Writer, features: int) -> None:
    v = osd_only_version(features, m.stretch_mode_enabled, bool(m.range_blocklist))
    octopus = has_feature(features, CEPH_FEATUREMASK_SERVER_OCTOPUS)
    with w.versioned(v, 1):
        push_addrvec_vector(w, m.hb_back_addrs, features, as_addr=v < 7)
        w.push_u32(len(m.osd_info))
        for info in m.osd_info:
            push_osd_info(w, info)
        push_addr_map(w, m.blocklist, features)
        push_addrvec_vector(w, m.cluster_addrs, features, as_addr=v < 7)
        w.push_u32(m.cluster_snapshot_epoch)
        w.push_string(m.cluster_snapshot)
        w.push_u32(len(m.osd_uuid))
        for u in m.osd_uuid:
            push_uuid(w, u)
        w.push_u32(len(m.osd_xinfo))
        for x in m.osd_xinfo:
            push_osd_xinfo(w, x, octopus)
        push_addrvec_vector(w, m.hb_front_addrs, features, as_addr=v < 7)
        push_float(w, m.nearfull_ratio)
        push_float(w, m.full_ratio)
        push_float(w, m.backfillfull_ratio)
        w.push_u8(m.require_min_compat_client)
        w.push_u8(m.require_osd_release)
        if v >= 6:
            push_snap_queue(w, m.removed_snaps_queue)
        if v >= 8:
            push_flag_map(w, m.crush_node_flags)
        if v >= 9:
            push_flag_map(w, m.device_class_flags)
        if v >= 10:
            w.push_bool(m.stretch_mode_enabled)
            w.push_u32(m.stretch_bucket_count)
            w.push_u32(m.degraded_stretch_mode)
            w.push_u32(m.recovering_stretch_mode)
            w.push_s32(m.stretch_mode_bucket)
        if v >= 11:
            push_addr_map(w, m.range_blocklist, features)


__all__ = [
    "BadMapCrc",
    "check_crc",
    "client_version",
    "decode_osdmap",
    "encode_osdmap",
    "fill_crc",
    "osd_only_version",
    "pull_crc_wrapper",
    "pull_ec_profiles",
    "pull_flag_map",
    "pull_pool_map",
    "pull_pool_names",
    "pull_snap_queue",
    "push_flag_map",
    "push_pool_names",
    "push_snap_queue",
]
