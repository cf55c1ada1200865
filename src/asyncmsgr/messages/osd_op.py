"""Object I/O messages: MOSDOp (42) and MOSDOpReply (43), Pacific layouts (rados.md).

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

MOSDOpReply v8 (compat 2)::

    object_t oid, pg_t pgid, s64 flags, s32 result, eversion_t bad_replay_version,
    u32 osdmap_epoch, u32 num_ops, ceph_osd_op[num_ops], s32 retry_attempt,
    s32 rval[num_ops], eversion_t replay_version, u64 user_version,
    u8 do_redirect [request_redirect_t], blkin_trace_info trace

with the ops' output in the data segment. Without NEW_OSDOPREPLY_ENCODING the
redirect is always present (v6). ``describe()`` prints either as Ceph's log does.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Self, cast

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import feature_mask, has_feature
from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.messages.construct import positional_constructor
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
_MAX_OPS = 1 << 16
_NO_PG = PG(0, 0)
_NO_SPG = SPG(_NO_PG)
_EPOCH_0 = UTime()
_NO_VERSION = EVersion()
_NO_LOCATOR = ObjectLocator(0)

class BlkinTrace(NamedTuple):
    """``blkin_trace_info``: zipkin ids (all zero when tracing is off)."""

    trace_id: int = 0
    span_id: int = 0
    parent_span_id: int = 0


#: Tracing off.
NO_TRACE = BlkinTrace()


def pull_trace(r: Reader) -> BlkinTrace:
    """``Message::decode_trace``: three u64."""
    a = r.pull_u64()
    b = r.pull_u64()
    return BlkinTrace(a, b, r.pull_u64())


def push_trace(w: Writer, t: BlkinTrace) -> None:
    """``Message::encode_trace``."""
    w.push_u64(t.trace_id)
    w.push_u64(t.span_id)
    w.push_u64(t.parent_span_id)


# -- fixed runs of fields as ``struct`` formats ---------------------------------------------
# Each layout is stated once here and the fast encoders and decoders of both
# messages are built from it (with ``OSD_OP_FORMAT``); the field-by-field
# Reader/Writer code serves the other versions and the headers Pacific does not write.

#: pg_t: u8 version (1), u64 pool, u32 seed, s32 preferred (-1).
_PG_T = "BQIi"
#: eversion_t: u64 version, u32 epoch.
_EVERSION = "QI"
#: blkin_trace_info: three u64.
_TRACE_T = "QQQ"
# MOSDOp v8 as Pacific clients write it, in the three pieces the Objecter encodes
# apart (a resend changes the first and last only):
# head: spg_t (header v1/1 len 18, pg_t, s8 shard), u32 hash, u32 epoch, u32 flags,
# osd_reqid_t (header v2/2 len 21, entity_name_t, u64 tid, s32 inc), blkin trace;
_V8_TARGET = "BBI" + _PG_T + "bIII"
_REQID_T = "BBIBqQi"
_V8_ENCODE_HEAD = struct.Struct("<" + _V8_TARGET + _REQID_T + _TRACE_T)
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
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_S32 = struct.Struct("<i")
_S64 = struct.Struct("<q")
# MOSDOp after the ops: u64 snapid, u64 snap_seq, u32 num_snaps, then the snaps.
_SNAP_HEAD = struct.Struct("<QQI")
# MOSDOpReply after its name: pg_t, s64 flags, s32 result, eversion_t
# bad_replay_version, u32 osdmap_epoch, u32 num_ops.
_REPLY_HEAD = struct.Struct("<" + _PG_T + "qi" + _EVERSION + "II")
# eversion_t replay_version, u64 user_version (v5+).
_REPLAY = struct.Struct("<" + _EVERSION + "Q")
_TRACE = struct.Struct("<" + _TRACE_T)
_tuple_new = tuple.__new__

#: Packers of whole fronts by shape, cached up to a bound (a workload has few shapes).
_SHAPES: dict[tuple[object, ...], struct.Struct] = {}
_MAX_SHAPES = 1024


def _shape(key: tuple[object, ...], fmt: str) -> struct.Struct:
    st = _SHAPES.get(key)
    if st is None:
        st = struct.Struct(fmt)
        if len(_SHAPES) < _MAX_SHAPES:
            _SHAPES[key] = st
    return st


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
    if nops >= _MAX_OPS:
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
    st = _SHAPES.get(("mid", nk, nn, nname, nops, nsnaps))
    if st is None:
        st = _shape(("mid", nk, nn, nname, nops, nsnaps),
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


def reply_front_struct(oidlen: int, nops: int) -> struct.Struct:
    """A whole MOSDOpReply v8 front without a redirect, of this shape: oid, the
    reply head, the ops, retry_attempt, rvals, replay_version, user_version,
    do_redirect (0), trace."""
    st = _SHAPES.get(("reply", oidlen, nops))
    if st is None:
        st = _shape(("reply", oidlen, nops),
                    f"<I{oidlen}s{_REPLY_HEAD.format[1:]}" + OSD_OP_FORMAT * nops
                    + f"i{nops}i{_REPLAY.format[1:]}B{_TRACE_T}")
    return st


#: Most ops a reply decoded in one unpack may carry (a client's vectors are short).
_WHOLE_REPLY_OPS = 16


def _unpack_reply_v8(buf: memoryview) -> tuple[Any, ...] | None:
    """A v8 front without a redirect, unpacked whole by :func:`reply_front_struct`
    of its shape (the bytes are all checked present by the size); None for any
    other shape (a redirect, trailing bytes, many ops, a short front, a pg_t
    version other than 1): the field-by-field decoder reads or refuses those."""
    end = len(buf)
    if end < 4:
        return None
    (n,) = _U32.unpack_from(buf, 0)
    at = n + _REPLY_HEAD.size  # num_ops: the head's last field, after u32 len + name
    if at + 4 > end:
        return None
    (nops,) = _U32.unpack_from(buf, at)
    if nops > _WHOLE_REPLY_OPS:
        return None
    st = reply_front_struct(n, nops)
    if st.size != end or buf[end - 25]:  # do_redirect, before the 24-byte trace
        return None
    vals = st.unpack_from(buf)
    return vals if vals[2] == 1 else None


def _pull_ops(r: Reader, n: int) -> list[RawOp]:
    if n * OSD_OP_LEN > r.remaining:
        raise DecodeError(f"{n} ops need {n * OSD_OP_LEN} bytes, have {r.remaining}")
    return unpack_osd_ops(r.pull_view(n * OSD_OP_LEN), 0, n)


def _pull_snaps(r: Reader) -> list[int]:
    return r.pull_list(Reader.pull_u64, 8)


def cpp_strerror(r: int) -> str:
    """Ceph's ``cpp_strerror``: ``(2) No such file or directory``.

    ``r`` is a C ``int`` there: negating INT_MIN leaves it negative, and a value
    from a wider field wraps to 32 bits, as the C++ conversion does.
    """
    err = -r if r < 0 else r
    err = ((err + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    return f"({err}) {os.strerror(err)}"


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
                 reassert_version: EVersion = _NO_VERSION, seq: int = 0, tid: int = 0,
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
            self.data = _concat([op.indata for op in self.ops])
            return
        self.front = w.getvalue()
        self.data = _concat([op.indata for op in self.ops])

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
        if len(self.ops) >= _MAX_OPS:
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
        reassert = _NO_VERSION
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
        key, pos = _string_at(buf, pos, ol_end)
        nspace, pos = _string_at(buf, pos, ol_end)
        if key is None or nspace is None or pos + 8 != ol_end:
            return None
        (ol_hash,) = _S64.unpack_from(buf, pos)
        if ol_hash != -1 and key:
            return None
        oid, pos = _string_at(buf, ol_end, end)
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


def _string_at(buf: memoryview, pos: int, end: int) -> tuple[str | None, int]:
    """A ``std::string`` at ``pos`` (None if it does not fit before ``end``)."""
    if pos + 4 > end:
        return None, pos
    (n,) = _U32.unpack_from(buf, pos)
    pos += 4
    if pos + n > end:
        return None, pos
    return bytes(buf[pos:pos + n]).decode("utf-8", "surrogateescape"), pos + n


# -- MOSDOpReply ---------------------------------------------------------------------------


class RequestRedirect(NamedTuple):
    """``request_redirect_t``: where the client should send the op instead."""

    locator: ObjectLocator = ObjectLocator(-1)
    oid: str = ""

    @property
    def empty(self) -> bool:
        """``request_redirect_t::empty``: no pool and no object."""
        return self.locator.pool == -1 and not self.oid

    def __str__(self) -> str:
        loc = self.locator
        text = f"@{loc.pool}" + (f";{loc.nspace}" if loc.nspace else "")
        text += f":{loc.key}" if loc.key else ""
        return f"object {self.oid}, locator{{{text}}}"


def pull_redirect(r: Reader) -> RequestRedirect:
    """``request_redirect_t`` (v1): locator, object, then legacy instructions skipped."""
    _, body = r.pull_versioned(1, "request_redirect_t")
    loc = pull_object_locator(body)
    oid = body.pull_string()
    legacy = body.pull_u32()
    body.pull_view(legacy)
    return RequestRedirect(loc, oid)


def push_redirect(w: Writer, red: RequestRedirect) -> None:
    """``request_redirect_t`` (v1)."""
    with w.versioned(1, 1):
        push_object_locator(w, red.locator)
        w.push_string(red.oid)
        w.push_u32(0)


_RVALS = [struct.Struct(f"<{n}i") for n in range(8)]


def _rvals_struct(n: int) -> struct.Struct:
    """``s32 rval[n]``."""
    return _RVALS[n] if n < 8 else _shape(("rvals", n), f"<{n}i")


def _pull_redirect_at(buf: memoryview, pos: int) -> tuple[RequestRedirect, int]:
    """``request_redirect_t`` at ``pos`` of ``buf``; (it, the offset after it)."""
    r = Reader(buf, pos)
    red = pull_redirect(r)
    return red, r.pos


def pack_reply_front(oid: bytes, pgid: PG, flags: int, result: int, bad: EVersion,
                     epoch: int, ops: Sequence[OSDOp], retry: int, replay: EVersion,
                     user_version: int, trace: BlkinTrace = NO_TRACE) -> bytes:
    """An MOSDOpReply v8 front without a redirect (what a Pacific OSD writes to a
    Pacific client), packed by one cached struct of its shape. Raises EncodeError
    for a field out of its range."""
    nops = len(ops)
    if nops >= _MAX_OPS:
        raise EncodeError(f"too many ops ({nops})")
    args: list[object] = [len(oid), oid, 1, pgid.pool, pgid.seed, -1, flags, result,
                          bad.version, bad.epoch, epoch, nops]
    for op in ops:
        args += (op.op & 0xFFFF, op.flags & 0xFFFFFFFF, op.args, len(op.outdata))
    args.append(retry)
    args += [op.rval for op in ops]
    args += (replay.version, replay.epoch, user_version, 0, trace[0], trace[1], trace[2])
    try:
        return reply_front_struct(len(oid), nops).pack(*args)
    except struct.error as exc:
        raise EncodeError(f"MOSDOpReply v8: a field out of range ({exc})") from None


@register_message
class MOSDOpReply(Message):
    """``MOSDOpReply``: the result of an MOSDOp (same tid), each op's rval and output.

    ``result`` is the first failing op's error (or a PG op's status, e.g. 1 when
    a PGNLS finished its PG); ``user_version`` is the object's version after a
    write. Each op's ``outdata`` is sent in the data segment.
    """

    TYPE = 43  # CEPH_MSG_OSD_OPREPLY
    HEAD_VERSION = 8
    COMPAT_VERSION = 2

    oid: str
    pgid: PG
    flags: int
    result: int
    bad_replay_version: EVersion
    osdmap_epoch: int
    ops: list[OSDOp]
    retry_attempt: int
    replay_version: EVersion
    user_version: int
    redirect: RequestRedirect | None
    trace: BlkinTrace

    __slots__ = ("bad_replay_version", "flags", "oid", "ops", "osdmap_epoch", "pgid",
                 "redirect", "replay_version", "result", "retry_attempt", "trace",
                 "user_version")

    def __init__(self, *, oid: str = "", pgid: PG = _NO_PG, flags: int = 0, result: int = 0,
                 bad_replay_version: EVersion = _NO_VERSION, osdmap_epoch: int = 0,
                 ops: list[OSDOp] | None = None, retry_attempt: int = -1,
                 replay_version: EVersion = _NO_VERSION, user_version: int = 0,
                 redirect: RequestRedirect | None = None, trace: BlkinTrace = NO_TRACE,
                 seq: int = 0, tid: int = 0, priority: int = 0, version: int = 0,
                 compat_version: int = 0, data_off: int = 0, src: EntityName = NO_SRC,
                 front: Buffer = b"", middle: Buffer = b"", data: Buffer = b"",
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
        self.oid = oid
        self.pgid = pgid
        self.flags = flags
        self.result = result
        self.bad_replay_version = bad_replay_version
        self.osdmap_epoch = osdmap_epoch
        self.ops = [] if ops is None else ops
        self.retry_attempt = retry_attempt
        self.replay_version = replay_version
        self.user_version = user_version
        self.redirect = redirect
        self.trace = trace

    @property
    def is_ondisk(self) -> bool:
        """The ONDISK ack flag."""
        return bool(self.flags & OsdFlag.ONDISK)

    def encode_payload(self, features: int) -> None:
        """Front v8 (v6 for peers without NEW_OSDOPREPLY_ENCODING); data = outputs."""
        if not has_feature(features, _PGID64):
            raise EncodeError("MOSDOpReply v1 (peer without PGID64) is not supported")
        if self.redirect is None and has_feature(features, _NEW_OSDOPREPLY_ENCODING):
            self.version = self.HEAD_VERSION
            try:
                oid = self.oid.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError as exc:
                raise EncodeError(f"string not encodable: {exc}") from exc
            self.front = pack_reply_front(oid, self.pgid, self.flags, self.result,
                                          self.bad_replay_version, self.osdmap_epoch,
                                          self.ops, self.retry_attempt, self.replay_version,
                                          self.user_version, self.trace)
            self.data = _concat([op.outdata for op in self.ops])
            return
        w = Writer()
        w.push_string(self.oid)
        push_pg(w, self.pgid)
        w.push_s64(self.flags)
        w.push_s32(self.result)
        push_eversion(w, self.bad_replay_version)
        w.push_u32(self.osdmap_epoch)
        w.push_u32(len(self.ops))
        for op in self.ops:
            push_osd_op(w, op, len(op.outdata))
        w.push_s32(self.retry_attempt)
        for op in self.ops:
            w.push_s32(op.rval)
        push_eversion(w, self.replay_version)
        w.push_u64(self.user_version)
        if not has_feature(features, _NEW_OSDOPREPLY_ENCODING):
            self.version = 6
            push_redirect(w, self.redirect or RequestRedirect())
        else:
            self.version = self.HEAD_VERSION
            w.push_bool(self.redirect is not None)
            if self.redirect is not None:
                push_redirect(w, self.redirect)
        push_trace(w, self.trace)
        self.front = w.getvalue()
        self.data = _concat([op.outdata for op in self.ops])

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse v2-v8 and split the data segment into the ops' output (v4+).

        Straight-line: one unpack for each fixed run of fields (a reply to a
        client's op is decoded once per op), the Reader only for a redirect.
        """
        v = header.version
        if v < 2:
            raise IncompatibleEncoding(f"MOSDOpReply v{v} (pre-PGID64) is not supported")
        buf = front.pull_rest()
        vals = _unpack_reply_v8(buf) if v == 8 else None
        if vals is not None:
            oid = str(vals[1], "utf-8", "surrogateescape")
            (_, pool, seed, _, flags, result, bad_ver, bad_epoch, epoch, nops) = vals[2:12]
            p = 12 + 4 * nops
            raw = cast(list[RawOp], [vals[i:i + 4] for i in range(12, p, 4)])
            ops = split_payloads(raw, data, out=True, rvals=vals[p + 1:p + 1 + nops])
            rv_ver, rv_epoch, user_version, _, t0, t1, t2 = vals[p + 1 + nops:]
            trace = NO_TRACE if not (t0 or t1 or t2) else _tuple_new(BlkinTrace, (t0, t1, t2))
            pgid = _tuple_new(PG, (pool, seed))
            bad_replay = _tuple_new(EVersion, (bad_epoch, bad_ver))
            replay = _tuple_new(EVersion, (rv_epoch, rv_ver))
            if cls is MOSDOpReply:
                return cast(Self, _new_reply(oid, pgid, flags, result, bad_replay, epoch, ops,
                                             vals[p], replay, user_version, None, trace))
            return cls(oid=oid, pgid=pgid, flags=flags, result=result,
                       bad_replay_version=bad_replay, osdmap_epoch=epoch, ops=ops,
                       retry_attempt=vals[p], replay_version=replay,
                       user_version=user_version, trace=trace)
        end = len(buf)
        try:
            oid_or_none, pos = _string_at(buf, 0, end)
            if oid_or_none is None:
                raise DecodeError(f"MOSDOpReply: object name does not fit in {end} bytes")
            oid = oid_or_none
            (pg_v, pool, seed, _, flags, result, bad_ver, bad_epoch, epoch,
             nops) = _REPLY_HEAD.unpack_from(buf, pos)
            if pg_v != 1:
                raise DecodeError(f"pg_t: unknown version {pg_v}")
            pos += _REPLY_HEAD.size
            if nops >= _MAX_OPS:
                raise DecodeError(f"MOSDOpReply: {nops} ops")
            raw = unpack_osd_ops(buf, pos, nops)
            pos += nops * OSD_OP_LEN
            retry = -1
            if v >= 3:
                (retry,) = _S32.unpack_from(buf, pos)
                pos += 4
            if v >= 4:
                rvals = _rvals_struct(nops).unpack_from(buf, pos)
                pos += 4 * nops
                ops = split_payloads(raw, data, out=True, rvals=rvals)
            else:
                # before v4 the output was not split (payload lengths ignored)
                ops = split_payloads([(o, f, a, 0) for o, f, a, _ in raw], data, out=True)
            bad_replay = _tuple_new(EVersion, (bad_epoch, bad_ver))
            if v >= 5:
                rv_ver, rv_epoch, user_version = _REPLAY.unpack_from(buf, pos)
                pos += _REPLAY.size
                replay = _tuple_new(EVersion, (rv_epoch, rv_ver))
            else:
                replay = bad_replay
                user_version = bad_ver
            redirect: RequestRedirect | None = None
            if v == 6:
                red, pos = _pull_redirect_at(buf, pos)
                redirect = None if red.empty else red
            elif v >= 7:
                pos += 1
                if buf[pos - 1]:
                    redirect, pos = _pull_redirect_at(buf, pos)
            trace = NO_TRACE
            if v >= 8:
                trace = _tuple_new(BlkinTrace, _TRACE.unpack_from(buf, pos))
        except (struct.error, IndexError) as exc:
            raise DecodeError(f"MOSDOpReply: front ends early ({exc})") from None
        pgid = _tuple_new(PG, (pool, seed))
        if cls is MOSDOpReply:
            return cast(Self, _new_reply(oid, pgid, flags, result, bad_replay, epoch, ops,
                                         retry, replay, user_version, redirect, trace))
        return cls(oid=oid, pgid=pgid, flags=flags, result=result,
                   bad_replay_version=bad_replay, osdmap_epoch=epoch, ops=ops,
                   retry_attempt=retry, replay_version=replay, user_version=user_version,
                   redirect=redirect, trace=trace)

    def describe(self) -> str:
        """As Ceph logs it: ``osd_op_reply(1 myobj [writefull 0~12] v8'1 uv1 ondisk
        = 0) v8``; errors add ``(cpp_strerror)``."""
        ack = (" ondisk" if self.flags & OsdFlag.ONDISK
               else " onnvram" if self.flags & OsdFlag.ONNVRAM else " ack")
        err = f" ({cpp_strerror(self.result)})" if self.result < 0 else ""
        red = f" redirect: {{ {self.redirect} }}" if self.redirect is not None else ""
        return (f"osd_op_reply({self.tid} {self.oid} {format_ops(self.ops)} "
                f"v{self.replay_version} uv{self.user_version}{ack} = {self.result}"
                f"{err}{red}) v{self.version}")


#: MOSDOpReply from the fields its decoder sets (one per reply on the Objecter's path).
_new_reply = positional_constructor(MOSDOpReply, (
    "oid", "pgid", "flags", "result", "bad_replay_version", "osdmap_epoch", "ops",
    "retry_attempt", "replay_version", "user_version", "redirect", "trace"))


def _concat(parts: Sequence[Buffer]) -> Buffer:
    """The ops' payloads back to back; a lone payload is passed on uncopied."""
    present = [p for p in parts if len(p)]
    if not present:
        return b""
    if len(present) == 1:
        return present[0]
    return b"".join(present)


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
