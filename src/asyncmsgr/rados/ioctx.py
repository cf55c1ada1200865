"""``IoCtx``: object I/O in one pool (python-rados' ``Ioctx`` as coroutines).

An IoCtx is bound to a pool, a namespace and a locator key (``set_namespace``,
``set_locator_key``); every call targets one object, except the listing
(:meth:`IoCtx.list_objects`, PGNLS over every PG). Methods that talk to the
cluster are coroutines; builders and setters are plain methods. Failures raise
the typed errors of :mod:`asyncmsgr.rados.errors` (``ObjectNotFound`` for
ENOENT ...), with python-rados' messages.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from asyncmsgr.osd import ops as osd
from asyncmsgr.osd.op_data import (
    LIBRADOS_ALL_NSPACES,
    NotifyResult,
    decode_notify_result,
    decode_pgnls,
    decode_stat,
    decode_xattrs,
)
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, HObject, ObjectLocator
from asyncmsgr.osdc import linger as lingerops
from asyncmsgr.osdc.op import LingerOp, OpResult
from asyncmsgr.types import Buffer, UTime

from .completion import Completion, OnComplete, OnReadComplete
from .errors import (
    Error,
    InvalidArgumentError,
    IoctxStateError,
    LogicError,
    ObjectStateError,
    make_ex,
)
from .ops import OmapIterator, ReadOp, WriteOp, XattrIterator, translate_flags

if TYPE_CHECKING:
    from .client import Rados

__all__ = ["LIBRADOS_ALL_NSPACES", "IoCtx", "ObjectEntry", "Watch"]

logger = logging.getLogger("asyncmsgr.rados")

_READ = int(OsdFlag.READ)
_WRITE = int(OsdFlag.WRITE)
_PGLS = int(OsdFlag.READ | OsdFlag.PGOP)
_FULL_TRY = int(OsdFlag.FULL_TRY)
#: Objects listed per PGNLS request (librados lists in pages too).
LIST_PAGE = 1024

_Reply = bytes | str | None
WatchCallback = Callable[[int, int, int, bytes], _Reply | Awaitable[_Reply]]
ErrorCallback = Callable[[int, Error], Awaitable[None] | None]


class ObjectEntry(NamedTuple):
    """An object found by :meth:`IoCtx.list_objects` (python-rados' ``Object``)."""

    key: str
    nspace: str = ""
    locator_key: str = ""


def _now() -> UTime:
    return UTime.from_float(time.time())


class IoCtx:
    """I/O on one pool; get one with :meth:`Rados.open_ioctx`."""

    def __init__(self, rados: Rados, pool_id: int, name: str) -> None:
        self.rados = rados
        self.objecter = rados.objecter
        self.pool_id = pool_id
        self.name = name
        self.nspace = ""
        self.locator_key = ""
        self.snap = CEPH_NOSNAP
        self.extra_op_flags = 0
        self.last_version = 0
        self.state = "open"
        self._oloc = ObjectLocator(pool_id)

    def __repr__(self) -> str:
        return f"<IoCtx pool={self.name!r} ({self.pool_id}) nspace={self.nspace!r}>"

    # -- state -----------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.state != "open":
            raise IoctxStateError("The pool is closed")
        self.rados.require_state("connected")

    def close(self) -> None:
        """Close the IoCtx (ops already submitted still complete)."""
        self.state = "closed"

    def __enter__(self) -> IoCtx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> IoCtx:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def get_pool_id(self) -> int:
        """The pool's id."""
        return self.pool_id

    def get_pool_name(self) -> str:
        """The pool's name."""
        return self.name

    def set_namespace(self, nspace: str | None) -> None:
        """Objects are in namespace ``nspace`` from now on ("" or None: the default;
        :data:`LIBRADOS_ALL_NSPACES` lists every namespace)."""
        self.nspace = nspace or ""
        self._oloc = ObjectLocator(self.pool_id, self.locator_key, self.nspace)

    def get_namespace(self) -> str:
        """The namespace."""
        return self.nspace

    def set_locator_key(self, loc_key: str | None) -> None:
        """Place objects by ``loc_key`` instead of their name ("" or None: by name)."""
        self.locator_key = loc_key or ""
        self._oloc = ObjectLocator(self.pool_id, self.locator_key, self.nspace)

    def get_locator_key(self) -> str:
        """The locator key."""
        return self.locator_key

    def get_last_version(self) -> int:
        """The user version of the object last read or written through this IoCtx."""
        return self.last_version

    def set_osdmap_full_try(self) -> None:
        """Writes go on while the cluster is full (the OSD answers ENOSPC)."""
        self.extra_op_flags |= _FULL_TRY

    def unset_osdmap_full_try(self) -> None:
        """Writes wait again while the cluster is full."""
        self.extra_op_flags &= ~_FULL_TRY

    # -- the op path -----------------------------------------------------------------------

    async def _operate(self, oid: str, ops: list[OSDOp], flags: int, what: str) -> OpResult:
        """Run ``ops`` on ``oid``; raise the typed error of a negative result."""
        if self.state != "open" or self.rados.state != "connected":
            self._require_open()
        if self.nspace == LIBRADOS_ALL_NSPACES:
            raise InvalidArgumentError(f"{what}: no object I/O across all namespaces",
                                       errno.EINVAL)
        o = self.objecter
        mtime = _now() if flags & _WRITE else None
        op = o.new_op(oid, self._oloc, ops, flags | self.extra_op_flags, mtime=mtime,
                      snapid=self.snap)
        res = await o.submit(op)
        if res.user_version:
            self.last_version = res.user_version
        if res.result < 0:
            raise make_ex(res.result, what)
        return res

    # -- aio: completion callbacks, no task per op --------------------------------------------

    def _aio(self, oid: str, ops: list[OSDOp], flags: int, comp: Completion, *,
             mtime: UTime | None = None) -> Completion:
        if self.state != "open" or self.rados.state != "connected":
            self._require_open()
        if self.nspace == LIBRADOS_ALL_NSPACES:
            raise InvalidArgumentError("no object I/O across all namespaces", errno.EINVAL)
        if mtime is None and flags & _WRITE:
            mtime = _now()
        comp.op = self.objecter.aio_operate(oid, self._oloc, ops, flags | self.extra_op_flags,
                                            comp._complete, mtime=mtime, snapid=self.snap)
        return comp

    def aio_write(self, key: str, data: Buffer, offset: int = 0,
                  oncomplete: OnComplete | None = None) -> Completion:
        """Start a WRITE of ``data`` at ``offset``; ``oncomplete(completion)`` once the
        OSD has it (python-rados' ``aio_write``). ``data`` must not change until then."""
        return self._aio(key, [osd.write(offset, data)], _WRITE, Completion(self, oncomplete))

    def aio_write_full(self, key: str, data: Buffer,
                       oncomplete: OnComplete | None = None) -> Completion:
        """Start a WRITEFULL (see :meth:`aio_write`)."""
        return self._aio(key, [osd.writefull(data)], _WRITE, Completion(self, oncomplete))

    def aio_append(self, key: str, data: Buffer,
                   oncomplete: OnComplete | None = None) -> Completion:
        """Start an APPEND (see :meth:`aio_write`)."""
        return self._aio(key, [osd.append(data)], _WRITE, Completion(self, oncomplete))

    def aio_read(self, key: str, length: int, offset: int,
                 oncomplete: OnReadComplete | None = None) -> Completion:
        """Start a READ; ``oncomplete(completion, data)`` with the bytes read (None on
        error), whose count is the return value. ``data`` is a read-only view of
        the reply, not a copy (``bytes(data)`` keeps one)."""
        return self._aio(key, [osd.read(offset, length)], _READ,
                         Completion(self, oncomplete, read=True))

    def aio_remove(self, key: str, oncomplete: OnComplete | None = None) -> Completion:
        """Start a DELETE (see :meth:`aio_write`)."""
        return self._aio(key, [osd.remove()], _WRITE, Completion(self, oncomplete))

    def operate_aio_write_op(self, write_op: WriteOp, oid: str,
                             oncomplete: OnComplete | None = None, mtime: int = 0,
                             flags: int = 0) -> Completion:
        """Start a :class:`WriteOp` on ``oid`` (``mtime`` 0: now; LIBRADOS_OPERATION_*
        ``flags``); the op's ops may be reused once this returns."""
        return self._aio(oid, list(write_op.ops), _WRITE | translate_flags(flags),
                         Completion(self, oncomplete, compound=write_op),
                         mtime=UTime(mtime) if mtime else None)

    def operate_aio_read_op(self, read_op: ReadOp, oid: str,
                            oncomplete: OnComplete | None = None,
                            flag: int = 0) -> Completion:
        """Start a :class:`ReadOp` on ``oid``; its outputs are filled in before
        ``oncomplete(completion)`` runs."""
        return self._aio(oid, list(read_op.ops), _READ | translate_flags(flag),
                         Completion(self, oncomplete, compound=read_op))

    # -- coroutines ------------------------------------------------------------------------------

    async def write(self, key: str, data: Buffer, offset: int = 0) -> int:
        """WRITE ``data`` at ``offset``; 0."""
        await self._operate(key, [osd.write(offset, data)], _WRITE,
                            f"Ioctx.write({self.name}): failed to write {key}")
        return 0

    async def write_full(self, key: str, data: Buffer) -> int:
        """Replace the object's data with ``data``; 0."""
        await self._operate(key, [osd.writefull(data)], _WRITE,
                            f"Ioctx.write_full({self.name}): failed to write {key}")
        return 0

    async def append(self, key: str, data: Buffer) -> int:
        """APPEND ``data``; 0."""
        await self._operate(key, [osd.append(data)], _WRITE,
                            f"Ioctx.append({self.name}): failed to append {key}")
        return 0

    async def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at the end of the object)."""
        res = await self._operate(key, [osd.read(offset, length)], _READ,
                                  f"Ioctx.read({self.name}): failed to read {key}")
        return bytes(res.outs[0].outdata) if res.outs else b""

    async def stat(self, key: str) -> tuple[int, time.struct_time]:
        """(size, mtime as ``time.localtime``) of the object."""
        res = await self._operate(key, [osd.stat()], _READ, f"Failed to stat {key!r}")
        st = decode_stat(res.outs[0].outdata)
        return st.size, time.localtime(st.mtime.sec)

    async def remove_object(self, key: str) -> bool:
        """DELETE the object; True."""
        await self._operate(key, [osd.remove()], _WRITE, f"Failed to remove '{key}'")
        return True

    async def trunc(self, key: str, size: int) -> int:
        """Resize the object to ``size`` bytes; 0."""
        await self._operate(key, [osd.truncate(size)], _WRITE,
                            f"Ioctx.trunc({self.name}): failed to truncate {key}")
        return 0

    async def zero(self, key: str, offset: int, length: int) -> int:
        """Zero ``length`` bytes at ``offset`` (extra: not in python-rados); 0."""
        await self._operate(key, [osd.zero(offset, length)], _WRITE,
                            f"Ioctx.zero({self.name}): failed to zero {key}")
        return 0

    async def create(self, key: str, exclusive: bool = False) -> int:
        """CREATE the object (``exclusive``: ObjectExists if it exists; extra); 0."""
        await self._operate(key, [osd.create(exclusive)], _WRITE,
                            f"Ioctx.create({self.name}): failed to create {key}")
        return 0

    async def get_xattr(self, key: str, xattr_name: str) -> bytes:
        """The value of an xattr (NoData if absent)."""
        res = await self._operate(key, [osd.getxattr(xattr_name)], _READ,
                                  f"Failed to get xattr {xattr_name!r}")
        return bytes(res.outs[0].outdata)

    async def get_xattrs(self, oid: str) -> XattrIterator:
        """Every xattr of the object, as (name, value) pairs by name."""
        res = await self._operate(oid, [osd.getxattrs()], _READ,
                                  f"Failed to get rados xattrs for object {oid!r}")
        return XattrIterator(sorted(decode_xattrs(res.outs[0].outdata).items()))

    async def set_xattr(self, key: str, xattr_name: str, xattr_value: Buffer) -> bool:
        """Set an xattr; True."""
        await self._operate(key, [osd.setxattr(xattr_name, xattr_value)], _WRITE,
                            f"Failed to set xattr {xattr_name!r}")
        return True

    async def rm_xattr(self, key: str, xattr_name: str) -> bool:
        """Remove an xattr; True."""
        await self._operate(key, [osd.rmxattr(xattr_name)], _WRITE,
                            f"Failed to delete key {xattr_name!r} xattr {key!r}")
        return True

    # -- compound ops ------------------------------------------------------------------------

    def create_write_op(self) -> WriteOp:
        """A new :class:`WriteOp`."""
        return WriteOp()

    def create_read_op(self) -> ReadOp:
        """A new :class:`ReadOp`."""
        return ReadOp()

    def release_write_op(self, write_op: WriteOp) -> None:
        """Release a :class:`WriteOp`."""
        write_op.release()

    def release_read_op(self, read_op: ReadOp) -> None:
        """Release a :class:`ReadOp`."""
        read_op.release()

    async def operate_write_op(self, write_op: WriteOp, oid: str, mtime: int = 0,
                               flags: int = 0) -> None:
        """Run a :class:`WriteOp` on ``oid`` atomically (``mtime`` 0: now)."""
        if not write_op.ops:
            return
        self._require_open()
        o = self.objecter
        op = o.new_op(oid, self._oloc, list(write_op.ops),
                      _WRITE | translate_flags(flags) | self.extra_op_flags,
                      mtime=UTime(mtime) if mtime else _now())
        res = await o.submit(op)
        self._finish(write_op, res, "operate_write_op failed")

    async def operate_read_op(self, read_op: ReadOp, oid: str, flag: int = 0) -> None:
        """Run a :class:`ReadOp` on ``oid``; its outputs are filled in."""
        if not read_op.ops:
            return
        self._require_open()
        o = self.objecter
        op = o.new_op(oid, self._oloc, list(read_op.ops),
                      _READ | translate_flags(flag) | self.extra_op_flags, snapid=self.snap)
        res = await o.submit(op)
        self._finish(read_op, res, "operate_read_op failed")

    def _finish(self, op: WriteOp | ReadOp, res: OpResult, what: str) -> None:
        if res.user_version:
            self.last_version = res.user_version
        op.finish(res.outs, res.result)
        if res.result < 0:
            raise make_ex(res.result, what)

    # python-rados' omap calls on an op (sync: they only add to the op)

    def set_omap(self, write_op: WriteOp, keys: Sequence[str],
                 values: Sequence[Buffer]) -> None:
        """Add OMAPSETVALS to ``write_op``."""
        write_op.set_omap(keys, values)

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str]) -> None:
        """Add OMAPRMKEYS to ``write_op``."""
        write_op.remove_omap_keys(keys)

    def clear_omap(self, write_op: WriteOp) -> None:
        """Add OMAPCLEAR to ``write_op``."""
        write_op.clear_omap()

    def get_omap_vals(self, read_op: ReadOp, start_after: str, filter_prefix: str,
                      max_return: int) -> tuple[OmapIterator, int]:
        """Add OMAPGETVALS to ``read_op``: (an iterator filled by operate, 0)."""
        return read_op.get_omap_vals(start_after, filter_prefix, max_return), 0

    def get_omap_keys(self, read_op: ReadOp, start_after: str,
                      max_return: int) -> tuple[OmapIterator, int]:
        """Add OMAPGETKEYS to ``read_op``: (an iterator filled by operate, 0)."""
        return read_op.get_omap_keys(start_after, max_return), 0

    def get_omap_vals_by_keys(self, read_op: ReadOp,
                              keys: Sequence[str]) -> tuple[OmapIterator, int]:
        """Add OMAPGETVALSBYKEYS to ``read_op``: (an iterator filled by operate, 0)."""
        return read_op.get_omap_vals_by_keys(keys), 0

    # omap convenience coroutines (one op each)

    async def omap_set(self, oid: str, values: Mapping[str, Buffer]) -> None:
        """Set omap keys of ``oid``."""
        await self._operate(oid, [osd.omap_set(values)], _WRITE, "Failed to set omap")

    async def omap_get_vals(self, oid: str, start_after: str = "", filter_prefix: str = "",
                            max_return: int = 512) -> dict[str, bytes]:
        """Omap values of ``oid`` after ``start_after``, keys starting ``filter_prefix``."""
        with ReadOp() as op:
            it = op.get_omap_vals(start_after, filter_prefix, max_return)
            await self.operate_read_op(op, oid)
            return {k: v for k, v in it if v is not None}

    async def omap_get_keys(self, oid: str, start_after: str = "",
                            max_return: int = 512) -> list[str]:
        """Omap keys of ``oid`` after ``start_after``."""
        with ReadOp() as op:
            it = op.get_omap_keys(start_after, max_return)
            await self.operate_read_op(op, oid)
            return [k for k, _ in it]

    async def omap_get_vals_by_keys(self, oid: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The values of those ``keys`` that ``oid`` has."""
        with ReadOp() as op:
            it = op.get_omap_vals_by_keys(keys)
            await self.operate_read_op(op, oid)
            return {k: v for k, v in it if v is not None}

    async def omap_rm_keys(self, oid: str, keys: Sequence[str]) -> None:
        """Remove omap keys of ``oid``."""
        await self._operate(oid, [osd.omap_rm_keys(keys)], _WRITE, "Failed to remove omap keys")

    async def omap_clear(self, oid: str) -> None:
        """Remove every omap key (and the header) of ``oid``."""
        await self._operate(oid, [osd.omap_clear()], _WRITE, "Failed to clear omap")

    async def execute(self, key: str, cls: str, method: str, data: bytes,
                      length: int = 8192) -> tuple[int, bytes]:
        """Call an object class method: (the output's length, up to ``length`` bytes
        of the output), as python-rados returns ``rados_exec``'s result."""
        res = await self._operate(key, [osd.call(cls, method, data)], _READ | _WRITE,
                                  f"Ioctx.exec({self.name}): failed to exec {cls}:{method} "
                                  f"on {key}")
        out = bytes(res.outs[0].outdata)[:length] if res.outs else b""
        return len(out), out

    # -- listing ---------------------------------------------------------------------------

    async def list_objects(self, page: int = LIST_PAGE) -> AsyncIterator[ObjectEntry]:
        """Every object of the pool in the IoCtx's namespace (or all of them), in the
        OSDs' order, as :class:`ObjectEntry` (``key``, ``nspace``, ``locator_key``).

        Walks the PGs with PGNLS (``Objecter::list_nobjects``): the cursor each reply
        returns names the next object, or the next PG, or the end.
        """
        self._require_open()
        o = self.objecter
        oloc = ObjectLocator(self.pool_id, "", self.nspace)
        cursor = HObject()
        while not cursor.max:
            pool = o.osdmap.get_pg_pool(self.pool_id)
            if pool is None:
                raise make_ex(-errno.ENOENT, f"pool {self.name} is gone")
            pg = PG(self.pool_id, pool.raw_hash_to_pg(cursor.hash))
            op = o.new_op("", oloc, [osd.pgnls(page, cursor, o.osdmap.epoch)], _PGLS, pgid=pg)
            res = await o.submit(op)
            if res.result < 0:
                raise make_ex(res.result, "error iterating over the objects")
            got = decode_pgnls(res.outs[0].outdata)
            for e in got.entries:
                yield ObjectEntry(e.oid, e.nspace, e.locator)
            cursor = got.handle

    # -- watch / notify ----------------------------------------------------------------------

    async def watch(self, obj: str, callback: WatchCallback,
                    error_callback: ErrorCallback | None = None,
                    timeout: int | None = None) -> Watch:
        """Watch ``obj``: ``callback(notify_id, notifier_id, watch_id, data)`` per
        notify, its return value (bytes/str/None) sent as the ack's reply;
        ``error_callback(watch_id, error)`` once the watch breaks.
        """
        self._require_open()
        w = Watch(self, obj, callback, error_callback)
        await w.register(timeout or 0)
        return w

    async def notify(self, obj: str, msg: str | bytes = "", timeout_ms: int = 5000) -> bool:
        """Notify the watchers of ``obj`` and wait for their acks; True (TimedOut if
        a watcher did not ack in time)."""
        await self.notify_with_replies(obj, msg, timeout_ms)
        return True

    async def notify_with_replies(self, obj: str, msg: str | bytes = "",
                                  timeout_ms: int = 5000) -> NotifyResult:
        """Like :meth:`notify`, returning the watchers' replies (extra)."""
        self._require_open()
        payload = msg.encode() if isinstance(msg, str) else bytes(msg)
        timeout = timeout_ms // 1000 if timeout_ms else int(self.objecter.options.notify_timeout)
        o = self.objecter
        info = lingerops.linger_register(o, obj, self._oloc, 0)
        try:
            r, replies = await lingerops.linger_notify(o, info, payload, timeout)
        finally:
            lingerops.linger_cancel(o, info)
        if r < 0:
            raise make_ex(r, f"Failed to notify {obj!r}")
        return decode_notify_result(replies) if replies else NotifyResult()

    async def notify_ack(self, obj: str, notify_id: int, cookie: int,
                         reply: Buffer = b"") -> None:
        """Acknowledge notify ``notify_id`` received on watch ``cookie``."""
        o = self.objecter
        op = o.new_op(obj, self._oloc, [osd.notify_ack(notify_id, cookie, reply)],
                      _READ | self.extra_op_flags)
        res = await o.submit(op)
        if res.result < 0:
            raise make_ex(res.result, f"Failed to ack notify {notify_id}")


class Watch:
    """A watch on one object (python-rados' ``Watch``): ``await close()`` or use
    ``async with``."""

    def __init__(self, ioctx: IoCtx, oid: str, callback: WatchCallback,
                 error_callback: ErrorCallback | None) -> None:
        self.ioctx = ioctx
        self.oid = oid
        self.callback = callback
        self.error_callback = error_callback
        self.id = 0
        self._info: LingerOp | None = None
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        """Callbacks (and their acks) under way; cancelled by :meth:`close`."""

    async def register(self, timeout: int) -> None:
        """Register with the OSD (called by :meth:`IoCtx.watch`)."""
        o = self.ioctx.objecter
        info = lingerops.linger_register(o, self.oid, self.ioctx._oloc, 0)
        info.on_notify = self._on_notify
        info.on_error = self._on_error
        self._info = info
        self.id = info.cookie
        r = await lingerops.linger_watch(o, info, timeout=timeout, mtime=_now())
        if r < 0:
            lingerops.linger_cancel(o, info)
            self._closed = True
            raise make_ex(r, f"Failed to watch {self.oid!r}")

    def get_id(self) -> int:
        """The watch id (its cookie)."""
        return self.id

    def check(self) -> float:
        """Seconds since the watch was last confirmed; raises its error if broken."""
        if self._closed or self._info is None:
            raise ObjectStateError("watch is closed")
        got = lingerops.linger_check(self.ioctx.objecter, self._info)
        if isinstance(got, int) and got < 0:
            raise make_ex(got, "Watch.check failed")
        return float(got)

    def _track(self, aw: Awaitable[None]) -> None:
        task = self.ioctx.objecter.loop.create_task(_await(aw))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("watch %d on %r: callback failed", self.id, self.oid,
                         exc_info=task.exception())

    def _on_notify(self, notify_id: int, cookie: int, notifier_gid: int, data: bytes) -> None:
        self._track(self._handle(notify_id, notifier_gid, data))

    async def _handle(self, notify_id: int, notifier_gid: int, data: bytes) -> None:
        reply: object = self.callback(notify_id, notifier_gid, self.id, data)
        if inspect.isawaitable(reply):
            reply = await reply
        if reply is None:
            raw = b""
        elif isinstance(reply, str):
            raw = reply.encode()
        elif isinstance(reply, bytes | bytearray | memoryview):
            raw = bytes(reply)
        else:
            raise LogicError(f"watch callback returned {type(reply).__name__}")
        if not self._closed:
            await self.ioctx.notify_ack(self.oid, notify_id, self.id, raw)

    def _on_error(self, cookie: int, r: int) -> None:
        cb = self.error_callback
        if cb is None:
            return
        got = cb(self.id, make_ex(r, f"watch {self.id} on {self.oid!r} failed"))
        if inspect.isawaitable(got):
            self._track(got)

    async def close(self) -> None:
        """Unregister (UNWATCH) and stop delivering notifies."""
        if self._closed or self._info is None:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        o = self.ioctx.objecter
        info = self._info
        op = o.new_op(self.oid, self.ioctx._oloc, [osd.unwatch(info.cookie)],
                      _WRITE, mtime=_now())
        lingerops.linger_cancel(o, info)
        res = await o.submit(op)
        if res.result < 0 and res.result != -errno.ENOENT:
            raise make_ex(res.result, f"Failed to unwatch {self.oid!r}")

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _await(aw: Awaitable[object]) -> None:
    await aw
