"""``asyncmsgr rados``: the C++ ``rados`` tool in pure Python.

::

    asyncmsgr rados [-c CONF] [-k KEYRING] [-n NAME | --id ID] [-m MONHOST]
                    [-p POOL] [-N NAMESPACE] [--all] [--object-locator KEY]
                    [--format json|json-pretty|xml|xml-pretty] [-o FILE]
                    [--ceph_option=VALUE ...] COMMAND [ARGS]

Commands, options, output lines, error lines and exit statuses are those of
Pacific 16.2.15's ``rados`` (``src/tools/rados/rados.cc``; ``rados bench`` and
``cleanup`` in :mod:`asyncmsgr.cli.rados_bench`): ``lspools``, ``df``, ``ls``,
``put``/``get``/``append``/``truncate``/``create``/``rm``/``stat``/``stat2``/``touch``,
``setxattr``/``getxattr``/``rmxattr``/``listxattr``, ``setomapval``/``getomapval``/
``rmomapkey``/``listomapkeys``/``listomapvals``/``clearomap``/``setomapheader``/
``getomapheader``, ``watch``/``notify``, ``bench``, ``cleanup``; plus ``mkpool`` and
``rmpool`` as older ``rados`` spelled them (Pacific's tool no longer has them).

Exit statuses as the C++ tool's: 0; 1 for a failed command or connection; 234
(``-EINVAL`` from ``main``) for an option value it cannot parse. The client is
:class:`asyncmsgr.rados.Rados` (cephx or none, msgr2 crc/secure or v1).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from asyncmsgr.monc.conf import ConfEnv
from asyncmsgr.rados import IoCtx, Rados
from asyncmsgr.rados.errors import Error

from . import rados_cmds
from .rados_args import GENERIC_USAGE, USAGE, ArgsError, ParsedArgs, parse_args, wants_help
from .rados_format import Formatter, ParseError, c_cast, cpp_strerror, create_formatter
from .rados_format import strict_iecstrtoll as iec

#: ``rados.cc``: ``default_op_size``.
DEFAULT_OP_SIZE = 1 << 22
#: ``main`` returning ``-EINVAL`` exits with this status.
EXIT_EINVAL = 256 - errno.EINVAL


class Out:
    """The tool's two streams (bytes; text is UTF-8 with surrogateescape)."""

    def __init__(self, stdout: BinaryIO, stderr: BinaryIO) -> None:
        self.stdout = stdout
        self.stderr = stderr

    def out(self, text: str) -> None:
        """``cout << text``."""
        self.stdout.write(text.encode("utf-8", "surrogateescape"))

    def out_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Raw bytes on stdout."""
        self.stdout.write(data)

    def err(self, line: str) -> None:
        """``cerr << line << std::endl``."""
        self.stdout.flush()
        self.stderr.write((line + "\n").encode("utf-8", "surrogateescape"))
        self.stderr.flush()

    def usage(self) -> None:
        """``usage(cerr)``: the usage on stderr, the generic options on stdout."""
        self.stdout.flush()
        self.stderr.write(USAGE.encode())
        self.stderr.flush()
        self.out(GENERIC_USAGE)


class Tool:
    """State of one ``rados`` run (``rados_tool_common``'s locals)."""

    def __init__(self, args: ParsedArgs, io: Out, env: ConfEnv,
                 stdin: BinaryIO) -> None:
        self.args = args
        self.io = io
        self.env = env
        self.stdin = stdin
        self.opts = args.opts
        self.nargs = args.nargs
        self.pool_name: str | None = self.opts.get("pool")
        self.nspace = self.opts.get("namespace", "")
        self.oloc = self.opts.get("object_locator", "")
        self.concurrent_ios = 16
        self.op_size = DEFAULT_OP_SIZE
        self.object_size = 0
        self.max_objects = 0
        self.obj_offset = 0
        self.obj_offset_specified = False
        self.block_size_specified = False
        self.formatter: Formatter | None = None
        self.output: str | None = self.opts.get("output")
        self.omap_key: str | None = None
        self.omap_key_pretty = ""
        self.wildcard = False
        self.rados: Rados | None = None
        self.ioctx: IoCtx | None = None

    # -- options --------------------------------------------------------------------------

    def _iec(self, key: str, bits: int, signed: bool) -> int | None:
        text = self.opts.get(key)
        if text is None:
            return None
        try:
            return c_cast(iec(text), bits, signed)
        except ParseError as exc:
            raise _OptionError(f"Invalid value for {key}: {exc}") from None

    def parse_values(self) -> int:
        """The option values ``rados_tool_common`` parses before connecting: 0, or
        the exit status of a bad one (message printed)."""
        try:
            v = self._iec("concurrent-ios", 32, True)
            if v is not None:
                self.concurrent_ios = v
            v = self._iec("block-size", 32, False)
            if v is not None:
                self.op_size = v
                self.block_size_specified = True
            v = self._iec("object-size", 32, False)
            if v is not None:
                self.object_size = v
                self.block_size_specified = True
            v = self._iec("max-objects", 32, False)
            if v is not None:
                self.max_objects = v
            v = self._iec("offset", 64, False)
            if v is not None:
                self.obj_offset = v
                self.obj_offset_specified = True
        except _OptionError as exc:
            self.io.err(str(exc))
            return EXIT_EINVAL
        if "format" in self.opts:
            fmt = self.opts["format"]
            self.formatter = create_formatter(fmt)
            if self.formatter is None:
                self.io.err(f"unrecognized format: {fmt}")
                return EXIT_EINVAL
        if "omap-key-file" in self.opts:
            path = self.opts["omap-key-file"]
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except OSError as exc:
                self.io.err(f"bufferlist::read_file({path}): read error:"
                            f"{cpp_strerror(exc.errno or 0)}")
                return 1
            self.omap_key = raw.decode("utf-8", "surrogateescape")
            printable = all(0x20 <= b < 0x7F for b in raw)
            self.omap_key_pretty = self.omap_key if printable else "(binary key)"
        return 0

    # -- connection -----------------------------------------------------------------------

    def make_rados(self, argv: Sequence[str]) -> Rados:
        """A :class:`Rados` configured from the same arguments and environment."""
        r = Rados(name=str(self.args.settings.name), conffile=Rados.DEFAULT_CONF_FILES,
                  env=self.env)
        r.conf_parse_env()
        r.conf_parse_argv([a for a in argv if a not in ("--no-mon-config", "-f", "-d")
                           and not a.startswith("--objecter")])
        for name, value in self.args.conf.items():
            r.conf_set(name, value)
        return r

    async def connect(self, argv: Sequence[str]) -> int:
        """``rados.connect()`` (and ``--create``, the pool, locator and namespace)."""
        io = self.io
        try:
            r = self.make_rados(argv)
            await r.connect()
        except Error as exc:
            code = exc.errno or errno.EIO
            io.err(f"asyncmsgr rados: {exc}")
            if self.args.no_mon_config:
                io.err(f"couldn't connect to cluster: {cpp_strerror(code)}")
            else:
                io.err("failed to fetch mon config (--no-mon-config to skip)")
            return 1
        self.rados = r
        pool = self.pool_name
        if "create" in self.opts:
            if pool is None:
                io.err("--create-pool requested but pool_name was not specified!")
                io.usage()
                return 1
            try:
                await r.create_pool(pool)
            except Error as exc:
                io.err(f"error creating pool {pool}: {cpp_strerror(exc.errno or errno.EIO)}")
                return 1
        if "pgid" in self.opts:
            io.err("asyncmsgr rados: --pgid is not supported")
            return 1
        if pool is not None:
            try:
                self.ioctx = await r.open_ioctx(pool)
            except Error as exc:
                io.err(f"error opening pool {pool}: {cpp_strerror(exc.errno or errno.EIO)}")
                return 1
        if "snap" in self.opts or "snapid" in self.opts:
            io.err("asyncmsgr rados: --snap/--snapid are not supported")
            return 1
        if self.oloc:
            if self.ioctx is None:
                io.err("pool name must be specified with --object-locator")
                return 1
            self.ioctx.set_locator_key(self.oloc)
        if "namespace" in self.opts:
            if self.ioctx is None:
                io.err("pool name must be specified with --namespace")
                return 1
            self.ioctx.set_namespace(self.nspace)
        elif "all" in self.opts and "default" not in self.opts:
            self.wildcard = True
        return 0

    async def run(self, argv: Sequence[str]) -> int:
        """``rados_tool_common``: options, connection, the command; the exit status."""
        status = self.parse_values()
        if status:
            return status
        status = await self.connect(argv)
        if status:
            return status
        try:
            ret = await rados_cmds.dispatch(self)
        finally:
            if self.rados is not None:
                await self.rados.shutdown()
        if ret > 0:
            return ret
        if ret < 0:
            self.io.err(f"error {-ret}: {cpp_strerror(ret)}")
            return 1
        return 0


class _OptionError(Exception):
    """An option value ``rados_sistrtoll`` refuses."""


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None, *,
         stdin: BinaryIO | None = None, stdout: BinaryIO | None = None,
         stderr: BinaryIO | None = None) -> int:
    """``asyncmsgr rados ARGS``; returns the exit status."""
    io = Out(stdout if stdout is not None else sys.stdout.buffer,
             stderr if stderr is not None else sys.stderr.buffer)
    env = ConfEnv.from_os()
    if environ is not None:
        env = ConfEnv(environ=dict(environ), read_file=env.read_file, hostname=env.hostname,
                      home=env.home, pid=env.pid)
    status = _main(list(argv), env, io, stdin if stdin is not None else sys.stdin.buffer)
    with contextlib.suppress(BrokenPipeError):
        io.stdout.flush()
    return status


def _main(argv: list[str], env: ConfEnv, io: Out, stdin: BinaryIO) -> int:
    if not argv:
        io.err("rados: -h or --help for usage")
        return 1
    if wants_help(argv):
        io.out(USAGE)
        io.out(GENERIC_USAGE)
        return 0
    try:
        args = parse_args(argv, env)
    except ArgsError as exc:
        if exc.message:
            io.err(exc.message)
        if exc.usage:
            io.usage()
        return exc.status
    tool = Tool(args, io, env, stdin)
    try:
        return asyncio.run(tool.run(argv))
    except KeyboardInterrupt:
        io.err("Interrupted")
        return 1
    except BrokenPipeError:
        # the reader went away (``rados ls | head``): quiet, as C++ dies of SIGPIPE
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), io.stdout.fileno())
        return 1


def register(sub: Any) -> None:
    """List ``rados`` in the top-level help (its arguments are parsed by :func:`main`)."""
    p = sub.add_parser("rados", help="object I/O as Ceph's rados tool: put, get, ls, stat, "
                       "xattrs, omap, bench ...", add_help=False)
    p.set_defaults(func=lambda args: 2)


__all__ = ["DEFAULT_OP_SIZE", "EXIT_EINVAL", "Out", "Tool", "main", "register"]
