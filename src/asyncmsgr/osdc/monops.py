"""The Objecter's requests to the monitor: pool ops and usage statistics.

As librados does (``Objecter::create_pool``/``delete_pool``, ``get_fs_stats``,
``get_pool_stats``), over the MonClient's session:

* MPoolOp CREATE (crush rule -1: the default) / DELETE (by id, named ``delete``),
  answered by MPoolOpReply; the call returns once our osdmap has the reply's epoch
  (so the new pool is usable, or the deleted one gone);
* MStatfs (cluster usage: kb, kb_used, kb_avail, num_objects);
* MGetPoolStats (per-pool ``pool_stat_t``, kept encoded).

Requests are matched by tid and sent again when the MonClient's session moves to
another connection while they wait (Ceph resends them on a new mon session).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asyncmsgr.connection import Connection
from asyncmsgr.message import Message
from asyncmsgr.messages import (
    MGetPoolStats,
    MGetPoolStatsReply,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
)
from asyncmsgr.messages.paxos import PaxosHeader
from asyncmsgr.messages.pool import CephStatfs, PoolOp, RawStruct

if TYPE_CHECKING:
    from .objecter import Objecter

#: How often a waiting request checks whether the mon session moved (seconds).
_RESEND_CHECK = 0.2


class MonOpsHook:
    """Where :class:`MonOps` plugs its reply handling into an Objecter (its
    ``mon_ops``); the Objecter dispatches to it and shuts it down."""

    def __init__(self) -> None:
        self.handlers: list[Callable[[Message], bool]] = []
        self.on_shutdown: list[Callable[[], None]] = []
        self.tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, m: Message) -> bool:
        """Whether a handler took ``m``."""
        return any(h(m) for h in self.handlers)

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep ``task`` until it ends (cancelled at shutdown)."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def shutdown(self) -> None:
        """Cancel the tracked tasks, then run the shutdown hooks."""
        for task in list(self.tasks):
            task.cancel()
        for hook in self.on_shutdown:
            hook()


class MonOpError(Exception):
    """A mon request failed; ``result`` is a negative errno."""

    def __init__(self, message: str, result: int) -> None:
        super().__init__(message)
        self.result = result


@dataclass(slots=True)
class _MonOp:
    build: Callable[[int], Message]
    future: asyncio.Future[Any]
    sent_on: Connection | None = None


class MonOps:
    """Pool and statistics requests of one :class:`~asyncmsgr.osdc.objecter.Objecter`."""

    def __init__(self, objecter: Objecter) -> None:
        self.objecter = objecter
        self._ops: dict[int, _MonOp] = {}
        self._last_tid = 0
        self.last_seen_osdmap_version = 0
        self.last_seen_pgmap_version = 0
        objecter.mon_ops.handlers.append(self._dispatch)
        objecter.mon_ops.on_shutdown.append(self.shutdown)

    def _fsid(self) -> Any:
        monmap = self.objecter.monc.monmap
        if monmap is None:
            raise MonOpError("no monmap yet", -errno.ENOTCONN)
        return monmap.fsid

    async def _request(self, build: Callable[[int], Message], counter: str,
                       timeout: float | None) -> Any:
        o = self.objecter
        self._last_tid += 1
        tid = self._last_tid
        op = _MonOp(build, o.loop.create_future())
        self._ops[tid] = op
        o.logger.inc(f"{counter}_send")
        o.logger.inc(f"{counter}_active")
        limit = o.options.mon_op_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit or None):
                while not op.future.done():
                    con = o.monc.active_connection
                    if con is not None and con is not op.sent_on:
                        if op.sent_on is not None and counter == "poolop":
                            o.logger.inc("poolop_resend")
                        op.sent_on = con
                        con.send_message(build(tid))
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(_RESEND_CHECK):
                            await asyncio.shield(op.future)
                return op.future.result()
        except TimeoutError:
            raise MonOpError(f"no reply from the monitors within {limit:g} s",
                             -errno.ETIMEDOUT) from None
        finally:
            self._ops.pop(tid, None)
            o.logger.dec(f"{counter}_active")

    def _dispatch(self, m: Message) -> bool:
        if isinstance(m, MPoolOpReply):
            self.last_seen_osdmap_version = max(self.last_seen_osdmap_version,
                                                m.paxos.version)
            value: object = (m.reply_code, m.epoch)
        elif isinstance(m, MStatfsReply):
            self.last_seen_pgmap_version = max(self.last_seen_pgmap_version, m.map_version)
            value = m.st
        elif isinstance(m, MGetPoolStatsReply):
            self.last_seen_pgmap_version = max(self.last_seen_pgmap_version,
                                               m.paxos.version)
            value = dict(m.pool_stats)
        else:
            return False
        op = self._ops.get(m.tid)
        if op is not None and not op.future.done():
            op.future.set_result(value)
        return True

    async def pool_op(self, op: int, *, pool: int = 0, name: str = "", crush_rule: int = -1,
                      timeout: float | None = None) -> int:
        """Send an MPoolOp; wait for its reply and for the osdmap epoch it names.

        Returns the reply code (0 or a negative errno).
        """
        fsid = self._fsid()

        def build(tid: int) -> Message:
            m = MPoolOp(paxos=PaxosHeader(version=self.last_seen_osdmap_version), fsid=fsid,
                        pool=pool, op=op, name=name, crush_rule=crush_rule)
            m.tid = tid
            return m

        code, epoch = await self._request(build, "poolop", timeout)
        if code == 0 and epoch:
            await self.objecter.wait_for_map(epoch, timeout=timeout)
        return int(code)

    async def create_pool(self, name: str, crush_rule: int = -1,
                          timeout: float | None = None) -> int:
        """``create_pool``: 0 or a negative errno (EEXIST when our map has it)."""
        if not name:
            return -errno.EINVAL
        if self.objecter.osdmap.lookup_pg_pool_name(name) >= 0:
            return -errno.EEXIST
        return await self.pool_op(PoolOp.CREATE, name=name, crush_rule=crush_rule,
                                  timeout=timeout)

    async def delete_pool(self, pool: int, timeout: float | None = None) -> int:
        """``delete_pool`` by id: 0 or a negative errno."""
        return await self.pool_op(PoolOp.DELETE, pool=pool, name="delete", crush_rule=0,
                                  timeout=timeout)

    async def get_fs_stats(self, data_pool: int | None = None,
                           timeout: float | None = None) -> CephStatfs:
        """``get_fs_stats``: the cluster's (or one pool's) usage."""
        fsid = self._fsid()

        def build(tid: int) -> Message:
            m = MStatfs(paxos=PaxosHeader(version=self.last_seen_pgmap_version), fsid=fsid,
                        data_pool=data_pool)
            m.tid = tid
            return m

        st: CephStatfs = await self._request(build, "statfs", timeout)
        return st

    async def get_pool_stats(self, pools: list[str],
                             timeout: float | None = None) -> dict[str, RawStruct]:
        """``get_pool_stats``: each named pool's encoded ``pool_stat_t``."""
        fsid = self._fsid()

        def build(tid: int) -> Message:
            m = MGetPoolStats(paxos=PaxosHeader(version=self.last_seen_pgmap_version),
                              fsid=fsid, pools=list(pools))
            m.tid = tid
            return m

        stats: dict[str, RawStruct] = await self._request(build, "poolstat", timeout)
        return stats

    def shutdown(self) -> None:
        """Fail what waits."""
        for op in self._ops.values():
            if not op.future.done():
                op.future.set_exception(MonOpError("objecter shut down", -errno.ESHUTDOWN))


__all__ = ["MonOpError", "MonOps", "MonOpsHook"]
