"""The fake OSD's op executor, without sockets: Ceph's semantics, errnos and reply layout.

The strongest check replays the real ``rados`` traffic of ``tests/data/captures/rados``
(Pacific 16.2.15, one memstore OSD): every captured MOSDOp, in capture order, runs
against a fresh in-memory store, and each reply must equal the real OSD's reply
field by field (flags, result, per-op rvals and arguments, output bytes, replay and
user versions) -- and encode to the same front bytes. The rest covers what the
captures do not (compound-op atomicity, FAILOK, paging, comparisons, bounds).
"""

from __future__ import annotations

import errno
import functools
import re
from pathlib import Path

import pytest

from asyncmsgr.errors import MessageDecodeError
from asyncmsgr.features import CEPH_FEATURES_ALL, feature_mask
from asyncmsgr.message import Message, MsgHeader, RawMessage, decode_message
from asyncmsgr.messages import MOSDOp, MOSDOpReply
from asyncmsgr.osd import ops
from asyncmsgr.osd.op_codes import CmpXattrMode, CmpXattrOp, OsdFlag, OsdOpCode, OsdOpFlag
from asyncmsgr.osd.op_data import (
    LIBRADOS_ALL_NSPACES,
    decode_omap_keys,
    decode_omap_vals,
    decode_pgnls,
    decode_stat,
    decode_xattrs,
)
from asyncmsgr.osd.ops import OSDOp
from asyncmsgr.osd.pool import PgPool
from asyncmsgr.osd.types import PG, SPG, EVersion, HObject, ObjectLocator
from asyncmsgr.testing.fake_osd_ops import (
    MAX_ERRNO,
    OSD_MAX_OBJECT_SIZE,
    OpContext,
    OpError,
    execute,
)
from asyncmsgr.testing.fake_osd_reply import execute_pg_op, reply_front
from asyncmsgr.testing.fake_store import ObjectKey, ObjectStore, pg_hobj_end, pg_hobj_start
from asyncmsgr.tools.decoder import decode_capture
from asyncmsgr.tools.keyed import KeySet
from asyncmsgr.types import UTime
from asyncmsgr.wire.buffer import Reader, Writer

RADOS = Path(__file__).resolve().parents[1] / "data" / "captures" / "rados"
ADMIN = "client.admin=AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="
POOL = PgPool(size=1, pg_num=8, pgp_num=8, flags=1)
EPOCH = 10
NOW = UTime(1_800_000_000, 0)
WRITE = int(OsdFlag.WRITE | OsdFlag.ONDISK)
READ = int(OsdFlag.READ | OsdFlag.ONDISK)


class Hooks:
    """OpHooks for tests: watches remembered, notify ids counted, classes given."""

    def __init__(self) -> None:
        self.watches: set[tuple[int, int]] = set()
        self.notifies = 0
        self.cls: dict[tuple[str, str], tuple[bool, bytes]] = {}

    def do_watch(self, ctx: OpContext, op: OSDOp) -> None:
        w = op.watch
        if w.op == 0:
            self.watches.discard((ctx.m.src.num, w.cookie))
        elif w.op == 7 and (ctx.m.src.num, w.cookie) not in self.watches:
            raise OpError(-errno.ENOTCONN)
        else:
            self.watches.add((ctx.m.src.num, w.cookie))

    def do_notify(self, ctx: OpContext, op: OSDOp) -> bytes:
        nid = (ctx.epoch << 32) | self.notifies
        self.notifies += 1
        return nid.to_bytes(8, "little")

    def do_notify_ack(self, ctx: OpContext, op: OSDOp) -> None:
        pass

    def list_watchers(self, ctx: OpContext) -> bytes:
        return b"\x01\x01\x04\x00\x00\x00\x00\x00\x00\x00"  # obj_list_watch_response_t, empty

    def call(self, ctx: OpContext, cls: str, method: str, indata: bytes) -> bytes:
        entry = self.cls.get((cls, method))
        if entry is None:
            raise OpError(-errno.EOPNOTSUPP)
        if entry[0]:
            ctx.create()
            ctx.modified = True
        return entry[1]

    def is_write_call(self, cls: str, method: str) -> bool:
        entry = self.cls.get((cls, method))
        return entry is not None and entry[0]


def decode_reply(raw: Message) -> MOSDOpReply:
    """What a client decodes from the fake's reply."""
    assert isinstance(raw, RawMessage)
    assert (raw.type, raw.version, raw.compat_version, raw.priority) == (43, 8, 2, 127)
    hdr = MsgHeader(type=43, version=8, compat_version=2, tid=raw.tid,
                    front_len=len(raw.front), data_len=len(raw.data))
    m = decode_message(hdr, raw.front, b"", raw.data)
    assert isinstance(m, MOSDOpReply)
    return m


def on_wire(m: MOSDOp) -> MOSDOp:
    """``m`` as an OSD receives it (encoded for Pacific, decoded)."""
    m.prepare(CEPH_FEATURES_ALL)
    hdr = MsgHeader(type=42, version=m.version, compat_version=m.compat_version, tid=m.tid,
                    front_len=len(m.front), data_len=len(m.data))
    got = decode_message(hdr, bytes(m.front), b"", bytes(m.data))
    assert isinstance(got, MOSDOp)
    return got


class Osd:
    """A store plus the executor, the way FakeOSD drives them."""

    def __init__(self) -> None:
        self.store = ObjectStore()
        self.hooks = Hooks()
        self.tid = 0

    def op(self, oid: str, vector: list[OSDOp], *, flags: int = 0, nspace: str = "",
           key: str = "", mtime: UTime = NOW) -> MOSDOpReply:
        h = POOL.hash_key(key or oid, nspace)
        self.tid += 1
        write = any(o.op & 0x2000 for o in vector)
        m = MOSDOp(pgid=SPG(POOL.raw_pg_to_pg(PG(1, h))), hash=h, osdmap_epoch=EPOCH,
                   flags=flags or (WRITE if write else READ), oloc=ObjectLocator(1, key, nspace),
                   oid=oid, ops=vector, retry_attempt=0, mtime=mtime)
        m.tid = self.tid
        return self.run(on_wire(m))

    def run(self, m: MOSDOp, epoch: int = EPOCH) -> MOSDOpReply:
        pg = self.store.pg(m.pgid.pgid)
        key = ObjectKey(m.oloc.nspace, m.oloc.key, m.oid)
        if any(o.op & 0x0F00 == 0x0500 for o in m.ops):
            return decode_reply(execute_pg_op(m, pg, POOL.pg_num, epoch))
        ctx = OpContext(m, pg, key, m.hash, pg.objects.get(key), epoch, lambda: NOW)
        return decode_reply(execute(ctx, self.hooks))


# -- the real OSD's replies, replayed --------------------------------------------------


@functools.cache
def _capture(name: str) -> tuple[list[tuple[int, MOSDOp]],
                                  dict[tuple[int, int], MOSDOpReply]]:
    """A capture's MOSDOps in time order (with their connection) and the OSD's
    replies by (connection, tid)."""
    keys = KeySet()
    keys.add_key(ADMIN)
    report = decode_capture((RADOS / name).read_bytes(), keys, keep_messages=True)
    assert report.failed == 0
    assert report.decoded is not None
    stamps: dict[tuple[int, str, int], float] = {}
    for rec in report.records:
        found = re.search(r"\bseq=(\d+) ", rec.detail)
        if rec.name in ("MESSAGE", "MSG") and found:
            stamps[(rec.conn, rec.direction, int(found.group(1)))] = rec.ts
    requests: list[tuple[float, int, MOSDOp]] = []
    replies: dict[tuple[int, int], MOSDOpReply] = {}
    for conn, direction, m in report.decoded:
        if isinstance(m, MOSDOp):
            requests.append((stamps[(conn, direction, m.seq)], conn, m))
        elif isinstance(m, MOSDOpReply):
            replies[(conn, m.tid)] = m
    requests.sort(key=lambda e: e[0])
    return [(conn, m) for _, conn, m in requests], replies


#: The captures of one real cluster, in the order they were made (make_captures.py).
CLUSTERS = {
    "v2+v1": ["v2-crc-object-io.pcap.gz", "v2-crc-write-ops.pcap.gz",
              "v2-crc-xattr-omap-cls.pcap.gz", "v2-crc-ls-namespaces.pcap.gz",
              "v2-crc-watch-notify.pcap.gz", "v2-crc-bench.pcap.gz",
              "v2-secure-object-io.pcap.gz"],
    "v1": ["v1-object-io.pcap.gz"],
}


def _comparable(r: MOSDOpReply) -> tuple[object, ...]:
    return (r.tid, r.oid, r.pgid, r.flags, r.result, r.bad_replay_version, r.osdmap_epoch,
            [(o.op, o.flags, o.args, bytes(o.outdata), o.rval) for o in r.ops],
            r.retry_attempt, r.replay_version, r.user_version, r.redirect, r.trace)


@pytest.mark.parametrize("cluster", sorted(CLUSTERS))
def test_replies_equal_the_real_osds(cluster: str) -> None:
    osd = Osd()
    # CephCluster.wait_ready wrote and removed a probe object before any capture
    osd.op("asyncmsgr-cluster-probe", [ops.writefull(b"probe")])
    osd.op("asyncmsgr-cluster-probe", [ops.remove()])
    # the object classes of `rados lock get/info` (an empty lock's info)
    osd.hooks.cls[("lock", "lock")] = (True, b"")
    compared = 0
    for name in CLUSTERS[cluster]:
        requests, replies = _capture(name)
        for conn, m in requests:
            real = replies.get((conn, m.tid))
            if real is None:
                continue
            if m.ops[0].op == OsdOpCode.CALL and m.ops[0].name == "call":
                info = bytes(real.ops[0].outdata)
                if info:
                    osd.hooks.cls[("lock", "get_info")] = (False, info)
            ours = osd.run(m, real.osdmap_epoch)
            assert _comparable(ours) == _comparable(real), (name, m.describe())
            real.prepare(CEPH_FEATURES_ALL)
            hdr_ours = reply_front(m.oid.encode(), ours.pgid.pool, ours.pgid.seed, ours.flags,
                                   ours.result, (ours.bad_replay_version.epoch,
                                                 ours.bad_replay_version.version),
                                   ours.osdmap_epoch, ours.ops, ours.retry_attempt,
                                   ours.replay_version, ours.user_version)
            assert hdr_ours == bytes(real.front), (name, m.describe())
            compared += 1
    assert compared >= {"v2+v1": 120, "v1": 6}[cluster]


def test_fast_decoder_equals_the_field_by_field_one() -> None:
    for name in CLUSTERS["v2+v1"] + CLUSTERS["v1"]:
        for _, m in _capture(name)[0]:
            m.version = 0
            m.prepare(CEPH_FEATURES_ALL)
            front, data = bytes(m.front), bytes(m.data)
            fast = MOSDOp._decode_v8_fast(memoryview(front), memoryview(data))
            assert fast is not None
            slow = MOSDOp.decode_payload(
                MsgHeader(type=42, version=7, front_len=len(front)), *_v7(m))
            assert fast.pgid.pgid == POOL.raw_pg_to_pg(slow.pgid.pgid)
            assert (fast.hash, fast.osdmap_epoch, fast.flags, fast.reqid, fast.client_inc,
                    fast.mtime, fast.oloc, fast.oid, fast.snapid, fast.snap_seq, fast.snaps,
                    fast.retry_attempt, fast.features) == (
                slow.hash, slow.osdmap_epoch, slow.flags, slow.reqid, slow.client_inc,
                slow.mtime, slow.oloc, slow.oid, slow.snapid, slow.snap_seq, slow.snaps,
                slow.retry_attempt, slow.features)
            assert [(o.op, o.flags, o.args, bytes(o.indata)) for o in fast.ops] == \
                [(o.op, o.flags, o.args, bytes(o.indata)) for o in slow.ops]
            fast.prepare(CEPH_FEATURES_ALL)
            assert bytes(fast.front) == front
            assert [bytes(o.indata) for o in fast.ops] == [bytes(o.indata) for o in m.ops]


def _v7(m: MOSDOp) -> tuple[Reader, memoryview, memoryview]:
    m.version = 0
    m.prepare(CEPH_FEATURES_ALL & ~feature_mask("RESEND_ON_SPLIT"))
    return Reader(bytes(m.front)), memoryview(b""), memoryview(bytes(m.data))


def test_bad_fronts_are_decode_errors_on_the_fast_path() -> None:
    m = _capture("v2-crc-object-io.pcap.gz")[0][0][1]
    m.version = 0
    m.prepare(CEPH_FEATURES_ALL)
    front, data = bytes(m.front), bytes(m.data)
    for cut in range(0, len(front), 7):
        hdr = MsgHeader(type=42, version=8, compat_version=3, front_len=cut,
                        data_len=len(data))
        with pytest.raises(MessageDecodeError):
            decode_message(hdr, front[:cut], b"", data)
    # an op payload longer than the data segment
    hdr = MsgHeader(type=42, version=8, compat_version=3, front_len=len(front), data_len=1)
    with pytest.raises(MessageDecodeError):
        decode_message(hdr, front, b"", data[:1])


# -- what the captures do not show ------------------------------------------------------


def test_data_ops() -> None:
    osd = Osd()
    r = osd.op("o", [ops.write(4, b"abc")])
    assert r.result == 0
    assert r.replay_version == EVersion(EPOCH, 1)
    assert r.user_version == 1
    r = osd.op("o", [ops.read(0, 0), ops.stat()])
    assert bytes(r.ops[0].outdata) == b"\0\0\0\0abc"
    assert r.ops[0].extent.length == 7
    assert decode_stat(r.ops[1].outdata) == (7, NOW)
    assert osd.op("o", [ops.append(b"de")]).result == 0
    assert osd.op("o", [ops.zero(1, 100)]).result == 0
    assert bytes(osd.op("o", [ops.read(0, 0)]).ops[0].outdata) == b"\0" * 9
    assert osd.op("o", [ops.truncate(2)]).result == 0
    r = osd.op("o", [ops.read(5, 10)])
    assert (bytes(r.ops[0].outdata), r.ops[0].extent.length) == (b"", 0)
    assert osd.op("o", [ops.truncate(4)]).user_version == 5
    assert bytes(osd.op("o", [ops.read(0, 0)]).ops[0].outdata) == b"\0" * 4


def test_errnos() -> None:
    osd = Osd()
    r = osd.op("absent", [ops.read(0, 0)])
    assert r.result == -errno.ENOENT
    assert r.flags & OsdFlag.ACK == 0, "reply_op_error: ONDISK only"
    assert (r.replay_version, r.user_version) == (EVersion(), 0)
    r = osd.op("absent", [ops.remove()])
    assert (r.result, r.ops[0].rval, r.flags & OsdFlag.ACK) == (-errno.ENOENT, -errno.ENOENT, 1)
    assert r.replay_version == EVersion(EPOCH, 1), "a failed write still takes a log entry"
    bad = OSDOp(OsdOpCode.WRITE, 0, ops.write(0, b"xyz").args, b"xy")
    assert osd.op("o", [bad]).result == -errno.EINVAL
    big = ops.write(OSD_MAX_OBJECT_SIZE, b"x")
    assert osd.op("o", [big]).result == -errno.EFBIG
    assert osd.op("o", [ops.setxattr("n" * 101, b"v")]).result == -errno.ENAMETOOLONG
    assert osd.op("o", [OSDOp(OsdOpCode.TMAPGET)]).result in (-errno.EOPNOTSUPP,
                                                              -errno.ENOENT)
    osd.op("o", [ops.create(False)])
    assert osd.op("o", [ops.create(True)]).result == -errno.EEXIST
    assert osd.op("o", [OSDOp(OsdOpCode.TMAPGET)]).result == -errno.EOPNOTSUPP
    assert osd.op("o", [ops.call("nocls", "nomethod")]).result == -errno.EOPNOTSUPP
    uv = osd.op("o", [ops.stat()]).user_version
    assert osd.op("o", [ops.assert_version(uv)]).result == 0
    assert osd.op("o", [ops.assert_version(uv - 1)]).result == -errno.ERANGE
    assert osd.op("o", [ops.assert_version(uv + 1)]).result == -errno.EOVERFLOW


def test_compound_writes_are_all_or_nothing() -> None:
    osd = Osd()
    osd.op("o", [ops.writefull(b"old"), ops.setxattr("a", b"1")])
    r = osd.op("o", [ops.writefull(b"new"), ops.setxattr("b", b"2"),
                     ops.cmpxattr("a", CmpXattrOp.EQ, b"9"), ops.omap_set({"k": b"v"})])
    assert r.result == -errno.ECANCELED
    assert [o.rval for o in r.ops] == [0, 0, -errno.ECANCELED, 0]
    assert not any(len(o.outdata) for o in r.ops)
    after = osd.op("o", [ops.read(0, 0), ops.getxattrs(), ops.omap_get_keys()])
    assert bytes(after.ops[0].outdata) == b"old"
    assert decode_xattrs(after.ops[1].outdata) == {"a": b"1"}
    assert decode_omap_keys(after.ops[2].outdata).keys == []
    ok = osd.op("o", [ops.cmpxattr("a", CmpXattrOp.EQ, b"1"), ops.writefull(b"new")])
    assert ok.result == 0
    assert bytes(osd.op("o", [ops.read(0, 0)]).ops[0].outdata) == b"new"


def test_failok_and_read_vectors() -> None:
    osd = Osd()
    osd.op("o", [ops.writefull(b"data")])
    missing = ops.getxattr("none")
    failok = OSDOp(missing.op, OsdOpFlag.FAILOK, missing.args, missing.indata)
    r = osd.op("o", [failok, ops.read(0, 0)])
    assert r.result == 0
    assert [o.rval for o in r.ops] == [-errno.ENODATA, 0]
    assert bytes(r.ops[1].outdata) == b"data"
    r = osd.op("o", [ops.read(0, 2), missing, ops.read(2, 2)])
    assert r.result == -errno.ENODATA
    assert [o.rval for o in r.ops] == [0, -errno.ENODATA, 0]
    assert bytes(r.ops[0].outdata) == b"da"
    assert (r.replay_version, r.user_version) == (EVersion(), 0)


def test_xattr_comparisons() -> None:
    osd = Osd()
    osd.op("o", [ops.setxattr("s", b"abc"), ops.setxattr("n", b"42")])
    cases = [(ops.cmpxattr("s", CmpXattrOp.EQ, b"abc"), 0),
             (ops.cmpxattr("s", CmpXattrOp.NE, b"abc"), -errno.ECANCELED),
             (ops.cmpxattr("s", CmpXattrOp.GT, b"abb"), 0),
             (ops.cmpxattr("s", CmpXattrOp.LT, b"abb"), -errno.ECANCELED),
             (ops.cmpxattr("n", CmpXattrOp.GTE, 42, CmpXattrMode.U64), 0),
             (ops.cmpxattr("n", CmpXattrOp.LT, 42, CmpXattrMode.U64), -errno.ECANCELED),
             (ops.cmpxattr("absent", CmpXattrOp.EQ, b""), 0)]
    for op, want in cases:
        assert osd.op("o", [op]).result == want, op
    assert decode_xattrs(osd.op("o", [ops.getxattrs()]).ops[0].outdata) == {"n": b"42",
                                                                            "s": b"abc"}
    assert osd.op("o", [ops.rmxattr("s")]).result == 0
    assert osd.op("o", [ops.getxattr("s")]).result == -errno.ENODATA


def test_omap_paging_and_prefixes() -> None:
    osd = Osd()
    keys = {f"k{i:03d}": f"v{i}".encode() for i in range(30)}
    keys.update({"p/a": b"1", "p/b": b"2", "q": b"3"})
    osd.op("o", [ops.omap_set(keys), ops.omap_set_header(b"hdr")])
    got: list[str] = []
    after = ""
    while True:
        page = decode_omap_keys(osd.op("o", [ops.omap_get_keys(after, 7)]).ops[0].outdata)
        got += page.keys
        if not page.more:
            break
        after = page.keys[-1]
    assert got == sorted(keys)
    vals = decode_omap_vals(osd.op("o", [ops.omap_get_vals("", "p/", 10)]).ops[0].outdata)
    assert vals == (({"p/a": b"1", "p/b": b"2"}), False)
    vals = decode_omap_vals(osd.op("o", [ops.omap_get_vals("p/a", "p/", 10)]).ops[0].outdata)
    assert vals.vals == {"p/b": b"2"}
    r = osd.op("o", [ops.omap_get_vals_by_keys(["q", "zz"]), ops.omap_get_header()])
    assert decode_omap_vals(r.ops[0].outdata).vals == {"q": b"3"}
    assert bytes(r.ops[1].outdata) == b"hdr"
    osd.op("o", [ops.omap_rm_keys(["q"])])
    rm_range = OSDOp(OsdOpCode.OMAPRMKEYRANGE, indata=_two_strings("k000", "k020"))
    assert osd.op("o", [rm_range]).result == 0
    left = decode_omap_keys(osd.op("o", [ops.omap_get_keys("", 100)]).ops[0].outdata).keys
    assert left == [f"k{i:03d}" for i in range(20, 30)] + ["p/a", "p/b"]
    osd.op("o", [ops.omap_clear()])
    r = osd.op("o", [ops.omap_get_keys(), ops.omap_get_header()])
    assert decode_omap_keys(r.ops[0].outdata).keys == []
    assert bytes(r.ops[1].outdata) == b""


def _two_strings(a: str, b: str) -> bytes:
    w = Writer()
    w.push_string(a)
    w.push_string(b)
    return w.getvalue()


def test_cmpext_reports_the_first_mismatch() -> None:
    osd = Osd()
    osd.op("o", [ops.writefull(b"hello")])
    cmp = OSDOp(OsdOpCode.CMPEXT, 0, ops.read(1, 3).args, b"elx")
    assert osd.op("o", [cmp]).result == -MAX_ERRNO - 2
    cmp = OSDOp(OsdOpCode.CMPEXT, 0, ops.read(3, 3).args, b"lo\0")
    assert osd.op("o", [cmp]).result == 0, "bytes past the end compare as zeros"


def test_classes_and_watch_versions() -> None:
    osd = Osd()
    osd.hooks.cls[("c", "get")] = (False, b"out")
    osd.hooks.cls[("c", "set")] = (True, b"")
    assert osd.op("o", [ops.call("c", "get")]).result == -errno.ENOENT
    r = osd.op("o", [ops.call("c", "set")])
    assert (r.result, r.user_version) == (0, 1)
    r = osd.op("o", [ops.call("c", "get")])
    assert bytes(r.ops[0].outdata) == b"out"
    assert r.ops[0].extent.length == 3, "CALL reports its output length"
    w = osd.op("o", [ops.watch(7)])
    assert (w.replay_version.version, w.user_version) == (2, 1), "watch: a log entry only"
    assert osd.op("o", [ops.watch_ping(7, 1)]).result == 0
    assert osd.op("o", [ops.watch_ping(8, 1)]).result == -errno.ENOTCONN
    ping = osd.op("o", [ops.watch_ping(7, 1)])
    assert ping.replay_version == EVersion(), "a ping is a read"


def test_pgnls_pages_through_a_pg_in_hobject_order() -> None:
    osd = Osd()
    names = [f"obj{i}" for i in range(200)]
    for n in names:
        osd.op(n, [ops.writefull(b"x")], nspace="ns" if n.endswith("7") else "")
    pgid = PG(1, 3)
    everything: list[tuple[str, str]] = []
    for ns in ("", "ns", LIBRADOS_ALL_NSPACES):
        cursor = pg_hobj_start(pgid)
        seen: list[tuple[str, str]] = []
        while True:
            m = MOSDOp(pgid=SPG(pgid), hash=pgid.seed, osdmap_epoch=EPOCH,
                       flags=int(OsdFlag.READ | OsdFlag.IGNORE_OVERLAY),
                       oloc=ObjectLocator(1, nspace=ns, hash=pgid.seed),
                       ops=[ops.pgnls(5, cursor, EPOCH)], retry_attempt=0)
            r = osd.run(on_wire(m))
            resp = decode_pgnls(r.ops[0].outdata)
            seen += [(e.nspace, e.oid) for e in resp.entries]
            if r.result == 1:
                assert resp.handle == pg_hobj_end(pgid, 8)
                break
            assert r.result == 0
            cursor = resp.handle
        if ns == LIBRADOS_ALL_NSPACES:
            everything = seen
        else:
            assert all(e[0] == ns for e in seen)
    in_pg = {(("ns" if n.endswith("7") else ""), n) for n in names
             if POOL.raw_pg_to_pg(PG(1, POOL.hash_key(n, "ns" if n.endswith("7") else "")))
             == pgid}
    assert len(everything) == len(in_pg) == len(set(everything))
    assert set(everything) == in_pg
    outside = HObject(snap=0, hash=4, pool=1)  # PG 1.4's start
    m = MOSDOp(pgid=SPG(pgid), hash=pgid.seed, osdmap_epoch=EPOCH, flags=READ,
               oloc=ObjectLocator(1, hash=pgid.seed), ops=[ops.pgnls(5, outside, EPOCH)])
    assert osd.run(on_wire(m)).result == -errno.EINVAL
