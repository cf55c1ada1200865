"""Logging as Ceph does it (``src/log/Log.cc``, ``src/common/subsys.h``), on :mod:`logging`.

**Subsystems.** :data:`SUBSYSTEMS` is the one table: each of Ceph's logging
subsystems that asyncmsgr has (``debug_ms``, ``debug_monc``...) with the Python
logger its modules log to (``asyncmsgr.ms``, ``asyncmsgr.monc``...; modules use
that name or a child of it, e.g. ``asyncmsgr.ms.protocol``), Pacific's default
levels and the prefix its lines get. Records of any other ``asyncmsgr.*`` logger
belong to ``none``. ``tests/unit/test_log.py`` checks every logger named in the
source against the table.

**Levels.** ``debug_X = N`` or ``N/M``, 0 to 99 (``N`` alone means ``N/N``): a
line of level ``L`` is written when ``L <= N`` and kept in memory when
``L <= M``. Ceph's levels map onto Python's (:func:`python_level`):

====================  ===========================
Ceph                  Python
====================  ===========================
-1 (``derr``)         ``ERROR`` (40)
0                     ``WARNING`` (30)
1                     ``INFO`` (20)
2 ... 9               18 ... 11
10                    ``DEBUG`` (10)
11 ... 18             9 ... 2
19 and above          1
====================  ===========================

so ``logger.info`` is Ceph's level 1 and ``logger.debug`` level 10; Python has
no level below 1, hence 19 and above act alike. A subsystem logger's level is
``python_level(max(N, M))``: records above both are never built (the guard is
Python's own cached ``isEnabledFor``), which is what makes ``debug_ms = 0/0``
(the default) free on the message path.

**Gathering (M).** Records at a level ``<= M`` but above ``N`` are formatted
into a ring of the last ``log_max_recent`` lines (Ceph's ``m_recent``; all
gathered lines, written or not, are kept there), dumped as Ceph does on a crash
(``--- begin dump of recent events ---``): by :func:`dump_recent`, which the
command line calls on an unexpected exception and the admin socket's ``log
dump`` runs.

**Outputs** (``log_to_stderr``, ``err_to_stderr``, ``log_file``,
``log_to_file``): lines go to stderr when ``log_to_stderr`` is true (errors
only, ``-1``, with ``err_to_stderr``), and to ``log_file`` (appended; ``log
reopen`` reopens it) when it is set and ``log_to_file`` is true. Defaults as
Ceph's: a library (``Messenger``, ``MonClient``, ``Rados``) writes nothing to
stderr and has no file; the command-line tools log to stderr (``ceph`` sets
``log_to_stderr`` and ``err_to_stderr``), so their level-0 and level -1 lines
show, as Ceph's tools print them.

**Line format** (Ceph's ``Log::_flush``)::

    2026-12-05T16:25:01.123+0000 7f3a2b1c4740  1 -- <Connection ...> ...

time (local, milliseconds, UTC offset), thread id in hex (``pthread_self``, as
Ceph prints it), level (``%2d``), the subsystem's prefix, the message.

Logging is configured per process (Python's loggers are global): the last
:func:`configure` wins. A library applies a configuration only when one of
these options was given to it; otherwise Python's logging is left alone.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO

from asyncmsgr.subsys import (  # re-exported: the one table
    CEPH_LEVEL_1,
    CEPH_LEVEL_5,
    CEPH_LEVEL_10,
    CEPH_LEVEL_20,
    LOG_OPTION_DEFAULTS,
    PACKAGE_LOGGER,
    SUBSYSTEM_BY_NAME,
    SUBSYSTEMS,
    LogSettings,
    Subsystem,
    ceph_level,
    format_levels,
    parse_levels,
    python_level,
    subsystem_of,
    tool_defaults,
    use_tool_defaults,
)

__all__ = [
    "CEPH_LEVEL_1",
    "CEPH_LEVEL_5",
    "CEPH_LEVEL_10",
    "CEPH_LEVEL_20",
    "LOG_OPTION_DEFAULTS",
    "PACKAGE_LOGGER",
    "SUBSYSTEMS",
    "SUBSYSTEM_BY_NAME",
    "CephFormatter",
    "CephLogHandler",
    "LogSettings",
    "Subsystem",
    "ceph_level",
    "configure",
    "current_handler",
    "dump_recent",
    "format_levels",
    "parse_levels",
    "python_level",
    "reset",
    "subsystem_of",
    "tool_defaults",
    "use_tool_defaults",
]




def given(options: Mapping[str, object]) -> bool:
    """Whether ``options`` names any logging option (a library configures
    logging only then)."""
    return any((name.startswith("debug_") and name[6:] in SUBSYSTEM_BY_NAME)
               or name in LOG_OPTION_DEFAULTS for name in options)


class CephFormatter(logging.Formatter):
    """``2026-12-05T16:25:01.123+0000 7f3a2b1c4740  1 <prefix><message>``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.localtime(record.created)
        millis = int(record.msecs)
        text = (f"{time.strftime('%Y-%m-%dT%H:%M:%S', stamp)}.{millis:03d}"
                f"{time.strftime('%z', stamp)} {record.thread or 0:x} "
                f"{ceph_level(record.levelno):2d} {subsystem_of(record.name).prefix}"
                f"{record.getMessage()}")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class CephLogHandler(logging.Handler):
    """The process's Ceph-style handler on the ``asyncmsgr`` logger.

    Writes a record to the outputs when its level passes its subsystem's ``N``
    and keeps every record it gets (those passing ``max(N, M)``) in the ring.
    """

    def __init__(self, settings: LogSettings, *, stderr: Callable[[], IO[str]] | None = None,
                 ) -> None:
        super().__init__(level=1)
        self.setFormatter(CephFormatter())
        self._stderr = stderr or (lambda: sys.stderr)
        self._file: IO[str] | None = None
        self._file_path = ""
        self._file_error = ""
        self.settings = settings
        self._log_threshold: dict[str, int] = {}
        self.recent: collections.deque[str] = collections.deque(maxlen=settings.log_max_recent)
        self.apply(settings)

    def apply(self, settings: LogSettings) -> None:
        """Take new settings: levels, outputs (the file is reopened if it changed)."""
        self.acquire()
        try:
            self.settings = settings
            self._log_threshold = {name: python_level(levels[0])
                                   for name, levels in settings.levels.items()}
            if self.recent.maxlen != settings.log_max_recent:
                self.recent = collections.deque(self.recent, maxlen=settings.log_max_recent)
            want = settings.log_file if settings.log_to_file else ""
            if want != self._file_path:
                self._close_file()
                self._file_path = want
                self._open_file()
        finally:
            self.release()
        for s in SUBSYSTEMS:
            log, gather = settings.levels[s.name]
            logging.getLogger(s.logger).setLevel(python_level(max(log, gather)))

    def _open_file(self) -> None:
        self._file_error = ""
        if not self._file_path:
            return
        try:
            self._file = open(self._file_path, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            self._file = None
            self._file_error = f"unable to open log file {self._file_path}: {exc.strerror}"

    def _close_file(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.close()

    @property
    def file_error(self) -> str:
        """Why ``log_file`` could not be opened (empty when it is open or unset)."""
        return self._file_error

    def reopen(self) -> None:
        """``log reopen``: close and open ``log_file`` again (after a rotation)."""
        self.acquire()
        try:
            self._close_file()
            self._open_file()
        finally:
            self.release()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a bad format string in a caller: logging's own policy
            self.handleError(record)
            return
        self.recent.append(line)
        if record.levelno >= self._log_threshold.get(subsystem_of(record.name).name,
                                                     logging.WARNING):
            self._write(line, error=record.levelno >= logging.ERROR)

    def _write(self, line: str, *, error: bool = False) -> None:
        s = self.settings
        if s.log_to_stderr or (error and s.err_to_stderr):
            out = self._stderr()
            out.write(f"{s.log_stderr_prefix}{line}\n")
            out.flush()
        f = self._file
        if f is not None:
            f.write(line + "\n")
            f.flush()

    def dump_recent(self) -> None:
        """Write the ring and the levels as Ceph's ``Log::dump_recent`` does."""
        self.acquire()
        try:
            lines = list(self.recent)
            self.recent.clear()
            out = ["--- begin dump of recent events ---", *lines, "--- logging levels ---"]
            out.extend(f"  {log:2d}/{gather:2d} {name}"
                       for name, (log, gather) in self.settings.levels.items())
            stderr = 99 if self.settings.log_to_stderr else \
                -1 if self.settings.err_to_stderr else -2
            out.append(f"  {stderr:2d}/{stderr:2d} (stderr threshold)")
            out.append(f"  max_recent {self.settings.log_max_recent:9d}")
            out.append(f"  log_file {self._file_path}")
            out.append("--- end dump of recent events ---")
            for line in out:
                self._write(line)
        finally:
            self.release()

    def flush(self) -> None:
        f = self._file
        if f is not None:
            f.flush()

    def close(self) -> None:
        self.acquire()
        try:
            self._close_file()
        finally:
            self.release()
        super().close()


_handler: CephLogHandler | None = None


def current_handler() -> CephLogHandler | None:
    """The handler :func:`configure` installed (None before)."""
    return _handler


def configure(settings: LogSettings, *,
              stderr: Callable[[], IO[str]] | None = None) -> CephLogHandler:
    """Install (or update) the process's Ceph-style handler with ``settings``.

    The ``asyncmsgr`` logger stops propagating to the root logger: its records go
    where the options say, once.
    """
    global _handler  # noqa: PLW0603  (one handler per process, as Python's loggers)
    package = logging.getLogger(PACKAGE_LOGGER)
    if _handler is None or _handler not in package.handlers:
        _handler = CephLogHandler(settings, stderr=stderr)
        for h in list(package.handlers):
            if isinstance(h, CephLogHandler | logging.NullHandler):
                package.removeHandler(h)
        package.addHandler(_handler)
    else:
        if stderr is not None:
            _handler._stderr = stderr
        _handler.apply(settings)
    package.propagate = False
    if _handler.file_error:
        package.error("%s", _handler.file_error)
    return _handler


def reset() -> None:
    """Undo :func:`configure` and :func:`use_tool_defaults`: the handler closed and
    removed, the subsystem loggers' levels unset, records propagating to the root
    logger again (Python's defaults; for tests and programs that configure their
    own logging after a run)."""
    global _handler
    package = logging.getLogger(PACKAGE_LOGGER)
    handler, _handler = _handler, None
    if handler is not None:
        package.removeHandler(handler)
        handler.close()
    for s in SUBSYSTEMS:
        logging.getLogger(s.logger).setLevel(logging.NOTSET)
    package.propagate = True
    use_tool_defaults(False)


def dump_recent() -> bool:
    """Dump the ring of recent lines (a crash, ``log dump``); False if logging
    was never configured."""
    handler = _handler
    if handler is None:
        return False
    handler.dump_recent()
    return True


def expand_path(text: str, variables: Mapping[str, str]) -> str:
    """``$name`` / ``${name}`` in ``text`` replaced from ``variables`` (unknown
    names stay), ``~`` at the start expanded: how ``log_file`` and
    ``admin_socket`` are resolved."""
    from asyncmsgr.monc.conf import expand_meta  # noqa: PLC0415  (sans-I/O, light)

    path = expand_meta(text, variables.get)
    return os.path.expanduser(path) if path.startswith("~") else path


def option_names() -> Iterable[str]:
    """Every logging option name: ``debug_<subsystem>`` and the ``log_*`` ones."""
    yield from (f"debug_{s.name}" for s in SUBSYSTEMS)
    yield from LOG_OPTION_DEFAULTS
