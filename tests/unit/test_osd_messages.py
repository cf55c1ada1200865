"""RADOS messages: byte-identical re-encoding of every captured message, Ceph's printed
form, the older encodings Pacific still accepts, and bad input.

The captures are ``tests/data/captures/rados/*.pcap.gz`` (real ``rados`` against a
Pacific memstore OSD, see the README there), read through the decoder.
"""

from __future__ import annotations

import functools
import gzip
import uuid
from collections import Counter
from pathlib import Path
from typing import TypeVar

import pytest

from asyncmsgr.cli.main import main
from asyncmsgr.errors import EncodeError, MessageDecodeError
from asyncmsgr.features import CEPH_FEATURES_ALL, feature_mask
from asyncmsgr.message import Message, MsgHeader, decode_message
from asyncmsgr.messages import (
    MGetPoolStats,
    MGetPoolStatsReply,
    MOSDBackoff,
    MOSDOp,
    MOSDOpReply,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
    MWatchNotify,
)
from asyncmsgr.messages.osd_op import (
    EMPTY_REQID,
    NO_TRACE,
    BlkinTrace,
    RequestRedirect,
    push_trace,
)
from asyncmsgr.messages.pool import CephStatfs, PoolOp, RawStruct
from asyncmsgr.osd import ops
from asyncmsgr.osd.ops import BackoffOp, OsdFlag, WatchEvent, push_osd_op
from asyncmsgr.osd.types import (
    PG,
    SPG,
    EVersion,
    HObject,
    ObjectLocator,
    OsdReqId,
    push_eversion,
    push_osd_reqid,
    push_pg,
    push_spg,
)
from asyncmsgr.tools import decoder
from asyncmsgr.tools.decoder import decode_capture
from asyncmsgr.tools.keyed import KeySet
from asyncmsgr.tools.pcap import CaptureError
from asyncmsgr.types import EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer

RADOS = Path(__file__).resolve().parents[1] / "data" / "captures" / "rados"
ADMIN = "client.admin=AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="
MINE = (MOSDOp, MOSDOpReply, MWatchNotify, MOSDBackoff, MPoolOp, MPoolOpReply, MStatfs,
        MStatfsReply, MGetPoolStats, MGetPoolStatsReply)
CAPTURE_NAMES = sorted(p.name for p in RADOS.glob("*.pcap.gz"))
NO_RESEND = CEPH_FEATURES_ALL & ~feature_mask("RESEND_ON_SPLIT")
NO_NEW_OSDOP = NO_RESEND & ~feature_mask("NEW_OSDOP_ENCODING")
NO_NEW_REPLY = CEPH_FEATURES_ALL & ~feature_mask("NEW_OSDOPREPLY_ENCODING")


@functools.cache
def captured(name: str) -> list[tuple[int, str, Message]]:
    keys = KeySet()
    keys.add_key(ADMIN)
    report = decode_capture((RADOS / name).read_bytes(), keys, keep_messages=True)
    assert report.failed == 0, report.errors
    assert report.decoded is not None
    return report.decoded


def ours(name: str) -> list[Message]:
    return [m for _, _, m in captured(name) if isinstance(m, MINE)]


def describe(m: Message) -> str:
    """The message's printed form (every RADOS message class has ``describe``)."""
    text = getattr(m, "describe")()  # noqa: B009
    assert isinstance(text, str)
    return text


def header_of(m: Message) -> MsgHeader:
    return MsgHeader(type=m.type, version=m.version, compat_version=m.compat_version,
                     tid=m.tid, src=m.src)


def roundtrip(m: Message, features: int = CEPH_FEATURES_ALL) -> Message:
    m.prepare(features)
    return decode_message(header_of(m), m.front, m.middle, m.data, crc_flags=0)


# -- captures ------------------------------------------------------------------------------


def test_captures_are_all_here() -> None:
    assert len(CAPTURE_NAMES) == 9
    total = sum(p.stat().st_size for p in RADOS.glob("*.pcap.gz"))
    assert total < 400_000


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_every_captured_message_reencodes_byte_identically(name: str) -> None:
    seen = ours(name)
    assert seen, "no RADOS message in the capture"
    for m in seen:
        front, data, version = bytes(m.front), bytes(m.data), m.version
        m.encode_payload(CEPH_FEATURES_ALL)
        assert bytes(m.front) == front, describe(m)
        assert bytes(m.data) == data
        assert m.version == version


def test_captures_cover_every_client_message_type() -> None:
    count: Counter[str] = Counter()
    for name in CAPTURE_NAMES:
        count.update(type(m).__name__ for m in ours(name))
    assert count["MOSDOp"] == count["MOSDOpReply"] == 145
    for kind in ("MWatchNotify", "MPoolOp", "MPoolOpReply", "MStatfs", "MStatfsReply",
                 "MGetPoolStats", "MGetPoolStatsReply"):
        assert count[kind] >= 1, kind
    ops_seen = {op.name for name in CAPTURE_NAMES for m in ours(name)
                if isinstance(m, MOSDOp) for op in m.ops}
    assert ops_seen >= {"read", "stat", "write", "writefull", "append", "truncate", "create",
                        "delete", "getxattr", "getxattrs", "setxattr", "rmxattr",
                        "omap-get-keys", "omap-get-vals", "omap-get-vals-by-keys",
                        "omap-get-header", "omap-set-vals", "omap-set-header",
                        "omap-rm-keys", "omap-clear", "call", "pgnls", "watch", "notify",
                        "notify-ack", "list-watchers", "set-alloc-hint"}


def test_secure_capture_is_decrypted_to_the_osd() -> None:
    keys = KeySet()
    keys.add_key(ADMIN)
    report = decode_capture((RADOS / "v2-secure-object-io.pcap.gz").read_bytes(), keys)
    assert report.failed == 0
    assert report.secure_without_keys == 0
    assert report.by_type["OSD_OP"] == report.by_type["OSD_OPREPLY"] == 6
    assert report.keyed["gcm_failed"] == 0
    assert report.keyed["gcm_ok"] > 0
    authorizers = [r for r in report.records if "service ticket" in r.detail]
    assert authorizers, "the OSD authorizer was not checked"


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_cli_decodes_with_zero_failed_checks(name: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ring = tmp_path / "keyring"
    ring.write_text(f"[client.admin]\n\tkey = {ADMIN.split('=', 1)[1]}\n")
    assert main(["decode", str(RADOS / name), "--keyring", str(ring), "--json"]) == 0
    assert '"failed": 0' in capsys.readouterr().out


def test_printed_forms_match_cephs_log() -> None:
    names = ("v2-crc-object-io.pcap.gz", "v2-crc-watch-notify.pcap.gz",
             "v2-crc-pools-stats.pcap.gz")
    lines = [describe(m) for name in names for m in ours(name)]
    put = next(s for s in lines if "[writefull 0~12 in=12b]" in s)
    assert put.startswith("osd_op(client.")
    assert put.endswith(" 1.6 1:61bc53c3:::myobj:head [writefull 0~12 in=12b] snapc 0=[] "
                        "ondisk+write+known_if_redirected e10) v8")
    assert "osd_op_reply(1 myobj [writefull 0~12] v10'1 uv1 ondisk = 0) v8" in lines
    assert ("osd_op_reply(1 missing [stat] v0'0 uv0 ondisk = -2 "
            "((2) No such file or directory)) v8") in lines
    assert "osd_op_reply(1 myobj [read 0~12 out=12b] v0'0 uv1 ondisk = 0) v8" in lines
    assert any(s.startswith("watch-notify(notify (1) cookie ") and s.endswith(" ret 0) v3")
               for s in lines)
    assert "pool_op(create pool 0 tid 1 name capture-pool v0) v4" in lines
    assert "pool_op_reply(tid 1 (0) Success v11) v1" in lines
    assert "getpoolstats(1 [test] v0) v1" in lines
    assert "getpoolstatsreply(1 per_pool v1) v2" in lines
    assert "statfs_reply(2) v1" in lines


# -- hand-built messages and older encodings ---------------------------------------------


def sample_op() -> MOSDOp:
    m = MOSDOp(pgid=SPG(PG(1, 6)), hash=0xC3CA3D86, osdmap_epoch=10,
               flags=OsdFlag.ONDISK | OsdFlag.WRITE | OsdFlag.KNOWN_REDIR,
               mtime=UTime(100, 5), oloc=ObjectLocator(1, "", "ns"), oid="myobj",
               ops=[ops.set_alloc_hint(4096, 4096), ops.write(0, b"abc"),
                    ops.setxattr("k", b"v")],
               snap_seq=3, snaps=[3, 1], retry_attempt=0, features=CEPH_FEATURES_ALL,
               client_inc=2, trace=BlkinTrace(1, 2, 3))
    m.tid = 9
    m.src = EntityName(8, 4107)
    return m


def test_mosdop_v8_roundtrip_and_print() -> None:
    m = sample_op()
    back = roundtrip(m)
    assert isinstance(back, MOSDOp)
    assert back.version == 8
    assert back.compat_version == 3
    assert bytes(m.data) == b"abckv"
    for f in ("pgid", "hash", "osdmap_epoch", "flags", "mtime", "oloc", "oid", "snap_seq",
              "snaps", "retry_attempt", "features", "client_inc", "trace", "reqid"):
        assert getattr(back, f) == getattr(m, f), f
    assert [(o.op, bytes(o.indata)) for o in back.ops] == [
        (o.op, bytes(o.indata)) for o in m.ops]
    assert back.describe() == (
        "osd_op(client.4107.2:9 1.6 1:61bc53c3:ns::myobj:head [set-alloc-hint object_size "
        "4096 write_size 4096,write 0~3 in=3b,setxattr k (1) in=2b] snapc 3=[3,1] "
        "ondisk+write+known_if_redirected e10) v8")
    retry = sample_op()
    retry.flags |= OsdFlag.RETRY
    retry.retry_attempt = 2
    retry.reqid = OsdReqId(EntityName(8, 5), 77, 1)
    assert " RETRY=2 " in retry.describe()
    assert retry.describe().startswith("osd_op(client.5.1:77 ")


def _field_by_field_v8(m: MOSDOp) -> bytes:
    """MOSDOp v8 front written with the Writer, field by field (the reference)."""
    w = Writer()
    push_spg(w, m.pgid)
    w.push_u32(m.hash)
    w.push_u32(m.osdmap_epoch)
    w.push_u32(m.flags)
    push_osd_reqid(w, m.reqid)
    push_trace(w, m.trace)
    m._push_v7_tail(w)
    return w.getvalue()


def _field_by_field_reply_v8(r: MOSDOpReply) -> bytes:
    w = Writer()
    w.push_string(r.oid)
    push_pg(w, r.pgid)
    w.push_s64(r.flags)
    w.push_s32(r.result)
    push_eversion(w, r.bad_replay_version)
    w.push_u32(r.osdmap_epoch)
    w.push_u32(len(r.ops))
    for op in r.ops:
        push_osd_op(w, op, len(op.outdata))
    w.push_s32(r.retry_attempt)
    for op in r.ops:
        w.push_s32(op.rval)
    push_eversion(w, r.replay_version)
    w.push_u64(r.user_version)
    w.push_bool(False)
    push_trace(w, r.trace)
    return w.getvalue()


def test_packed_v8_fronts_equal_the_field_by_field_writers() -> None:
    """The cached whole-front packers write what the Writer writes, for many shapes."""
    for key, nspace, hash_, snaps, nops, oid in (
            ("", "", -1, [], 1, "o"), ("", "ns", -1, [3, 1], 3, "myobj"),
            ("k\udcff", "", -1, [7], 0, "x" * 300), ("", "n", 0x1234, [], 2, "é")):
        m = sample_op()
        m.oloc = ObjectLocator(5, key, nspace, hash_)
        m.snaps = snaps
        m.oid = oid
        m.ops = (m.ops * 2)[:nops]
        m.pgid = SPG(PG(1 << 40, 6), 2)
        for reqid, trace in ((OsdReqId(EntityName(8, 99), 12, 3), BlkinTrace(1, 2, 3)),
                             (EMPTY_REQID, NO_TRACE)):  # a client's (its own fast path)
            m.reqid, m.trace = reqid, trace
            m.encode_payload(CEPH_FEATURES_ALL)
            assert bytes(m.front) == _field_by_field_v8(m), (key, nspace, snaps, nops)
        r = sample_reply()
        r.oid = oid
        r.ops = (r.ops * 2)[:nops]
        r.trace = BlkinTrace(4, 5, 6)
        r.encode_payload(CEPH_FEATURES_ALL)
        assert bytes(r.front) == _field_by_field_reply_v8(r)


_M = TypeVar("_M")


def _with(m: _M, **change: object) -> _M:
    for name, value in change.items():
        setattr(m, name, value)
    return m


def test_packed_v8_fronts_refuse_what_they_cannot_encode() -> None:
    for change in ({"hash": -1}, {"osdmap_epoch": 1 << 32}, {"oid": "\ud800"},
                   {"oloc": ObjectLocator(1, "\ud800")}, {"snaps": [-1]},
                   {"ops": [ops.stat()] * (1 << 16)}):
        m = _with(sample_op(), **change)
        with pytest.raises(EncodeError):
            m.encode_payload(CEPH_FEATURES_ALL)
    with pytest.raises(ValueError, match="both a key and a hash"):
        _with(sample_op(), oloc=ObjectLocator(1, "k", "", 5)).encode_payload(
            CEPH_FEATURES_ALL)
    for rchange in ({"result": 1 << 31}, {"oid": "\ud800"}, {"user_version": -1},
                    {"ops": [ops.stat()] * (1 << 16)}):
        r = _with(sample_reply(), **rchange)
        with pytest.raises(EncodeError):
            r.encode_payload(CEPH_FEATURES_ALL)


@pytest.mark.parametrize(("features", "version"), [(NO_RESEND, 7), (NO_NEW_OSDOP, 6)])
def test_mosdop_older_encodings(features: int, version: int) -> None:
    m = sample_op()
    m.pgid = SPG(PG(1, m.hash))  # v6/v7 carry the raw pg: the seed is the full hash
    back = roundtrip(m, features)
    assert isinstance(back, MOSDOp)
    assert back.version == version
    assert back.hash == m.hash
    assert back.pgid == SPG(PG(1, m.hash))
    assert (back.oid, back.oloc, back.snaps, back.features) == (m.oid, m.oloc, m.snaps,
                                                                m.features)
    assert back.trace == BlkinTrace()  # not sent before v8
    assert [bytes(o.indata) for o in back.ops] == [b"", b"abc", b"kv"]
    m.encode_payload(features)
    again = bytes(m.front)
    back.encode_payload(features)
    assert bytes(back.front) == again


@pytest.mark.parametrize(("version", "cut", "retry", "features"), [
    (5, 27, 0, CEPH_FEATURES_ALL),  # no reqid (6 + 21 bytes)
    (4, 35, 0, 0),  # and no features
    (3, 39, -1, 0),  # and no retry_attempt
])
def test_mosdop_v3_to_v5_decode(version: int, cut: int, retry: int, features: int) -> None:
    m = sample_op()
    m.reqid = OsdReqId(EntityName(8, 1), 2, 3)
    m.encode_payload(NO_NEW_OSDOP)
    front = bytes(m.front)[:-cut]  # drop exactly the fields newer than `version`
    h = MsgHeader(type=42, version=version, compat_version=3, tid=9)
    back = decode_message(h, front, b"", m.data, crc_flags=0)
    assert isinstance(back, MOSDOp)
    assert (back.retry_attempt, back.features) == (retry, features)
    assert back.reqid.tid == 0
    assert back.oid == "myobj"
    with pytest.raises(MessageDecodeError):  # and nothing less
        decode_message(h, front[:-1], b"", m.data, crc_flags=0)


def test_mosdop_v2_old_pg_and_v1_refused() -> None:
    m = sample_op()
    m.encode_payload(NO_NEW_OSDOP)
    front = bytearray(m.front)
    # v2: the pg is a raw 8-byte ceph_pg (le16 preferred, le16 ps, le32 pool), as in Ceph
    pg_at = 4 + 4 + 4 + 8 + 12 + (6 + 28 + 2)  # after inc, epoch, flags, mtime, reassert, oloc
    old = bytes.fromhex("ffff" "0600" "01000000")
    v2 = bytes(front[:pg_at]) + old + bytes(front[pg_at + 17:-(8 + 4 + 21 + 6)])
    back = decode_message(MsgHeader(type=42, version=2), v2, b"", m.data, crc_flags=0)
    assert isinstance(back, MOSDOp)
    assert back.pgid == SPG(PG(1, 6))
    assert back.oid == "myobj"
    with pytest.raises(MessageDecodeError, match="pre-Argonaut"):
        decode_message(MsgHeader(type=42, version=1), v2, crc_flags=0)
    with pytest.raises(EncodeError):
        sample_op().encode_payload(0)


def sample_reply() -> MOSDOpReply:
    r = MOSDOpReply(oid="myobj", pgid=PG(1, 6), flags=0x400025, result=0,
                    bad_replay_version=EVersion(10, 1), osdmap_epoch=10,
                    ops=[ops.stat().with_outdata(b"s" * 16), ops.read(0, 3).with_outdata(b"xyz"),
                         ops.getxattr("k").with_outdata(b"", rval=-61)],
                    retry_attempt=0, replay_version=EVersion(10, 1), user_version=1)
    r.tid = 4
    return r


def test_mosdopreply_roundtrip_and_redirect() -> None:
    r = sample_reply()
    back = roundtrip(r)
    assert isinstance(back, MOSDOpReply)
    assert back.version == 8
    assert [(o.op, bytes(o.outdata), o.rval) for o in back.ops] == [
        (o.op, bytes(o.outdata), o.rval) for o in r.ops]
    assert back.redirect is None
    assert back.describe() == ("osd_op_reply(4 myobj [stat out=16b,read 0~3 out=3b,getxattr] "
                               "v10'1 uv1 ondisk = 0) v8")
    r.redirect = RequestRedirect(ObjectLocator(7, "", "n"), "elsewhere")
    back = roundtrip(r)
    assert isinstance(back, MOSDOpReply)
    assert back.redirect == r.redirect
    assert "redirect: { object elsewhere, locator{@7;n} }" in back.describe()
    r.redirect = None
    v6 = roundtrip(r, NO_NEW_REPLY)
    assert isinstance(v6, MOSDOpReply)
    assert v6.version == 6
    assert v6.redirect is None
    v6.encode_payload(NO_NEW_REPLY)
    assert bytes(v6.front) == bytes(r.front)
    with pytest.raises(EncodeError):
        sample_reply().encode_payload(0)


def _reply_fields(m: MOSDOpReply) -> tuple[object, ...]:
    return (m.oid, m.pgid, m.flags, m.result, m.bad_replay_version, m.osdmap_epoch,
            [(o.op, o.flags, o.args, bytes(o.outdata), o.rval) for o in m.ops],
            m.retry_attempt, m.replay_version, m.user_version, m.redirect, m.trace)


def test_mosdopreply_whole_front_unpack_equals_the_stepwise_decoder() -> None:
    """A v8 front without a redirect is unpacked in one go; with a trailing byte
    (ignored, as Ceph does) the same front goes field by field: same message."""
    for nops, oid, trace in ((0, "", NO_TRACE), (1, "o", BlkinTrace(1, 2, 3)),
                             (3, "é" * 40, NO_TRACE), (16, "x", NO_TRACE),
                             (17, "many", NO_TRACE)):
        r = sample_reply()
        r.oid = oid
        r.trace = trace
        r.ops = (r.ops * 6)[:nops]
        r.prepare(CEPH_FEATURES_ALL)
        front, data = bytes(r.front), bytes(r.data)
        whole = MOSDOpReply.decode_payload(header_of(r), Reader(front), memoryview(b""),
                                           memoryview(data))
        stepwise = MOSDOpReply.decode_payload(header_of(r), Reader(front + b"\0"),
                                              memoryview(b""), memoryview(data))
        assert _reply_fields(whole) == _reply_fields(stepwise) == _reply_fields(r), nops
    # a pg_t of another version is refused whichever way the front is read
    r = sample_reply()
    r.prepare(CEPH_FEATURES_ALL)
    bad = bytearray(r.front)
    bad[4 + len(r.oid)] = 2
    with pytest.raises(MessageDecodeError, match="pg_t"):
        decode_message(header_of(r), bytes(bad), b"", r.data, crc_flags=0)
    # op payloads beyond the data segment, on the one-unpack path
    with pytest.raises(MessageDecodeError, match="exceed the data segment"):
        decode_message(header_of(r), r.front, b"", bytes(r.data)[:-1], crc_flags=0)


def test_mosdopreply_v2_to_v5() -> None:
    r = sample_reply()
    r.encode_payload(CEPH_FEATURES_ALL)
    front = bytes(r.front)
    tail = 12 + 8 + 1 + 24  # replay_version, user_version, do_redirect, trace
    v5 = front[:-(1 + 24)]
    back = decode_message(MsgHeader(type=43, version=5), v5, b"", r.data, crc_flags=0)
    assert isinstance(back, MOSDOpReply)
    assert back.user_version == 1
    assert bytes(back.ops[1].outdata) == b"xyz"
    v3 = front[:-(tail + 4 * 3)]
    back = decode_message(MsgHeader(type=43, version=3), v3, b"", b"", crc_flags=0)
    assert isinstance(back, MOSDOpReply)
    assert back.replay_version == EVersion(10, 1)
    assert back.user_version == 1
    assert back.ops[0].rval == 0
    assert not len(back.ops[0].outdata)
    with pytest.raises(MessageDecodeError, match="pre-PGID64"):
        decode_message(MsgHeader(type=43, version=1), front, crc_flags=0)


def test_mwatchnotify_versions() -> None:
    m = MWatchNotify(opcode=WatchEvent.NOTIFY_COMPLETE, cookie=5, ver=14, notify_id=9,
                     bl=b"", return_code=-110, notifier_gid=4223, data=b"\0" * 8)
    back = roundtrip(m)
    assert isinstance(back, MWatchNotify)
    assert (back.return_code, back.notifier_gid, bytes(back.data)) == (-110, 4223, b"\0" * 8)
    assert back.describe() == "watch-notify(notify_complete (2) cookie 5 notify 9 ret -110) v3"
    v1 = decode_message(MsgHeader(type=44, version=1), bytes(m.front)[:-12], crc_flags=0)
    assert isinstance(v1, MWatchNotify)
    assert (v1.return_code, v1.notifier_gid) == (0, 0)
    v0 = decode_message(MsgHeader(type=44, version=1), b"\x00\x01" + bytes(24), crc_flags=0)
    assert isinstance(v0, MWatchNotify)
    assert v0.bl == b""
    assert v0.msg_ver == 0


def test_mosdbackoff_roundtrip() -> None:
    obj = HObject("o", "", 2**64 - 2, 0xC3CA3D86, False, "", 1)
    m = MOSDBackoff(pgid=SPG(PG(1, 6)), map_epoch=9, op=BackoffOp.BLOCK, id=3, begin=obj,
                    end=obj)
    back = roundtrip(m)
    assert isinstance(back, MOSDBackoff)
    assert (back.pgid, back.map_epoch, back.op, back.id, back.begin, back.end) == (
        m.pgid, 9, BackoffOp.BLOCK, 3, obj, obj)
    assert back.describe() == ("osd_backoff(1.6 block id 3 [1:61bc53c3:::o:head,"
                               "1:61bc53c3:::o:head) e9) v1")


def test_pool_and_stats_messages() -> None:
    fsid = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
    op = MPoolOp(fsid=fsid, pool=3, op=PoolOp.DELETE, name="delete", crush_rule=-1)
    back = roundtrip(op)
    assert isinstance(back, MPoolOp)
    assert (back.pool, back.op, back.crush_rule) == (3, 2, -1)
    front = bytes(op.front)
    v3 = decode_message(MsgHeader(type=49, version=3), front[:-2], crc_flags=0)
    assert isinstance(v3, MPoolOp)
    assert v3.crush_rule == 0
    assert v3.name == "delete"
    v2 = decode_message(MsgHeader(type=49, version=2), front[:-3], crc_flags=0)
    assert isinstance(v2, MPoolOp)
    assert v2.crush_rule == -1
    # v1: the name right after the pool id
    head = front[:18 + 16 + 4]
    v1_front = head + b"\x06\0\0\0delete" + front[38:38 + 20]
    v1 = decode_message(MsgHeader(type=49, version=1), v1_front, crc_flags=0)
    assert isinstance(v1, MPoolOp)
    assert (v1.name, v1.op) == ("delete", 2)
    reply = MPoolOpReply(fsid=fsid, reply_code=-17, epoch=12, response_data=b"\x05")
    back = roundtrip(reply)
    assert isinstance(back, MPoolOpReply)
    assert (back.reply_code, back.epoch, back.response_data) == (-17, 12, b"\x05")
    assert "(17) File exists" in back.describe()
    st = roundtrip(MStatfs(fsid=fsid, data_pool=4))
    assert isinstance(st, MStatfs)
    assert st.data_pool == 4
    old = decode_message(MsgHeader(type=13, version=1), bytes(st.front)[:-9], crc_flags=0)
    assert isinstance(old, MStatfs)
    assert old.data_pool is None
    sr = roundtrip(MStatfsReply(fsid=fsid, map_version=7, st=CephStatfs(1, 2, 3, 4)))
    assert isinstance(sr, MStatfsReply)
    assert sr.st == CephStatfs(1, 2, 3, 4)
    assert len(sr.front) == 56
    gp = roundtrip(MGetPoolStats(fsid=fsid, pools=["a", "b"]))
    assert isinstance(gp, MGetPoolStats)
    assert gp.pools == ["a", "b"]
    stats = {"b": RawStruct(7, 5, b"\x01\x02"), "a": RawStruct(7, 5, b"")}
    gr = roundtrip(MGetPoolStatsReply(fsid=fsid, pool_stats=stats, per_pool=True))
    assert isinstance(gr, MGetPoolStatsReply)
    assert gr.pool_stats == stats
    assert gr.per_pool
    old_gr = decode_message(MsgHeader(type=59, version=1), bytes(gr.front)[:-1], crc_flags=0)
    assert isinstance(old_gr, MGetPoolStatsReply)
    assert not old_gr.per_pool


# -- bad input -----------------------------------------------------------------------------


def _one_of_each() -> list[Message]:
    out: dict[tuple[str, int], Message] = {}
    for name in CAPTURE_NAMES:
        for m in ours(name):
            out.setdefault((type(m).__name__, len(m.front)), m)
    return list(out.values())


@pytest.mark.parametrize("m", _one_of_each(), ids=lambda m: f"{type(m).__name__}-{len(m.front)}")
def test_every_truncated_front_is_a_typed_error(m: Message) -> None:
    front = bytes(m.front)
    h = header_of(m)
    for cut in range(len(front)):
        with pytest.raises(MessageDecodeError):
            decode_message(h, front[:cut], b"", m.data, crc_flags=0)


def test_op_payload_beyond_the_data_segment() -> None:
    m = sample_op()
    m.prepare(CEPH_FEATURES_ALL)
    with pytest.raises(MessageDecodeError, match="exceed the data segment"):
        decode_message(header_of(m), m.front, b"", bytes(m.data)[:-1], crc_flags=0)
    r = sample_reply()
    r.prepare(CEPH_FEATURES_ALL)
    with pytest.raises(MessageDecodeError, match="exceed the data segment"):
        decode_message(header_of(r), r.front, b"", b"", crc_flags=0)


def test_counts_beyond_the_bytes() -> None:
    m = sample_op()
    m.prepare(CEPH_FEATURES_ALL)
    front = bytearray(m.front)
    at = front.index(b"myobj") + 5  # u16 num_ops follows the name
    front[at:at + 2] = b"\xff\xff"
    with pytest.raises(MessageDecodeError, match="ops need"):
        decode_message(header_of(m), bytes(front), b"", m.data, crc_flags=0)
    front = bytearray(m.front)
    snaps_at = len(front) - (8 + 4 + 4 + 8 + 8)  # count, 2 snaps follow
    front[snaps_at:snaps_at + 4] = b"\xff\xff\xff\x0f"
    with pytest.raises(MessageDecodeError, match="count"):
        decode_message(header_of(m), bytes(front), b"", m.data, crc_flags=0)
    r = sample_reply()
    r.prepare(CEPH_FEATURES_ALL)
    front = bytearray(r.front)
    n_at = 4 + 5 + 17 + 8 + 4 + 12 + 4
    front[n_at:n_at + 4] = b"\x00\x00\x01\x00"
    with pytest.raises(MessageDecodeError):
        decode_message(header_of(r), bytes(front), b"", r.data, crc_flags=0)


def test_gzipped_capture_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (RADOS / "v2-crc-pools-stats.pcap.gz").read_bytes()
    assert decoder.gunzip_capture(data) == gzip.decompress(data)
    assert decoder.gunzip_capture(b"\xd4\xc3\xb2\xa1rest") == b"\xd4\xc3\xb2\xa1rest"
    with pytest.raises(CaptureError, match="truncated"):
        decode_capture(data[: len(data) // 2])
    with pytest.raises(CaptureError, match="bad gzip"):
        decode_capture(data[:10] + b"\xff" * 40)
    monkeypatch.setattr(decoder, "MAX_GUNZIPPED", 1000)
    with pytest.raises(CaptureError, match="expands beyond"):
        decode_capture(data)
