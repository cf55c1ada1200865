"""The Objecter's pre-encoded MOSDOp (``asyncmsgr.osdc.wire``) is MOSDOp byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncmsgr.errors import EncodeError
from asyncmsgr.features import CEPH_FEATURES_ALL, feature_mask
from asyncmsgr.messages import MOSDOp
from asyncmsgr.messages.osd_op import EMPTY_REQID
from asyncmsgr.osd import ops
from asyncmsgr.osd.ops import OsdFlag
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, SPG, HObject, ObjectLocator, OsdReqId
from asyncmsgr.osdc.wire import FastMOSDOp, encode_mid
from asyncmsgr.types import EntityName, UTime

NO_RESEND = CEPH_FEATURES_ALL & ~feature_mask("RESEND_ON_SPLIT")


def _pair(**kw: object) -> tuple[MOSDOp, FastMOSDOp]:
    ref = MOSDOp(**kw)  # type: ignore[arg-type]
    mid = encode_mid(ref.client_inc, ref.mtime, ref.oloc, ref.oid, ref.ops, ref.snapid,
                     ref.snap_seq, ref.snaps)
    fast = FastMOSDOp(mid=mid, **kw)
    return ref, fast


def _encoded(m: MOSDOp, features: int = CEPH_FEATURES_ALL) -> tuple[bytes, bytes, int]:
    m.encode_payload(features)
    return bytes(m.front), bytes(m.data), m.version


BASE = {
    "pgid": SPG(PG(1, 6)), "hash": 0xC3CA3D86, "osdmap_epoch": 10,
    "flags": int(OsdFlag.ONDISK | OsdFlag.WRITE | OsdFlag.KNOWN_REDIR),
    "client_inc": 0, "mtime": UTime(1700000000, 123), "oloc": ObjectLocator(1),
    "oid": "myobj", "retry_attempt": 0, "features": CEPH_FEATURES_ALL,
}


def test_writefull_matches_mosdop() -> None:
    ref, fast = _pair(**BASE, ops=[ops.writefull(b"hello world\n")])
    assert _encoded(fast) == _encoded(ref)
    assert len(fast.front) == 214  # the captured rados put (rados.md)


def test_several_ops_namespace_key_snaps_retry() -> None:
    kw = dict(BASE, oloc=ObjectLocator(7, "lockey", "ns1"), retry_attempt=3,
              snapid=CEPH_NOSNAP, snap_seq=9, snaps=[9, 5, 2], pgid=SPG(PG(7, 3), 2))
    ref, fast = _pair(**kw, ops=[ops.set_alloc_hint(4 << 20, 4096), ops.write(10, b"x" * 33),
                                 ops.setxattr("a", b"b"), ops.omap_set({"k": b"v"})])
    assert _encoded(fast) == _encoded(ref)


def test_pg_op_with_locator_hash() -> None:
    kw = dict(BASE, oid="", oloc=ObjectLocator(3, "", "\x01", 5),
              flags=int(OsdFlag.READ | OsdFlag.PGOP | OsdFlag.IGNORE_OVERLAY))
    ref, fast = _pair(**kw, ops=[ops.pgnls(100, HObject(), 10)])
    assert _encoded(fast) == _encoded(ref)


def test_old_peer_and_explicit_reqid_use_the_field_encoder() -> None:
    ref, fast = _pair(**BASE, ops=[ops.read(0, 10)])
    assert _encoded(fast, NO_RESEND) == _encoded(ref, NO_RESEND)
    assert fast.version == 7
    reqid = OsdReqId(EntityName(8, 4100), 12, 0)
    ref, fast = _pair(**dict(BASE, reqid=reqid), ops=[ops.read(0, 10)])
    assert _encoded(fast) == _encoded(ref)
    assert fast.reqid != EMPTY_REQID


def test_bad_input_is_an_encode_error() -> None:
    with pytest.raises(EncodeError):
        encode_mid(0, UTime(), ObjectLocator(1), "\udcff\ud800", [], CEPH_NOSNAP, 0, [])
    with pytest.raises(ValueError, match="both a key and a hash"):
        encode_mid(0, UTime(), ObjectLocator(1, "k", "", 4), "", [], CEPH_NOSNAP, 0, [])


@settings(max_examples=200, deadline=None)
@given(oid=st.text(max_size=40), key=st.text(max_size=10), nspace=st.text(max_size=10),
       pool=st.integers(0, 1 << 40), seed=st.integers(0, 2**32 - 1),
       h=st.integers(0, 2**32 - 1), epoch=st.integers(0, 2**32 - 1),
       retry=st.integers(-1, 1000), payloads=st.lists(st.binary(max_size=50), max_size=4),
       snaps=st.lists(st.integers(0, 2**64 - 1), max_size=3),
       mtime=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 999_999_999)))
def test_any_op_matches_mosdop(oid: str, key: str, nspace: str, pool: int, seed: int,
                               h: int, epoch: int, retry: int, payloads: list[bytes],
                               snaps: list[int], mtime: tuple[int, int]) -> None:
    try:
        oid.encode("utf-8", "surrogateescape")
        key.encode("utf-8", "surrogateescape")
        nspace.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return
    kw = dict(BASE, oid=oid, oloc=ObjectLocator(pool, key, nspace), pgid=SPG(PG(pool, seed)),
              hash=h, osdmap_epoch=epoch, retry_attempt=retry, snaps=snaps,
              mtime=UTime(*mtime))
    ref, fast = _pair(**kw, ops=[ops.append(p) for p in payloads])
    assert _encoded(fast) == _encoded(ref)
