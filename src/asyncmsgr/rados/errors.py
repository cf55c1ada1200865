"""Typed RADOS errors, as python-rados names them, each carrying its errno.

::

    AsyncmsgrError
      rados.Error                     errno (positive) in ``errno``
        OSError                       an errno from the cluster or the client
          PermissionError             EPERM (caps deny the pool or the op)
          PermissionDeniedError       EACCES (credentials refused)
          ObjectNotFound              ENOENT (object, pool)
          NoData                      ENODATA (xattr absent)
          ObjectExists                EEXIST
          ObjectBusy                  EBUSY
          IOError                     EIO
          NoSpace                     ENOSPC (cluster or pool full)
          InterruptedOrTimeoutError   EINTR
          TimedOut                    ETIMEDOUT (``rados_osd_op_timeout``, notify)
          NotConnected                ENOTCONN (a watch lost its registration)
          ConnectionShutdown          ESHUTDOWN (the client was shut down)
        InvalidArgumentError          EINVAL (bad input: oversize object, bad name)
        InProgress                    EINPROGRESS
        IsConnected                   EISCONN
        RadosStateError               the client is not connected (or shut down)
        IoctxStateError               the IoCtx was closed
        ObjectStateError              a Watch was used after close
        LogicError                    a call that cannot succeed as made

:func:`make_ex` picks the class for an errno (either sign), as python-rados'
``make_ex`` does; ``str(e)`` is ``[errno N] message``.
"""

from __future__ import annotations

import errno as _errno
from typing import ClassVar

from asyncmsgr.errors import AsyncmsgrError


class Error(AsyncmsgrError):
    """Base of every RADOS error; ``errno`` is the positive errno (or None).

    As python-rados: a subclass wraps the message in its ``PREFIX``
    (``RADOS object not found (message)``); ``str()`` adds ``[errno N]``.
    """

    PREFIX: ClassVar[str] = ""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(f"{self.PREFIX} ({message})" if self.PREFIX else message)
        self.errno = errno

    def __str__(self) -> str:
        msg = super().__str__()
        if self.errno is None:
            return msg
        return f"[errno {self.errno}] {msg}"


class OSError(Error):
    """An errno reported by the cluster or by the client library."""


class InvalidArgumentError(Error):
    """EINVAL."""

    PREFIX = "RADOS invalid argument"


class InterruptedOrTimeoutError(OSError):
    """EINTR."""

    PREFIX = "RADOS interrupted or timeout"


class PermissionError(OSError):
    """EPERM: the client's caps do not allow it."""

    PREFIX = "RADOS permission error"


class PermissionDeniedError(OSError):
    """EACCES: the cluster refused the credentials."""

    PREFIX = "RADOS permission denied"


class ObjectNotFound(OSError):
    """ENOENT: no such object (or pool)."""

    PREFIX = "RADOS object not found"


class NoData(OSError):
    """ENODATA: no such attribute."""

    PREFIX = "RADOS no data"


class ObjectExists(OSError):
    """EEXIST."""

    PREFIX = "RADOS object exists"


class ObjectBusy(OSError):
    """EBUSY."""

    PREFIX = "RADOS object busy"


class IOError(OSError):
    """EIO."""

    PREFIX = "RADOS I/O error"


class NoSpace(OSError):
    """ENOSPC: the cluster or the pool is full."""

    PREFIX = "RADOS no space"


class NotConnected(OSError):
    """ENOTCONN."""

    PREFIX = "RADOS not connected"


class ConnectionShutdown(OSError):
    """ESHUTDOWN: the client was shut down while the operation waited."""

    PREFIX = "RADOS connection was shutdown"


class TimedOut(OSError):
    """ETIMEDOUT."""

    PREFIX = "RADOS timed out"


class InProgress(Error):
    """EINPROGRESS."""

    PREFIX = "RADOS in progress error"


class IsConnected(Error):
    """EISCONN."""

    PREFIX = "RADOS is connected error"


class RadosStateError(Error):
    """The Rados handle is not in the state the call needs."""

    PREFIX = "RADOS rados state"


class IoctxStateError(Error):
    """The IoCtx is closed."""

    PREFIX = "RADOS Ioctx state error"


class ObjectStateError(Error):
    """The object (a Watch) is closed."""

    PREFIX = "RADOS object state error"


class LogicError(Error):
    """A call that cannot succeed as made."""

    PREFIX = "RADOS logic error"


ERRNO_TO_EXCEPTION: dict[int, type[Error]] = {
    _errno.EPERM: PermissionError,
    _errno.ENOENT: ObjectNotFound,
    _errno.EIO: IOError,
    _errno.ENOSPC: NoSpace,
    _errno.EEXIST: ObjectExists,
    _errno.EBUSY: ObjectBusy,
    _errno.ENODATA: NoData,
    _errno.EINTR: InterruptedOrTimeoutError,
    _errno.ETIMEDOUT: TimedOut,
    _errno.EACCES: PermissionDeniedError,
    _errno.EINPROGRESS: InProgress,
    _errno.EISCONN: IsConnected,
    _errno.EINVAL: InvalidArgumentError,
    _errno.ENOTCONN: NotConnected,
    _errno.ESHUTDOWN: ConnectionShutdown,
}


def make_ex(ret: int, msg: str) -> Error:
    """The error for errno ``ret`` (positive or negative) with message ``msg``."""
    ret = abs(ret)
    cls = ERRNO_TO_EXCEPTION.get(ret, OSError)
    return cls(msg, errno=ret)


__all__ = [
    "ERRNO_TO_EXCEPTION",
    "ConnectionShutdown",
    "Error",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "ObjectBusy",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStateError",
    "PermissionDeniedError",
    "PermissionError",
    "RadosStateError",
    "TimedOut",
    "make_ex",
]
