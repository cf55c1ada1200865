"""Loggers that import :mod:`logging` only when a record could be emitted (the
one-shot path; :mod:`asyncmsgr.log` configures logging as Ceph does).

A one-shot ``asyncmsgr ceph`` logs nothing in a normal run, and importing
``logging`` (with ``traceback``, ``string``, ``threading``...) was about 6 % of
its instructions. :func:`get_logger` returns a :class:`LazyLogger` with the
``Logger`` methods the modules on that path use. While nobody has imported
``logging``, nobody can have configured it, so a DEBUG or INFO record would be
dropped by the root logger's default WARNING level: it is dropped here, without
the import. A WARNING or above, or any call once ``logging`` is in
``sys.modules``, binds ``logging.getLogger(name)`` and forwards to it; from then
on the logger's own bound methods are called directly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from asyncmsgr.subsys import DEBUG, INFO, WARNING

#: Logger names that get a NullHandler (if they have no handler) when bound.
_quiet: set[str] = set()


def quiet_unless_configured(name: str) -> None:
    """``logging.getLogger(name).addHandler(logging.NullHandler())`` unless it has
    a handler, done now if ``logging`` is imported, else when it is."""
    if "logging" in sys.modules:
        _add_null_handler(name)
    else:
        _quiet.add(name)


def _add_null_handler(name: str) -> None:
    import logging  # noqa: PLC0415  (already imported by the caller's program)

    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


class LazyLogger:
    """The part of ``logging.Logger`` used here: ``debug``, ``info``, ``warning``,
    ``error``, ``exception`` and ``isEnabledFor`` (see the module docstring)."""

    __slots__ = ("debug", "error", "exception", "info", "isEnabledFor", "name", "warning")

    def __init__(self, name: str) -> None:
        self.name = name
        self.debug: Callable[..., None] = self._debug
        self.info: Callable[..., None] = self._info
        self.warning: Callable[..., None] = self._warning
        self.error: Callable[..., None] = self._error
        self.exception: Callable[..., None] = self._exception
        self.isEnabledFor: Callable[[int], bool] = self._is_enabled_for

    def _bind(self) -> Any:
        import logging  # noqa: PLC0415  (the point of this module)

        for name in list(_quiet):
            _quiet.discard(name)
            _add_null_handler(name)
        real = logging.getLogger(self.name)
        self.debug = real.debug
        self.info = real.info
        self.warning = real.warning
        self.error = real.error
        self.exception = real.exception
        self.isEnabledFor = real.isEnabledFor
        return real

    def _debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        if "logging" in sys.modules:
            kwargs.setdefault("stacklevel", 2)
            self._bind().debug(msg, *args, **kwargs)

    def _info(self, msg: object, *args: object, **kwargs: Any) -> None:
        if "logging" in sys.modules:
            kwargs.setdefault("stacklevel", 2)
            self._bind().info(msg, *args, **kwargs)

    def _warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 2)
        self._bind().warning(msg, *args, **kwargs)

    def _error(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 2)
        self._bind().error(msg, *args, **kwargs)

    def _exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 2)
        self._bind().exception(msg, *args, **kwargs)

    def _is_enabled_for(self, level: int) -> bool:
        if "logging" in sys.modules:
            enabled: bool = self._bind().isEnabledFor(level)
            return enabled
        return level >= WARNING

    def __repr__(self) -> str:
        return f"<LazyLogger {self.name}>"


def get_logger(name: str) -> LazyLogger:
    """A :class:`LazyLogger` for ``logging.getLogger(name)``."""
    return LazyLogger(name)


__all__ = ["DEBUG", "INFO", "WARNING", "LazyLogger", "get_logger", "quiet_unless_configured"]
