"""The commands of ``asyncmsgr rados`` (all but ``bench``/``cleanup``).

Each command is ``async def cmd_x(t: Tool) -> int`` following ``rados.cc``'s
``rados_tool_common``: a positive value is the exit status as is (the C++
``return 1``), a negative errno falls to the end of the function (``error N:
(N) text`` on stderr, exit 1), 0 is success. Messages, their streams and their
order are the C++ tool's.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, BinaryIO

from asyncmsgr.osd import ops as osd
from asyncmsgr.osd.op_data import (
    LIBRADOS_ALL_NSPACES,
    decode_omap_keys,
    decode_omap_vals,
    decode_omap_vals_by_keys,
    decode_stat,
)
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.osdc.op import OpResult
from asyncmsgr.rados import IoCtx, Rados, WriteOp
from asyncmsgr.rados.errors import Error, make_ex
from asyncmsgr.rados.ops import LIBRADOS_OPERATION_FULL_FORCE, LIBRADOS_OPERATION_FULL_TRY

from .rados_format import c_strtoll, cpp_strerror, format_utime, hexdump

if TYPE_CHECKING:
    from .rados import Tool

#: ``rados.cc``: ``MAX_OMAP_BYTES_PER_REQUEST`` (entries per omap page).
MAX_OMAP_PER_REQUEST = 1 << 10
_READ = int(OsdFlag.READ)


def neg_errno(exc: Error) -> int:
    """The negative errno of a RADOS error."""
    return -(exc.errno or errno.EIO)


def _printable(raw: bytes) -> bool:
    """Every byte ``isprint`` in the C locale."""
    return all(0x20 <= b < 0x7F for b in raw)


def raw_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


class UsageError(Exception):
    """The command's arguments do not fit: :func:`dispatch` prints the usage and
    the tool exits 1 (``usage(cerr); return 1;``)."""


def need_args(t: Tool, lo: int, hi: int | None = None) -> tuple[IoCtx, list[str]]:
    """``if (!pool_name || nargs.size() < lo) { usage(cerr); return 1; }`` (and more
    than ``hi`` when given): the pool's IoCtx and the arguments (the command's name
    first), or UsageError."""
    n = len(t.nargs)
    if t.ioctx is None or n < lo or (hi is not None and n > hi):
        raise UsageError
    return t.ioctx, t.nargs


def omap_key_args(t: Tool, extra: int) -> tuple[IoCtx, str, str, str, list[str]]:
    """``OBJ KEY`` and up to ``extra`` more arguments, KEY from ``--omap-key-file``
    when given (then not an argument): (ioctx, oid, key, how the key prints, the
    arguments after it), or UsageError."""
    n = 2 if t.omap_key is not None else 3
    ioctx, args = need_args(t, n, n + extra)
    if t.omap_key is not None:
        return ioctx, args[1], t.omap_key, t.omap_key_pretty, args[n:]
    return ioctx, args[1], args[2], args[2], args[n:]


def failed(t: Tool, what: str, r: int) -> int:
    """``cerr << what << ": " << cpp_strerror(r) << std::endl; return 1;``."""
    t.io.err(f"{what}: {cpp_strerror(r)}")
    return 1


async def _operate(ioctx: IoCtx, oid: str, ops: list[OSDOp], flags: int) -> OpResult:
    """Run ``ops`` on ``oid`` through the Objecter; raise the error of a failure.

    (``ReadOp`` handlers decode an op's output even when the whole op failed, so
    reads whose output is parsed go this way.)
    """
    oloc = ObjectLocator(ioctx.pool_id, ioctx.locator_key, ioctx.nspace)
    res = await ioctx.objecter.operate(oid, oloc, ops, flags | ioctx.extra_op_flags)
    if res.result < 0:
        raise make_ex(res.result, f"{oid}: {cpp_strerror(res.result)}")
    return res


def _rados(t: Tool) -> Rados:
    assert t.rados is not None
    return t.rados


# -- files ---------------------------------------------------------------------------

def _read_exact(f: BinaryIO, n: int) -> bytes:
    """``bufferlist::read_fd(fd, n)`` (``safe_read``): up to ``n`` bytes, short only
    at the end of the input."""
    parts: list[bytes] = []
    left = n
    while left > 0:
        chunk = f.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _read_all(t: Tool) -> bytes:
    """Standard input to its end (``read_fd(STDIN_FILENO, 1024)`` in a loop)."""
    return t.stdin.read()


def _write_fd(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def dump_data(t: Tool, filename: str, data: bytes) -> int:
    """``dump_data``: ``data`` to ``filename`` (``-``: stdout); 0 or -errno."""
    if filename == "-":
        t.io.out_bytes(data)
        return 0
    try:
        fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        t.io.err(f"failed to open file: {cpp_strerror(exc.errno or errno.EIO)}")
        return -(exc.errno or errno.EIO)
    try:
        _write_fd(fd, data)
    finally:
        os.close(fd)
    return 0


# -- pools ---------------------------------------------------------------------------

async def cmd_lspools(t: Tool) -> int:
    """``lspools``."""
    for name in await _rados(t).list_pools():
        t.io.out(name + "\n")
    return 0


async def cmd_mkpool(t: Tool) -> int:
    """``mkpool POOL`` (older ``rados``; Pacific's tool has ``ceph osd pool create``)."""
    if len(t.nargs) != 2:
        t.io.usage()
        return 1
    name = t.nargs[1]
    try:
        await _rados(t).create_pool(name)
    except Error as exc:
        t.io.err(f"error creating pool {name}: {cpp_strerror(neg_errno(exc))}")
        return neg_errno(exc)
    t.io.out(f"successfully created pool {name}\n")
    return 0


async def cmd_rmpool(t: Tool) -> int:
    """``rmpool POOL POOL --yes-i-really-really-mean-it`` (older ``rados``)."""
    n = t.nargs
    if len(n) < 2:
        t.io.usage()
        return 1
    if len(n) < 4 or n[1] != n[2] or n[3] != "--yes-i-really-really-mean-it":
        t.io.err("WARNING:\n"
                 "  This will PERMANENTLY DESTROY an entire pool of objects with no way back.\n"
                 "  To confirm, pass the pool to remove twice, followed by\n"
                 "  --yes-i-really-really-mean-it")
        return -errno.EPERM
    try:
        await _rados(t).delete_pool(n[1])
    except Error as exc:
        t.io.err(f"pool {n[1]} could not be removed")
        t.io.err("Check your monitor configuration - `mon allow pool delete` is set to "
                 "false by default, change it to true to allow deletion of pools")
        return neg_errno(exc)
    t.io.out(f"successfully deleted pool {n[1]}\n")
    return 0


async def cmd_ls(t: Tool) -> int:
    """``ls [-]`` (``--all``: every namespace; ``--format``; ``-o FILE``)."""
    if t.ioctx is None:
        t.io.err("either pool name or pg id needs to be specified")
        return 1
    ioctx = t.ioctx
    if t.wildcard:
        ioctx.set_namespace(LIBRADOS_ALL_NSPACES)
    use_stdout = t.output is None and (len(t.nargs) < 2 or t.nargs[1] == "-")
    if not use_stdout and t.output is None:
        t.io.err("Please use --output to specify the output file name")
        return 1
    chunks: list[bytes] = []
    write = t.io.out_bytes if use_stdout else chunks.append
    f = t.formatter
    if f is not None:
        f.open_array_section("objects")
    try:
        async for e in ioctx.list_objects():
            if f is None:
                line = f"{e.nspace}\t" if t.wildcard else ""
                line += e.key
                if e.locator_key:
                    line += f"\t{e.locator_key}"
                write(raw_bytes(line + "\n"))
            else:
                f.open_object_section("object")
                f.dump_string("namespace", e.nspace)
                f.dump_string("name", e.key)
                if e.locator_key:
                    f.dump_string("locator", e.locator_key)
                f.close_section()
    except Error as exc:
        t.io.err(str(exc))
        return 1
    if f is not None:
        f.close_section()
        f.flush(lambda s: write(raw_bytes(s)))
        if "pretty-format" in t.opts:
            write(b"\n")
    if not use_stdout:
        assert t.output is not None
        try:
            with open(t.output, "wb") as out:
                out.write(b"".join(chunks))
        except OSError:
            pass  # an ofstream that failed to open writes nothing, silently
    return 0


# -- objects ---------------------------------------------------------------------------

async def cmd_stat(t: Tool) -> int:
    """``stat OBJ`` / ``stat2 OBJ`` (with the sub-second part of the mtime)."""
    ioctx, (cmd, oid, *_) = need_args(t, 2)
    try:
        res = await _operate(ioctx, oid, [osd.stat()], _READ)
        st = decode_stat(res.outs[0].outdata)
    except Error as exc:
        return failed(t, f" error stat-ing {t.pool_name}/{oid}", neg_errno(exc))
    nsec = st.mtime.nsec if cmd == "stat2" else 0
    t.io.out(f"{t.pool_name}/{oid} mtime {format_utime(st.mtime.sec, nsec)}, "
             f"size {st.size}\n")
    return 0


async def cmd_touch(t: Tool) -> int:
    """``touch OBJ [TIMESTAMP]``: create if absent, set the mtime."""
    ioctx, args = need_args(t, 2)
    import time  # noqa: PLC0415

    oid = args[1]
    stamp = int(time.time())
    if len(args) > 2:
        value, rest = c_strtoll(args[2])
        if rest:
            t.io.err(f"Invalid value for timestamp: '{args[2]}'")
            return 1
        stamp = value
    op = WriteOp()
    op.create(False)
    try:
        await ioctx.operate_write_op(op, oid, mtime=stamp)
    except Error as exc:
        return failed(t, f" error touch-ing {t.pool_name}/{oid}", neg_errno(exc))
    return 0


async def do_get(t: Tool, ioctx: IoCtx, oid: str, outfile: str) -> int:
    """``do_get``: read ``op_size`` at a time into ``outfile``; 0 or -errno."""
    to_stdout = outfile == "-"
    fd = -1
    if not to_stdout:
        try:
            fd = os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            t.io.err(f"failed to open file: {cpp_strerror(exc.errno or errno.EIO)}")
            return -(exc.errno or errno.EIO)
    offset = 0
    try:
        while True:
            try:
                data = await ioctx.read(oid, t.op_size, offset)
            except Error as exc:
                return neg_errno(exc)
            if not data:
                return 0
            if to_stdout:
                t.io.out_bytes(data)
            else:
                _write_fd(fd, data)
            if len(data) < t.op_size:
                return 0
            offset += len(data)
    finally:
        if fd >= 0:
            os.close(fd)


async def cmd_get(t: Tool) -> int:
    """``get OBJ FILE`` (``-``: stdout)."""
    ioctx, (_, oid, outfile, *_) = need_args(t, 3)
    r = await do_get(t, ioctx, oid, outfile)
    return failed(t, f"error getting {t.pool_name}/{oid}", r) if r < 0 else 0


def _open_input(t: Tool, infile: str) -> BinaryIO | None:
    """The input (stdin for ``-``), or None after the C++ tool's message."""
    if infile == "-":
        return t.stdin
    try:
        return open(infile, "rb")
    except OSError as exc:
        t.io.err(f"error reading input file {infile}: "
                 f"{cpp_strerror(exc.errno or errno.EIO)}")
        return None


async def do_put(t: Tool, ioctx: IoCtx, oid: str, infile: str, create_object: bool) -> int:
    """``do_put``: write the input ``op_size`` at a time from ``--offset``."""
    f = _open_input(t, infile)
    if f is None:
        return 1  # the C++ do_put returns 1 here: rados then exits 0
    offset = t.obj_offset
    try:
        while True:
            data = _read_exact(f, t.op_size)
            if not data:
                if offset == t.obj_offset:  # empty input: an empty object (or a hole)
                    await ioctx.write_full(oid, b"")
                    if offset:
                        await ioctx.trunc(oid, offset)
                return 0
            if offset == 0 and create_object:
                await ioctx.write_full(oid, data)
            else:
                await ioctx.write(oid, data, offset)
            offset += len(data)
    except Error as exc:
        return neg_errno(exc)
    finally:
        if f is not t.stdin:
            f.close()


async def cmd_put(t: Tool) -> int:
    """``put OBJ FILE`` (``-``: stdin; ``--offset``)."""
    ioctx, (_, oid, infile, *_) = need_args(t, 3)
    r = await do_put(t, ioctx, oid, infile, not t.obj_offset_specified)
    return failed(t, f"error putting {t.pool_name}/{oid}", r) if r < 0 else 0


async def cmd_append(t: Tool) -> int:
    """``append OBJ FILE``: APPEND ``op_size`` at a time (and an empty one at the end)."""
    ioctx, (_, oid, infile, *_) = need_args(t, 3)
    f = _open_input(t, infile)
    if f is None:
        return 0
    r = 0
    try:
        while True:
            data = _read_exact(f, t.op_size)
            await ioctx.append(oid, data)
            if not data:
                break
    except Error as exc:
        r = neg_errno(exc)
    finally:
        if f is not t.stdin:
            f.close()
    return failed(t, f"error appending {t.pool_name}/{oid}", r) if r < 0 else 0


async def cmd_truncate(t: Tool) -> int:
    """``truncate OBJ LENGTH``."""
    ioctx, (_, oid, length, *_) = need_args(t, 3)
    size, rest = c_strtoll(length)
    if rest:
        t.io.err(f"Invalid value for size: '{length}'")
        return 1
    if size < 0:
        t.io.err("error, cannot truncate to negative value")
        t.io.usage()
        return 1
    try:
        await ioctx.trunc(oid, min(size, (1 << 63) - 1))
    except Error as exc:
        t.io.err(f"error truncating oid {oid} to {size}: {cpp_strerror(neg_errno(exc))}")
        return neg_errno(exc)
    return 0


async def cmd_create(t: Tool) -> int:
    """``create OBJ`` (exclusive)."""
    ioctx, (_, oid, *_) = need_args(t, 2)
    try:
        await ioctx.create(oid, exclusive=True)
    except Error as exc:
        return failed(t, f"error creating {t.pool_name}/{oid}", neg_errno(exc))
    return 0


async def cmd_rm(t: Tool) -> int:
    """``rm OBJ ... [--force-full]``."""
    ioctx, args = need_args(t, 2)
    flags = 0
    if "force-full" in t.opts:
        flags = LIBRADOS_OPERATION_FULL_FORCE | LIBRADOS_OPERATION_FULL_TRY
    for oid in args[1:]:
        op = WriteOp()
        op.remove()
        try:
            await ioctx.operate_write_op(op, oid, flags=flags)
        except Error as exc:
            name = f"{t.nspace}/{oid}" if t.nspace else oid
            return failed(t, f"error removing {t.pool_name}>{name}", neg_errno(exc))
    return 0


# -- xattrs ----------------------------------------------------------------------------

async def cmd_setxattr(t: Tool) -> int:
    """``setxattr OBJ NAME [VALUE]`` (no VALUE: standard input)."""
    ioctx, (_, oid, name, *rest) = need_args(t, 3, 4)
    value = raw_bytes(rest[0]) if rest else _read_all(t)
    try:
        await ioctx.set_xattr(oid, name, value)
    except Error as exc:
        return failed(t, f"error setting xattr {t.pool_name}/{oid}/{name}", neg_errno(exc))
    return 0


async def cmd_getxattr(t: Tool) -> int:
    """``getxattr OBJ NAME``: the raw value on stdout."""
    ioctx, (_, oid, name, *_) = need_args(t, 3)
    try:
        value = await ioctx.get_xattr(oid, name)
    except Error as exc:
        return failed(t, f"error getting xattr {t.pool_name}/{oid}/{name}", neg_errno(exc))
    t.io.out_bytes(value)
    return 0


async def cmd_rmxattr(t: Tool) -> int:
    """``rmxattr OBJ NAME``."""
    ioctx, (_, oid, name, *_) = need_args(t, 3)
    try:
        await ioctx.rm_xattr(oid, name)
    except Error as exc:
        return failed(t, f"error removing xattr {t.pool_name}/{oid}/{name}", neg_errno(exc))
    return 0


async def cmd_listxattr(t: Tool) -> int:
    """``listxattr OBJ``: the names, in ``std::map`` (byte) order."""
    ioctx, (_, oid, *_) = need_args(t, 2)
    try:
        attrs = await ioctx.get_xattrs(oid)
    except Error as exc:
        return failed(t, f"error getting xattr set {t.pool_name}/{oid}", neg_errno(exc))
    for name in sorted((k for k, _ in attrs), key=raw_bytes):
        t.io.out(name + "\n")
    return 0


# -- omap ----------------------------------------------------------------------------------

async def cmd_getomapheader(t: Tool) -> int:
    """``getomapheader OBJ [FILE]``."""
    ioctx, (_, oid, *rest) = need_args(t, 2)
    try:
        res = await _operate(ioctx, oid, [osd.omap_get_header()], _READ)
    except Error as exc:
        return failed(t, f"error getting omap header {t.pool_name}/{oid}", neg_errno(exc))
    header = bytes(res.outs[0].outdata)
    if rest:
        t.io.err(f"Writing to {rest[0]}")
        dump_data(t, rest[0], header)
    else:
        t.io.out(f"header ({len(header)} bytes) :\n" + hexdump(header) + "\n")
    return 0


async def cmd_setomapheader(t: Tool) -> int:
    """``setomapheader OBJ VALUE``."""
    ioctx, (_, oid, value, *_) = need_args(t, 3)
    op = WriteOp()
    op.omap_set_header(raw_bytes(value))
    try:
        await ioctx.operate_write_op(op, oid)
    except Error as exc:
        return failed(t, f"error setting omap value {t.pool_name}/{oid}", neg_errno(exc))
    return 0


async def cmd_setomapval(t: Tool) -> int:
    """``setomapval OBJ KEY [VALUE | --input-file FILE]`` (else standard input)."""
    ioctx, oid, key, pretty, rest = omap_key_args(t, 1)
    if rest:
        value = raw_bytes(rest[0])
    elif "input-file" in t.opts:
        try:
            with open(t.opts["input-file"], "rb") as f:
                value = f.read()
        except OSError as exc:
            t.io.err(f"error reading input file {t.opts['input-file']}: "
                     f"{cpp_strerror(exc.errno or errno.EIO)}")
            return 1
    else:
        value = _read_all(t)
    try:
        await ioctx.omap_set(oid, {key: value})
    except Error as exc:
        return failed(t, f"error setting omap value {t.pool_name}/{oid}/{pretty}",
                      neg_errno(exc))
    return 0


async def cmd_getomapval(t: Tool) -> int:
    """``getomapval OBJ KEY [FILE]``."""
    ioctx, oid, key, pretty, rest = omap_key_args(t, 1)
    try:
        res = await _operate(ioctx, oid, [osd.omap_get_vals_by_keys([key])], _READ)
        values = decode_omap_vals_by_keys(res.outs[0].outdata)
    except Error as exc:
        return failed(t, f"error getting omap value {t.pool_name}/{oid}/{pretty}",
                      neg_errno(exc))
    if key in values:
        value = values[key]
        if rest:
            t.io.err(f"Writing to {rest[0]}")
            dump_data(t, rest[0], value)
        else:
            t.io.out(f"value ({len(value)} bytes) :\n" + hexdump(value) + "\n")
        return 0
    t.io.out(f"No such key: {t.pool_name}/{oid}/{pretty}\n")
    return 1


async def cmd_rmomapkey(t: Tool) -> int:
    """``rmomapkey OBJ KEY``."""
    ioctx, oid, key, pretty, _ = omap_key_args(t, 0)
    try:
        await ioctx.omap_rm_keys(oid, [key])
    except Error as exc:
        return failed(t, f"error removing omap key {t.pool_name}/{oid}/{pretty}",
                      neg_errno(exc))
    return 0


async def cmd_clearomap(t: Tool) -> int:
    """``clearomap OBJ [OBJ ...]``."""
    ioctx, args = need_args(t, 2)
    for oid in args[1:]:
        try:
            await ioctx.omap_clear(oid)
        except Error as exc:
            t.io.err(f"error clearing omap keys {t.pool_name}/{oid}/{cpp_strerror(neg_errno(exc))}")
            return 1
    return 0


def _key_text(key: str) -> str:
    raw = raw_bytes(key)
    if _printable(raw):
        return key
    return f"key ({len(raw)} bytes):\n" + hexdump(raw)


async def cmd_listomapvals(t: Tool) -> int:
    """``listomapvals OBJ``: keys (hexdumped when not printable) and values."""
    ioctx, (_, oid, *_) = need_args(t, 2)
    last = ""
    while True:
        try:
            res = await _operate(ioctx, oid, [osd.omap_get_vals(last, "", MAX_OMAP_PER_REQUEST)],
                                 _READ)
            values = decode_omap_vals(res.outs[0].outdata).vals
        except Error as exc:
            return failed(t, f"error getting omap keys {t.pool_name}/{oid}", neg_errno(exc))
        for key, value in values.items():
            last = key
            t.io.out(_key_text(key) + "\n")
            t.io.out(f"value ({len(value)} bytes) :\n" + hexdump(value) + "\n")
        if len(values) != MAX_OMAP_PER_REQUEST:
            return 0


async def cmd_listomapkeys(t: Tool) -> int:
    """``listomapkeys OBJ``."""
    ioctx, (_, oid, *_) = need_args(t, 2)
    last = ""
    more = True
    while more:
        try:
            res = await _operate(ioctx, oid, [osd.omap_get_keys(last, MAX_OMAP_PER_REQUEST)],
                                 _READ)
            got = decode_omap_keys(res.outs[0].outdata)
        except Error as exc:
            return failed(t, f"error getting omap key set {t.pool_name}/{oid}", neg_errno(exc))
        for key in got.keys:
            t.io.out(key + "\n")
            last = key
        more = bool(got.more) and bool(got.keys)
    return 0


# -- dispatch ------------------------------------------------------------------------

async def _watch(t: Tool) -> int:
    from .rados_watch import cmd_watch  # noqa: PLC0415

    return await cmd_watch(t)


async def _notify(t: Tool) -> int:
    from .rados_watch import cmd_notify  # noqa: PLC0415

    return await cmd_notify(t)


async def _bench(t: Tool) -> int:
    from .rados_bench import cmd_bench  # noqa: PLC0415

    return await cmd_bench(t)


async def _cleanup(t: Tool) -> int:
    from .rados_bench import cmd_cleanup  # noqa: PLC0415

    return await cmd_cleanup(t)


async def _df(t: Tool) -> int:
    from .rados_df import cmd_df  # noqa: PLC0415

    return await cmd_df(t)


COMMANDS: dict[str, Callable[[Tool], Awaitable[int]]] = {
    "lspools": cmd_lspools,
    "df": _df,
    "ls": cmd_ls,
    "mkpool": cmd_mkpool,
    "rmpool": cmd_rmpool,
    "stat": cmd_stat,
    "stat2": cmd_stat,
    "touch": cmd_touch,
    "get": cmd_get,
    "put": cmd_put,
    "append": cmd_append,
    "truncate": cmd_truncate,
    "create": cmd_create,
    "rm": cmd_rm,
    "setxattr": cmd_setxattr,
    "getxattr": cmd_getxattr,
    "rmxattr": cmd_rmxattr,
    "listxattr": cmd_listxattr,
    "getomapheader": cmd_getomapheader,
    "setomapheader": cmd_setomapheader,
    "setomapval": cmd_setomapval,
    "getomapval": cmd_getomapval,
    "rmomapkey": cmd_rmomapkey,
    "clearomap": cmd_clearomap,
    "listomapvals": cmd_listomapvals,
    "listomapkeys": cmd_listomapkeys,
    "watch": _watch,
    "notify": _notify,
    "bench": _bench,
    "cleanup": _cleanup,
}


async def dispatch(t: Tool) -> int:
    """Run ``t.nargs[0]``; unknown commands as the C++ tool reports them."""
    cmd = COMMANDS.get(t.nargs[0])
    if cmd is None:
        t.io.err(f"unrecognized command {t.nargs[0]}; -h or --help for usage")
        return -errno.EINVAL
    try:
        return await cmd(t)
    except UsageError:
        t.io.usage()
        return 1


__all__ = ["COMMANDS", "MAX_OMAP_PER_REQUEST", "UsageError", "dispatch", "do_get", "do_put",
           "dump_data", "failed", "need_args", "neg_errno", "omap_key_args", "raw_bytes"]
