"""asyncmsgr.crush against Pacific's own code and tools, live.

* hashes: ``libceph-common.so.2`` (ctypes) and ``osdmaptool --test-map-object``
  recompute every stored vector of ``tests/data/crush/hash_vectors.json``; the
  stored file must equal the live answers (so the unit tests check real values) and
  asyncmsgr must agree with them.

Skipped only when the tools are absent; CI installs ceph-common, so these run there.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

import crush_oracle
from asyncmsgr.crush import hash as ch

pytestmark = [pytest.mark.interop]

needs_lib = pytest.mark.skipif(not crush_oracle.have_libceph_common(),
                               reason="libceph-common.so.2 not installed (ceph-common)")
needs_osdmaptool = pytest.mark.skipif(not crush_oracle.have_osdmaptool(),
                                      reason="osdmaptool not installed (ceph-common)")


OURS: dict[int, Callable[..., int]] = {
    1: ch.crush_hash32, 2: ch.crush_hash32_2, 3: ch.crush_hash32_3, 4: ch.crush_hash32_4,
    5: ch.crush_hash32_5,
}


def _stored(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((crush_oracle.DATA / name).read_text())
    return data


@needs_lib
def test_stored_hash_vectors_are_libceph_answers() -> None:
    live = crush_oracle.lib_hash_vectors()
    stored = _stored("hash_vectors.json")
    for key, value in live.items():
        assert stored[key] == value, key


@needs_lib
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_crush_hash_random_against_libceph(n: int) -> None:
    lib = crush_oracle.lib_crush_hash(n)
    rng = random.Random(1000 + n)
    for _ in range(2000):
        args = [rng.getrandbits(32) for _ in range(n)]
        assert OURS[n](0, *args) == lib(*args), args


@needs_lib
@pytest.mark.parametrize("kind", ["rjenkins", "linux"])
def test_str_hash_random_against_libceph(kind: str) -> None:
    lib = crush_oracle.lib_str_hash(kind)
    ours = ch.ceph_str_hash_rjenkins if kind == "rjenkins" else ch.ceph_str_hash_linux
    rng = random.Random(kind)
    for _ in range(2000):
        name = rng.randbytes(rng.randrange(0, 80))
        assert ours(name) == lib(name), name


@needs_osdmaptool
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("object_hash", "key"), [(2, "osdmaptool_rjenkins30"),
                                                  (1, "osdmaptool_linux30")])
def test_object_hashes_against_osdmaptool(object_hash: int, key: str) -> None:
    live = crush_oracle.tool_object_hashes30(object_hash)
    assert _stored("hash_vectors.json")[key] == live
    for name, low30 in live:
        assert ch.ceph_str_hash(object_hash, name.encode()) & ((1 << 30) - 1) == low30
