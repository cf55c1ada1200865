"""``rados watch`` and ``rados notify``, as the C++ tool prints them.

``watch OBJ`` prints ``press enter to exit...``, then for each notify ``NOTIFY
cookie C notify_id N from G`` and the payload's hexdump, acking with the payload
(``RadosWatchCtx``); ``notify OBJ MSG`` sends the message as an encoded
``std::string`` and prints each watcher's reply (``reply client.G cookie C : L
bytes`` + hexdump) and each watcher that timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import TYPE_CHECKING

from asyncmsgr.osd.op_data import decode_notify_result
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.osdc import linger as lingerops
from asyncmsgr.rados.errors import Error

from .rados_cmds import need_args, neg_errno, raw_bytes
from .rados_format import cpp_strerror, hexdump

if TYPE_CHECKING:
    from .rados import Tool


async def cmd_watch(t: Tool) -> int:
    """``watch OBJ``: print each notify (and ack it with its payload) until Enter."""
    ioctx, (_, oid, *_) = need_args(t, 2)
    io = t.io

    def on_notify(notify_id: int, notifier_id: int, cookie: int, data: bytes) -> bytes:
        io.out(f"NOTIFY cookie {cookie} notify_id {notify_id} from {notifier_id}\n")
        io.out(hexdump(data))
        io.stdout.flush()
        return data

    def on_error(cookie: int, exc: Error) -> None:
        io.out(f"ERROR cookie {cookie} err {cpp_strerror(neg_errno(exc))}\n")
        io.stdout.flush()

    try:
        w = await ioctx.watch(oid, on_notify, on_error)
    except Error as exc:
        t.io.err(f"error calling watch: {cpp_strerror(neg_errno(exc))}")
        return neg_errno(exc)
    io.out("press enter to exit...\n")
    io.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, t.stdin.readline)
    with contextlib.suppress(Error):
        await w.close()
    return 0


async def cmd_notify(t: Tool) -> int:
    """``notify OBJ MESSAGE``: the watchers' replies and who timed out."""
    ioctx, (_, oid, text, *_) = need_args(t, 3)
    msg = raw_bytes(text)
    payload = struct.pack("<I", len(msg)) + msg  # encode(std::string)
    o = ioctx.objecter
    oloc = ObjectLocator(ioctx.pool_id, ioctx.locator_key, ioctx.nspace)
    info = lingerops.linger_register(o, oid, oloc, 0)
    try:
        r, replies = await lingerops.linger_notify(o, info, payload, 10)
    finally:
        lingerops.linger_cancel(o, info)
    if r != 0:
        t.io.err(f"error calling notify: {cpp_strerror(r)}")
    if replies:
        res = decode_notify_result(replies)
        for (gid, cookie), data in sorted(res.acks.items()):
            t.io.out(f"reply client.{gid} cookie {cookie} : {len(data)} bytes\n")
            if data:
                t.io.out(hexdump(data))
        for gid, cookie in sorted(res.timeouts):
            t.io.out(f"timeout client.{gid} cookie {cookie}\n")
    return r


__all__ = ["cmd_notify", "cmd_watch"]
