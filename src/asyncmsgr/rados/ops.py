"""Compound operations: librados' ``ObjectOperation`` as :class:`WriteOp` / :class:`ReadOp`.

Build an op vector, then run it atomically on one object with
:meth:`IoCtx.operate_write_op` / :meth:`IoCtx.operate_read_op`::

    with WriteOp() as op:                       # python-rados' WriteOpCtx
        op.write_full(b"data")
        op.set_xattr("owner", b"me")
        ioctx.set_omap(op, ("k1", "k2"), (b"v1", b"v2"))
        await ioctx.operate_write_op(op, "obj")

    with ReadOp() as op:
        data = op.read(0, 100)                  # an OpOutput, filled by operate
        vals, _ = ioctx.get_omap_vals(op, "", "", 10)
        await ioctx.operate_read_op(op, "obj")
        print(data.value, dict(vals))

Reads return an :class:`OpOutput` (or an :class:`OmapIterator` /
:class:`XattrIterator`) that holds the result once the op has run; ``rval`` is
that op's own result. Flags are librados' ``LIBRADOS_OPERATION_*`` (for the whole
op vector) and ``LIBRADOS_OP_FLAG_*`` (per op, set with :meth:`set_flags`).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd import ops as osd
from asyncmsgr.osd.op_data import (
    decode_omap_keys,
    decode_omap_vals,
    decode_omap_vals_by_keys,
    decode_stat,
    decode_xattrs,
)
from asyncmsgr.osd.ops import CmpXattrMode, CmpXattrOp, OsdFlag, OSDOp
from asyncmsgr.types import Buffer

from .errors import InvalidArgumentError

T = TypeVar("T")

# -- librados flags ------------------------------------------------------------------------

LIBRADOS_OPERATION_NOFLAG = 0
LIBRADOS_OPERATION_BALANCE_READS = 1
LIBRADOS_OPERATION_LOCALIZE_READS = 2
LIBRADOS_OPERATION_ORDER_READS_WRITES = 4
LIBRADOS_OPERATION_IGNORE_CACHE = 8
LIBRADOS_OPERATION_SKIPRWLOCKS = 16
LIBRADOS_OPERATION_IGNORE_OVERLAY = 32
LIBRADOS_OPERATION_FULL_TRY = 64
LIBRADOS_OPERATION_FULL_FORCE = 128
LIBRADOS_OPERATION_IGNORE_REDIRECT = 256
LIBRADOS_OPERATION_ORDERSNAP = 512
LIBRADOS_OPERATION_RETURNVEC = 1024

LIBRADOS_OP_FLAG_EXCL = 0x1
LIBRADOS_OP_FLAG_FAILOK = 0x2
LIBRADOS_OP_FLAG_FADVISE_RANDOM = 0x4
LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL = 0x8
LIBRADOS_OP_FLAG_FADVISE_WILLNEED = 0x10
LIBRADOS_OP_FLAG_FADVISE_DONTNEED = 0x20
LIBRADOS_OP_FLAG_FADVISE_NOCACHE = 0x40

LIBRADOS_CMPXATTR_OP_EQ = int(CmpXattrOp.EQ)
LIBRADOS_CMPXATTR_OP_NE = int(CmpXattrOp.NE)
LIBRADOS_CMPXATTR_OP_GT = int(CmpXattrOp.GT)
LIBRADOS_CMPXATTR_OP_GTE = int(CmpXattrOp.GTE)
LIBRADOS_CMPXATTR_OP_LT = int(CmpXattrOp.LT)
LIBRADOS_CMPXATTR_OP_LTE = int(CmpXattrOp.LTE)

_OPERATION_FLAGS: dict[int, int] = {
    LIBRADOS_OPERATION_BALANCE_READS: int(OsdFlag.BALANCE_READS),
    LIBRADOS_OPERATION_LOCALIZE_READS: int(OsdFlag.LOCALIZE_READS),
    LIBRADOS_OPERATION_ORDER_READS_WRITES: int(OsdFlag.RWORDERED),
    LIBRADOS_OPERATION_IGNORE_CACHE: int(OsdFlag.IGNORE_CACHE),
    LIBRADOS_OPERATION_SKIPRWLOCKS: int(OsdFlag.SKIPRWLOCKS),
    LIBRADOS_OPERATION_IGNORE_OVERLAY: int(OsdFlag.IGNORE_OVERLAY),
    LIBRADOS_OPERATION_FULL_TRY: int(OsdFlag.FULL_TRY),
    LIBRADOS_OPERATION_FULL_FORCE: int(OsdFlag.FULL_FORCE),
    LIBRADOS_OPERATION_IGNORE_REDIRECT: int(OsdFlag.IGNORE_REDIRECT),
    LIBRADOS_OPERATION_ORDERSNAP: int(OsdFlag.ORDERSNAP),
    LIBRADOS_OPERATION_RETURNVEC: int(OsdFlag.RETURNVEC),
}


def translate_flags(flags: int) -> int:
    """librados' ``translate_flags``: LIBRADOS_OPERATION_* to CEPH_OSD_FLAG_*."""
    out = 0
    for lib, ceph in _OPERATION_FLAGS.items():
        if flags & lib:
            out |= ceph
    return out


# -- results -------------------------------------------------------------------------------


class OpOutput(Generic[T]):
    """One op's result inside a compound op: ``rval`` and the decoded ``value``.

    ``done`` turns True when the compound op has run; ``value`` stays None when the
    op failed (``rval`` < 0) or has not run.
    """

    __slots__ = ("done", "rval", "value")

    def __init__(self) -> None:
        self.done = False
        self.rval = 0
        self.value: T | None = None

    def __repr__(self) -> str:
        return f"<OpOutput done={self.done} rval={self.rval} value={self.value!r}>"


class OmapIterator:
    """python-rados' ``OmapIterator``: (key, value) pairs (value None for keys only)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes | None]] = []
        self.more = False
        """The OSD has more keys after these (``pmore``)."""
        self.rval = 0

    def __iter__(self) -> Iterator[tuple[str, bytes | None]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class XattrIterator:
    """python-rados' ``XattrIterator``: (name, value) pairs."""

    def __init__(self, items: Sequence[tuple[str, bytes]] = ()) -> None:
        self.items = list(items)
        self.rval = 0

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


Handler = Callable[[OSDOp], None]


# -- the builders ---------------------------------------------------------------------------


class _ObjectOperation:
    """``ObjectOperation``: ops, the per-op output handlers and the op flags."""

    def __init__(self) -> None:
        self.ops: list[OSDOp] = []
        self.handlers: list[Handler | None] = []
        self.flags = LIBRADOS_OPERATION_NOFLAG
        """Flags for the whole vector (LIBRADOS_OPERATION_*), set by operate."""
        self._released = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Forget the ops (python-rados' ``release``); the object cannot be reused."""
        self._released = True
        self.ops.clear()
        self.handlers.clear()

    def __len__(self) -> int:
        return len(self.ops)

    def add(self, op: OSDOp, handler: Handler | None = None) -> None:
        """Append a raw :class:`~asyncmsgr.osd.ops.OSDOp` (and its output handler)."""
        if self._released:
            raise InvalidArgumentError("the operation was released")
        self.ops.append(op)
        self.handlers.append(handler)

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG) -> None:
        """Set LIBRADOS_OP_FLAG_* on the last op added (python-rados' ``set_flags``)."""
        if not self.ops:
            raise InvalidArgumentError("no op to set flags on")
        last = self.ops[-1]
        self.ops[-1] = OSDOp(last.op, last.flags | (flags & 0xFFFFFFFF), last.args,
                             last.indata)

    def assert_version(self, version: int) -> None:
        """Fail the vector (ERANGE/EOVERFLOW) unless the object's version is ``version``."""
        self.add(osd.assert_version(version))

    def cmpxattr(self, name: str, cmp_op: int, value: bytes) -> None:
        """Fail the vector (ECANCELED) unless ``xattr <cmp_op> value``."""
        self.add(osd.cmpxattr(name, cmp_op, value, CmpXattrMode.STRING))

    def execute(self, cls: str, method: str, data: bytes = b"") -> OpOutput[bytes]:
        """CALL ``cls.method``; the output's value is the method's reply."""
        out: OpOutput[bytes] = OpOutput()
        self.add(osd.call(cls, method, data), _raw(out))
        return out

    def finish(self, reply_ops: Sequence[OSDOp], result: int = 0) -> None:
        """Hand each op's output to its handler (called by operate).

        ``result`` is the whole vector's: when it failed (< 0), no output is
        decoded — the OSD answers a failed vector with empty outputs and rval 0
        for the ops it did not run — and each op's rval is its own error, or
        else the vector's.
        """
        failed = result < 0
        for handler, op in zip(self.handlers, reply_ops, strict=False):
            if handler is not None:
                if failed:
                    handler(op._replace(rval=op.rval if op.rval < 0 else result))
                else:
                    handler(op)


def _raw(out: OpOutput[bytes]) -> Handler:
    def handle(op: OSDOp) -> None:
        out.done = True
        out.rval = op.rval
        if op.rval >= 0:
            out.value = bytes(op.outdata)
    return handle


def _decoded(out: OpOutput[T], decode: Callable[[Buffer], T]) -> Handler:
    def handle(op: OSDOp) -> None:
        out.done = True
        out.rval = op.rval
        if op.rval >= 0:
            out.value = _decode_or_eio(out, decode, op.outdata)
    return handle


class _Rval(Protocol):
    rval: int


def _decode_or_eio(out: _Rval, decode: Callable[[Buffer], T], data: Buffer) -> T | None:
    """``decode(data)``; an output that does not decode sets ``rval`` to -EIO (as
    librados' output handlers do) instead of failing the call."""
    try:
        return decode(data)
    except DecodeError:
        out.rval = -errno.EIO
        return None


class WriteOp(_ObjectOperation):
    """python-rados' ``WriteOp`` (and ``WriteOpCtx``): ops that modify one object."""

    def new(self, exclusive: int | bool | None = None) -> None:
        """CREATE the object (``exclusive``: fail with EEXIST when it exists)."""
        self.add(osd.create(bool(exclusive)))

    def create(self, exclusive: bool = False) -> None:
        """CREATE (same as :meth:`new`)."""
        self.add(osd.create(exclusive))

    def remove(self) -> None:
        """DELETE the object."""
        self.add(osd.remove())

    def write(self, to_write: Buffer, offset: int = 0) -> None:
        """WRITE at ``offset``."""
        self.add(osd.write(offset, to_write))

    def write_full(self, to_write: Buffer) -> None:
        """WRITEFULL: replace the data."""
        self.add(osd.writefull(to_write))

    def append(self, to_append: Buffer) -> None:
        """APPEND."""
        self.add(osd.append(to_append))

    def truncate(self, offset: int) -> None:
        """TRUNCATE to ``offset`` bytes."""
        self.add(osd.truncate(offset))

    def zero(self, offset: int, length: int) -> None:
        """ZERO a range."""
        self.add(osd.zero(offset, length))

    def set_xattr(self, xattr_name: str, xattr_value: Buffer) -> None:
        """SETXATTR."""
        self.add(osd.setxattr(xattr_name, xattr_value))

    def rm_xattr(self, xattr_name: str) -> None:
        """RMXATTR."""
        self.add(osd.rmxattr(xattr_name))

    def set_omap(self, keys: Sequence[str], values: Sequence[Buffer]) -> None:
        """OMAPSETVALS for ``keys[i] = values[i]``."""
        if len(keys) != len(values):
            raise InvalidArgumentError("keys and values differ in length")
        self.add(osd.omap_set(dict(zip(keys, values, strict=True))))

    def omap_set_header(self, header: Buffer) -> None:
        """OMAPSETHEADER."""
        self.add(osd.omap_set_header(header))

    def remove_omap_keys(self, keys: Sequence[str]) -> None:
        """OMAPRMKEYS."""
        self.add(osd.omap_rm_keys(keys))

    def clear_omap(self) -> None:
        """OMAPCLEAR."""
        self.add(osd.omap_clear())

    def set_alloc_hint(self, expected_object_size: int, expected_write_size: int,
                       flags: int = 0) -> None:
        """SETALLOCHINT."""
        self.add(osd.set_alloc_hint(expected_object_size, expected_write_size, flags))


class ReadOp(_ObjectOperation):
    """python-rados' ``ReadOp`` (and ``ReadOpCtx``): ops that read one object."""

    def read(self, offset: int = 0, length: int = 0) -> OpOutput[bytes]:
        """READ ``length`` bytes at ``offset`` (0: to the end)."""
        out: OpOutput[bytes] = OpOutput()
        self.add(osd.read(offset, length), _raw(out))
        return out

    def stat(self) -> OpOutput[Any]:
        """STAT; the value is an :class:`~asyncmsgr.osd.op_data.ObjectStat`."""
        out: OpOutput[Any] = OpOutput()
        self.add(osd.stat(), _decoded(out, decode_stat))
        return out

    def get_xattr(self, xattr_name: str) -> OpOutput[bytes]:
        """GETXATTR."""
        out: OpOutput[bytes] = OpOutput()
        self.add(osd.getxattr(xattr_name), _raw(out))
        return out

    def get_xattrs(self) -> XattrIterator:
        """GETXATTRS."""
        it = XattrIterator()

        def handle(op: OSDOp) -> None:
            it.rval = op.rval
            if op.rval >= 0:
                got = _decode_or_eio(it, decode_xattrs, op.outdata)
                it.items = sorted(got.items()) if got is not None else []
        self.add(osd.getxattrs(), handle)
        return it

    def get_omap_vals(self, start_after: str = "", filter_prefix: str = "",
                      max_return: int = 512) -> OmapIterator:
        """OMAPGETVALS."""
        it = OmapIterator()

        def handle(op: OSDOp) -> None:
            it.rval = op.rval
            if op.rval >= 0:
                got = _decode_or_eio(it, decode_omap_vals, op.outdata)
                if got is not None:
                    it.items = list(got.vals.items())
                    it.more = bool(got.more)
        self.add(osd.omap_get_vals(start_after, filter_prefix, max_return), handle)
        return it

    def get_omap_keys(self, start_after: str = "", max_return: int = 512) -> OmapIterator:
        """OMAPGETKEYS (values are None)."""
        it = OmapIterator()

        def handle(op: OSDOp) -> None:
            it.rval = op.rval
            if op.rval >= 0:
                got = _decode_or_eio(it, decode_omap_keys, op.outdata)
                if got is not None:
                    it.items = [(k, None) for k in got.keys]
                    it.more = bool(got.more)
        self.add(osd.omap_get_keys(start_after, max_return), handle)
        return it

    def get_omap_vals_by_keys(self, keys: Sequence[str]) -> OmapIterator:
        """OMAPGETVALSBYKEYS."""
        it = OmapIterator()

        def handle(op: OSDOp) -> None:
            it.rval = op.rval
            if op.rval >= 0:
                got = _decode_or_eio(it, decode_omap_vals_by_keys, op.outdata)
                it.items = list(got.items()) if got is not None else []
        self.add(osd.omap_get_vals_by_keys(keys), handle)
        return it

    def get_omap_header(self) -> OpOutput[bytes]:
        """OMAPGETHEADER."""
        out: OpOutput[bytes] = OpOutput()
        self.add(osd.omap_get_header(), _raw(out))
        return out


#: python-rados' context-manager names.
WriteOpCtx = WriteOp
ReadOpCtx = ReadOp

__all__ = [
    "LIBRADOS_CMPXATTR_OP_EQ",
    "LIBRADOS_CMPXATTR_OP_GT",
    "LIBRADOS_CMPXATTR_OP_GTE",
    "LIBRADOS_CMPXATTR_OP_LT",
    "LIBRADOS_CMPXATTR_OP_LTE",
    "LIBRADOS_CMPXATTR_OP_NE",
    "LIBRADOS_OPERATION_BALANCE_READS",
    "LIBRADOS_OPERATION_FULL_FORCE",
    "LIBRADOS_OPERATION_FULL_TRY",
    "LIBRADOS_OPERATION_IGNORE_CACHE",
    "LIBRADOS_OPERATION_IGNORE_OVERLAY",
    "LIBRADOS_OPERATION_IGNORE_REDIRECT",
    "LIBRADOS_OPERATION_LOCALIZE_READS",
    "LIBRADOS_OPERATION_NOFLAG",
    "LIBRADOS_OPERATION_ORDERSNAP",
    "LIBRADOS_OPERATION_ORDER_READS_WRITES",
    "LIBRADOS_OPERATION_RETURNVEC",
    "LIBRADOS_OPERATION_SKIPRWLOCKS",
    "LIBRADOS_OP_FLAG_EXCL",
    "LIBRADOS_OP_FLAG_FADVISE_DONTNEED",
    "LIBRADOS_OP_FLAG_FADVISE_NOCACHE",
    "LIBRADOS_OP_FLAG_FADVISE_RANDOM",
    "LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL",
    "LIBRADOS_OP_FLAG_FADVISE_WILLNEED",
    "LIBRADOS_OP_FLAG_FAILOK",
    "OmapIterator",
    "OpOutput",
    "ReadOp",
    "ReadOpCtx",
    "WriteOp",
    "WriteOpCtx",
    "XattrIterator",
    "translate_flags",
]
