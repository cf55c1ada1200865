"""``asyncmsgr ceph``: Ceph's ``ceph`` command-line tool, in pure Python.

Every command the cluster's daemons describe, parsed and answered as Pacific's
``ceph`` (``/usr/bin/ceph`` + ``ceph_argparse.py`` + librados) does it::

    asyncmsgr ceph [OPTIONS] COMMAND [ARGS...]      e.g. osd pool ls detail
    asyncmsgr ceph [OPTIONS] tell TARGET COMMAND    e.g. tell osd.0 version
    asyncmsgr ceph [OPTIONS] -s | -w | -h [WORDS...]

How a run goes (each step as ``ceph``'s ``main()``):

1. ``CEPH_ARGS`` is appended to the arguments; the tool's own options
   (:mod:`asyncmsgr.cli.ceph_toolargs`: ``-c``, ``-i``, ``-o``, ``--id``, ``-n``,
   ``--cluster``, ``-s``, ``-w``..., ``-f``, ``--connect-timeout``, ``-p``) are
   taken as argparse takes them, abbreviations included;
2. the configuration file is read (``-c``, ``CEPH_CONF``, or
   ``/etc/ceph/$cluster.conf``, ``~/.ceph/$cluster.conf``, ``./$cluster.conf``;
   none found is an error) and configuration options are taken from what is left
   (:func:`~asyncmsgr.monc.conf_argv.conf_parse_argv`: ``-m``, ``-k``, ``--key``,
   ``--keyfile``, ``--ms_*``, ``--debug_*``, any option of Ceph's schema);
   anything else stays for the command;
3. the session authenticates with a monitor (:mod:`asyncmsgr.cli.ceph_session`:
   cephx or none; msgr2 crc/secure or msgr v1);
4. the command is matched against the target daemon's descriptions and sent to
   the monitors, the active manager, an OSD or the one daemon a ``tell`` names;
   the output is the daemon's, as ``ceph`` prints it
   (:mod:`asyncmsgr.cli.ceph_commands`).

Exit status as ``ceph``'s: 0; the errno of a failed command (``Error EINVAL:
...`` -> 22; an invalid command line -> 22); 13 when the monitors refuse our
credentials; 1 when none answers, the configuration or keyring is unusable or
the target is not an entity name; 2 for usage errors of the tool's own options.

``main(..., driver="asyncio")`` runs the same on an asyncio
:class:`~asyncmsgr.monc.client.MonClient` (:mod:`asyncmsgr.cli.ceph_aio`).
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TextIO

from asyncmsgr.auth.base import AuthClient, parse_auth_methods
from asyncmsgr.config import ConfigError, MessengerConfig, mode_options
from asyncmsgr.errors import AsyncmsgrError, KeyringError
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.lazylog import quiet_unless_configured
from asyncmsgr.monc.common import MonAuthError, MonClientError, MonClientOptions, MonTimeout
from asyncmsgr.monc.conf import ClientSettings, ConfEnv, ConfError, ConfNotFound
from asyncmsgr.types import AuthName

if TYPE_CHECKING:
    from asyncmsgr.cli.ceph_commands import ToolOptions
    from asyncmsgr.cli.ceph_session import CephSession

#: ``sync``: :class:`~asyncmsgr.cli.ceph_session.SyncSession` (the default);
#: ``asyncio``: a :class:`~asyncmsgr.monc.client.MonClient` on an event loop.
Driver = Literal["sync", "asyncio"]

#: The Ceph release whose ``ceph`` this tool follows.
CEPH_VERSION = "16.2.15"

#: librados errors as python-rados words them (``[errno N] RADOS <what> (<context>)``).
_RADOS_WHAT = {errno.EPERM: "permission error", errno.ENOENT: "object not found",
               errno.EIO: "I/O error", errno.EACCES: "permission denied",
               errno.EINVAL: "invalid argument", errno.ETIMEDOUT: "timed out",
               errno.EOPNOTSUPP: "error", errno.ENXIO: "error"}
_RADOS_CLASS = {errno.ENOENT: "ObjectNotFound", errno.EINVAL: "InvalidArgumentError",
                errno.EIO: "IOError", errno.EACCES: "PermissionDeniedError"}

class RadosError(AsyncmsgrError):
    """A librados-level failure while setting up or connecting: ``code`` (errno)."""

    def __init__(self, code: int, context: str, detail: str = "") -> None:
        super().__init__(f"[errno {code}] RADOS {_RADOS_WHAT.get(code, 'error')} ({context})")
        self.code = code
        self.context = context
        self.detail = detail
        """What went wrong, in this project's words (printed after Ceph's line)."""

    def as_repr(self) -> str:
        """How ``ceph`` prints the exception object (``ObjectNotFound('RADOS ...')``)."""
        name = _RADOS_CLASS.get(self.code, "Error")
        return f"{name}('RADOS {_RADOS_WHAT.get(self.code, 'error')} ({self.context})')"


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def make_auth_client(settings: ClientSettings) -> AuthClient:
    """cephx or auth none, as librados picks (``auth_client_required``, the keyring).

    A ``key`` that is not base64 is EINVAL; a keyring file that exists and does not
    parse is EIO, even when auth none is allowed; no keyring file at all is ENOENT
    when only cephx is allowed (with none allowed, none is used); a keyring
    without our name leaves cephx unusable (the monitors refuse: EACCES) or falls
    back to none. Raises RadosError with the errno.
    """
    from asyncmsgr.auth.cephx.client import CephxClient  # noqa: PLC0415  (start-up time)
    from asyncmsgr.auth.keyring import CryptoKey, Keyring  # noqa: PLC0415
    from asyncmsgr.auth.none import AuthNoneClient  # noqa: PLC0415

    context = "error connecting to the cluster"
    modes = mode_options(settings.messenger_config)
    try:
        methods = parse_auth_methods(", ".join(settings.auth_client_required))
    except ValueError as exc:
        raise RadosError(errno.EINVAL, context, f"auth_client_required: {exc}") from None
    name = settings.name
    key: CryptoKey | None = None
    missing = ""
    if settings.key:
        try:
            key = CryptoKey.from_base64(settings.key.strip())
        except KeyringError:
            raise RadosError(errno.EINVAL, context,
                             f"failed to decode key '{settings.key.strip()}'") from None
    else:
        existing = [p for p in settings.keyring_paths if os.path.exists(p)]
        if existing:
            try:
                ring = Keyring.from_file(existing[0])
            except KeyringError as exc:
                raise RadosError(errno.EIO, context, f"failed to load {existing[0]}: {exc}"
                                 ) from None
            if name in ring:
                key = ring.get(name)
            else:
                missing = f"no key for {name} in {existing[0]}"
        elif AUTH_CEPHX in methods and AUTH_NONE not in methods:
            raise RadosError(errno.ENOENT, context,
                             f"unable to find a keyring on {','.join(settings.keyring_paths)}")
        else:
            missing = "no keyring found"
    if AUTH_CEPHX in methods and key is not None:
        return CephxClient(name, key, clock=time.time, modes=modes, methods=methods)
    if AUTH_NONE in methods:
        return AuthNoneClient(name, modes=modes)
    raise RadosError(errno.EACCES, context, missing or "no auth method this client can use")


def client_options(settings: ClientSettings) -> tuple[float, MonClientOptions]:
    """(connect timeout, the ``mon_client_*`` options) from the settings."""
    timeout = settings.connect_timeout or settings.client_mount_timeout
    return timeout, MonClientOptions(
        hunt_interval=settings.mon_client_hunt_interval,
        hunt_parallel=settings.mon_client_hunt_parallel,
        ping_interval=settings.mon_client_ping_interval,
        ping_timeout=settings.mon_client_ping_timeout,
        mount_timeout=timeout,
        op_timeout=settings.rados_mon_op_timeout,
        hostname=socket.gethostname().split(".")[0])


def connect_error_status(exc: MonClientError, stderr: TextIO) -> int:
    """Print what ``ceph`` prints when connecting failed; its exit status."""
    if isinstance(exc, MonAuthError):
        if exc.msgr_v1 and exc.result not in (-errno.EACCES, -errno.EPERM):
            # librados over v1 returns the mon's error (e.g. EOPNOTSUPP: no method
            # in common), which ``ceph`` prints and exits 1 for, as for a timeout
            print(f"[errno {-exc.result}] error connecting to the cluster", file=stderr)
            print(f"asyncmsgr: {exc}", file=stderr)
            return 1
        print("[errno 13] RADOS permission denied (error connecting to the cluster)",
              file=stderr)
        print(f"asyncmsgr: {exc}", file=stderr)
        return errno.EACCES
    print("[errno 110] RADOS timed out (error connecting to the cluster)", file=stderr)
    print(f"asyncmsgr: {exc}", file=stderr)
    return 1


def _with_ceph_args(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``CEPH_ARGS`` (split on blanks) appended, or inserted before ``injectargs``."""
    args = list(argv)
    extra = environ.get("CEPH_ARGS", "").split()
    if extra:
        if "injectargs" in args:
            i = args.index("injectargs")
            args[i:i] = extra
        else:
            args += [a for a in extra if "--admin-socket" not in a]
    return args


def _settings(parsed: Any, childargs: list[str], env: ConfEnv,
              err: TextIO) -> tuple[ClientSettings, list[str]]:
    """``rados.Rados(name, clustername, conffile)`` + ``conf_parse_argv``."""
    from asyncmsgr.monc.conf import tool_settings  # noqa: PLC0415
    from asyncmsgr.monc.conf_argv import ArgvError, conf_parse_argv  # noqa: PLC0415

    name = "client.admin"
    if parsed.client_id:
        name = "client." + parsed.client_id
    if parsed.client_name:
        name = parsed.client_name
    try:
        auth_name = AuthName.parse(name)
    except ValueError:
        print("Error initializing cluster client: Error('rados_initialize failed with "
              "error code: -22')", file=err)
        raise _Exit(1) from None
    bool_options = value_options = ours = frozenset[str]()
    if any(a.startswith("--") for a in childargs):
        # The schemas are only consulted for --words (start-up time otherwise).
        from asyncmsgr.monc.ceph_options import BOOL_OPTIONS, VALUE_OPTIONS  # noqa: PLC0415

        defaults = MessengerConfig().as_dict()
        ours = frozenset(defaults)
        bool_options = BOOL_OPTIONS | frozenset(
            k for k, v in defaults.items() if isinstance(v, bool))
        value_options = VALUE_OPTIONS | ours
    try:
        options, rest = conf_parse_argv(childargs, bool_options=bool_options,
                                        value_options=value_options,
                                        read_file=env.read_file)
    except ArgvError as exc:
        print(exc, file=err)
        if str(exc).startswith("parse error"):
            print(file=err)
            print("Error initializing cluster client: InvalidArgumentError('RADOS invalid "
                  "argument (error calling conf_parse_argv_remainder)')", file=err)
        raise _Exit(1) from None
    for opt, value in options.items():  # librados checks values as it sets them
        if opt in ours:
            try:
                MessengerConfig.from_ceph_options({opt: value})
            except ConfigError as exc:
                reason = str(exc).removeprefix(f"{opt}: ")
                print(f"parse error setting '{opt}' to '{value}' ({reason})\n", file=err)
                print("Error initializing cluster client: InvalidArgumentError('RADOS "
                      "invalid argument (error calling conf_parse_argv_remainder)')", file=err)
                raise _Exit(1) from None
    settings = tool_settings(name=auth_name, cluster=parsed.cluster or "",
                             conf=parsed.cephconf or "", options=options, env=env, rest=rest)
    return settings, rest


def _tool_options(parsed: Any) -> ToolOptions:
    from asyncmsgr.cli.ceph_commands import ToolOptions  # noqa: PLC0415

    return ToolOptions(
        help=parsed.help, status=parsed.status, watch=parsed.watch,
        watch_channel=parsed.watch_channel,
        watch_levels={lvl: getattr(parsed, f"watch_{lvl}")
                      for lvl in ("debug", "info", "sec", "warn", "error")},
        output_format=parsed.output_format, input_file=parsed.input_file,
        output_file=parsed.output_file, period=parsed.period,
        completion=parsed.completion, program="asyncmsgr ceph")


def _version() -> str:
    import asyncmsgr  # noqa: PLC0415

    version = getattr(asyncmsgr, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError  # noqa: PLC0415
    from importlib.metadata import version as dist_version  # noqa: PLC0415

    try:
        return dist_version("asyncmsgr")
    except PackageNotFoundError:
        return "unknown"


def _basic_help(out: TextIO) -> None:
    """``do_basic_help``: the general usage."""
    from asyncmsgr.cli.ceph_toolargs import build_parser  # noqa: PLC0415  (help only)

    out.write("\n General usage: \n ==============\n")
    out.write(build_parser().format_help())


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None, *,
         stdout: TextIO | None = None, stderr: TextIO | None = None,
         driver: Driver = "sync") -> int:
    """``asyncmsgr ceph ARGS``; returns the exit status.

    ``driver``: ``sync`` (blocking sockets, the default) or ``asyncio`` (a
    MonClient on an event loop); both print the same and exit the same.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    quiet_unless_configured("asyncmsgr")  # unless the program set up logging
    env = ConfEnv.from_os()
    if environ is not None:
        env = env.replace(environ=dict(environ))
    from asyncmsgr.cli.ceph_toolargs import ArgsExit  # noqa: PLC0415

    try:
        return _main(argv, env, out, err, driver)
    except (_Exit, ArgsExit) as exc:
        return exc.status
    except KeyboardInterrupt:
        out.write("Interrupted\n")
        return errno.EINTR


def _main(argv: Sequence[str], env: ConfEnv, out: TextIO, err: TextIO, driver: Driver) -> int:
    from asyncmsgr.cli.ceph_toolargs import parse_tool_args  # noqa: PLC0415

    parsed, childargs = parse_tool_args(_with_ceph_args(argv, env.environ), out, err)
    if parsed.version:
        out.write(f"asyncmsgr ceph {_version()} (the ceph tool of Ceph {CEPH_VERSION} "
                  "pacific)\n")
        return 0
    if parsed.watch_channel:
        parsed.watch = True
    elif parsed.watch:
        parsed.watch_channel = "cluster"
    if parsed.admin_socket or (childargs and childargs[0] in ("daemon", "daemonperf")):
        print("asyncmsgr ceph: --admin-daemon, daemon and daemonperf are not supported; "
              "use the real ceph tool", file=err)
        return errno.EINVAL
    timeout: float | None = parsed.cluster_timeout or None
    if parsed.help:
        _basic_help(out)
    injectargs: list[str] | None = None
    if "injectargs" in childargs:
        i = childargs.index("injectargs")
        childargs, injectargs = childargs[:i], childargs[i:]
    try:
        settings, childargs = _settings(parsed, childargs, env, err)
        _configure_logging(settings)
        if settings.unresolved_mon_hosts:
            settings = _resolve(settings, out, err)
    except ConfNotFound as exc:
        if parsed.help:  # the tool's own help is complete without a cluster
            out.write(f"\n(no cluster configuration found in {', '.join(exc.searched)}: "
                      "the monitors' commands are listed when one is)\n")
            return 0
        print("Error initializing cluster client: ObjectNotFound('RADOS object not found "
              "(error calling conf_read_file)')", file=err)
        print(f"asyncmsgr ceph: no configuration file found; searched "
              f"{', '.join(exc.searched)} (use -c FILE or CEPH_CONF)", file=err)
        return 1
    except RadosError as exc:
        print(exc, file=err)
        return 1
    except ConfError as exc:
        print(f"asyncmsgr ceph: {exc}", file=err)
        print("[errno 2] RADOS object not found (error connecting to the cluster)", file=err)
        return 1
    if "--" in childargs:
        childargs.remove("--")
    if injectargs is not None and "--" in injectargs:
        injectargs.remove("--")
    if parsed.help and not timeout:
        timeout = 5
    if childargs and childargs[0] == "ping" and not parsed.help and len(childargs) < 2:
        print('"ping" requires a monitor name as argument: "ping mon.<id>"', file=err)
        return 1
    if parsed.completion:
        timeout = 3
    return _connect_and_run(settings, parsed, childargs, injectargs, timeout, out, err,
                            driver)


def _configure_logging(settings: ClientSettings) -> None:
    """``--debug_ms 1``, ``--log-file F``, ``--log_to_stderr false`` (or the same in
    ceph.conf): the process's logging as the tool's options say (the session's
    sockets log under ``debug_ms``, its MonClient under ``debug_monc``)."""
    from asyncmsgr import log as ceph_log  # noqa: PLC0415

    if ceph_log.given(settings.options):
        ceph_log.configure(ceph_log.LogSettings.from_options(settings.options, tool=True))


def _resolve(settings: ClientSettings, out: TextIO, err: TextIO) -> ClientSettings:
    """Resolve host names in ``mon_host``; an unknown one is named, as Ceph does
    (librados's resolver says it on stdout)."""
    for host in settings.unresolved_mon_hosts:
        try:
            _resolver(host)
        except OSError as exc:
            why = exc.strerror or str(exc)
            print(f"server name not found: {host} ({why})", file=out)
            print(f"unable to parse addrs in '{host}'", file=err)
            raise RadosError(errno.EINVAL, "error connecting to the cluster") from None
    return settings.resolve_mons(_resolver)


def _connect_and_run(settings: ClientSettings, parsed: Any,
                     childargs: list[str], injectargs: list[str] | None,
                     timeout: float | None, out: TextIO, err: TextIO, driver: Driver) -> int:
    try:
        auth = make_auth_client(settings)
    except RadosError as exc:
        print(exc, file=err)
        if exc.detail:
            print(f"asyncmsgr ceph: {exc.detail}", file=err)
        return errno.EACCES if exc.code == errno.EACCES else 1
    if timeout is not None and timeout < 0:
        print("timed out", file=err)
        return 1
    connect_timeout, options = client_options(settings)
    if timeout is not None:
        connect_timeout = timeout
    session: CephSession
    if driver == "asyncio":
        from asyncmsgr.cli.ceph_aio import AsyncioSession  # noqa: PLC0415

        session = AsyncioSession(settings, auth, options)
    else:
        from asyncmsgr.cli.ceph_session import SyncSession  # noqa: PLC0415

        session = SyncSession(settings, auth, options)
    try:
        try:
            session.connect(connect_timeout)
        except (MonAuthError, MonTimeout) as exc:
            return connect_error_status(exc, err)
        from asyncmsgr.cli.ceph_commands import run_connected  # noqa: PLC0415

        op_timeout = settings.rados_mon_op_timeout or None
        opts = _tool_options(parsed)
        opts.injectargs = injectargs
        try:
            return run_connected(session, opts, childargs, out, err, timeout=op_timeout)
        except RuntimeError as exc:  # where ceph raises (and prints a traceback)
            print(f"RuntimeError: {exc}", file=err)
            return 1
    finally:
        session.close()


def register(sub: Any) -> None:
    """List ``ceph`` in the top-level help (its arguments are parsed by :func:`main`)."""
    p = sub.add_parser("ceph", help="Ceph's ceph tool: every command of the monitors, "
                       "managers and OSDs, tell, -w (asyncmsgr ceph --help)", add_help=False)
    p.set_defaults(func=lambda args: 2)


__all__ = ["CEPH_VERSION", "Driver", "RadosError", "client_options",
           "connect_error_status", "main", "make_auth_client", "register"]
