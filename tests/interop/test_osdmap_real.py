"""OSDMaps from a real Pacific mon: codecs, incrementals and placement.

The mon runs the scenario of :mod:`osdmap_scenario` (OSD ids without daemons,
replicated and EC pools, upmaps, temps, affinities, outs, snapshots, blocklists,
flags, rules with classes). Every epoch's full map (``osd getmap``) must
re-encode byte for byte; the MOSDMap incrementals the mon sends for a
subscription from epoch 1, applied in order, must reproduce every full map
byte for byte (crc included); every PG of every pool must map as
``osdmaptool --test-map-pgs-dump-all`` maps it, and objects as ``ceph osd map``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import osdmap_scenario as sc
import pytest
from ceph_cluster import MonCluster, ceph_mon_binary
from osdmaptool_oracle import compare, pg_lines, require_tools

from asyncmsgr.messages import MOSDMap
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.osdmap import EpochGap, OSDMap
from asyncmsgr.osd.types import PG, ObjectLocator

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[MonCluster]:
    if ceph_mon_binary() is None:
        pytest.skip("ceph-mon is not installed (apt-get install ceph-mon; see .ci/run)")
    c = MonCluster(num_mons=1, auth_none=True, extra_conf=sc.mon_options())
    c.start()
    try:
        c.wait_ready()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def history(cluster: MonCluster) -> sc.History:
    return sc.record_history(cluster)


@pytest.fixture(scope="module")
def map_files(history: sc.History, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    d = tmp_path_factory.mktemp("mon-maps")
    files = {}
    for e, data in history.fulls.items():
        files[e] = d / f"osdmap.{e}"
        files[e].write_bytes(data)
    return files


def _incrementals(history: sc.History) -> list[Incremental]:
    incs: dict[int, bytes] = {}
    for m in history.messages:
        incs.update(m.incremental_maps)
    return [Incremental.decode(incs[e]) for e in sorted(incs)]


def test_history_covers_the_scenario(history: sc.History) -> None:
    last = max(history.fulls)
    assert sorted(history.fulls) == list(range(1, last + 1))
    assert last >= len(sc.SCENARIO)
    assert history.messages[-1].newest_map == last


def test_every_full_map_reencodes_byte_identical(history: sc.History) -> None:
    for e, data in history.fulls.items():
        m = OSDMap.decode(data)
        assert m.epoch == e
        assert m.encode() == data, f"epoch {e}"


def test_mosdmap_and_incrementals_reencode(history: sc.History) -> None:
    for m in history.messages:
        front = bytes(m.front)
        assert (m.version, m.compat_version) == (4, 3)
        again = MOSDMap(fsid=m.fsid, incremental_maps=m.incremental_maps, maps=m.maps,
                        oldest_map=m.oldest_map, newest_map=m.newest_map,
                        gap_removed_snaps=m.gap_removed_snaps)
        again.encode_payload(0)
        assert again.front == front
        for data in m.incremental_maps.values():
            assert Incremental.decode(data).encode() == data


def test_incrementals_reproduce_every_full_map(history: sc.History) -> None:
    m = OSDMap()
    incs = _incrementals(history)
    assert [i.epoch for i in incs] == sorted(history.fulls)
    for inc in incs:
        m.apply_incremental(inc)
        assert m.encode() == history.fulls[inc.epoch], f"epoch {inc.epoch}"
        assert m.crc == inc.full_crc


def test_incrementals_from_a_decoded_full_map(history: sc.History) -> None:
    incs = _incrementals(history)
    for start in (20, 45):
        m = OSDMap.decode(history.fulls[start])
        for inc in incs[start:]:
            m.apply_incremental(inc)
            assert m.encode() == history.fulls[inc.epoch], f"from {start}: epoch {inc.epoch}"


def test_gap_in_the_stream_is_detected(history: sc.History) -> None:
    incs = _incrementals(history)
    m = OSDMap()
    for inc in incs[:30]:
        m.apply_incremental(inc)
    with pytest.raises(EpochGap):
        m.apply_incremental(incs[31])  # epoch 31 went missing


def test_subscription_from_zero_sends_the_latest_full_map(cluster: MonCluster,
                                                         history: sc.History) -> None:
    last = max(history.fulls)

    async def body() -> list[MOSDMap]:
        async with sc._client(cluster) as monc:
            await monc.connect(timeout=20)
            return await sc.subscribe(monc, 0, last)

    got = asyncio.run(body())
    full = [msg for msg in got if last in msg.maps]
    assert full, [(msg.first, msg.last) for msg in got]
    assert full[0].maps[last] == history.fulls[last]


FLAGS = [[], ["--mark-up-in"]]
FINAL_FLAGS = [["--mark-up-in", "--mark-out", "1"], ["--mark-up", "3"],
               ["--mark-up-in", "--mark-out", "4"]]


def _agree(path: Path, flags: list[str]) -> int:
    want, got = compare(str(path), "--test-map-pgs-dump-all", *flags)
    assert got == want, f"osdmaptool {path} --test-map-pgs-dump-all {' '.join(flags)}"
    return pg_lines(want.out)


def test_every_pg_of_every_epoch_agrees_with_osdmaptool(map_files: dict[int, Path]) -> None:
    require_tools()
    compared = 0
    for e in sorted(map_files):
        for flags in FLAGS:
            compared += _agree(map_files[e], flags)
    last = max(map_files)
    for flags in FINAL_FLAGS:
        compared += _agree(map_files[last], flags)
        want, got = compare(str(map_files[last]), "--test-map-pgs", *flags)
        assert got == want
    assert compared > 5000


def test_placement_overrides_agree_with_osdmaptool(history: sc.History, tmp_path: Path) -> None:
    require_tools()
    m = OSDMap.decode(history.fulls[max(history.fulls)])
    sc.inject_placement_overrides(m)
    path = tmp_path / "injected"
    path.write_bytes(m.encode())
    for flags in ([], ["--mark-up-in"], ["--mark-up-in", "--mark-out", "2"],
                  ["--mark-out", "0"], ["--clear-temp"]):
        assert _agree(path, flags) == sum(p.pg_num for p in m.pools.values())


@pytest.mark.parametrize(("pool", "obj", "nspace"), [
    ("rp", "foo", ""), ("rp", "foo", "ns1"), ("rp", "rbd_header.12ab", "tenant.x-y_z"),
    ("rp12b", "bar", ""), ("rp12b", "bar", "ns"), ("ec32", "obj-9", ""),
    ("ec21", "x" * 200, "long-namespace"), ("rackpool", "", "only-ns"),
])
def test_objects_map_like_ceph_osd_map(cluster: MonCluster, history: sc.History, pool: str,
                                       obj: str, nspace: str) -> None:
    m = OSDMap.decode(history.fulls[max(history.fulls)])
    pool_id = m.lookup_pg_pool_name(pool)
    argv = ["osd", "map", pool, obj] + ([nspace] if nspace else [])
    want = json.loads(cluster.ceph(*argv, "--format", "json"))
    raw = m.object_locator_to_pg(obj, ObjectLocator(pool_id, nspace=nspace))
    pgid = m.raw_pg_to_pg(raw)
    up, up_primary, acting, acting_primary = m.pg_to_up_acting_osds(pgid)
    assert want["raw_pgid"] == str(raw)
    assert want["pgid"] == str(pgid)
    assert (want["up"], want["up_primary"], want["acting"], want["acting_primary"]) == (
        up, up_primary, acting, acting_primary)
    assert PG.parse(want["pgid"]) == pgid
