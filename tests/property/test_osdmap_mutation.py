"""Corrupted OSDMaps, incrementals and MOSDMaps: a typed DecodeError or a map, never a crash.

Each real map from ``tests/data/osdmap`` is mutated (bytes flipped, inserted,
deleted), then its crc is recomputed so the decoder, not only the crc check,
meets the damage. A map that still decodes must re-encode to a fixed point.
"""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncmsgr.errors import DecodeError, EncodeError
from asyncmsgr.message import MsgHeader
from asyncmsgr.messages import MOSDMap
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.osdmap import EpochGap, OSDMap
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.crc32c import ceph_crc32c

DATA = Path(__file__).resolve().parents[1] / "data" / "osdmap"
FULL = [(DATA / n).read_bytes() for n in ("simple3.osdmap", "mon-final.osdmap",
                                           "injected.osdmap")]
FRONTS = [p.read_bytes() for p in sorted(DATA.glob("mon-osdmap-*.front"))]


def _incs() -> list[bytes]:
    out: list[bytes] = []
    for front in FRONTS:
        m = MOSDMap.decode_payload(MsgHeader(type=41, version=4), Reader(front),
                                   memoryview(b""), memoryview(b""))
        out.extend(m.incremental_maps[e] for e in sorted(m.incremental_maps))
    return out


INCS = _incs()

mutations = st.lists(
    st.tuples(st.sampled_from(["flip", "set", "insert", "delete"]),
              st.integers(0, 1 << 20), st.integers(0, 255)),
    min_size=1, max_size=4)


def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytearray:
    buf = bytearray(data)
    for op, pos, value in edits:
        i = pos % (len(buf) + 1)
        if op == "insert":
            buf[i:i] = bytes([value])
        elif i < len(buf):
            if op == "flip":
                buf[i] ^= 1 << (value % 8)
            elif op == "set":
                buf[i] = value
            else:
                del buf[i]
    return buf


def fix_full_crc(buf: bytearray) -> None:
    """The full map's crc is its last four bytes: recompute it over the rest."""
    if len(buf) >= 4:
        struct.pack_into("<I", buf, len(buf) - 4, ceph_crc32c(0xFFFFFFFF, bytes(buf[:-4])))


def fix_inc_crc(buf: bytearray) -> None:
    """An incremental ends with inc_crc, full_crc: the crc covers all but those 8
    bytes, then the last four."""
    if len(buf) >= 8:
        crc = ceph_crc32c(0xFFFFFFFF, bytes(buf[:-8]))
        crc = ceph_crc32c(crc, bytes(buf[-4:]))
        struct.pack_into("<I", buf, len(buf) - 8, crc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(FULL))), mutations, st.booleans())
def test_mutated_full_maps(which: int, edits: list[tuple[str, int, int]], fix: bool) -> None:
    buf = mutate(FULL[which], edits)
    if fix:
        fix_full_crc(buf)
    try:
        m = OSDMap.decode(bytes(buf))
    except DecodeError:
        return
    try:
        once = m.encode()
    except EncodeError:
        return  # e.g. a flag set no encoder version can carry
    assert OSDMap.decode(once).encode() == once


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(INCS))), mutations, st.booleans())
def test_mutated_incrementals(which: int, edits: list[tuple[str, int, int]],
                              fix: bool) -> None:
    buf = mutate(INCS[which], edits)
    if fix:
        fix_inc_crc(buf)
    try:
        inc = Incremental.decode(bytes(buf))
    except DecodeError:
        return
    try:
        once = inc.encode()
    except EncodeError:
        return  # e.g. a mutated encode_features naming a pre-Luminous encoding
    assert Incremental.decode(once).encode() == once


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(range(len(FRONTS))), mutations)
def test_mutated_mosdmap_fronts(which: int, edits: list[tuple[str, int, int]]) -> None:
    buf = mutate(FRONTS[which], edits)
    try:
        m = MOSDMap.decode_payload(MsgHeader(type=41, version=4), Reader(bytes(buf)),
                                   memoryview(b""), memoryview(b""))
    except DecodeError:
        return
    m.encode_payload(0)
    assert isinstance(m.front, bytes)


@settings(max_examples=100, deadline=None)
@given(mutations)
def test_applying_mutated_incrementals_never_crashes(edits: list[tuple[str, int, int]]) -> None:
    """Apply the real sequence with one damaged (crc fixed) incremental in it: every
    failure is a DecodeError or an EpochGap (a damaged epoch number)."""
    m = OSDMap()
    target = 1 + edits[0][1] % (len(INCS) - 1)
    for i, data in enumerate(INCS):
        buf = bytearray(data)
        if i == target:
            buf = mutate(data, edits)
            fix_inc_crc(buf)
        try:
            m.apply_incremental(Incremental.decode(bytes(buf)))
        except (DecodeError, EpochGap):
            return
