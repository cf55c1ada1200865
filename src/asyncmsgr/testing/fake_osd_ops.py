"""Executing an MOSDOp's op vector against the fake store, as Pacific's OSD does.

:func:`execute` runs a (non-PG) op vector on one object and builds the
MOSDOpReply a Pacific primary sends, following ``PrimaryLogPG::do_op`` /
``execute_ctx`` / ``do_osd_ops``:

* a read-only vector on a missing object is refused whole with -ENOENT
  (``reply_op_error``: no ACK flag, versions zero);
* ops run in order; the first failing op (unless flagged FAILOK) stops the
  vector, its ``rval`` and the reply's ``result`` are its errno;
* a vector with writes is applied only if every op succeeded; each write
  vector, failed or not, takes the next PG log version (``replay_version``); a
  successful user-visible change sets the object's user version to it; write
  replies carry no output data;
* read replies carry each op's output (``READ`` sets the returned extent's
  length, ``GETXATTR`` the value length, ``CALL`` the output length, as the OSD
  rewrites those op fields) and report the object's user version.

Errnos are the OSD's: ENOENT, EEXIST (exclusive create), ENODATA (missing
xattr), ECANCELED (CMPXATTR false), ERANGE/EOVERFLOW (ASSERT_VER),
ENAMETOOLONG (xattr name over ``osd_max_attr_name_len``), EFBIG (over
``osd_max_object_size``), EINVAL (inconsistent lengths), EOPNOTSUPP (ops
and object classes the fake does not implement). Watch, notify and object class
calls go to an :class:`OpHooks` (the OSD).
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import RawMessage
from asyncmsgr.messages.osd_op import MOSDOp
from asyncmsgr.osd.op_codes import (
    CEPH_OSD_OP_MODE_WR,
    CmpXattrMode,
    CmpXattrOp,
    OsdFlag,
    OsdOpCode,
    OsdOpFlag,
    WatchOp,
)
from asyncmsgr.osd.op_data import (
    ObjectStat,
    SparseRead,
    pull_bytes_map,
    pull_omap_key_set,
    push_bytes_map,
    push_omap_key_set,
    push_sparse_read_output,
    push_stat,
)
from asyncmsgr.osd.ops import OSD_OP_ARGS_LEN, OSDOp
from asyncmsgr.osd.types import EVersion
from asyncmsgr.testing.fake_osd_reply import make_reply
from asyncmsgr.testing.fake_store import StoredObject
from asyncmsgr.types import Buffer, UTime
from asyncmsgr.wire.buffer import Reader, Writer

if TYPE_CHECKING:
    from asyncmsgr.testing.fake_store import ObjectKey, PGStore

#: ``osd_max_attr_name_len``.
OSD_MAX_ATTR_NAME_LEN = 100
#: ``osd_max_object_size``.
OSD_MAX_OBJECT_SIZE = 128 << 20
#: ``osd_max_omap_entries_per_request``.
OSD_MAX_OMAP_ENTRIES = 1024
#: ``MAX_ERRNO``: CMPEXT reports a mismatch at offset ``i`` as ``-MAX_ERRNO - i``.
MAX_ERRNO = 4095

_ACK = int(OsdFlag.ACK)
_ONDISK = int(OsdFlag.ONDISK)
_ACK_ONDISK = _ACK | _ONDISK
_ACK_MASK = ~(_ACK | int(OsdFlag.ONNVRAM) | _ONDISK)
_MODE_WR = CEPH_OSD_OP_MODE_WR
_WATCH = int(OsdOpCode.WATCH)
_CALL = int(OsdOpCode.CALL)
_FAILOK = int(OsdOpFlag.FAILOK)
_PING = int(WatchOp.PING)
#: Offset of ``watch.op`` in the ``ceph_osd_op`` union.
_WATCH_OP_AT = 16
_EXT = struct.Struct("<QQ")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_ZERO_VERSION = EVersion()


class OpError(Exception):
    """An op failed with ``-errno`` (internal to the executor)."""

    def __init__(self, err: int) -> None:
        super().__init__(err)
        self.err = err


@dataclass(slots=True)
class OpContext:
    """One op vector's execution state (what an object class method sees too)."""

    m: MOSDOp
    pg: PGStore
    key: ObjectKey
    hash: int
    obj: StoredObject | None
    """The object as the ops so far left it (None: absent)."""
    epoch: int
    clock: Callable[[], UTime]
    """The time, asked only when an object is created or changed."""
    modified: bool = False
    """A user-visible change was made (the user version advances)."""
    touched: bool = False
    """Anything was written (the store must take :attr:`obj`)."""

    @property
    def now(self) -> UTime:
        """The current time."""
        return self.clock()

    def need(self) -> StoredObject:
        """The object, or OpError(-ENOENT)."""
        if self.obj is None:
            raise OpError(-errno.ENOENT)
        return self.obj

    def create(self) -> StoredObject:
        """The object, created empty if absent (``maybe_create_new_object``)."""
        if self.obj is None:
            self.obj = StoredObject(self.hash, mtime=self.now)
        self.touched = True
        return self.obj


class OpHooks(Protocol):
    """What the executor asks the OSD: watches, notifies and object classes."""

    def do_watch(self, ctx: OpContext, op: OSDOp) -> None:
        """WATCH (watch, reconnect, ping, unwatch); raise OpError to fail it."""

    def do_notify(self, ctx: OpContext, op: OSDOp) -> bytes:
        """NOTIFY: start it, return the output (the notify id)."""
        ...

    def do_notify_ack(self, ctx: OpContext, op: OSDOp) -> None:
        """NOTIFY_ACK."""

    def list_watchers(self, ctx: OpContext) -> bytes:
        """LIST_WATCHERS output."""
        ...

    def call(self, ctx: OpContext, cls: str, method: str, indata: bytes) -> bytes:
        """CALL an object class method; raise OpError to fail it."""
        ...

    def is_write_call(self, cls: str, method: str) -> bool:
        """Whether a class method writes (decides the vector's read/write path)."""
        ...


Handler = Callable[[OpContext, OSDOp, "OpHooks"], "OSDOp | None"]
"""An op's implementation: the reply's op (with output), None to echo the request's
op unchanged (no output), or OpError."""


def _args_with_length(op: OSDOp, offset: int, length: int) -> bytes:
    return _EXT.pack(offset, length) + op.args[16:]


def _out(op: OSDOp, out: Buffer, args: bytes | None = None) -> OSDOp:
    return OSDOp(op.op, op.flags, op.args if args is None else args, b"", out, 0)


def _check_size(end: int) -> None:
    if end > OSD_MAX_OBJECT_SIZE:
        raise OpError(-errno.EFBIG)


# -- data --------------------------------------------------------------------------------


def _read(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    obj = ctx.need()
    off, length = _EXT.unpack_from(op.args)
    size = len(obj.data)
    if off >= size:
        data = b""
    else:
        end = size if not length else min(size, off + length)
        data = bytes(obj.data[off:end])
    return _out(op, data, _args_with_length(op, off, len(data)))


def _sparse_read(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    obj = ctx.need()
    off, length = _EXT.unpack_from(op.args)
    data = bytes(obj.data[off:off + length]) if length else bytes(obj.data[off:])
    w = Writer()
    push_sparse_read_output(w, SparseRead([(off, len(data))] if data else [], data))
    return _out(op, w.getvalue(), _args_with_length(op, off, len(data)))


def _stat(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    obj = ctx.need()
    w = Writer()
    push_stat(w, ObjectStat(len(obj.data), obj.mtime))
    return _out(op, w.getvalue())


def _indata(op: OSDOp) -> Buffer:
    length = _EXT.unpack_from(op.args)[1]
    if length != len(op.indata):
        raise OpError(-errno.EINVAL)
    return op.indata


def _write(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    off, length = _EXT.unpack_from(op.args)
    data = op.indata
    if length != len(data):
        raise OpError(-errno.EINVAL)
    if off + length > OSD_MAX_OBJECT_SIZE:
        raise OpError(-errno.EFBIG)
    obj = ctx.create()
    buf = obj.data
    if not buf and not off:
        obj.data = bytearray(data)
    else:
        if off > len(buf):
            buf.extend(bytes(off - len(buf)))
        buf[off:off + length] = data
    ctx.modified = True
    return None


def _writefull(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    data = _indata(op)
    _check_size(len(data))
    obj = ctx.create()
    obj.data = bytearray(data)
    ctx.modified = True
    return None


def _append(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    data = _indata(op)
    obj = ctx.create()
    _check_size(len(obj.data) + len(data))
    obj.data += data
    ctx.modified = True
    return None


def _truncate(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    size = _EXT.unpack_from(op.args)[0]
    _check_size(size)
    obj = ctx.create()
    if size < len(obj.data):
        del obj.data[size:]
    else:
        obj.data.extend(bytes(size - len(obj.data)))
    ctx.modified = True
    return None


def _zero(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    off, length = _EXT.unpack_from(op.args)
    obj = ctx.need()
    end = min(off + length, len(obj.data))
    if off < end:
        obj.data[off:end] = bytes(end - off)
    ctx.touched = ctx.modified = True
    return None


def _create(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    if ctx.obj is not None and op.flags & OsdOpFlag.EXCL:
        raise OpError(-errno.EEXIST)
    ctx.create()
    ctx.modified = True
    return None


def _delete(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ctx.need()
    ctx.obj = None
    ctx.touched = ctx.modified = True
    return None


def _alloc_hint(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ctx.create()
    return None


def _cmpext(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    off = _EXT.unpack_from(op.args)[0]
    want = bytes(_indata(op))
    obj = ctx.obj
    have = bytes(obj.data[off:off + len(want)]) if obj is not None else b""
    have = have.ljust(len(want), b"\0")
    for i, (a, b) in enumerate(zip(want, have, strict=True)):
        if a != b:
            raise OpError(-MAX_ERRNO - i)
    return None


def _assert_ver(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ver = op.assert_ver
    uv = ctx.need().user_version
    if ver < uv:
        raise OpError(-errno.ERANGE)
    if ver > uv:
        raise OpError(-errno.EOVERFLOW)
    return None


# -- xattrs ------------------------------------------------------------------------------


def _xattr_name_value(op: OSDOp) -> tuple[str, bytes]:
    x = op.xattr
    raw = bytes(op.indata)
    if x.name_len + x.value_len > len(raw):
        raise OpError(-errno.EINVAL)
    name = raw[:x.name_len].decode("utf-8", "surrogateescape")
    return name, raw[x.name_len:x.name_len + x.value_len]


def _setxattr(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    name, value = _xattr_name_value(op)
    if len(name.encode("utf-8", "surrogateescape")) > OSD_MAX_ATTR_NAME_LEN:
        raise OpError(-errno.ENAMETOOLONG)
    ctx.create().xattrs[name] = value
    ctx.modified = True
    return None


def _getxattr(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    name, _ = _xattr_name_value(op)
    value = ctx.need().xattrs.get(name)
    if value is None:
        raise OpError(-errno.ENODATA)
    x = op.xattr
    args = _U32.pack(x.name_len) + _U32.pack(len(value)) + op.args[8:]
    return _out(op, value, args)


def _getxattrs(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    w = Writer()
    push_bytes_map(w, ctx.need().xattrs)
    return _out(op, w.getvalue())


def _rmxattr(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    name, _ = _xattr_name_value(op)
    obj = ctx.need()
    obj.xattrs.pop(name, None)
    ctx.touched = ctx.modified = True
    return None


_CMP: dict[int, Callable[[object, object], bool]] = {
    CmpXattrOp.EQ: lambda a, b: a == b,
    CmpXattrOp.NE: lambda a, b: a != b,
    CmpXattrOp.GT: lambda a, b: a > b,  # type: ignore[operator]
    CmpXattrOp.GTE: lambda a, b: a >= b,  # type: ignore[operator]
    CmpXattrOp.LT: lambda a, b: a < b,  # type: ignore[operator]
    CmpXattrOp.LTE: lambda a, b: a <= b,  # type: ignore[operator]
}


def _cmpxattr(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    name, value = _xattr_name_value(op)
    have = ctx.need().xattrs.get(name, b"")
    x = op.xattr
    cmp = _CMP.get(x.cmp_op)
    if cmp is None:
        raise OpError(-errno.EINVAL)
    if x.cmp_mode == CmpXattrMode.STRING:
        ok = cmp(have, value)
    elif x.cmp_mode == CmpXattrMode.U64:
        if len(value) != 8:
            raise OpError(-errno.EINVAL)
        digits = have.split(b"\0", 1)[0].strip()
        mine = int(digits) if digits.isdigit() else 0
        ok = cmp(mine, _U64.unpack(value)[0])
    else:
        raise OpError(-errno.EINVAL)
    if not ok:
        raise OpError(-errno.ECANCELED)
    return None


# -- omap --------------------------------------------------------------------------------


def _reader(op: OSDOp) -> Reader:
    return Reader(bytes(op.indata))


def _sorted_keys(omap: dict[str, bytes]) -> list[str]:
    return sorted(omap, key=lambda k: k.encode("utf-8", "surrogateescape"))


def _omap_range(obj: StoredObject, start_after: str, prefix: str, limit: int
                ) -> tuple[list[str], bool]:
    """Keys after ``start_after`` starting with ``prefix``, at most ``limit``, and
    whether more follow (``PrimaryLogPG``'s OMAPGETVALS walk)."""
    sa = start_after.encode("utf-8", "surrogateescape")
    pf = prefix.encode("utf-8", "surrogateescape")
    keys: list[str] = []
    for k in _sorted_keys(obj.omap):
        kb = k.encode("utf-8", "surrogateescape")
        if kb <= sa or kb < pf:
            continue
        if not kb.startswith(pf):
            break
        if len(keys) == limit:
            return keys, True
        keys.append(k)
    return keys, False


def _omap_get_keys(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    try:
        r = _reader(op)
        start_after = r.pull_string()
        max_return = r.pull_u64()
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    keys, more = _omap_range(ctx.need(), start_after, "",
                             min(max_return, OSD_MAX_OMAP_ENTRIES))
    w = Writer()
    push_omap_key_set(w, keys)
    w.push_bool(more)
    return _out(op, w.getvalue())


def _omap_get_vals(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    try:
        r = _reader(op)
        start_after = r.pull_string()
        max_return = r.pull_u64()
        prefix = r.pull_string()
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    obj = ctx.need()
    keys, more = _omap_range(obj, start_after, prefix, min(max_return, OSD_MAX_OMAP_ENTRIES))
    w = Writer()
    push_bytes_map(w, {k: obj.omap[k] for k in keys})
    w.push_bool(more)
    return _out(op, w.getvalue())


def _omap_get_vals_by_keys(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    try:
        keys = pull_omap_key_set(_reader(op))
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    omap = ctx.need().omap
    w = Writer()
    push_bytes_map(w, {k: omap[k] for k in keys if k in omap})
    return _out(op, w.getvalue())


def _omap_get_header(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    return _out(op, ctx.need().omap_header)


def _omap_set_vals(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    try:
        values = pull_bytes_map(_reader(op))
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    ctx.create().omap.update(values)
    ctx.modified = True
    return None


def _omap_set_header(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ctx.create().omap_header = bytes(op.indata)
    ctx.modified = True
    return None


def _omap_rm_keys(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    try:
        keys = pull_omap_key_set(_reader(op))
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    omap = ctx.need().omap
    for k in keys:
        omap.pop(k, None)
    ctx.touched = ctx.modified = True
    return None


def _omap_rm_key_range(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    try:
        r = _reader(op)
        first = r.pull_string().encode("utf-8", "surrogateescape")
        last = r.pull_string().encode("utf-8", "surrogateescape")
    except DecodeError:
        raise OpError(-errno.EINVAL) from None
    omap = ctx.need().omap
    for k in [k for k in omap if first <= k.encode("utf-8", "surrogateescape") < last]:
        del omap[k]
    ctx.touched = ctx.modified = True
    return None


def _omap_clear(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    obj = ctx.need()
    obj.omap.clear()
    obj.omap_header = b""
    ctx.touched = ctx.modified = True
    return None


# -- watch / notify / classes --------------------------------------------------------------


def _watch(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ctx.need()
    hooks.do_watch(ctx, op)
    ctx.touched = True
    return None


def _notify(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    ctx.need()
    return _out(op, hooks.do_notify(ctx, op))


def _notify_ack(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp | None:
    ctx.need()
    hooks.do_notify_ack(ctx, op)
    return None


def _list_watchers(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    ctx.need()
    return _out(op, hooks.list_watchers(ctx))


def _call_names(op: OSDOp) -> tuple[str, str, bytes]:
    c = op.cls
    raw = bytes(op.indata)
    if c.class_len + c.method_len + c.indata_len > len(raw):
        raise OpError(-errno.EINVAL)
    cls = raw[:c.class_len].decode("utf-8", "surrogateescape")
    method = raw[c.class_len:c.class_len + c.method_len].decode("utf-8", "surrogateescape")
    start = c.class_len + c.method_len
    return cls, method, raw[start:start + c.indata_len]


def _call(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    cls, method, indata = _call_names(op)
    out = hooks.call(ctx, cls, method, indata)
    return _out(op, out, op.args[:8] + _U64.pack(len(out)) + op.args[16:])


HANDLERS: dict[int, Handler] = {
    OsdOpCode.READ: _read,
    OsdOpCode.SYNC_READ: _read,
    OsdOpCode.SPARSE_READ: _sparse_read,
    OsdOpCode.STAT: _stat,
    OsdOpCode.WRITE: _write,
    OsdOpCode.WRITEFULL: _writefull,
    OsdOpCode.APPEND: _append,
    OsdOpCode.TRUNCATE: _truncate,
    OsdOpCode.ZERO: _zero,
    OsdOpCode.CREATE: _create,
    OsdOpCode.DELETE: _delete,
    OsdOpCode.SETALLOCHINT: _alloc_hint,
    OsdOpCode.CMPEXT: _cmpext,
    OsdOpCode.ASSERT_VER: _assert_ver,
    OsdOpCode.SETXATTR: _setxattr,
    OsdOpCode.GETXATTR: _getxattr,
    OsdOpCode.GETXATTRS: _getxattrs,
    OsdOpCode.RMXATTR: _rmxattr,
    OsdOpCode.CMPXATTR: _cmpxattr,
    OsdOpCode.OMAPGETKEYS: _omap_get_keys,
    OsdOpCode.OMAPGETVALS: _omap_get_vals,
    OsdOpCode.OMAPGETVALSBYKEYS: _omap_get_vals_by_keys,
    OsdOpCode.OMAPGETHEADER: _omap_get_header,
    OsdOpCode.OMAPSETVALS: _omap_set_vals,
    OsdOpCode.OMAPSETHEADER: _omap_set_header,
    OsdOpCode.OMAPRMKEYS: _omap_rm_keys,
    OsdOpCode.OMAPRMKEYRANGE: _omap_rm_key_range,
    OsdOpCode.OMAPCLEAR: _omap_clear,
    OsdOpCode.WATCH: _watch,
    OsdOpCode.NOTIFY: _notify,
    OsdOpCode.NOTIFY_ACK: _notify_ack,
    OsdOpCode.LIST_WATCHERS: _list_watchers,
    OsdOpCode.CALL: _call,
}


_HANDLERS_GET = HANDLERS.get


def _unsupported(ctx: OpContext, op: OSDOp, hooks: OpHooks) -> OSDOp:
    raise OpError(-errno.EOPNOTSUPP)


def is_write_vector(ops: list[OSDOp], hooks: OpHooks) -> bool:
    """Whether the vector may write (``OpInfo::set_from_op``): a WR-mode op (a watch
    ping excepted), or a CALL of a method that writes."""
    for op in ops:
        code = op.op
        if code & _MODE_WR:
            if code != _WATCH or op.args[_WATCH_OP_AT] != _PING:
                return True
        elif code == _CALL:
            try:
                cls, method, _ = _call_names(op)
            except OpError:
                continue
            if hooks.is_write_call(cls, method):
                return True
    return False


def _failed(ops: list[OSDOp], done: list[OSDOp | None], at: int, err: int) -> list[OSDOp]:
    """The reply ops when op ``at`` failed: outputs so far, its errno, the rest echoed."""
    out: list[OSDOp] = []
    for i, op in enumerate(ops):
        if i < len(done) and done[i] is not None:
            out.append(done[i])  # type: ignore[arg-type]
        elif i == at:
            out.append(OSDOp(op.op, op.flags, op.args, b"", b"", err))
        else:
            out.append(op)
    return out


def execute(ctx: OpContext, hooks: OpHooks) -> RawMessage:
    """Run ``ctx.m``'s ops on ``ctx.key`` in ``ctx.pg`` and build the reply."""
    m = ctx.m
    ops = m.ops
    write = is_write_vector(ops, hooks)
    original = ctx.obj
    if original is None and not write:
        return make_reply(m, -errno.ENOENT, ops, m.flags & _ONDISK, ctx.epoch,
                          _ZERO_VERSION, 0)
    if write and original is not None and len(ops) > 1:
        ctx.obj = original.copy()  # undo state: a failing op leaves the object as it was
    result = 0
    done: list[OSDOp | None] = []
    failed_at = -1
    output = False
    i = 0
    for op in ops:
        try:
            got = _HANDLERS_GET(op.op, _unsupported)(ctx, op, hooks)
        except OpError as exc:
            if op.flags & _FAILOK:
                done.append(OSDOp(op.op, op.flags, op.args, b"", b"", exc.err))
                output = True
                i += 1
                continue
            result = exc.err
            failed_at = i
            break
        done.append(got)
        if got is not None:
            output = True
        i += 1
    if failed_at >= 0:
        out = _failed(ops, done, failed_at, result)
    elif output:
        out = [d if d is not None else op for d, op in zip(done, ops, strict=True)]
    else:
        out = ops  # nothing to return: the request's ops (their indata is not sent)
    if not write:
        obj = ctx.obj
        uv = obj.user_version if obj is not None and result >= 0 else 0
        return make_reply(m, result, out, _ACK_ONDISK, ctx.epoch, _ZERO_VERSION, uv)
    pg = ctx.pg
    at = pg.next_version(ctx.epoch)
    if out is not ops:  # writes return no data (the op results stay)
        out = [op if not len(op.outdata) else OSDOp(op.op, op.flags, op.args, b"", b"", op.rval)
               for op in out]
    if result < 0:
        ctx.obj = original
        uv = original.user_version if original is not None else 0
        return make_reply(m, result, out, _ACK_ONDISK, ctx.epoch, at, uv)
    obj = ctx.obj
    if ctx.modified:
        pg.last_user_version = at.version
        uv = at.version
        if obj is not None:
            obj.user_version = uv
            obj.mtime = m.mtime if m.mtime.sec else ctx.now
    else:
        uv = obj.user_version if obj is not None else 0
    if obj is None:
        pg.remove(ctx.key)
    elif obj is not original or ctx.touched:
        pg.put(ctx.key, obj)
    return make_reply(m, 0, out, _ACK_ONDISK, ctx.epoch, at, uv)


def pad_args(raw: bytes) -> bytes:
    """A ``ceph_osd_op`` union from its leading bytes (tests and hooks)."""
    return raw.ljust(OSD_OP_ARGS_LEN, b"\0")


__all__ = [
    "HANDLERS",
    "MAX_ERRNO",
    "OSD_MAX_ATTR_NAME_LEN",
    "OSD_MAX_OBJECT_SIZE",
    "OSD_MAX_OMAP_ENTRIES",
    "OpContext",
    "OpError",
    "OpHooks",
    "execute",
    "is_write_vector",
    "pad_args",
]
