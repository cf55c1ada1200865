"""RADOS object operations: ``ceph_osd_op`` and the ``OSDOp`` value (``rados.h``).

An MOSDOp carries a vector of operations. Each is a packed 38-byte
``ceph_osd_op`` on the wire: ``le16 op`` (:class:`OsdOpCode`), ``le32 flags``
(:class:`OsdOpFlag`), a 28-byte union whose meaning depends on the op
(extent, xattr, cls, pgls, watch, notify, alloc hint ...) and ``le32
payload_len``. The op's input bytes (write data, xattr names and values, omap
keys ...) travel in the message's data segment, concatenated in op order, each
op's ``payload_len`` saying how much is its own; an MOSDOpReply does the same with
each op's output (``OSDOp::merge_osd_op_vector_in_data`` / ``split_*``).

:class:`OSDOp` keeps the union as its 28 raw bytes, so a decoded op re-encodes
byte for byte whatever the op; typed views (:attr:`OSDOp.extent`,
:attr:`OSDOp.xattr`, :attr:`OSDOp.watch` ...) read it. Constructors for the
operations a RADOS client needs (:func:`read`, :func:`writefull`,
:func:`omap_get_vals`, :func:`pgnls`, :func:`watch`, :func:`call` ...) build ops
the way librados' ``ObjectOperation`` does; their output decoders live in
:mod:`asyncmsgr.osd.op_data`. :func:`format_op` prints an op as Ceph's
``operator<<(ostream&, const OSDOp&)`` does (``writefull 0~12 in=12b``). The op
codes and flags (:mod:`asyncmsgr.osd.op_codes`) are re-exported here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Self

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd.op_codes import (
    CEPH_OSD_OP_MODE,
    CEPH_OSD_OP_MODE_CACHE,
    CEPH_OSD_OP_MODE_RD,
    CEPH_OSD_OP_MODE_RMW,
    CEPH_OSD_OP_MODE_SUB,
    CEPH_OSD_OP_MODE_WR,
    CEPH_OSD_OP_TYPE,
    CEPH_OSD_OP_TYPE_ATTR,
    CEPH_OSD_OP_TYPE_DATA,
    CEPH_OSD_OP_TYPE_EXEC,
    CEPH_OSD_OP_TYPE_PG,
    OSD_OP_NAMES,
    AllocHintFlag,
    BackoffOp,
    CmpXattrMode,
    CmpXattrOp,
    OsdFlag,
    OsdOpCode,
    OsdOpFlag,
    WatchEvent,
    WatchOp,
    ceph_osd_backoff_op_name,
    ceph_osd_flag_string,
    ceph_osd_op_flag_string,
    ceph_osd_op_name,
    ceph_osd_watch_op_name,
    ceph_watch_event_name,
    op_mode_modify,
    op_mode_read,
    op_type_attr,
    op_type_data,
    op_type_exec,
    op_type_pg,
)
from asyncmsgr.osd.op_data import (
    push_notify_ack_input,
    push_notify_input,
    push_omap_get_keys_input,
    push_omap_get_vals_input,
    push_omap_key_set,
    push_omap_map,
)
from asyncmsgr.osd.types import HObject, push_hobject, snap_str
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

# -- the ceph_osd_op union -----------------------------------------------------------------

#: Size of the union in ``ceph_osd_op``.
OSD_OP_ARGS_LEN = 28
#: Size of one encoded ``ceph_osd_op``.
OSD_OP_LEN = 38
ZERO_ARGS = bytes(OSD_OP_ARGS_LEN)
_tuple_new = tuple.__new__

#: ``struct`` format of one packed ``ceph_osd_op`` (rados.h): u16 op, u32 flags, the
#: 28-byte union, u32 payload_len. The one statement of that layout: the messages'
#: whole-front packers and decoders are built from it.
OSD_OP_FORMAT = f"HI{OSD_OP_ARGS_LEN}sI"
OSD_OP_STRUCT = struct.Struct("<" + OSD_OP_FORMAT)
assert OSD_OP_STRUCT.size == OSD_OP_LEN
#: A ``ceph_osd_op`` as unpacked: (op, flags, args, payload_len).
RawOp = tuple[int, int, bytes, int]
_EXTENT = struct.Struct("<QQQI")
_XATTR = struct.Struct("<IIBB")
_CLS = struct.Struct("<BBBI")
_PGLS = struct.Struct("<QI")
_U64 = struct.Struct("<Q")
_WATCH = struct.Struct("<QQBII")
_ASSERT_VER = struct.Struct("<QQ")
_COPY_FROM = struct.Struct("<QQBI")
_TIMESPEC = struct.Struct("<II")
_ALLOC_HINT = struct.Struct("<QQI")


def _args(st: struct.Struct, *values: int) -> bytes:
    return st.pack(*values).ljust(OSD_OP_ARGS_LEN, b"\0")


class Extent(NamedTuple):
    """``ceph_osd_op.extent``."""

    offset: int
    length: int
    truncate_size: int = 0
    truncate_seq: int = 0


class XattrArgs(NamedTuple):
    """``ceph_osd_op.xattr``: lengths of name and value in the op's input."""

    name_len: int
    value_len: int
    cmp_op: int = 0
    cmp_mode: int = 0


class ClsArgs(NamedTuple):
    """``ceph_osd_op.cls``: class and method name lengths, input length."""

    class_len: int
    method_len: int
    argc: int
    indata_len: int


class PglsArgs(NamedTuple):
    """``ceph_osd_op.pgls``: most entries wanted (Ceph's ``count``), epoch the
    listing started in."""

    max_entries: int
    start_epoch: int


class WatchArgs(NamedTuple):
    """``ceph_osd_op.watch``."""

    cookie: int
    ver: int
    op: int
    gen: int
    timeout: int


class AllocHint(NamedTuple):
    """``ceph_osd_op.alloc_hint``."""

    expected_object_size: int
    expected_write_size: int
    flags: int = 0


class _OSDOpFields(NamedTuple):
    op: int
    flags: int = 0
    args: bytes = ZERO_ARGS
    indata: Buffer = b""
    outdata: Buffer = b""
    rval: int = 0


class OSDOp(_OSDOpFields):
    """One object operation: the ``ceph_osd_op``, its input and output and result.

    ``args`` is the raw 28-byte union (read it through the typed properties).
    ``indata`` travels in an MOSDOp's data segment and ``outdata`` in an
    MOSDOpReply's; ``rval`` is the op's own result in a reply.

    An immutable value (a NamedTuple: decoders build one per op per message, and
    a tuple costs a fifth of a frozen dataclass). The constructor checks the
    union's size; decoders that cut exactly 28 bytes use :func:`new_osd_op`.
    """

    __slots__ = ()

    def __new__(cls, op: int, flags: int = 0, args: bytes = ZERO_ARGS, indata: Buffer = b"",
                outdata: Buffer = b"", rval: int = 0) -> Self:
        if len(args) != OSD_OP_ARGS_LEN:
            raise ValueError(f"ceph_osd_op union is {OSD_OP_ARGS_LEN} bytes, "
                             f"got {len(args)}")
        return _tuple_new(cls, (op, flags, args, indata, outdata, rval))

    @property
    def name(self) -> str:
        """Ceph's printed name of the op code."""
        return ceph_osd_op_name(self.op)

    @property
    def extent(self) -> Extent:
        """The union as ``extent`` (read, write, truncate, zero ...)."""
        return Extent._make(_EXTENT.unpack_from(self.args))

    @property
    def xattr(self) -> XattrArgs:
        """The union as ``xattr``."""
        return XattrArgs._make(_XATTR.unpack_from(self.args))

    @property
    def cls(self) -> ClsArgs:
        """The union as ``cls`` (CALL)."""
        return ClsArgs._make(_CLS.unpack_from(self.args))

    @property
    def pgls(self) -> PglsArgs:
        """The union as ``pgls`` (PGLS, PGNLS)."""
        return PglsArgs._make(_PGLS.unpack_from(self.args))

    @property
    def snapid(self) -> int:
        """The union as ``snap`` (ROLLBACK) or ``copy_get.max``/``notify.cookie``."""
        v: int = _U64.unpack_from(self.args)[0]
        return v

    @property
    def watch(self) -> WatchArgs:
        """The union as ``watch``."""
        return WatchArgs._make(_WATCH.unpack_from(self.args))

    @property
    def notify_cookie(self) -> int:
        """``notify.cookie``."""
        return self.snapid

    @property
    def assert_ver(self) -> int:
        """``assert_ver.ver``."""
        v: int = _ASSERT_VER.unpack_from(self.args)[1]
        return v

    @property
    def alloc_hint(self) -> AllocHint:
        """The union as ``alloc_hint``."""
        return AllocHint._make(_ALLOC_HINT.unpack_from(self.args))

    def with_outdata(self, outdata: Buffer, rval: int = 0) -> OSDOp:
        """A copy carrying a reply's output and result."""
        return _tuple_new(OSDOp, (self.op, self.flags, self.args, self.indata, outdata, rval))

    def __str__(self) -> str:
        return format_op(self)


def new_osd_op(op: int, flags: int, args: bytes, indata: Buffer, outdata: Buffer,
               rval: int) -> OSDOp:
    """An :class:`OSDOp` whose ``args`` the caller knows to be 28 bytes (no check)."""
    return _tuple_new(OSDOp, (op, flags, args, indata, outdata, rval))


def pull_osd_op(r: Reader) -> tuple[OSDOp, int]:
    """One packed ``ceph_osd_op``; returns the op (no data yet) and its payload_len."""
    op, flags, args, payload_len = OSD_OP_STRUCT.unpack(r.pull_view(OSD_OP_LEN))
    return _tuple_new(OSDOp, (op, flags, args, b"", b"", 0)), payload_len


def push_osd_op(w: Writer, op: OSDOp, payload_len: int) -> None:
    """One packed ``ceph_osd_op`` with the given payload_len."""
    w.push_bytes(OSD_OP_STRUCT.pack(op.op & 0xFFFF, op.flags & 0xFFFFFFFF, op.args,
                                    payload_len))


def unpack_osd_ops(buf: Buffer, pos: int, n: int) -> list[RawOp]:
    """``n`` packed ``ceph_osd_op`` at ``pos`` of ``buf``.

    Raises DecodeError (before unpacking any) when they do not fit in ``buf``.
    """
    end = pos + n * OSD_OP_LEN
    if n < 0 or pos < 0 or end > len(buf):
        raise DecodeError(f"{n} ops need {n * OSD_OP_LEN} bytes, have {len(buf) - pos}")
    unpack = OSD_OP_STRUCT.unpack_from
    return [unpack(buf, off) for off in range(pos, end, OSD_OP_LEN)]


def split_payloads(raw: Sequence[RawOp], data: memoryview, *, out: bool,
                   rvals: Sequence[int] | None = None) -> list[OSDOp]:
    """``split_osd_op_vector_{in,out}_data``: the ops of ``raw``, each given its
    ``payload_len`` bytes of ``data`` as ``indata`` (or ``outdata`` when ``out``)
    and its result from ``rvals`` (a reply's, one per op; else 0).

    Slices of ``data`` are views, not copies. Raises DecodeError when the
    lengths exceed the data segment or ``rvals`` is not one per op.
    """
    total = 0
    for r in raw:
        total += r[3]
    if total > len(data):
        raise DecodeError(f"op payload lengths ({total} bytes) exceed the data segment "
                          f"({len(data)} bytes)")
    if rvals is None:
        rvals = (0,) * len(raw)
    elif len(rvals) != len(raw):
        raise DecodeError(f"{len(rvals)} op results for {len(raw)} ops")
    result: list[OSDOp] = []
    append = result.append
    pos = 0
    for (op, flags, args, n), rval in zip(raw, rvals, strict=True):
        if not n:
            append(_tuple_new(OSDOp, (op, flags, args, b"", b"", rval)))
            continue
        chunk = data[pos:pos + n]
        pos += n
        append(_tuple_new(OSDOp, (op, flags, args, b"", chunk, rval) if out
                          else (op, flags, args, chunk, b"", rval)))
    return result


# -- printing ----------------------------------------------------------------------------

_EXTENT_PRINTED = frozenset({
    OsdOpCode.READ, OsdOpCode.SPARSE_READ, OsdOpCode.SYNC_READ, OsdOpCode.WRITE,
    OsdOpCode.WRITEFULL, OsdOpCode.ZERO, OsdOpCode.APPEND, OsdOpCode.MAPEXT,
    OsdOpCode.CMPEXT})


def _text(b: Buffer) -> str:
    return bytes(b).decode("utf-8", "replace")


def format_op(op: OSDOp) -> str:
    """The op as Ceph prints an ``OSDOp`` (``read 0~4096``, ``getxattr color (4)``)."""
    code = op.op
    out = [ceph_osd_op_name(code)]
    if op_type_data(code):
        out.append(_format_data_op(op))
    elif op_type_attr(code):
        x = op.xattr
        if x.name_len and len(op.indata):
            out.append(" " + _text(op.indata[:x.name_len]))
        if x.value_len:
            out.append(f" ({x.value_len})")
        if code == OsdOpCode.CMPXATTR:
            out.append(f" op {x.cmp_op} mode {x.cmp_mode}")
    elif op_type_exec(code):
        c = op.cls
        if c.class_len and len(op.indata):
            method = op.indata[c.class_len:c.class_len + c.method_len]
            out.append(f" {_text(op.indata[:c.class_len])}.{_text(method)}")
    elif op_type_pg(code):
        if code in (OsdOpCode.PGLS, OsdOpCode.PGLS_FILTER, OsdOpCode.PGNLS,
                    OsdOpCode.PGNLS_FILTER):
            out.append(f" start_epoch {op.pgls.start_epoch}")
        elif code == OsdOpCode.PG_HITSET_GET:
            sec, nsec = _TIMESPEC.unpack_from(op.args)
            out.append(f" {sec}.{nsec:09d}")
    if len(op.indata):
        out.append(f" in={len(op.indata)}b")
    if len(op.outdata):
        out.append(f" out={len(op.outdata)}b")
    return "".join(out)


def _format_data_op(op: OSDOp) -> str:
    code = op.op
    if code == OsdOpCode.ASSERT_VER:
        return f" v{op.assert_ver}"
    if code == OsdOpCode.TRUNCATE:
        return f" {op.extent.offset}"
    if code in (OsdOpCode.MASKTRUNC, OsdOpCode.TRIMTRUNC):
        e = op.extent
        return f" {e.truncate_seq}@{_s64(e.truncate_size)}"
    if code == OsdOpCode.ROLLBACK:
        return f" {snap_str(op.snapid)}"
    if code == OsdOpCode.WATCH:
        w = op.watch
        gen = f" gen {w.gen}" if w.gen else ""
        return f" {ceph_osd_watch_op_name(w.op)} cookie {w.cookie}{gen}"
    if code == OsdOpCode.NOTIFY:
        return f" cookie {op.notify_cookie}"
    if code == OsdOpCode.COPY_GET:
        return f" max {op.snapid}"
    if code == OsdOpCode.COPY_FROM:
        return f" ver {_COPY_FROM.unpack_from(op.args)[1]}"
    if code == OsdOpCode.SETALLOCHINT:
        h = op.alloc_hint
        return f" object_size {h.expected_object_size} write_size {h.expected_write_size}"
    if code in _EXTENT_PRINTED:
        e = op.extent
        text = f" {e.offset}~{e.length}"
        if e.truncate_seq:
            text += f" [{e.truncate_seq}@{_s64(e.truncate_size)}]"
        if op.flags:
            text += f" [{ceph_osd_op_flag_string(op.flags)}]"
        return text
    return ""


def _s64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def format_ops(ops: Iterable[OSDOp]) -> str:
    """A vector of ops as Ceph prints one: ``[set-alloc-hint ...,write 0~4096]``."""
    return "[" + ",".join(format_op(op) for op in ops) + "]"


# -- constructors (librados' ObjectOperation) ----------------------------------------------


def _extent_op(code: int, offset: int, length: int, data: Buffer = b"", *,
               flags: int = 0, truncate_size: int = 0, truncate_seq: int = 0) -> OSDOp:
    return OSDOp(code, flags, _args(_EXTENT, offset, length, truncate_size, truncate_seq),
                 data)


def read(offset: int, length: int, *, flags: int = 0, truncate_size: int = 0,
         truncate_seq: int = 0) -> OSDOp:
    """READ ``length`` bytes at ``offset`` (0 reads to the end of the object)."""
    return _extent_op(OsdOpCode.READ, offset, length, flags=flags,
                      truncate_size=truncate_size, truncate_seq=truncate_seq)


def sparse_read(offset: int, length: int, *, flags: int = 0) -> OSDOp:
    """SPARSE_READ: output is the extent map and the data (``decode_sparse_read``)."""
    return _extent_op(OsdOpCode.SPARSE_READ, offset, length, flags=flags)


def stat() -> OSDOp:
    """STAT: output is size and mtime (``decode_stat``)."""
    return OSDOp(OsdOpCode.STAT)


def write(offset: int, data: Buffer, *, flags: int = 0) -> OSDOp:
    """WRITE ``data`` at ``offset``."""
    return _extent_op(OsdOpCode.WRITE, offset, len(data), data, flags=flags)


def writefull(data: Buffer, *, flags: int = 0) -> OSDOp:
    """WRITEFULL: replace the object's data with ``data``."""
    return _extent_op(OsdOpCode.WRITEFULL, 0, len(data), data, flags=flags)


def append(data: Buffer) -> OSDOp:
    """APPEND ``data`` to the object."""
    return _extent_op(OsdOpCode.APPEND, 0, len(data), data)


def truncate(size: int) -> OSDOp:
    """TRUNCATE the object to ``size`` bytes."""
    return _extent_op(OsdOpCode.TRUNCATE, size, 0)


def zero(offset: int, length: int) -> OSDOp:
    """ZERO ``length`` bytes at ``offset``."""
    return _extent_op(OsdOpCode.ZERO, offset, length)


def create(exclusive: bool) -> OSDOp:
    """CREATE the object; ``exclusive`` fails with EEXIST when it exists."""
    return OSDOp(OsdOpCode.CREATE, OsdOpFlag.EXCL if exclusive else 0)


def remove() -> OSDOp:
    """DELETE the object."""
    return OSDOp(OsdOpCode.DELETE)


def _name_bytes(name: str | bytes) -> bytes:
    return name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name


def _xattr_op(code: int, name: str | bytes, value: Buffer = b"", cmp_op: int = 0,
              cmp_mode: int = 0) -> OSDOp:
    key = _name_bytes(name)
    return OSDOp(code, 0, _args(_XATTR, len(key), len(value), cmp_op, cmp_mode),
                 key + bytes(value))


def getxattr(name: str | bytes) -> OSDOp:
    """GETXATTR: output is the value's bytes (ENODATA when absent)."""
    return _xattr_op(OsdOpCode.GETXATTR, name)


def getxattrs() -> OSDOp:
    """GETXATTRS: output is every xattr (``decode_xattrs``)."""
    return OSDOp(OsdOpCode.GETXATTRS)


def setxattr(name: str | bytes, value: Buffer) -> OSDOp:
    """SETXATTR ``name`` = ``value``."""
    return _xattr_op(OsdOpCode.SETXATTR, name, value)


def rmxattr(name: str | bytes) -> OSDOp:
    """RMXATTR ``name``."""
    return _xattr_op(OsdOpCode.RMXATTR, name)


def cmpxattr(name: str | bytes, cmp_op: int, value: Buffer | int,
             mode: int = CmpXattrMode.STRING) -> OSDOp:
    """CMPXATTR: fail the op vector (ECANCELED) unless ``xattr OP value`` holds.

    With ``mode`` U64 the value is an integer compared numerically (encoded u64).
    """
    if mode == CmpXattrMode.U64:
        if not isinstance(value, int):
            raise TypeError("a U64 comparison needs an int value")
        raw: Buffer = _U64.pack(value)
    elif isinstance(value, int):
        raise TypeError("a STRING comparison needs a bytes value")
    else:
        raw = value
    return _xattr_op(OsdOpCode.CMPXATTR, name, raw, cmp_op, mode)


def omap_get_keys(start_after: str = "", max_return: int = 512) -> OSDOp:
    """OMAPGETKEYS after ``start_after`` (output: ``decode_omap_keys``)."""
    w = Writer()
    push_omap_get_keys_input(w, start_after, max_return)
    return OSDOp(OsdOpCode.OMAPGETKEYS, indata=w.getvalue())


def omap_get_vals(start_after: str = "", filter_prefix: str = "",
                  max_return: int = 512) -> OSDOp:
    """OMAPGETVALS after ``start_after`` with keys starting ``filter_prefix``."""
    w = Writer()
    push_omap_get_vals_input(w, start_after, max_return, filter_prefix)
    return OSDOp(OsdOpCode.OMAPGETVALS, indata=w.getvalue())


def omap_get_vals_by_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPGETVALSBYKEYS: the values of ``keys`` that exist."""
    w = Writer()
    push_omap_key_set(w, keys)
    return OSDOp(OsdOpCode.OMAPGETVALSBYKEYS, indata=w.getvalue())


def omap_get_header() -> OSDOp:
    """OMAPGETHEADER: output is the header's bytes."""
    return OSDOp(OsdOpCode.OMAPGETHEADER)


def omap_set(values: Mapping[str, Buffer]) -> OSDOp:
    """OMAPSETVALS: set these keys."""
    w = Writer()
    push_omap_map(w, values)
    return OSDOp(OsdOpCode.OMAPSETVALS, indata=w.getvalue())


def omap_set_header(header: Buffer) -> OSDOp:
    """OMAPSETHEADER."""
    return OSDOp(OsdOpCode.OMAPSETHEADER, indata=bytes(header))


def omap_rm_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPRMKEYS."""
    w = Writer()
    push_omap_key_set(w, keys)
    return OSDOp(OsdOpCode.OMAPRMKEYS, indata=w.getvalue())


def omap_clear() -> OSDOp:
    """OMAPCLEAR: remove every key and the header."""
    return OSDOp(OsdOpCode.OMAPCLEAR)


def set_alloc_hint(expected_object_size: int, expected_write_size: int,
                   flags: int = 0) -> OSDOp:
    """SETALLOCHINT (``rados bench`` sends one before each write)."""
    return OSDOp(OsdOpCode.SETALLOCHINT, 0,
                 _args(_ALLOC_HINT, expected_object_size, expected_write_size, flags))


def assert_version(ver: int) -> OSDOp:
    """ASSERT_VER: fail unless the object's user version is ``ver``."""
    return OSDOp(OsdOpCode.ASSERT_VER, 0, _args(_ASSERT_VER, 0, ver))


def watch(cookie: int, op: int = WatchOp.WATCH, *, timeout: int = 0, gen: int = 0) -> OSDOp:
    """WATCH with a watch op: WATCH, RECONNECT, PING (with ``gen``) or UNWATCH."""
    return OSDOp(OsdOpCode.WATCH, 0, _args(_WATCH, cookie, 0, op, gen, timeout))


def unwatch(cookie: int) -> OSDOp:
    """WATCH op UNWATCH."""
    return watch(cookie, WatchOp.UNWATCH)


def watch_ping(cookie: int, gen: int) -> OSDOp:
    """WATCH op PING for registration generation ``gen``."""
    return watch(cookie, WatchOp.PING, gen=gen)


def list_watchers() -> OSDOp:
    """LIST_WATCHERS (output: ``decode_list_watchers``)."""
    return OSDOp(OsdOpCode.LIST_WATCHERS)


def notify(cookie: int, payload: Buffer, timeout: int, *, prot_ver: int = 1) -> OSDOp:
    """NOTIFY the object's watchers (output: the notify id, ``decode_notify_id``)."""
    w = Writer()
    push_notify_input(w, prot_ver, timeout, payload)
    return OSDOp(OsdOpCode.NOTIFY, 0, _args(_U64, cookie), w.getvalue())


def notify_ack(notify_id: int, cookie: int, reply: Buffer = b"") -> OSDOp:
    """NOTIFY_ACK a notification received on watch ``cookie``."""
    w = Writer()
    push_notify_ack_input(w, notify_id, cookie, reply)
    return OSDOp(OsdOpCode.NOTIFY_ACK, indata=w.getvalue())


def call(cls: str, method: str, indata: Buffer = b"") -> OSDOp:
    """CALL ``cls.method`` of an object class with ``indata`` (output: its reply)."""
    c = _name_bytes(cls)
    m = _name_bytes(method)
    if len(c) > 255 or len(m) > 255:
        raise ValueError("class and method names are at most 255 bytes")
    return OSDOp(OsdOpCode.CALL, 0, _args(_CLS, len(c), len(m), 0, len(indata)),
                 c + m + bytes(indata))


def pgnls(count: int, cursor: HObject, start_epoch: int, *,
          filter_data: Buffer | None = None) -> OSDOp:
    """PGNLS (or PGNLS_FILTER): list up to ``count`` objects of a PG from ``cursor``.

    Send it with :data:`OsdFlag.PGOP` on the PG's hash (no object name); the
    output is a ``pg_nls_response_t`` (``decode_pgnls``), and the reply's result
    is 1 once the PG is exhausted. ``filter_data`` is a ``pg.filter`` argument.
    """
    w = Writer()
    code = OsdOpCode.PGNLS
    if filter_data is not None:
        code = OsdOpCode.PGNLS_FILTER
        w.push_string("pg")
        w.push_string("filter")
        w.push_bytes(filter_data)
    push_hobject(w, cursor)
    return OSDOp(code, 0, _args(_PGLS, count, start_epoch), w.getvalue())


__all__ = [
    "CEPH_OSD_OP_MODE",
    "CEPH_OSD_OP_MODE_CACHE",
    "CEPH_OSD_OP_MODE_RD",
    "CEPH_OSD_OP_MODE_RMW",
    "CEPH_OSD_OP_MODE_SUB",
    "CEPH_OSD_OP_MODE_WR",
    "CEPH_OSD_OP_TYPE",
    "CEPH_OSD_OP_TYPE_ATTR",
    "CEPH_OSD_OP_TYPE_DATA",
    "CEPH_OSD_OP_TYPE_EXEC",
    "CEPH_OSD_OP_TYPE_PG",
    "OSD_OP_ARGS_LEN",
    "OSD_OP_FORMAT",
    "OSD_OP_LEN",
    "OSD_OP_NAMES",
    "OSD_OP_STRUCT",
    "ZERO_ARGS",
    "AllocHint",
    "AllocHintFlag",
    "BackoffOp",
    "ClsArgs",
    "CmpXattrMode",
    "CmpXattrOp",
    "Extent",
    "OSDOp",
    "OsdFlag",
    "OsdOpCode",
    "OsdOpFlag",
    "PglsArgs",
    "RawOp",
    "WatchArgs",
    "WatchEvent",
    "WatchOp",
    "XattrArgs",
    "append",
    "assert_version",
    "call",
    "ceph_osd_backoff_op_name",
    "ceph_osd_flag_string",
    "ceph_osd_op_flag_string",
    "ceph_osd_op_name",
    "ceph_osd_watch_op_name",
    "ceph_watch_event_name",
    "cmpxattr",
    "create",
    "format_op",
    "format_ops",
    "getxattr",
    "getxattrs",
    "list_watchers",
    "new_osd_op",
    "notify",
    "notify_ack",
    "omap_clear",
    "omap_get_header",
    "omap_get_keys",
    "omap_get_vals",
    "omap_get_vals_by_keys",
    "omap_rm_keys",
    "omap_set",
    "omap_set_header",
    "op_mode_modify",
    "op_mode_read",
    "op_type_attr",
    "op_type_data",
    "op_type_exec",
    "op_type_pg",
    "pgnls",
    "pull_osd_op",
    "push_osd_op",
    "read",
    "remove",
    "rmxattr",
    "set_alloc_hint",
    "setxattr",
    "sparse_read",
    "split_payloads",
    "stat",
    "truncate",
    "unpack_osd_ops",
    "unwatch",
    "watch",
    "watch_ping",
    "write",
    "writefull",
    "zero",
]
