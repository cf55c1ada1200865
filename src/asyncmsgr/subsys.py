"""Ceph's logging subsystems and levels (``src/common/subsys.h``), without :mod:`logging`.

The table, the ``N/M`` level rules and the Ceph-to-Python level mapping that
:mod:`asyncmsgr.log` configures Python's logging with (its module docstring
tells the rules). Kept apart so that what only reads options (:mod:`asyncmsgr.config`,
a one-shot ``asyncmsgr ceph``) does not import :mod:`logging`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from asyncmsgr.record import Record

#: Python's levels (``logging.ERROR``...), as numbers.
ERROR = 40
WARNING = 30
INFO = 20
DEBUG = 10


class Subsystem(NamedTuple):
    """One of Ceph's logging subsystems, as asyncmsgr has it."""

    name: str
    """Ceph's name (the option is ``debug_<name>``)."""
    logger: str
    """The Python logger its modules log to (or to a child of it)."""
    log_level: int
    """Pacific's default ``N``."""
    gather_level: int
    """Pacific's default ``M``."""
    prefix: str
    """Put before each line's message (Ceph's ``dout_prefix``, roughly)."""


#: The package's root logger; records of loggers below it that no subsystem
#: claims belong to ``none``.
PACKAGE_LOGGER = "asyncmsgr"

#: Every subsystem asyncmsgr logs under, with Pacific 16.2.15's defaults
#: (``subsys.h``; ``ceph-conf --show-config`` lists the same).
SUBSYSTEMS: tuple[Subsystem, ...] = (
    Subsystem("none", PACKAGE_LOGGER, 0, 5, ""),
    Subsystem("ms", "asyncmsgr.ms", 0, 0, "-- "),
    Subsystem("monc", "asyncmsgr.monc", 0, 10, "monclient: "),
    Subsystem("mgrc", "asyncmsgr.mgrc", 1, 5, "mgrc "),
    Subsystem("auth", "asyncmsgr.auth", 1, 5, "auth: "),
    Subsystem("objecter", "asyncmsgr.objecter", 0, 1, "client.objecter "),
    Subsystem("rados", "asyncmsgr.rados", 0, 5, "librados: "),
    Subsystem("crush", "asyncmsgr.crush", 1, 1, "crush "),
    Subsystem("osd", "asyncmsgr.osd", 1, 5, "osd "),
    Subsystem("asok", "asyncmsgr.asok", 1, 5, "asok "),
    Subsystem("perfcounter", "asyncmsgr.perfcounter", 1, 5, "perfcounter "),
)
SUBSYSTEM_BY_NAME: Mapping[str, Subsystem] = {s.name: s for s in SUBSYSTEMS}

#: Ceph levels as Python levels, for ``logger.log(CEPH_LEVEL_5, ...)``.
CEPH_LEVEL_1 = INFO
CEPH_LEVEL_5 = 15
CEPH_LEVEL_10 = DEBUG
CEPH_LEVEL_20 = 1

#: The logging options and their defaults for a library (``log_to_stderr`` and
#: ``err_to_stderr`` are true for the command-line tools).
LOG_OPTION_DEFAULTS: Mapping[str, str | bool | int] = {
    "log_file": "",
    "log_to_file": True,
    "log_to_stderr": False,
    "err_to_stderr": False,
    "log_max_recent": 500,
    "log_stderr_prefix": "",
}

_MAX_LEVEL = 99

_tool_defaults = False


def use_tool_defaults(enabled: bool = True) -> None:
    """This process is a command-line tool: ``log_to_stderr`` and ``err_to_stderr``
    default to true (:func:`asyncmsgr.config.default_config`), as for Ceph's tools."""
    global _tool_defaults  # noqa: PLW0603  (a property of the process, as Ceph's code_env)
    _tool_defaults = enabled


def tool_defaults() -> bool:
    """Whether :func:`use_tool_defaults` was called."""
    return _tool_defaults


def python_level(n: int) -> int:
    """The Python level of Ceph level ``n`` (see the module docstring's table)."""
    if n < 0:
        return ERROR
    if n == 0:
        return WARNING
    if n == 1:
        return INFO
    return max(1, 20 - n)


def ceph_level(levelno: int) -> int:
    """The Ceph level a Python record level stands for (the inverse of
    :func:`python_level`; 19 and above print as 20)."""
    if levelno >= ERROR:
        return -1
    if levelno >= WARNING:
        return 0
    if levelno >= INFO:
        return 1
    if levelno <= 1:
        return 20
    return max(2, 20 - levelno)


def parse_levels(name: str, text: str) -> tuple[int, int]:
    """``"N"`` or ``"N/M"`` -> ``(N, M)`` (``N`` alone: ``(N, N)``), each in 0..99.

    Raises:
        ValueError: with Ceph's wording (``value must take the form N or N/M...``).
    """
    parts = text.strip().split("/")
    try:
        if len(parts) > 2:
            raise ValueError
        levels = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"error setting '{name}' to '{text}' (value must take the form N "
                         "or N/M, where N and M are integers)") from None
    if any(not 0 <= v <= _MAX_LEVEL for v in levels):
        raise ValueError(f"error setting '{name}' to '{text}' (value must be in range "
                         f"[0, {_MAX_LEVEL}])")
    return (levels[0], levels[-1])


def format_levels(levels: tuple[int, int]) -> str:
    """``(1, 5)`` -> ``"1/5"`` (as ``config get`` prints a subsystem's level)."""
    return f"{levels[0]}/{levels[1]}"


_subsys_cache: dict[str, Subsystem] = {}


def subsystem_of(logger_name: str) -> Subsystem:
    """The subsystem a logger's records belong to (the longest table prefix)."""
    found = _subsys_cache.get(logger_name)
    if found is None:
        found = SUBSYSTEM_BY_NAME["none"]
        for s in SUBSYSTEMS[1:]:
            if logger_name == s.logger or logger_name.startswith(s.logger + "."):
                found = s
                break
        _subsys_cache[logger_name] = found
    return found


class LogSettings(Record):
    """The logging options in effect (build with :meth:`from_options`)."""

    levels: Mapping[str, tuple[int, int]]
    """Subsystem name -> ``(N, M)`` for every subsystem of :data:`SUBSYSTEMS`."""
    log_file: str
    """File the lines are appended to (empty: none); metavariables expanded."""
    log_to_file: bool
    """Write to ``log_file``."""
    log_to_stderr: bool
    """Write every line to stderr."""
    err_to_stderr: bool
    """Write level -1 lines to stderr (when ``log_to_stderr`` is false)."""
    log_max_recent: int
    """Lines kept in memory for :func:`dump_recent`."""
    log_stderr_prefix: str
    """Put before each stderr line."""

    __slots__ = ("err_to_stderr", "levels", "log_file", "log_max_recent", "log_stderr_prefix",
                 "log_to_file", "log_to_stderr")

    def __init__(self, *, levels: Mapping[str, tuple[int, int]], log_file: str = "",
                 log_to_file: bool = True, log_to_stderr: bool = False,
                 err_to_stderr: bool = False, log_max_recent: int = 500,
                 log_stderr_prefix: str = "") -> None:
        full = {s.name: (s.log_level, s.gather_level) for s in SUBSYSTEMS}
        full.update(levels)
        _set = object.__setattr__
        _set(self, "levels", full)
        _set(self, "log_file", log_file)
        _set(self, "log_to_file", log_to_file)
        _set(self, "log_to_stderr", log_to_stderr)
        _set(self, "err_to_stderr", err_to_stderr)
        _set(self, "log_max_recent", max(1, log_max_recent))
        _set(self, "log_stderr_prefix", log_stderr_prefix)

    @classmethod
    def from_options(cls, options: Mapping[str, object], *,
                     tool: bool | None = None) -> LogSettings:
        """From option values (``debug_ms``: ``"1/5"``, ``log_file``...; text or Python
        values, e.g. a :class:`~asyncmsgr.config.MessengerConfig`'s ``as_dict()``).

        ``tool``: the defaults of a command-line tool (``log_to_stderr`` and
        ``err_to_stderr`` true) instead of a library's (None: as
        :func:`use_tool_defaults` says).

        Raises:
            ValueError: a level or a boolean that does not parse.
        """
        from asyncmsgr.config import parse_bool  # noqa: PLC0415  (config imports nothing of ours)

        if tool is None:
            tool = _tool_defaults
        levels: dict[str, tuple[int, int]] = {}
        for s in SUBSYSTEMS:
            value = options.get(f"debug_{s.name}")
            if value is not None:
                levels[s.name] = parse_levels(f"debug_{s.name}", str(value))

        def flag(name: str) -> bool:
            value = options.get(name)
            if value is None:
                return bool(tool) if name in ("log_to_stderr", "err_to_stderr") else \
                    bool(LOG_OPTION_DEFAULTS[name])
            return value if isinstance(value, bool) else parse_bool(str(value))

        recent = options.get("log_max_recent", LOG_OPTION_DEFAULTS["log_max_recent"])
        return cls(levels=levels, log_file=str(options.get("log_file") or ""),
                   log_to_file=flag("log_to_file"), log_to_stderr=flag("log_to_stderr"),
                   err_to_stderr=flag("err_to_stderr"),
                   log_max_recent=int(str(recent)),
                   log_stderr_prefix=str(options.get("log_stderr_prefix") or ""))


__all__ = [
    "CEPH_LEVEL_1",
    "CEPH_LEVEL_5",
    "CEPH_LEVEL_10",
    "CEPH_LEVEL_20",
    "DEBUG",
    "ERROR",
    "INFO",
    "LOG_OPTION_DEFAULTS",
    "PACKAGE_LOGGER",
    "SUBSYSTEMS",
    "SUBSYSTEM_BY_NAME",
    "WARNING",
    "LogSettings",
    "Subsystem",
    "ceph_level",
    "format_levels",
    "parse_levels",
    "python_level",
    "subsystem_of",
    "tool_defaults",
    "use_tool_defaults",
]
