"""``Completion``: one ``aio_*`` call of an :class:`~asyncmsgr.rados.IoCtx` (python-rados'
``Completion``), driven by callbacks rather than tasks.

``ioctx.aio_write_full(key, data, oncomplete=cb)`` (and the other ``aio_*`` /
``operate_aio_*_op`` calls) submits the op through
:meth:`~asyncmsgr.osdc.objecter.Objecter.aio_operate` and returns at once. When
the OSD answers, on the event loop and inside the reply's dispatch, the
completion records the result and calls ``cb(completion)`` (reads:
``cb(completion, data)``, ``data`` None on error). No task or future exists
unless someone waits: ``await completion`` (or
:meth:`Completion.wait_for_complete`) creates one future then.

An exception raised by ``oncomplete`` goes to the loop's exception handler: it
cannot reach the caller, who has returned, nor may it break the messenger's
dispatch.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from asyncmsgr.osdc.op import Op, OpResult
from asyncmsgr.types import Buffer

if TYPE_CHECKING:
    from .ioctx import IoCtx
    from .ops import ReadOp, WriteOp

__all__ = ["Completion", "OnComplete", "OnReadComplete"]

#: ``oncomplete(completion)`` of a write, remove or compound op.
OnComplete = Callable[["Completion"], object]
#: ``oncomplete(completion, data)`` of ``aio_read`` (``data`` None on error).
OnReadComplete = Callable[["Completion", Buffer | None], object]


class Completion:
    """An ``aio_*`` call: in flight until :meth:`is_complete`, then its return value.

    :meth:`get_return_value` is 0 (or, for ``aio_read``, the bytes read) or a
    negative errno. ``await completion`` returns it.
    """

    __slots__ = ("_compound", "_data", "_done", "_future", "_ioctx", "_oncomplete", "_read",
                 "_result", "op")

    def __init__(self, ioctx: IoCtx, oncomplete: Callable[..., object] | None, *,
                 read: bool = False, compound: ReadOp | WriteOp | None = None) -> None:
        self._ioctx = ioctx
        self._oncomplete = oncomplete
        self._read = read
        self._compound = compound
        self._done = False
        self._result = 0
        self._data: Buffer | None = None
        self._future: asyncio.Future[int] | None = None
        self.op: Op | None = None
        """The Objecter's op (for :meth:`cancel`); None once complete."""

    def __repr__(self) -> str:
        state = f"complete={self._result}" if self._done else "in flight"
        return f"<Completion {state}>"

    # -- python-rados' API ------------------------------------------------------------------

    def is_complete(self) -> bool:
        """The OSD has answered (or the op failed before that)."""
        return self._done

    def is_safe(self) -> bool:
        """Same as :meth:`is_complete` (Ceph no longer tells the two apart)."""
        return self._done

    def get_return_value(self) -> int:
        """0, the bytes read (``aio_read``), or a negative errno; 0 while in flight."""
        return self._result

    async def wait_for_complete(self) -> None:
        """Return once complete."""
        await self

    async def wait_for_safe(self) -> None:
        """Same as :meth:`wait_for_complete`."""
        await self

    def cancel(self) -> None:
        """``rados_aio_cancel``: complete now with ECANCELED (a write already sent
        may still apply)."""
        op = self.op
        if op is not None and not self._done:
            self._ioctx.objecter.cancel(op, -errno.ECANCELED)

    def __await__(self) -> Generator[Any, None, int]:
        if not self._done:
            fut = self._future
            if fut is None:
                fut = self._future = asyncio.get_running_loop().create_future()
            return (yield from fut.__await__())
        return self._result

    # -- completion (the Objecter's onfinish) -----------------------------------------------

    def _complete(self, res: OpResult) -> None:
        self.op = None
        r = res.result
        if res.user_version:
            self._ioctx.last_version = res.user_version
        compound = self._compound
        if compound is not None:
            compound.finish(res.outs, r)
        data: Buffer | None = None
        if self._read:
            if r >= 0:
                data = res.outs[0].outdata if res.outs else b""
                r = len(data)
            self._data = data
        self._result = r
        self._done = True
        fut = self._future
        if fut is not None and not fut.done():
            fut.set_result(r)
        cb = self._oncomplete
        if cb is None:
            return
        self._oncomplete = None
        try:
            if self._read:
                cb(self, data)
            else:
                cb(self)
        except Exception as exc:  # the caller has returned: report, never break dispatch
            asyncio.get_running_loop().call_exception_handler({
                "message": "exception in a RADOS aio completion callback",
                "exception": exc, "completion": self})
