"""crush_ln and the packed-lane hashes the mapper uses.

crush_ln's tables are Ceph's data (compared with libceph-common by the interop test);
here: its exact points, its accuracy against log2, its domain, and the straw2 table.
The lane hashes must equal the scalar hash.c functions lane by lane.
"""

from __future__ import annotations

import math
import random

import pytest

from asyncmsgr.crush.hash import (
    HashLanes,
    crush_hash32_rjenkins1_3,
    crush_hash32_rjenkins1_4,
)
from asyncmsgr.crush.ln import crush_ln, straw2_neg_ln_table
from asyncmsgr.crush.ln_table import LL_TBL, RH_LH_TBL


def test_table_shapes() -> None:
    assert len(RH_LH_TBL) == 258
    assert len(LL_TBL) == 256
    # RH_LH_TBL[2k] ~ 2**48 / (1 + k/128), rounded
    for k in range(129):
        assert abs(RH_LH_TBL[2 * k] - 2**48 * 128 / (128 + k)) <= 1
    # RH_LH_TBL[2k+1] ~ 2**48 log2(1 + k/128), except Ceph's last entry
    for k in range(128):
        assert abs(RH_LH_TBL[2 * k + 1] - 2**48 * math.log2(1 + k / 128)) < 2**10
    assert RH_LH_TBL[257] == 0xFFFF00000000


@pytest.mark.parametrize("k", range(1, 16))
def test_powers_of_two_are_exact(k: int) -> None:
    assert crush_ln((1 << k) - 1) == k << 44


def test_known_points() -> None:
    assert crush_ln(0) == 0
    assert crush_ln(0xFFFF) == 0xFFFFF0000000  # not 2**48: Ceph's last table entry


def test_accuracy_everywhere() -> None:
    for u in range(0x10000):
        assert abs(crush_ln(u) / 2**44 - math.log2(u + 1)) < 1e-4, u


@pytest.mark.parametrize("bad", [-1, 0x10000, 1 << 40])
def test_domain(bad: int) -> None:
    with pytest.raises(ValueError, match="crush_ln"):
        crush_ln(bad)


def test_straw2_table() -> None:
    table = straw2_neg_ln_table()
    assert len(table) == 0x10000
    assert table is straw2_neg_ln_table()
    for u in (0, 1, 2, 100, 0x7FFF, 0xFFFF):
        assert table[u] == 2**48 - crush_ln(u)
    assert min(table) >= 0


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 64])
def test_lanes_equal_scalar_hashes(n: int) -> None:
    lanes = HashLanes(n)
    rng = random.Random(n)
    for _ in range(30):
        x = rng.getrandbits(32)
        d = rng.randrange(-(1 << 31), 1 << 31)
        ids = [rng.randrange(-(1 << 31), 1 << 32) for _ in range(n)]
        rs = [rng.randrange(0, 1 << 32) for _ in range(n)]
        r = rs[0]
        packed = lanes.pack(ids)
        assert lanes.unpack(packed) == [i & 0xFFFFFFFF for i in ids]
        full = lanes.hash3(lanes.broadcast(x), packed, lanes.broadcast(r))
        assert lanes.unpack(full) == [crush_hash32_rjenkins1_3(x, i, r) for i in ids]
        assert lanes.low16_hash3(x, packed, r) == tuple(
            crush_hash32_rjenkins1_3(x, i, r) & 0xFFFF for i in ids)
        assert lanes.low16_hash4(x, packed, r, d) == tuple(
            crush_hash32_rjenkins1_4(x, i, r, d) & 0xFFFF for i in ids)
        assert lanes.low16_hash3_r(x, packed, lanes.pack(rs)) == tuple(
            crush_hash32_rjenkins1_3(x, i, ri) & 0xFFFF for i, ri in zip(ids, rs, strict=True))
        assert lanes.low16_hash4_r(x, packed, lanes.pack(rs), d) == tuple(
            crush_hash32_rjenkins1_4(x, i, ri, d) & 0xFFFF
            for i, ri in zip(ids, rs, strict=True))


def test_lanes_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="lane"):
        HashLanes(0)
    with pytest.raises(ValueError, match="lanes"):
        HashLanes(2).pack([1, 2, 3])
