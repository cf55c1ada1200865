"""``ceph_osd_op``, op constructors, Ceph's printed form, and op inputs/outputs.

Known answers come from the captures of ``tests/data/captures/rados`` (bytes
quoted from real Pacific traffic) and from Ceph's ``rados.h`` / ``osd_types.cc``.
"""

from __future__ import annotations

import struct

import pytest

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd import op_data, ops
from asyncmsgr.osd.ops import (
    OSD_OP_NAMES,
    OsdFlag,
    OSDOp,
    OsdOpCode,
    OsdOpFlag,
    WatchOp,
    format_op,
    format_ops,
)
from asyncmsgr.osd.types import CEPH_NOSNAP, HObject
from asyncmsgr.types import EntityAddr, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer


def encoded(op: OSDOp, payload_len: int | None = None) -> bytes:
    w = Writer()
    ops.push_osd_op(w, op, len(op.indata) if payload_len is None else payload_len)
    return w.getvalue()


# -- op codes, names, flags ----------------------------------------------------------------


@pytest.mark.parametrize(("code", "value", "name"), [
    (OsdOpCode.READ, 0x1201, "read"),
    (OsdOpCode.STAT, 0x1202, "stat"),
    (OsdOpCode.WRITEFULL, 0x2202, "writefull"),
    (OsdOpCode.DELETE, 0x2205, "delete"),
    (OsdOpCode.WATCH, 0x220F, "watch"),
    (OsdOpCode.NOTIFY_ACK, 0x1207, "notify-ack"),
    (OsdOpCode.OMAPGETVALSBYKEYS, 0x1214, "omap-get-vals-by-keys"),
    (OsdOpCode.OMAPRMKEYRANGE, 0x222C, "omap-rm-key-range"),
    (OsdOpCode.SETALLOCHINT, 0x2223, "set-alloc-hint"),
    (OsdOpCode.CACHE_TRY_FLUSH, 0x8221, "cache-try-flush"),
    (OsdOpCode.TIER_EVICT, 0x822C, "tier-evict"),
    (OsdOpCode.SYNC_READ, 0x120B, "sync_read"),
    (OsdOpCode.GETXATTRS, 0x1302, "getxattrs"),
    (OsdOpCode.RMXATTR, 0x2304, "rmxattr"),
    (OsdOpCode.CALL, 0x1401, "call"),
    (OsdOpCode.PGNLS, 0x1505, "pgnls"),
    (OsdOpCode.SCRUB_MAP, 0x4009, "scrub-map"),
])
def test_op_codes_and_names(code: OsdOpCode, value: int, name: str) -> None:
    assert code == value
    assert ops.ceph_osd_op_name(code) == name


def test_every_op_has_a_distinct_code_and_name() -> None:
    assert len({int(c) for c in OsdOpCode}) == len(OsdOpCode)
    assert len(set(OSD_OP_NAMES.values())) == len(OsdOpCode)
    assert ops.ceph_osd_op_name(0x1299) == "???"


def test_op_classes() -> None:
    assert ops.op_type_data(OsdOpCode.READ)
    assert ops.op_mode_read(OsdOpCode.READ)
    assert ops.op_type_attr(OsdOpCode.SETXATTR)
    assert ops.op_mode_modify(OsdOpCode.SETXATTR)
    assert ops.op_type_exec(OsdOpCode.CALL)
    assert not ops.op_mode_read(OsdOpCode.CALL)
    assert ops.op_type_pg(OsdOpCode.PGNLS)


def test_flag_strings() -> None:
    flags = OsdFlag.ONDISK | OsdFlag.WRITE | OsdFlag.KNOWN_REDIR
    assert flags == 0x400024  # as captured from rados put
    assert ops.ceph_osd_flag_string(flags) == "ondisk+write+known_if_redirected"
    assert ops.ceph_osd_flag_string(0) == "-"
    assert ops.ceph_osd_flag_string(1 << 31) == "???"
    assert ops.ceph_osd_op_flag_string(OsdOpFlag.EXCL | OsdOpFlag.FADVISE_WILLNEED) == \
        "excl+favise_willneed"  # Ceph's spelling
    assert ops.ceph_osd_watch_op_name(WatchOp.PING) == "ping"
    assert ops.ceph_osd_watch_op_name(WatchOp.LEGACY_WATCH) == "???"
    assert ops.ceph_watch_event_name(2) == "notify_complete"
    assert ops.ceph_osd_backoff_op_name(2) == "ack-block"


# -- the 38-byte ceph_osd_op ---------------------------------------------------------------

#: ``rados put myobj`` (12 bytes) from v2-crc-object-io: op 0x2202, extent 0~12, len 12.
WRITEFULL_12 = bytes.fromhex(
    "0222" "00000000" "0000000000000000" "0c00000000000000" "0000000000000000" "00000000"
    "0c000000")
#: ``rados watch`` from v2-crc-watch-notify: cookie 0x558478cf55f0, op WATCH.
WATCH_OP = bytes.fromhex(
    "0f22" "00000000" "f055cf7884550000" "0000000000000000" "03" "00000000" "00000000"
    "000000" "00000000")
#: ``rados ls`` PGNLS: max 1024 entries, epoch 10, a 39-byte cursor.
PGNLS_OP = bytes.fromhex(
    "0515" "00000000" "0004000000000000" "0a000000" + "00" * 16 + "27000000")


def test_writefull_known_answer() -> None:
    op = ops.writefull(b"hello world\n")
    assert encoded(op) == WRITEFULL_12
    assert len(WRITEFULL_12) == ops.OSD_OP_LEN
    back, plen = ops.pull_osd_op(Reader(WRITEFULL_12))
    assert (back.op, back.flags, back.extent, plen) == (OsdOpCode.WRITEFULL, 0,
                                                        ops.Extent(0, 12), 12)


def test_watch_known_answer() -> None:
    op = ops.watch(0x558478CF55F0)
    assert encoded(op) == WATCH_OP
    assert op.watch == ops.WatchArgs(0x558478CF55F0, 0, WatchOp.WATCH, 0, 0)
    assert format_op(op) == "watch watch cookie 94027450897904"
    ping = ops.watch_ping(5, gen=3)
    assert format_op(ping) == "watch ping cookie 5 gen 3"
    assert format_op(ops.unwatch(5)) == "watch unwatch cookie 5"


def test_pgnls_known_answer() -> None:
    start = HObject()  # the listing's first cursor
    op = ops.pgnls(1024, start, 10)
    assert encoded(op) == PGNLS_OP
    assert bytes(op.indata) == bytes.fromhex(
        "0403210000000000000000000000" + "00" * 8 + "00000000" + "00" + "00000000"
        + "0000000000000080")
    assert op.pgls == ops.PglsArgs(1024, 10)
    assert format_op(op) == "pgnls start_epoch 10 in=39b"
    filtered = ops.pgnls(8, start, 3, filter_data=b"F")
    assert filtered.op == OsdOpCode.PGNLS_FILTER
    r = Reader(filtered.indata)
    assert (r.pull_string(), r.pull_string(), r.pull_bytes(1)) == ("pg", "filter", b"F")


def test_unknown_union_bytes_survive() -> None:
    raw = bytes(range(2, 40))
    op, plen = ops.pull_osd_op(Reader(raw))
    assert encoded(op, plen) == raw


def test_args_must_be_28_bytes() -> None:
    with pytest.raises(ValueError, match="28 bytes"):
        OSDOp(OsdOpCode.READ, args=b"short")


def test_truncated_op_is_decode_error() -> None:
    with pytest.raises(DecodeError):
        ops.pull_osd_op(Reader(WRITEFULL_12[:37]))


def _raw(op: OSDOp, n: int) -> ops.RawOp:
    return (op.op, op.flags, op.args, n)


def test_split_payloads() -> None:
    a, b, c = ops.write(0, b"abc"), ops.stat(), ops.setxattr("k", b"v")
    data = memoryview(b"abc" + b"kv" + b"ignored trailing")
    got = ops.split_payloads([_raw(a, 3), _raw(b, 0), _raw(c, 2)], data, out=False)
    assert [bytes(o.indata) for o in got] == [b"abc", b"", b"kv"]
    assert [(o.op, o.args, o.rval) for o in got] == [(x.op, x.args, 0) for x in (a, b, c)]
    out = ops.split_payloads([_raw(a, 3), _raw(b, 0)], data, out=True, rvals=(-2, 7))
    assert bytes(out[0].outdata) == b"abc"
    assert not len(out[0].indata)
    assert [o.rval for o in out] == [-2, 7]
    with pytest.raises(DecodeError, match="exceed the data segment"):
        ops.split_payloads([_raw(a, 3), _raw(c, 100)], memoryview(b"abc"), out=False)
    with pytest.raises(DecodeError, match="2 op results for 1 ops"):
        ops.split_payloads([_raw(a, 3)], data, out=True, rvals=(0, 0))


def test_unpack_osd_ops_checks_the_bytes_present() -> None:
    two = WRITEFULL_12 + WRITEFULL_12
    got = ops.unpack_osd_ops(b"xy" + two, 2, 2)
    assert got == [ops.OSD_OP_STRUCT.unpack(WRITEFULL_12)] * 2
    assert ops.unpack_osd_ops(two, 0, 0) == []
    for buf, pos, n in ((b"xy" + two[:-1], 2, 2), (two, 0, 3), (two, 39, 1), (two, -1, 1),
                        (two, 0, -1)):
        with pytest.raises(DecodeError, match="ops need"):
            ops.unpack_osd_ops(buf, pos, n)


# -- constructors and printing -------------------------------------------------------------

E = OsdOpCode


@pytest.mark.parametrize(("op", "code", "text"), [
    (ops.read(0, 4194304), E.READ, "read 0~4194304"),
    (ops.read(8, 4, flags=OsdOpFlag.FADVISE_SEQUENTIAL), E.READ,
     "read 8~4 [fadvise_sequential]"),
    (ops.read(0, 10, truncate_size=7, truncate_seq=2), E.READ, "read 0~10 [2@7]"),
    (ops.sparse_read(1, 2), E.SPARSE_READ, "sparse-read 1~2"),
    (ops.stat(), E.STAT, "stat"),
    (ops.write(30, b"0123456789"), E.WRITE, "write 30~10 in=10b"),
    (ops.writefull(b"x" * 26), E.WRITEFULL, "writefull 0~26 in=26b"),
    (ops.append(b"0123456789"), E.APPEND, "append 0~10 in=10b"),
    (ops.truncate(8), E.TRUNCATE, "truncate 8"),
    (ops.zero(2, 3), E.ZERO, "zero 2~3"),
    (ops.create(exclusive=True), E.CREATE, "create"),
    (ops.remove(), E.DELETE, "delete"),
    (ops.getxattr("color"), E.GETXATTR, "getxattr color in=5b"),
    (ops.getxattrs(), E.GETXATTRS, "getxattrs"),
    (ops.setxattr("color", b"blue"), E.SETXATTR, "setxattr color (4) in=9b"),
    (ops.rmxattr("shape"), E.RMXATTR, "rmxattr shape in=5b"),
    (ops.cmpxattr("n", ops.CmpXattrOp.GT, 7, ops.CmpXattrMode.U64), E.CMPXATTR,
     "cmpxattr n (8) op 3 mode 2 in=9b"),
    (ops.omap_get_keys(), E.OMAPGETKEYS, "omap-get-keys in=12b"),
    (ops.omap_get_vals(), E.OMAPGETVALS, "omap-get-vals in=16b"),
    (ops.omap_get_vals_by_keys(["k2"]), E.OMAPGETVALSBYKEYS, "omap-get-vals-by-keys in=10b"),
    (ops.omap_get_header(), E.OMAPGETHEADER, "omap-get-header"),
    (ops.omap_set({"k1": b"v1"}), E.OMAPSETVALS, "omap-set-vals in=16b"),
    (ops.omap_set_header(b"the header"), E.OMAPSETHEADER, "omap-set-header in=10b"),
    (ops.omap_rm_keys(["k1"]), E.OMAPRMKEYS, "omap-rm-keys in=10b"),
    (ops.omap_clear(), E.OMAPCLEAR, "omap-clear"),
    (ops.set_alloc_hint(4096, 4096), E.SETALLOCHINT,
     "set-alloc-hint object_size 4096 write_size 4096"),
    (ops.assert_version(42), E.ASSERT_VER, "assert-version v42"),
    (ops.list_watchers(), E.LIST_WATCHERS, "list-watchers"),
    (ops.notify(94720117191696, b"\x0e\x00\x00\x00hello-watchers", 10), E.NOTIFY,
     "notify cookie 94720117191696 in=30b"),
    (ops.notify_ack(42949672960, 1, b"r"), E.NOTIFY_ACK, "notify-ack in=21b"),
    (ops.call("lock", "get_info", b"args"), E.CALL, "call lock.get_info in=16b"),
])
def test_constructor_and_print(op: OSDOp, code: int, text: str) -> None:
    assert op.op == code
    assert format_op(op) == text
    assert str(op) == text


def test_constructor_inputs_known_answers() -> None:
    # bytes of rados setomapval / listomapkeys / listomapvals / notify from the captures
    assert bytes(ops.omap_set({"k1": b"v1"}).indata) == \
        b"\x01\x00\x00\x00\x02\x00\x00\x00k1\x02\x00\x00\x00v1"
    assert bytes(ops.omap_get_keys("", 1024).indata) == bytes.fromhex("00000000" "0004" + "00" * 6)
    assert bytes(ops.omap_get_vals("", "", 1024).indata) == \
        bytes.fromhex("00000000" "0004000000000000" "00000000")
    assert bytes(ops.notify(1, b"\x0e\x00\x00\x00hello-watchers", 10).indata) == \
        b"\x01\x00\x00\x00\n\x00\x00\x00\x12\x00\x00\x00\x0e\x00\x00\x00hello-watchers"
    ack = ops.notify_ack(0x0A00000000, 0x558478CF55F0, b"\x0e\x00\x00\x00hello-watchers")
    assert bytes(ack.indata).hex() == (
        "000000000a000000f055cf7884550000120000000e00000068656c6c6f2d7761746368657273")
    assert bytes(ops.setxattr("color", b"blue").indata) == b"colorblue"
    assert ops.setxattr("color", b"blue").xattr == ops.XattrArgs(5, 4)
    assert bytes(ops.call("lock", "lock", b"").indata) == b"locklock"
    assert ops.call("lock", "lock", b"xyz").cls == ops.ClsArgs(4, 4, 0, 3)
    assert ops.create(exclusive=True).flags == OsdOpFlag.EXCL
    assert ops.create(exclusive=False).flags == 0
    assert ops.set_alloc_hint(1, 2, 3).alloc_hint == ops.AllocHint(1, 2, 3)
    assert ops.omap_rm_keys(["b", "a", "b"]).indata == \
        b"\x02\x00\x00\x00\x01\x00\x00\x00a\x01\x00\x00\x00b"


def test_constructor_argument_errors() -> None:
    with pytest.raises(TypeError):
        ops.cmpxattr("n", ops.CmpXattrOp.EQ, b"x", ops.CmpXattrMode.U64)
    with pytest.raises(TypeError):
        ops.cmpxattr("n", ops.CmpXattrOp.EQ, 5)
    with pytest.raises(ValueError, match="255"):
        ops.call("c" * 256, "m")


def test_print_of_other_op_kinds() -> None:
    def raw(code: int, fmt: str, *values: int) -> OSDOp:
        return OSDOp(code, 0, struct.pack(fmt, *values).ljust(28, b"\0"))

    assert format_op(raw(E.ROLLBACK, "<Q", CEPH_NOSNAP)) == "rollback head"
    assert format_op(raw(E.ROLLBACK, "<Q", 0x1F)) == "rollback 1f"
    assert format_op(raw(E.TRIMTRUNC, "<QQQI", 0, 0, (1 << 64) - 1, 4)) == "trimtrunc 4@-1"
    assert format_op(raw(E.COPY_GET, "<Q", 8)) == "copy-get max 8"
    assert format_op(raw(E.COPY_FROM, "<QQBI", 0, 77, 0, 0)) == "copy-from ver 77"
    assert format_op(raw(E.PG_HITSET_GET, "<II", 5, 6)) == "pg-hitset-get 5.000000006"
    assert format_op(OSDOp(E.READ, outdata=b"abc")) == "read 0~0 out=3b"
    assert format_ops([ops.set_alloc_hint(4096, 4096), ops.write(0, b"x" * 4096)]) == \
        "[set-alloc-hint object_size 4096 write_size 4096,write 0~4096 in=4096b]"
    assert format_ops([]) == "[]"
    assert format_op(OSDOp(0x7777)) == "???"


# -- outputs -------------------------------------------------------------------------------


def test_stat_output() -> None:
    # rados stat of a 12-byte object (v2-crc-object-io)
    out = bytes.fromhex("0c00000000000000763d146bb3b0eb29")
    st = op_data.decode_stat(out)
    assert st == op_data.ObjectStat(12, UTime(0x6B143D76, 0x29EBB0B3))
    w = Writer()
    op_data.push_stat(w, st)
    assert w.getvalue() == out
    with pytest.raises(DecodeError):
        op_data.decode_stat(out[:11])


def test_xattrs_and_omap_outputs_roundtrip() -> None:
    w = Writer()
    op_data.push_bytes_map(w, {"shape": b"round", "color": b"blue"})
    assert op_data.decode_xattrs(w.getvalue()) == {"color": b"blue", "shape": b"round"}
    assert w.getvalue().startswith(b"\x02\x00\x00\x00\x05\x00\x00\x00color")  # sorted
    w = Writer()
    op_data.push_omap_keys_output(w, ["k1", "k2"], True)
    assert op_data.decode_omap_keys(w.getvalue()) == op_data.OmapKeys(["k1", "k2"], True)
    # an older OSD leaves out "more"
    assert op_data.decode_omap_keys(w.getvalue()[:-1]).more is None
    w = Writer()
    op_data.push_omap_vals_output(w, {"k2": b"value two"}, False)
    assert op_data.decode_omap_vals(w.getvalue()) == op_data.OmapVals({"k2": b"value two"},
                                                                      False)
    assert op_data.decode_omap_vals_by_keys(w.getvalue()[:-1]) == {"k2": b"value two"}


@pytest.mark.parametrize("decoder", [op_data.decode_xattrs, op_data.decode_omap_vals,
                                     op_data.decode_omap_keys])
def test_counts_beyond_the_bytes(decoder: object) -> None:
    assert callable(decoder)
    with pytest.raises(DecodeError):
        decoder(b"\xff\xff\xff\x7f")
    with pytest.raises(DecodeError):
        decoder(b"\x01\x00\x00\x00\x10\x00\x00\x00ab")  # string longer than the bytes


def test_pgnls_output_known_answer() -> None:
    # PG 1.5 of `rados ls`: two objects, one with a locator key (v2-crc-ls-namespaces)
    out = bytes.fromhex(
        "0101530000000403210000000000000000000000feffffffffffffff05000000000000000001"
        "00000000000000020000000000000005000000" "6b65796564" "06000000" "6c6f636b6579"
        "00000000" "05000000" "706c61696e" "00000000")
    res = op_data.decode_pgnls(out)
    assert res.handle == HObject(snap=CEPH_NOSNAP, hash=5, pool=1)
    assert res.entries == [op_data.ListObjectEntry("", "keyed", "lockey"),
                           op_data.ListObjectEntry("", "plain", "")]
    w = Writer()
    op_data.push_pgnls_response(w, res)
    assert w.getvalue() == out
    with pytest.raises(DecodeError):
        op_data.decode_pgnls(out[:-3])
    with pytest.raises(DecodeError):  # entry count beyond the struct
        op_data.decode_pgnls(out[:45] + b"\xff\xff\x00\x00" + out[49:])


def test_notify_payloads() -> None:
    # the NOTIFY_COMPLETE data of v2-crc-watch-notify: one ack from client.4221
    done = bytes.fromhex("010000007d10000000000000f055cf78845500001200000"
                         "00e00000068656c6c6f2d776174636865727300000000")
    res = op_data.decode_notify_result(done)
    assert res.acks == {(0x107D, 0x558478CF55F0): b"\x0e\x00\x00\x00hello-watchers"}
    assert res.timeouts == frozenset()
    w = Writer()
    op_data.push_notify_result(w, res)
    assert w.getvalue() == done
    assert op_data.decode_notify_result(b"") == op_data.NotifyResult()
    timed_out = op_data.NotifyResult({}, frozenset({(1, 2)}))
    w = Writer()
    op_data.push_notify_result(w, timed_out)
    assert op_data.decode_notify_result(w.getvalue()) == timed_out
    assert op_data.decode_notify_id(bytes.fromhex("000000000a000000")) == 42949672960
    inp = op_data.decode_notify_input(ops.notify(1, b"pay", 30).indata)
    assert inp == op_data.NotifyInput(1, 30, b"pay")
    ack = op_data.decode_notify_ack_input(ops.notify_ack(5, 6, b"r").indata)
    assert ack == op_data.NotifyAck(5, 6, b"r")
    assert op_data.decode_notify_ack_input(bytes(16)) == op_data.NotifyAck(0, 0, b"")
    with pytest.raises(DecodeError):
        op_data.decode_notify_result(b"\xff\xff\xff\x0f")


def test_list_watchers_roundtrip() -> None:
    item = op_data.WatchItem(EntityName(8, 4221), 77, 30,
                             EntityAddr.parse("v1:127.0.0.1:0/3524765635"))
    w = Writer()
    op_data.push_list_watchers_output(w, [item], features=(1 << 59) | (1 << 21))
    assert op_data.decode_list_watchers(w.getvalue()) == [item]
    # `rados listwatchers` of an unwatched object (v2-crc-xattr-omap-cls)
    assert op_data.decode_list_watchers(bytes.fromhex("01010400000000000000")) == []


def test_sparse_read_output() -> None:
    res = op_data.SparseRead([(0, 2), (10, 3)], b"abxyz")
    w = Writer()
    op_data.push_sparse_read_output(w, res)
    assert op_data.decode_sparse_read(w.getvalue()) == res
    bad = Writer()
    op_data.push_sparse_read_output(bad, op_data.SparseRead([(0, 9)], b"ab"))
    with pytest.raises(DecodeError, match="extents cover"):
        op_data.decode_sparse_read(bad.getvalue())
