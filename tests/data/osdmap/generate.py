"""Regenerate the OSDMap test data in this directory with the real Ceph Pacific tools.

Run from the repository root (needs ceph-mon, osdmaptool and crushtool)::

    .venv/bin/python tests/data/osdmap/generate.py

Writes:

* ``simple3.osdmap``: ``osdmaptool --createsimple 3 --with-default-pool``;
* ``hosts.osdmap``: ``--createsimple 8 --with-default-pool --pg-bits 4 --pgp-bits 3``
  (pg_num 128, pgp_num 64) with a CRUSH map from ``crushtool --build --num_osds 8
  host straw2 2 rack straw 2 root list 0`` imported by ``osdmaptool --import-crush``;
* ``mon-final.osdmap``: the last full map of the scenario in
  ``tests/interop/osdmap_scenario.py`` run on a real mon (``osd getmap``), and
  ``mon-first.osdmap`` its epoch 1;
* ``mon-osdmap-N.front``: the fronts (header version 4) of the MOSDMap messages the
  mon sent for an ``osdmap`` subscription from epoch 1 (every incremental);
* ``injected.osdmap``: ``mon-final.osdmap`` with what a mon without OSD daemons
  cleans away (up OSDs, pg_temp, primary_temp, upmaps, affinities; see
  ``osdmap_scenario.inject_placement_overrides``), encoded by asyncmsgr: the real
  osdmaptool reads it for the expected outputs below;
* ``expected/<map>.<case>.txt``: ``osdmaptool <map> <args>`` stdout for the cases in
  :data:`CASES` (exit status 0 for all of them).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

#: (case name, osdmaptool arguments) run on every map.
CASES: list[tuple[str, list[str]]] = [
    ("dump-all", ["--test-map-pgs-dump-all"]),
    ("dump-all-upin", ["--test-map-pgs-dump-all", "--mark-up-in"]),
    ("dump-upin-out1", ["--test-map-pgs-dump", "--mark-up-in", "--mark-out", "1"]),
    ("pgs-upin", ["--test-map-pgs", "--mark-up-in"]),
    ("object", ["--test-map-object", "rbd_data.1234", "--mark-up-in"]),
    ("dump-all-out0", ["--test-map-pgs-dump-all", "--mark-out", "0"]),
]


def _run(*argv: str, cwd: Path | None = None) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True,
                          cwd=cwd).stdout


def _offline_maps(tmp: Path) -> None:
    simple = HERE / "simple3.osdmap"
    simple.unlink(missing_ok=True)
    _run("osdmaptool", "--createsimple", "3", "--with-default-pool", str(simple))
    hosts = HERE / "hosts.osdmap"
    hosts.unlink(missing_ok=True)
    _run("osdmaptool", "--createsimple", "8", "--with-default-pool", "--pg-bits", "4",
         "--pgp-bits", "3", str(hosts))
    crush = tmp / "hosts.crush"
    _run("crushtool", "--build", "--num_osds", "8", "host", "straw2", "2", "rack", "straw",
         "2", "root", "list", "0", "-o", str(crush))
    _run("osdmaptool", str(hosts), "--import-crush", str(crush))


def _mon_maps() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "interop"))
    import osdmap_scenario as sc  # noqa: PLC0415 - a test helper, found via sys.path
    from ceph_cluster import MonCluster  # noqa: PLC0415

    with MonCluster(num_mons=1, auth_none=True, extra_conf=sc.mon_options()) as cluster:
        history = sc.record_history(cluster)
    last = max(history.fulls)
    (HERE / "mon-final.osdmap").write_bytes(history.fulls[last])
    (HERE / "mon-first.osdmap").write_bytes(history.fulls[1])
    for old in HERE.glob("mon-osdmap-*.front"):
        old.unlink()
    for i, m in enumerate(history.messages):
        assert m.version == 4
        (HERE / f"mon-osdmap-{i}.front").write_bytes(bytes(m.front))
    from asyncmsgr.osd.osdmap import OSDMap  # noqa: PLC0415

    injected = OSDMap.decode(history.fulls[last])
    sc.inject_placement_overrides(injected)
    (HERE / "injected.osdmap").write_bytes(injected.encode())


def _expected() -> None:
    out = HERE / "expected"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    for mapfile in ("simple3.osdmap", "hosts.osdmap", "mon-final.osdmap", "injected.osdmap"):
        for case, args in CASES:
            text = _run("osdmaptool", mapfile, *args, cwd=HERE)
            (out / f"{mapfile}.{case}.txt").write_text(text)


def main() -> None:
    """Regenerate everything."""
    with tempfile.TemporaryDirectory() as tmp:
        _offline_maps(Path(tmp))
    _mon_maps()
    _expected()


if __name__ == "__main__":
    main()
