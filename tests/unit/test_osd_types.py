"""Codecs of the small RADOS types (``asyncmsgr.osd.types``) against Ceph's layouts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from asyncmsgr.crush.hash import ceph_str_hash_rjenkins
from asyncmsgr.errors import DecodeError, IncompatibleEncoding
from asyncmsgr.osd.types import (
    CEPH_NOSNAP,
    PG,
    SPG,
    EVersion,
    HObject,
    ObjectLocator,
    OsdReqId,
    ceph_stable_mod,
    pg_num_mask,
    pull_eversion,
    pull_hobject,
    pull_object_locator,
    pull_osd_reqid,
    pull_pg,
    pull_spg,
    push_eversion,
    push_hobject,
    push_object_locator,
    push_osd_reqid,
    push_pg,
    push_spg,
    reverse_bits,
)
from asyncmsgr.types import EntityName, EntityType
from asyncmsgr.wire.buffer import Reader, Writer

T = TypeVar("T")


def _enc(push: Callable[[Writer, T], None], value: T) -> bytes:
    w = Writer()
    push(w, value)
    return w.getvalue()


def test_stable_mod_matches_the_definition() -> None:
    # pg_num 12: mask 15; seeds whose low 4 bits are >= 12 fold onto mask 7.
    assert pg_num_mask(12) == 15
    assert pg_num_mask(16) == 15
    assert pg_num_mask(17) == 31
    assert pg_num_mask(1) == 0
    got = [ceph_stable_mod(x, 12, 15) for x in range(16)]
    assert got == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 4, 5, 6, 7]
    assert all(ceph_stable_mod(x, 16, 15) == x & 15 for x in range(100))


def test_pg_bytes_print_parse_and_order() -> None:
    raw = _enc(push_pg, PG(1, 6))
    assert raw == bytes([1]) + (1).to_bytes(8, "little") + (6).to_bytes(4, "little") \
        + b"\xff\xff\xff\xff"
    assert pull_pg(Reader(raw)) == PG(1, 6)
    assert str(PG(3, 0x1F)) == "3.1f"
    assert PG.parse("3.1f") == PG(3, 0x1F)
    assert sorted([PG(2, 0), PG(1, 9), PG(1, 2)]) == [PG(1, 2), PG(1, 9), PG(2, 0)]
    for bad in ("3", "x.1", "3.", "3.zz"):
        with pytest.raises(ValueError):
            PG.parse(bad)
    with pytest.raises(DecodeError):
        pull_pg(Reader(b"\x02" + raw[1:]))
    with pytest.raises(DecodeError):
        pull_pg(Reader(raw[:-1]))


def test_spg_roundtrip_and_bounds() -> None:
    raw = _enc(push_spg, SPG(PG(2, 5), 1))
    assert raw[:6] == b"\x01\x01" + (18).to_bytes(4, "little")
    assert pull_spg(Reader(raw)) == SPG(PG(2, 5), 1)
    assert str(SPG(PG(2, 5), 1)) == "2.5s1"
    assert str(SPG(PG(2, 5))) == "2.5"
    # A declared length shorter than the body: the nested pg_t cannot read past it.
    short = raw[:2] + (10).to_bytes(4, "little") + raw[6:]
    with pytest.raises(DecodeError):
        pull_spg(Reader(short))


def test_object_locator_layout_and_rules() -> None:
    loc = ObjectLocator(7, key="", nspace="ns", hash=-1)
    raw = _enc(push_object_locator, loc)
    body = ((7).to_bytes(8, "little") + b"\xff\xff\xff\xff" + (0).to_bytes(4, "little")
            + (2).to_bytes(4, "little") + b"ns" + b"\xff" * 8)
    assert raw == b"\x06\x03" + len(body).to_bytes(4, "little") + body
    assert pull_object_locator(Reader(raw)) == loc
    hashed = ObjectLocator(7, hash=0x1234)
    raw_h = _enc(push_object_locator, hashed)
    assert raw_h[1] == 6  # compat raised so old decoders refuse it
    assert pull_object_locator(Reader(raw_h)) == hashed
    with pytest.raises(ValueError, match="both"):
        _enc(push_object_locator, ObjectLocator(7, key="k", hash=1))
    both = bytearray(_enc(push_object_locator, ObjectLocator(7, key="k")))
    both[-8:] = (5).to_bytes(8, "little")
    with pytest.raises(DecodeError, match="both"):
        pull_object_locator(Reader(bytes(both)))
    old = b"\x02\x02" + raw[2:]
    with pytest.raises(IncompatibleEncoding):
        pull_object_locator(Reader(old))


def test_object_locator_v5_has_no_hash() -> None:
    body = (3).to_bytes(8, "little") + b"\xff" * 4 + b"\0" * 4 + b"\0" * 4
    raw = b"\x05\x03" + len(body).to_bytes(4, "little") + body
    assert pull_object_locator(Reader(raw)) == ObjectLocator(3)


def test_reqid_and_eversion() -> None:
    reqid = OsdReqId(EntityName(EntityType.CLIENT, 4107), tid=9, inc=0)
    raw = _enc(push_osd_reqid, reqid)
    assert raw[:6] == b"\x02\x02" + (21).to_bytes(4, "little")
    assert pull_osd_reqid(Reader(raw)) == reqid
    assert str(reqid) == "client.4107.0:9"
    ev = EVersion(epoch=8, version=3)
    raw_ev = _enc(push_eversion, ev)
    assert raw_ev == (3).to_bytes(8, "little") + (8).to_bytes(4, "little")
    assert pull_eversion(Reader(raw_ev)) == ev
    assert EVersion(1, 9) < EVersion(2, 0)
    assert str(ev) == "8'3"


def test_hobject_roundtrip_print_and_hammer_min() -> None:
    h = HObject(oid="myobj", snap=CEPH_NOSNAP, hash=reverse_bits(0x61BC53C3), pool=1)
    assert str(h) == "1:61bc53c3:::myobj:head"
    assert pull_hobject(Reader(_enc(push_hobject, h))) == h
    assert str(HObject(oid="a:b/c%", nspace="n s", snap=5, pool=2)) == \
        "2:00000000:n%20s::a%3ab%2fc%25:5"
    assert str(HObject.min()) == "MIN"
    assert str(HObject.get_max()) == "MAX"
    hammer_min = bytearray(_enc(push_hobject, HObject()))
    hammer_min[-8:] = (-1).to_bytes(8, "little", signed=True)
    assert pull_hobject(Reader(bytes(hammer_min))) == HObject.min()


def test_reverse_bits() -> None:
    assert reverse_bits(1) == 0x80000000
    assert reverse_bits(0x80000000) == 1
    assert all(reverse_bits(reverse_bits(v)) == v for v in (0, 5, 0x12345678, 0xFFFFFFFF))


def test_hobject_of_an_object_seen_on_the_wire() -> None:
    # rados.md: `rados put myobj` in pool 1 logged `1.6 1:61bc53c3:::myobj:head`.
    h = ceph_str_hash_rjenkins(b"myobj")
    assert str(HObject(oid="myobj", snap=CEPH_NOSNAP, hash=h, pool=1)) == \
        "1:61bc53c3:::myobj:head"
    assert ceph_stable_mod(h, 8, pg_num_mask(8)) == 6
