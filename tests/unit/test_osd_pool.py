"""``pg_pool_t`` codec and the pool's placement arithmetic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from asyncmsgr.crush.hash import CRUSH_HASH_RJENKINS1, ceph_str_hash, crush_hash32_2
from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import (
    FLAG_CREATING,
    FLAG_HASHPSPOOL,
    FLAG_POOL_SNAPS,
    FLAG_SELFMANAGED_SNAPS,
    OPT_DOUBLE,
    OPT_INT,
    OPT_STR,
    PgMergeMeta,
    PgPool,
    PoolOpt,
    PoolSnapInfo,
    intervals_subtract,
    intervals_union,
    pg_pool_encoding_version,
    pool_flags_string,
    pull_pg_pool,
    push_pg_pool,
)
from asyncmsgr.osd.types import PG, EVersion
from asyncmsgr.types import UTime
from asyncmsgr.wire.buffer import Reader, Writer

DATA = Path(__file__).resolve().parents[1] / "data" / "osdmap"
ALL = CEPH_FEATURES_SUPPORTED_DEFAULT


#: Feature bit numbers (features.py's FEATURE_TABLE).
BITS = {"SERVER_NAUTILUS": 2, "OSDENC": 13, "SERVER_LUMINOUS": 21, "SERVER_MIMIC": 28,
        "OSD_POOLRESEND": 43, "NEW_OSDOP_ENCODING": 56}


def without(*names: str) -> int:
    """Pacific's features minus some feature bits."""
    features = ALL
    for name in names:
        features &= ~(1 << BITS[name])
    return features


def encode(p: PgPool, features: int = ALL) -> bytes:
    w = Writer()
    push_pg_pool(w, p, features)
    return w.getvalue()


def decode(data: bytes) -> PgPool:
    r = Reader(data)
    p = pull_pg_pool(r)
    r.expect_end("pg_pool_t")
    return p


def rich_pool() -> PgPool:
    return PgPool(
        type=1, size=3, crush_rule=2, object_hash=2, pg_num=12, pgp_num=8, last_change=9,
        snap_seq=10, snap_epoch=11,
        snaps=(PoolSnapInfo(3, UTime(123, 4), "asdf"), PoolSnapInfo(6, UTime(5, 6), "qwer")),
        removed_snaps=((2, 1), (8, 3)), auid=12, flags=FLAG_HASHPSPOOL | FLAG_POOL_SNAPS,
        min_size=2, quota_max_bytes=473, quota_max_objects=474, tiers=(5, 3), tier_of=2,
        cache_mode=1, read_tier=1, write_tier=1, properties={"b": "2", "a": "1"},
        hit_set_params=b"\x01\x01\x05\x00\x00\x00\x01\x10\x00\x00\x00",
        hit_set_period=3600, hit_set_count=8, stripe_width=12345, target_max_bytes=1,
        target_max_objects=2, cache_target_dirty_ratio_micro=3,
        cache_target_full_ratio_micro=4, cache_min_flush_age=5, cache_min_evict_age=6,
        erasure_code_profile="prof", last_force_op_resend_preluminous=7,
        min_read_recency_for_promote=1, expected_num_objects=123456,
        cache_target_dirty_high_ratio_micro=9, min_write_recency_for_promote=1,
        use_gmt_hitset=True, fast_read=True, hit_set_grade_decay_rate=50,
        hit_set_search_last_n=1,
        opts=(PoolOpt(17, OPT_DOUBLE, 0.25), PoolOpt(6, OPT_STR, "aggressive"),
              PoolOpt(15, OPT_INT, -3)),
        last_force_op_resend_prenautilus=8,
        application_metadata={"rgw": {}, "rbd": {"key": "value"}},
        create_time=UTime(4, 5), pg_num_target=16, pgp_num_target=8, pg_num_pending=12,
        last_force_op_resend=123823, pg_autoscale_mode=2,
        last_pg_merge_meta=PgMergeMeta(PG(1, 3), 4, 2, 2, EVersion(3, 9), EVersion(4, 1)),
    )


def test_every_pool_of_the_real_maps_reencodes() -> None:
    seen = 0
    for name in ("simple3.osdmap", "hosts.osdmap", "mon-final.osdmap"):
        m = OSDMap.decode((DATA / name).read_bytes())
        for pool in m.pools.values():
            data = encode(pool)
            assert decode(data) == pool
            seen += 1
    assert seen == 8


def test_rich_pool_round_trips_sorted() -> None:
    p = rich_pool()
    data = encode(p)
    back = decode(data)
    # std::set / std::map order: tiers and opts come back sorted
    assert back == replace(p, tiers=(3, 5), opts=tuple(sorted(p.opts, key=lambda o: o.key)))
    assert encode(back) == data
    assert back.pg_num_mask == 15
    assert back.pgp_num_mask == 7


@pytest.mark.parametrize(("drop", "version"), [
    ((), 29),
    (("SERVER_NAUTILUS",), 27),
    (("SERVER_NAUTILUS", "SERVER_MIMIC"), 26),
    (("SERVER_NAUTILUS", "SERVER_MIMIC", "SERVER_LUMINOUS"), 24),
    (("NEW_OSDOP_ENCODING",), 21),
    (("OSD_POOLRESEND",), 14),
])
def test_feature_dependent_versions(drop: tuple[str, ...], version: int) -> None:
    features = without(*drop)
    assert pg_pool_encoding_version(features) == version
    p = rich_pool()
    data = encode(p, features)
    assert data[0] == version
    back = decode(data)
    assert back.size == p.size
    assert back.erasure_code_profile == p.erasure_code_profile
    if version < 27:
        # pre-Mimic peers do not see the snap-mode flags; decode infers pool snaps
        assert back.flags & ~(FLAG_POOL_SNAPS | FLAG_SELFMANAGED_SNAPS) == FLAG_HASHPSPOOL
    if version < 28:
        assert back.pg_num_target == back.pg_num
        assert back.pg_num_pending == back.pg_num
    if version >= 24:
        assert back.opts == tuple(sorted(p.opts, key=lambda o: o.key))


def test_pre_osdenc_encoding_is_refused() -> None:
    with pytest.raises(EncodeError):
        encode(rich_pool(), without("OSDENC"))


def test_flag_filter_for_old_peers() -> None:
    p = replace(rich_pool(), flags=FLAG_HASHPSPOOL | FLAG_CREATING)
    assert decode(encode(p, without("SERVER_NAUTILUS"))).flags & FLAG_CREATING  # v27 keeps it
    assert decode(encode(p, without("SERVER_NAUTILUS", "SERVER_MIMIC"))).flags & FLAG_CREATING == 0


def test_legacy_struct_and_bad_input() -> None:
    with pytest.raises(IncompatibleEncoding):
        decode(b"\x04" + b"\x00" * 60)
    data = encode(rich_pool())
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            decode(data[:n])
    bad_opt = bytearray(data)
    # corrupt the type of the first pool option (keys sorted: 6 first, STR)
    at = bytes(bad_opt).index(b"\x06\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00aggressive")
    bad_opt[at + 4] = 9
    with pytest.raises(DecodeError, match="invalid value type"):
        decode(bytes(bad_opt))


def test_hash_key_joins_namespace_with_0x1f() -> None:
    p = PgPool(pg_num=8, pgp_num=8, object_hash=2)
    assert p.hash_key("obj", "") == ceph_str_hash(2, b"obj")
    assert p.hash_key("obj", "ns") == ceph_str_hash(2, b"ns\x1fobj")
    linux = replace(p, object_hash=1)
    assert linux.hash_key("obj", "") == ceph_str_hash(1, b"obj")


def test_raw_pg_to_pg_and_pps() -> None:
    p = PgPool(pg_num=12, pgp_num=8, flags=FLAG_HASHPSPOOL)
    assert p.raw_pg_to_pg(PG(3, 0x1D)) == PG(3, 0x5)  # 0x1d & 15 = 13 >= 12 -> & 7
    assert p.raw_pg_to_pg(PG(3, 0x1B)) == PG(3, 0xB)
    pps = p.raw_pg_to_pps(PG(3, 0x1D))
    assert pps == crush_hash32_2(CRUSH_HASH_RJENKINS1, 0x1D & 7, 3)
    legacy = replace(p, flags=0)
    assert legacy.raw_pg_to_pps(PG(3, 0x1D)) == (0x1D & 7) + 3
    assert pool_flags_string(FLAG_HASHPSPOOL | FLAG_CREATING) == "hashpspool,creating"


def test_intervals() -> None:
    assert intervals_union(((1, 2),), ((3, 1), (10, 1))) == ((1, 3), (10, 1))
    assert intervals_subtract(((1, 5),), ((2, 2),)) == ((1, 1), (4, 2))
    assert intervals_subtract(((1, 2),), ((1, 2),)) == ()
    with pytest.raises(ValueError):
        intervals_subtract(((1, 2),), ((5, 1),))
