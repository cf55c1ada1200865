"""Linger ops: watches and notifies kept registered across map changes and resets.

Ceph's ``Objecter::linger_*`` (Pacific), as functions of the
:class:`~asyncmsgr.osdc.objecter.Objecter`:

* a **watch** is registered with a WATCH op (op WATCH); after a session reset or a
  new interval of its PG it is registered again with op RECONNECT and a new
  generation (``_send_linger``), pinged every tick (op PING with the generation,
  ``_send_linger_ping``), and its errors (a failed ping or reconnect, a DISCONNECT
  event) are reported once to the error callback (ENOENT as ENOTCONN);
* a **notify** sends a NOTIFY op (its reply carries the notify id) and completes
  when the OSD sends MWatchNotify NOTIFY_COMPLETE with the watchers' replies;
* MWatchNotify NOTIFY events go to the watch callback, never inline with the
  message (callbacks are scheduled on the loop).

The registration ops never resend themselves (``should_resend`` False): the
LingerOp sends a new one whenever needed.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import logging
from typing import TYPE_CHECKING

from asyncmsgr.messages import MWatchNotify
from asyncmsgr.osd import ops as osd_ops
from asyncmsgr.osd.op_data import decode_notify_id
from asyncmsgr.osd.ops import OsdFlag, WatchEvent, WatchOp
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.types import UTime

from .op import LingerOp, OpResult, OSDSession
from .target import OpTarget, RecalcResult

if TYPE_CHECKING:
    from .objecter import Objecter

logger = logging.getLogger("asyncmsgr.objecter")


def session_linger_op_assign(s: OSDSession, info: LingerOp) -> None:
    """``_session_linger_op_assign``."""
    s.linger_ops[info.linger_id] = info
    info.session = s


def session_linger_op_remove(s: OSDSession, info: LingerOp) -> None:
    """``_session_linger_op_remove``."""
    s.linger_ops.pop(info.linger_id, None)
    info.session = None


def linger_register(o: Objecter, oid: str, oloc: ObjectLocator, flags: int) -> LingerOp:
    """``linger_register``: a new LingerOp (not yet sent)."""
    if oloc.key == oid:
        oloc = oloc._replace(key="")
    info = LingerOp(o.allocate_linger_id(), OpTarget(flags, oid, oloc))
    info.watch_valid_thru = o.loop.time()
    o.linger_ops[info.linger_id] = info
    o.logger.set("linger_active", len(o.linger_ops))
    return info


def _linger_submit(o: Objecter, info: LingerOp) -> None:
    """``_linger_submit``: aim it, attach it to its session, send it."""
    o._calc_target(info.target, any_change=True)
    s = o._get_session(info.target.osd)
    session_linger_op_assign(s, info)
    send_linger(o, info)


async def linger_watch(o: Objecter, info: LingerOp, *, timeout: int = 0,
                       mtime: UTime | None = None) -> int:
    """``linger_watch``: register the watch; the registration's result (0 or -errno)."""
    info.is_watch = True
    info.mtime = mtime or UTime()
    info.target.flags |= int(OsdFlag.WRITE)
    info.ops = [osd_ops.watch(info.cookie, WatchOp.WATCH, timeout=timeout)]
    fut: asyncio.Future[int] = o.loop.create_future()
    info.on_reg_commit = fut
    _linger_submit(o, info)
    return await fut


async def linger_notify(o: Objecter, info: LingerOp, payload: bytes,
                        timeout: int) -> tuple[int, bytes]:
    """``linger_notify``: send the notify and wait for NOTIFY_COMPLETE.

    Returns (result, the encoded replies): the NOTIFY op's error if it failed,
    else the notify's return code (-ETIMEDOUT when watchers did not ack).
    """
    info.target.flags |= int(OsdFlag.READ)
    info.ops = [osd_ops.notify(info.cookie, payload, timeout)]
    reg: asyncio.Future[int] = o.loop.create_future()
    done: asyncio.Future[tuple[int, bytes]] = o.loop.create_future()
    info.on_reg_commit = reg
    info.on_notify_finish = done
    _linger_submit(o, info)
    r = await reg
    if r < 0:
        return r, b""
    return await done


def linger_cancel(o: Objecter, info: LingerOp) -> None:
    """``linger_cancel``: forget the registration (its session, its pending op)."""
    if info.canceled:
        return
    info.canceled = True
    if info.session is not None:
        s = info.session
        pending = s.ops.get(info.register_tid)
        if pending is not None and not pending.should_resend:
            o._cancel_linger_op(pending)
        session_linger_op_remove(s, info)
    o.linger_ops.pop(info.linger_id, None)
    o.logger.set("linger_active", len(o.linger_ops))


def fail_linger(o: Objecter, info: LingerOp, result: int) -> None:
    """Complete what waits on ``info`` with ``result``, report it, cancel it."""
    if info.on_reg_commit is not None and not info.on_reg_commit.done():
        info.on_reg_commit.set_result(result)
    if info.on_notify_finish is not None and not info.on_notify_finish.done():
        info.on_notify_finish.set_result((result, b""))
    if info.is_watch and info.registered and not info.last_error:
        _report_error(o, info, result)
    linger_cancel(o, info)


def recalc_linger_op_target(o: Objecter, info: LingerOp) -> RecalcResult:
    """``_recalc_linger_op_target``: any change of interval moves and resends it."""
    r = o._calc_target(info.target, any_change=True)
    if r == RecalcResult.NEED_RESEND:
        s = o._get_session(info.target.osd)
        if info.session is not s:
            if info.session is not None:
                session_linger_op_remove(info.session, info)
            session_linger_op_assign(s, info)
    return r


def send_linger(o: Objecter, info: LingerOp) -> None:
    """``_send_linger``: (re)register: the original ops, or RECONNECT once registered."""
    if info.canceled:
        return
    if info.registered and info.is_watch:
        info.register_gen += 1
        ops = [osd_ops.watch(info.cookie, WatchOp.RECONNECT, gen=info.register_gen)]

        def done(res: OpResult) -> None:
            _linger_reconnect(o, info, res)
    else:
        ops = list(info.ops)
        if not info.is_watch:
            info.notify_id = 0

        def done(res: OpResult) -> None:
            _linger_commit(o, info, res)
    t = info.target
    op = o.new_op(t.base_oid, t.base_oloc, ops, t.flags, mtime=info.mtime, onfinish=done)
    op.target = copy.copy(t)
    op.should_resend = False
    if info.register_tid and info.session is not None:
        old = info.session.ops.get(info.register_tid)
        if old is not None and not old.should_resend:
            o._cancel_linger_op(old)
    o.submit_nowait(op)
    info.register_tid = op.tid
    o.logger.inc("linger_send")


def _linger_commit(o: Objecter, info: LingerOp, res: OpResult) -> None:
    """``_linger_commit``: the registration's reply."""
    if info.on_reg_commit is not None and not info.on_reg_commit.done():
        info.on_reg_commit.set_result(res.result)
    if res.result < 0 and info.on_notify_finish is not None \
            and not info.on_notify_finish.done():
        info.on_notify_finish.set_result((res.result, b""))
    info.registered = True
    if not info.is_watch and res.result >= 0 and res.outs:
        try:
            info.notify_id = decode_notify_id(res.outs[0].outdata)
        except Exception:
            info.notify_id = 0


def normalize_watch_error(r: int) -> int:
    """``_normalize_watch_error``: ENOENT (object deleted) reads as ENOTCONN."""
    return -errno.ENOTCONN if r == -errno.ENOENT else r


def _report_error(o: Objecter, info: LingerOp, r: int) -> None:
    info.last_error = normalize_watch_error(r)
    cb = info.on_error
    if cb is not None:
        o.loop.call_soon(cb, info.cookie, info.last_error)


def _linger_reconnect(o: Objecter, info: LingerOp, res: OpResult) -> None:
    """``_linger_reconnect``: a failed RECONNECT is the watch's error."""
    if res.result < 0 and not info.last_error and not info.canceled:
        _report_error(o, info, res.result)


def send_linger_ping(o: Objecter, info: LingerOp) -> None:
    """``_send_linger_ping``: PING with the registration generation."""
    s = info.session
    if s is None or s.is_homeless or info.canceled:
        return
    sent = o.loop.time()
    gen = info.register_gen

    def done(res: OpResult) -> None:
        _linger_ping(o, info, res, sent, gen)

    t = info.target
    op = o.new_op(t.base_oid, t.base_oloc, [osd_ops.watch_ping(info.cookie, gen)],
                  t.flags | int(OsdFlag.READ), onfinish=done)
    op.target = copy.copy(t)
    op.should_resend = False
    o._send_op_account(op)
    o._last_tid += 1
    op.tid = o._last_tid
    o._session_op_assign(s, op)
    o._send_op(op)
    info.ping_tid = op.tid
    o.logger.inc("linger_ping")


def _linger_ping(o: Objecter, info: LingerOp, res: OpResult, sent: float, gen: int) -> None:
    """``_linger_ping``: a ping reply of the current generation."""
    if info.register_gen != gen or info.canceled:
        return
    if res.result >= 0:
        info.watch_valid_thru = sent
    elif not info.last_error:
        _report_error(o, info, res.result)


def linger_check(o: Objecter, info: LingerOp) -> float | int:
    """``linger_check``: seconds since the watch was last known valid, or -errno."""
    if info.last_error:
        return info.last_error
    return o.loop.time() - info.watch_valid_thru


def handle_watch_notify(o: Objecter, m: MWatchNotify) -> None:
    """``handle_watch_notify``: DISCONNECT, NOTIFY_COMPLETE or a NOTIFY event."""
    info = o.linger_ops.get(m.cookie)
    if info is None:
        logger.debug("watch-notify for unknown cookie %d", m.cookie)
        return
    if m.opcode == WatchEvent.DISCONNECT:
        if not info.last_error:
            _report_error(o, info, -errno.ENOTCONN)
    elif not info.is_watch:
        if m.opcode != WatchEvent.NOTIFY_COMPLETE:
            return
        if info.notify_id and info.notify_id != m.notify_id:
            logger.debug("notify-complete %d != %d ignored", m.notify_id,
                         info.notify_id)
        elif info.on_notify_finish is not None and not info.on_notify_finish.done():
            info.on_notify_finish.set_result((m.return_code, bytes(m.data)))
    elif m.opcode == WatchEvent.NOTIFY and info.on_notify is not None and not info.canceled:
        o.loop.call_soon(info.on_notify, m.notify_id, m.cookie, m.notifier_gid, bytes(m.bl))


__all__ = [
    "fail_linger",
    "handle_watch_notify",
    "linger_cancel",
    "linger_check",
    "linger_notify",
    "linger_register",
    "linger_watch",
    "normalize_watch_error",
    "recalc_linger_op_target",
    "send_linger",
    "send_linger_ping",
    "session_linger_op_assign",
    "session_linger_op_remove",
]
