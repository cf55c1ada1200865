"""RADOS from Python on asyncio, shaped like python-rados.

* :class:`Rados` — a cluster connection (configuration, monitors, pools);
* :class:`IoCtx` — object I/O in one pool (``write_full``, ``read``, xattrs, omap,
  compound ops, listing, watch/notify);
* :class:`WriteOp` / :class:`ReadOp` — compound operations (``WriteOpCtx`` /
  ``ReadOpCtx`` are the same classes);
* :class:`Completion` — an ``aio_*`` call in flight (completion callbacks on the
  event loop, no task per op; ``await`` it to wait);
* the typed errors of :mod:`asyncmsgr.rados.errors` (``ObjectNotFound`` ...).

Built on :class:`asyncmsgr.osdc.Objecter` and :class:`asyncmsgr.monc.client.MonClient`;
no C library is involved.
"""

from asyncmsgr.osd.op_data import LIBRADOS_ALL_NSPACES
from asyncmsgr.rados.client import Rados
from asyncmsgr.rados.completion import Completion
from asyncmsgr.rados.errors import (
    ConnectionShutdown,
    Error,
    InProgress,
    InterruptedOrTimeoutError,
    InvalidArgumentError,
    IoctxStateError,
    IOError,
    IsConnected,
    LogicError,
    NoData,
    NoSpace,
    NotConnected,
    ObjectBusy,
    ObjectExists,
    ObjectNotFound,
    ObjectStateError,
    OSError,
    PermissionDeniedError,
    PermissionError,
    RadosStateError,
    TimedOut,
    make_ex,
)
from asyncmsgr.rados.ioctx import IoCtx, ObjectEntry, Watch
from asyncmsgr.rados.ops import (
    LIBRADOS_OPERATION_FULL_FORCE,
    LIBRADOS_OPERATION_FULL_TRY,
    LIBRADOS_OPERATION_NOFLAG,
    OmapIterator,
    OpOutput,
    ReadOp,
    ReadOpCtx,
    WriteOp,
    WriteOpCtx,
    XattrIterator,
)

#: python-rados' spelling of the class.
Ioctx = IoCtx

__all__ = [
    "LIBRADOS_ALL_NSPACES",
    "LIBRADOS_OPERATION_FULL_FORCE",
    "LIBRADOS_OPERATION_FULL_TRY",
    "LIBRADOS_OPERATION_NOFLAG",
    "Completion",
    "ConnectionShutdown",
    "Error",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "IoCtx",
    "Ioctx",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "ObjectBusy",
    "ObjectEntry",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStateError",
    "OmapIterator",
    "OpOutput",
    "PermissionDeniedError",
    "PermissionError",
    "Rados",
    "RadosStateError",
    "ReadOp",
    "ReadOpCtx",
    "TimedOut",
    "Watch",
    "WriteOp",
    "WriteOpCtx",
    "XattrIterator",
    "make_ex",
]
