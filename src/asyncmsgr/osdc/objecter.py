"""Ceph's Objecter on asyncio: OSD sessions, op targeting, sends, replies and resends.

:class:`Objecter` (``src/osdc/Objecter.cc``, Pacific) turns object operations into
MOSDOps and gets each one answered exactly once, as RADOS promises:

* **Maps.** The osdmap subscription goes through the :class:`MonClient` (one-time,
  continuous while the cluster is paused or full); MOSDMaps from the monitor or
  from OSDs are applied epoch by epoch (:func:`~asyncmsgr.osdc.maps.advance_map`),
  a gap asks for the missing maps, and every epoch reached is scanned for ops
  whose target changed (:meth:`Objecter._scan_requests`).
* **Targets.** :func:`~asyncmsgr.osdc.target.calc_target` (``_calc_target``) picks
  the PG and its acting primary, pauses reads/writes under PAUSERD/PAUSEWR and
  writes under FULL, and says when an op must be resent.
* **Sessions.** One lossy connection per OSD on the MonClient's messenger (msgr2
  crc or secure, or msgr v1; cephx authorizers from the MonClient's tickets). A
  reset re-dials the OSD and re-sends every op of the session (``_kick_requests``);
  repeated resets back off.
* **Exactly once.** An op keeps its tid across resends, so the OSD sees the same
  reqid (``client.GID.inc:tid``) and answers a duplicate from its log;
  ``retry_attempt`` counts the attempts and replies to older attempts are dropped.
* **Flow control.** ``objecter_inflight_ops`` / ``objecter_inflight_op_bytes``
  throttle submitters; MOSDBackoff BLOCK holds ops of a PG range until UNBLOCK;
  ``rados_osd_op_timeout`` fails ops with ETIMEDOUT.
* **Missing pools.** An op for a pool absent from our map waits for the latest map
  the monitor has (``_check_op_pool_dne``) and fails with ENOENT only then.

Following the map (and judging ops whose pool is missing) is in
:mod:`asyncmsgr.osdc.mapflow`, watch/notify (linger ops) in
:mod:`asyncmsgr.osdc.linger`, pool and statistics requests to the monitor in
:mod:`asyncmsgr.osdc.monops`.

Everything runs on the event loop the Objecter was started on. Ops complete with
an :class:`~asyncmsgr.osdc.op.OpResult` carrying a negative errno on failure.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import time
from collections.abc import Callable, Sequence

from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.message import Message
from asyncmsgr.messages import MOSDBackoff, MOSDMap, MOSDOp, MOSDOpReply, MPing, MWatchNotify
from asyncmsgr.messages.osd_op import EMPTY_REQID
from asyncmsgr.monc.client import MonClient
from asyncmsgr.osd.ops import BackoffOp, OsdFlag, OSDOp
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, ObjectLocator
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityType, UTime

from . import linger as _linger
from . import mapflow as _mapflow
from .backoff import Backoff, contained_by
from .budget import OpBudget
from .monops import MonOpsHook
from .op import (
    HotCounters,
    LingerOp,
    ObjecterOptions,
    OnCommit,
    Op,
    OpResult,
    OSDSession,
    calc_op_budget,
    objecter_counters,
)
from .target import (
    OpTarget,
    PgMappingCache,
    RecalcResult,
    calc_target,
    osdmap_full_flag,
)
from .wire import encode_mid, new_fast_mosdop

logger = logging.getLogger("asyncmsgr.objecter")

_ONDISK_REDIR = int(OsdFlag.ONDISK | OsdFlag.KNOWN_REDIR)
_FULL_FORCE = int(OsdFlag.FULL_FORCE)
_READ = int(OsdFlag.READ)
_WRITE = int(OsdFlag.WRITE)
_PGOP = int(OsdFlag.PGOP)
_NO_OUTS: list[OSDOp] = []
_NO_MTIME = UTime()  # frozen: shared by the ops given no mtime


class Objecter(Dispatcher):
    """The RADOS op engine of one client (Ceph's ``Objecter``).

    ``monc`` must be connected (:meth:`MonClient.connect`); the Objecter sends on
    its messenger and asks it for maps. Call :meth:`start`, then
    :meth:`wait_for_osd_map`; :meth:`shutdown` fails what is left with ESHUTDOWN.
    """

    def __init__(self, monc: MonClient, *, options: ObjecterOptions | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.monc = monc
        self.messenger = monc.messenger
        self.options = options or ObjecterOptions()
        self._clock = clock
        self.osdmap = OSDMap()
        self.client_inc = 0
        """``set_client_incarnation``: librados uses 0."""
        self.logger = objecter_counters()
        self.hot = HotCounters()
        self._pg_cache = PgMappingCache()
        self._sessions: dict[int, OSDSession] = {}
        self._by_con: dict[Connection, OSDSession] = {}
        self.homeless = OSDSession(-1)
        self._last_tid = 0
        self._num_in_flight = 0
        self.linger_ops: dict[int, LingerOp] = {}
        self._max_linger_id = 0
        self._check_latest_map_ops: dict[int, Op] = {}
        self._budget_waiting: set[Op] = set()
        """Ops queued for in-flight budget (:meth:`op_submit`)."""
        self._map_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._map_request_pending = False
        self._initialized = False
        self._fast = self.messenger.config.asyncmsgr_embedded
        opts = self.options
        self.budget = OpBudget(max(0, opts.inflight_ops), max(0, opts.inflight_op_bytes))
        """``op_throttle_ops`` and ``op_throttle_bytes``."""
        self.mon_ops = MonOpsHook()
        """Callbacks of :mod:`asyncmsgr.osdc.monops` (map epochs it waits for)."""

    # -- life cycle ----------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop the Objecter runs on (set by :meth:`start`)."""
        if self._loop is None:
            raise RuntimeError("Objecter not started")
        return self._loop

    def start(self) -> None:
        """Join the messenger (OSD policy lossy client), ask for the first map, tick."""
        if self._initialized:
            return
        self._loop = asyncio.get_running_loop()
        msgr = self.messenger
        msgr.set_policy(EntityType.OSD, Policy.lossy_client())
        msgr.add_dispatcher_head(self)
        self._initialized = True
        self._schedule_tick()
        if self.osdmap.epoch == 0:
            self._maybe_request_map()

    async def shutdown(self) -> None:
        """Fail every op and linger with ESHUTDOWN and close the OSD sessions."""
        if not self._initialized:
            return
        self._initialized = False
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        res = OpResult(-errno.ESHUTDOWN, _NO_OUTS)
        for op in list(self._budget_waiting):
            self.cancel(op, -errno.ESHUTDOWN)
        for s in [*self._sessions.values(), self.homeless]:
            for op in list(s.ops.values()):
                self._finish_op(op)
                op.complete(res)
        for info in list(self.linger_ops.values()):
            _linger.fail_linger(self, info, -errno.ESHUTDOWN)
        for s in list(self._sessions.values()):
            self._close_session(s)
        for _, fut in self._map_waiters:
            if not fut.done():
                fut.set_exception(ConnectionError("objecter shut down"))
        self._map_waiters.clear()
        self.mon_ops.shutdown()

    # -- maps ----------------------------------------------------------------------------

    async def wait_for_osd_map(self, timeout: float | None = None) -> None:
        """Return once a map is held (``wait_for_osd_map``)."""
        await self.wait_for_map(1, timeout=timeout)

    async def wait_for_map(self, epoch: int, *, timeout: float | None = None) -> None:
        """Return once the map's epoch is at least ``epoch`` (asking for maps)."""
        if self.osdmap.epoch >= epoch:
            return
        fut: asyncio.Future[None] = self.loop.create_future()
        self._map_waiters.append((epoch, fut))
        self._maybe_request_map()
        async with asyncio.timeout(timeout):
            await fut

    async def wait_for_latest_osdmap(self, timeout: float | None = None) -> int:
        """Ask the monitor for the newest epoch and wait for that map; return it."""
        newest, _ = await self.monc.get_version("osdmap", timeout=timeout)
        await self.wait_for_map(newest, timeout=timeout)
        return self.osdmap.epoch

    def _maybe_request_map(self) -> None:
        """``_maybe_request_map``: subscribe to the next map (continuous when paused
        or full). Deferred to the next loop turn, after the MonClient saw the MOSDMap
        being handled (it drops one-time subscriptions that were answered)."""
        if self._map_request_pending or self._loop is None:
            return
        self._map_request_pending = True
        self._loop.call_soon(self._request_map)

    def _request_map(self) -> None:
        self._map_request_pending = False
        if not self._initialized:
            return
        m = self.osdmap
        continuous = (osdmap_full_flag(m, honor_full=self.options.honor_pool_full)
                      or m.pauserd or m.pausewr)
        start = m.epoch + 1 if m.epoch else 0
        self.monc.sub_want("osdmap", start, onetime=not continuous)

    def _request_full_map(self, why: str) -> None:
        logger.warning("asking for a full osdmap: %s", why)
        self.monc.sub_want("osdmap", 0, onetime=True)

    def handle_osd_map(self, m: MOSDMap) -> None:
        """``handle_osd_map`` (see :func:`asyncmsgr.osdc.mapflow.handle_osd_map`)."""
        _mapflow.handle_osd_map(self, m)

    def _calc_target(self, t: OpTarget, *, any_change: bool = False) -> RecalcResult:
        return calc_target(self.osdmap, t, self._pg_cache, any_change=any_change,
                           honor_full=self.options.honor_pool_full)

    # -- sessions --------------------------------------------------------------------------

    def _get_session(self, osd: int) -> OSDSession:
        """``_get_session``: the session of ``osd`` (opened now), or the homeless one."""
        if osd < 0:
            return self.homeless
        s = self._sessions.get(osd)
        if s is None:
            s = OSDSession(osd)
            self._sessions[osd] = s
            self._open_con(s)
            self.logger.inc("osd_session_open")
            self.logger.set("osd_sessions", len(self._sessions))
        return s

    def _open_con(self, s: OSDSession) -> None:
        addrs = self.osdmap.get_addrs(s.osd)
        s.addrs = addrs
        con = self.messenger.connect_to(EntityType.OSD, addrs)
        s.con = con
        s.incarnation += 1
        self._by_con[con] = s

    def _drop_con(self, s: OSDSession) -> None:
        con, s.con = s.con, None
        if con is not None:
            if self._by_con.get(con) is s:
                del self._by_con[con]
            con.mark_down()

    def _reopen_session(self, s: OSDSession) -> None:
        """``_reopen_session``: a new connection to the session's OSD."""
        self._drop_con(s)
        self._open_con(s)

    def _close_session(self, s: OSDSession) -> None:
        """``close_session``: drop the connection; its ops and lingers go homeless."""
        self._drop_con(s)
        self.logger.inc("osd_session_close")
        for info in list(s.linger_ops.values()):
            _linger.session_linger_op_remove(s, info)
            _linger.session_linger_op_assign(self.homeless, info)
        for op in list(s.ops.values()):
            self._session_op_remove(s, op)
            self._session_op_assign(self.homeless, op)
        s.backoffs.clear()
        self._sessions.pop(s.osd, None)
        self.logger.set("osd_sessions", len(self._sessions))

    def _session_op_assign(self, s: OSDSession, op: Op) -> None:
        s.ops[op.tid] = op
        op.session = s

    def _session_op_remove(self, s: OSDSession, op: Op) -> None:
        s.ops.pop(op.tid, None)
        op.session = None

    def _kick_requests(self, s: OSDSession) -> None:
        """``_kick_requests``: resend the session's ops (tid order) and lingers."""
        s.backoffs.clear()
        for tid in sorted(s.ops):
            op = s.ops.get(tid)
            if op is None:
                continue
            if op.should_resend:
                if not op.target.paused:
                    self.logger.inc("op_resend")
                    self._send_op(op)
            else:
                self._cancel_linger_op(op)
        for info in list(s.linger_ops.values()):
            self.logger.inc("linger_resend")
            _linger.send_linger(self, info)

    # -- submitting ------------------------------------------------------------------------

    def new_op(self, oid: str, oloc: ObjectLocator, ops: list[OSDOp], flags: int, *,
               pgid: PG | None = None, mtime: UTime | None = None,
               snapid: int = CEPH_NOSNAP, snap_seq: int = 0,
               snaps: list[int] | None = None, priority: int = 0,
               onfinish: OnCommit | None = None) -> Op:
        """An op for ``oid`` (or, with ``pgid``, a PG op) completing on a future
        (or, with ``onfinish``, a callback). Not yet submitted."""
        if oloc.key == oid:
            oloc = oloc._replace(key="")
        t = OpTarget(flags, oid, oloc)
        if pgid is not None:
            t.precalc_pgid = True
            t.base_pgid = pgid
            t.flags |= int(OsdFlag.IGNORE_OVERLAY)
        fut = self.loop.create_future() if onfinish is None else None
        return Op(t, ops, mtime=_NO_MTIME if mtime is None else mtime, snapid=snapid,
                  snap_seq=snap_seq, snaps=snaps, priority=priority,
                  features=CEPH_FEATURES_SUPPORTED_DEFAULT, future=fut, onfinish=onfinish)

    async def operate(self, oid: str, oloc: ObjectLocator, ops: list[OSDOp], flags: int, *,
                      pgid: PG | None = None, mtime: UTime | None = None,
                      snapid: int = CEPH_NOSNAP, priority: int = 0) -> OpResult:
        """Submit one op (see :meth:`new_op`) and wait for its result."""
        op = self.new_op(oid, oloc, ops, flags, pgid=pgid, mtime=mtime, snapid=snapid,
                         priority=priority)
        return await self.submit(op)

    def aio_operate(self, oid: str, oloc: ObjectLocator, ops: list[OSDOp], flags: int,
                    onfinish: OnCommit, *, pgid: PG | None = None, mtime: UTime | None = None,
                    snapid: int = CEPH_NOSNAP, priority: int = 0, budget: int = -1) -> Op:
        """Submit an op that completes by calling ``onfinish(OpResult)`` (librados'
        ``aio_operate``): no future and no task.

        The op takes the in-flight budget first (``budget`` bytes, or
        :func:`calc_op_budget` of ``ops`` when negative); short of budget it waits
        its turn (FIFO) and is sent from the completion that frees the budget.
        ``onfinish`` runs on the Objecter's loop, inside the reply's dispatch (or
        at once, with a negative errno, when the op cannot be sent: shut down,
        pool EIO). :meth:`op_cancel` with the returned op's ``tid`` cancels it
        once sent; :meth:`cancel` at any time.
        """
        op = self.new_op(oid, oloc, ops, flags, pgid=pgid, mtime=mtime, snapid=snapid,
                         priority=priority, onfinish=onfinish)
        self.op_submit(op, budget)
        return op

    def op_submit(self, op: Op, budget: int = -1) -> None:
        """``op_submit``: take the op's budget (``calc_op_budget`` unless ``budget``
        >= 0) and submit it; short of budget, queue it (FIFO) and submit it when
        the budget is granted. An Objecter that is not running completes the op
        with ESHUTDOWN."""
        if not self._initialized:
            op.complete(OpResult(-errno.ESHUTDOWN, _NO_OUTS))
            return
        if budget < 0:
            budget = calc_op_budget(op.ops)
        b = self.budget
        if b.try_take(budget):
            op.budget = budget
            self._op_submit_with_budget(op)
            return
        self._budget_waiting.add(op)
        op.budget_waiter = b.wait(budget, functools.partial(self._budget_granted, op,
                                                             budget))

    def _budget_granted(self, op: Op, budget: int) -> None:
        self._budget_waiting.discard(op)
        op.budget_waiter = None
        op.budget = budget
        if not self._initialized:
            self._release_budget(op)
            op.complete(OpResult(-errno.ESHUTDOWN, _NO_OUTS))
            return
        self._op_submit_with_budget(op)

    def cancel(self, op: Op, result: int = -errno.ECANCELED) -> bool:
        """Complete ``op`` with ``result`` now, whether it waits for budget or was
        sent (a write already sent may still apply); False if it is done."""
        w = op.budget_waiter
        if w is not None:
            op.budget_waiter = None
            self._budget_waiting.discard(op)
            if self.budget.cancel(w):
                op.complete(OpResult(result, _NO_OUTS, 0, self.osdmap.epoch))
                return True
        if op.tid and op.session is not None:
            return self.op_cancel(op.tid, result)
        return False

    async def submit(self, op: Op) -> OpResult:
        """Take the op's budget (waiting on the throttles), submit it, await it.

        Cancelling the wait cancels the op (a write already sent may still apply).
        """
        if not self._initialized:
            return OpResult(-errno.ESHUTDOWN, _NO_OUTS)
        fut = op.future
        assert fut is not None
        self.op_submit(op)
        try:
            return await fut
        except asyncio.CancelledError:
            self.cancel(op)
            raise

    def submit_nowait(self, op: Op) -> None:
        """Submit an op without taking budget (the Objecter's own ops)."""
        self._op_submit_with_budget(op)

    def _op_submit_with_budget(self, op: Op) -> None:
        timeout = self.options.osd_op_timeout
        if timeout > 0:
            if op.tid == 0:
                self._last_tid += 1
                op.tid = self._last_tid
            op.ontimeout = self.loop.call_later(timeout, self.op_cancel, op.tid,
                                                -errno.ETIMEDOUT)
        self._op_submit(op)

    def _op_submit(self, op: Op) -> None:
        """``_op_submit``: target, session, send (or park: paused, homeless)."""
        t = op.target
        r = calc_target(self.osdmap, t, self._pg_cache,
                        honor_full=self.options.honor_pool_full)
        if r == RecalcResult.POOL_EIO:
            if op.ontimeout is not None:
                op.ontimeout.cancel()
                op.ontimeout = None
            self._release_budget(op)
            op.complete(OpResult(-errno.EIO, _NO_OUTS))
            return
        osd = t.osd
        s = self._sessions.get(osd) if osd >= 0 else None
        if s is None:
            s = self._get_session(osd)
        self._send_op_account(op)
        if op.tid == 0:
            self._last_tid += 1
            op.tid = self._last_tid
        s.ops[op.tid] = op
        op.session = s
        if t.paused or osd < 0:
            self._maybe_request_map()
        else:
            self._send_op(op)
        if r == RecalcResult.POOL_DNE:
            _mapflow.send_op_map_check(self, op)

    def _send_op_account(self, op: Op) -> None:
        self._num_in_flight += 1
        hot = self.hot
        hot.op_active = self._num_in_flight
        hot.op += 1
        flags = op.target.flags
        if flags & _READ and flags & _WRITE:
            hot.op_rmw += 1
        elif flags & _WRITE:
            hot.op_w += 1
        elif flags & _READ:
            hot.op_r += 1
        if flags & _PGOP:
            hot.op_pg += 1

    def _send_op(self, op: Op) -> None:
        """``_send_op``: unless a backoff holds its range, send the op (a new attempt)."""
        s = op.session
        assert s is not None
        t = op.target
        if s.backoffs and s.backoffs.blocking(t.actual_pgid, t.get_hobj()) is not None:
            return
        con = s.con
        if con is None:  # the session waits to be re-dialled; kicked then
            return
        op.incarnation = s.incarnation
        con.send_message(self._prepare_osd_op(op))

    def _prepare_osd_op(self, op: Op) -> MOSDOp:
        """``_prepare_osd_op``: the MOSDOp of the op's next attempt."""
        t = op.target
        flags = t.flags | _ONDISK_REDIR
        if not self.options.honor_pool_full:
            flags |= _FULL_FORCE
        t.paused = False
        op.stamp = self._clock()
        loc = t.target_oloc
        oid = t.target_oid
        h = t.object_hash()
        key = (loc, oid)
        if op.mid_key != key:
            if oid:
                oloc = ObjectLocator(loc.pool, loc.key if loc.key != oid else "", loc.nspace)
            else:
                oloc = ObjectLocator(loc.pool, "", loc.nspace, h)
            op.mid = encode_mid(self.client_inc, op.mtime, oloc, oid, op.ops, op.snapid,
                                op.snap_seq, op.snaps)
            op.mid_key = key
            op.wire_oloc = oloc
        m = new_fast_mosdop(t.actual_pgid, h, self.osdmap.epoch, flags,
                            op.reqid or EMPTY_REQID, self.client_inc, op.mtime, op.wire_oloc,
                            oid, op.ops, op.snapid, op.snap_seq, op.snaps, op.attempts,
                            op.features, op.mid, op.tid,
                            op.priority or self.options.op_priority)
        op.attempts += 1
        hot = self.hot
        hot.op_send += 1
        size = 0
        for o in op.ops:
            size += len(o.indata)
        hot.op_send_bytes += size
        return m

    # -- completion --------------------------------------------------------------------------

    def _release_budget(self, op: Op) -> None:
        if op.budget >= 0:
            self.budget.put(op.budget)
            op.budget = -1

    def _finish_op(self, op: Op) -> None:
        """``_finish_op``: off the session, budget back, timer off."""
        self._release_budget(op)
        if op.ontimeout is not None:
            op.ontimeout.cancel()
            op.ontimeout = None
        s = op.session
        if s is not None:
            self._session_op_remove(s, op)
        self._check_latest_map_ops.pop(op.tid, None)
        self._num_in_flight -= 1
        self.hot.op_active = self._num_in_flight

    def _fail_op(self, op: Op, result: int) -> None:
        self._finish_op(op)
        op.complete(OpResult(result, _NO_OUTS, 0, self.osdmap.epoch))

    def op_cancel(self, tid: int, result: int) -> bool:
        """``op_cancel``: complete op ``tid`` with ``result`` now; False if unknown."""
        for s in (*self._sessions.values(), self.homeless):
            op = s.ops.get(tid)
            if op is not None:
                if result == -errno.ETIMEDOUT:
                    self.logger.inc("op_timeout")
                    logger.info("op %s timed out", op)
                self._fail_op(op, result)
                return True
        return False

    def _cancel_linger_op(self, op: Op) -> None:
        """``_cancel_linger_op``: drop a registration op superseded by a new one."""
        self._finish_op(op)
        op.onfinish = None

    def handle_osd_op_reply(self, m: MOSDOpReply) -> None:
        """``handle_osd_op_reply``: match by connection and tid; complete or retry."""
        con = m.connection
        s = self._by_con.get(con) if con is not None else None
        if s is None or s.con is not con:
            return
        op = s.ops.get(m.tid)
        if op is None:
            return
        s.resets = 0
        if m.retry_attempt >= 0 and m.retry_attempt != op.attempts - 1:
            logger.debug("reply to attempt %d of %s ignored", m.retry_attempt, op)
            return
        rc = m.result
        red = m.redirect
        if red is not None or rc == -errno.EAGAIN:
            self._session_op_remove(s, op)
            self._num_in_flight -= 1
            t = op.target
            if red is not None:
                loc = t.target_oloc
                if red.locator.pool != -1:
                    loc = red.locator
                t.base_oloc = loc
                if red.oid:
                    t.base_oid = red.oid
                t.flags |= int(OsdFlag.REDIRECTED | OsdFlag.IGNORE_CACHE
                               | OsdFlag.IGNORE_OVERLAY)
            else:
                t.flags &= ~int(OsdFlag.BALANCE_READS | OsdFlag.LOCALIZE_READS)
                t.pgid = PG(-1, 0)
            op.tid = 0
            self._op_submit(op)
            return
        self.hot.op_reply += 1
        self._finish_op(op)
        op.complete(OpResult(rc, m.ops, m.user_version, m.osdmap_epoch))

    # -- backoffs --------------------------------------------------------------------------

    def handle_osd_backoff(self, m: MOSDBackoff) -> None:
        """``handle_osd_backoff``: BLOCK (ack, hold) and UNBLOCK (resend held ops)."""
        con = m.connection
        s = self._by_con.get(con) if con is not None else None
        if s is None or con is None or s.con is not con:
            return
        if m.op == BackoffOp.BLOCK:
            self.logger.inc("osd_backoff_block")
            s.backoffs.block(Backoff(m.pgid, m.id, m.begin, m.end))
            ack = MOSDBackoff(pgid=m.pgid, map_epoch=m.map_epoch, op=BackoffOp.ACK_BLOCK,
                              id=m.id, begin=m.begin, end=m.end)
            ack.priority = self.options.op_priority
            con.send_message(ack)
        elif m.op == BackoffOp.UNBLOCK:
            b = s.backoffs.unblock(m.id)
            if b is None:
                logger.warning("unblock of unknown backoff %d from osd.%d", m.id,
                               s.osd)
                return
            self.logger.inc("osd_backoff_unblock")
            for tid in sorted(s.ops):
                op = s.ops[tid]
                if op.target.actual_pgid == m.pgid and contained_by(
                        op.target.get_hobj(), m.begin, m.end):
                    self._send_op(op)

    # -- the tick ------------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        if self._initialized:
            self._tick_handle = self.loop.call_later(self.options.tick_interval, self.tick)

    def tick(self) -> None:
        """``tick``: count laggy ops, ping lingers and laggy OSDs, ask for maps."""
        if not self._initialized:
            return
        now = self._clock()
        cutoff = now - self.options.laggy_timeout
        laggy_ops = 0
        toping: list[OSDSession] = []
        for s in self._sessions.values():
            found = False
            for op in s.ops.values():
                if op.stamp and op.stamp < cutoff:
                    laggy_ops += 1
                    found = True
            for info in list(s.linger_ops.values()):
                found = True
                if info.is_watch and info.registered and not info.last_error:
                    _linger.send_linger_ping(self, info)
            if found:
                toping.append(s)
        if self.homeless.ops or toping:
            self._maybe_request_map()
        self.logger.set("op_laggy", laggy_ops)
        self.logger.set("osd_laggy", len(toping))
        for s in toping:
            if s.con is not None:
                s.con.send_message(MPing())
        self._schedule_tick()

    # -- dispatcher --------------------------------------------------------------------------

    def ms_can_fast_dispatch_any(self) -> bool:
        """Op replies, watch events and backoffs are handled inline (embedded mode)."""
        return self._fast

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        """MOSDOpReply, MWatchNotify and MOSDBackoff."""
        return self._fast and isinstance(m, (MOSDOpReply, MWatchNotify, MOSDBackoff))

    def ms_fast_dispatch(self, m: Message) -> None:
        """Handle one of :meth:`ms_can_fast_dispatch`'s messages."""
        self._dispatch(m)

    def _dispatch(self, m: Message) -> bool:
        if not self._initialized:
            return False
        if isinstance(m, MOSDOpReply):
            self.handle_osd_op_reply(m)
        elif isinstance(m, MWatchNotify):
            _linger.handle_watch_notify(self, m)
        elif isinstance(m, MOSDBackoff):
            self.handle_osd_backoff(m)
        else:
            return False
        return True

    def ms_dispatch(self, m: Message) -> bool:
        """MOSDMap (the MonClient also sees the monitor's), and the fast types when
        not in embedded mode; pool/statfs replies go to :mod:`.monops`."""
        if isinstance(m, MOSDMap):
            if self._initialized:
                self.handle_osd_map(m)
            return m.connection is not self.monc.active_connection
        if self._dispatch(m):
            return True
        return self.mon_ops.dispatch(m)

    def ms_handle_fast_connect(self, con: Connection) -> None:
        """A session's connection came up: it is no longer backing off."""
        s = self._by_con.get(con)
        if s is not None:
            s.resets = 0

    def ms_handle_reset(self, con: Connection) -> bool:
        """``ms_handle_reset``: re-dial the OSD (backing off) and resend its ops."""
        s = self._by_con.get(con)
        if s is None or s.con is not con:
            return False
        del self._by_con[con]
        s.con = None
        if not self._initialized:
            return True
        if not self.osdmap.is_up(s.osd):  # the next map closes the session
            self._maybe_request_map()
            return True
        s.resets += 1
        delay = 0.0
        if s.resets > 1:
            delay = min(self.options.reconnect_max_delay, 0.01 * 2 ** (s.resets - 2))
        logger.info("session with osd.%d reset (%d), reconnecting in %.2f s",
                    s.osd, s.resets, delay)
        if delay:
            self.loop.call_later(delay, self._reopen_and_kick, s)
        else:
            self._reopen_and_kick(s)
        self._maybe_request_map()
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        """Treated as a reset (Ceph does the same)."""
        self.ms_handle_reset(con)

    def _reopen_and_kick(self, s: OSDSession) -> None:
        if not self._initialized or self._sessions.get(s.osd) is not s or s.con is not None:
            return
        self._reopen_session(s)
        self._kick_requests(s)

    # -- introspection ---------------------------------------------------------------------

    @property
    def num_in_flight(self) -> int:
        """Ops submitted and not completed."""
        return self._num_in_flight

    def sessions(self) -> Sequence[OSDSession]:
        """The open OSD sessions (homeless excluded)."""
        return list(self._sessions.values())

    def perf_dump(self) -> dict[str, int]:
        """The ``objecter`` counters (Ceph's names; all u64)."""
        out = {k: int(v) for k, v in self.logger.snapshot().items()
               if isinstance(v, int | float)}
        out.update(self.hot.dump())
        return out

    def allocate_linger_id(self) -> int:
        """A new linger id (also the watch/notify cookie)."""
        self._max_linger_id += 1
        return self._max_linger_id


__all__ = ["Objecter"]
