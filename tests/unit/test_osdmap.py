"""OSDMap and OSDMap::Incremental against maps written by the real Ceph tools.

Data in ``tests/data/osdmap`` (see its ``generate.py``): full maps from
``osdmaptool --createsimple`` and from a real mon, and the MOSDMap incremental
stream the mon sent for a subscription from epoch 1.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from asyncmsgr.errors import DecodeError, IncompatibleEncoding
from asyncmsgr.message import MsgHeader, decode_message
from asyncmsgr.messages import MOSDMap
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.mapcommon import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_NOUP,
    CEPH_OSDMAP_NOOUT,
    CEPH_OSDMAP_PAUSERD,
    CEPH_RELEASE_PACIFIC,
    release_ge,
    release_gt,
)
from asyncmsgr.osd.osdmap import EpochGap, FsidMismatch, OSDMap
from asyncmsgr.osd.osdmap_codec import BadMapCrc
from asyncmsgr.osd.pool import FLAG_HASHPSPOOL, TYPE_ERASURE
from asyncmsgr.osd.types import PG
from asyncmsgr.types import AddrType
from asyncmsgr.wire.buffer import Reader

DATA = Path(__file__).resolve().parents[1] / "data" / "osdmap"
MAPS = ["simple3.osdmap", "hosts.osdmap", "mon-first.osdmap", "mon-final.osdmap",
        "injected.osdmap"]


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def mon_messages() -> list[MOSDMap]:
    out = []
    for path in sorted(DATA.glob("mon-osdmap-*.front")):
        header = MsgHeader(type=41, version=4, compat_version=3)
        out.append(MOSDMap.decode_payload(header, Reader(path.read_bytes()),
                                          memoryview(b""), memoryview(b"")))
    return out


def incrementals() -> list[bytes]:
    incs: dict[int, bytes] = {}
    for m in mon_messages():
        incs.update(m.incremental_maps)
    assert sorted(incs) == list(range(1, len(incs) + 1))
    return [incs[e] for e in sorted(incs)]


@pytest.mark.parametrize("name", MAPS)
def test_full_map_reencodes_byte_identical(name: str) -> None:
    data = load(name)
    m = OSDMap.decode(data)
    assert m.crc_defined
    assert m.encode() == data


def test_mon_map_contents() -> None:
    m = OSDMap.decode(load("mon-final.osdmap"))
    assert m.fsid == uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
    assert {m.pool_name[p] for p in m.pools} == {"rp", "rp12b", "ec21", "ec32", "ssdpool",
                                                 "rackpool"}
    assert m.lookup_pg_pool_name("rp12b") == 2
    assert m.lookup_pg_pool_name("rp3") == -2  # deleted
    rp = m.pools[m.lookup_pg_pool_name("rp")]
    assert (rp.size, rp.min_size, rp.pg_num, rp.quota_max_objects) == (3, 2, 32, 1000)
    assert rp.flags & FLAG_HASHPSPOOL
    assert rp.application_metadata == {"rbd": {"key": "val"}}
    assert [s.name for s in rp.snaps] == ["snap2"]
    ec = m.pools[m.lookup_pg_pool_name("ec32")]
    assert ec.type == TYPE_ERASURE
    assert ec.size == 5
    assert not ec.can_shift_osds
    assert m.erasure_code_profiles["k3m2"]["k"] == "3"
    assert "tmp" not in m.erasure_code_profiles
    assert m.pg_upmap[PG(1, 0)] == (0, 2, 4)
    # the mon cancelled every pg_upmap_items entry once its target (osd.2, osd.5) went out
    assert m.pg_upmap_items == {}
    assert m.pg_temp == {}
    assert m.primary_temp == {}
    assert m.get_primary_affinity(3) == 0
    assert m.get_primary_affinity(1) == 0x10000
    assert m.osd_weight[2] == 0
    assert m.osd_weight[5] == 0
    assert m.is_out(2)
    assert m.osd_state[0] & CEPH_OSD_NOUP
    assert not any(m.is_up(o) for o in range(m.max_osd))
    assert m.flags & CEPH_OSDMAP_NOOUT
    assert not m.flags & CEPH_OSDMAP_PAUSERD
    assert not m.pauserd
    assert not m.pausewr
    assert not m.full
    assert m.require_osd_release == CEPH_RELEASE_PACIFIC
    assert round(m.full_ratio, 2) == 0.97
    assert round(m.nearfull_ratio, 2) == 0.8
    assert sorted((a.host, a.port, a.nonce) for a in m.blocklist) == [
        ("10.0.0.5", 0, 0), ("::1", 6789, 99)]
    assert all(a.type == AddrType.ANY for a in m.blocklist)
    h1 = m.crush.get_item_id("h1")
    assert m.crush_node_flags == {h1: 0x800}  # set-group noout h1 (CEPH_OSD_NOOUT)
    assert m.exists(5)
    assert not m.exists(6)
    assert m.max_osd == 7


def test_crc_mismatch_is_refused() -> None:
    data = bytearray(load("mon-final.osdmap"))
    data[100] ^= 0x01
    with pytest.raises(BadMapCrc):
        OSDMap.decode(data)
    data = bytearray(load("simple3.osdmap"))
    data[-1] ^= 0x80  # the stored crc itself
    with pytest.raises(BadMapCrc):
        OSDMap.decode(data)


@pytest.mark.parametrize("name", MAPS)
def test_every_truncation_is_a_decode_error(name: str) -> None:
    data = load(name)
    for n in range(0, len(data), max(1, len(data) // 200)):
        with pytest.raises(DecodeError):
            OSDMap.decode(data[:n])


def test_classic_encoding_is_refused() -> None:
    data = bytearray(load("simple3.osdmap"))
    data[0] = 6  # a pre-v7 (classic) wrapper
    with pytest.raises(IncompatibleEncoding):
        OSDMap.decode(data)


def test_short_per_osd_vector_is_refused() -> None:
    m = OSDMap.decode(load("mon-final.osdmap"))
    m.osd_weight = m.osd_weight[:-1]
    with pytest.raises(DecodeError, match="osd_weight"):
        OSDMap.decode(m.encode())


def test_incrementals_reencode_byte_identical() -> None:
    for data in incrementals():
        inc = Incremental.decode(data)
        assert inc.have_crc
        assert inc.encode() == data


def test_applying_every_incremental_reproduces_the_mon_maps() -> None:
    m = OSDMap()
    for data in incrementals():
        inc = Incremental.decode(data)
        m.apply_incremental(inc)
        assert m.epoch == inc.epoch
        m.encode()
        assert m.crc == inc.full_crc, f"epoch {inc.epoch}"
    assert m.encode() == load("mon-final.osdmap")


def test_first_incremental_carries_the_full_map() -> None:
    first = Incremental.decode(incrementals()[0])
    assert first.epoch == 1
    assert first.fullmap == load("mon-first.osdmap")


def test_gap_is_detected_and_changes_nothing() -> None:
    incs = [Incremental.decode(d) for d in incrementals()]
    m = OSDMap()
    for inc in incs[:10]:
        m.apply_incremental(inc)
    before = m.encode()
    with pytest.raises(EpochGap) as info:
        m.apply_incremental(incs[11])
    assert (info.value.have, info.value.got) == (10, 12)
    with pytest.raises(EpochGap):
        m.apply_incremental(incs[9])  # an old one
    assert m.encode() == before
    for inc in incs[10:]:
        m.apply_incremental(inc)
    assert m.encode() == load("mon-final.osdmap")


def test_incremental_for_another_cluster_is_refused() -> None:
    incs = [Incremental.decode(d) for d in incrementals()]
    m = OSDMap()
    m.apply_incremental(incs[0])
    other = incs[1]
    other.fsid = uuid.UUID(int=1)
    with pytest.raises(FsidMismatch):
        m.apply_incremental(other)


def test_incremental_naming_osd_past_max_osd_changes_nothing() -> None:
    m = OSDMap.decode(load("mon-final.osdmap"))
    before = m.encode()
    bad = Incremental(fsid=m.fsid, epoch=m.epoch + 1, new_weight={m.max_osd: 0})
    with pytest.raises(DecodeError, match="new_weight"):
        m.apply_incremental(bad)
    bad = Incremental(fsid=m.fsid, epoch=m.epoch + 1, new_state={-1: CEPH_OSD_EXISTS})
    with pytest.raises(DecodeError):
        m.apply_incremental(bad)
    bad = Incremental(fsid=m.fsid, epoch=m.epoch + 1, new_max_osd=0x7FFFFFFF)
    with pytest.raises(DecodeError, match="new_max_osd"):
        m.apply_incremental(bad)
    assert m.encode() == before
    assert m.epoch == OSDMap.decode(before).epoch


def test_incremental_crc_is_checked() -> None:
    data = bytearray(incrementals()[20])
    data[30] ^= 0x10
    with pytest.raises(BadMapCrc):
        Incremental.decode(data)


def test_incremental_truncations_are_decode_errors() -> None:
    data = incrementals()[40]
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            Incremental.decode(data[:n])


def test_built_incremental_round_trips_and_applies() -> None:
    m = OSDMap.decode(load("mon-final.osdmap"))
    pool = m.pools[1]
    inc = Incremental(
        fsid=m.fsid, epoch=m.epoch + 1,
        new_pools={1: replace(pool, size=2)},
        new_pg_temp={PG(1, 2): (4, 1)}, new_primary_temp={PG(1, 3): 4},
        new_pg_upmap_items={PG(1, 9): ((0, 4),)}, old_pg_upmap=(PG(1, 0),),
        new_flags=m.flags | CEPH_OSDMAP_PAUSERD, new_primary_affinity={4: 0x8000},
        new_pool_names={1: "renamed"},
    )
    again = Incremental.decode(inc.encode())
    assert again.new_pools[1].size == 2
    assert again.new_pg_temp == {PG(1, 2): (4, 1)}
    m.apply_incremental(again)
    assert m.pools[1].size == 2
    assert m.pools[1].last_change == m.epoch
    assert m.pg_temp[PG(1, 2)] == (4, 1)
    assert m.primary_temp[PG(1, 3)] == 4
    assert PG(1, 0) not in m.pg_upmap
    assert m.pg_upmap_items[PG(1, 9)] == ((0, 4),)
    assert m.pauserd
    assert m.get_primary_affinity(4) == 0x8000
    assert m.lookup_pg_pool_name("renamed") == 1
    assert m.lookup_pg_pool_name("rp") == -2
    removal = Incremental(fsid=m.fsid, epoch=m.epoch + 1, new_pg_temp={PG(1, 2): ()},
                          new_primary_temp={PG(1, 3): -1}, old_pools=(1,))
    m.apply_incremental(Incremental.decode(removal.encode()))
    assert not m.pg_temp
    assert not m.primary_temp
    assert 1 not in m.pools
    assert OSDMap.decode(m.encode()).encode() == m.encode()


def test_release_comparisons_treat_0xff_as_unset() -> None:
    assert not release_ge(0xFF, 0)
    assert release_ge(0, 0)
    assert release_gt(CEPH_RELEASE_PACIFIC, 0)
    assert not release_gt(0xFF, 0)


def test_mosdmap_fronts_reencode_byte_identical() -> None:
    for path in sorted(DATA.glob("mon-osdmap-*.front")):
        front = path.read_bytes()
        header = MsgHeader(type=41, version=4, compat_version=3)
        m = MOSDMap.decode_payload(header, Reader(front), memoryview(b""), memoryview(b""))
        assert (m.first >= 1 and m.last == m.newest_map) or m.last <= m.newest_map
        m.encode_payload(0)
        assert m.front == front
        assert (m.version, m.compat_version) == (4, 3)


def test_mosdmap_through_the_message_registry() -> None:
    front = sorted(DATA.glob("mon-osdmap-*.front"))[0].read_bytes()
    header = MsgHeader(type=41, version=4, compat_version=3, front_len=len(front))
    m = decode_message(header, front)
    assert isinstance(m, MOSDMap)
    assert m.first == 1
    assert Incremental.decode(m.incremental_maps[1]).fullmap == load("mon-first.osdmap")


def test_mosdmap_older_header_versions() -> None:
    m = MOSDMap(fsid=uuid.UUID(int=7), incremental_maps={3: b"abc"}, maps={2: b"x"},
                oldest_map=1, newest_map=3)
    m.encode_payload(0)
    front = bytes(m.front)
    v1 = MOSDMap.decode_payload(MsgHeader(type=41, version=1), Reader(front[:-12]),
                                memoryview(b""), memoryview(b""))
    assert (v1.oldest_map, v1.newest_map, v1.maps) == (0, 0, {2: b"x"})
    v4 = MOSDMap.decode_payload(MsgHeader(type=41, version=4), Reader(front),
                                memoryview(b""), memoryview(b""))
    assert (v4.first, v4.last, v4.incremental_maps) == (2, 3, {3: b"abc"})
    with pytest.raises(DecodeError):
        MOSDMap.decode_payload(MsgHeader(type=41, version=4), Reader(front[:-1]),
                               memoryview(b""), memoryview(b""))
