"""``pg_pool_t`` as Pacific encodes it, and what placement needs of a pool.

* :class:`PgPool` every field of ``pg_pool_t`` (``src/osd/osd_types.h``), with its
  codec :func:`pull_pg_pool` / :func:`push_pg_pool` (``pg_pool_t::decode`` /
  ``encode``: struct v29 for Nautilus+ peers, v27/26/24/21 for older feature sets,
  v14 without OSD_POOLRESEND);
* the pool's sub-structures: :class:`PoolSnapInfo` (``pool_snap_info_t``),
  :class:`PoolOpt` (one ``pool_opts_t`` entry), :class:`PgMergeMeta`
  (``pg_merge_meta_t``); ``HitSet::Params`` is kept as its encoded bytes
  (:attr:`PgPool.hit_set_params`), which the client never interprets;
* placement: :meth:`PgPool.hash_key` (``ceph_str_hash`` of ``nspace`` + 0x1f +
  key), :meth:`PgPool.raw_pg_to_pg` (``ceph_stable_mod`` by ``pg_num``) and
  :meth:`PgPool.raw_pg_to_pps` (the CRUSH input: HASHPSPOOL hashes the stable-mod
  seed with the pool id, the legacy form adds them).

Interval sets (``interval_set<snapid_t>``) are tuples of ``(start, length)`` in
encoded order. Containers that are ``std::map``/``std::set`` in Ceph are encoded
sorted, so re-encoding what Ceph wrote gives the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Final

from asyncmsgr.crush.hash import CRUSH_HASH_RJENKINS1, ceph_str_hash, crush_hash32_2
from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import (
    CEPH_FEATUREMASK_SERVER_LUMINOUS,
    CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS,
    CEPH_FEATURES_SUPPORTED_DEFAULT,
    feature_mask,
    has_feature,
)
from asyncmsgr.messages._encoding import (
    STRING_MIN,
    pull_string_map,
    push_string_map,
    string_key,
)
from asyncmsgr.types import UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_utime, push_utime

from .types import (
    PG,
    EVersion,
    ceph_stable_mod,
    pg_num_mask,
    pull_eversion,
    pull_pg,
    push_eversion,
    push_pg,
)

# -- constants (pg_pool_t) ---------------------------------------------------------------

#: ``pg_pool_t::TYPE_REPLICATED``.
TYPE_REPLICATED: Final = 1
#: ``pg_pool_t::TYPE_ERASURE``.
TYPE_ERASURE: Final = 3

FLAG_HASHPSPOOL: Final = 1 << 0
FLAG_FULL: Final = 1 << 1
FLAG_EC_OVERWRITES: Final = 1 << 2
FLAG_INCOMPLETE_CLONES: Final = 1 << 3
FLAG_NODELETE: Final = 1 << 4
FLAG_NOPGCHANGE: Final = 1 << 5
FLAG_NOSIZECHANGE: Final = 1 << 6
FLAG_WRITE_FADVISE_DONTNEED: Final = 1 << 7
FLAG_NOSCRUB: Final = 1 << 8
FLAG_NODEEP_SCRUB: Final = 1 << 9
FLAG_FULL_QUOTA: Final = 1 << 10
FLAG_NEARFULL: Final = 1 << 11
FLAG_BACKFILLFULL: Final = 1 << 12
FLAG_SELFMANAGED_SNAPS: Final = 1 << 13
FLAG_POOL_SNAPS: Final = 1 << 14
FLAG_CREATING: Final = 1 << 15
FLAG_EIO: Final = 1 << 16
FLAG_BULK: Final = 1 << 17

#: ``pg_pool_t::get_flag_name`` in bit order.
POOL_FLAG_NAMES: Final = (
    "hashpspool", "full", "ec_overwrites", "incomplete_clones", "nodelete",
    "nopgchange", "nosizechange", "write_fadvise_dontneed", "noscrub",
    "nodeep-scrub", "full_quota", "nearfull", "backfillfull", "selfmanaged_snaps",
    "pool_snaps", "creating", "eio", "bulk",
)

#: ``pg_pool_t::cache_mode_t`` names (``get_cache_mode_name``).
CACHE_MODE_NAMES: Final = (
    "none", "writeback", "forward", "readonly", "readforward", "readproxy", "proxy",
)

#: ``pg_pool_t::pg_autoscale_mode_t``.
PG_AUTOSCALE_OFF: Final = 0
PG_AUTOSCALE_WARN: Final = 1
PG_AUTOSCALE_ON: Final = 2
PG_AUTOSCALE_UNKNOWN: Final = 0xFF

#: ``pool_opts_t`` value types.
OPT_STR: Final = 0
OPT_INT: Final = 1
OPT_DOUBLE: Final = 2

_OSDENC = feature_mask("OSDENC")
_OSD_POOLRESEND = feature_mask("OSD_POOLRESEND")
_NEW_OSDOP_ENCODING = feature_mask("NEW_OSDOP_ENCODING")

_F64 = struct.Struct("<d")
_VERSION_HDR = struct.Struct("<BBI")
_PG0 = PG(0, 0)
_EV0 = EVersion()
_ZERO_TIME = UTime()


def pool_flags_string(flags: int) -> str:
    """``pg_pool_t::get_flags_string``: the set flags' names joined by commas."""
    names = [POOL_FLAG_NAMES[i] for i in range(len(POOL_FLAG_NAMES)) if flags & (1 << i)]
    return ",".join(names)


# -- interval_set<snapid_t> ----------------------------------------------------------------

SnapIntervals = tuple[tuple[int, int], ...]
"""``interval_set<snapid_t>``: ``(start, length)`` pairs, sorted and disjoint."""


def pull_intervals(r: Reader) -> SnapIntervals:
    """``interval_set<snapid_t>``: a ``map<start, len>`` of u64 pairs."""
    n = r.pull_count(16, "interval_set")
    out = []
    for _ in range(n):
        start = r.pull_u64()
        out.append((start, r.pull_u64()))
    return tuple(out)


def push_intervals(w: Writer, iv: SnapIntervals) -> None:
    """``interval_set<snapid_t>``."""
    w.push_u32(len(iv))
    for start, length in iv:
        w.push_u64(start)
        w.push_u64(length)


def intervals_union(a: SnapIntervals, b: SnapIntervals) -> SnapIntervals:
    """``interval_set::union_of``: every snap in ``a`` or ``b``, coalesced."""
    merged: list[list[int]] = []
    for start, length in sorted(a + b):
        end = start + length
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e - s) for s, e in merged)


def intervals_subtract(a: SnapIntervals, b: SnapIntervals) -> SnapIntervals:
    """``interval_set::subtract``: the snaps of ``a`` not in ``b``.

    Ceph asserts that ``b`` is contained in ``a``; a violation raises ValueError.
    """
    out = [(s, s + n) for s, n in a]
    for bs, bn in b:
        be = bs + bn
        nxt: list[tuple[int, int]] = []
        covered = False
        for s, e in out:
            if bs >= s and be <= e:
                covered = True
                if s < bs:
                    nxt.append((s, bs))
                if be < e:
                    nxt.append((be, e))
            else:
                nxt.append((s, e))
        if not covered and bn:
            raise ValueError(f"interval [{bs},{be}) is not in the set")
        out = nxt
    return tuple((s, e - s) for s, e in out)


# -- pool_snap_info_t, pool_opts_t, pg_merge_meta_t -----------------------------------------


@dataclass(frozen=True, slots=True)
class PoolSnapInfo:
    """``pool_snap_info_t``: a pool snapshot (id, time, name)."""

    snapid: int
    stamp: UTime
    name: str


def pull_pool_snap_info(r: Reader) -> PoolSnapInfo:
    """``pool_snap_info_t`` (v2, compat 2)."""
    _, body = r.pull_versioned(2, "pool_snap_info_t")
    snapid = body.pull_u64()
    stamp = pull_utime(body)
    return PoolSnapInfo(snapid, stamp, body.pull_string())


def push_pool_snap_info(w: Writer, s: PoolSnapInfo) -> None:
    """``pool_snap_info_t`` v2/2."""
    with w.versioned(2, 2):
        w.push_u64(s.snapid)
        push_utime(w, s.stamp)
        w.push_string(s.name)


@dataclass(frozen=True, slots=True)
class PoolOpt:
    """One ``pool_opts_t`` entry: ``key`` is ``pool_opts_t::key_t``."""

    key: int
    type: int
    """:data:`OPT_STR`, :data:`OPT_INT` or :data:`OPT_DOUBLE`."""
    value: str | int | float


def pull_pool_opts(r: Reader) -> tuple[PoolOpt, ...]:
    """``pool_opts_t`` (v2; v1 wrote integers as 32 bits)."""
    struct_v, body = r.pull_versioned(2, "pool_opts_t")
    n = body.pull_count(9, "pool_opts_t")
    out = []
    for _ in range(n):
        key = body.pull_s32()
        typ = body.pull_s32()
        value: str | int | float
        if typ == OPT_STR:
            value = body.pull_string()
        elif typ == OPT_INT:
            value = body.pull_s64() if struct_v >= 2 else body.pull_s32()
        elif typ == OPT_DOUBLE:
            value = _F64.unpack(body.pull_bytes(8))[0]
        else:
            raise DecodeError(f"pool_opts_t: invalid value type {typ}")
        out.append(PoolOpt(key, typ, value))
    return tuple(out)


def push_pool_opts(w: Writer, opts: tuple[PoolOpt, ...], features: int) -> None:
    """``pool_opts_t``: v2 for Nautilus+ peers (64-bit integers), else v1."""
    v = 2 if has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) else 1
    with w.versioned(v, 1):
        w.push_u32(len(opts))
        for o in sorted(opts, key=lambda o: o.key):
            w.push_s32(o.key)
            w.push_s32(o.type)
            if o.type == OPT_STR:
                w.push_string(str(o.value))
            elif o.type == OPT_INT:
                if not isinstance(o.value, int):
                    raise EncodeError(f"pool option {o.key}: integer expected")
                (w.push_s64 if v >= 2 else w.push_s32)(o.value)
            elif o.type == OPT_DOUBLE:
                w.push_bytes(_F64.pack(float(o.value)))
            else:
                raise EncodeError(f"pool option {o.key}: invalid type {o.type}")


@dataclass(frozen=True, slots=True)
class PgMergeMeta:
    """``pg_merge_meta_t``: bookkeeping of the last PG merge."""

    source_pgid: PG = _PG0
    ready_epoch: int = 0
    last_epoch_started: int = 0
    last_epoch_clean: int = 0
    source_version: EVersion = _EV0
    target_version: EVersion = _EV0


def pull_pg_merge_meta(r: Reader) -> PgMergeMeta:
    """``pg_merge_meta_t`` (v1/1)."""
    _, body = r.pull_versioned(1, "pg_merge_meta_t")
    pgid = pull_pg(body)
    ready = body.pull_u32()
    les = body.pull_u32()
    lec = body.pull_u32()
    sv = pull_eversion(body)
    return PgMergeMeta(pgid, ready, les, lec, sv, pull_eversion(body))


def push_pg_merge_meta(w: Writer, m: PgMergeMeta) -> None:
    """``pg_merge_meta_t`` v1/1."""
    with w.versioned(1, 1):
        push_pg(w, m.source_pgid)
        w.push_u32(m.ready_epoch)
        w.push_u32(m.last_epoch_started)
        w.push_u32(m.last_epoch_clean)
        push_eversion(w, m.source_version)
        push_eversion(w, m.target_version)


#: An empty ``HitSet::Params`` (v1/1, type TYPE_NONE).
HIT_SET_PARAMS_NONE: Final = b"\x01\x01\x01\x00\x00\x00\x00"


def pull_hit_set_params(r: Reader) -> bytes:
    """``HitSet::Params`` kept whole, header included (the client never reads it)."""
    hdr = r.pull_bytes(6)
    _, compat_v, length = _VERSION_HDR.unpack(hdr)
    if compat_v > 1:
        raise IncompatibleEncoding(f"HitSet::Params: struct compat {compat_v} > 1")
    if length > r.remaining:
        raise DecodeError(f"HitSet::Params: length {length} exceeds the {r.remaining} bytes left")
    return hdr + r.pull_bytes(length)


# -- pg_pool_t ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PgPool:
    """``pg_pool_t``: a pool's parameters as the OSDMap holds them.

    Field names are Ceph's. Values are immutable: an incremental replaces a pool
    with a new :class:`PgPool` (:func:`dataclasses.replace`). ``pg_num_mask``
    and ``pgp_num_mask`` are derived (``calc_pg_masks``).
    """

    type: int = TYPE_REPLICATED
    size: int = 0
    crush_rule: int = 0
    object_hash: int = 2
    pg_num: int = 0
    pgp_num: int = 0
    last_change: int = 0
    snap_seq: int = 0
    snap_epoch: int = 0
    snaps: tuple[PoolSnapInfo, ...] = ()
    """``map<snapid_t, pool_snap_info_t>`` values in snapid order."""
    removed_snaps: SnapIntervals = ()
    auid: int = 0
    flags: int = 0
    min_size: int = 0
    quota_max_bytes: int = 0
    quota_max_objects: int = 0
    tiers: tuple[int, ...] = ()
    tier_of: int = -1
    cache_mode: int = 0
    read_tier: int = -1
    write_tier: int = -1
    properties: dict[str, str] = field(default_factory=dict)
    hit_set_params: bytes = HIT_SET_PARAMS_NONE
    """``HitSet::Params`` as encoded (versioned header included)."""
    hit_set_period: int = 0
    hit_set_count: int = 0
    stripe_width: int = 0
    target_max_bytes: int = 0
    target_max_objects: int = 0
    cache_target_dirty_ratio_micro: int = 0
    cache_target_full_ratio_micro: int = 0
    cache_min_flush_age: int = 0
    cache_min_evict_age: int = 0
    erasure_code_profile: str = ""
    last_force_op_resend_preluminous: int = 0
    min_read_recency_for_promote: int = 0
    expected_num_objects: int = 0
    cache_target_dirty_high_ratio_micro: int = 0
    min_write_recency_for_promote: int = 0
    use_gmt_hitset: bool = True
    fast_read: bool = False
    hit_set_grade_decay_rate: int = 0
    hit_set_search_last_n: int = 0
    opts: tuple[PoolOpt, ...] = ()
    last_force_op_resend_prenautilus: int = 0
    application_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    create_time: UTime = _ZERO_TIME
    pg_num_target: int = 0
    pgp_num_target: int = 0
    pg_num_pending: int = 0
    last_force_op_resend: int = 0
    pg_autoscale_mode: int = PG_AUTOSCALE_UNKNOWN
    last_pg_merge_meta: PgMergeMeta = PgMergeMeta()
    pg_num_mask: int = field(init=False, repr=False, compare=False, default=0)
    pgp_num_mask: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pg_num_mask", pg_num_mask(self.pg_num))
        object.__setattr__(self, "pgp_num_mask", pg_num_mask(self.pgp_num))

    # -- properties Ceph's client code asks -------------------------------------------

    @property
    def is_replicated(self) -> bool:
        """``is_replicated``."""
        return self.type == TYPE_REPLICATED

    @property
    def is_erasure(self) -> bool:
        """``is_erasure``."""
        return self.type == TYPE_ERASURE

    @property
    def can_shift_osds(self) -> bool:
        """``can_shift_osds``: replicated sets compact, EC sets keep positions."""
        return self.type == TYPE_REPLICATED

    def has_flag(self, flag: int) -> bool:
        """``has_flag``."""
        return bool(self.flags & flag)

    @property
    def type_name(self) -> str:
        """``get_type_name``: ``replicated``, ``erasure`` or ``???``."""
        return {TYPE_REPLICATED: "replicated", TYPE_ERASURE: "erasure"}.get(self.type, "???")

    @property
    def is_tier(self) -> bool:
        """``is_tier``: this pool is a cache tier of another."""
        return self.tier_of >= 0

    def with_last_change(self, epoch: int) -> PgPool:
        """A copy with ``last_change`` set (what applying an incremental does)."""
        return replace(self, last_change=epoch)

    # -- placement ---------------------------------------------------------------------

    def hash_key(self, key: str, nspace: str) -> int:
        """``pg_pool_t::hash_key``: the 32-bit object hash (namespace joined by 0x1f)."""
        data = key.encode("utf-8", "surrogateescape")
        if nspace:
            data = nspace.encode("utf-8", "surrogateescape") + b"\x1f" + data
        return ceph_str_hash(self.object_hash, data)

    def raw_hash_to_pg(self, v: int) -> int:
        """``raw_hash_to_pg``: the PG seed of a raw hash."""
        return ceph_stable_mod(v, self.pg_num, self.pg_num_mask)

    def raw_pg_to_pg(self, pg: PG) -> PG:
        """``raw_pg_to_pg``: fold a full-precision seed into ``[0, pg_num)``."""
        return PG(pg.pool, ceph_stable_mod(pg.seed, self.pg_num, self.pg_num_mask))

    def raw_pg_to_pps(self, pg: PG) -> int:
        """``raw_pg_to_pps``: the placement seed CRUSH maps.

        With HASHPSPOOL: ``crush_hash32_2(RJENKINS1, stable_mod(seed, pgp_num), pool)``;
        the legacy form adds the pool id to the stable-mod seed (32-bit).
        """
        ps = ceph_stable_mod(pg.seed, self.pgp_num, self.pgp_num_mask)
        if self.flags & FLAG_HASHPSPOOL:
            return crush_hash32_2(CRUSH_HASH_RJENKINS1, ps, pg.pool & 0xFFFFFFFF)
        return (ps + pg.pool) & 0xFFFFFFFF


# -- the pg_pool_t codec -------------------------------------------------------------------


def _pull_snaps(r: Reader) -> tuple[PoolSnapInfo, ...]:
    n = r.pull_count(8 + 6, "pg_pool_t snaps")
    out = []
    for _ in range(n):
        r.pull_u64()  # the map key repeats the snapid
        out.append(pull_pool_snap_info(r))
    return tuple(out)


def _pull_app_metadata(r: Reader) -> dict[str, dict[str, str]]:
    n = r.pull_count(2 * STRING_MIN, "application_metadata")
    out: dict[str, dict[str, str]] = {}
    for _ in range(n):
        k = r.pull_string()
        out[k] = pull_string_map(r)
    return out


def push_app_metadata(w: Writer, m: dict[str, dict[str, str]]) -> None:
    """``map<string, map<string, string>>``, keys sorted."""
    w.push_u32(len(m))
    for k in sorted(m, key=string_key):
        w.push_string(k)
        push_string_map(w, m[k])


def pull_app_metadata(r: Reader) -> dict[str, dict[str, str]]:
    """``map<string, map<string, string>>`` (application metadata, EC profiles)."""
    return _pull_app_metadata(r)


def pull_pg_pool(r: Reader) -> PgPool:
    """``pg_pool_t::decode`` for struct v5 and later (every Pacific-era pool).

    Raises DecodeError (IncompatibleEncoding for a pre-v5 or too-new pool).
    """
    struct_v, b = r.pull_versioned(29, "pg_pool_t")
    if struct_v < 5:
        raise IncompatibleEncoding(f"pg_pool_t: legacy struct_v {struct_v}")
    kw: dict[str, object] = {}
    kw["type"] = b.pull_u8()
    kw["size"] = size = b.pull_u8()
    kw["crush_rule"] = b.pull_u8()
    kw["object_hash"] = b.pull_u8()
    kw["pg_num"] = pg_num = b.pull_u32()
    kw["pgp_num"] = pgp_num = b.pull_u32()
    b.pull_u32()  # lpg_num
    b.pull_u32()  # lpgp_num
    kw["last_change"] = b.pull_u32()
    kw["snap_seq"] = b.pull_u64()
    kw["snap_epoch"] = b.pull_u32()
    kw["snaps"] = _pull_snaps(b)
    kw["removed_snaps"] = pull_intervals(b)
    kw["auid"] = b.pull_u64()
    kw["flags"] = b.pull_u64()
    b.pull_u32()  # crash_replay_interval
    kw["min_size"] = b.pull_u8() if struct_v >= 7 else size - size // 2
    if struct_v >= 8:
        kw["quota_max_bytes"] = b.pull_u64()
        kw["quota_max_objects"] = b.pull_u64()
    if struct_v >= 9:
        kw["tiers"] = tuple(b.pull_list(Reader.pull_u64, 8))
        kw["tier_of"] = b.pull_s64()
        kw["cache_mode"] = b.pull_u8()
        kw["read_tier"] = b.pull_s64()
        kw["write_tier"] = b.pull_s64()
    if struct_v >= 10:
        kw["properties"] = pull_string_map(b)
    if struct_v >= 11:
        kw["hit_set_params"] = pull_hit_set_params(b)
        kw["hit_set_period"] = b.pull_u32()
        kw["hit_set_count"] = b.pull_u32()
    if struct_v >= 12:
        kw["stripe_width"] = b.pull_u32()
    if struct_v >= 13:
        kw["target_max_bytes"] = b.pull_u64()
        kw["target_max_objects"] = b.pull_u64()
        kw["cache_target_dirty_ratio_micro"] = b.pull_u32()
        kw["cache_target_full_ratio_micro"] = b.pull_u32()
        kw["cache_min_flush_age"] = b.pull_u32()
        kw["cache_min_evict_age"] = b.pull_u32()
    if struct_v >= 14:
        kw["erasure_code_profile"] = b.pull_string()
    if struct_v >= 15:
        kw["last_force_op_resend_preluminous"] = b.pull_u32()
    kw["min_read_recency_for_promote"] = b.pull_u32() if struct_v >= 16 else 1
    if struct_v >= 17:
        kw["expected_num_objects"] = b.pull_u64()
    kw["cache_target_dirty_high_ratio_micro"] = (
        b.pull_u32() if struct_v >= 19 else kw.get("cache_target_dirty_ratio_micro", 0)
    )
    kw["min_write_recency_for_promote"] = b.pull_u32() if struct_v >= 20 else 1
    kw["use_gmt_hitset"] = b.pull_bool() if struct_v >= 21 else False
    kw["fast_read"] = b.pull_bool() if struct_v >= 22 else False
    if struct_v >= 23:
        kw["hit_set_grade_decay_rate"] = b.pull_u32()
        kw["hit_set_search_last_n"] = b.pull_u32()
    else:
        kw["hit_set_search_last_n"] = 1
    if struct_v >= 24:
        kw["opts"] = pull_pool_opts(b)
    kw["last_force_op_resend_prenautilus"] = (
        b.pull_u32() if struct_v >= 25 else kw.get("last_force_op_resend_preluminous", 0)
    )
    if struct_v >= 26:
        kw["application_metadata"] = _pull_app_metadata(b)
    if struct_v >= 27:
        kw["create_time"] = pull_utime(b)
    if struct_v >= 28:
        kw["pg_num_target"] = b.pull_u32()
        kw["pgp_num_target"] = b.pull_u32()
        kw["pg_num_pending"] = b.pull_u32()
        old_les = b.pull_u32()
        old_lec = b.pull_u32()
        kw["last_force_op_resend"] = b.pull_u32()
        kw["pg_autoscale_mode"] = b.pull_u8()
        if struct_v >= 29:
            kw["last_pg_merge_meta"] = pull_pg_merge_meta(b)
        else:
            kw["last_pg_merge_meta"] = PgMergeMeta(
                last_epoch_started=old_les, last_epoch_clean=old_lec)
    else:
        kw["pg_num_target"] = pg_num
        kw["pgp_num_target"] = pgp_num
        kw["pg_num_pending"] = pg_num
        kw["last_force_op_resend"] = kw["last_force_op_resend_prenautilus"]
        kw["pg_autoscale_mode"] = PG_AUTOSCALE_WARN
    flags = kw["flags"]
    assert isinstance(flags, int)
    if kw["snap_seq"] and not flags & (FLAG_SELFMANAGED_SNAPS | FLAG_POOL_SNAPS):
        # the pre-Mimic upgrade path in pg_pool_t::decode
        kw["flags"] = flags | (FLAG_SELFMANAGED_SNAPS if kw["removed_snaps"] else FLAG_POOL_SNAPS)
    return PgPool(**kw)  # type: ignore[arg-type]


def pg_pool_encoding_version(features: int) -> int:
    """The struct version ``pg_pool_t::encode`` writes for ``features``.

    Raises EncodeError for peers without OSDENC (pre-Firefly encodings).
    """
    if not has_feature(features, _OSDENC):
        raise EncodeError("pg_pool_t: peers without OSDENC are not supported")
    if not has_feature(features, _OSD_POOLRESEND):
        return 14
    if not has_feature(features, _NEW_OSDOP_ENCODING):
        return 21
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS):
        return 24
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC):
        return 26
    if not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
        return 27
    return 29


def push_pg_pool(w: Writer, p: PgPool, features: int = CEPH_FEATURES_SUPPORTED_DEFAULT) -> None:
    """``pg_pool_t::encode`` with ``features`` (v29 for Nautilus+ peers)."""
    v = pg_pool_encoding_version(features)
    with w.versioned(v, 5):
        w.push_u8(p.type)
        w.push_u8(p.size)
        w.push_u8(p.crush_rule)
        w.push_u8(p.object_hash)
        w.push_u32(p.pg_num)
        w.push_u32(p.pgp_num)
        w.push_u32(0)  # lpg_num
        w.push_u32(0)  # lpgp_num
        w.push_u32(p.last_change)
        w.push_u64(p.snap_seq)
        w.push_u32(p.snap_epoch)
        w.push_u32(len(p.snaps))
        for s in sorted(p.snaps, key=lambda s: s.snapid):
            w.push_u64(s.snapid)
            push_pool_snap_info(w, s)
        push_intervals(w, p.removed_snaps)
        w.push_u64(p.auid)
        if v >= 27 or v == 14:
            w.push_u64(p.flags)
        else:
            w.push_u64(p.flags & ~(FLAG_SELFMANAGED_SNAPS | FLAG_POOL_SNAPS | FLAG_CREATING))
        w.push_u32(0)  # crash_replay_interval
        w.push_u8(p.min_size)
        w.push_u64(p.quota_max_bytes)
        w.push_u64(p.quota_max_objects)
        w.push_list(sorted(set(p.tiers)), Writer.push_u64)
        w.push_s64(p.tier_of)
        w.push_u8(p.cache_mode)
        w.push_s64(p.read_tier)
        w.push_s64(p.write_tier)
        push_string_map(w, p.properties)
        w.push_bytes(p.hit_set_params)
        w.push_u32(p.hit_set_period)
        w.push_u32(p.hit_set_count)
        w.push_u32(p.stripe_width)
        w.push_u64(p.target_max_bytes)
        w.push_u64(p.target_max_objects)
        w.push_u32(p.cache_target_dirty_ratio_micro)
        w.push_u32(p.cache_target_full_ratio_micro)
        w.push_u32(p.cache_min_flush_age)
        w.push_u32(p.cache_min_evict_age)
        w.push_string(p.erasure_code_profile)
        if v == 14:
            return
        w.push_u32(p.last_force_op_resend_preluminous)
        w.push_u32(p.min_read_recency_for_promote)
        w.push_u64(p.expected_num_objects)
        w.push_u32(p.cache_target_dirty_high_ratio_micro)
        w.push_u32(p.min_write_recency_for_promote)
        w.push_bool(p.use_gmt_hitset)
        if v >= 22:
            w.push_bool(p.fast_read)
        if v >= 23:
            w.push_u32(p.hit_set_grade_decay_rate)
            w.push_u32(p.hit_set_search_last_n)
        if v >= 24:
            push_pool_opts(w, p.opts, features)
        if v >= 25:
            w.push_u32(p.last_force_op_resend_prenautilus)
        if v >= 26:
            push_app_metadata(w, p.application_metadata)
        if v >= 27:
            push_utime(w, p.create_time)
        if v >= 28:
            w.push_u32(p.pg_num_target)
            w.push_u32(p.pgp_num_target)
            w.push_u32(p.pg_num_pending)
            w.push_u32(0)  # pg_num_dec_last_epoch_started (14.1.[01])
            w.push_u32(0)  # pg_num_dec_last_epoch_clean
            w.push_u32(p.last_force_op_resend)
            w.push_u8(p.pg_autoscale_mode)
        if v >= 29:
            push_pg_merge_meta(w, p.last_pg_merge_meta)


__all__ = [
    "CACHE_MODE_NAMES",
    "FLAG_BACKFILLFULL",
    "FLAG_BULK",
    "FLAG_CREATING",
    "FLAG_EC_OVERWRITES",
    "FLAG_EIO",
    "FLAG_FULL",
    "FLAG_FULL_QUOTA",
    "FLAG_HASHPSPOOL",
    "FLAG_INCOMPLETE_CLONES",
    "FLAG_NEARFULL",
    "FLAG_NODEEP_SCRUB",
    "FLAG_NODELETE",
    "FLAG_NOPGCHANGE",
    "FLAG_NOSCRUB",
    "FLAG_NOSIZECHANGE",
    "FLAG_POOL_SNAPS",
    "FLAG_SELFMANAGED_SNAPS",
    "FLAG_WRITE_FADVISE_DONTNEED",
    "HIT_SET_PARAMS_NONE",
    "OPT_DOUBLE",
    "OPT_INT",
    "OPT_STR",
    "PG_AUTOSCALE_OFF",
    "PG_AUTOSCALE_ON",
    "PG_AUTOSCALE_UNKNOWN",
    "PG_AUTOSCALE_WARN",
    "POOL_FLAG_NAMES",
    "TYPE_ERASURE",
    "TYPE_REPLICATED",
    "PgMergeMeta",
    "PgPool",
    "PoolOpt",
    "PoolSnapInfo",
    "SnapIntervals",
    "intervals_subtract",
    "intervals_union",
    "pg_pool_encoding_version",
    "pool_flags_string",
    "pull_app_metadata",
    "pull_hit_set_params",
    "pull_intervals",
    "pull_pg_pool",
    "pull_pool_opts",
    "push_app_metadata",
    "push_intervals",
    "push_pg_pool",
    "push_pool_opts",
]
