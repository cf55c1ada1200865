"""Following the osdmap: ``Objecter::handle_osd_map`` and ``_scan_requests``.

For each epoch a MOSDMap moves the Objecter through
(:func:`~asyncmsgr.osdc.maps.advance_map`), every op and linger op of every
session is re-aimed (:func:`~asyncmsgr.osdc.target.calc_target`); those whose
target changed, or all of them after a skipped map, or the writes that respect
FULL when the cluster or their pool is (or was) full, are collected. Sessions
whose OSD went down or moved are closed (their ops go homeless and are resent).
Then the collected ops are sent again, in tid order, with the same tid; linger ops
re-register; waiters for an epoch are released; and while the cluster is (or
was) paused or full the next map is asked for.

An op whose pool is not in our map (``_check_op_pool_dne``) waits for the newest
epoch the monitor has, and fails with ENOENT only once our map is that new.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from asyncmsgr.messages import MOSDMap

from . import linger
from .maps import NeedMap, advance_map
from .op import LingerOp, Op, OSDSession
from .target import RecalcResult, has_pool_full, osdmap_full_flag, pool_full_map

if TYPE_CHECKING:
    from .objecter import Objecter

logger = logging.getLogger("asyncmsgr.objecter")


def handle_osd_map(o: Objecter, m: MOSDMap) -> None:
    """``handle_osd_map``: move through the epochs and resend what moved."""
    monmap = o.monc.monmap
    if monmap is not None and m.fsid != monmap.fsid:
        logger.warning("osdmap for fsid %s ignored", m.fsid)
        return
    honor = o.options.honor_pool_full
    old = o.osdmap
    was_pauserd = old.pauserd
    was_full = osdmap_full_flag(old, honor_full=honor)
    was_pausewr = old.pausewr or was_full or has_pool_full(old, honor_full=honor)
    cluster_full = was_full
    full_map = pool_full_map(old, honor_full=honor)
    need_resend: dict[int, Op] = {}
    need_resend_linger: list[LingerOp] = []
    first = old.epoch == 0
    for step in advance_map(old if not first else None, m):
        if isinstance(step, NeedMap):
            if step.start == 0:
                o._request_full_map(step.reason)
            else:
                o._maybe_request_map()
            break
        o.osdmap = step.osdmap
        o.logger.inc("map_full" if step.full else "map_inc")
        o.logger.set("map_epoch", step.osdmap.epoch)
        o._pg_cache.clear()
        cluster_full = cluster_full or osdmap_full_flag(step.osdmap, honor_full=honor)
        full_map = pool_full_map(step.osdmap, full_map, honor_full=honor)
        skipped = step.skipped_map
        scan_requests(o, o.homeless, skipped, cluster_full, full_map, need_resend,
                      need_resend_linger)
        for s in list(o._sessions.values()):
            scan_requests(o, s, skipped, cluster_full, full_map, need_resend,
                          need_resend_linger)
            if not step.osdmap.is_up(s.osd) or s.addrs != step.osdmap.get_addrs(s.osd):
                moved = list(s.ops.values())
                o._close_session(s)
                for op in moved:  # their connection is gone: send them again
                    need_resend.setdefault(op.tid, op)

    new = o.osdmap
    # the targets of ops to resend must reflect the latest map
    for tid, op in list(need_resend.items()):
        if op.target.epoch < new.epoch and o._calc_target(op.target) \
                == RecalcResult.POOL_DNE:
            del need_resend[tid]
            check_op_pool_dne(o, op)
    pausewr = new.pausewr or osdmap_full_flag(new, honor_full=honor) or has_pool_full(
        new, honor_full=honor)
    if was_pauserd or was_pausewr or new.pauserd or pausewr:
        o._maybe_request_map()

    for tid in sorted(need_resend):
        op = need_resend[tid]
        sess = op.session
        if sess is None or sess.osd != op.target.osd or (
                sess is not o.homeless and o._sessions.get(sess.osd) is not sess):
            if sess is not None:
                o._session_op_remove(sess, op)
            sess = o._get_session(op.target.osd)
            o._session_op_assign(sess, op)
        if op.should_resend:
            if not sess.is_homeless and not op.target.paused:
                o.logger.inc("op_resend")
                o._send_op(op)
        else:
            o._cancel_linger_op(op)
    for info in need_resend_linger:
        if info.session is not None and not info.session.is_homeless:
            o.logger.inc("linger_resend")
            linger.send_linger(o, info)

    waiters = o._map_waiters
    if waiters:
        left = []
        for epoch, fut in waiters:
            if epoch <= new.epoch:
                if not fut.done():
                    fut.set_result(None)
            else:
                left.append((epoch, fut))
        o._map_waiters = left
        if left:
            o._maybe_request_map()
    if first and new.epoch and o.homeless.ops:
        o._maybe_request_map()


def scan_requests(o: Objecter, s: OSDSession, skipped_map: bool, cluster_full: bool,
                   full_map: dict[int, bool], need_resend: dict[int, Op],
                   need_resend_linger: list[LingerOp]) -> None:
    """``_scan_requests``: recompute every target of session ``s``."""
    for info in list(s.linger_ops.values()):
        force_writes = cluster_full or full_map.get(info.target.base_oloc.pool, False)
        r = linger.recalc_linger_op_target(o, info)
        if (r == RecalcResult.NO_ACTION and (skipped_map or force_writes)) \
                or r == RecalcResult.NEED_RESEND:
            need_resend_linger.append(info)
        elif r in (RecalcResult.POOL_DNE, RecalcResult.POOL_EIO):
            linger.fail_linger(o, info, -errno.ENOENT if r == RecalcResult.POOL_DNE
                                else -errno.EIO)
    for op in list(s.ops.values()):
        force_writes = cluster_full or full_map.get(op.target.base_oloc.pool, False)
        r = o._calc_target(op.target)
        if r == RecalcResult.NO_ACTION:
            if not skipped_map and not (force_writes and op.target.respects_full()):
                continue
            r = RecalcResult.NEED_RESEND
        if r == RecalcResult.NEED_RESEND:
            o._session_op_remove(s, op)
            need_resend[op.tid] = op
            o._check_latest_map_ops.pop(op.tid, None)
        elif r == RecalcResult.POOL_DNE:
            check_op_pool_dne(o, op)
        else:
            o._fail_op(op, -errno.EIO)


# -- pool does not exist -------------------------------------------------------------


def check_op_pool_dne(o: Objecter, op: Op) -> None:
    """``_check_op_pool_dne``: ENOENT once our map is as new as the bound."""
    if op.target.pool_ever_existed:
        op.map_dne_bound = o.osdmap.epoch  # it existed and is gone: deleted
    if op.map_dne_bound > 0:
        if o.osdmap.epoch >= op.map_dne_bound:
            o._fail_op(op, -errno.ENOENT)
        else:
            o._maybe_request_map()
    else:
        send_op_map_check(o, op)


def send_op_map_check(o: Objecter, op: Op) -> None:
    """``_send_op_map_check``: learn the newest epoch, then judge the pool."""
    if op.tid in o._check_latest_map_ops:
        return
    o._check_latest_map_ops[op.tid] = op
    task = o.loop.create_task(_op_map_latest(o, op))
    o.mon_ops.track(task)


async def _op_map_latest(o: Objecter, op: Op) -> None:
    try:
        newest, _ = await o.monc.get_version("osdmap")
    except Exception as exc:
        logger.debug("get_version failed: %s", exc)
        o._check_latest_map_ops.pop(op.tid, None)
        return
    if o._check_latest_map_ops.pop(op.tid, None) is not op:
        return
    if op.map_dne_bound == 0:
        op.map_dne_bound = newest
    check_op_pool_dne(o, op)


__all__ = ["check_op_pool_dne", "handle_osd_map", "scan_requests", "send_op_map_check"]
