"""asyncmsgr.crush against Pacific's own code and tools, live.

* hashes: ``libceph-common.so.2`` (ctypes) and ``osdmaptool --test-map-object``
  recompute every stored vector of ``tests/data/crush/hash_vectors.json``; the
  stored file must equal the live answers and asyncmsgr must agree with them;
* ``crush_ln``'s tables equal the ones inside ``libceph-common.so.2``;
* the corpus (:data:`crush_corpus.CORPUS`) is rebuilt with crushtool: the maps are
  byte-identical to the stored ones, re-encode byte-identically, dump like
  ``crushtool --dump``, and every check maps x = 0..MAX_X exactly as
  ``crushtool --test --show-mappings`` (and ``--show-bad-mappings``) does;
  MAX_X is 255 by default (the stored answers already cover 0..63 in the unit
  tests); ``ASYNCMSGR_CRUSH_ORACLE_MAX_X=1023`` runs the full comparison;
* random maps (seeded) are compiled and compared the same way;
* crafted encodings re-encode as crushtool's own decode + encode.

Skipped only when the tools are absent; CI installs ceph-common, so these run there.
"""

from __future__ import annotations

import json
import os
import random
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

import crush_oracle
from asyncmsgr.crush import hash as ch
from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.dump import dump_crush
from asyncmsgr.crush.ln_table import LL_TBL, RH_LH_TBL
from asyncmsgr.crush.map import CRUSH_ITEM_NONE
from asyncmsgr.crush.mapper import CrushMapper
from crush_corpus import CORPUS, MapCase, random_case

pytestmark = [pytest.mark.interop]

needs_lib = pytest.mark.skipif(not crush_oracle.have_libceph_common(),
                               reason="libceph-common.so.2 not installed (ceph-common)")
needs_osdmaptool = pytest.mark.skipif(not crush_oracle.have_osdmaptool(),
                                      reason="osdmaptool not installed (ceph-common)")
needs_crushtool = pytest.mark.skipif(not crush_oracle.have_crushtool(),
                                     reason="crushtool not installed (ceph-common)")

OURS: dict[int, Callable[..., int]] = {
    1: ch.crush_hash32, 2: ch.crush_hash32_2, 3: ch.crush_hash32_3, 4: ch.crush_hash32_4,
    5: ch.crush_hash32_5,
}
MAX_X = int(os.environ.get("ASYNCMSGR_CRUSH_ORACLE_MAX_X", "255"))


def _stored(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((crush_oracle.DATA / name).read_text())
    return data


# -- hashes --------------------------------------------------------------------------------


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


@needs_lib
def test_ln_tables_are_libceph_tables() -> None:
    lib = crush_oracle.LIBCEPH_COMMON.read_bytes()
    for table in (RH_LH_TBL, LL_TBL):
        raw = struct.pack(f"<{len(table)}q", *table)
        assert lib.count(raw) == 1


# -- crushtool -------------------------------------------------------------------------------


def _compare_case(case: MapCase, workdir: Path, max_x: int) -> int:
    """Compile ``case`` with crushtool and compare everything; the mappings compared."""
    path = crush_oracle.compile_case(case, workdir)
    data = path.read_bytes()
    m = decode_crush_map(data)
    assert encode_crush_map(m) == data, case.name
    assert dump_crush(m) == crush_oracle.tool_dump(path), case.name
    mapper = CrushMapper(m)
    choose_args = m.choose_args_get_with_fallback(0)
    compared = 0
    for check in case.checks:
        overrides = [[d, w, crush_oracle.crushtool_device_weight(w)] for d, w in check.weights]
        weights = crush_oracle.crushtester_weights(m, overrides)
        for num_rep in check.num_reps:
            expected = crush_oracle.tool_mappings(path, check.rule, num_rep, check.weights,
                                                  max_x)
            for x, exp in enumerate(expected):
                got = mapper.do_rule(check.rule, x, num_rep, weights, choose_args)
                assert got == exp, (case.name, check, num_rep, x)
            compared += len(expected)
    return compared


@needs_crushtool
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_against_crushtool(case: MapCase, tmp_path: Path) -> None:
    stored = (crush_oracle.DATA / f"{case.name}.bin").read_bytes()
    assert _compare_case(case, tmp_path, MAX_X) > 0
    assert (tmp_path / f"{case.name}.bin").read_bytes() == stored


@needs_crushtool
@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", range(12))
def test_random_maps_against_crushtool(seed: int, tmp_path: Path) -> None:
    assert _compare_case(random_case(seed), tmp_path, 511) > 0


@needs_crushtool
def test_stored_mappings_are_crushtool_answers(tmp_path: Path) -> None:
    stored = crush_oracle.load_stored_mappings()
    by_map = {c.name: c for c in CORPUS}
    paths = {name: crush_oracle.compile_case(by_map[name], tmp_path)
             for name in {a["map"] for a in stored}}
    sample = stored[::7]
    for a in sample:
        live = crush_oracle.tool_mappings(paths[a["map"]], a["rule"], a["num_rep"],
                                          tuple((d, w) for d, w, _ in a["weights"]),
                                          len(a["results"]) - 1)
        assert live == a["results"]


@needs_crushtool
def test_stored_dumps_are_crushtool_dumps() -> None:
    for name, dump in crush_oracle.load_stored_dumps().items():
        assert crush_oracle.tool_dump(crush_oracle.DATA / f"{name}.bin") == dump


@needs_crushtool
@pytest.mark.parametrize(("name", "rule", "num_rep"), [
    ("rules-straw2", 2, 7), ("rules-straw2", 0, 7), ("odd-weights-jewel", 1, 6),
    ("rules-straw2", 3, 6), ("build-odd", 0, 5),
])
def test_bad_mappings_against_crushtool(name: str, rule: int, num_rep: int) -> None:
    path = crush_oracle.DATA / f"{name}.bin"
    m = decode_crush_map(path.read_bytes())
    weights = crush_oracle.crushtester_weights(m, [])
    expected = crush_oracle.tool_bad_mappings(path, rule, num_rep, (), MAX_X)
    assert expected
    mapper = CrushMapper(m)
    ours = {}
    for x in range(MAX_X + 1):
        got = mapper.do_rule(rule, x, num_rep, weights, m.choose_args_get_with_fallback(0))
        if len(got) != num_rep or CRUSH_ITEM_NONE in got:
            ours[x] = got
    assert ours == expected


@needs_crushtool
def test_crafted_reencodings_are_crushtool_reencodings(tmp_path: Path) -> None:
    for name, data in crush_oracle.crafted_inputs().items():
        src = tmp_path / f"{name}.in"
        src.write_bytes(data)
        ceph = crush_oracle.tool_reencode(src, tmp_path)
        assert (crush_oracle.DATA / "reencode" / f"{name}.ceph").read_bytes() == ceph
        assert encode_crush_map(decode_crush_map(data)) == ceph, name


@needs_crushtool
@needs_osdmaptool
@pytest.mark.parametrize("num_osds", [1, 3, 12])
def test_osdmaptool_crush_maps(num_osds: int, tmp_path: Path) -> None:
    """The crush map ``osdmaptool --createsimple`` builds (what its osdmaps embed)."""
    omap = tmp_path / "osdmap"
    crush_path = tmp_path / "crush"
    crush_oracle.osdmaptool("--createsimple", str(num_osds), "--with-default-pool",
                            "--clobber", str(omap))
    crush_oracle.osdmaptool(str(omap), "--export-crush", str(crush_path))
    data = crush_path.read_bytes()
    m = decode_crush_map(data)
    assert encode_crush_map(m) == data
    assert dump_crush(m) == crush_oracle.tool_dump(crush_path)
    weights = crush_oracle.crushtester_weights(m, [])
    mapper = CrushMapper(m)
    for num_rep in (1, 3):
        expected = crush_oracle.tool_mappings(crush_path, 0, num_rep, (), MAX_X)
        assert [mapper.do_rule(0, x, num_rep, weights) for x in range(MAX_X + 1)] == expected


@needs_crushtool
@pytest.mark.parametrize(("option", "field", "value"), [
    ("--set-choose-local-tries", "choose_local_tries", 3),
    ("--set-choose-local-fallback-tries", "choose_local_fallback_tries", 2),
    ("--set-choose-total-tries", "choose_total_tries", 7),
    ("--set-chooseleaf-descend-once", "chooseleaf_descend_once", 0),
    ("--set-chooseleaf-vary-r", "chooseleaf_vary_r", 0),
    ("--set-chooseleaf-stable", "chooseleaf_stable", 0),
])
def test_crushtool_tunable_options(option: str, field: str, value: int,
                                   tmp_path: Path) -> None:
    """Maps rewritten by crushtool's ``--set-*`` options decode with the new value
    and map as crushtool maps them."""
    out = tmp_path / "tuned"
    crush_oracle.crushtool("-i", str(crush_oracle.DATA / "rules-straw2.bin"), option,
                           str(value), "-o", str(out))
    data = out.read_bytes()
    m = decode_crush_map(data)
    assert getattr(m.tunables, field) == value
    assert encode_crush_map(m) == data
    mapper = CrushMapper(m)
    weights = crush_oracle.crushtester_weights(m, [])
    for rule, num_rep in ((0, 3), (2, 4), (5, 3), (0, 7)):
        expected = crush_oracle.tool_mappings(out, rule, num_rep, (), 255)
        assert [mapper.do_rule(rule, x, num_rep, weights) for x in range(256)] == expected
