"""``asyncmsgr osdmaptool`` against the real ``osdmaptool`` on maps the real tools build.

Maps: ``osdmaptool --createsimple`` (with and without pgp_num < pg_num), with
CRUSH maps from ``crushtool --build`` (every bucket algorithm, hosts and racks)
and from ``crushtool -c`` (firstn and indep rules, device classes, choose_args
weight sets, each tunables profile), imported with ``--import-crush``; some
reweighted offline with ``osdmaptool --adjust-crush-weight --save``. Every PG of
every pool is compared (``--test-map-pgs-dump-all``, with and without
``--mark-up-in`` / ``--mark-out``), plus the summaries, object and PG lookups
and the error paths. Outputs must be identical: stdout byte for byte, stderr
and the exit status.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from osdmaptool_oracle import compare, ours, pg_lines, real, require_tools, tool

from asyncmsgr.crush.hash import CEPH_STR_HASH_LINUX
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import FLAG_HASHPSPOOL

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(900)]

ALGS = ["uniform", "list", "tree", "straw", "straw2"]

FLAG_SETS: list[list[str]] = [
    ["--test-map-pgs-dump-all"],
    ["--test-map-pgs-dump-all", "--mark-up-in"],
    ["--test-map-pgs-dump-all", "--mark-up-in", "--mark-out", "3"],
    ["--test-map-pgs-dump", "--mark-up-in", "--mark-out", "0"],
    ["--test-map-pgs", "--mark-up-in"],
    ["--test-map-pgs", "--mark-up-in", "--mark-out", "5"],
]

OBJECTS = ["foo", "rbd_data.1234abcd.0000000000000001", "benchmark_data_host_1_object7",
           "a" * 100, "\u00e9t\u00e9", ""]


def _same(argv: list[str]) -> int:
    """Run both tools; assert identical results; return the PG lines compared."""
    want, got = compare(*argv)
    assert got == want, f"osdmaptool {' '.join(argv)}"
    return pg_lines(want.out)


def _check_map(path: Path) -> int:
    pgs = 0
    for flags in FLAG_SETS:
        pgs += _same([str(path), *flags])
    for name in OBJECTS:
        _same([str(path), "--test-map-object", name, "--pool", "1", "--mark-up-in"])
    _same([str(path), "--test-map-pg", "1.1f", "--mark-up-in"])
    _same([str(path), "--test-map-pg", "1.3", "--mark-up", "2"])
    return pgs


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools()
    return tmp_path_factory.mktemp("osdmaptool")


def simple_map(workdir: Path, name: str, *args: str) -> Path:
    path = workdir / name
    path.unlink(missing_ok=True)
    tool("osdmaptool", "--createsimple", *args, "--with-default-pool", str(path))
    return path


def with_crush(workdir: Path, base: Path, crush: Path, name: str) -> Path:
    path = workdir / name
    path.write_bytes(base.read_bytes())
    tool("osdmaptool", str(path), "--import-crush", str(crush))
    return path


@pytest.mark.parametrize(("num", "bits"), [("1", []), ("3", []), ("12", []),
                                           ("8", ["--pg-bits", "4", "--pgp-bits", "2"]),
                                           ("5", ["--pg-bits", "3", "--pgp-bits", "3"])])
def test_createsimple(workdir: Path, num: str, bits: list[str]) -> None:
    path = simple_map(workdir, f"simple-{num}-{len(bits)}", num, *bits)
    assert _check_map(path) > 0


@pytest.mark.parametrize("alg", ALGS)
def test_crushtool_build(workdir: Path, alg: str) -> None:
    base = simple_map(workdir, f"base-{alg}", "16", "--pg-bits", "3", "--pgp-bits", "3")
    crush = workdir / f"crush-{alg}"
    tool("crushtool", "--build", "--num_osds", "16", "host", alg, "4", "rack", alg, "2",
         "root", alg, "0", "-o", str(crush))
    path = with_crush(workdir, base, crush, f"map-{alg}")
    assert _check_map(path) == 3 * 128 + 128  # three dump-alls and one dump


def test_crushtool_build_mixed_and_offline_reweights(workdir: Path) -> None:
    base = simple_map(workdir, "base-mixed", "24", "--pg-bits", "2", "--pgp-bits", "2")
    crush = workdir / "crush-mixed"
    tool("crushtool", "--build", "--num_osds", "24", "host", "straw2", "3", "rack", "straw",
         "2", "row", "list", "2", "root", "tree", "0", "-o", str(crush))
    path = with_crush(workdir, base, crush, "map-mixed")
    _check_map(path)
    # offline CRUSH weight changes, saved by the real tool
    tool("osdmaptool", str(path), "--adjust-crush-weight", "3:0.25,7:0,11:3.5", "--save")
    _check_map(path)


CRUSH_HEAD = """\
tunable choose_local_tries {local}
tunable choose_local_fallback_tries {fallback}
tunable choose_total_tries {total}
tunable chooseleaf_descend_once {descend}
tunable chooseleaf_vary_r {vary}
tunable chooseleaf_stable {stable}
tunable straw_calc_version {scv}
tunable allowed_bucket_algs 54
"""

TUNABLES = {
    "argonaut": {"local": 2, "fallback": 5, "total": 19, "descend": 0, "vary": 0, "stable": 0,
                "scv": 0},
    "bobtail": {"local": 0, "fallback": 0, "total": 50, "descend": 1, "vary": 0, "stable": 0,
                "scv": 0},
    "firefly": {"local": 0, "fallback": 0, "total": 50, "descend": 1, "vary": 1, "stable": 0,
                "scv": 1},
    "jewel": {"local": 0, "fallback": 0, "total": 50, "descend": 1, "vary": 1, "stable": 1,
              "scv": 1},
}


def crush_text(alg: str, tunables: str, *, classes: bool, choose_args: bool,
               indep: bool) -> str:
    """A 12-OSD map: 4 hosts of 3 in 2 racks, odd weights, one rule 0 of the pool's type."""
    lines = [CRUSH_HEAD.format(**TUNABLES[tunables])]
    lines += [f"device {i} osd.{i}" + (f" class {'ssd' if i % 3 == 0 else 'hdd'}"
                                       if classes else "") for i in range(12)]
    lines += ["type 0 osd", "type 1 host", "type 2 rack", "type 3 root"]
    # osd.10 has CRUSH weight 0: --mark-up-in gives it 1.0 (CrushWrapper::adjust_item_weight),
    # which asyncmsgr does not do for maps with weight sets
    weights = [1.0, 0.5, 2.0, 1.0, 1.0, 1.337, 0.25, 1.0, 3.0, 1.0,
               0.75 if choose_args else 0.0, 1.0]
    for h in range(4):
        lines += [f"host h{h} {{", f"\tid {-1 - h}", f"\talg {alg}", "\thash 0"]
        for o in range(3 * h, 3 * h + 3):
            w = 1.0 if alg == "uniform" else weights[o]
            lines.append(f"\titem osd.{o} weight {w:.5f}")
        lines.append("}")
    for r in range(2):
        lines += [f"rack r{r} {{", f"\tid {-5 - r}", f"\talg {alg}", "\thash 0"]
        lines += [f"\titem h{2 * r + k} weight 3.00000" for k in range(2)]
        lines.append("}")
    lines += ["root default {", "\tid -7", f"\talg {alg}", "\thash 0",
              "\titem r0 weight 6.00000", "\titem r1 weight 6.00000", "}"]
    mode = "indep" if indep else "firstn"
    take = "\tstep take default class hdd" if classes else "\tstep take default"
    lines += ["rule r0 {", "\tid 0", "\ttype replicated", "\tmin_size 1", "\tmax_size 10",
              "\tstep set_chooseleaf_tries 5" if indep else "\tstep set_choose_tries 100",
              take, f"\tstep choose {mode} 0 type rack", f"\tstep chooseleaf {mode} 2 type host",
              "\tstep emit", "}"]
    if choose_args:
        lines += ["choose_args 1 {", "\t{", "\t\tbucket_id -1", "\t\tweight_set [",
                  "\t\t\t[ 2.00000 0.10000 1.00000 ]", "\t\t\t[ 1.00000 1.00000 1.00000 ]",
                  "\t\t]", "\t}", "\t{", "\t\tbucket_id -7", "\t\tweight_set [",
                  "\t\t\t[ 1.00000 5.00000 ]", "\t\t]", "\t}", "}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("alg", "tunables", "classes", "choose_args", "indep"), [
    ("straw2", "jewel", False, False, False),
    ("straw2", "jewel", False, False, True),
    ("straw2", "jewel", True, False, False),
    ("straw2", "jewel", False, True, False),
    ("straw", "argonaut", False, False, False),
    ("straw", "bobtail", False, False, True),
    ("list", "firefly", False, False, False),
    ("tree", "argonaut", False, False, True),
    ("uniform", "firefly", False, False, False),
])
def test_crushtool_compiled(workdir: Path, alg: str, tunables: str, classes: bool,
                            choose_args: bool, indep: bool) -> None:
    name = f"{alg}-{tunables}-{int(classes)}{int(choose_args)}{int(indep)}"
    text = workdir / f"{name}.txt"
    text.write_text(crush_text(alg, tunables, classes=classes, choose_args=choose_args,
                               indep=indep))
    crush = workdir / f"{name}.crush"
    tool("crushtool", "-c", str(text), "-o", str(crush))
    base = simple_map(workdir, f"base-{name}", "12", "--pg-bits", "4", "--pgp-bits", "4")
    path = with_crush(workdir, base, crush, f"map-{name}")
    assert _check_map(path) > 0


def test_mark_up_in_with_weight_sets_and_a_zero_weight_is_refused(workdir: Path) -> None:
    text = crush_text("straw2", "jewel", classes=False, choose_args=True, indep=False)
    text = text.replace("item osd.10 weight 0.75000", "item osd.10 weight 0.00000")
    (workdir / "cz.txt").write_text(text)
    tool("crushtool", "-c", str(workdir / "cz.txt"), "-o", str(workdir / "cz.crush"))
    base = simple_map(workdir, "base-cz", "12", "--pg-bits", "2")
    path = with_crush(workdir, base, workdir / "cz.crush", "map-cz")
    got = ours(str(path), "--test-map-pgs", "--mark-up-in")
    assert got.status == 2
    assert "weight sets" in got.err
    _same([str(path), "--test-map-pgs-dump-all", "--mark-up", "4"])


def test_legacy_pps_and_linux_object_hash(workdir: Path) -> None:
    """Pools without HASHPSPOOL (pps = stable_mod + pool) and with the linux name hash,
    written by asyncmsgr's encoder and read back by osdmaptool."""
    base = simple_map(workdir, "legacy-base", "6", "--pg-bits", "3", "--pgp-bits", "2")
    crush = workdir / "legacy-crush"
    tool("crushtool", "--build", "--num_osds", "6", "host", "straw2", "2", "root", "straw2",
         "0", "-o", str(crush))
    m = OSDMap.decode(with_crush(workdir, base, crush, "legacy-src").read_bytes())
    m.pools[1] = replace(m.pools[1], flags=m.pools[1].flags & ~FLAG_HASHPSPOOL,
                         object_hash=CEPH_STR_HASH_LINUX)
    m.pools[7] = replace(m.pools[1], flags=FLAG_HASHPSPOOL, pg_num=24, pgp_num=24,
                         pg_num_target=24, pgp_num_target=24, pg_num_pending=24)
    m.pool_name[7] = "linux-hashps"
    m.pool_max = 7
    path = workdir / "legacy"
    path.write_bytes(m.encode())
    assert _check_map(path) > 0
    for name in OBJECTS:
        _same([str(path), "--test-map-object", name, "--pool", "7", "--mark-up-in"])


def test_import_crush_writes_the_same_map(workdir: Path) -> None:
    base = simple_map(workdir, "imp-base", "6", "--pg-bits", "3")
    crush = workdir / "imp-crush"
    tool("crushtool", "--build", "--num_osds", "6", "host", "straw2", "2", "root", "straw2",
         "0", "-o", str(crush))
    theirs, mine = workdir / "imp-theirs", workdir / "imp-mine"
    for p in (theirs, mine):
        p.write_bytes(base.read_bytes())
    want = real(str(theirs), "--import-crush", str(crush))
    got = ours(str(mine), "--import-crush", str(crush))
    assert (got.status, got.out.replace("imp-mine", "imp-theirs")) == (want.status, want.out)
    assert mine.read_bytes() == theirs.read_bytes()
    exported = workdir / "exported"
    assert compare(str(mine), "--export-crush", str(exported))[1].status == 0


def test_error_paths(workdir: Path) -> None:
    good = simple_map(workdir, "err-map", "3")
    trunc = workdir / "trunc"
    trunc.write_bytes(good.read_bytes()[:200])
    corrupt = workdir / "corrupt"
    data = bytearray(good.read_bytes())
    data[60] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    for argv in ([str(workdir / "missing"), "--test-map-pgs"],
                 [str(trunc), "--test-map-pgs"],
                 [str(corrupt), "--test-map-pgs"],
                 [str(good), "--test-map-object", "x", "--pool", "9"],
                 [str(good), "--test-map-pgs-dump", "--pool", "4"],
                 [str(good)],
                 [str(good), "extra", "--test-map-pgs"],
                 [str(good), "--test-map-pg", "zz"],
                 [str(good), "--test-map-pgs", "--pool", "x1"],
                 [str(good), "--test-map-object"],
                 []):
        want, got = compare(*argv)
        assert got == want, argv
