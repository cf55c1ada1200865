"""``asyncmsgr ceph``: the monitor commands of Ceph's ``ceph`` CLI, in pure Python.

::

    asyncmsgr ceph [-c CONF] [-m MONHOST] [-n NAME | --id ID] [-k KEYRING]
                   [--key KEY | --keyfile FILE] [--connect-timeout S]
                   [--format json|json-pretty|plain] [--OPTION=VALUE ...] COMMAND

    COMMAND:  status | -s        cluster status
              version            the monitors' Ceph version
              health [detail]    health summary
              mon dump [EPOCH]   the monmap
              command JSON...    any monitor command as JSON (e.g. '{"prefix": "df"}')

Configuration is read as ``ceph`` reads it (``CEPH_ARGS``, ``CEPH_CONF``,
``/etc/ceph/$cluster.conf``, ``[global]``/``[client]``/``[client.NAME]``), and the
session is a :class:`~asyncmsgr.monc.sync.SyncMonClient`: the monitor client's
core and the protocol machines driven from blocking sockets in this thread, so a
command pays neither for asyncio nor for the messenger (cephx or none; msgr2 in
crc or secure mode, or msgr v1 with a monitor that has only a v1 address, e.g.
``-m v1:IP:PORT`` or ``-m IP:6789``, and with every monitor under
``--asyncmsgr_connect_msgr=v1``). :func:`run_commands` does the same on asyncio
with a :class:`~asyncmsgr.monc.client.MonClient` (same output, same exit status).

The output is the monitor's: ``status --format json`` prints the JSON the
monitor returns to ``ceph status --format json``; the status text goes to
stderr. Exit status as ``ceph``'s: 0, or the errno of a failed command
(``Error EINVAL: ...``), 13 when the monitors refuse our credentials, 1 when no
monitor answers, a v1 monitor fails the authentication for another reason (no
auth method in common) or the configuration is unusable, 2 for usage errors.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TextIO

from asyncmsgr.auth.base import AuthClient, parse_auth_methods
from asyncmsgr.auth.cephx.client import CephxClient
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.config import mode_options
from asyncmsgr.errors import AsyncmsgrError, KeyringError
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.monc.conf import ClientSettings, ConfEnv, ConfError, load_client_settings
from asyncmsgr.monc.core import (
    CommandResult,
    MonAuthError,
    MonClientError,
    MonClientOptions,
    MonTimeout,
)

#: ``sync``: :class:`~asyncmsgr.monc.sync.SyncMonClient` (the default);
#: ``asyncio``: :class:`~asyncmsgr.monc.client.MonClient` on an event loop.
Driver = Literal["sync", "asyncio"]

USAGE = __doc__.split("::", 1)[1].split("Configuration is read", 1)[0].rstrip() + "\n"

FORMATS = ("json", "json-pretty", "plain")


class UsageError(Exception):
    """A command line ``ceph`` would refuse."""


def build_command(words: Sequence[str], fmt: str | None) -> list[str]:
    """The JSON command strings for ``words`` (``status``, ``mon dump`` ...)."""
    if not words:
        raise UsageError("a command is required")
    head, args = words[0], list(words[1:])
    cmd: dict[str, Any]
    if head in ("status", "-s", "--status", "s"):
        if args:
            raise UsageError("status takes no arguments")
        cmd = {"prefix": "status"}
    elif head == "version":
        if args:
            raise UsageError("version takes no arguments")
        cmd = {"prefix": "version"}
    elif head == "health":
        if args not in ([], ["detail"]):
            raise UsageError("usage: health [detail]")
        cmd = {"prefix": "health"}
        if args:
            cmd["detail"] = "detail"
    elif head == "mon" and args[:1] == ["dump"]:
        cmd = {"prefix": "mon dump"}
        if len(args) == 2:
            if not args[1].isdigit():
                raise UsageError(f"mon dump: bad epoch {args[1]!r}")
            cmd["epoch"] = int(args[1])
        elif len(args) > 2:
            raise UsageError("usage: mon dump [EPOCH]")
    elif head == "command":
        if not args:
            raise UsageError("command needs a JSON command")
        out = []
        for text in args:
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise UsageError(f"command: invalid JSON {text!r}: {exc}") from None
            if not isinstance(parsed, dict) or "prefix" not in parsed:
                raise UsageError("command: want a JSON object with a \"prefix\"")
            if fmt is not None and fmt != "plain":
                parsed.setdefault("format", fmt)
            out.append(json.dumps(parsed))
        return out
    else:
        raise UsageError(f"unknown command {' '.join(words)!r} "
                         "(want status, version, health, mon dump or command)")
    if fmt is not None and fmt != "plain":
        cmd["format"] = fmt
    return [json.dumps(cmd)]


def split_tool_args(rest: Sequence[str]) -> tuple[str | None, bool, list[str]]:
    """(format, help, command words) from the arguments config parsing left."""
    fmt: str | None = None
    want_help = False
    words: list[str] = []
    it = iter(rest)
    for token in it:
        if token in ("-h", "--help"):
            want_help = True
        elif token in ("-f", "--format"):
            fmt = next(it, None)
            if fmt is None:
                raise UsageError(f"{token} needs a value")
        elif token.startswith("--format="):
            fmt = token.partition("=")[2]
        elif token == "--":
            continue
        elif token.startswith("--") and token != "--status":
            raise UsageError(f"unrecognized option {token}")
        else:
            words.append(token)
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format: want one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt, want_help, words


def _resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def make_auth_client(settings: ClientSettings) -> AuthClient:
    """cephx (with the key from --key, --keyfile or the keyring) or auth none,
    as ``auth_client_required`` allows; raises ConfError without a usable key."""
    modes = mode_options(settings.messenger_config)
    try:
        methods = parse_auth_methods(", ".join(settings.auth_client_required))
    except ValueError as exc:
        raise ConfError(f"auth_client_required: {exc}") from None
    if not methods:
        raise ConfError("auth_client_required lists no auth method")
    name = settings.name
    if AUTH_CEPHX in methods:
        try:
            key = _load_key(settings)
        except KeyringError as exc:
            if AUTH_NONE not in methods:
                raise ConfError(str(exc)) from None
            key = None
        if key is not None:
            return CephxClient(name, key, clock=time.time, modes=modes, methods=methods)
        if AUTH_NONE not in methods:
            raise ConfError(f"auth: unable to find a keyring for {name} on "
                            f"{','.join(settings.keyring_paths)}: "
                            "(2) No such file or directory")
    return AuthNoneClient(name, modes=modes)


def _load_key(settings: ClientSettings) -> CryptoKey | None:
    if settings.key:
        return CryptoKey.from_base64(settings.key.strip())
    if settings.keyfile:
        try:
            with open(settings.keyfile, encoding="ascii") as f:
                return CryptoKey.from_base64(f.read().strip())
        except OSError as exc:
            raise ConfError(f"unable to read keyfile {settings.keyfile}: {exc}") from None
    for path in settings.keyring_paths:
        if os.path.exists(path):
            return Keyring.from_file(path).get(settings.name)
    return None


def _write_output(out: bytes, stdout: TextIO) -> None:
    if not out:
        return
    text = out.decode("utf-8", errors="replace")
    stdout.write(text if text.endswith("\n") else text + "\n")
    stdout.flush()


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


def result_status(res: CommandResult, stdout: TextIO, stderr: TextIO) -> int:
    """Print a command's result as ``ceph`` does; 0 or the errno of a failure."""
    _write_output(res.outbuf, stdout)
    if res.r < 0:
        name = errno.errorcode.get(-res.r, "Unknown")
        print(f"Error {name}: {res.rs}", file=stderr)
        return -res.r
    if res.rs:
        print(res.rs, file=stderr)
    return 0


def run_commands_sync(settings: ClientSettings, commands: list[list[str]],
                      stdout: TextIO, stderr: TextIO) -> int:
    """Connect, run each command, print as ``ceph`` does; the exit status.

    Blocking, in this thread (:class:`~asyncmsgr.monc.sync.SyncMonClient`).
    """
    from asyncmsgr.monc.sync import SyncMonClient  # noqa: PLC0415  (start-up time)

    timeout, options = client_options(settings)
    with SyncMonClient(settings.mon_addrs, auth_client=make_auth_client(settings),
                       config=settings.messenger_config, options=options) as monc:
        try:
            monc.connect(timeout)
        except (MonAuthError, MonTimeout) as exc:
            return connect_error_status(exc, stderr)
        status = 0
        for cmd in commands:
            try:
                res = monc.command(cmd)
            except MonClientError as exc:
                print(f"Error ETIMEDOUT: {exc}", file=stderr)
                return errno.ETIMEDOUT
            status = result_status(res, stdout, stderr) or status
        return status


async def run_commands(settings: ClientSettings, commands: list[list[str]],
                       stdout: TextIO, stderr: TextIO) -> int:
    """:func:`run_commands_sync` on the running event loop, with a
    :class:`~asyncmsgr.monc.client.MonClient`."""
    from asyncmsgr.monc.client import MonClient  # noqa: PLC0415  (start-up time)

    timeout, options = client_options(settings)
    monc = MonClient(settings.mon_addrs, auth_client=make_auth_client(settings),
                     config=settings.messenger_config, options=options)
    try:
        try:
            await monc.connect(timeout)
        except (MonAuthError, MonTimeout) as exc:
            return connect_error_status(exc, stderr)
        status = 0
        for cmd in commands:
            try:
                res = await monc.command(cmd)
            except MonClientError as exc:
                print(f"Error ETIMEDOUT: {exc}", file=stderr)
                return errno.ETIMEDOUT
            status = result_status(res, stdout, stderr) or status
        return status
    finally:
        await monc.shutdown()


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None, *,
         stdout: TextIO | None = None, stderr: TextIO | None = None,
         driver: Driver = "sync") -> int:
    """``asyncmsgr ceph ARGS``; returns the exit status.

    ``driver``: ``sync`` (blocking sockets, the default) or ``asyncio`` (a
    MonClient on an event loop, uvloop when ``asyncmsgr_use_uvloop`` and
    installed); both print the same and exit the same.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    env = ConfEnv.from_os()
    if environ is not None:
        env = ConfEnv(environ=dict(environ), read_file=env.read_file, hostname=env.hostname,
                      home=env.home, pid=env.pid)
    try:
        if any(a in ("-h", "--help") for a in argv) and "--" not in argv:
            out.write(USAGE)
            return 0
        settings = load_client_settings(argv, env=env)
        fmt, _want_help, words = split_tool_args(settings.rest)
        commands = [build_command(words, fmt)]
        if settings.unresolved_mon_hosts:
            settings = settings.resolve_mons(_resolver)
    except UsageError as exc:
        print(f"asyncmsgr ceph: error: {exc}", file=err)
        err.write(USAGE)
        return 2
    except (ConfError, AsyncmsgrError, OSError) as exc:
        print(f"asyncmsgr ceph: {exc}", file=err)
        print("[errno 2] RADOS object not found (error connecting to the cluster)",
              file=err)
        return 1
    try:
        if driver == "asyncio":
            from asyncmsgr.loop import run  # noqa: PLC0415  (start-up time)

            return run(run_commands(settings, commands, out, err),
                       config=settings.messenger_config)
        return run_commands_sync(settings, commands, out, err)
    except ConfError as exc:
        print(f"asyncmsgr ceph: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("Interrupted", file=err)
        return errno.EINTR


def register(sub: Any) -> None:
    """List ``ceph`` in the top-level help (its arguments are parsed by :func:`main`)."""
    p = sub.add_parser("ceph", help="talk to Ceph monitors: status, version, health, "
                       "mon dump, command", add_help=False)
    p.set_defaults(func=lambda args: 2)


__all__ = ["build_command", "client_options", "connect_error_status", "main",
           "make_auth_client", "register", "result_status", "run_commands",
           "run_commands_sync", "split_tool_args"]
