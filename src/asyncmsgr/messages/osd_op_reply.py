"""Object I/O replies: MOSDOpReply (43), Pacific layouts (rados.md).

MOSDOpReply v8 (compat 2)::

    object_t oid, pg_t pgid, s64 flags, s32 result, eversion_t bad_replay_version,
    u32 osdmap_epoch, u32 num_ops, ceph_osd_op[num_ops], s32 retry_attempt,
    s32 rval[num_ops], eversion_t replay_version, u64 user_version,
    u8 do_redirect [request_redirect_t], blkin_trace_info trace

with the ops' output in the data segment. Without NEW_OSDOPREPLY_ENCODING the
redirect is always present (v6). ``describe()`` prints it as Ceph's log does. The
request, MOSDOp (42), is in :mod:`asyncmsgr.messages.osd_op`; what both share in
:mod:`asyncmsgr.messages.osd_op_common`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Self, cast

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.features import feature_mask, has_feature
from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.messages.construct import positional_constructor
from asyncmsgr.messages.osd_op_common import (
    EVERSION_T,
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
    push_trace,
    shape_struct,
    string_at,
)
from asyncmsgr.osd.ops import (
    OSD_OP_FORMAT,
    OSD_OP_LEN,
    OsdFlag,
    OSDOp,
    RawOp,
    format_ops,
    push_osd_op,
    split_payloads,
    unpack_osd_ops,
)
from asyncmsgr.osd.types import (
    PG,
    EVersion,
    ObjectLocator,
    pull_object_locator,
    push_eversion,
    push_object_locator,
    push_pg,
)
from asyncmsgr.types import Buffer, EntityName
from asyncmsgr.wire.buffer import Reader, Writer

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection

_PGID64 = feature_mask("PGID64")
_NEW_OSDOPREPLY_ENCODING = feature_mask("NEW_OSDOPREPLY_ENCODING")

# -- fixed runs of fields as ``struct`` formats (see osd_op_common) --------------------------
# MOSDOpReply after its name: pg_t, s64 flags, s32 result, eversion_t
# bad_replay_version, u32 osdmap_epoch, u32 num_ops.
_REPLY_HEAD = struct.Struct("<" + PG_T + "qi" + EVERSION_T + "II")
# eversion_t replay_version, u64 user_version (v5+).
_REPLAY = struct.Struct("<" + EVERSION_T + "Q")
_TRACE = struct.Struct("<" + TRACE_T)
_U32 = struct.Struct("<I")
_S32 = struct.Struct("<i")
_tuple_new = tuple.__new__


def reply_front_struct(oidlen: int, nops: int) -> struct.Struct:
    """A whole MOSDOpReply v8 front without a redirect, of this shape: oid, the
    reply head, the ops, retry_attempt, rvals, replay_version, user_version,
    do_redirect (0), trace."""
    st = SHAPES.get(("reply", oidlen, nops))
    if st is None:
        st = shape_struct(("reply", oidlen, nops),
                          f"<I{oidlen}s{_REPLY_HEAD.format[1:]}" + OSD_OP_FORMAT * nops
                          + f"i{nops}i{_REPLAY.format[1:]}B{TRACE_T}")
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
    return _RVALS[n] if n < 8 else shape_struct(("rvals", n), f"<{n}i")


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
    if nops >= MAX_OPS:
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

    def __init__(self, *, oid: str = "", pgid: PG = NO_PG, flags: int = 0, result: int = 0,
                 bad_replay_version: EVersion = NO_VERSION, osdmap_epoch: int = 0,
                 ops: list[OSDOp] | None = None, retry_attempt: int = -1,
                 replay_version: EVersion = NO_VERSION, user_version: int = 0,
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
            self.data = concat_payloads([op.outdata for op in self.ops])
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
        self.data = concat_payloads([op.outdata for op in self.ops])

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
            oid_or_none, pos = string_at(buf, 0, end)
            if oid_or_none is None:
                raise DecodeError(f"MOSDOpReply: object name does not fit in {end} bytes")
            oid = oid_or_none
            (pg_v, pool, seed, _, flags, result, bad_ver, bad_epoch, epoch,
             nops) = _REPLY_HEAD.unpack_from(buf, pos)
            if pg_v != 1:
                raise DecodeError(f"pg_t: unknown version {pg_v}")
            pos += _REPLY_HEAD.size
            if nops >= MAX_OPS:
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




__all__ = [
    "MOSDOpReply",
    "RequestRedirect",
    "pack_reply_front",
    "pull_redirect",
    "push_redirect",
    "reply_front_struct",
]
