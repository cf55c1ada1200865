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
from typing import TYPE_CHECKING, NamedTuple, Self

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import feature_mask, has_feature
from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.osd.ops import (
    OsdFlag,
    OSDOp,
    ceph_osd_flag_string,
    format_ops,
    pull_osd_op,
    push_osd_op,
    split_payloads,
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
    push_spg,
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
_NOSNAP_MIN_OP = 38
_NO_PG = PG(0, 0)
_NO_SPG = SPG(_NO_PG)
_EPOCH_0 = UTime()
_NO_VERSION = EVersion()
_NO_LOCATOR = ObjectLocator(0)

# The fixed head of a Pacific MOSDOp v8 front (99 bytes): spg_t (header v1/1 len 18,
# pg_t v1 pool seed preferred, shard), hash, epoch, flags, osd_reqid_t (header v2/2
# len 21, entity_name_t, tid, inc), blkin trace, client_inc, mtime.
_V8_HEAD = struct.Struct("<BBIBQIibIIIBBIBqQiQQQIII")
_V8_SPG_HDR = (1, 1, 18, 1)
_V8_REQID_HDR = (2, 2, 21)
_OLOC_HEAD = struct.Struct("<BBIqi")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_S64 = struct.Struct("<q")
_RAW_OP = struct.Struct("<HI28sI")
_SNAP_HEAD = struct.Struct("<QQI")
_V8_TAIL = struct.Struct("<iQ")


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


def _pull_ops(r: Reader, n: int) -> list[tuple[OSDOp, int]]:
    if n * _NOSNAP_MIN_OP > r.remaining:
        raise DecodeError(f"{n} ops need {n * _NOSNAP_MIN_OP} bytes, have {r.remaining}")
    return [pull_osd_op(r) for _ in range(n)]


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
            push_spg(w, self.pgid)
            w.push_u32(self.hash)
            w.push_u32(self.osdmap_epoch)
            w.push_u32(self.flags)
            push_osd_reqid(w, self.reqid)
            push_trace(w, self.trace)
            self._push_v7_tail(w)
        self.front = w.getvalue()
        self.data = _concat([op.indata for op in self.ops])

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
        """The v8 front as Pacific clients write it, read with a few ``struct`` calls
        (an OSD's hot path). Returns None for anything else (another header size, a
        bound that does not hold): the field-by-field decoder then parses it, or
        raises its precise DecodeError."""
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
        ops_end = pos + nops * _RAW_OP.size
        if ops_end + _SNAP_HEAD.size > end:
            return None
        raw_ops = []
        total = 0
        for off in range(pos, ops_end, _RAW_OP.size):
            code, op_flags, args, plen = _RAW_OP.unpack_from(buf, off)
            raw_ops.append((code, op_flags, args, plen))
            total += plen
        if total > len(data):
            return None
        snapid, snap_seq, nsnaps = _SNAP_HEAD.unpack_from(buf, ops_end)
        pos = ops_end + _SNAP_HEAD.size
        snaps_end = pos + 8 * nsnaps
        if snaps_end + _V8_TAIL.size > end:
            return None
        snaps = list(struct.unpack_from(f"<{nsnaps}Q", buf, pos)) if nsnaps else []
        retry, features = _V8_TAIL.unpack_from(buf, snaps_end)
        ops = []
        at = 0
        for code, op_flags, args, plen in raw_ops:
            ops.append(OSDOp(code, op_flags, args, data[at:at + plen] if plen else b""))
            at += plen
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
        """Parse v2-v8 and split the data segment into the ops' output (v4+)."""
        v = header.version
        if v < 2:
            raise IncompatibleEncoding(f"MOSDOpReply v{v} (pre-PGID64) is not supported")
        oid = front.pull_string()
        pgid = pull_pg(front)
        flags = front.pull_s64()
        result = front.pull_s32()
        bad_replay = pull_eversion(front)
        epoch = front.pull_u32()
        n = front.pull_u32()
        if n >= _MAX_OPS:
            raise DecodeError(f"MOSDOpReply: {n} ops")
        raw_ops = _pull_ops(front, n)
        retry = front.pull_s32() if v >= 3 else -1
        ops = [op for op, _ in raw_ops]
        if v >= 4:
            rvals = [front.pull_s32() for _ in range(n)]
            with_rval = [(OSDOp(op.op, op.flags, op.args, rval=rv), plen)
                         for (op, plen), rv in zip(raw_ops, rvals, strict=True)]
            ops = split_payloads(with_rval, data, out=True)
        if v >= 5:
            replay = pull_eversion(front)
            user_version = front.pull_u64()
        else:
            replay = bad_replay
            user_version = bad_replay.version
        redirect: RequestRedirect | None = None
        if v == 6:
            red = pull_redirect(front)
            redirect = None if red.empty else red
        elif v >= 7 and front.pull_bool():
            redirect = pull_redirect(front)
        trace = pull_trace(front) if v >= 8 else NO_TRACE
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
    "pull_redirect",
    "pull_trace",
    "push_redirect",
    "push_trace",
]
