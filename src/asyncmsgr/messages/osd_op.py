"""Object I/O requests: MOSDOp (42), Pacific layouts (rados.md).

MOSDOp v8 (compat 3), as Pacific clients send it::

    spg_t pgid, u32 hash, u32 osdmap_epoch, u32 flags, osd_reqid_t reqid,
    blkin_trace_info trace (3 x u64),
    u32 client_inc, utime mtime, object_locator_t oloc, object_t oid,
    u16 num_ops, ceph_osd_op[num_ops], u64 snapid, u64 snap_seq, vector<u64> snaps,
    s32 retry_attempt, u64 features

with the ops' input in the data segment. Peers without RESEND_ON_SPLIT get v7
(``pg_t`` raw pgid, a reassert version, no trace), without NEW_OSDOP_ENCODING
v6 (the pre-Kraken order); v2-v8 decode, as Pacific's OSD accepts them (v1, the
pre-Argonaut ``ceph_osd_request_head``, is refused).

The reply, MOSDOpReply (43), is in :mod:`asyncmsgr.messages.osd_op_reply` (and
re-exported here), what both share in :mod:`asyncmsgr.messages.osd_op_common`.
``describe()`` prints an MOSDOp as Ceph's log does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Self

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import feature_mask, has_feature
from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.messages.osd_op_common import (
    MAX_OPS,
    NO_PG,
    NO_TRACE,
    NO_VERSION,
    PG_T,
    SHAPES,
    TRACE_T,
    BlkinTrace,
    concat_payloads,
    cpp_strerror,
    pull_trace,
    push_trace,
    shape_struct,
    string_at,
)
from asyncmsgr.messages.osd_op_reply import (  # the reply, re-exported
    MOSDOpReply,
    RequestRedirect,
    pack_reply_front,
    pull_redirect,
    push_redirect,
    reply_front_struct,
)
from asyncmsgr.osd.ops import (
    OSD_OP_ARGS_LEN,
    OSD_OP_FORMAT,
    OSD_OP_LEN,
    OsdFlag,
    OSDOp,
    RawOp,
    ceph_osd_flag_string,
    format_ops,
    push_osd_op,
    split_payloads,
    unpack_osd_ops,
)
from asyncmsgr.osd.types import (
    CEPH_NOSNAP,
    PG,
    SPG,
    EVersion,
    HObject,
    ObjectLocator,
    OsdReqId,
    pull_eversion,
    pull_object_locator,
    pull_osd_reqid,
    pull_pg,
    pull_spg,
    push_eversion,
    push_object_locator,
    push_osd_reqid,
    push_pg,
    snap_str,
)
from asyncmsgr.types import Buffer, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_utime, push_utime

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection

_OBJECTLOCATOR = feature_mask("OBJECTLOCATOR")
_NEW_OSDOP_ENCODING = feature_mask("NEW_OSDOP_ENCODING")
_RESEND_ON_SPLIT = feature_mask("RESEND_ON_SPLIT")
_PGID64 = feature_mask("PGID64")
_NEW_OSDOPREPLY_ENCODING = feature_mask("NEW_OSDOPREPLY_ENCODING")

#: The reqid of a client that leaves it to the OSD (``osd_reqid_t()``).
EMPTY_REQID = OsdReqId(EntityName(0, 0), 0, 0)
_NO_SPG = SPG(NO_PG)
_EPOCH_0 = UTime()
_NO_LOCATOR = ObjectLocator(0)

# -- fixed runs of fields as ``struct`` formats (see osd_op_common) --------------------------
# MOSDOp v8 as Pacific clients write it, in the three pieces the Objecter encodes
# apart (a resend changes the first and last only):
# head: spg_t (header v1/1 len 18, pg_t, s8 shard), u32 hash, u32 epoch, u32 flags,
# osd_reqid_t (header v2/2 len 21, entity_name_t, u64 tid, s32 inc), blkin trace;
_V8_TARGET = "BBI" + PG_T + "bIII"
_REQID_T = "BBIBqQi"
_V8_ENCODE_HEAD = struct.Struct("<" + _V8_TARGET + _REQID_T + TRACE_T)
_V8_TARGET_STRUCT = struct.Struct("<" + _V8_TARGET)
# mid: u32 client_inc, utime mtime, object_locator_t v6 (header, s64 pool, s32
# preferred -1, key, nspace, s64 hash), oid, u16 num_ops, the ops, snapid, snap_seq,
# snaps (its fixed runs below);
_CLIENT_INC_MTIME = "III"
_OLOC_HEAD = struct.Struct("<BBIqi")
# tail: s32 retry_attempt, u64 features.
_V8_TAIL = struct.Struct("<iQ")
# What the decoder reads in one go: the head, client_inc and mtime (99 bytes).
_V8_HEAD = struct.Struct(_V8_ENCODE_HEAD.format + _CLIENT_INC_MTIME)
_V8_SPG_HDR = (1, 1, 18, 1)
_V8_REQID_HDR = (2, 2, 21)
_U16 = struct.Struct("<H")
_S64 = struct.Struct("<q")
# MOSDOp after the ops: u64 snapid, u64 snap_seq, u32 num_snaps, then the snaps.
_SNAP_HEAD = struct.Struct("<QQI")


def encode_v8_head(pgid: SPG, obj_hash: int, epoch: int, flags: int,
                   reqid: OsdReqId = EMPTY_REQID, trace: BlkinTrace = NO_TRACE) -> bytes:
    """The head of an MOSDOp v8 front: spg_t, hash, epoch, flags, reqid, trace."""
    pg = pgid.pgid
    name = reqid.name
    try:
        if reqid is EMPTY_REQID and trace is NO_TRACE:  # a client's: the OSD names it
            return _V8_TARGET_STRUCT.pack(1, 1, 18, 1, pg.pool, pg.seed, -1, pgid.shard,
                                          obj_hash, epoch, flags) + _EMPTY_REQID_TRACE
        return _V8_ENCODE_HEAD.pack(1, 1, 18, 1, pg.pool, pg.seed, -1, pgid.shard, obj_hash,
                                    epoch, flags, 2, 2, 21, name.type, name.num, reqid.tid,
                                    reqid.inc, trace[0], trace[1], trace[2])
    except struct.error as exc:
        raise EncodeError(f"MOSDOp v8: a field out of range ({exc})") from None


_EMPTY_REQID_TRACE = encode_v8_head(SPG(PG(0, 0)), 0, 0, 0, OsdReqId(EMPTY_REQID.name, 0, 0),
                                    BlkinTrace())[_V8_TARGET_STRUCT.size:]


def encode_v8_mid(client_inc: int, mtime: UTime, oloc: ObjectLocator, oid: str,
                  ops: Sequence[OSDOp], snapid: int, snap_seq: int,
                  snaps: Sequence[int]) -> bytes:
    """The middle of an MOSDOp v8 front (client_inc .. snaps): what stays the same
    across an op's resends, so the Objecter encodes it once per op."""
    nops = len(ops)
    if nops >= MAX_OPS:
        raise EncodeError(f"too many ops ({nops})")
    if oloc.hash != -1 and oloc.key:
        raise ValueError("object_locator_t cannot have both a key and a hash")
    try:
        key = oloc.key.encode("utf-8", "surrogateescape")
        nspace = oloc.nspace.encode("utf-8", "surrogateescape")
        name = oid.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"string not encodable: {exc}") from exc
    nk, nn, nname, nsnaps = len(key), len(nspace), len(name), len(snaps)
    args: list[object] = [
        client_inc, mtime.sec, mtime.nsec, 6, 6 if oloc.hash != -1 else 3, 28 + nk + nn,
        oloc.pool, -1, nk, key, nn, nspace, oloc.hash, nname, name, nops]
    for op in ops:
        union = op.args
        if len(union) != OSD_OP_ARGS_LEN:
            raise EncodeError("ceph_osd_op union has the wrong size")
        args += (op.op & 0xFFFF, op.flags & 0xFFFFFFFF, union, len(op.indata))
    args += (snapid, snap_seq, nsnaps)
    if nsnaps:
        args += snaps
    st = SHAPES.get(("mid", nk, nn, nname, nops, nsnaps))
    if st is None:
        st = shape_struct(("mid", nk, nn, nname, nops, nsnaps),
                          f"<{_CLIENT_INC_MTIME}{_OLOC_HEAD.format[1:]}I{nk}sI{nn}sqI{nname}sH"
                          + OSD_OP_FORMAT * nops + f"{_SNAP_HEAD.format[1:]}{nsnaps}Q")
    try:
        return st.pack(*args)
    except struct.error as exc:
        raise EncodeError(f"MOSDOp v8: a field out of range ({exc})") from None


def encode_v8_tail(retry_attempt: int, features: int) -> bytes:
    """The tail of an MOSDOp v8 front: retry_attempt, features."""
    try:
        return _V8_TAIL.pack(retry_attempt, features)
    except struct.error as exc:
        raise EncodeError(f"MOSDOp v8: a field out of range ({exc})") from None


def _pull_ops(r: Reader, n: int) -> list[RawOp]:
    if n * OSD_OP_LEN > r.remaining:
        raise DecodeError(f"{n} ops need {n * OSD_OP_LEN} bytes, have {r.remaining}")
    return unpack_osd_ops(r.pull_view(n * OSD_OP_LEN), 0, n)


def _pull_snaps(r: Reader) -> list[int]:
    return r.pull_list(Reader.pull_u64, 8)


@register_message
class MOSDOp(Message):
    """``MOSDOp``: operations on one object (or, with PGOP, on one PG).

    ``hash`` is the object's full 32-bit placement hash; ``oloc`` is what goes on
    the wire (the pool, locator key and namespace; for a PG op the PG's hash
    instead of a name). The client leaves :attr:`reqid` empty and the OSD names
    the request ``src.client_inc:tid``. Each op's ``indata`` is sent in the data
    segment.
    """

    TYPE = 42  # CEPH_MSG_OSD_OP
    HEAD_VERSION = 8
    COMPAT_VERSION = 3

    pgid: SPG
    """The PG the client mapped the object to (v8; the raw ``pg_t`` before)."""
    hash: int
    """The object's placement hash (``hobject_t::get_hash``)."""
    osdmap_epoch: int
    flags: int
    """:class:`~asyncmsgr.osd.ops.OsdFlag` bits."""
    reqid: OsdReqId
    trace: BlkinTrace
    client_inc: int
    mtime: UTime
    oloc: ObjectLocator
    oid: str
    ops: list[OSDOp]
    snapid: int
    snap_seq: int
    snaps: list[int]
    retry_attempt: int
    """0 for the first attempt, -1 when unknown."""
    features: int
    """The client's feature bits (not the connection's)."""
    reassert_version: EVersion
    """Sent (as zero) only by the v6/v7 encodings."""

    __slots__ = ("client_inc", "features", "flags", "hash", "mtime", "oid", "oloc", "ops",
                 "osdmap_epoch", "pgid", "reassert_version", "reqid", "retry_attempt",
                 "snap_seq", "snapid", "snaps", "trace")

    def __init__(self, *, pgid: SPG = _NO_SPG, hash: int = 0, osdmap_epoch: int = 0,
                 flags: int = 0, reqid: OsdReqId = EMPTY_REQID, trace: BlkinTrace = NO_TRACE,
                 client_inc: int = 0, mtime: UTime = _EPOCH_0,
                 oloc: ObjectLocator = _NO_LOCATOR, oid: str = "",
                 ops: list[OSDOp] | None = None, snapid: int = CEPH_NOSNAP, snap_seq: int = 0,
                 snaps: list[int] | None = None, retry_attempt: int = -1, features: int = 0,
                 reassert_version: EVersion = NO_VERSION, seq: int = 0, tid: int = 0,
                 priority: int = 0, version: int = 0, compat_version: int = 0,
                 data_off: int = 0, src: EntityName = NO_SRC, front: Buffer = b"",
                 middle: Buffer = b"", data: Buffer = b"",
                 connection: Connection | None = None, recv_stamp: float = 0.0,
                 throttle_stamp: float = 0.0, recv_complete_stamp: float = 0.0,
                 dispatch_stamp: float = 0.0, send_stamp: float = 0.0,
                 dispatch_throttle_size: int = 0,
                 release_hook: Callable[[], None] | None = None) -> None:
        # A hot class: Message's fields are set here, not by a call (test_messages
        # checks that every field of every class is set).
        self.seq = seq
        self.tid = tid
        self.priority = priority
        self.version = version
        self.compat_version = compat_version
        self.data_off = data_off
        self.src = src
        self.front = front
        self.middle = middle
        self.data = data
        self.connection = connection
        self.recv_stamp = recv_stamp
        self.throttle_stamp = throttle_stamp
        self.recv_complete_stamp = recv_complete_stamp
        self.dispatch_stamp = dispatch_stamp
        self.send_stamp = send_stamp
        self.dispatch_throttle_size = dispatch_throttle_size
        self.release_hook = release_hook
        self.pgid = pgid
        self.hash = hash
        self.osdmap_epoch = osdmap_epoch
        self.flags = flags
        self.reqid = reqid
        self.trace = trace
        self.client_inc = client_inc
        self.mtime = mtime
        self.oloc = oloc
        self.oid = oid
        self.ops = [] if ops is None else ops
        self.snapid = snapid
        self.snap_seq = snap_seq
        self.snaps = [] if snaps is None else snaps
        self.retry_attempt = retry_attempt
        self.features = features
        self.reassert_version = reassert_version

    @property
    def hobj(self) -> HObject:
        """The target as the OSD names it (``1:61bc53c3:::myobj:head``)."""
        return HObject(self.oid, self.oloc.key, self.snapid, self.hash, False,
                       self.oloc.nspace, self.pgid.pgid.pool)

    @property
    def raw_pg(self) -> PG:
        """``get_raw_pg``: the pool and the full hash."""
        return PG(self.pgid.pgid.pool, self.hash)

    def effective_reqid(self) -> OsdReqId:
        """``get_reqid``: the explicit reqid, else ``src.client_inc:tid``."""
        if self.reqid.name != EntityName(0, 0) or self.reqid.tid:
            return self.reqid
        return OsdReqId(self.src, self.tid, self.client_inc)

    def encode_payload(self, features: int) -> None:
        """Front by the peer's features (v8, v7 or v6); data = the ops' input."""
        w = Writer()
        if not has_feature(features, _OBJECTLOCATOR):
            raise EncodeError("MOSDOp v1 (peer without OBJECTLOCATOR) is not supported")
        if not has_feature(features, _NEW_OSDOP_ENCODING):
            self.version = 6
            w.push_u32(self.client_inc)
            w.push_u32(self.osdmap_epoch)
            w.push_u32(self.flags)
            push_utime(w, self.mtime)
            push_eversion(w, self.reassert_version)
            push_object_locator(w, self.oloc)
            push_pg(w, self.raw_pg)
            w.push_string(self.oid)
            self._push_ops_and_tail(w)
            push_osd_reqid(w, self.reqid)
        elif not has_feature(features, _RESEND_ON_SPLIT):
            self.version = 7
            push_pg(w, self.raw_pg)
            w.push_u32(self.osdmap_epoch)
            w.push_u32(self.flags)
            push_eversion(w, self.reassert_version)
            push_osd_reqid(w, self.reqid)
            self._push_v7_tail(w)
        else:
            self.version = self.HEAD_VERSION
            self.front = self._encode_v8()
            self.data = concat_payloads([op.indata for op in self.ops])
            return
        self.front = w.getvalue()
        self.data = concat_payloads([op.indata for op in self.ops])

    def _encode_v8(self) -> bytes:
        """The v8 front: :func:`encode_v8_head`, :func:`encode_v8_mid`,
        :func:`encode_v8_tail` (the bytes ``push_spg``, ``push_osd_reqid``,
        ``push_trace`` and the v7 tail would write)."""
        return b"".join((
            encode_v8_head(self.pgid, self.hash, self.osdmap_epoch, self.flags, self.reqid,
                           self.trace),
            encode_v8_mid(self.client_inc, self.mtime, self.oloc, self.oid, self.ops,
                          self.snapid, self.snap_seq, self.snaps),
            encode_v8_tail(self.retry_attempt, self.features)))

    def _push_v7_tail(self, w: Writer) -> None:
        w.push_u32(self.client_inc)
        push_utime(w, self.mtime)
        push_object_locator(w, self.oloc)
        w.push_string(self.oid)
        self._push_ops_and_tail(w)

    def _push_ops_and_tail(self, w: Writer) -> None:
        if len(self.ops) >= MAX_OPS:
            raise EncodeError(f"too many ops ({len(self.ops)})")
        w.push_u16(len(self.ops))
        for op in self.ops:
            push_osd_op(w, op, len(op.indata))
        w.push_u64(self.snapid)
        w.push_u64(self.snap_seq)
        w.push_list(self.snaps, Writer.push_u64)
        w.push_s32(self.retry_attempt)
        w.push_u64(self.features)

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse v8, v7 or v2-v6 and split the data segment into the ops' input."""
        v = header.version
        if v == 8:
            rest = front.pull_rest()
            fast = cls._decode_v8_fast(rest, data)
            if fast is not None:
                return fast
            front = Reader(rest)
        reassert = NO_VERSION
        trace = NO_TRACE
        if v >= 8:
            pgid = pull_spg(front)
            hash_ = front.pull_u32()
            epoch = front.pull_u32()
            flags = front.pull_u32()
            reqid = pull_osd_reqid(front)
            trace = pull_trace(front)
        elif v == 7:
            raw = pull_pg(front)
            pgid, hash_ = SPG(raw), raw.seed
            epoch = front.pull_u32()
            flags = front.pull_u32()
            reassert = pull_eversion(front)
            reqid = pull_osd_reqid(front)
        elif v >= 2:
            return cls._decode_legacy(v, front, data)
        else:
            raise IncompatibleEncoding(f"MOSDOp v{v} (pre-Argonaut) is not supported")
        client_inc = front.pull_u32()
        mtime = pull_utime(front)
        oloc = pull_object_locator(front)
        oid = front.pull_string()
        raw_ops = _pull_ops(front, front.pull_u16())
        snapid = front.pull_u64()
        snap_seq = front.pull_u64()
        snaps = _pull_snaps(front)
        retry = front.pull_s32()
        features = front.pull_u64()
        return cls(pgid=pgid, hash=hash_, osdmap_epoch=epoch, flags=flags, reqid=reqid,
                   trace=trace, client_inc=client_inc, mtime=mtime, oloc=oloc, oid=oid,
                   ops=split_payloads(raw_ops, data, out=False), snapid=snapid,
                   snap_seq=snap_seq, snaps=snaps, retry_attempt=retry, features=features,
                   reassert_version=reassert)

    @classmethod
    def _decode_v8_fast(cls, buf: memoryview, data: memoryview) -> Self | None:
        """The v8 front as Pacific clients write it (the layout
        :func:`_v8_front_struct` packs), read with a few ``struct`` calls (an OSD's
        hot path). Returns None for anything else (another header size, a bound
        that does not hold): the field-by-field decoder then parses it, or raises
        its precise DecodeError. Only an op payload beyond the data segment is
        refused here (by ``split_payloads``, with the same error)."""
        end = len(buf)
        if end < _V8_HEAD.size + _OLOC_HEAD.size:
            return None
        (spg_v, spg_c, spg_len, pg_v, pool, seed, _pref, shard, hash_, epoch, flags,
         rq_v, rq_c, rq_len, name_type, name_num, tid, inc, t0, t1, t2, client_inc, sec,
         nsec) = _V8_HEAD.unpack_from(buf)
        if (spg_v, spg_c, spg_len, pg_v) != _V8_SPG_HDR or \
                (rq_v, rq_c, rq_len) != _V8_REQID_HDR:
            return None
        pos = _V8_HEAD.size
        ol_v, ol_c, ol_len, ol_pool, _ol_pref = _OLOC_HEAD.unpack_from(buf, pos)
        ol_end = pos + 6 + ol_len
        if ol_v != 6 or not 3 <= ol_c <= 6 or ol_end > end:
            return None
        pos += _OLOC_HEAD.size
        key, pos = string_at(buf, pos, ol_end)
        nspace, pos = string_at(buf, pos, ol_end)
        if key is None or nspace is None or pos + 8 != ol_end:
            return None
        (ol_hash,) = _S64.unpack_from(buf, pos)
        if ol_hash != -1 and key:
            return None
        oid, pos = string_at(buf, ol_end, end)
        if oid is None or pos + 2 > end:
            return None
        (nops,) = _U16.unpack_from(buf, pos)
        pos += 2
        ops_end = pos + nops * OSD_OP_LEN
        if ops_end + _SNAP_HEAD.size > end:
            return None
        raw_ops = unpack_osd_ops(buf, pos, nops)
        snapid, snap_seq, nsnaps = _SNAP_HEAD.unpack_from(buf, ops_end)
        pos = ops_end + _SNAP_HEAD.size
        snaps_end = pos + 8 * nsnaps
        if snaps_end + _V8_TAIL.size > end:
            return None
        snaps = list(struct.unpack_from(f"<{nsnaps}Q", buf, pos)) if nsnaps else []
        retry, features = _V8_TAIL.unpack_from(buf, snaps_end)
        ops = split_payloads(raw_ops, data, out=False)
        return cls(pgid=SPG(PG(pool, seed), shard), hash=hash_, osdmap_epoch=epoch,
                   flags=flags, reqid=OsdReqId(EntityName(name_type, name_num), tid, inc),
                   trace=BlkinTrace(t0, t1, t2), client_inc=client_inc,
                   mtime=UTime(sec, nsec), oloc=ObjectLocator(ol_pool, key, nspace, ol_hash),
                   oid=oid, ops=ops, snapid=snapid, snap_seq=snap_seq, snaps=snaps,
                   retry_attempt=retry, features=features)

    @classmethod
    def _decode_legacy(cls, v: int, front: Reader, data: memoryview) -> Self:
        """v2-v6: ``client_inc, epoch, flags, mtime, reassert, oloc, pgid, oid ...``."""
        client_inc = front.pull_u32()
        epoch = front.pull_u32()
        flags = front.pull_u32()
        mtime = pull_utime(front)
        reassert = pull_eversion(front)
        oloc = pull_object_locator(front)
        if v < 3:  # old_pg_t (struct ceph_pg): le16 preferred, le16 ps, le32 pool
            front.pull_s16()
            ps = front.pull_u16()
            raw = PG(front.pull_u32(), ps)
        else:
            raw = pull_pg(front)
        oid = front.pull_string()
        raw_ops = _pull_ops(front, front.pull_u16())
        snapid = front.pull_u64()
        snap_seq = front.pull_u64()
        snaps = _pull_snaps(front)
        retry = front.pull_s32() if v >= 4 else -1
        features = front.pull_u64() if v >= 5 else 0
        reqid = pull_osd_reqid(front) if v >= 6 else EMPTY_REQID
        return cls(pgid=SPG(raw), hash=raw.seed, osdmap_epoch=epoch, flags=flags,
                   reqid=reqid, client_inc=client_inc, mtime=mtime, oloc=oloc, oid=oid,
                   ops=split_payloads(raw_ops, data, out=False), snapid=snapid,
                   snap_seq=snap_seq, snaps=snaps, retry_attempt=retry, features=features,
                   reassert_version=reassert)

    def describe(self) -> str:
        """As Ceph logs it: ``osd_op(client.4107.0:1 1.6 1:61bc53c3:::myobj:head
        [writefull 0~12 in=12b] snapc 0=[] ondisk+write+known_if_redirected e8) v8``."""
        snaps = ",".join(snap_str(s) for s in self.snaps)
        retry = (f" RETRY={self.retry_attempt}" if self.flags & OsdFlag.RETRY else "")
        return (f"osd_op({self.effective_reqid()} {self.pgid} {self.hobj} "
                f"{format_ops(self.ops)} snapc {snap_str(self.snap_seq)}=[{snaps}]{retry} "
                f"{ceph_osd_flag_string(self.flags)} e{self.osdmap_epoch}) v{self.version}")


__all__ = [
    "EMPTY_REQID",
    "NO_TRACE",
    "BlkinTrace",
    "MOSDOp",
    "MOSDOpReply",
    "RequestRedirect",
    "cpp_strerror",
    "encode_v8_head",
    "encode_v8_mid",
    "encode_v8_tail",
    "pack_reply_front",
    "pull_redirect",
    "pull_trace",
    "push_redirect",
    "push_trace",
    "reply_front_struct",
]
