"""CRUSH maps written by a real Pacific ceph-mon.

A private one-mon cluster gets OSD ids (``ceph osd create``, no daemons), hosts,
device classes, a class rule, an erasure rule, a compat weight set and a pool with a
positional (per replica position) weight set; then:

* ``ceph osd getcrushmap`` decodes and re-encodes byte for byte, dumps like
  ``crushtool --dump``, maps like ``crushtool --test`` (compat weight set) for every
  rule;
* ``osdmaptool --test-map-pgs-dump --mark-up-in`` on the mon's osdmap gives the pool's
  up sets, which with every OSD up and in are the raw CRUSH results: checked with the
  pool's own choose args (positional weight sets) and Pacific's ``find_rule``;
* ``ceph osd crush tunables PROFILE`` for every profile yields the tunables of the
  matching :class:`CrushTunables` constructor.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from ceph_cluster import MonCluster, MonClusterFactory

import crush_oracle
from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.dump import dump_crush
from asyncmsgr.crush.hash import crush_hash32_2
from asyncmsgr.crush.map import CRUSH_RULE_TYPE_REPLICATED, CrushTunables
from asyncmsgr.crush.mapper import crush_do_rule

pytestmark = [
    pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("crushtool") is None or shutil.which("osdmaptool") is None,
                       reason="crushtool/osdmaptool not installed (ceph-common)"),
]

_PG_LINE = re.compile(r"^(\d+)\.([0-9a-f]+)\s+\[([\d,]*)\]\s+(-?\d+)")


def _build(cluster: MonCluster) -> None:
    for _ in range(6):
        cluster.ceph("osd", "create")
    for h in range(3):
        cluster.ceph("osd", "crush", "add-bucket", f"h{h}", "host")
        cluster.ceph("osd", "crush", "move", f"h{h}", "root=default")
    for i in range(6):
        cluster.ceph("osd", "crush", "add", f"osd.{i}", str(0.5 + i * 0.25), f"host=h{i % 3}")
    cluster.ceph("osd", "crush", "set-device-class", "ssd", "osd.0", "osd.4")
    cluster.ceph("osd", "crush", "set-device-class", "hdd", "osd.1", "osd.2", "osd.3", "osd.5")
    cluster.ceph("osd", "crush", "rule", "create-replicated", "rep-ssd", "default", "host",
                 "ssd")
    cluster.ceph("osd", "erasure-code-profile", "set", "p21", "k=2", "m=1",
                 "crush-failure-domain=host")
    cluster.ceph("osd", "crush", "rule", "create-erasure", "ec21", "p21")
    cluster.ceph("osd", "crush", "weight-set", "create-compat")
    cluster.ceph("osd", "crush", "weight-set", "reweight-compat", "osd.1", "0.3")
    cluster.ceph("osd", "pool", "create", "pool1", "16")
    cluster.ceph("osd", "pool", "set", "pool1", "size", "3")
    cluster.ceph("osd", "crush", "weight-set", "create", "pool1", "positional")
    cluster.ceph("osd", "crush", "weight-set", "reweight", "pool1", "osd.2", "0.3", "0.6",
                 "0.9")
    cluster.ceph("osd", "crush", "weight-set", "reweight", "pool1", "h1", "0.5", "3", "1")


def _stable_mod(x: int, b: int, bmask: int) -> int:
    """``ceph_stable_mod``."""
    return x & bmask if (x & bmask) < b else x & (bmask >> 1)


def test_mon_written_crush_maps(mon_cluster_factory: MonClusterFactory,
                                tmp_path: Path) -> None:
    cluster = mon_cluster_factory(num_mons=1, auth_none=True)
    _build(cluster)
    crush_path = tmp_path / "crush.bin"
    osdmap_path = tmp_path / "osdmap.bin"
    cluster.ceph("osd", "getcrushmap", "-o", str(crush_path))
    cluster.ceph("osd", "getmap", "-o", str(osdmap_path))
    pool = cluster.ceph_json("osd", "pool", "get", "pool1", "all")
    assert isinstance(pool, dict)

    data = crush_path.read_bytes()
    m = decode_crush_map(data)
    assert encode_crush_map(m) == data
    assert dump_crush(m) == crush_oracle.tool_dump(crush_path)
    pools = cluster.ceph_json("osd", "pool", "ls", "detail")
    assert isinstance(pools, list)
    pool_id = next(int(p["pool_id"]) for p in pools if p["pool_name"] == "pool1")
    assert set(m.choose_args) == {-1, pool_id}
    assert m.get_item_class(0) == "ssd"

    # every rule, compat weight set, against crushtool
    weights = crush_oracle.crushtester_weights(m, [])
    for rule in range(m.max_rules):
        for num_rep in (2, 3):
            expected = crush_oracle.tool_mappings(crush_path, rule, num_rep, (), 1023)
            for x, exp in enumerate(expected):
                got = crush_do_rule(m, rule, x, num_rep, weights,
                                    m.choose_args_get_with_fallback(0))
                assert got == exp, (rule, num_rep, x)

    # the pool's PGs, with its own positional weight set, against osdmaptool
    out = crush_oracle.osdmaptool(str(osdmap_path), "--mark-up-in", "--test-map-pgs-dump",
                                  "--pool", str(pool_id))
    pg_num = int(pool["pg_num"])
    pgp_num = int(pool["pgp_num"])
    size = int(pool["size"])
    ruleno = m.find_rule(m.get_rule_id(pool["crush_rule"]) or 0, CRUSH_RULE_TYPE_REPLICATED,
                         size)
    assert ruleno >= 0
    all_in = [0x10000] * m.max_devices
    seen = differs = 0
    for line in out.splitlines():
        match = _PG_LINE.match(line)
        if match is None:
            continue
        ps = int(match.group(2), 16)
        up = [int(v) for v in match.group(3).split(",")] if match.group(3) else []
        pps = crush_hash32_2(0, _stable_mod(ps, pgp_num, (1 << (pgp_num - 1).bit_length()) - 1),
                             pool_id)
        got = crush_do_rule(m, ruleno, pps, size, all_in,
                            m.choose_args_get_with_fallback(pool_id))
        assert got == up, (ps, pps)
        seen += 1
        differs += got != crush_do_rule(m, ruleno, pps, size, all_in)
    assert seen == pg_num
    assert differs  # the positional weight set changed some placements

    # tunables profiles as the mon sets them (argonaut/legacy: straw_calc_version 0,
    # optimal/default: 1; the others leave it as it was)
    expected_scv = 1
    for profile, ctor in (("argonaut", CrushTunables.argonaut),
                          ("bobtail", CrushTunables.bobtail),
                          ("firefly", CrushTunables.firefly),
                          ("hammer", CrushTunables.hammer),
                          ("jewel", CrushTunables.jewel),
                          ("optimal", CrushTunables.optimal),
                          ("legacy", CrushTunables.legacy),
                          ("default", CrushTunables.optimal)):
        cluster.ceph("osd", "crush", "tunables", profile)
        cluster.ceph("osd", "getcrushmap", "-o", str(crush_path))
        raw = crush_path.read_bytes()
        got_map = decode_crush_map(raw)
        assert encode_crush_map(got_map) == raw
        if profile in ("argonaut", "legacy"):
            expected_scv = 0
        elif profile in ("optimal", "default"):
            expected_scv = 1
        assert got_map.tunables == replace(ctor(), straw_calc_version=expected_scv), profile
